"""Compute on distinct values only: raw columns repeat the same few dates, units and results many
times, and text work in pandas is per element, so each distinct combination is computed once."""
from __future__ import annotations

import ctypes

import numpy as np
import pandas as pd

_BY_IDENTITY = 4096  # an object column at least this long is numbered by its objects' identity first


def factorize(values, use_na_sentinel: bool = True):
    """``pd.factorize(values)``: the same codes (in order of first appearance) and distinct values (an array or
    an Index). A long
    column of Python objects (text columns of mapped datasets) is numbered first by the identity of its
    objects, an integer per record hashed by numpy, then its distinct objects by value: the text of such a
    column is mostly shared objects (text_of, map_text, shared_text), and pandas' hash of every record's
    text costs several times more."""
    if isinstance(values, pd.Series) and values.dtype != object:  # (pyarrow text: to_numpy would make a string
        return pd.factorize(values, use_na_sentinel=use_na_sentinel)  # per record; pandas encodes it in Arrow)
    array = values.to_numpy() if isinstance(values, pd.Series) else values
    if not (isinstance(array, np.ndarray) and array.dtype == object and array.ndim == 1 and len(array) >= _BY_IDENTITY):
        return pd.factorize(values, use_na_sentinel=use_na_sentinel)
    array = np.ascontiguousarray(array)
    # the object pointers themselves, read (not copied) while ``array`` holds the objects alive
    identity = np.ctypeslib.as_array((ctypes.c_ssize_t * len(array)).from_address(array.ctypes.data))
    by_identity, objects = pd.factorize(identity)
    if len(objects) > len(array) // 2:  # few shared objects: numbering them first does not pay
        return pd.factorize(values, use_na_sentinel=use_na_sentinel)
    first = np.empty(len(objects), dtype=np.int64)
    first[by_identity[::-1]] = np.arange(len(array) - 1, -1, -1)
    codes, uniques = pd.factorize(array[first], use_na_sentinel=use_na_sentinel)
    return codes[by_identity], uniques


