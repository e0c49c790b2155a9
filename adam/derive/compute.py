"""Row-wise computed variables: ratios such as compliance, and BMI."""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.errors import SpecError

from .checks import assert_data_frame


def _operand(dataset: pd.DataFrame, x, arg: str):
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    if not isinstance(x, str):
        raise SpecError([f"argument {arg!r}: {x!r} is neither a variable nor a number"])
    assert_data_frame(dataset, arg, required_vars=[x])
    return pd.to_numeric(dataset[x], errors="coerce")


def derive_var_ratio(dataset: pd.DataFrame, new_var: str, numerator, denominator, scale: float = 1.0,
                     digits: int | None = None) -> pd.DataFrame:
    """``new_var`` = scale x numerator / denominator (variables or numbers); null when the
    denominator is 0 or missing. Compliance: doses taken / doses planned x 100."""
    num, den = _operand(dataset, numerator, "numerator"), _operand(dataset, denominator, "denominator")
    den = den.replace(0, np.nan) if isinstance(den, pd.Series) else (np.nan if den == 0 else den)
    value = pd.Series(float(scale) * num / den, index=dataset.index).astype("float64")
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = value.round(digits) if digits is not None else value
    return out


def compute_bmi(weight, height):
    """BMI (kg/m2) from weight in kg and height in cm."""
    return weight / (height / 100.0) ** 2


def derive_var_bmi(dataset: pd.DataFrame, new_var: str = "BMIBL", weight_var: str = "WEIGHTBL",
                   height_var: str = "HEIGHTBL", digits: int | None = 1) -> pd.DataFrame:
    """``new_var`` = weight (kg) / (height (m))^2."""
    w, h = _operand(dataset, weight_var, "weight_var"), _operand(dataset, height_var, "height_var")
    value = compute_bmi(w, h.replace(0, np.nan)).astype("float64")
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = value.round(digits) if digits is not None else value
    return out
