"""Values as every rule holds and shows them: blank text is SAS's missing value and becomes NA when a dataset
is read, so every rule tests nulls one way; a value is shown as text without '.0' on a whole number."""
from __future__ import annotations

import numpy as np
import pandas as pd


def as_text(series: pd.Series) -> pd.Series:
    """Values as display text: whole numbers without '.0', missing as ''."""
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 1e15)
        text = np.where(whole, np.char.mod("%d", np.where(whole, values, 0).astype(np.int64)),
                        np.char.mod("%.10g", np.nan_to_num(values)))
        text = np.where(np.isnan(values), "", text)
        return pd.Series(text, index=series.index, dtype="object")
    return series.astype("object").where(series.notna(), "").astype(str)


def is_null(series: pd.Series) -> pd.Series:
    return series.isna()


def blank_to_na(df: pd.DataFrame, char_columns: list[str]) -> pd.DataFrame:
    """Blank text is SAS's missing value; make it NA so every rule tests nulls one way."""
    for col in char_columns:
        s = df[col].astype("str") if df[col].dtype == object else df[col]
        if len(s):
            s = _blank_as_null(s)
        df[col] = s
    return df


def _blank_as_null(s: pd.Series) -> pd.Series:
    """``s`` with text that is empty or only white space made null: pyarrow's kernels over the whole column
    when the text is pyarrow-backed (no Python string per value, a column without blanks not copied), else
    once per distinct value."""
    if isinstance(s.array, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        array = pa.array(s.array)
        blank = pc.or_(pc.equal(pc.binary_length(array), 0), pc.utf8_is_space(array))
        if not pc.any(blank).as_py():
            return s
        array = pc.if_else(blank, pa.scalar(None, array.type), array)
        return pd.Series(pd.arrays.ArrowStringArray(array, dtype=s.dtype), index=s.index, name=s.name, copy=False)
    codes, uniques = pd.factorize(s)
    flags = np.array([isinstance(u, str) and u.strip() == "" for u in uniques], dtype=bool)
    mask = np.zeros(len(s), dtype=bool)
    valid = codes >= 0
    mask[valid] = flags[codes[valid]]
    return s.mask(mask) if mask.any() else s
