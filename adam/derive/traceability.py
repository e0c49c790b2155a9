"""Traceability to SDTM (SRCDOM, SRCVAR, SRCSEQ) and record numbering (ASEQ)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .checks import assert_data_frame, assert_vars, resolve_where


def derive_vars_traceability(dataset: pd.DataFrame, srcdom: str, srcvar: str, seq_var: str | None = None,
                             where=None) -> pd.DataFrame:
    """SRCDOM/SRCVAR constants and SRCSEQ from ``seq_var`` (e.g. LB, LBSTRESN, LBSEQ) on the records
    meeting ``where``; a record derived from several rows keeps SRCSEQ null (see the method text)."""
    if seq_var:
        assert_data_frame(dataset, "seq_var", required_vars=[seq_var])
    mask = resolve_where(dataset, where)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for var, value in (("SRCDOM", srcdom), ("SRCVAR", srcvar)):
        current = out[var] if var in out.columns else pd.Series(pd.NA, index=out.index, dtype="string")
        out[var] = pd.Series(value, index=out.index, dtype="string").where(mask, current)
    current = out["SRCSEQ"] if "SRCSEQ" in out.columns else pd.Series(float("nan"), index=out.index)
    seq = pd.to_numeric(dataset[seq_var], errors="coerce") if seq_var else pd.Series(float("nan"), index=out.index)
    out["SRCSEQ"] = seq.where(mask, pd.to_numeric(current, errors="coerce")).astype("float64")
    return out


def derive_var_obs_number(dataset: pd.DataFrame, by_vars=("USUBJID",), order=(), new_var: str = "ASEQ") -> pd.DataFrame:
    """Number the records 1, 2, ... within ``by_vars`` by ``order`` (ASEQ); ties in ``order`` keep the
    input order. The records stay where they are (only the keys are sorted; a dataset's output order
    comes from its keys)."""
    by_vars, order = assert_vars(by_vars, "by_vars"), assert_vars(order, "order")
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset, "order", required_vars=order)
    from .baseline import _group_codes, _sort_keys

    sort_keys = [_sort_keys(dataset[v], True, na_first=False) for v in order]
    if any(k is None for k in sort_keys):  # e.g. an object column: the frame's own sort
        keys = list(dict.fromkeys(by_vars + order))
        ordered = dataset[keys].reset_index(drop=True).sort_values(by_vars + order, kind="stable", na_position="last")
        number = (ordered.groupby(by_vars, dropna=False, sort=False).cumcount() + 1).to_numpy(dtype="float64") \
            if by_vars else np.arange(1, len(ordered) + 1, dtype="float64")
        sequence = ordered.index.to_numpy()
    else:  # group codes and sort keys (np.lexsort, stable): the numbers run within each group
        group = _group_codes(dataset, by_vars)
        sequence = np.lexsort([k for pair in sort_keys for k in pair][::-1] + [group]) if len(dataset) \
            else np.empty(0, dtype=np.intp)
        grouped = group[sequence]
        start = np.ones(len(sequence), dtype=bool)
        start[1:] = grouped[1:] != grouped[:-1]
        first = np.maximum.accumulate(np.where(start, np.arange(len(sequence)), 0)) if len(sequence) else start
        number = (np.arange(len(sequence)) - first + 1).astype("float64")
    seq = np.empty(len(dataset), dtype="float64")
    seq[sequence] = number
    out = dataset.copy(deep=False)  # copy-on-write: the column set below is new
    out[new_var] = seq
    return out.reset_index(drop=True)
