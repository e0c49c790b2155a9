"""The check operators of the CORE rule format, on whole columns.

Each operator takes the evaluated table and one condition and returns one boolean per record: true
where the condition holds (a rule flags the records where its whole check holds). The semantics follow
CORE's implementation (cdisc_rules_engine/check_operators/dataframe_operators.py), including its
null rules: equal_to is false when either side is null, not_equal_to true when exactly one side is;
a missing value is never contained in a list. Work per distinct value where Python is needed.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from validate.openrules import dates
from validate.openrules.frame import (COLLECTIONS, Const, EvalFrame, GroupedSet, MissingVariable, RuleDataError,
                                      factorized, has_collections, map_distinct, text_column)

OPERATORS: dict[str, callable] = {}


def operator(*names):
    def register(func):
        for name in names:
            OPERATORS[name] = func
        return func

    return register


def complement(name: str, of: str):
    OPERATORS[name] = lambda frame, c: ~OPERATORS[of](frame, c)


# ----------------------------------------------------------------------------------------- helpers
def is_null_value(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, (list, set, tuple, frozenset, dict)):
        return len(value) == 0
    return False


def null_mask(values) -> np.ndarray:
    """True where a value is null: missing, '' or an empty collection."""
    if isinstance(values, Const):
        return np.array(is_null_value(values.value))
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.isna().to_numpy()
    if pd.api.types.is_string_dtype(values) and values.dtype != object:
        return (values.isna() | (values == "")).to_numpy(dtype=bool)
    if has_collections(values):
        return np.array([is_null_value(v) for v in values.astype(object)], dtype=bool)
    return values.isna().to_numpy() | (values.astype(object) == "").to_numpy(dtype=bool)


def nulls(frame: EvalFrame, values) -> np.ndarray:
    """null_mask, computed once per column of a run (rules share columns; the mask is read-only)."""
    if not isinstance(values, pd.Series):
        return null_mask(values)
    array = values.array
    hit = frame.cache.get(id(array))
    if hit is not None and hit[0] is array:
        return hit[1]
    if text_column(values):  # from the column's distinct values
        codes, uniques = factorized(frame, values)
        empty_text = np.array([u == "" for u in uniques], dtype=bool)
        mask = (codes < 0) | (empty_text[np.maximum(codes, 0)] if len(uniques) else True)
    else:
        mask = null_mask(values)
    mask.flags.writeable = False
    frame.cache[id(array)] = (array, mask)  # the array is kept, so its id is not reused while cached
    return mask


def as_text(series: pd.Series) -> pd.Series:
    """Values as CORE writes them before a regex or a string comparison: whole floats without '.0'."""
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(values) & (np.floor(values) == values)
        text = np.where(whole, np.char.mod("%d", np.where(whole, values, 0).astype(np.int64)),
                        np.char.mod("%s", values.astype(str))).astype(object)
        text[np.isnan(values)] = None
        return pd.Series(text, index=series.index, dtype=object)
    return series.astype(object).where(series.notna(), None)


def _normalized(value):
    """CORE's type-insensitive form: '200.00', 200.0 and 200 are all '200'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value.strip()
        return str(int(number)) if number.is_integer() else str(number)
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{value:.0f}" if float(value).is_integer() else str(float(value))
    return value


