"""SAS XPORT version 5 (SAS TS-140 layout): our own writer, and reading back with sasxport (the columns laid
out as record bytes in define/xpt_columns.py).

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

from define.transliterate import to_ascii
from define.xpt_columns import MAX_CHAR_LENGTH, _arrow_char, _arrow_numbers, _char_column, _num_column, _Numbers
from sasxport import XportError, read_xport
from sasxport.ibm import ibm_bytes, ibm_to_ieee, ieee_to_ibm  # noqa: F401  (this module's API too)
from specs.errors import DataError, Problem, RawDataError

log = logging.getLogger(__name__)

# Header date when the caller gives none: fixed, so reruns are byte-identical (callers pass the cut date).
DEFAULT_CREATED = datetime(2000, 1, 1)
SAS_VERSION = "9.4"
SAS_OS = "PYTHON"
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
