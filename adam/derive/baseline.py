"""Baseline: extreme flags, BASETYPE records, ABLFL per baseline definition, BASE, CHG and PCHG.

CHG and PCHG are left null on the baseline record and on records before it (same subject,
parameter and BASETYPE), and on records whose ordering date is missing: change from baseline is
only defined after baseline (ADaMIG leaves this to the producer; the method text says so).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.errors import SpecError

from .checks import assert_data_frame, assert_one_of, assert_vars, resolve_where


def _order(order) -> tuple[list[str], list[bool]]:
    """``order`` items are variables, ascending, or ``desc(VAR)`` (admiral's ``desc()``)."""
    names, ascending = [], []
    for item in assert_vars(order, "order"):
        descending = item.startswith("desc(") and item.endswith(")")
        names.append(item[5:-1].strip() if descending else item)
        ascending.append(not descending)
    return assert_vars(names, "order"), ascending


def derive_var_extreme_flag(dataset: pd.DataFrame, by_vars, order, new_var: str, mode: str = "last",
                            where=None, true_value: str = "Y", false_value: str | None = None) -> pd.DataFrame:
    """Flag the first or last record (``mode``) by ``order`` within ``by_vars`` among those meeting
    ``where``; other records get ``false_value``. ``order`` items may be ``desc(VAR)`` (e.g. the most
    severe first: ``[desc(ASEVN), ASTDT]``). Ties in ``order`` keep the input order; a record missing an
    ``order`` value is chosen only when no other is there."""
    by_vars, (order, ascending) = assert_vars(by_vars, "by_vars"), _order(order)
    assert_one_of(mode, ("first", "last"), "mode")
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset, "order", required_vars=order)
    mask = resolve_where(dataset, where).to_numpy()
    # only the sort keys are sorted: the chosen records' labels are all that is needed
    keys = dataset[list(dict.fromkeys(by_vars + order))]
    candidates = (keys if mask.all() else keys[mask]).sort_values(
        by_vars + order, ascending=[True] * len(by_vars) + ascending, kind="stable",
        na_position="first" if mode == "last" else "last")
    chosen = candidates.drop_duplicates(by_vars, keep=mode).index if by_vars else \
        candidates.index[[0 if mode == "first" else -1]] if len(candidates) else candidates.index
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    flag = pd.Series(false_value, index=dataset.index, dtype="string")
    flag[chosen] = true_value
    out[new_var] = flag
    return out


def derive_basetype_records(dataset: pd.DataFrame, basetypes: list[dict],
                            new_var: str = "BASETYPE") -> pd.DataFrame:
    """Copy the records once per baseline definition: ``basetypes`` is a list of
    ``{basetype, where}``; a record meeting a definition's ``where`` is copied with BASETYPE set.
    Records meeting none are kept once with BASETYPE null."""
    if not isinstance(basetypes, list) or not basetypes:
        raise SpecError(["argument 'basetypes' must be a non-empty list of {basetype, where}"])
    parts, labels, matched = [], [], np.zeros(len(dataset), dtype=bool)
    for i, b in enumerate(basetypes):
        if "basetype" not in b:
            raise SpecError([f"argument 'basetypes'[{i}]: needs 'basetype'"])
        mask = resolve_where(dataset, b.get("where"), f"basetypes[{i}].where").to_numpy()
        parts.append(np.flatnonzero(mask))
        labels.append(b["basetype"])
        matched |= mask
    # the records meeting none first, then each definition's copies: one take of every column
    rest = np.flatnonzero(~matched)
    out = dataset.take(np.concatenate([rest] + parts)).reset_index(drop=True)
    value = np.repeat(np.array([None] + labels, dtype=object), [len(rest)] + [len(p) for p in parts])
    out[new_var] = pd.Series(value, index=out.index, dtype="string")
    out.attrs = dict(dataset.attrs)
    return out


