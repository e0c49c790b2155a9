"""A dataset's columns as the sources of an XPT file's fixed-width records (define.xpt writes them).

Char: plain-ASCII pyarrow text padded a chunk at a time by pyarrow (``_ArrowText``), other text through its
distinct values, transliterated to ASCII with a warning (``_Block``); Num: float64 values turned into 8-byte
IBM floats a chunk at a time (``_Numbers``). The same from the columns of an Arrow table (``_arrow_char``,
``_arrow_numbers``), for a dataset written from its chunks' files.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from define.transliterate import transliterate_series
from sasxport.ibm import ieee_to_ibm

if TYPE_CHECKING:
    from define.xpt import XptVariable

MAX_CHAR_LENGTH = 200  # bytes of a Char value in an XPT v5 file


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
