"""Reference-range indicators: ANRIND from AVAL and its range, BNRIND from the baseline record."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .baseline import derive_var_base
from .checks import assert_data_frame
from .text import text_select


def derive_var_anrind(dataset: pd.DataFrame, new_var: str = "ANRIND", source_var: str = "AVAL",
                      low_var: str = "ANRLO", high_var: str = "ANRHI") -> pd.DataFrame:
    """LOW below the low limit, HIGH above the high limit, NORMAL otherwise; null when AVAL or
    both limits are missing (a missing limit is not checked)."""
    assert_data_frame(dataset, "source_var", required_vars=[source_var])
    assert_data_frame(dataset, "low_var", required_vars=[low_var])
    assert_data_frame(dataset, "high_var", required_vars=[high_var])
    aval = pd.to_numeric(dataset[source_var], errors="coerce")
    lo = pd.to_numeric(dataset[low_var], errors="coerce")
    hi = pd.to_numeric(dataset[high_var], errors="coerce")
    known = aval.notna() & (lo.notna() | hi.notna())
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = text_select([known & (aval < lo), known & (aval > hi), known], ["LOW", "HIGH", "NORMAL"],
                               None, dataset.index)
    return out


def derive_var_bnrind(dataset: pd.DataFrame, by_vars, new_var: str = "BNRIND", source_var: str = "ANRIND",
                      filter="ABLFL == 'Y'") -> pd.DataFrame:
    """BNRIND = ANRIND of the baseline record of the same subject, parameter and BASETYPE."""
    return derive_var_base(dataset, by_vars, source_var=source_var, new_var=new_var, filter=filter)
