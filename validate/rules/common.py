"""Helpers the rules share: per-unique-value evaluation, ISO 8601 parsing, study-day reference dates."""
from __future__ import annotations

import re
import weakref
from typing import Callable

import numpy as np
import pandas as pd

from validate.registry import Context

_M = r"(?:0[1-9]|1[0-2]|-)"
_D = r"(?:0[1-9]|[12]\d|3[01]|-)"
_H = r"(?:[01]\d|2[0-3]|--?)"  # SDTMIG writes an unknown hour before known minutes as '-' ('T-:15')
_MI = r"(?:[0-5]\d|-)"
_S = r"(?:[0-5]\d(?:\.\d+)?)"
_TZ = r"(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?"
DATETIME = rf"(?:\d{{4}}|-)(?:-{_M}(?:-{_D}(?:T{_H}(?::{_MI}(?::{_S})?)?{_TZ})?)?)?"
DURATION = r"-?P(?=\d|T\d)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?" \
           r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?"
ISO_DTC = re.compile(rf"^(?:{DATETIME}|{DATETIME}/{DATETIME}|{DATETIME}/{DURATION}|{DURATION}/{DATETIME})$")
ISO_DURATION = re.compile(rf"^{DURATION}$")
COMPLETE_PREFIX = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?)?)?$")


_FACTORIZED: dict[int, tuple] = {}  # id(text array) -> (weak reference, codes, uniques)
_GROUPS: dict[tuple, tuple] = {}  # ids of column arrays -> (weak references, row ids, first rows): row_groups


def factorize(series: pd.Series) -> tuple[np.ndarray, pd.Index | np.ndarray]:
    """pd.factorize of a column; for text, once per column array however many rules ask (the entry goes
    when the array does, so memory follows the package)."""
    if pd.api.types.is_numeric_dtype(series) or series.dtype == object:
        return pd.factorize(series)
    array = series.array
    key = id(array)
    hit = _FACTORIZED.get(key)
    if hit is not None and hit[0]() is array:
        return hit[1], hit[2]
    codes, uniques = pd.factorize(series)
    if len(uniques) < 2**31 - 1:
        codes = codes.astype(np.int32)  # half the memory of the cached codes
    _FACTORIZED[key] = (weakref.ref(array, lambda _ref, k=key: _FACTORIZED.pop(k, None)), codes, uniques)
    return codes, uniques


def forget_factorized() -> None:
    """Drop the cached factorizations (the end of a validation run)."""
    _FACTORIZED.clear()
    _GROUPS.clear()


def factorized(context: Context, name: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize of one column, computed once per validation run (several rules look at each column)."""
    return factorize(context.package.datasets[name][column])


def unique_values(uniques) -> pd.Series:
    """The distinct values as a Series a rule's function works on: text keeps its pandas string dtype (the
    pyarrow kernels of .str work on the whole array), numbers stay numbers, anything else is object."""
    dtype = getattr(uniques, "dtype", None)
    if dtype is not None and dtype != object and (pd.api.types.is_string_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)):
        return pd.Series(uniques.array if isinstance(uniques, pd.Index) else uniques, copy=False)
    return pd.Series(uniques, dtype=object)


def arrow_text(values: pd.Series):
    """The pyarrow array behind pyarrow-backed text (no copy), else None (object or Python-backed text)."""
    if isinstance(values.array, pd.arrays.ArrowStringArray):
        import pyarrow as pa

        return pa.array(values.array)
    return None


def byte_lengths(values: pd.Series) -> np.ndarray:
    """UTF-8 byte length of each text value (float, NaN where null)."""
    array = arrow_text(values)
    if array is not None:
        import pyarrow.compute as pc

        return np.asarray(pc.binary_length(array).to_numpy(zero_copy_only=False), dtype="float64")
    return values.astype(str).str.encode("utf-8").str.len().to_numpy(dtype="float64")


def _ascii_bytes(array) -> bool:
    """True when every byte of the array's character data is below 128 (then every value is ASCII)."""
    import pyarrow as pa

    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        data = chunk.buffers()[2]
        if data is not None and data.size and np.frombuffer(data, dtype=np.uint8).max() >= 128:
            return False
    return True


def not_ascii(values: pd.Series) -> np.ndarray:
    """True where a text value holds a character outside 7-bit ASCII."""
    array = arrow_text(values)
    if array is not None:
        import pyarrow.compute as pc

        if _ascii_bytes(array):  # the common case, told from the raw bytes at memory speed
            return np.zeros(len(values), dtype=bool)
        return ~np.asarray(pc.fill_null(pc.string_is_ascii(array), True), dtype=bool)
    return values.astype(str).str.contains(r"[^\x00-\x7F]", regex=True).to_numpy(dtype=bool)


