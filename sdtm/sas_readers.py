"""SAS raw files as text: SAS7BDAT (pyreadstat) and XPORT v5/v8 (sasxport), whole or a range of records at a
time, the values converted as every reader converts them (sdtm.readers.frame_to_text): numbers without a
spurious ".0", SAS dates, datetimes and times as ISO 8601, a special missing value as its SAS text. A
truncated or damaged file is a RawDataError saying what does not add up, never a partial read.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd

from sasxport import XportError, read_xport
from sasxport.reader import FALLBACK_ENCODING
from sdtm.readers import NotStreamed, _is_utf8, frame_to_text
from specs.errors import Problem, RawDataError

log = logging.getLogger(__name__)


SAS7BDAT_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")


def check_sas7bdat_size(path: Path) -> None:
    """Refuse a SAS7BDAT file whose size is not what its header declares (header + pages * page size).

    pyreadstat refuses most truncated files too, but with 'Unable to read from file'; this says what
    is wrong. Header layout (Shotwell, 'SAS7BDAT Database Binary Format'): byte 32 = 0x33 for 64-bit
    files, byte 35 = 0x33 shifts the fields by 4, byte 37 = 1 for little-endian; header length, page
    size and page count (8 bytes in 64-bit files) from byte 196.
    """
    with open(path, "rb") as handle:
        head = handle.read(216)
    size = path.stat().st_size
    if len(head) < 216 or head[:32] != SAS7BDAT_MAGIC:
        raise RawDataError([Problem(str(path), f"not a SAS7BDAT file (no SAS7BDAT header in its first "
                                               f"{min(size, 216)} of {size:,} bytes)")])
    wide, shift = head[32] == 0x33, 4 if head[35] == 0x33 else 0
    order = "<" if head[37] == 1 else ">"
    header_length, page_size = struct.unpack_from(order + "ii", head, 196 + shift)
    (pages,) = struct.unpack_from(order + ("q" if wide else "i"), head, 204 + shift)
    expected = header_length + pages * page_size
    if size != expected:
        what = "truncated" if size < expected else "damaged"
        raise RawDataError([Problem(str(path), f"{what} SAS7BDAT file: the header declares {header_length:,} "
                                               f"bytes of header and {pages:,} pages of {page_size:,} bytes "
                                               f"({expected:,} bytes), found {size:,} bytes")])


def _read_sas7bdat(path: Path, encodings: list) -> pd.DataFrame:
    """Try each encoding in turn (None: the one the header declares); check the rows read against
    the row count the header declares."""
    import pyreadstat

    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    check_sas7bdat_size(path)
    problems = []
    for enc in encodings:
        try:
            frame, meta = pyreadstat.read_sas7bdat(str(path), encoding=enc)
        except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError) as exc:
            problems.append(f"{enc or 'utf-8'}: {exc}")
            continue
        declared = getattr(meta, "number_rows", None)
        if declared is not None and declared >= 0 and declared != len(frame):
            raise RawDataError([Problem(str(path), f"damaged SAS7BDAT file: the header declares {declared:,} rows, "
                                                   f"{len(frame):,} were read")])
        used = enc or getattr(meta, "file_encoding", None) or "utf-8"
        if enc != encodings[0]:
            log.warning("%s: text is not %s, read as %s", path, encodings[0] or "utf-8", used)
        text = frame_to_text(frame)
        text.attrs["encoding"] = used
        return text
    raise RawDataError([f"{path}: not a readable SAS7BDAT file ({'; '.join(problems)})"])


def read_sas7bdat_source(path, encoding: str | None = None) -> pd.DataFrame:
    """A SAS7BDAT file as text, in the encoding its header declares (else cp1252, else ``encoding``).

    The file's size and its row count are checked against its header (a truncated or damaged file is
    a RawDataError). The encoding used is in ``.attrs['encoding']``.
    """
    encodings = [encoding] if encoding else [None, "cp1252"]
    return _read_sas7bdat(Path(path), encodings)


def read_xpt_source(path, encoding: str | None = None) -> pd.DataFrame:
    """An XPORT file (v5 or v8) as text: UTF-8, else cp1252 (common in the wild); the one used is in
    ``.attrs['encoding']``.

    The file's structure is checked first (sasxport): a truncated or damaged file is a RawDataError
    saying what does not add up, never a partial read. Numbers with a SAS date, datetime or time
    format become ISO 8601 text; a special missing value (.A-.Z, ._) stays visible as its SAS text
    ('.A'), so a spec cannot take it for an empty value by accident; '.' is empty.
    """
    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    try:
        dataset = read_xport(path, None if encoding is None else ("utf-8" if _is_utf8(encoding) else encoding))
    except XportError as exc:
        raise RawDataError([Problem(exc.path, exc.message)]) from None
    if dataset.encoding != "utf-8":
        log.warning("%s: text is not utf-8, read as %s", path, dataset.encoding)
    return _xpt_text(dataset)


def _xpt_text(dataset) -> pd.DataFrame:
    """An XPORT dataset's values (or a range of its records) as text."""
    frame = dataset.data.copy()
    for var in dataset.variables:
        kind = _sas_time_kind(var.format) if var.type == "Num" else None
        if kind:
            frame[var.name] = _sas_times(frame[var.name], kind)
    text = frame_to_text(frame)
    for column, values in dataset.special_missing.items():
        text.loc[values.index, column] = values.to_numpy()
    text.attrs["encoding"] = dataset.encoding
    return text


STREAM_VALUES = 4_000_000  # values (records x columns) of a SAS file read at a time when it is streamed


