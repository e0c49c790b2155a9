"""Raw export readers: CSV here, SAS7BDAT and XPT (sdtm.sas_readers), CDISC ODM 1.3.2 (sdtm.odm), each giving
a table of text; read_source and stream_source choose one by the file's extension.

Every reader returns a DataFrame whose values are all text: missing = "" (empty string), surrounding
whitespace stripped, numbers from SAS files written without a spurious ".0" (12.0 -> "12"), SAS dates
as ISO 8601 ("2023-06-01", "2023-06-01T08:30:00", "08:30:00"). The mapping layer then parses the text
itself, so every source looks the same to it. Problems are RawDataError naming the file.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from sdtm.unique import factorize
from specs.errors import RawDataError

log = logging.getLogger(__name__)

EDC_COLUMNS = ["Subject", "SiteNumber", "Folder", "Form", "RecordPosition"]
FORMATS = {".csv": "csv", ".sas7bdat": "sas7bdat", ".xpt": "xpt", ".xml": "odm"}


# --- values to text ---------------------------------------------------------------------------------

def number_text(value: float) -> str:
    """12.0 -> '12', 0.5 -> '0.5', 1e-05 -> '0.00001', NaN -> ''."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    value = float(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return np.format_float_positional(value, trim="-")


def _value_text(value) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip()
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.isoformat(timespec="seconds") if value.microsecond == 0 else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return number_text(float(value))
    return str(value).strip()


def _column_text(column: pd.Series) -> pd.Series:
    """One column as stripped text (pandas' str dtype); each distinct value is converted once."""
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return column.fillna("").str.strip()  # the string kernels: no Python string per value
    codes, uniques = factorize(column)  # missing values (None, NaN, NaT) get code -1, the last text
    texts = pd.array([_value_text(v) for v in uniques] + [""], dtype="str")
    return pd.Series(texts.take(np.where(codes < 0, len(uniques), codes)), index=column.index)


def frame_to_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text (missing = '', stripped), column names stripped."""
    out = pd.DataFrame({str(name).strip(): _column_text(frame[name]) for name in frame.columns},
                       index=pd.RangeIndex(len(frame)))
    return out.astype(str) if len(out.columns) else out


# --- CSV --------------------------------------------------------------------------------------------

def _is_utf8(encoding: str | None) -> bool:
    return encoding is not None and encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def read_csv_source(path, encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV export as text. A byte the encoding cannot decode -> RawDataError with its offset."""
    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    raw = path.read_bytes()
    utf8 = _is_utf8(encoding)
    codec = "utf-8-sig" if utf8 else encoding
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise RawDataError([f"{path}: byte 0x{raw[exc.start]:02X} at offset {exc.start} (line {line}) "
                            f"is not valid {encoding}; try encoding='cp1252'"]) from None
    # pyarrow first: a file it reads with the header's width has no record of another length, and its
    # line ends are the csv module's (no lone CR), so the csv module's record by record check is needed
    # only to say where a file it refuses is wrong
    header, head = _first_record(text)
    plain = "\r" not in text or text.count("\r") == text.count("\r\n")
    frame = None
    if header and plain:
        # one copy of the file at a time: pyarrow reads the UTF-8 bytes themselves (the file's own when it
        # is UTF-8, past its BOM), the decoded text is let go and decoded again only if pyarrow refuses it
        data = memoryview(raw)[3:] if utf8 and raw.startswith(codecs.BOM_UTF8) else raw if utf8 else \
            text.encode("utf-8")
        del text, raw
        frame = _arrow_csv(data, len(header))
        if frame is None:
            text = bytes(data).decode("utf-8")
        del data
    if frame is None:
        names = _csv_structure(path, text, records=True)
        if not (header and plain):
            frame = _arrow_csv(text.encode("utf-8"), len(names))
    else:
        names = _csv_structure(path, head, records=False)
    stripped = frame is not None  # pyarrow's text: no missing values, pandas' str dtype
    if frame is None:
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise RawDataError([f"{path}: not a readable CSV file ({str(exc).strip()})"]) from None
    if len(frame.columns) != len(names):  # pandas and the csv module read the header differently
        raise RawDataError([f"{path}: line 1: the header does not read as {len(names)} columns"])
    frame.columns = range(len(names))  # our names, not pandas' renamed duplicates ('X.1')
    problems = []
    for position in [i for i, name in enumerate(names) if name == ""]:
        filled = np.flatnonzero(frame[position].astype(str).str.strip().to_numpy() != "")
        if filled.size:
            problems.append(f"{path}: row {filled[0] + 1}: column {position + 1} has no name in the header "
                            f"but holds '{frame[position].iloc[filled[0]]}'")
    if problems:
        raise RawDataError(problems)
    frame = frame[[i for i, name in enumerate(names) if name != ""]]  # unnamed and empty: trailing commas
    frame.columns = [name for name in names if name != ""]
    if not stripped:
        return frame_to_text(frame)
    for name in frame.columns:  # frame_to_text's text, one column at a time (not a second whole frame beside it)
        frame[name] = frame[name].str.strip()
    return frame


