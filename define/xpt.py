"""SAS XPORT version 5 (SAS TS-140 layout): our own writer, and reading back with sasxport.

Why our own writer: pyreadstat stamps the clock into the header (reruns must be byte-identical) and
cannot set character lengths (FDA wants the spec length = the longest value, not a default).

File layout (every record is 80 bytes; the observation block is padded with blanks to a multiple of 80):
library header, two real headers (SAS/SASLIB/version/OS/created, modified), member header, descriptor
header, two member records (name, created; modified, label), NAMESTR header with the variable count,
one 140-byte NAMESTR per variable, OBS header, then the observations as fixed-width records: character
values ASCII, blank-padded; numbers 8-byte IBM-370 hexadecimal floats, big-endian, missing = 0x2E 00...
"""
from __future__ import annotations

import logging
import re
import struct
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from define.transliterate import transliterate_series, to_ascii
from sasxport import XportError, read_xport
from sasxport.ibm import ibm_bytes, ibm_to_ieee, ieee_to_ibm  # noqa: F401  (this module's API too)
from specs.errors import DataError, Problem, RawDataError

log = logging.getLogger(__name__)

# Header date when the caller gives none: fixed, so reruns are byte-identical (callers pass the cut date).
DEFAULT_CREATED = datetime(2000, 1, 1)
SAS_VERSION = "9.4"
SAS_OS = "PYTHON"
MAX_CHAR_LENGTH = 200
NAMESTR_LENGTH = 140
NAME_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,7}")
# A SAS format: optional $, a name that does not end in a digit, the width, a dot, the decimals.
FORMAT_PATTERN = re.compile(r"(\$?(?:[A-Z_](?:[A-Z0-9_]*[A-Z_])?)?)(\d*)\.(\d*)")
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


@dataclass(frozen=True)
class XptVariable:
    name: str
    label: str
    type: str  # "Char" or "Num"
    length: int | None = None  # Char: bytes, None = longest value (at least 1). Num: always 8.
    format: str | None = None  # a display format such as "DATE9."; informats are not written


@dataclass(frozen=True)
class XptMetadata:
    dataset_name: str
    dataset_label: str
    variables: list[XptVariable]


# --- checks -----------------------------------------------------------------------------------------

def parse_format(fmt: str | None) -> tuple[str, int, int]:
    """'DATE9.' -> ('DATE', 9, 0); '8.2' -> ('', 8, 2); None -> ('', 0, 0)."""
    if not fmt:
        return "", 0, 0
    match = FORMAT_PATTERN.fullmatch(fmt.strip().upper())
    if not match or len(match.group(1)) > 8:
        raise ValueError(f"'{fmt}' is not a SAS format such as DATE9. or 8.2")
    return match.group(1), int(match.group(2) or 0), int(match.group(3) or 0)


def _check_metadata(dataset: pd.DataFrame, dataset_name: str, dataset_label: str,
                    variables: list[XptVariable], warnings: list[str]) -> list[str]:
    """Problems with the names, labels, types, lengths and formats (values are checked later)."""
    problems = []
    if not NAME_PATTERN.fullmatch(dataset_name or ""):
        problems.append(f"dataset name '{dataset_name}' must be 1-8 uppercase letters or digits, starting with a letter")
    labels = [(f"{dataset_name} dataset label", dataset_label)]
    seen = set()
    for var in variables:
        where = f"{dataset_name}.{var.name}"
        if not NAME_PATTERN.fullmatch(var.name or ""):
            problems.append(f"{where}: variable name must be 1-8 uppercase letters or digits, starting with a letter")
        if var.name in seen:
            problems.append(f"{where}: variable listed twice")
        seen.add(var.name)
        if var.type not in ("Char", "Num"):
            problems.append(f"{where}: type '{var.type}' is neither 'Char' nor 'Num'")
        if var.type == "Char" and var.length is not None and not 1 <= var.length <= MAX_CHAR_LENGTH:
            problems.append(f"{where}: length {var.length} is outside 1-{MAX_CHAR_LENGTH}")
        if var.type == "Num" and var.length not in (None, 8):
            problems.append(f"{where}: numeric length {var.length}, but numbers are always written with 8 bytes")
        try:
            parse_format(var.format)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
        labels.append((f"{where} label", var.label or ""))
    for where, label in labels:
        ascii_label = to_ascii(label)
        if ascii_label != label:
            warnings.append(f"{where}: '{label}' -> '{ascii_label}'")
        if len(ascii_label) > 40:
            problems.append(f"{where} '{label}' is longer than 40 characters ({len(ascii_label)})")
    extra = [c for c in dataset.columns if c not in seen]
    if extra:
        problems.append(f"{dataset_name}: columns not in the variable list: {', '.join(map(str, extra))}")
    missing = [v.name for v in variables if v.name not in dataset.columns]
    if missing:
        problems.append(f"{dataset_name}: variables with no column in the dataset: {', '.join(missing)}")
    return problems