def normalized(series: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(series)
    mapped = np.array([_normalized(u) for u in uniques], dtype=object)
    out = np.full(len(series), None, dtype=object)
    out[codes >= 0] = mapped[codes[codes >= 0]] if len(mapped) else None
    return pd.Series(out, index=series.index, dtype=object)


def _lower(series: pd.Series) -> pd.Series:
    return pd.Series(map_distinct(series, lambda v: v.lower() if isinstance(v, str) else v), index=series.index,
                     dtype=object)


def target(frame: EvalFrame, c: dict) -> pd.Series:
    return frame.column(c["name"])


def comparand(frame: EvalFrame, c: dict):
    return frame.operand(c.get("value"), literal=bool(c.get("value_is_literal")))


def _reference(frame: EvalFrame, names: pd.Series) -> pd.Series:
    """value_is_reference: each record's value of the variable its comparator names (IDVARVAL vs IDVAR)."""
    out = pd.Series([None] * frame.n, dtype=object)
    for name in pd.unique(names.dropna()):
        column = frame.resolve(str(name))
        if column not in frame.df.columns:
            raise MissingVariable(column)
        rows = (names == name).to_numpy(dtype=bool)
        out[rows] = frame.df[column].astype(object).to_numpy()[rows]
    return out


def _equal(frame: EvalFrame, c: dict, case_insensitive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(equal, both null) per record, with CORE's options."""
    left = target(frame, c)
    right = comparand(frame, c)
    if c.get("value_is_reference"):
        right = _reference(frame, right if isinstance(right, pd.Series) else frame.column(str(right.value)))
    if isinstance(right, GroupedSet):
        raise RuleDataError(f"{c.get('value')} holds sets of values and cannot be compared with equal_to")
    left_null = nulls(frame, left)
    right_null = nulls(frame, right)
    if c.get("round_values"):
        left = pd.to_numeric(left, errors="coerce").round()
        right = pd.to_numeric(right, errors="coerce").round() if isinstance(right, pd.Series) else Const(
            round(float(right.value)) if isinstance(right.value, (int, float)) else right.value)
    if c.get("type_insensitive"):
        left = normalized(left)
        right = normalized(right) if isinstance(right, pd.Series) else Const(_normalized(right.value))
    if case_insensitive:
        left = _lower(left)
        right = _lower(right) if isinstance(right, pd.Series) else Const(
            right.value.lower() if isinstance(right.value, str) else right.value)
    if isinstance(right, pd.Series):
        equal = _elementwise_equal(left, right)
    elif text_column(left) and isinstance(right.value, str):  # compared once per distinct value
        codes, uniques = factorized(frame, left)
        hits = np.array([u == right.value for u in uniques], dtype=bool)
        equal = (codes >= 0) & (hits[np.maximum(codes, 0)] if len(uniques) else False)
    else:
        equal = _scalar_equal(left, right.value)
    equal = equal & ~left_null & ~right_null
    return equal, left_null & right_null


def _elementwise_equal(left: pd.Series, right: pd.Series) -> np.ndarray:
    left_numeric = pd.api.types.is_numeric_dtype(left) and not pd.api.types.is_bool_dtype(left)
    right_numeric = pd.api.types.is_numeric_dtype(right) and not pd.api.types.is_bool_dtype(right)
    if left_numeric and right_numeric:
        return (left.to_numpy(dtype="float64", na_value=np.nan) == right.to_numpy(dtype="float64", na_value=np.nan))
    a = left.astype(object).to_numpy()
    b = right.astype(object).to_numpy()
    return np.array(a == b, dtype=bool) if a.shape == b.shape else np.zeros(len(a), dtype=bool)


def _scalar_equal(left: pd.Series, value) -> np.ndarray:
    if isinstance(value, (list, set, tuple, frozenset, dict)):
        return np.array([v == value for v in left.astype(object)], dtype=bool)  # operation results only
    numeric = pd.api.types.is_numeric_dtype(left) and not pd.api.types.is_bool_dtype(left)
    if numeric:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            return np.zeros(len(left), dtype=bool)
        return left.to_numpy(dtype="float64", na_value=np.nan) == float(value)
    if pd.api.types.is_string_dtype(left) and left.dtype != object:
        if not isinstance(value, str):
            return np.zeros(len(left), dtype=bool)
        return (left == value).fillna(False).to_numpy(dtype=bool)
    return (left.astype(object) == value).to_numpy(dtype=bool)


# ------------------------------------------------------------------------------------- relational
@operator("equal_to")
def equal_to(frame, c):
    return _equal(frame, c)[0]


@operator("not_equal_to")
def not_equal_to(frame, c):
    equal, both_null = _equal(frame, c)
    return ~equal & ~both_null


@operator("equal_to_case_insensitive")
def equal_to_case_insensitive(frame, c):
    return _equal(frame, c, case_insensitive=True)[0]


@operator("not_equal_to_case_insensitive")
def not_equal_to_case_insensitive(frame, c):
    equal, both_null = _equal(frame, c, case_insensitive=True)
    return ~equal & ~both_null


def _numeric_compare(frame, c, op):
    left = pd.to_numeric(target(frame, c), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    right = comparand(frame, c)
    if isinstance(right, pd.Series):
        right = pd.to_numeric(right, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    else:
        try:
            right = float(right.value)
        except (TypeError, ValueError):
            raise RuleDataError(f"{c['name']} compared with {right.value!r}, which is not a number") from None
    with np.errstate(invalid="ignore"):
        return op(left, right) & ~np.isnan(left) & ~np.isnan(right)


OPERATORS["less_than"] = lambda f, c: _numeric_compare(f, c, np.less)
OPERATORS["less_than_or_equal_to"] = lambda f, c: _numeric_compare(f, c, np.less_equal)
OPERATORS["greater_than"] = lambda f, c: _numeric_compare(f, c, np.greater)
OPERATORS["greater_than_or_equal_to"] = lambda f, c: _numeric_compare(f, c, np.greater_equal)


@operator("empty")
def empty(frame, c):
    return np.broadcast_to(nulls(frame, target(frame, c)), (frame.n,)).copy()


complement("non_empty", "empty")


@operator("exists")
def exists(frame, c):
    name = frame.resolve(c["name"])
    present = name in frame.df.columns or name in frame.values
    if not present:  # a name inside list values (e.g. a column listing variable names)
        for column in frame.df.columns:
            series = frame.df[column]
            if has_collections(series) and any(isinstance(v, list) and name in v for v in series):
                present = True
                break
    return np.full(frame.n, present, dtype=bool)


complement("not_exists", "exists")


# ------------------------------------------------------------------------------------------ strings
def _regex_per_distinct(series: pd.Series, func, frame: EvalFrame | None = None) -> np.ndarray:
    if frame is not None and text_column(series):  # the run's factorization of the column
        codes, uniques = factorized(frame, series)
        hits = np.array([func(u) for u in uniques], dtype=bool)
        return (codes >= 0) & (hits[np.maximum(codes, 0)] if len(uniques) else False)
    return dates.per_distinct(as_text(series), func, bool, False)


@operator("matches_regex")
def matches_regex(frame, c):
    pattern = re.compile(str(c.get("value")))
    return _regex_per_distinct(target(frame, c), lambda v: pattern.match(str(v)) is not None, frame)


@operator("not_matches_regex")
def not_matches_regex(frame, c):
    series = target(frame, c)
    pattern = re.compile(str(c.get("value")))
    return ~_regex_per_distinct(series, lambda v: pattern.match(str(v)) is not None, frame) & ~nulls(frame, series)


def _part_regex(frame, c, part: str, negate: bool):
    series = target(frame, c)
    pattern = re.compile(str(c.get("value")))
    n = int(c.get(part) or 0)
    cut = (lambda v: v[:n]) if part == "prefix" else (lambda v: v[-n:] if n else v)
    found = _regex_per_distinct(series, lambda v: pattern.search(cut(str(v))) is not None, frame)
    return (~found if negate else found) & series.notna().to_numpy()


OPERATORS["prefix_matches_regex"] = lambda f, c: _part_regex(f, c, "prefix", False)
OPERATORS["not_prefix_matches_regex"] = lambda f, c: _part_regex(f, c, "prefix", True)
OPERATORS["suffix_matches_regex"] = lambda f, c: _part_regex(f, c, "suffix", False)
OPERATORS["not_suffix_matches_regex"] = lambda f, c: _part_regex(f, c, "suffix", True)


def _text_or_fail(frame, c) -> pd.Series:
    series = target(frame, c)
    if pd.api.types.is_numeric_dtype(series):
        raise RuleDataError(f"{frame.resolve(c['name'])} is numeric; {c['operator']} needs text")
    return series.astype(object)


@operator("starts_with")
def starts_with(frame, c):
    series = _text_or_fail(frame, c)
    right = comparand(frame, c)
    prefixes = tuple(map(str, right.dropna())) if isinstance(right, pd.Series) else str(right.value)
    return map_distinct(series, lambda v: isinstance(v, str) and v.startswith(prefixes), bool, False)


@operator("ends_with")
def ends_with(frame, c):
    series = _text_or_fail(frame, c)
    right = comparand(frame, c)
    suffixes = tuple(map(str, right.dropna())) if isinstance(right, pd.Series) else str(right.value)
    return map_distinct(series, lambda v: isinstance(v, str) and v.endswith(suffixes), bool, False)


def _lengths(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series):
        raise RuleDataError(f"{series.name} is numeric; a length test needs text")
    return map_distinct(series, lambda v: len(v) if isinstance(v, str) else np.nan, "float64", np.nan)


def _length_compare(frame, c, op):
    left = _lengths(target(frame, c))
    right = comparand(frame, c)
    if isinstance(right, pd.Series):
        right = (right.to_numpy(dtype="float64", na_value=np.nan) if pd.api.types.is_integer_dtype(right)
                 else _lengths(right))
    else:
        right = float(right.value)
    with np.errstate(invalid="ignore"):
        return op(left, right) & ~np.isnan(left)


OPERATORS["longer_than"] = lambda f, c: _length_compare(f, c, np.greater)
OPERATORS["longer_than_or_equal_to"] = lambda f, c: _length_compare(f, c, np.greater_equal)
OPERATORS["shorter_than"] = lambda f, c: ~_length_compare(f, c, np.greater_equal)
OPERATORS["shorter_than_or_equal_to"] = lambda f, c: ~_length_compare(f, c, np.greater)
OPERATORS["has_equal_length"] = lambda f, c: _length_compare(f, c, np.equal)
OPERATORS["has_not_equal_length"] = lambda f, c: ~_length_compare(f, c, np.equal)


@operator("contains")
def contains(frame, c):
    series = target(frame, c)
    right = comparand(frame, c)
    if isinstance(right, pd.Series):  # is each record's value found anywhere in the target column
        return right.isin(series.dropna()).to_numpy(dtype=bool) & right.notna().to_numpy()
    value = right.value

    def has(v):
        if isinstance(v, (list, set, tuple, frozenset)):
            return value in v
        if isinstance(v, str):
            return isinstance(value, str) and value in v
        return v == value

    return map_distinct(series, lambda v: False if is_null_value(v) else has(v), bool, False)


complement("does_not_contain", "contains")


@operator("contains_case_insensitive")
def contains_case_insensitive(frame, c):
    series = _lower(target(frame, c))
    right = comparand(frame, c)
    value = str(right.value).lower() if isinstance(right, Const) else None
    if value is None:
        raise RuleDataError("contains_case_insensitive needs a literal value")
    return map_distinct(series, lambda v: isinstance(v, (str, list, set, tuple)) and value in (
        [str(x).lower() for x in v] if isinstance(v, (list, set, tuple)) else v), bool, False)


complement("does_not_contain_case_insensitive", "contains_case_insensitive")


# ------------------------------------------------------------------------------------ set membership
def _members(right) -> list:
    value = right.value if isinstance(right, Const) else right
    if isinstance(value, (set, frozenset, tuple)):
        value = list(value)
    if isinstance(value, list):
        return [v for v in value if not is_null_value(v)]
    return [value]


def _contained(frame: EvalFrame, series: pd.Series, right, lower: bool = False) -> np.ndarray:
    if isinstance(right, GroupedSet):
        if lower:
            raise RuleDataError("case-insensitive membership in grouped values is not supported")
        return right.contains(frame, series)
    notnull = ~nulls(frame, series)
    if has_collections(series):
        pool = set(_members(right)) if not isinstance(right, pd.Series) else None
        if pool is not None:  # a list per record (codelist codes): contained when any item is
            return map_distinct(series, lambda v: any(x in pool for x in v) if isinstance(v, (list, tuple, set))
                                else v in pool, bool, False) & notnull
    if isinstance(right, pd.Series):
        if has_collections(right):
            pairs = zip(series.astype(object), right)
            return np.array([v in (set(r) if r is not None else ()) for v, r in pairs], dtype=bool) & notnull
        pool = right.dropna()
        if lower:
            return _lower(series).isin(set(_lower(pool))).to_numpy(dtype=bool) & notnull
        return _isin(series, list(pool)) & notnull
    members = _members(right)
    if lower:
        return _lower(series).isin([m.lower() if isinstance(m, str) else m for m in members]).to_numpy(
            dtype=bool) & notnull
    return _isin(series, members) & notnull


def _isin(series: pd.Series, members: list) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series):
        numbers = [float(m) for m in members if isinstance(m, (int, float, np.integer, np.floating))
                   and not isinstance(m, bool)]
        return series.isin(numbers).to_numpy(dtype=bool)
    texts = [m for m in members if isinstance(m, str)]
    return series.astype(object).isin(texts).to_numpy(dtype=bool)


@operator("is_contained_by")
def is_contained_by(frame, c):
    return _contained(frame, target(frame, c), comparand(frame, c))


@operator("is_not_contained_by")
def is_not_contained_by(frame, c):
    return ~is_contained_by(frame, c)


@operator("is_contained_by_case_insensitive")
def is_contained_by_ci(frame, c):
    return _contained(frame, target(frame, c), comparand(frame, c), lower=True)


complement("is_not_contained_by_case_insensitive", "is_contained_by_case_insensitive")


def _part(frame, c, part: str) -> pd.Series:
    series = target(frame, c)
    n = int(c.get(part) or c.get("prefix") or c.get("suffix") or 0)
    if pd.api.types.is_numeric_dtype(series) or has_collections(series):
        raise RuleDataError(f"{frame.resolve(c['name'])} has values that are not text; {c['operator']} needs text")
    return pd.Series(map_distinct(series, lambda v: v[:n] if part == "prefix" else v[-n:]), index=series.index,
                     dtype=object)


OPERATORS["prefix_is_contained_by"] = lambda f, c: _contained(f, _part(f, c, "prefix"), comparand(f, c))
OPERATORS["prefix_is_not_contained_by"] = lambda f, c: ~OPERATORS["prefix_is_contained_by"](f, c)
OPERATORS["suffix_is_contained_by"] = lambda f, c: _contained(f, _part(f, c, "suffix"), comparand(f, c))
OPERATORS["suffix_is_not_contained_by"] = lambda f, c: ~OPERATORS["suffix_is_contained_by"](f, c)


def _part_equal(frame, c, part: str) -> np.ndarray:
    series = _part(frame, c, part)
    value = c.get("value")
    if value == "DOMAIN" and not c.get("value_is_literal"):
        right = Const(frame.prefix)
    else:
        right = comparand(frame, c)
    if isinstance(right, pd.Series):
        return (series == right.astype(object)).to_numpy(dtype=bool)
    return (series == right.value).to_numpy(dtype=bool)


OPERATORS["prefix_equal_to"] = lambda f, c: _part_equal(f, c, "prefix")
OPERATORS["prefix_not_equal_to"] = lambda f, c: ~_part_equal(f, c, "prefix")
OPERATORS["suffix_equal_to"] = lambda f, c: _part_equal(f, c, "suffix")
OPERATORS["suffix_not_equal_to"] = lambda f, c: ~_part_equal(f, c, "suffix")


@operator("equals_string_part")
def equals_string_part(frame, c):
    regex = re.compile(str(c.get("regex")))
    right = comparand(frame, c)

    def parse(v):
        found = regex.findall(str(v)) if not is_null_value(v) else []
        return found[0] if found else None

    if isinstance(right, pd.Series):
        parsed = pd.Series(map_distinct(right, parse), index=right.index, dtype=object)
    else:
        parsed = pd.Series([parse(right.value)] * frame.n, dtype=object)
    left = target(frame, c)
    left_null, right_null = null_mask(left), null_mask(parsed)
    equal = _elementwise_equal(normalized(left) if c.get("type_insensitive") else left,
                               normalized(parsed) if c.get("type_insensitive") else parsed)
    return equal & ~left_null & ~right_null


complement("does_not_equal_string_part", "equals_string_part")


# -------------------------------------------------------------------------------------- collections
def _flatten(frame: EvalFrame, items) -> list:
    out = []
    for item in items if isinstance(items, list) else [items]:
        name = frame.resolve(item) if isinstance(item, str) else item
        if isinstance(name, str) and name in frame.values and isinstance(frame.values[name], Const):
            value = frame.values[name].value
            out.extend(value if isinstance(value, (list, set, tuple, frozenset)) else [value])
        elif isinstance(name, str) and name in frame.df.columns and frame.n and isinstance(frame.df[name].iloc[0], list):
            out.extend(frame.df[name].iloc[0])
        else:
            out.append(name)
    return out


@operator("contains_all")
def contains_all(frame, c):
    series = target(frame, c)
    value = c.get("value")
    if isinstance(value, list):
        wanted = _flatten(frame, value)
    else:
        right = comparand(frame, c)
        wanted = list(right.dropna().unique()) if isinstance(right, pd.Series) else _members(right)
    have = (set(x for v in series.dropna() for x in (v if isinstance(v, COLLECTIONS) else [v]))
            if has_collections(series) else set(series.dropna().unique()))
    return np.full(frame.n, set(wanted) <= have, dtype=bool)


complement("not_contains_all", "contains_all")


def _as_set(v) -> set:
    if isinstance(v, (list, set, tuple, frozenset)):
        return set(v)
    return {v}


def _rowwise_sets(frame, c, test) -> np.ndarray:
    left = target(frame, c)
    right = comparand(frame, c)
    if isinstance(right, Const) and frame.resolve(c["name"]) in frame.values:  # both whole-table values
        return np.full(frame.n, test(_as_set(left.iloc[0]) if frame.n else set(), _as_set(right.value)), dtype=bool)
    rights = right if isinstance(right, pd.Series) else pd.Series([right.value] * frame.n, dtype=object)
    return np.array([test(_as_set(a), _as_set(b)) for a, b in zip(left.astype(object), rights.astype(object))],
                    dtype=bool)


OPERATORS["shares_no_elements_with"] = lambda f, c: _rowwise_sets(f, c, lambda a, b: not (a & b))
OPERATORS["shares_at_least_one_element_with"] = lambda f, c: _rowwise_sets(f, c, lambda a, b: bool(a & b))
OPERATORS["shares_exactly_one_element_with"] = lambda f, c: _rowwise_sets(f, c, lambda a, b: len(a & b) == 1)


def _ordered_subset(items, reference) -> bool:
    positions = {name: i for i, name in enumerate(reference or [])}
    found = []
    for name in items or []:
        if name not in positions:
            return False
        found.append(positions[name])
    return found == sorted(found)


@operator("is_ordered_subset_of")
def is_ordered_subset_of(frame, c):
    left = target(frame, c)
    right = comparand(frame, c)
    if frame.n == 0:
        return np.zeros(0, dtype=bool)
    rights = right if isinstance(right, pd.Series) else pd.Series([right.value] * frame.n, dtype=object)
    cache = {}
    out = np.zeros(frame.n, dtype=bool)
    for i, (a, b) in enumerate(zip(left.astype(object), rights.astype(object))):
        key = (id(a), id(b))
        if key not in cache:
            cache[key] = _ordered_subset(a, b)
        out[i] = cache[key]
    return out


complement("is_not_ordered_subset_of", "is_ordered_subset_of")


# ------------------------------------------------------------------------------ dates and durations
@operator("is_complete_date")
def is_complete_date(frame, c):
    return dates.is_complete_date(target(frame, c))


@operator("is_incomplete_date")
def is_incomplete_date(frame, c):
    series = target(frame, c)
    return ~dates.is_complete_date(series)


@operator("invalid_date")
def invalid_date(frame, c):
    series = target(frame, c)
    return ~dates.is_valid_date(series) & ~null_mask(series)


@operator("invalid_duration")
def invalid_duration(frame, c):
    series = target(frame, c)
    negative_allowed = c.get("negative") is not False
    return ~dates.is_valid_duration(series, negative_allowed) & ~null_mask(series)


def _date_compare(frame, c, op):
    left = dates.instants(target(frame, c))
    right = comparand(frame, c)
    right = dates.instants(right if isinstance(right, pd.Series) else right.value)
    with np.errstate(invalid="ignore"):
        return np.asarray(op(left, right) & ~np.isnan(left) & ~np.isnan(right), dtype=bool)


OPERATORS["date_equal_to"] = lambda f, c: _date_compare(f, c, np.equal)
OPERATORS["date_not_equal_to"] = lambda f, c: _date_compare(f, c, np.not_equal)
OPERATORS["date_less_than"] = lambda f, c: _date_compare(f, c, np.less)
OPERATORS["date_less_than_or_equal_to"] = lambda f, c: _date_compare(f, c, np.less_equal)
OPERATORS["date_greater_than"] = lambda f, c: _date_compare(f, c, np.greater)
OPERATORS["date_greater_than_or_equal_to"] = lambda f, c: _date_compare(f, c, np.greater_equal)


# ----------------------------------------------------------------------------- uniqueness, groups
def _names(frame: EvalFrame, value) -> list[str]:
    """Variable names from a condition value: one name, a list, '$op' lists expanded, absent ones dropped."""
    names = _flatten(frame, value if isinstance(value, list) else [value]) if value is not None else []
    out = []
    for name in names:
        name = frame.resolve(name) if isinstance(name, str) else name
        if isinstance(name, str) and name in frame.df.columns and name not in out:
            out.append(name)
    return out


def _apply_regex(df: pd.DataFrame, regex: str | None) -> pd.DataFrame:
    if not regex:
        return df
    pattern = re.compile(regex)
    out = df.copy()
    for column in out.columns:
        values = out[column].dropna()
        if len(values) and isinstance(values.iloc[0], str) and pattern.match(values.iloc[0]):
            out[column] = map_distinct(out[column], lambda v: (pattern.findall(v) or [None])[0]
                                       if isinstance(v, str) and v else v)
    return out


def _group_codes(df: pd.DataFrame) -> np.ndarray:
    """One integer per distinct combination of the columns (nulls are a value of their own)."""
    if df.shape[1] == 0:
        return np.zeros(len(df), dtype=np.int64)
    filled = df.astype(object).where(df.notna(), "\x00<null>")
    return filled.groupby(list(filled.columns), sort=False, dropna=False).ngroup().to_numpy()


@operator("is_unique_set")
def is_unique_set(frame, c):
    names = _names(frame, [c["name"]] + (c.get("value") if isinstance(c.get("value"), list) else [c.get("value")]))
    if not names:
        return np.ones(frame.n, dtype=bool)
    codes = _group_codes(_apply_regex(frame.df[names], c.get("regex")))
    counts = np.bincount(codes)[codes]
    return counts <= 1


complement("is_not_unique_set", "is_unique_set")


def _violations(keys: pd.Series, values: pd.Series) -> set:
    """Non-null keys mapped to more than one value (a null counts as a value when others exist)."""
    table = pd.DataFrame({"k": keys.astype(object), "v": values.astype(object)})
    table = table[table["k"].notna()].drop_duplicates()
    if table.empty:
        return set()
    nonnull = table[table["v"].notna()].groupby("k")["v"].nunique()
    has_null = table[table["v"].isna()].groupby("k").size()
    has_null = has_null.reindex(nonnull.index, fill_value=0) > 0
    bad = nonnull[(nonnull > 1) | ((nonnull >= 1) & has_null)]
    return set(bad.index)


@operator("is_not_unique_relationship")
def is_not_unique_relationship(frame, c):
    left = target(frame, c)
    value = c.get("value")
    if isinstance(value, list):
        right = frame.df[[frame.resolve(v) for v in value]].astype(object).apply(tuple, axis=1)
    else:
        right = frame.column(value)
    both = left.isna() & right.isna()
    left, right = left[~both], right[~both]
    bad_left = _violations(left, right)
    bad_right = _violations(right, left)
    full_left, full_right = target(frame, c), (right.reindex(range(frame.n)) if isinstance(value, list)
                                               else frame.column(value))
    return (full_left.astype(object).isin(bad_left).to_numpy(dtype=bool)
            | full_right.astype(object).isin(bad_right).to_numpy(dtype=bool))


complement("is_unique_relationship", "is_not_unique_relationship")


@operator("present_on_multiple_rows_within")
def present_on_multiple_rows_within(frame, c):
    series = target(frame, c)
    within = frame.column(c.get("within"))
    limit = c.get("value") or 1
    codes = _group_codes(pd.DataFrame({"w": within.astype(object), "t": series.astype(object)}))
    counts = np.bincount(codes)[codes] if len(codes) else np.zeros(0)
    return (counts > float(limit)) & series.notna().to_numpy()  # records without USUBJID group together


complement("not_present_on_multiple_rows_within", "present_on_multiple_rows_within")


@operator("is_inconsistent_across_dataset")
def is_inconsistent_across_dataset(frame, c):
    """Every record of a group (same values of the ``value`` variables) whose target takes more than one value
    (a null counts as a value). CORE's newest documentation flags only the minority of such a group; the rules'
    own texts and expected results (CORE-000612, CORE-000699) flag the group, and so does this."""
    series = target(frame, c)
    groups = _names(frame, c.get("value"))
    keys = frame.df[groups] if groups else pd.DataFrame(index=frame.df.index)
    codes = _group_codes(keys)
    values = _group_codes(pd.DataFrame({"v": series.astype(object)}))
    kinds = pd.DataFrame({"g": codes, "v": values}).groupby("g")["v"].nunique()
    return kinds.reindex(codes).to_numpy() > 1


def _order_within(frame: EvalFrame, c: dict) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorted by (group, ordering) and the group code of each position."""
    group_names = _names(frame, c.get("within") or c.get("value"))
    ordering = frame.resolve(c.get("ordering")) if c.get("ordering") else None
    columns = group_names + ([ordering] if ordering and ordering in frame.df.columns else [])
    if ordering and ordering not in frame.df.columns:
        raise MissingVariable(ordering)
    order = frame.df.sort_values(columns, kind="stable").index.to_numpy() if columns else np.arange(frame.n)
    codes = _group_codes(frame.df[group_names]) if group_names else np.zeros(frame.n, dtype=np.int64)
    return order, codes


@operator("empty_within_except_last_row")
def empty_within_except_last_row(frame, c):
    series = target(frame, c)
    order, codes = _order_within(frame, c)
    sorted_codes = codes[order]
    last = np.ones(frame.n, dtype=bool)
    if frame.n:
        last[order[:-1]] = sorted_codes[:-1] != sorted_codes[1:]
    return null_mask(series) & ~last


@operator("non_empty_within_except_last_row")
def non_empty_within_except_last_row(frame, c):
    series = target(frame, c)
    order, codes = _order_within(frame, c)
    sorted_codes = codes[order]
    last = np.ones(frame.n, dtype=bool)
    if frame.n:
        last[order[:-1]] = sorted_codes[:-1] != sorted_codes[1:]
    return ~null_mask(series) & ~last


@operator("has_next_corresponding_record")
def has_next_corresponding_record(frame, c):
    series = target(frame, c).astype(object)
    other = frame.column(c.get("value")).astype(object)
    order, codes = _order_within(frame, c)
    out = np.ones(frame.n, dtype=bool)
    if frame.n > 1:
        here, nxt = order[:-1], order[1:]
        same = codes[here] == codes[nxt]
        equal = series.to_numpy()[here] == other.to_numpy()[nxt]
        out[here[same]] = np.asarray(equal, dtype=bool)[same]
    return out


complement("does_not_have_next_corresponding_record", "has_next_corresponding_record")


@operator("has_different_values")
def has_different_values(frame, c):
    series = target(frame, c)
    return np.full(frame.n, series.nunique(dropna=False) > 1, dtype=bool)


complement("has_same_values", "has_different_values")


@operator("target_is_sorted_by")
def target_is_sorted_by(frame, c):
    """Within each group, records ordered by the comparator (ISO dates sort as text) have an ascending target.
    A record breaking the order is flagged with its neighbour; a date that another date of the group refines
    (2005-10 and 2005-10-08) cannot be placed and is flagged; records with a null target or comparator are
    not judged."""
    series = target(frame, c)
    within = _names(frame, c.get("within"))
    result = np.ones(frame.n, dtype=bool)
    for spec in c.get("value") or []:
        key = frame.resolve(spec["name"])
        if key not in frame.df.columns:
            raise MissingVariable(key)
        ascending = str(spec.get("sort_order", "asc")).lower() != "desc"
        comparator = frame.df[key]
        valid = ~(null_mask(series) | null_mask(comparator))
        table = frame.df[within].copy() if within else pd.DataFrame(index=frame.df.index)
        table["_c"] = comparator if pd.api.types.is_numeric_dtype(comparator) else comparator.astype(object)
        table["_t"] = (series.to_numpy(dtype="float64", na_value=np.nan) if pd.api.types.is_numeric_dtype(series)
                       else dates.instants(series))
        ordered = table[valid].sort_values(within + ["_c"], ascending=[True] * len(within) + [ascending],
                                           kind="stable")
        codes = _group_codes(ordered[within]) if within else np.zeros(len(ordered), dtype=np.int64)
        t = ordered["_t"].to_numpy(dtype="float64")
        ok = np.ones(len(ordered), dtype=bool)
        if len(ordered) > 1:
            same = codes[:-1] == codes[1:]
            bad = same & (t[:-1] > t[1:])
            ok[:-1] &= ~bad
            ok[1:] &= ~bad
        if not pd.api.types.is_numeric_dtype(comparator) and len(ordered):
            ok &= ~_refined_dates(codes, ordered["_c"].astype(str).to_numpy())
        check = np.ones(frame.n, dtype=bool)
        check[ordered.index.to_numpy()] = ok
        result &= check
    return result


def _refined_dates(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """True where another value of the same group is a more precise date within this one (2005-10 < 2005-10-08)."""
    table = pd.DataFrame({"g": codes, "v": values}).drop_duplicates()
    pairs = table.merge(table, on="g", suffixes=("", "_other"))
    pairs = pairs[pairs["v_other"].str.len() > pairs["v"].str.len()]
    refined = pairs[np.array([o.startswith(v) for v, o in zip(pairs["v"], pairs["v_other"])], dtype=bool)]
    flagged = set(zip(refined["g"], refined["v"]))
    return np.array([(g, v) in flagged for g, v in zip(codes, values)], dtype=bool) if flagged else np.zeros(
        len(values), dtype=bool)


complement("target_is_not_sorted_by", "target_is_sorted_by")


# ------------------------------------------------------------------------------------ evaluation
def evaluate(frame: EvalFrame, node: dict) -> np.ndarray:
    """The check tree on the frame: all = and, any = or (conditions on absent variables are ignored
    unless every branch is on one), not = complement."""
    if "all" in node:
        result = np.ones(frame.n, dtype=bool)
        children = node["all"]
        for i, child in enumerate(children):
            result &= evaluate(frame, child)
            if not result.any():  # nothing can be flagged any more: the rest need not run, but a variable
                for rest in children[i + 1:]:  # they name that is absent still makes the rule not apply
                    _require_variables(frame, rest)
                break
        return result
    if "any" in node:
        result = np.zeros(frame.n, dtype=bool)
        missing = []
        for child in node["any"]:
            try:
                result |= evaluate(frame, child)
            except MissingVariable as exc:
                missing.append(exc.name)
        if node["any"] and len(missing) == len(node["any"]):
            raise MissingVariable(missing[0])
        return result
    if "not" in node:
        return ~evaluate(frame, node["not"])
    name = node.get("operator")
    func = OPERATORS.get(name)
    if func is None:
        raise UnsupportedOperator(name)
    if frame.n > 1 and _whole_table(frame, node):  # one value for every record: test it once
        one = EvalFrame(df=frame.df.iloc[:1], prefix=frame.prefix, domain=frame.domain, name=frame.name,
                        values=frame.values)
        return np.full(frame.n, bool(np.asarray(func(one, node), dtype=bool).reshape(-1)[0]))
    result = func(frame, node)
    return np.asarray(result, dtype=bool).reshape(-1) if frame.n else np.zeros(0, dtype=bool)


def _require_variables(frame: EvalFrame, node: dict) -> None:
    """Raise MissingVariable where evaluating ``node`` would, without evaluating it."""
    if "all" in node:
        for child in node["all"]:
            _require_variables(frame, child)
    elif "any" in node:
        missing = []
        for child in node["any"]:
            try:
                _require_variables(frame, child)
            except MissingVariable as exc:
                missing.append(exc.name)
        if node["any"] and len(missing) == len(node["any"]):
            raise MissingVariable(missing[0])
    elif "not" in node:
        _require_variables(frame, node["not"])
    elif node.get("operator") not in ("exists", "not_exists"):
        name = frame.resolve(node.get("name"))
        if isinstance(name, str) and name not in frame.df.columns and name not in frame.values:
            raise MissingVariable(name)


def _whole_table(frame: EvalFrame, node: dict) -> bool:
    """True when a condition compares table-wide values only ($count > 1, $domain_is_custom = true)."""
    target = frame.resolve(node.get("name"))
    if not (isinstance(target, str) and isinstance(frame.values.get(target), Const)) or target in frame.df.columns:
        return False
    if node.get("operator") in ("exists", "not_exists"):
        return True
    value = node.get("value")
    if isinstance(value, list):
        return not node.get("value_is_reference") and all(
            not (isinstance(v, str) and frame.resolve(v) in frame.df.columns) for v in value)
    if isinstance(value, str) and not node.get("value_is_literal"):
        resolved = frame.resolve(value)
        return resolved not in frame.df.columns and not isinstance(frame.values.get(resolved), GroupedSet)
    return not any(node.get(k) for k in ("within", "ordering", "value_is_reference"))


class UnsupportedOperator(Exception):
    def __init__(self, name):
        super().__init__(f"operator {name!r} is not supported")
        self.name = name
