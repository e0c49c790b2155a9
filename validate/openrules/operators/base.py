"""What the check operators share: their registry, null tests, text forms, operands and group keys.

Semantics follow CORE (cdisc_rules_engine/check_operators/dataframe_operators.py): equal_to is false when
either side is null, not_equal_to true when exactly one side is; a missing value is never contained in a
list. Where Python is needed, it runs once per distinct value, never once per record.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from validate.openrules.frame import (Const, group_ids, EvalFrame, GroupedSet, MissingVariable, RuleDataError,
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


def _members(right) -> list:
    value = right.value if isinstance(right, Const) else right
    if isinstance(value, (set, frozenset, tuple)):
        value = list(value)
    if isinstance(value, list):
        return [v for v in value if not is_null_value(v)]
    return [value]


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
    return group_ids(df)[0]