def _char_column(series: pd.Series, where: str, var: XptVariable, warnings: list[str],
                 problems: list[str]):
    """A Char column as a source of fixed-width ASCII bytes, blank-padded (``_ArrowText`` or ``_Block``).

    pyarrow-backed text that is plain ASCII is padded a chunk at a time by pyarrow; other ASCII text
    goes through numpy in one pass; the rest (non-ASCII, not text, too long) is worked once per
    distinct value, which transliterates and reports. All paths give the same bytes (a test compares).
    """
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        problems.append(f"{where}: declared Char but the column holds {series.dtype} values")
        return _Block(np.empty((0, 1), dtype=np.uint8))
    arrow = _arrow_column(series, var)
    if arrow is None and series.dtype == object:
        text = _object_text(series)
        arrow = _arrow_column(text, var) if text is not None else None
    if arrow is not None:
        return arrow
    block = _ascii_column(series, var)
    if block is None:
        block = _distinct_column(series, where, var, warnings, problems)
    block[block == 0] = 32  # NUL after each value (and in missing values) -> blank
    return _Block(block)


def _object_text(series: pd.Series) -> pd.Series | None:
    """An object column of text (str values and missing ones) as pyarrow-backed text, for ``_arrow_column``:
    pyarrow copies each string once, where numpy would encode each to fixed-width bytes; None when a
    value is anything else (the other paths then decide and report)."""
    values = series.to_numpy()
    if not len(values) or pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    try:
        array = pa.array(values, type=pa.large_string(), from_pandas=True)  # missing values -> null
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return pd.Series(pd.arrays.ArrowExtensionArray(array), index=series.index, copy=False)


def _distinct_column(series: pd.Series, where: str, var: XptVariable, warnings: list[str],
                     problems: list[str]) -> np.ndarray:
    """The general path, once per distinct value (factorize, then index back): a (rows, length) uint8
    array, NUL after each value, missing = all NUL; rows are named only in warnings and problems."""
    codes, uniques = pd.factorize(series)  # missing values get code -1
    uniques = list(uniques)
    not_text = [i for i, v in enumerate(uniques) if not isinstance(v, str)]
    if not_text:
        row = int(np.flatnonzero(codes == not_text[0])[0])
        problems.append(f"{where} row {row + 1}: value {uniques[not_text[0]]!r} is not text")
        return np.empty((0, 1), dtype=np.uint8)
    uniques.append("")  # code -1 (missing) indexes this last entry
    originals = pd.Series(uniques, dtype=object)
    ascii_values, changed = transliterate_series(originals.astype(str))
    ascii_values = ascii_values.tolist()
    for row in np.flatnonzero(changed.to_numpy()[codes]):
        code = codes[row]
        warnings.append(f"{where} row {row + 1}: '{uniques[code]}' -> '{ascii_values[code]}'")
    unique_lengths = np.array([len(v) for v in ascii_values])
    longest = int(unique_lengths.max())
    limit = var.length if var.length is not None else MAX_CHAR_LENGTH
    lengths = unique_lengths[codes]
    for row in np.flatnonzero(lengths > limit)[:20]:
        problems.append(f"{where} row {row + 1}: value '{ascii_values[codes[row]]}' is {lengths[row]} characters, "
                        f"longer than the length {limit}")
    length = var.length if var.length is not None else max(1, min(longest, MAX_CHAR_LENGTH))
    encoded = np.array(ascii_values, dtype=object).astype(f"S{length}")
    return encoded[codes].view(np.uint8).reshape(len(codes), length)