class NotStreamed(Exception):
    """The file cannot be read a batch at a time as it is (in a CSV file an encoding error, lone CR line ends,
    a record of another width, a value in an unnamed column, ...; in a SAS file a structure the whole reader
    refuses): read it whole (read_source), which reads it the slow way or says where it is wrong.
    ``encoding``: read it again a batch at a time in this encoding instead (the whole reader's fallback)."""

    def __init__(self, why: str, encoding: str | None = None):
        super().__init__(why)
        self.encoding = encoding


BLOCK = 16 << 20  # bytes pyarrow parses at a time when a CSV file is read in record batches


def stream_csv_source(path, encoding: str = "utf-8", batch_records: int | None = None,
                      block_size: int = BLOCK):
    """A CSV export as text a record batch at a time: the frames ``read_csv_source`` returns, one after the
    other (each a part of its records, with its own index from 0), never the whole file in memory. At least
    one frame (empty when the file has only a header). A file whose header is wrong is a RawDataError, as
    read_csv_source says it; any other file that this reader does not take as it is raises NotStreamed,
    possibly after some frames (the caller drops them and reads the file whole). ``batch_records``: at most
    this many records a frame (pyarrow's blocks cut further; tests)."""
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    if not _plain_line_ends(path):
        raise NotStreamed("lone CR line ends")
    utf8 = _is_utf8(encoding)
    with open(path, "rb") as handle:
        start = handle.read(1 << 16)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig" if utf8 else encoding)().decode(start)
    except (UnicodeDecodeError, LookupError):
        raise NotStreamed("the first bytes do not decode") from None
    header, head = _first_record(text)
    if not header or (len(head) == len(text) and len(start) == 1 << 16):  # (a header longer than the bytes read)
        raise NotStreamed("no header in the first bytes")
    names = _csv_structure(path, head, records=False)
    columns = [f"f{i}" for i in range(len(names))]
    unnamed = [i for i, name in enumerate(names) if name == ""]
    kept = [i for i, name in enumerate(names) if name != ""]
    try:
        reader = pa_csv.open_csv(
            str(path),
            read_options=pa_csv.ReadOptions(column_names=columns, skip_rows=1, block_size=block_size,
                                            encoding="utf8" if utf8 else encoding),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
        yielded = False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            step = batch_records or max(batch.num_rows, 1)
            for first in range(0, batch.num_rows, step):
                frame = _text_batch(batch.slice(first, step), names, unnamed, kept)
                yielded = True
                yield frame
        if not yielded:
            yield _text_batch(reader.schema.empty_table(), names, unnamed, kept)
    except pa.ArrowCancelled:  # interrupted (Ctrl-C, SIGTERM): not a file pyarrow cannot read
        raise
    except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError) as exc:
        raise NotStreamed(str(exc)) from None