def row_groups(columns: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """One id per distinct combination of the columns' values (a null is a value of its own), numbered in
    order of first appearance, from the shared factorizations, and the first row of each id: evaluate
    something once per distinct combination on ``series.iloc[first]``, then spread it back with
    ``result[ids]``. Computed once per set of column arrays (several rules group by the same keys)."""
    arrays = [series.array for series in columns]
    key = tuple(map(id, arrays))
    hit = _GROUPS.get(key)
    if hit is not None and all(ref() is array for ref, array in zip(hit[0], arrays)):
        return hit[1], hit[2]
    n = len(columns[0])
    combined, width = np.zeros(n, dtype=np.int64), 1
    for series in columns:
        codes, uniques = factorize(series)
        if width * (len(uniques) + 1) >= 2**62:  # the combined number would overflow: renumber first
            combined = pd.factorize(combined)[0].astype(np.int64)
            width = int(combined.max(initial=0)) + 1
        combined = combined * (len(uniques) + 1) + codes.astype(np.int64) + 1
        width *= len(uniques) + 1
    ids, distinct = pd.factorize(combined)
    first = np.zeros(len(distinct), dtype=np.int64)
    first[ids[::-1]] = np.arange(n - 1, -1, -1)
    ids = ids.astype(np.int64)
    try:
        refs = [weakref.ref(array, lambda _ref, k=key: _GROUPS.pop(k, None)) for array in arrays]
    except TypeError:  # an array that cannot be referred to weakly: not kept
        return ids, first
    ids.flags.writeable = first.flags.writeable = False  # shared by the rules: never changed in place
    _GROUPS[key] = (refs, ids, first)
    return ids, first


def rows_in(here: list[pd.Series], known: list[pd.Series]) -> np.ndarray:
    """True where the combination of ``here``'s values is one of ``known``'s (same number of columns; a
    null matches a null), compared through factorization codes, never as Python tuples."""
    combined_here = np.zeros(len(here[0]), dtype=np.int64)
    combined_known = np.zeros(len(known[0]), dtype=np.int64)
    for left, right in zip(here, known):
        both = pd.concat([left.reset_index(drop=True), right.reset_index(drop=True)], ignore_index=True)
        codes, uniques = pd.factorize(both)
        codes = codes.astype(np.int64) + 1
        width = len(uniques) + 1
        pair, _ = pd.factorize(np.concatenate([combined_here, combined_known]) * width + codes)
        combined_here, combined_known = pair[:len(left)].astype(np.int64), pair[len(left):].astype(np.int64)
    return np.isin(combined_here, combined_known)


def duplicated_rows(columns: list[np.ndarray]) -> np.ndarray:
    """True for every row whose values in ``columns`` (integer codes or numbers, one array per column) equal
    another row's. A 64-bit hash per row, combined column by column in numpy, finds the candidates; the
    exact comparison runs on those rows only (equal rows always have equal hashes)."""
    n = len(columns[0]) if columns else 0
    if n < 2:
        return np.zeros(n, dtype=bool)
    combined = np.zeros(n, dtype=np.uint64)
    for values in columns:
        values = np.asarray(values)
        if values.dtype.kind == "f":  # every NaN hashes alike, -0.0 as 0.0, as duplicated() compares them
            values = np.where(np.isnan(values), np.nan, values + 0.0)
        combined = (combined ^ pd.util.hash_array(values)) * np.uint64(0x100000001B3)
    candidates = np.flatnonzero(pd.Series(combined).duplicated(keep=False).to_numpy())
    out = np.zeros(n, dtype=bool)
    if len(candidates):
        exact = pd.DataFrame({i: np.asarray(v)[candidates] for i, v in enumerate(columns)}).duplicated(keep=False)
        out[candidates[exact.to_numpy()]] = True
    return out


def repeated_records(df: pd.DataFrame, columns: list[str], text: set) -> np.ndarray:
    """True for every row equal to another row in all ``columns`` (a null equals a null, -0.0 equals 0.0),
    as ``df.duplicated(columns, keep=False)``. A 64-bit hash per row, the numbers first and then one text
    column at a time (from its shared factorization), keeps only the rows whose hash repeats; a column
    with one value for every row cannot tell rows apart and is passed over. The rows left are then
    grouped exactly, column by column (equal rows always have equal hashes)."""
    n = len(df)
    rows = np.arange(n)
    key = np.zeros(n, dtype=np.uint64)
    numbers = [c for c in columns if c not in text]
    for column in numbers:
        key = _mixed(key, _row_values(df[column], column in text))
    if numbers:
        rows, key = _repeating(rows, key)
    for column in [c for c in columns if c in text]:
        if len(rows) < 2:
            return np.zeros(n, dtype=bool)
        codes, uniques = factorize(df[column])
        if len(uniques) == 0 or len(uniques) == 1 and codes.min(initial=0) >= 0:
            continue  # one value (or none) throughout
        key = _mixed(key, codes[rows])
        rows, key = _repeating(rows, key)
    group = np.zeros(len(rows), dtype=np.int64)  # exact: one id per distinct combination of the values
    for column in columns:
        if len(rows) < 2:
            break
        if column in text:
            codes, uniques = factorize(df[column])
            codes, width = codes[rows], len(uniques)
        else:
            codes, uniques = pd.factorize(_row_values(df[column].iloc[rows], False))
            width = len(uniques)
        group = pd.factorize(group * (width + 1) + codes.astype(np.int64) + 1)[0].astype(np.int64)
        again = pd.Series(group).duplicated(keep=False).to_numpy()
        rows, group = rows[again], group[again]
    out = np.zeros(n, dtype=bool)
    if len(rows) >= 2:
        out[rows] = True
    return out


def _row_values(series: pd.Series, is_text: bool):
    """A column's values to group on: numbers as float64 with every NaN alike and -0.0 as 0.0."""
    if not is_text and pd.api.types.is_numeric_dtype(series):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        return np.where(np.isnan(numbers), np.nan, numbers + 0.0)
    return series


def _mixed(key: np.ndarray, values) -> np.ndarray:
    if not isinstance(values, np.ndarray):  # text among the numbers (a column the metadata calls Num)
        values = factorize(values)[0]
    return (key ^ pd.util.hash_array(np.asarray(values))) * np.uint64(0x100000001B3)


def _repeating(rows: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    again = pd.Series(key).duplicated(keep=False).to_numpy()
    return rows[again], key[again]


def per_unique(series: pd.Series, func: Callable[[pd.Series], np.ndarray], fill=np.nan,
               codes_uniques: tuple | None = None) -> np.ndarray:
    """Evaluate ``func`` once per distinct non-null value and spread the result back over the rows."""
    codes, uniques = codes_uniques if codes_uniques is not None else factorize(series)
    result = np.asarray(func(unique_values(uniques)))
    # the distinct values' results and, last, a null's (the code -1 takes it): one take over the rows
    table = np.empty(len(result) + 1, dtype=result.dtype if result.dtype != object else object)
    table[:-1] = result
    table[-1] = False if result.dtype == bool else fill
    return table[codes]


def date_part(text: pd.Series) -> pd.Series:
    """'2024-03-05' of '2024-03-05' and '2024-03-05T10:00', missing otherwise (as extracting
    ^(\\d{4}-\\d{2}-\\d{2})(?:T|$) gives, without a Python call per value: pyarrow's match, then a slice)."""
    starts = text.str.match(r"\d{4}-\d{2}-\d{2}(?:T|$)").fillna(False).to_numpy(dtype=bool)
    return text.str.slice(0, 10).where(starts)


def iso_valid(values: pd.Series) -> np.ndarray:
    """True for SDTM ISO 8601 date/times (partial, missing middle parts, intervals) that exist on the calendar."""
    text = values.astype(str)
    # a single date/time (nearly every value) is told by pyarrow's regex engine; the full pattern (intervals,
    # durations: a lookahead, which only Python's re has) runs on the other values only
    single = text.str.fullmatch(DATETIME).fillna(False).to_numpy(dtype=bool)
    full = single.copy()
    if not single.all():
        full[~single] = text[~single].str.fullmatch(ISO_DTC.pattern).fillna(False).to_numpy(dtype=bool)
    syntax = full & (text.str.contains(r"\d", regex=True) & ~text.str.endswith("-")).fillna(False).to_numpy(dtype=bool)
    dates = date_part(text)
    parsed = pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce")
    calendar_ok = dates.isna().to_numpy() | parsed.notna().to_numpy()
    return syntax & calendar_ok


def date_days(series: pd.Series) -> np.ndarray:
    """Days since 1960-01-01 of values whose date part is complete (YYYY-MM-DD), NaN otherwise."""
    def convert(values: pd.Series) -> np.ndarray:
        dates = date_part(values.astype(str))
        parsed = pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce")
        return ((parsed - pd.Timestamp("1960-01-01")).dt.days).to_numpy(dtype="float64", na_value=np.nan)

    return per_unique(series, convert).astype("float64")


def study_day(days: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """SDTMIG/ADaMIG study day: on or after the reference date day 1, the day before -1; no day 0."""
    diff = days - reference
    return np.where(diff >= 0, diff + 1, diff)


def reference_days(context: Context, variable: str = "RFSTDTC") -> pd.Series:
    """DM.<variable> as days since 1960 per USUBJID (first record when DM repeats a subject)."""
    key = ("reference_days", variable)
    if key not in context.cache:
        dm = context.package.datasets.get("DM")
        if dm is None or variable not in dm.columns or "USUBJID" not in dm.columns:
            context.cache[key] = pd.Series(dtype="float64")
        else:
            days = pd.Series(date_days(dm[variable]), index=dm["USUBJID"].astype(object))
            context.cache[key] = days[~days.index.duplicated()]
    return context.cache[key]


def lookup(series: pd.Series, mapping: pd.Series) -> np.ndarray:
    """mapping[value] for every value of ``series`` (NaN when absent), evaluated per distinct value."""
    return per_unique(series, lambda u: u.map(mapping).to_numpy(dtype="float64", na_value=np.nan)).astype("float64")


def numeric(series: pd.Series) -> np.ndarray:
    """Text converted to numbers where it is a plain number (' 5', '<0.01' and '' give NaN)."""
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype="float64", na_value=np.nan)

    def convert(values: pd.Series) -> np.ndarray:
        ok = values.astype(str).str.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?").fillna(False).to_numpy(dtype=bool)
        out = np.full(len(values), np.nan)
        if ok.any():
            out[ok] = values[ok].astype(float).to_numpy()
        return out

    return per_unique(series, convert).astype("float64")


def char_columns(context: Context, name: str) -> list[str]:
    meta = context.package.meta[name]
    return [c for c, v in meta.variables.items() if v.type == "Char"]


def text_in(series: pd.Series, allowed, codes_uniques: tuple | None = None) -> np.ndarray:
    """Boolean per row: value is non-null and in ``allowed`` (membership tested per distinct value)."""
    if not isinstance(allowed, pd.arrays.ArrowStringArray):  # pyarrow text is given to pyarrow as it is
        allowed = list(allowed)
    return per_unique(series, lambda u: _isin(u, allowed), codes_uniques=codes_uniques)


def _isin(values: pd.Series, allowed) -> np.ndarray:
    """``values.isin(allowed)``; for pyarrow text, pyarrow's is_in over the text values of ``allowed``, as
    pandas does, without pandas' pyarrow scalar per allowed value (a codelist has hundreds)."""
    array = arrow_text(values)
    if array is None:
        return values.isin(allowed).to_numpy(dtype=bool)
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(allowed, pd.arrays.ArrowStringArray):
        known = pc.drop_null(pa.array(allowed)).cast(array.type)
    else:
        known = pa.array([v for v in allowed if isinstance(v, str)], type=array.type)
    if not len(known):
        return np.zeros(len(values), dtype=bool)
    found = pc.is_in(array, value_set=known)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def numeric_key(series: pd.Series) -> pd.Series:
    """Numbers rounded to 12 significant digits, so that keys written as 8-byte floats by other tools
    compare equal (1.3000000000000003 is 1.3); text is left as it is. Evaluated per distinct value."""
    if not pd.api.types.is_numeric_dtype(series):
        return series

    def rounded(values: pd.Series) -> np.ndarray:
        x = values.to_numpy(dtype="float64")
        magnitude = np.floor(np.log10(np.where(np.isfinite(x) & (x != 0), np.abs(x), 1.0)))
        scale = 10.0 ** (11 - magnitude)
        return np.round(x * scale) / scale

    return pd.Series(per_unique(series, rounded).astype("float64"), index=series.index, name=series.name)


def split_groups(context: Context) -> dict[str, list[str]]:
    """SDTM datasets by the domain they hold: {'LB': ['LB'], ...} or {'LB': ['LBCH', 'LBHE']} for a split
    domain, SUPP-- by parent domain ('SUPPLB': ['SUPPLBCH', 'SUPPLBHE'])."""
    if "split_groups" not in context.cache:
        groups: dict[str, list[str]] = {}
        package = context.package
        for name in package.names():  # every dataset, also when the rule sees one unit of the package
            if package.standard(name) == "SDTM":
                groups.setdefault(package.unit_key(name), []).append(name)
        context.cache["split_groups"] = groups
    return context.cache["split_groups"]


def iterated_groups(context: Context) -> list[list[str]]:
    """The split groups among the datasets the rule iterates (all of them, or one unit of the package)."""
    iterated = set(context.package.datasets)
    return [names for names in split_groups(context).values() if names[0] in iterated]


def stacked(context: Context, names: list[str], columns: list[str]) -> pd.DataFrame:
    """``columns`` of several datasets one under the other, with the dataset name and 0-based row of each
    record (the split datasets of one domain read as one)."""
    frames = []
    for name in names:
        df = context.package.datasets[name]
        part = pd.DataFrame({c: numeric_key(df[c]) if c in df.columns else pd.Series(pd.NA, index=df.index, dtype=object)
                             for c in columns})
        frames.append(part.assign(_dataset=name, _row=np.arange(len(df))).reset_index(drop=True))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns + ["_dataset", "_row"])