def _batch_rows(columns: int, batch_records: int | None) -> int:
    return batch_records or max(1, STREAM_VALUES // max(columns, 1))


def stream_xpt_source(path, encoding: str | None = None, batch_records: int | None = None):
    """An XPORT file as text a range of records at a time: the frames ``read_xpt_source`` returns, one after the
    other (each with its own index from 0), never the whole file in memory. At least one frame. The structure
    is checked first, whole (sasxport.check_xport: a truncated or damaged file is refused before any record is
    read). Anything this reader does not take as it is raises NotStreamed, possibly after some frames, for
    read_xpt_source to read the file whole and say what is wrong: the structure's problems, and text that
    is not in ``encoding`` (without one, text that is not UTF-8: the whole reader then falls back to cp1252
    for the whole file, which a range of records cannot decide alone)."""
    from sasxport import check_xport

    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    codec = "utf-8" if encoding is None or _is_utf8(encoding) else encoding
    try:
        layout = check_xport(path)
    except XportError as exc:
        raise NotStreamed(exc.message) from None
    if codec != "utf-8":
        log.warning("%s: text is not utf-8, read as %s", path, codec)
    try:
        step = _batch_rows(len(layout.variables), batch_records)
        for start in range(0, max(layout.observations, 1), step):
            stop = min(layout.observations, start + step)
            dataset = read_xport(path, codec, layout=layout, rows=(start, stop))
            frame = _xpt_text(dataset)
            del dataset
            yield frame
    except XportError as exc:  # text that is not in the encoding: without one, the whole reader's cp1252
        raise NotStreamed(exc.message, FALLBACK_ENCODING if encoding is None else None) from None


def stream_sas7bdat_source(path, encoding: str | None = None, batch_records: int | None = None):
    """A SAS7BDAT file as text a range of records at a time (pyreadstat's row_offset and row_limit): the
    frames ``read_sas7bdat_source`` returns, one after the other, never the whole file in memory. The file's
    size is checked against its header first (a truncated file is refused before any record is read), the
    records read against the row count it declares at the end (the whole reader's messages). A range
    pyreadstat does not read in the first encoding the whole reader tries raises NotStreamed, for the whole
    reader to try the others or say what is wrong."""
    import pyreadstat

    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    check_sas7bdat_size(path)
    errors = (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError)
    try:
        empty, meta = pyreadstat.read_sas7bdat(str(path), encoding=encoding, metadataonly=True)
    except errors as exc:
        raise NotStreamed(str(exc)) from None
    declared = getattr(meta, "number_rows", None)
    used = encoding or getattr(meta, "file_encoding", None) or "utf-8"
    step = _batch_rows(len(empty.columns), batch_records)
    start = 0
    while True:
        try:
            frame, _ = pyreadstat.read_sas7bdat(str(path), encoding=encoding, row_offset=start, row_limit=step)
        except errors as exc:
            raise NotStreamed(str(exc)) from None
        if len(frame) or not start:
            text = frame_to_text(frame)
            text.attrs["encoding"] = used
            yield text
        start += len(frame)
        if len(frame) < step:
            break
    if declared is not None and declared >= 0 and declared != start:
        raise RawDataError([Problem(str(path), f"damaged SAS7BDAT file: the header declares {declared:,} rows, "
                                               f"{start:,} were read")])


# SAS display formats that make a number a date (days), a datetime (seconds) or a time (seconds), as
# pyreadstat (and so the SAS7BDAT reader) reads them.
SAS_DATE_FORMATS = {"WEEKDATE", "MMDDYY", "DDMMYY", "YYMMDD", "DATE", "DDMMYYB", "DDMMYYC", "DDMMYYD",
                    "DDMMYYN", "DDMMYYP", "DDMMYYS", "MMDDYYB", "MMDDYYC", "MMDDYYD", "MMDDYYN", "MMDDYYP",
                    "MMDDYYS", "WEEKDATX", "DTDATE", "IS8601DA", "E8601DA", "B8601DA", "YYMMDDB", "YYMMDDD",
                    "YYMMDDN", "YYMMDDP", "YYMMDDS"}
SAS_DATETIME_FORMATS = {"DATETIME", "E8601DT", "DATEAMPM", "MDYAMPM", "IS8601DT", "B8601DT", "B8601DN"}
SAS_TIME_FORMATS = {"TIME", "HHMM", "TOD", "TIMEAMPM", "IS8601TM", "E8601TM", "B8601TM"}
SAS_EPOCH = dt.datetime(1960, 1, 1)


def _sas_time_kind(sas_format: str | None) -> str | None:
    match = re.match(r"([A-Z][A-Z0-9]*[A-Z])", (sas_format or "").upper())
    name = match.group(1) if match else ""
    if name in SAS_DATE_FORMATS:
        return "date"
    if name in SAS_DATETIME_FORMATS:
        return "datetime"
    if name in SAS_TIME_FORMATS:
        return "time"
    return None


def _sas_times(values: pd.Series, kind: str) -> pd.Series:
    """SAS day or second numbers -> Python dates, datetimes or times, once per distinct value."""
    codes, uniques = pd.factorize(values)
    converted = []
    for number in uniques:
        try:
            if kind == "date":
                converted.append((SAS_EPOCH + dt.timedelta(days=np.floor(number))).date())
            else:
                moment = SAS_EPOCH + dt.timedelta(seconds=float(number))
                converted.append(moment if kind == "datetime" else moment.time())
        except OverflowError:  # beyond year 9999: keep the number, the mapping reports it
            converted.append(float(number))
    out = np.array(converted + [None], dtype=object)
    return pd.Series(out[codes], index=values.index, dtype=object)