def _text_batch(batch, names: list[str], unnamed: list[int], kept: list[int]) -> pd.DataFrame:
    """One batch of pyarrow's strings as read_csv_source's frame: the named columns, stripped; NotStreamed
    when an unnamed column holds a value (read_csv_source names its first row)."""
    import pyarrow.compute as pc

    for position in unnamed:  # (any value, blank or not: read_csv_source's own test decides)
        if pc.any(pc.not_equal(batch.column(position), "")).as_py():
            raise NotStreamed(f"column {position + 1} has no name but holds a value")
    frame = batch.select(kept).to_pandas() if kept else pd.DataFrame(index=pd.RangeIndex(batch.num_rows))
    frame.columns = [names[i] for i in kept]
    if not all(pd.api.types.is_string_dtype(frame[c]) for c in frame.columns):
        raise NotStreamed("a column that is not text")
    for name in frame.columns:
        frame[name] = frame[name].str.strip()
    return frame


def _plain_line_ends(path: Path, block: int = 64 << 20) -> bool:
    """No lone CR in the file (every CR the start of a CRLF): the line ends pyarrow and the csv module read
    alike. Read a block at a time, a CRLF cut between two blocks counted once."""
    lone = 0
    with open(path, "rb") as handle:
        carry = b""
        while True:
            data = handle.read(block)
            if not data:
                break
            data = carry + data
            carry = data[-1:] if data.endswith(b"\r") else b""
            body = data[:-1] if carry else data
            lone += body.count(b"\r") - body.count(b"\r\n")
            if lone:
                return False
        return not carry  # (a file ending in a CR)


