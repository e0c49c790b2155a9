"""Record-level flags: analysis flags (one record per window), condition flags, comparisons."""
from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from specs.errors import SpecError

from .baseline import _group_codes
from .checks import assert_data_frame, assert_one_of, assert_vars, resolve_where
from .text import text_where

# Variables that describe one source record and cannot be carried onto an averaged record.
_SINGLE_RECORD_VARS = ("AVALC", "ADT", "ADTM", "ADY", "SRCDOM", "SRCVAR", "SRCSEQ", "ASEQ", "ATM")


def derive_var_anl_flag(dataset: pd.DataFrame, by_vars, new_var: str = "ANL01FL", day_var: str = "ADY",
                        target_var: str = "AWTARGET", tie: str = "later", where=None,
                        analysis_var: str = "AVAL") -> pd.DataFrame:
    """Flag one record per window (``by_vars``, e.g. subject, parameter, AVISITN, ATPTN).

    Among the records meeting ``where`` that have a window (``target_var`` not null), the one
    closest to the target day wins; a tie at the same distance is resolved by ``tie``:
    ``"later"`` or ``"earlier"`` keeps that record, ``"mean"`` adds an averaged record
    (DTYPE "AVERAGE", AVAL = mean of the tied records) and flags it instead.
    """
    by_vars = assert_vars(by_vars, "by_vars")
    assert_one_of(tie, ("later", "earlier", "mean"), "tie")
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset, "day_var", required_vars=[day_var, target_var])
    day = pd.to_numeric(dataset[day_var], errors="coerce")
    target = pd.to_numeric(dataset[target_var], errors="coerce")
    eligible = resolve_where(dataset, where) & target.notna() & day.notna()
    work = pd.DataFrame({"dist": (day - target).abs(), "day": day}, index=dataset.index)[eligible]
    keys = dataset.loc[eligible, by_vars]
    group = pd.Series(_group_codes(keys, by_vars), index=keys.index)  # numbered in order of appearance
    best = work["dist"].groupby(group).transform("min")
    tied = work["dist"].eq(best)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    if tie == "mean":
        n_tied = tied.groupby(group).transform("sum")
        flag = pd.Series(pd.NA, index=dataset.index, dtype="string")
        single = tied & n_tied.eq(1)
        flag[single[single].index] = "Y"
        out[new_var] = flag
        multi = (tied & n_tied.gt(1))
        if multi.any():
            assert_data_frame(dataset, "analysis_var", required_vars=[analysis_var])
            rows = dataset.loc[multi[multi].index]
            g = group[multi[multi].index]
            mean = pd.to_numeric(rows[analysis_var], errors="coerce").groupby(g).transform("mean")
            averaged = rows.assign(**{analysis_var: mean})[~g.duplicated()].copy()
            for var in _SINGLE_RECORD_VARS:
                if var in averaged.columns and var != analysis_var:
                    averaged[var] = None
            averaged["DTYPE"] = "AVERAGE"
            averaged[new_var] = "Y"
            out = pd.concat([out, averaged], ignore_index=True)
            out.attrs = dict(dataset.attrs)
        return out
    # among each window's tied records, the latest (or earliest) day; equal days: the last record.
    # On the codes of the tied records (np.lexsort is stable), not a sort of a frame.
    rows = np.flatnonzero(eligible.to_numpy())[tied.to_numpy()]
    g = group.to_numpy()[tied.to_numpy()]
    days = work["day"].to_numpy(dtype="float64")[tied.to_numpy()]
    sequence = np.lexsort((days if tie == "later" else -days, g))
    last = np.ones(len(sequence), dtype=bool)
    last[:-1] = g[sequence][1:] != g[sequence][:-1]
    hit = np.zeros(len(dataset), dtype=bool)
    hit[rows[sequence[last]]] = True
    out[new_var] = text_where(hit, "Y", None, dataset.index)
    return out


def derive_var_cond_flag(dataset: pd.DataFrame, new_var: str, where, true_value: str = "Y",
                         false_value: str | None = "N") -> pd.DataFrame:
    """``new_var`` = ``true_value`` on records meeting ``where``, ``false_value`` elsewhere
    (population flags are never blank, so the default is Y/N)."""
    assert_vars(new_var, "new_var")
    mask = resolve_where(dataset, where)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    if isinstance(true_value, str) and (false_value is None or isinstance(false_value, str)):
        out[new_var] = text_where(mask.to_numpy(dtype=bool), true_value, false_value, dataset.index)
    else:  # a value that is not text: as np.where converts it
        out[new_var] = pd.Series(np.where(mask, true_value, false_value if false_value is not None else ""),
                                 index=dataset.index, dtype="string").replace("", pd.NA)
    return out


_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def derive_var_compare_flag(dataset: pd.DataFrame, new_var: str, left_var: str, op: str, right_var: str,
                            true_value: str = "Y", false_value: str | None = "N") -> pd.DataFrame:
    """Compare two variables of the same record, e.g. ``ADT <= TRTSDT``; a missing side is false."""
    if op not in _OPS:
        raise SpecError([f"argument 'op': {op!r} is not one of {', '.join(_OPS)}"])
    assert_data_frame(dataset, "left_var", required_vars=[left_var])
    assert_data_frame(dataset, "right_var", required_vars=[right_var])
    left, right = dataset[left_var], dataset[right_var]
    if pd.api.types.is_numeric_dtype(left) or pd.api.types.is_numeric_dtype(right):
        left, right = pd.to_numeric(left, errors="coerce"), pd.to_numeric(right, errors="coerce")
    known = left.notna() & right.notna()
    hit = pd.Series(False, index=dataset.index)
    hit[known] = _OPS[op](left[known], right[known]).astype(bool)
    return derive_var_cond_flag(dataset, new_var, hit, true_value, false_value)


def derive_var_crit_flag(dataset: pd.DataFrame, condition, description: str, crit_nr: int = 1,
                         where=None, analysis_var: str = "AVAL") -> pd.DataFrame:
    """CRITy (the text) and CRITyFL (Y/N) on the records meeting ``where`` (e.g. the IDAA1C
    parameter); the flag is null there when ``analysis_var`` is missing, and both are null elsewhere."""
    assert_data_frame(dataset, "analysis_var", required_vars=[analysis_var])
    applies = resolve_where(dataset, where)
    known = applies & dataset[analysis_var].notna()
    met = resolve_where(dataset, condition, "condition")
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    text = pd.Series(pd.NA, index=dataset.index, dtype="string")
    text[applies] = description
    flag = pd.Series(pd.NA, index=dataset.index, dtype="string")
    flag[known] = np.where(met[known], "Y", "N")
    out[f"CRIT{crit_nr}"], out[f"CRIT{crit_nr}FL"] = text, flag
    return out
