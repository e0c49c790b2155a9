"""Imputed analysis values flagged by DTYPE (ADaM CT C81224): results below the lower limit of
quantitation (LLOQ) get a number the analysis can use, and say so.

The record stays the record of its source (SRCDOM/SRCVAR/SRCSEQ and AVALC keep the reported "<0.02"),
so the imputation is visible and traceable: AVAL is the imputed value and DTYPE names the rule.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .checks import assert_data_frame, assert_one_of, resolve_where

_BELOW = r"^\s*<\s*=?\s*([0-9]*\.?[0-9]+)\s*$"
BLQ_RULES = {"half": (0.5, "HALFLLOQ"), "lloq": (1.0, "LLOQ")}


def stated_lloq(text: pd.Series) -> np.ndarray:
    """The ``x`` of each record whose text reads ``<x`` (or ``<=x``), NaN elsewhere: each distinct text
    is parsed once (a regular expression per record runs in Python, ~1 s per million records)."""
    codes, uniques = pd.factorize(text.astype("string"))
    parsed = pd.to_numeric(pd.Series(uniques, dtype="string").str.extract(_BELOW)[0], errors="coerce")
    return np.append(parsed.to_numpy(dtype="float64"), np.nan)[codes]


def derive_vars_blq(dataset: pd.DataFrame, rule: str = "half", new_var: str = "AVAL", text_var: str = "AVALC",
                    lloq_var: str | None = None, dtype_var: str = "DTYPE", where=None) -> pd.DataFrame:
    """Impute results below the LLOQ: a record meeting ``where`` whose ``new_var`` is null and whose
    ``text_var`` reads ``<x`` gets ``new_var`` = LLOQ/2 (``rule: half``, DTYPE HALFLLOQ) or LLOQ
    (``rule: lloq``, DTYPE LLOQ). The LLOQ is ``lloq_var`` where it has a value (e.g. LB.LBLLOQ),
    else the ``x`` of the text. Other records keep their value and DTYPE."""
    assert_one_of(rule, tuple(BLQ_RULES), "rule")
    assert_data_frame(dataset, "new_var", required_vars=[new_var])
    assert_data_frame(dataset, "text_var", required_vars=[text_var])
    if lloq_var:
        assert_data_frame(dataset, "lloq_var", required_vars=[lloq_var])
    value = pd.to_numeric(dataset[new_var], errors="coerce")
    stated = pd.Series(stated_lloq(dataset[text_var]), index=dataset.index)
    lloq = stated
    if lloq_var:
        given = pd.to_numeric(dataset[lloq_var], errors="coerce")
        lloq = given.where(given.notna(), stated)
    below = value.isna() & stated.notna() & lloq.notna() & resolve_where(dataset, where)
    factor, dtype = BLQ_RULES[rule]
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = value.where(~below, lloq * factor).astype("float64")
    current = out[dtype_var].astype("string") if dtype_var in out.columns else \
        pd.Series(pd.NA, index=out.index, dtype="string")
    out[dtype_var] = current.where(~below, dtype)
    return out