def _copy_rows(dest: np.ndarray, rows: np.ndarray) -> None:
    """dest[...] = rows, each row's bytes moved as one item (numpy's byte-by-byte loop over a few
    bytes per row is several times slower)."""
    width = rows.shape[1]
    if width:
        dest.view(f"V{width}")[...] = rows.view(f"V{width}")


class _Block:
    """Column bytes already laid out: a (rows, width) uint8 array."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.width = array.shape[1]

    def fill(self, dest: np.ndarray, first: int, count: int) -> None:
        _copy_rows(dest, self.array[first:first + count])


class _ArrowText:
    """ASCII text in a pyarrow large_string array (no nulls, no NUL bytes, none longer than ``width``),
    padded with blanks by pyarrow one chunk of rows at a time: no Python string is ever made."""

    def __init__(self, array: pa.LargeStringArray, width: int, padded: bool):
        self.array = array
        self.width = width
        self.padded = padded  # every value already ``width`` long

    def fill(self, dest: np.ndarray, first: int, count: int) -> None:
        part = self.array.slice(first, count)
        if not self.padded:
            part = pc.ascii_rpad(part, self.width, " ")
        offsets = np.frombuffer(part.buffers()[1], dtype=np.int64)[part.offset:part.offset + count + 1]
        data = np.frombuffer(part.buffers()[2], dtype=np.uint8)
        _copy_rows(dest, data[offsets[0]:offsets[-1]].reshape(count, self.width))


class _Numbers:
    """A Num column: float64 values, turned into IBM floats (8 big-endian bytes) a chunk at a time."""

    width = 8

    def __init__(self, values: np.ndarray):
        self.values = values

    def fill(self, dest: np.ndarray, first: int, count: int) -> None:
        words = ieee_to_ibm(self.values[first:first + count]).byteswap()  # big-endian bytes in memory
        _copy_rows(dest, words.view(np.uint8).reshape(count, 8))


def _arrow_column(series: pd.Series, var: XptVariable) -> _ArrowText | None:
    """pyarrow-backed text (pandas 3's ``str``, or ``string[pyarrow]``) as ``_ArrowText``, when every
    value is ASCII without NUL bytes and fits the length; otherwise None (the other paths decide)."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        if dtype.storage != "pyarrow":
            return None
    elif not (isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                                     or pa.types.is_large_string(dtype.pyarrow_dtype))):
        return None
    if len(series) == 0:
        return None
    array = pa.array(series.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    if array.null_count:
        array = pc.fill_null(array, "")  # missing -> blank
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset:array.offset + len(array) + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]] \
        if array.buffers()[2] is not None else np.empty(0, dtype=np.uint8)
    if len(data) and (data.min() == 0 or data.max() >= 0x80):  # a NUL, or not ASCII
        return None
    lengths = np.diff(offsets)
    longest = int(lengths.max())
    limit = var.length if var.length is not None else MAX_CHAR_LENGTH
    if longest > limit:
        return None  # reported, row by row, by the per-value path
    width = var.length if var.length is not None else max(1, longest)
    return _ArrowText(array, width, padded=bool(lengths.min() == width))


# What numpy makes of a missing value when it turns an object array into bytes (cut to the width).
_MISSING_TEXTS = (b"None", b"nan", b"<NA>", b"NaT")


