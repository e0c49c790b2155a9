"""Input checks shared by the derivations (admiral's ``assert_*``).

Every check names the argument, the dataset and the variable, so a wrong spec step or a missing
SDTM variable gives one clear message instead of a KeyError deep inside pandas.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from specs.errors import DataError, SpecError


def _names(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def assert_data_frame(dataset, arg: str = "dataset", dataset_name: str | None = None,
                      required_vars: Iterable[str] = ()) -> pd.DataFrame:
    """Check that ``dataset`` is a DataFrame holding ``required_vars``; return it."""
    if not isinstance(dataset, pd.DataFrame):
        raise SpecError([f"argument {arg!r} must be a data frame, not {type(dataset).__name__}"])
    label = dataset_name or name_of(dataset, arg)
    missing = [v for v in _names(required_vars) if v not in dataset.columns]
    if missing:
        raise DataError([f"{label}: variable {v!r} required by argument {arg!r} is missing" for v in missing])
    return dataset


def name_of(dataset: pd.DataFrame, default: str = "dataset") -> str:
    """The dataset's name for messages (the builder stores it in ``attrs['name']``)."""
    return str(dataset.attrs.get("name") or default)


def assert_vars(value, arg: str) -> list[str]:
    """Check a list of variable names (a single name is accepted) and return it as a list."""
    names = _names(value)
    bad = [n for n in names if not isinstance(n, str) or not n]
    if bad:
        raise SpecError([f"argument {arg!r}: {b!r} is not a variable name" for b in bad])
    return names


def assert_one_of(value, choices: Iterable, arg: str):
    choices = list(choices)
    if value not in choices:
        raise SpecError([f"argument {arg!r}: {value!r} is not one of {', '.join(map(repr, choices))}"])
    return value


def assert_unique_keys(dataset: pd.DataFrame, by_vars: list[str], arg: str) -> None:
    """Raise DataError when ``by_vars`` do not identify one record of ``dataset``."""
    if not by_vars:
        return
    dup = dataset.duplicated(by_vars, keep=False)
    if dup.any():
        first = dataset.loc[dup, by_vars].drop_duplicates().head(3)
        keys = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in first.to_dict("records"))
        raise DataError([f"{name_of(dataset)}: argument {arg!r} = {by_vars} does not identify one record "
                         f"({int(dup.sum())} records share a key, e.g. {keys})"])


def _condition(dataset: pd.DataFrame, where, arg: str):
    """``where`` parsed when it is condition text, its variables checked against ``dataset``."""
    if isinstance(where, str):
        from specs.conditions import parse_condition  # lazy: specs owns the grammar

        try:
            where = parse_condition(where)
        except Exception as exc:  # the grammar's own message, located here
            raise SpecError([f"argument {arg!r}: cannot parse condition {where!r}: {exc}"]) from None
    if hasattr(where, "evaluate"):
        cols = [c for c in getattr(where, "columns", ()) if c not in dataset.columns]
        if cols:
            raise DataError([f"{name_of(dataset)}: variable {c!r} used in argument {arg!r} is missing" for c in cols])
    return where


def resolve_where(dataset: pd.DataFrame, where, arg: str = "where") -> pd.Series:
    """A boolean mask for ``where``: None (all rows), a condition text of the spec grammar,
    a parsed condition (``.evaluate(df)``), a boolean Series or a callable ``df -> Series``."""
    if where is None:
        return pd.Series(True, index=dataset.index)
    where = _condition(dataset, where, arg)
    if hasattr(where, "evaluate"):
        mask = where.evaluate(dataset)
    elif callable(where):
        mask = where(dataset)
    else:
        mask = where
    mask = pd.Series(mask, index=dataset.index) if not isinstance(mask, pd.Series) else mask
    return mask.fillna(False).astype(bool)


def resolve_wheres(dataset: pd.DataFrame, wheres: list, args: list[str]) -> list[np.ndarray]:
    """The masks of several conditions on one dataset (a step's definitions), as ``resolve_where``
    gives them one by one: the distinct combinations of every variable they read are found once (one
    factorization of each variable over the records, not one per condition and variable), each
    condition is evaluated on those and spread back to the records."""
    parsed = [_condition(dataset, w, a) for w, a in zip(wheres, args)]
    # a condition that compares a column with literals is evaluated on the column itself (no distinct rows)
    masks = [p.on_columns(dataset) if hasattr(p, "on_columns") else None for p in parsed]
    rest = [i for i, mask in enumerate(masks) if mask is None]
    if len(rest) < 2 or not all(hasattr(parsed[i], "evaluate") and hasattr(parsed[i], "columns") for i in rest):
        for i in rest:
            masks[i] = resolve_where(dataset, parsed[i], args[i]).to_numpy()
        return masks
    from specs.conditions import distinct_codes  # lazy: specs owns the grammar

    columns = sorted(set().union(*(parsed[i].columns for i in rest)))
    if "__decimal" in dataset.columns and "__decimal" not in columns:  # read by every condition
        columns.append("__decimal")
    codes, distinct = distinct_codes(dataset, columns)
    distinct.attrs = dict(dataset.attrs)
    for i in rest:
        masks[i] = resolve_where(distinct, parsed[i], args[i]).to_numpy()[codes]
    return masks


def is_empty(series: pd.Series) -> pd.Series:
    """Missing or blank text: CDISC's notion of an empty value."""
    out = series.isna()
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        out = out | series.astype("string").str.strip().eq("").fillna(False)
    return out.astype(bool)
