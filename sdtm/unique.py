"""Compute on distinct values only: raw columns repeat the same few dates, units and results many
times, and text work in pandas is per element, so each distinct combination is computed once."""
from __future__ import annotations

import pandas as pd


def on_unique(func, *columns: pd.Series):
    """func(*distinct columns) -> Series or tuple of Series, spread back to the rows of the columns."""
    index = columns[0].index
    filled = [c.astype(object).where(c.notna(), None) for c in columns]
    keys = pd.MultiIndex.from_arrays(filled) if len(filled) > 1 else pd.Index(filled[0])
    codes, uniques = pd.factorize(keys, use_na_sentinel=False)
    if len(filled) > 1:
        parts = [pd.Series(uniques.get_level_values(i), dtype=object) for i in range(len(filled))]
    else:
        parts = [pd.Series(uniques, dtype=object)]
    result = func(*parts)

    def spread(values: pd.Series) -> pd.Series:
        out = values.reset_index(drop=True).take(codes)
        out.index = index
        return out

    return tuple(spread(r) for r in result) if isinstance(result, tuple) else spread(result)
