"""Baseline: extreme flags, BASETYPE records, ABLFL per baseline definition, BASE, CHG and PCHG.

CHG and PCHG are left null on the baseline record and on records before it (same subject,
parameter and BASETYPE), and on records whose ordering date is missing: change from baseline is
only defined after baseline (ADaMIG leaves this to the producer; the method text says so).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.errors import SpecError

from .checks import assert_data_frame, assert_one_of, assert_vars, resolve_where, resolve_wheres
from .keys import take_runs
from .text import text_choice


def _order(order) -> tuple[list[str], list[bool]]:
    """``order`` items are variables, ascending, or ``desc(VAR)`` (admiral's ``desc()``)."""
    names, ascending = [], []
    for item in assert_vars(order, "order"):
        descending = item.startswith("desc(") and item.endswith(")")
        names.append(item[5:-1].strip() if descending else item)
        ascending.append(not descending)
    return assert_vars(names, "order"), ascending


def _sort_keys(column: pd.Series, ascending: bool, na_first: bool) -> list[np.ndarray] | None:
    """Keys sorting as ``sort_values`` sorts ``column``: missing or not (first or last whatever the
    direction), then the value; None for a column of mixed or other values (the caller sorts the
    frame then). Text is ranked once per distinct value, not sorted record by record."""
    if pd.api.types.is_bool_dtype(column) or not (pd.api.types.is_numeric_dtype(column)
                                                    or pd.api.types.is_string_dtype(column)):
        return None
    if pd.api.types.is_numeric_dtype(column):
        key = column.to_numpy(dtype="float64", na_value=np.nan)
    else:
        codes, _ = pd.factorize(column, sort=True)
        key = np.where(codes < 0, np.nan, codes.astype("float64"))
    missing = np.isnan(key)
    return [missing if not na_first else ~missing, np.where(missing, 0.0, key if ascending else -key)]


def _group_codes(frame: pd.DataFrame, by_vars: list[str]) -> np.ndarray:
    """One integer per distinct combination of ``by_vars`` (missing a value of its own)."""
    group = np.zeros(len(frame), dtype=np.int64)
    for v in by_vars:
        codes, uniques = pd.factorize(frame[v], use_na_sentinel=False)
        group, _ = pd.factorize(group * (len(uniques) + 1) + codes)
    return group


def _extreme_rows(dataset: pd.DataFrame, by_vars: list[str], order: list[str], ascending: list[bool],
                  mode: str, mask: np.ndarray) -> np.ndarray:
    """Positions of the first or last record by ``order`` within each ``by_vars`` group among the
    records of ``mask``; ties keep the input order, a missing ``order`` value comes first for
    ``last`` (chosen only alone) and last for ``first``. Group codes and numeric keys are sorted
    (np.lexsort is stable), not the frame."""
    rows = np.flatnonzero(mask)
    keys = dataset[list(dict.fromkeys(by_vars + order))]
    keys = keys if len(rows) == len(dataset) else keys.iloc[rows]
    sort_keys = [_sort_keys(keys[v], up, na_first=mode == "last") for v, up in zip(order, ascending)]
    if any(k is None for k in sort_keys):  # e.g. an object column: the frame's own sort
        ordered = keys.reset_index(drop=True).sort_values(
            by_vars + order, ascending=[True] * len(by_vars) + ascending, kind="stable",
            na_position="first" if mode == "last" else "last")
        chosen = ordered.drop_duplicates(by_vars, keep=mode).index.to_numpy() if by_vars else \
            ordered.index.to_numpy()[[0 if mode == "first" else -1]] if len(ordered) else ordered.index.to_numpy()
        return rows[np.sort(chosen)]
    sort_keys = [k for pair in sort_keys for k in pair]
    group = _group_codes(keys, by_vars)
    sequence = np.lexsort(sort_keys[::-1] + [group]) if len(rows) else np.empty(0, dtype=np.intp)
    grouped = group[sequence]
    edge = np.flatnonzero(np.diff(grouped)) + 1
    picks = np.concatenate([[0], edge]) if mode == "first" else np.concatenate([edge - 1, [len(grouped) - 1]])
    return np.sort(rows[sequence[picks]]) if len(rows) else rows


def _flag(n: int, chosen: np.ndarray, index, true_value: str, false_value: str | None) -> pd.Series:
    """A "string" flag: ``true_value`` at the ``chosen`` positions, ``false_value`` elsewhere (the
    column taken from its two values, not built record by record)."""
    hit = np.zeros(n, dtype=np.intp)
    hit[chosen] = 1
    values = pd.array([false_value, true_value], dtype="string").take(hit)
    return pd.Series(values, index=index, copy=False)


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
    chosen = _extreme_rows(dataset, by_vars, order, ascending, mode, mask)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = _flag(len(dataset), chosen, dataset.index, true_value, false_value)
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
    masks = resolve_wheres(dataset, [b.get("where") for b in basetypes],
                           [f"basetypes[{i}].where" for i in range(len(basetypes))])
    for b, mask in zip(basetypes, masks):
        parts.append(np.flatnonzero(mask))
        labels.append(b["basetype"])
        matched |= mask
    # the records meeting none first, then each definition's copies: one take of every column
    rest = np.flatnonzero(~matched)
    out = take_runs(dataset, np.concatenate([rest] + parts))
    which = np.repeat(np.arange(len(labels) + 1), [len(rest)] + [len(p) for p in parts])
    out[new_var] = text_choice([None] + [str(b) for b in labels], which, out.index)
    out.attrs = dict(dataset.attrs)
    return out


def _where_among(dataset: pd.DataFrame, where, arg: str, among: np.ndarray) -> np.ndarray:
    """``where`` & ``among``; a condition is evaluated on the records of ``among`` alone (with the
    variables it reads) when they are a minority (the records of one BASETYPE)."""
    if not isinstance(where, str) or among.all() or 2 * int(among.sum()) > len(among):
        return resolve_where(dataset, where, arg).to_numpy() & among
    from specs.conditions import parse_condition

    try:
        columns = [c for c in parse_condition(where).columns if c in dataset.columns]
    except Exception:  # resolve_where reports it
        return resolve_where(dataset, where, arg).to_numpy() & among
    rows = np.flatnonzero(among)
    subset = dataset[columns].iloc[rows] if columns else pd.DataFrame(index=dataset.index[rows])
    subset.attrs = dict(dataset.attrs)
    mask = np.zeros(len(dataset), dtype=bool)
    mask[rows] = resolve_where(subset, where, arg).to_numpy()
    return mask


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
    by_vars, (order, ascending) = assert_vars(by_vars, "by_vars"), _order(order)
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset, "order", required_vars=order)
    types = pd.factorize(dataset[basetype_var], use_na_sentinel=False) if has_type else None
    chosen = []
    for i, d in enumerate(definitions):
        if "basetype" in d and d["basetype"] is not None:
            if not has_type:
                raise SpecError([f"argument 'definitions'[{i}]: basetype {d['basetype']!r} given but "
                                 f"{basetype_var} is not a variable (run derive_basetype_records first)"])
            code = [j for j, u in enumerate(types[1]) if not pd.isna(u) and u == d["basetype"]]
        else:
            code = [j for j, u in enumerate(types[1]) if pd.isna(u)] if has_type else None
        of_type = np.isin(types[0], code) if code is not None else np.ones(len(dataset), dtype=bool)
        where = _where_among(dataset, d.get("where"), f"definitions[{i}].where", of_type)
        mode = assert_one_of(d.get("mode", "last"), ("first", "last"), "mode")
        chosen.append(_extreme_rows(dataset, by_vars, order, ascending, mode, where))
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = _flag(len(dataset), np.concatenate(chosen), dataset.index, "Y", None)
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
        mask = dataset["ABLFL"].eq("Y").fillna(False).to_numpy(dtype=bool)
    else:
        mask = resolve_where(dataset, filter, "filter").to_numpy()
    # the key and value columns of the baseline records only (not a copy of every variable)
    base = dataset[list(dict.fromkeys(by_vars + [source_var]))][mask]
    base = base.rename(columns={source_var: "__src"}) if source_var not in by_vars else \
        base.assign(__src=base[source_var])
    out = derive_vars_merged(dataset, base, by_vars, new_vars={new_var: "__src"})
    return out