def _ascii_column(series: pd.Series, var: XptVariable) -> np.ndarray | None:
    """The common case in one pass of numpy over the Python strings: every value ASCII text no longer
    than the length. None when any value is not (the caller then works per distinct value, reports
    and transliterates); the bytes are the same either way (a test compares both paths)."""
    values = series.to_numpy(dtype=object)
    if len(values) == 0:
        return None
    if not isinstance(series.dtype, pd.StringDtype) and pd.api.types.infer_dtype(values, skipna=True) not in (
            "string", "empty"):
        return None
    limit = var.length if var.length is not None else MAX_CHAR_LENGTH
    sample = values[:: max(1, len(values) // 2000)]
    guess = min(limit, max([len(v) for v in sample if isinstance(v, str)] + [4]))
    try:  # one byte more than the guess, to see whether any value is longer
        encoded = values.astype(f"S{guess + 1}")
        grid = encoded.view(np.uint8).reshape(len(values), guess + 1)
        if grid[:, guess].any():  # a value longer than the sample's longest
            if guess >= limit:
                return None  # longer than the length: reported by the slow path
            encoded = values.astype(f"S{limit + 1}")
            grid = encoded.view(np.uint8).reshape(len(values), limit + 1)
            if grid[:, limit].any():
                return None
    except UnicodeEncodeError:
        return None
    width = grid.shape[1]
    texts = _MISSING_TEXTS
    if isinstance(series.dtype, pd.StringDtype):  # its one missing value
        texts = (b"nan",) if series.dtype.na_value is not pd.NA else (b"<NA>",)
    candidates = np.flatnonzero(np.isin(encoded, [text[:width] for text in texts]))
    if len(candidates):  # numpy wrote 'None' or 'nan' for the missing values: blank them
        encoded[candidates[pd.isna(values[candidates])]] = b""  # a real text 'None' or 'nan' stays
    longest = width  # the last byte position any value reaches (columns checked from the right)
    while longest and not grid[:, longest - 1].any():
        longest -= 1
    length = var.length if var.length is not None else max(1, min(longest, MAX_CHAR_LENGTH))
    if length <= width:
        return grid[:, :length]
    wider = np.zeros((len(values), length), dtype=np.uint8)
    wider[:, :width] = grid
    return wider


def _num_column(series: pd.Series, where: str, problems: list[str]) -> np.ndarray:
    """Float64 values of a Num column (missing -> NaN); text must parse as numbers."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif pd.api.types.is_datetime64_any_dtype(series.dtype):
        problems.append(f"{where}: a datetime column; store SAS dates as days since 1960-01-01 (DATE9.)")
        return np.full(len(series), np.nan)
    else:
        text = series.astype(object).where(series.notna(), "").astype(str)
        blank = text.str.strip() == ""
        values = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isnan(values) & ~blank.to_numpy())
        for row in bad[:20]:
            problems.append(f"{where} row {row + 1}: value '{series.iloc[row]}' is not a number")
    huge = np.flatnonzero(np.abs(values) >= 16.0**63)  # infinities too; NaN compares False
    for row in huge[:20]:
        problems.append(f"{where} row {row + 1}: value {values[row]} cannot be stored as an IBM float")
    return values


# --- records ----------------------------------------------------------------------------------------

def _sas_datetime(moment: datetime) -> bytes:
    """'01JAN00:00:00:00', independent of the locale."""
    text = f"{moment.day:02d}{MONTHS[moment.month - 1]}{moment.year % 100:02d}:{moment:%H:%M:%S}"
    return text.encode("ascii")


def _field(text: str, width: int) -> bytes:
    return text.encode("ascii")[:width].ljust(width, b" ")


def _header(kind: str, numbers: str = "0" * 30) -> bytes:
    record = f"HEADER RECORD*******{kind:<8}HEADER RECORD!!!!!!!{numbers}  ".encode("ascii")
    assert len(record) == 80, record
    return record


def _namestr(var: XptVariable, number: int, length: int, position: int) -> bytes:
    fmt_name, fmt_width, fmt_decimals = parse_format(var.format)
    record = struct.pack(
        ">hhhh8s40s8shhh2s8shhl52s",
        1 if var.type == "Num" else 2, 0, length, number,
        _field(var.name, 8), _field(to_ascii(var.label or ""), 40),
        _field(fmt_name, 8), fmt_width, fmt_decimals, 1 if var.type == "Num" else 0, b"\0\0",
        _field("", 8), 0, 0, position, b"\0" * 52)
    assert len(record) == NAMESTR_LENGTH
    return record


def _pad80(block: bytes) -> bytes:
    return block + b" " * (-len(block) % 80)


CHUNK_BYTES = 1 << 22  # records assembled 4 MB at a time: the work stays in the CPU cache
ASSEMBLERS = 2  # chunks assembled at once: numpy and pyarrow release the GIL, so both cores work


def _write_observations(handle, sources: list, positions: np.ndarray, n_rows: int) -> int:
    """Write the records, a chunk of rows at a time, in order; return the number of bytes written.

    Each column source fills its place in a chunk (blank-padded bytes; numbers' IBM bytes). On a
    large file two threads assemble the next chunks while this one writes the finished ones.
    """
    record_length = int(positions[-1])
    if n_rows == 0 or record_length == 0:
        return 0
    rows = max(1, CHUNK_BYTES // record_length)
    starts = range(0, n_rows, rows)

    def assemble(buffer: np.ndarray, first: int) -> np.ndarray:
        part = buffer[:min(rows, n_rows - first)]
        for source, start in zip(sources, positions):
            source.fill(part[:, start:start + source.width], first, len(part))
        return part

    if len(starts) <= 2:  # a small file: threads would cost more than they save
        buffer = np.empty((min(rows, n_rows), record_length), dtype=np.uint8)
        for first in starts:
            handle.write(assemble(buffer, first).data)
        return n_rows * record_length
    free = [np.empty((rows, record_length), dtype=np.uint8) for _ in range(ASSEMBLERS + 1)]
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=ASSEMBLERS) as pool:
        for first in starts:
            if not free:  # write the oldest chunk, then reuse its buffer
                job, buffer = pending.popleft()
                handle.write(job.result().data)
                free.append(buffer)
            buffer = free.pop()
            pending.append((pool.submit(assemble, buffer, first), buffer))
        for job, _ in pending:
            handle.write(job.result().data)
    return n_rows * record_length


def write_xpt(dataset: pd.DataFrame, path, *, dataset_name: str, dataset_label: str,
              variables: list[XptVariable], created: datetime | None = None) -> list[str]:
    """Write one dataset as a SAS XPORT v5 file; return the transliteration warnings.

    Variables are written in the order of ``variables``. Header dates are ``created`` (pass the data
    cut date; default 2000-01-01) so the same input always gives the same bytes. Any problem (bad name,
    label over 40, value longer than its length, text in a Num column, column not in ``variables``) is
    a DataError listing them all; nothing is written then. The file is written to a temporary name
    and renamed, so a failure never leaves half a file.
    """
    path = Path(path)
    warnings: list[str] = []
    problems = _check_metadata(dataset, dataset_name, dataset_label, variables, warnings)
    if problems:
        raise DataError([Problem(str(path), p) for p in problems])
    if path.name != f"{dataset_name.lower()}.xpt":
        warnings.append(f"{dataset_name}: file name '{path.name}' is not '{dataset_name.lower()}.xpt'")

    n_rows = len(dataset)
    sources, lengths = [], []
    for var in variables:
        where = f"{dataset_name}.{var.name}"
        if var.type == "Char":
            source = _char_column(dataset[var.name], where, var, warnings, problems)
            sources.append(source)
            lengths.append(source.width)
        else:
            sources.append(_Numbers(_num_column(dataset[var.name], where, problems)))
            lengths.append(8)
    if problems:
        raise DataError([Problem(str(path), p) for p in problems])
    positions = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    _write_file(path, _headers(dataset_name, dataset_label, variables, lengths, positions, created),
                sources, positions, n_rows)
    return warnings


class NotInParts(Exception):
    """The parts cannot be written one at a time with the bytes ``write_xpt`` gives their concatenation (a
    value the writer would transliterate, refuse or report, a column of a type only the whole-frame writer
    reads, parts of different types, no record): nothing is written, the caller writes the whole."""


def write_xpt_parts(tables, path, *, dataset_name: str, dataset_label: str, variables: list[XptVariable],
                    created: datetime | None = None, each=None) -> tuple[list[str], int]:
    """``write_xpt`` of the concatenation of the Arrow tables ``tables(columns)`` yields, with the same bytes,
    never holding more than one table (a chunk of records) and never making a pandas frame.

    ``tables(columns)`` is called twice and yields the same tables each time, with only the named columns
    (``columns`` a list) or with all of them (None). The first pass reads only the Char variables without a
    length in ``variables`` and settles each one's length: the longest value over all tables, at least 1,
    decided before the first byte is written. The second writes the records table after table;
    ``each(table)`` is then called with each table written (the caller spills it). Returns the warnings
    and the number of records.

    Raises ``NotInParts`` (nothing written) when the tables do not all have the same columns and types,
    when none has a record, when a column has a type other than text (Char) or numbers (Num), or when any
    value would be transliterated or refused: the caller then writes the whole dataset with ``write_xpt``,
    whose notes and problems name the rows of the whole."""
    path = Path(path)
    auto = [v.name for v in variables if v.type == "Char" and v.length is None]
    widths = dict.fromkeys(auto, 1)
    if auto:
        for table in tables(auto):
            for name in auto:
                if name not in table.schema.names:
                    raise NotInParts(f"{dataset_name}: no column {name}")
                column = table.column(name)
                if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                        or pa.types.is_null(column.type)):
                    raise NotInParts(f"{dataset_name}.{name}: {column.type} values, not text")
                if len(column) and not pa.types.is_null(column.type):
                    longest = pc.max(pc.binary_length(column)).as_py()
                    widths[name] = max(widths[name], longest or 0)
        too_long = [name for name, width in widths.items() if width > MAX_CHAR_LENGTH]
        if too_long:
            raise NotInParts(f"{dataset_name}: values longer than {MAX_CHAR_LENGTH} in {', '.join(too_long)}")
    fixed = [XptVariable(v.name, v.label, v.type, widths[v.name], v.format) if v.name in widths else v
             for v in variables]
    lengths = [v.length if v.type == "Char" else 8 for v in fixed]
    positions = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    warnings: list[str] = []
    schema, n_rows = None, 0
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as handle:
            size = 0
            for table in tables(None):
                if not table.num_rows:
                    continue  # (as pandas.concat of the parts, which leaves empty ones out)
                if schema is None:
                    schema = table.schema
                    problems = _check_metadata(pd.DataFrame(columns=schema.names), dataset_name, dataset_label,
                                               variables, warnings)
                    if problems:
                        raise NotInParts("; ".join(problems))
                    if path.name != f"{dataset_name.lower()}.xpt":
                        warnings.append(f"{dataset_name}: file name '{path.name}' is not '{dataset_name.lower()}.xpt'")
                    handle.write(_headers(dataset_name, dataset_label, variables, lengths, positions, created))
                elif not table.schema.equals(schema):
                    raise NotInParts(f"{dataset_name}: the parts differ in their columns' types")
                sources = [_arrow_char(table.column(v.name), v) if v.type == "Char"
                           else _arrow_numbers(table.column(v.name)) for v in fixed]
                if any(source is None for source in sources):
                    raise NotInParts(f"{dataset_name}: values the writer transliterates, refuses or converts")
                size += _write_observations(handle, sources, positions, table.num_rows)
                n_rows += table.num_rows
                del sources
                if each is not None:
                    each(table)
            if schema is None:
                raise NotInParts(f"{dataset_name}: no record")
            handle.write(b" " * (-size % 80))
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return warnings, n_rows


def _arrow_char(column, var: XptVariable) -> _ArrowText | None:
    """A Char column of an Arrow table as ``_ArrowText`` (``_arrow_column``'s checks and bytes: ASCII text
    without NUL, none longer than the length); None when it is not that (or not text)."""
    if pa.types.is_null(column.type):
        column = pa.nulls(len(column), pa.large_string())  # (an all-missing column: blanks)
    elif not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    return _arrow_column(pd.Series(pd.arrays.ArrowExtensionArray(column), copy=False), var)


def _arrow_numbers(column) -> _Numbers | None:
    """A Num column of an Arrow table as ``_Numbers`` with the float64 values ``_num_column`` takes from the
    frame (missing -> NaN); None for any other type (the whole-frame writer converts or refuses those) and
    for values no IBM float holds."""
    kind = column.type
    if pa.types.is_null(kind):
        values = np.full(len(column), np.nan)
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or (pa.types.is_boolean(kind)
                                                                    and not column.null_count):
        values = column.to_numpy().astype(np.float64)  # (nulls of integers come out as NaN)
    else:
        return None
    if np.any(np.abs(values) >= 16.0 ** 63):
        return None
    return _Numbers(values)


def _headers(dataset_name: str, dataset_label: str, variables: list[XptVariable], lengths: list[int],
             positions: np.ndarray, created: datetime | None) -> bytes:
    """Every record before the observations."""
    stamp = _sas_datetime(created or DEFAULT_CREATED)
    namestrs = b"".join(_namestr(var, i + 1, length, int(start))
                        for i, (var, length, start) in enumerate(zip(variables, lengths, positions)))
    parts = [
        _header("LIBRARY"),
        _field("SAS", 8) + _field("SAS", 8) + _field("SASLIB", 8) + _field(SAS_VERSION, 8)
        + _field(SAS_OS, 8) + b" " * 24 + stamp,
        stamp + b" " * 64,
        _header("MEMBER", "0" * 17 + "16" + "0" * 8 + "140"),
        _header("DSCRPTR"),
        _field("SAS", 8) + _field(dataset_name, 8) + _field("SASDATA", 8) + _field(SAS_VERSION, 8)
        + _field(SAS_OS, 8) + b" " * 24 + stamp,
        stamp + b" " * 16 + _field(to_ascii(dataset_label or ""), 40) + b" " * 8,
        _header("NAMESTR", f"000000{len(variables):04d}" + "0" * 20),
        _pad80(namestrs),
        _header("OBS"),
    ]
    return b"".join(parts)


def _write_file(path: Path, headers: bytes, sources, positions, n_rows: int) -> None:
    """Headers, records, blank padding to 80, into a temporary name renamed at the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        handle.write(headers)
        size = _write_observations(handle, sources, positions, n_rows)
        handle.write(b" " * (-size % 80))
    partial.replace(path)


# --- reading ----------------------------------------------------------------------------------------

def read_xpt(path) -> tuple[pd.DataFrame, XptMetadata]:
    """Read an XPORT file (v5 or v8, any tool's): the data (numbers as float64, SAS dates left as day
    numbers) and metadata. The structure is checked first: a truncated or damaged file is refused.

    Text is decoded as UTF-8, or as cp1252 when that fails (files in the wild often are cp1252);
    the encoding used is in ``data.attrs["encoding"]``.
    """
    try:
        dataset = read_xport(path)
    except XportError as exc:
        raise RawDataError([Problem(exc.path, exc.message)]) from None
    if dataset.encoding != "utf-8":
        log.warning("%s: text is not UTF-8, read as %s", path, dataset.encoding)
    variables = [XptVariable(v.name, v.label, v.type, v.length, v.format) for v in dataset.variables]
    return dataset.data, XptMetadata(dataset.name, dataset.label, variables)