def _arrow_csv(data, width: int) -> pd.DataFrame | None:
    """The records of a CSV text whose structure _csv_structure has checked, every value as text (pyarrow's
    reader: its strings go to pandas' str dtype as they are, where pandas' reader makes a Python string of
    each value first); None when pyarrow is missing or does not read it, for pandas' reader to decide."""
    try:
        import pyarrow as pa
        from pyarrow import csv as pa_csv
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    columns = [f"f{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pa_csv.ReadOptions(column_names=columns, skip_rows=1, block_size=max(len(data), 1 << 20)),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowCancelled:  # interrupted (Ctrl-C, SIGTERM): not a file pyarrow cannot read
        raise
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    frame = table.to_pandas()
    del table
    return frame if all(pd.api.types.is_string_dtype(frame[c]) for c in frame.columns) else None


def _first_record(text: str) -> tuple[list[str] | None, str]:
    """The header as the csv module reads it (None for an empty file or one it cannot read), and the lines
    it was read from."""
    if csv.field_size_limit() < len(text):  # a value may be as long as the file (pandas has no limit)
        csv.field_size_limit(len(text))
    lines = []
    try:
        header = next(csv.reader(line for line in _lines(text) if not lines.append(line)), None)
    except csv.Error:
        return None, ""
    return header, "".join(lines)


def _lines(text: str):
    """The lines of ``text`` one at a time, each with its end (as io.StringIO gives them, without copying the
    whole text first): reading the header takes its first line or two."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _csv_structure(path: Path, text: str, limit: int = 20, records: bool = True) -> list[str]:
    """The header's column names (stripped), after checking that no name appears twice and (``records``)
    that every record has as many fields as the header: pandas would rename a repeated column 'X.1', pad a
    short record with empty values and shift a long first record into its index, all without a word."""
    if csv.field_size_limit() < len(text):  # a value may be as long as the file (pandas has no limit)
        csv.field_size_limit(len(text))
    reader = csv.reader(io.StringIO(text) if records else _lines(text))
    try:
        header = next(reader, None)
        lengths = np.fromiter(map(len, reader), dtype=np.int64) if records else \
            np.zeros(0, dtype=np.int64)  # the csv module's C loop, not ours
    except csv.Error as exc:
        raise RawDataError([f"{path}: line {reader.line_num}: not a readable CSV file ({exc})"]) from None
    if header is None:
        raise RawDataError([f"{path}: empty file: not even a header"])
    names = [name.strip() for name in header]
    problems, first = [], {}
    for position, name in enumerate(names, start=1):
        if name and name in first:
            problems.append(f"{path}: line 1: column '{name}' appears twice in the header (columns "
                            f"{first[name]} and {position})")
        first.setdefault(name, position)
    wrong = set(np.flatnonzero((lengths != len(names)) & (lengths != 0)).tolist()[:limit])
    if wrong:
        reader = csv.reader(io.StringIO(text))
        next(reader)
        last = max(wrong)
        for index, record in enumerate(reader):  # an error path: find the lines of the wrong records
            if index in wrong:
                if len(record) < len(names):
                    missing = names[len(record):]
                    shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
                    problems.append(f"{path}: line {reader.line_num}: {len(record)} values where the header has "
                                    f"{len(names)} columns: no value for {shown}")
                else:
                    problems.append(f"{path}: line {reader.line_num}: {len(record)} values where the header has "
                                    f"{len(names)} columns: '{record[len(names)]}' after the last column "
                                    f"{names[-1]}")
            if index >= last:
                break
        more = int(((lengths != len(names)) & (lengths != 0)).sum()) - len(wrong)
        if more > 0:
            problems.append(f"{path}: ... and {more} more records with a wrong number of values")
    if problems:
        raise RawDataError(problems)
    return names


# --- ODM 1.3.2 (sdtm.odm) ---------------------------------------------------------------------------

def read_odm(path) -> dict[str, pd.DataFrame]:
    """An ODM 1.3.2 export as one text table per form, transactions applied: see sdtm.odm.read_odm."""
    from sdtm.odm import read_odm as read  # sdtm.odm builds on this module's text conversion

    return read(path)


# --- dispatch ---------------------------------------------------------------------------------------

def read_source(path, fmt: str | None = None, encoding: str | None = None, form: str | None = None) -> pd.DataFrame:
    """Read one raw source as text, choosing the reader from ``fmt`` or the file extension.

    ``fmt`` is csv, sas7bdat, xpt or odm (.xml); for ODM, ``form`` names the form OID to return.
    """
    from sdtm.sas_readers import read_sas7bdat_source, read_xpt_source  # they build on this module

    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    kind = (fmt or FORMATS.get(path.suffix.lower(), "")).lower()
    if kind == "xml":
        kind = "odm"
    if kind == "csv":
        return read_csv_source(path, encoding or "utf-8")
    if kind == "sas7bdat":
        return read_sas7bdat_source(path, encoding)
    if kind in ("xpt", "xport"):
        return read_xpt_source(path, encoding)
    if kind == "odm":
        tables = read_odm(path)
        if form is None or form not in tables:
            what = "name the form to read" if form is None else f"form '{form}' is not in it"
            raise RawDataError([f"{path}: {what} (forms: {', '.join(tables) or 'none'})"])
        return tables[form]
    raise RawDataError([f"{path}: unknown raw format '{fmt or path.suffix}' (csv, sas7bdat, xpt or odm .xml)"])


def stream_source(path, encoding: str | None = None, batch_records: int | None = None):
    """Any raw file ``read_source`` reads by its extension, a record batch at a time (stream_csv_source,
    stream_xpt_source, stream_sas7bdat_source); NotStreamed for a file of another format."""
    from sdtm.sas_readers import stream_sas7bdat_source, stream_xpt_source  # they build on this module

    path = Path(path)
    kind = FORMATS.get(path.suffix.lower(), "")
    if kind == "csv":
        return stream_csv_source(path, encoding or "utf-8", batch_records)
    if kind == "xpt":
        return stream_xpt_source(path, encoding, batch_records)
    if kind == "sas7bdat":
        return stream_sas7bdat_source(path, encoding, batch_records)
    raise NotStreamed(f"no batch reader for {path.suffix or 'a file without an extension'}")