def _after_baseline(dataset: pd.DataFrame, by_vars: list[str], order: list[str], flag_var: str) -> pd.Series:
    """True on records strictly after their group's baseline record by ``order``: each record's
    rank by ``order`` within its ``by_vars`` group (missing last) against the baseline's, on group
    codes and sort keys (np.lexsort) rather than a groupby over the text keys."""
    is_base = dataset[flag_var].eq("Y").fillna(False).to_numpy(dtype=bool)
    has_order = dataset[order].notna().all(axis=1).to_numpy()
    sort_keys = [_sort_keys(dataset[v], True, na_first=False) for v in order]
    if any(k is None for k in sort_keys):  # e.g. an object column: ranks from pandas' groupby
        keyed = dataset[by_vars + order].copy()
        rank = keyed.groupby(by_vars + order, dropna=False, sort=True).ngroup()
        group = keyed.groupby(by_vars, dropna=False, sort=False).ngroup()
        base_rank = rank.where(pd.Series(is_base, index=dataset.index)).groupby(group).transform("max")
        return (rank > base_rank).fillna(False) & has_order & ~is_base
    group = _group_codes(dataset, by_vars)
    keys = [group] + [k for pair in sort_keys for k in pair]
    sequence = np.lexsort(keys[:0:-1] + [group])
    change = np.ones(len(dataset), dtype=bool)  # a new (group, order) value starts here
    if len(dataset):
        change[1:] = False
        for k in keys:
            ordered = k[sequence]
            change[1:] |= ordered[1:] != ordered[:-1]
    rank = np.empty(len(dataset), dtype=np.int64)
    rank[sequence] = np.cumsum(change)
    base_rank = np.full(int(group.max(initial=-1)) + 1, -1, dtype=np.int64)
    np.maximum.at(base_rank, group[is_base], rank[is_base])
    post = (rank > base_rank[group]) & (base_rank[group] >= 0) & has_order & ~is_base
    return pd.Series(post, index=dataset.index)


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
