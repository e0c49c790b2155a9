"""SAS XPORT version 5 (SAS TS-140 layout): our own writer, and a reader on top of pyreadstat.

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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from define.transliterate import transliterate_series, to_ascii
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


# --- IBM-370 hexadecimal floating point -------------------------------------------------------------

def ieee_to_ibm(values: np.ndarray) -> np.ndarray:
    """IEEE doubles -> IBM-370 hex floats, as uint64 whose big-endian bytes are the 8 stored bytes.

    IBM: sign bit, 7-bit exponent of 16 biased by 64, 56-bit fraction in [1/16, 1). The conversion is
    exact: a 53-bit IEEE mantissa always fits in the 56-bit fraction. NaN -> SAS missing '.'
    (0x2E then zeros). Infinities and |x| >= 16**63 cannot be stored: ValueError.
    """
    x = np.asarray(values, dtype=np.float64)
    nan = np.isnan(x)
    if np.isinf(x).any():
        raise ValueError("infinite values cannot be stored in XPT")
    mantissa, exponent = np.frexp(np.where(nan, 0.0, np.abs(x)))  # |x| = mantissa * 2**exponent
    exponent = exponent.astype(np.int64)
    hex_exponent = -((-exponent) // 4)  # ceil(exponent / 4)
    shift = 4 * hex_exponent - exponent  # 0..3 bits to move the mantissa right
    fraction = (mantissa * 2.0**53).astype(np.uint64) << (3 - shift).astype(np.uint64)
    biased = hex_exponent + 64
    if (biased > 127).any():
        raise ValueError("a value is too large for an IBM float (|x| >= 16**63)")
    # Below 16**-64: denormalize (shift the fraction right a hex digit at a time), or flush to zero.
    under = biased < 0
    if under.any():
        digits = np.where(under, -biased, 0).astype(np.uint64)
        fraction = np.where(digits * 4 >= 56, 0, fraction >> np.minimum(digits * 4, 63))
        biased = np.where(under, 0, biased)
    sign = (np.signbit(x) & (x != 0)).astype(np.uint64)
    ibm = (sign << np.uint64(63)) | (biased.astype(np.uint64) << np.uint64(56)) | fraction
    ibm = np.where(fraction == 0, np.uint64(0), ibm)
    return np.where(nan, np.uint64(0x2E << 56), ibm).astype(np.uint64)


def ibm_to_ieee(words: np.ndarray) -> np.ndarray:
    """IBM-370 hex floats (uint64 of the big-endian bytes) -> IEEE doubles; SAS missing -> NaN."""
    w = np.asarray(words, dtype=np.uint64)
    fraction = (w & np.uint64(0x00FFFFFFFFFFFFFF)).astype(np.float64)  # may round beyond 53 bits
    exponent = ((w >> np.uint64(56)) & np.uint64(0x7F)).astype(np.int64) - 64
    value = np.ldexp(fraction, (4 * exponent - 56).astype(np.int32))
    value = np.where((w >> np.uint64(63)) == 1, -value, value)
    missing = ((w & np.uint64(0x00FFFFFFFFFFFFFF)) == 0) & ((w >> np.uint64(56)) != 0)
    return np.where(missing, np.nan, value)


def ibm_bytes(value: float) -> bytes:
    """The 8 stored bytes of one number (handy for tests and debugging)."""
    return ieee_to_ibm(np.array([value])).astype(">u8").tobytes()


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
                 problems: list[str]) -> np.ndarray:
    """A Char column as fixed-width ASCII bytes (numpy 'S<length>'; missing -> blanks).

    Work is done once per distinct value (factorize, then index back), so a million rows of a
    handful of terms cost little; rows are named only in warnings and problems.
    """
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        problems.append(f"{where}: declared Char but the column holds {series.dtype} values")
        return np.empty(0, dtype="S1")
    codes, uniques = pd.factorize(series)  # missing values get code -1
    uniques = list(uniques)
    not_text = [i for i, v in enumerate(uniques) if not isinstance(v, str)]
    if not_text:
        row = int(np.flatnonzero(codes == not_text[0])[0])
        problems.append(f"{where} row {row + 1}: value {uniques[not_text[0]]!r} is not text")
        return np.empty(0, dtype="S1")
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
    return encoded[codes]


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
    huge = np.flatnonzero(np.isinf(values) | (np.abs(np.nan_to_num(values)) >= 16.0**63))
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
    columns, lengths = [], []
    for var in variables:
        where = f"{dataset_name}.{var.name}"
        if var.type == "Char":
            encoded = _char_column(dataset[var.name], where, var, warnings, problems)
            columns.append(encoded)
            length = encoded.dtype.itemsize
        else:
            columns.append(_num_column(dataset[var.name], where, problems))
            length = 8
        lengths.append(length)
    if problems:
        raise DataError([Problem(str(path), p) for p in problems])

    positions = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    record_length = int(positions[-1])
    observations = np.empty((n_rows, record_length), dtype=np.uint8)
    for var, values, start, length in zip(variables, columns, positions, lengths):
        if var.type == "Char":
            block = values.view(np.uint8).reshape(n_rows, length)
            observations[:, start:start + length] = np.where(block == 0, 32, block)
        else:
            observations[:, start:start + 8] = ieee_to_ibm(values).astype(">u8").view(np.uint8).reshape(n_rows, 8)

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
        _pad80(observations.tobytes()),
    ]
    content = b"".join(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    partial.replace(path)
    return warnings


# --- reading ----------------------------------------------------------------------------------------

def _format_text(sas_format: str | None) -> str | None:
    """pyreadstat's 'DATE9' / '8.2' / 'BEST' -> 'DATE9.' / '8.2' / 'BEST.'."""
    if not sas_format:
        return None
    return sas_format if "." in sas_format else sas_format + "."


def read_xpt(path) -> tuple[pd.DataFrame, XptMetadata]:
    """Read an XPORT file: the data (numbers as float64, SAS dates left as day numbers) and metadata.

    Text is decoded as UTF-8, or as cp1252 when that fails (files in the wild often are cp1252);
    the encoding used is in ``data.attrs["encoding"]``.
    """
    import pyreadstat

    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    errors = []
    # encoding=None: pyreadstat hands the bytes to Python's strict UTF-8 decoder; readstat's own
    # conversion (encoding="utf-8") silently cuts a value at a cp1252 byte before trailing blanks.
    for encoding in (None, "cp1252"):
        try:
            data, meta = pyreadstat.read_xport(str(path), encoding=encoding, disable_datetime_conversion=True)
            break
        except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError) as exc:
            errors.append(str(exc))
    else:
        raise RawDataError([f"{path}: not a readable XPORT file ({'; '.join(errors)})"])
    encoding = encoding or "utf-8"
    if encoding != "utf-8":
        log.warning("%s: text is not UTF-8, read as %s", path, encoding)
    data.attrs["encoding"] = encoding
    variables = [
        XptVariable(
            name=name,
            label=meta.column_names_to_labels.get(name) or "",
            type="Char" if meta.readstat_variable_types[name] == "string" else "Num",
            length=int(meta.variable_storage_width[name]),
            format=_format_text(meta.original_variable_types.get(name)),
        )
        for name in meta.column_names
    ]
    return data, XptMetadata(meta.table_name or "", meta.file_label or "", variables)
