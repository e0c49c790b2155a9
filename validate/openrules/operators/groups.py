"""Operators across records and lists: uniqueness, consistency within groups, order, next records, shared
elements of lists."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from validate.openrules import dates
from validate.openrules.frame import COLLECTIONS, Const, EvalFrame, MissingVariable, has_collections
from validate.openrules.operators.base import (OPERATORS, operator, complement, null_mask, target, comparand,
                                               _members, _flatten, _names, _apply_regex, _group_codes)


# -------------------------------------------------------------------------------------- collections
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


# ----------------------------------------------------------------------------- uniqueness, groups
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




@operator("inconsistent_enumerated_columns")
def inconsistent_enumerated_columns(frame, c):
    """TSVAL, TSVAL1, TSVAL2...: a record where one of them is populated and the one before it is not."""
    name = frame.resolve(c["name"])
    pattern = re.compile(rf"^{re.escape(name)}(\d*)$")
    columns = sorted((col for col in frame.df.columns if pattern.match(str(col))), key=lambda col: (len(col), col))
    out = np.zeros(frame.n, dtype=bool)
    for before, after in zip(columns, columns[1:]):
        out |= null_mask(frame.df[before]) & ~null_mask(frame.df[after])
    return out


@operator("is_ordered_set")
def is_ordered_set(frame, c):
    """Within each group (``value``), the target ascends in record order; records that break it are false."""
    series = target(frame, c)
    groups = _names(frame, c.get("value"))
    codes = _group_codes(frame.df[groups]) if groups else np.zeros(frame.n, dtype=np.int64)
    values = (series.to_numpy(dtype="float64", na_value=np.nan) if pd.api.types.is_numeric_dtype(series)
              else pd.Series(series.astype(object)).rank(method="dense").to_numpy())
    table = pd.DataFrame({"g": codes, "v": values})
    running_max = table.groupby("g")["v"].cummax()
    return ~(table["v"] < running_max).to_numpy()


complement("is_not_ordered_set", "is_ordered_set")


@operator("is_ordered_by")
def is_ordered_by(frame, c):
    """Each record holds the value the target's sorted order puts there (``order``: asc or dsc)."""
    series = target(frame, c)
    ascending = str(c.get("order", "asc")).lower() == "asc"
    ordered = series.sort_values(ascending=ascending, ignore_index=True)
    return (series.reset_index(drop=True) == ordered).fillna(False).to_numpy(dtype=bool)


complement("is_not_ordered_by", "is_ordered_by")


@operator("value_has_multiple_references")
def value_has_multiple_references(frame, c):
    """The record's value counts more than once in the dictionary the ``value`` column holds."""
    series = target(frame, c)
    counts = frame.column(c.get("value"))
    return np.array([isinstance(d, dict) and (d.get(v) or 0) > 1 for v, d in zip(series.astype(object), counts)],
                    dtype=bool)


complement("value_does_not_have_multiple_references", "value_has_multiple_references")