def derive_var_ablfl(dataset: pd.DataFrame, by_vars, order, definitions: list[dict], new_var: str = "ABLFL",
                     basetype_var: str = "BASETYPE") -> pd.DataFrame:
    """ABLFL from the study's baseline definitions, one per BASETYPE.

    Each definition is ``{basetype, where, mode}``: among the records of that BASETYPE (omit
    ``basetype`` for records without one) meeting ``where``, the last (or first) by ``order`` within
    ``by_vars`` is the baseline. E.g. "last non-missing value on or before the first dose" is
    ``where: PRETRTFL == "Y" and AVAL is not empty``, ``mode: last``.
    """
    if not isinstance(definitions, list) or not definitions:
        raise SpecError(["argument 'definitions' must be a non-empty list of {basetype, where, mode}"])
    has_type = basetype_var in dataset.columns
    flag = pd.Series(pd.NA, index=dataset.index, dtype="string")
    for i, d in enumerate(definitions):
        if "basetype" in d and d["basetype"] is not None:
            if not has_type:
                raise SpecError([f"argument 'definitions'[{i}]: basetype {d['basetype']!r} given but "
                                 f"{basetype_var} is not a variable (run derive_basetype_records first)"])
            of_type = dataset[basetype_var].eq(d["basetype"]).fillna(False)
        else:
            of_type = dataset[basetype_var].isna() if has_type else pd.Series(True, index=dataset.index)
        where = resolve_where(dataset, d.get("where"), f"definitions[{i}].where") & of_type
        flagged = derive_var_extreme_flag(dataset, by_vars, order, "__fl", d.get("mode", "last"), where)
        flag[flagged["__fl"].eq("Y").fillna(False)] = "Y"
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = flag
    return out


def derive_var_base(dataset: pd.DataFrame, by_vars, source_var: str = "AVAL", new_var: str = "BASE",
                    filter="ABLFL == 'Y'") -> pd.DataFrame:
    """``new_var`` = ``source_var`` of the baseline record (``filter``) of the same ``by_vars``
    (e.g. USUBJID, PARAMCD, BASETYPE). Two baseline records for one key raise DataError."""
    from .merged import derive_vars_merged

    by_vars = assert_vars(by_vars, "by_vars")
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset, "source_var", required_vars=[source_var])
    if isinstance(filter, str) and filter.replace('"', "'") == "ABLFL == 'Y'":
        assert_data_frame(dataset, "filter", required_vars=["ABLFL"])
        base = dataset[dataset["ABLFL"].eq("Y").fillna(False)]
    else:
        base = dataset[resolve_where(dataset, filter, "filter")]
    base = base[by_vars + [source_var]].rename(columns={source_var: "__src"})
    out = derive_vars_merged(dataset, base, by_vars, new_vars={new_var: "__src"})
    return out


def _after_baseline(dataset: pd.DataFrame, by_vars: list[str], order: list[str], flag_var: str) -> pd.Series:
    """True on records strictly after their group's baseline record by ``order``."""
    keyed = dataset[by_vars + order].copy()
    rank = keyed.groupby(by_vars + order, dropna=False, sort=True).ngroup()
    is_base = dataset[flag_var].eq("Y").fillna(False)
    group = keyed.groupby(by_vars, dropna=False, sort=False).ngroup()
    base_rank = rank.where(is_base).groupby(group).transform("max")
    has_order = dataset[order].notna().all(axis=1)
    return (rank > base_rank).fillna(False) & has_order & ~is_base


def derive_var_chg(dataset: pd.DataFrame, by_vars=("USUBJID", "PARAMCD", "BASETYPE"), order=("ADT",),
                   new_var: str = "CHG", analysis_var: str = "AVAL", base_var: str = "BASE",
                   flag_var: str = "ABLFL", digits: int | None = None) -> pd.DataFrame:
    """CHG = AVAL - BASE on post-baseline records; null on the baseline record and before it;
    rounded to ``digits`` decimals when given."""
    by_vars, order = assert_vars(by_vars, "by_vars"), assert_vars(order, "order")
    by_vars = [v for v in by_vars if v in dataset.columns or v != "BASETYPE"]
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset, "order", required_vars=order + [analysis_var, base_var, flag_var])
    post = _after_baseline(dataset, by_vars, order, flag_var)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    chg = pd.to_numeric(dataset[analysis_var], errors="coerce") - pd.to_numeric(dataset[base_var], errors="coerce")
    chg = chg.where(post, np.nan).astype("float64")
    out[new_var] = chg.round(digits) if digits is not None else chg
    return out


def derive_var_pchg(dataset: pd.DataFrame, by_vars=("USUBJID", "PARAMCD", "BASETYPE"), order=("ADT",),
                    new_var: str = "PCHG", analysis_var: str = "AVAL", base_var: str = "BASE",
                    flag_var: str = "ABLFL", digits: int | None = None) -> pd.DataFrame:
    """PCHG = 100 x (AVAL - BASE) / BASE on post-baseline records; null there too when BASE is 0;
    rounded to ``digits`` decimals when given (50.0 rather than 49.99999999999999)."""
    out = derive_var_chg(dataset, by_vars, order, "__chg", analysis_var, base_var, flag_var)
    base = pd.to_numeric(dataset[base_var], errors="coerce").replace(0, np.nan)
    pchg = (100 * out["__chg"] / base).astype("float64")
    out[new_var] = pchg.round(digits) if digits is not None else pchg
    return out.drop(columns="__chg")
