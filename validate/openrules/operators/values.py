"""Operators on values: equality, numbers, emptiness, text, membership in lists, dates."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from validate.openrules import dates
from validate.openrules.frame import (Const, EvalFrame, GroupedSet, RuleDataError, factorized,
                                      has_collections, map_distinct, text_column)
from validate.openrules.operators.base import (OPERATORS, operator, complement, is_null_value, null_mask,
                                               nulls, as_text, normalized, _lower, target, comparand, _equal,
                                               _elementwise_equal, _members)


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




@operator("split_parts_have_equal_length")
def split_parts_have_equal_length(frame, c):
    """Both sides of an interval ('2003-12-01/2003-12-10') have the same precision; one part, or none, passes."""
    separator = str(c.get("separator", "/"))
    series = target(frame, c)

    def equal(v):
        parts = str(v).split(separator)
        return len(parts) == 1 or (len(parts) == 2 and len(parts[0]) == len(parts[1]))

    return map_distinct(series, equal, bool, True) | nulls(frame, series)


complement("split_parts_have_unequal_length", "split_parts_have_equal_length")
