"""The table a rule's check runs on, and how names in a check resolve against it.

A check names variables (``--TESTCD`` with the domain prefix, ``SE.EPOCH`` from a matched dataset),
metadata columns (``variable_name``) and operation results (``$tv_visitnum``). Operation results are
either a column (one value per record: a grouped count, a study day), a constant (one list or number
for the whole table: the distinct values of TV.VISITNUM) or a grouped set (distinct values per group,
tested by a join, never row by row).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ROW = "__row__"  # the record number (1-based) in the dataset as submitted, kept through merges


class MissingVariable(Exception):
    """A check names a variable the table does not have: CORE skips the condition (in ``any``) or the rule."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class RuleDataError(Exception):
    """The data cannot be evaluated the way the rule asks (CORE reports an execution error)."""


@dataclass
class Const:
    """One value for every record (a list, a set, a number, a string)."""

    value: object


@dataclass
class GroupedSet:
    """Distinct values of a variable per group, e.g. SV.VISITNUM per USUBJID."""

    keys: list[str]  # group variables, named as in the evaluated table
    table: pd.DataFrame  # columns keys + ["value"], distinct rows, nulls dropped

    def contains(self, frame: "EvalFrame", target: pd.Series) -> np.ndarray:
        missing = [k for k in self.keys if k not in frame.df.columns]
        if missing:
            raise MissingVariable(missing[0])
        left = pd.DataFrame({**{k: _key(frame.df[k]) for k in self.keys}, "value": _key(target)})
        right = self.table.assign(**{k: _key(self.table[k]) for k in self.keys + ["value"]})
        right = right.drop_duplicates().assign(_hit=True)
        merged = left.merge(right, on=self.keys + ["value"], how="left")
        return merged["_hit"].fillna(False).to_numpy(dtype=bool) & target.notna().to_numpy()

    def per_row(self, frame: "EvalFrame", rows: np.ndarray) -> list:
        """The group's values for the given rows (for display only)."""
        groups = {}
        for key, sub in self.table.groupby(self.keys, dropna=False, sort=False):
            groups[key if isinstance(key, tuple) else (key,)] = sorted(_key(sub["value"]).dropna())
        out = []
        for r in rows:
            key = tuple(frame.df[k].iloc[r] for k in self.keys)
            out.append(groups.get(key, []))
        return out


def _key(series: pd.Series) -> pd.Series:
    """Join keys compared as text ('2' and 2.0 match, as CORE's merge keys do), formatted per distinct value."""
    if pd.api.types.is_numeric_dtype(series):
        codes, uniques = pd.factorize(series)
        text = np.array([f"{u:.0f}" if float(u).is_integer() else repr(float(u)) for u in uniques], dtype=object)
        out = np.full(len(series), None, dtype=object)
        out[codes >= 0] = text[codes[codes >= 0]] if len(text) else None
        return pd.Series(out, index=series.index, dtype=object)
    return series.astype(object).where(series.notna(), None)


join_key = _key


def group_ids(*tables: pd.DataFrame) -> list[np.ndarray]:
    """One integer per distinct combination of the columns, the same across ``tables`` (same column names).

    A null is a value of its own (CORE groups and merges records whose key is null together). Codes come
    from pd.factorize, column by column, so no sentinel text stands for null: a sentinel can collide with
    data, and numpy's fixed-width text drops a trailing NUL, so "\\x00" silently became "". A column whose
    type differs between tables (2.0 against '2') is compared as join-key text.
    """
    sizes = [len(t) for t in tables]
    combined = np.zeros(sum(sizes), dtype=np.int64)
    columns = list(tables[0].columns)
    for column in columns:
        parts = [t[column] for t in tables]
        if len({str(p.dtype) for p in parts}) > 1:
            parts = [_key(p) for p in parts]
        values = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        codes = codes.astype(np.int64) + 1  # null -> 0
        combined = pd.factorize(combined * (len(uniques) + 1) + codes)[0].astype(np.int64)  # dense: no overflow
    return list(np.split(combined, np.cumsum(sizes)[:-1])) if len(tables) > 1 else [combined]

COLLECTIONS = (list, set, tuple, frozenset, dict)
PLAIN_KINDS = {"string", "empty", "integer", "floating", "mixed-integer-float", "boolean", "decimal", "bytes",
               "datetime", "date", "timedelta", "categorical"}


def factorized(frame: "EvalFrame", series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize of a text column, once per column of a run (kept with the array, so ids are not reused)."""
    array = series.array
    key = ("factorized", id(array))
    hit = frame.cache.get(key)
    if hit is not None and hit[0] is array:
        return hit[1], hit[2]
    codes, uniques = pd.factorize(series)
    uniques = np.asarray(uniques, dtype=object)
    frame.cache[key] = (array, codes, uniques)
    return codes, uniques


def text_column(series: pd.Series) -> bool:
    """A text column of the pandas string dtype (what the readers give), not an object column of lists."""
    return pd.api.types.is_string_dtype(series) and series.dtype != object


def has_collections(series: pd.Series) -> bool:
    """True when some value is a list or set (operation results); told by pandas' C-level type inference."""
    if series.dtype != object:
        return False
    if pd.api.types.infer_dtype(series, skipna=True) in PLAIN_KINDS:
        return False
    return any(isinstance(v, COLLECTIONS) for v in series.dropna())


def map_distinct(series: pd.Series, func, dtype=object, fill=None) -> np.ndarray:
    """``func`` of every distinct non-null value, spread back over the records (``fill`` where null).
    Values that are lists (not hashable) are mapped one by one; they only come from operation results."""
    if has_collections(series):
        return np.array([fill if v is None or (isinstance(v, float) and np.isnan(v)) else func(v)
                         for v in series.astype(object)], dtype=dtype)
    codes, uniques = pd.factorize(series)
    out = np.full(len(series), fill, dtype=dtype)
    if len(uniques):
        mapped = np.array([func(u) for u in uniques], dtype=dtype)
        out[codes >= 0] = mapped[codes[codes >= 0]]
    return out


@dataclass
class EvalFrame:
    df: pd.DataFrame  # positional index 0..n-1; column ROW holds record numbers
    prefix: str | None  # what '--' stands for (the domain without AP)
    domain: str | None  # the dataset's DOMAIN (used to name output variables, as CORE does)
    name: str  # dataset name, for messages
    values: dict = field(default_factory=dict)  # operation results: Const or GroupedSet by id
    cache: dict = field(default_factory=dict)  # null masks of columns, shared by the frames of one run

    @property
    def n(self) -> int:
        return len(self.df)

    def resolve(self, name) -> object:
        if isinstance(name, str) and name.startswith("--") and self.prefix:
            return self.prefix + name[2:]
        return name

    def has(self, name: str) -> bool:
        name = self.resolve(name)
        return name in self.df.columns or name in self.values

    def column(self, name: str) -> pd.Series:
        """A variable (or a per-record operation result) as a Series; constants broadcast."""
        name = self.resolve(name)
        if name in self.df.columns:
            return self.df[name]
        if name in self.values and isinstance(self.values[name], Const):
            value = self.values[name].value
            return pd.Series([value] * self.n, dtype=object)
        raise MissingVariable(name)

    def operand(self, value, literal: bool = False):
        """What a condition's ``value`` means: a column, a constant, a grouped set or a literal."""
        if literal or not isinstance(value, str):
            return Const(value)
        name = self.resolve(value)
        if name in self.df.columns:
            return self.df[name]
        if name in self.values:
            return self.values[name]
        return Const(name)
