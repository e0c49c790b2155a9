"""Occurrence data (ADAE): the treatment-emergent flag, and supplemental qualifiers as variables."""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.errors import DataError, SpecError

from .checks import assert_data_frame, assert_vars, name_of
from .text import text_choice, text_select


def _dates(dataset: pd.DataFrame, var: str) -> np.ndarray:
    return pd.to_numeric(dataset[var], errors="coerce").to_numpy(dtype="float64")


def _intensity(dataset: pd.DataFrame, var: str, arg: str) -> np.ndarray:
    values = pd.to_numeric(dataset[var], errors="coerce")
    text = dataset[var].notna() & values.isna()
    if text.any():
        raise SpecError([f"argument {arg!r}: {var} must hold numbers that order the intensity (e.g. ASEVN), "
                         f"got {dataset.loc[text, var].head(3).tolist()}"])
    return values.to_numpy(dtype="float64")


def derive_var_trtemfl(dataset: pd.DataFrame, new_var: str = "TRTEMFL", start_date: str = "ASTDT",
                       end_date: str = "AENDT", trt_start_date: str = "TRTSDT", trt_end_date: str | None = None,
                       end_window: int | None = None, initial_intensity: str | None = None,
                       intensity: str | None = None) -> pd.DataFrame:
    """Treatment-emergent flag, admiral's ``derive_var_trtemfl``: the first case that applies decides.

    1. not treated (``trt_start_date`` null): null;
    2. the event ended before treatment started: null;
    3. no start date: Y (the conservative choice);
    4. started on or after the treatment start (and, with ``end_window``, on or before
       ``trt_end_date`` + ``end_window`` days; a null treatment end does not limit): Y;
    5. with ``initial_intensity``/``intensity`` (numbers): started before treatment and worsened
       (intensity > initial, or either unknown): Y;
    6. otherwise null.
    """
    assert_vars(new_var, "new_var")
    needed = [start_date, end_date, trt_start_date] + ([trt_end_date] if trt_end_date else [])
    assert_data_frame(dataset, "start_date", required_vars=needed)
    if end_window is not None:
        if not isinstance(end_window, int) or isinstance(end_window, bool) or end_window < 0:
            raise SpecError([f"argument 'end_window' must be a whole number of days >= 0, got {end_window!r}"])
        if not trt_end_date:
            raise SpecError(["argument 'end_window' needs 'trt_end_date'"])
    if (initial_intensity is None) != (intensity is None):
        raise SpecError(["arguments 'initial_intensity' and 'intensity' go together: give both or neither"])
    start, end, trt_start = _dates(dataset, start_date), _dates(dataset, end_date), _dates(dataset, trt_start_date)
    within = np.ones(len(dataset), dtype=bool)
    if end_window is not None:
        trt_end = _dates(dataset, trt_end_date)
        within = np.isnan(trt_end) | (start <= trt_end + end_window)
    with np.errstate(invalid="ignore"):
        new_event = (start >= trt_start) & within
        worsened = np.zeros(len(dataset), dtype=bool)
        if intensity is not None:
            assert_data_frame(dataset, "intensity", required_vars=[initial_intensity, intensity])
            before = _intensity(dataset, initial_intensity, "initial_intensity")
            now = _intensity(dataset, intensity, "intensity")
            worsened = (start < trt_start) & ((before < now) | np.isnan(before) | np.isnan(now))
        conditions = [np.isnan(trt_start), end < trt_start, np.isnan(start), new_event, worsened]
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = text_select(conditions, [None, None, "Y", "Y", "Y"], None, dataset.index)
    return out


def _as_text(values: pd.Series) -> pd.Series:
    """Parent values as SUPP-- IDVARVAL text: 1.0 -> "1" (once per distinct value)."""
    if not pd.api.types.is_numeric_dtype(values):
        return values.astype("string").str.strip()
    codes, uniques = pd.factorize(values)
    texts = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in uniques] + [None]
    return text_choice(texts, codes, values.index)


def derive_vars_supp(dataset: pd.DataFrame, dataset_add: pd.DataFrame, qnams=None,
                     by_vars=("STUDYID", "USUBJID")) -> pd.DataFrame:
    """Supplemental qualifiers as variables: each QNAM of ``dataset_add`` (a SUPP-- dataset, or only
    ``qnams``) becomes a variable holding QVAL, joined on ``by_vars`` and IDVAR/IDVARVAL (the parent
    record, e.g. AESEQ = 1). Two QVALs for one record and QNAM, or an IDVAR the parent lacks, raise
    DataError; a qualifier of a record not in ``dataset`` is left out (e.g. a screen failure's)."""
    by_vars = assert_vars(by_vars, "by_vars")
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset_add, "dataset_add", required_vars=by_vars + ["IDVAR", "IDVARVAL", "QNAM", "QVAL"])
    supp = dataset_add
    if qnams is not None:
        qnams = assert_vars(qnams, "qnams")
        supp = supp[supp["QNAM"].isin(qnams)]
    wanted = list(dict.fromkeys(qnams if qnams is not None else supp["QNAM"].dropna().tolist()))
    clash = [q for q in wanted if q in dataset.columns]
    if clash:
        raise SpecError([f"argument 'qnams': {q!r} is already a variable of {name_of(dataset)}" for q in clash])
    dup = supp.duplicated(by_vars + ["IDVAR", "IDVARVAL", "QNAM"], keep=False)
    if dup.any():
        ex = supp.loc[dup, by_vars + ["IDVAR", "IDVARVAL", "QNAM"]].head(2).to_dict("records")
        raise DataError([f"{name_of(dataset_add, 'dataset_add')}: {int(dup.sum())} records give one qualifier "
                         f"twice, e.g. {ex}"])
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for q in wanted:
        out[q] = pd.Series(pd.NA, index=out.index, dtype="string")
    for idvar, rows in supp.groupby(supp["IDVAR"].fillna(""), sort=True):  # one join per IDVAR (e.g. AESEQ)
        if idvar and idvar not in dataset.columns:
            raise DataError([f"{name_of(dataset_add, 'dataset_add')}: IDVAR {idvar!r} is not a variable of "
                             f"{name_of(dataset)}"])
        index = by_vars + (["IDVARVAL"] if idvar else [])
        wide = rows.pivot_table(index=index, columns="QNAM", values="QVAL", aggfunc="first").reset_index()
        left = out[by_vars].copy()
        keys = list(by_vars)
        if idvar:
            left["IDVARVAL"] = _as_text(dataset[idvar]).to_numpy()
            wide["IDVARVAL"] = wide["IDVARVAL"].astype("string").str.strip()
            keys.append("IDVARVAL")
        merged = left.merge(wide, on=keys, how="left", sort=False)
        for q in [c for c in wide.columns if c in wanted]:
            found = merged[q].notna().to_numpy()
            out.loc[found, q] = merged.loc[found, q].astype("string").to_numpy()
    return out