def distinct_rows(*columns: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row's combination, position of the first row of each combination)."""
    if len(columns) == 1:  # one column: its codes already number its values by first row
        row_codes, uniques = factorize(columns[0])
        missing = row_codes < 0
        if missing.any():  # missing values (code -1): one value more, numbered where it first comes
            at = int(row_codes[:int(np.argmax(missing))].max(initial=-1)) + 1
            row_codes = np.where(missing, at, row_codes + (row_codes >= at))
            return row_codes, _first_rows(row_codes, len(uniques) + 1)
        return row_codes, _first_rows(row_codes, len(uniques))
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for column in columns:
        codes, uniques = factorize(column, use_na_sentinel=False)
        size = max(len(uniques), 1)
        if span * size >= 2 ** 62:  # too many combinations to pack in one integer: refactorize first
            combined, _ = pd.factorize(combined)
            span = int(combined.max()) + 1 if len(combined) else 1
        combined = combined * size + codes
        span *= size
    row_codes, uniques = pd.factorize(combined)
    return row_codes, _first_rows(row_codes, len(uniques))


def _first_rows(row_codes: np.ndarray, count: int) -> np.ndarray:
    first = np.empty(count, dtype=np.int64)
    first[row_codes[::-1]] = np.arange(len(row_codes))[::-1]
    return first


def on_unique(func, *columns: pd.Series):
    """func(*distinct columns) -> Series or tuple of Series, spread back to the rows of the columns."""
    index = columns[0].index
    row_codes, first = distinct_rows(*columns)
    parts = [taken(column, first) for column in columns]
    result = func(*parts)

    def spread(values: pd.Series) -> pd.Series:
        return taken(values, row_codes, index)

    return tuple(spread(r) for r in result) if isinstance(result, tuple) else spread(result)


def taken(values: pd.Series, positions: np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """``values.iloc[positions]`` on ``index`` (a fresh RangeIndex without one): its type, its name (the array
    taken, not a Series taken and re-indexed)."""
    return pd.Series(values.array.take(positions), index=index, name=values.name, dtype=values.dtype, copy=False)


def text_is(values: pd.Series, value: str) -> pd.Series:
    """``values == value`` (a bool Series on the index of ``values``): for an object column of text, as text_of
    gives it, numpy's comparison of the objects (pandas' own looks at each record for a missing value first:
    ~5 times the time on 150,000 records); any other column, pandas' comparison."""
    if values.dtype == object:
        try:
            same = values.to_numpy() == value
        except TypeError:  # (an object that does not compare: pandas' rules)
            same = None
        if isinstance(same, np.ndarray) and same.dtype == bool and same.shape == (len(values),):
            return pd.Series(same, index=values.index, name=values.name, dtype=bool, copy=False)
    return values == value


def text_of(values: pd.Series) -> pd.Series:
    """``values`` as text: an object column of str, '' for missing. Text that already is one is returned as
    it is; anything else is converted once per distinct value and equal texts share one string object,
    so a pyarrow-backed column costs one pointer per record, not one Python string per record."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty"):
        return values
    codes, uniques = factorize(values)
    texts = np.empty(len(uniques) + 1, dtype=object)
    if values.dtype != object and pd.api.types.is_string_dtype(values.dtype):  # (pyarrow text: all of it str)
        texts[:-1] = np.asarray(uniques, dtype=object)
    else:
        texts[:-1] = [value if isinstance(value, str) else str(value) for value in np.asarray(uniques, dtype=object)]
    texts[-1] = ""
    return pd.Series(texts[codes], index=values.index, dtype=object)


def map_text(values: pd.Series, table, keep: bool = False, default: str = "") -> pd.Series:
    """Each value looked up in ``table`` (a dict or a Series indexed by the values), once per distinct value,
    as an object column of text: a value the table does not hold gives itself (``keep``) or ``default``.
    Series.map would turn the strings into pandas' str type one record at a time."""
    codes, uniques = factorize(values)
    if isinstance(table, pd.Series):
        table = table[~table.index.duplicated(keep="first")]
        found = np.array(table.reindex(pd.Index(np.asarray(uniques, dtype=object), dtype=object)), dtype=object)
    else:
        found = np.empty(len(uniques), dtype=object)
        found[:] = [table.get(value, np.nan) for value in np.asarray(uniques, dtype=object)]
    original = np.asarray(uniques, dtype=object)
    missing = pd.isna(found)
    found[missing] = original[missing] if keep else default
    texts = np.empty(len(uniques) + 1, dtype=object)
    texts[:-1] = found
    texts[-1] = default
    return pd.Series(texts[codes], index=values.index, dtype=object)


def shared_text(values: pd.Series) -> pd.Series:
    """``values`` (text) with equal values sharing one string object: a column made record by record (a
    mask with a constant, a date formatted per record, values taken from pyarrow text) holds a Python
    string per record, a few distinct values held many times over for as long as the dataset lives."""
    codes, uniques = factorize(values)
    texts = np.empty(len(uniques) + 1, dtype=object)
    texts[:-1] = np.asarray(uniques, dtype=object)
    texts[-1] = np.nan
    return pd.Series(texts[codes], index=values.index, dtype=object)


def sorted_positions(frame: pd.DataFrame, keys: list[str], na_position: str = "last") -> np.ndarray | None:
    """Positions of the rows of ``frame`` in the stable ascending order of ``keys`` (missing values first or
    last in each), as ``sort_values(keys, kind='mergesort')`` orders them, worked out on each column's rank
    among its sorted distinct values (pandas sorts text through a categorical of pyarrow text, a conversion
    of every distinct text at each sort). None when a key column holds neither numbers nor text only."""
    ranks = key_ranks(frame, keys, na_position)
    if ranks is None:
        return None
    return np.lexsort(ranks[::-1]) if ranks else np.arange(len(frame))


def key_ranks(frame: pd.DataFrame, keys: list[str], na_position: str = "last") -> list[np.ndarray] | None:
    """Each key column's rank of each row among its sorted distinct values (missing values one rank, first or
    last), what sorted_positions sorts by; None when a key column holds neither numbers nor text only."""
    ranks = []
    for key in keys:
        column = frame[key]
        if pd.api.types.is_bool_dtype(column.dtype) or not (
                pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)):
            return None
        if pd.api.types.is_numeric_dtype(column.dtype):
            values = column.to_numpy(dtype=float, na_value=np.nan)
            missing = np.isnan(values)
            distinct, rank = np.unique(values[~missing], return_inverse=True)
            codes = np.full(len(values), -1, dtype=np.int64)
            codes[~missing] = rank
            count = len(distinct)
        elif column.dtype == object:
            if pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty"):
                return None
            codes, distinct = factorize(column)  # (by the objects first: see factorize) then the distinct sorted
            distinct = np.asarray(distinct, dtype=object)
            order = np.argsort(distinct, kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            codes = np.where(codes < 0, -1, rank[np.maximum(codes, 0)]) if len(rank) else codes
            count = len(distinct)
        else:
            codes, distinct = pd.factorize(column.array, sort=True)
            count = len(distinct)
        ranks.append(np.where(codes < 0, -1 if na_position == "first" else count, codes))
    return ranks
