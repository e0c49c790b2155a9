"""Compute on distinct values only: raw columns repeat the same few dates, units and results many
times, and text work in pandas is per element, so each distinct combination is computed once."""
from __future__ import annotations

import numpy as np
import pandas as pd


def distinct_rows(*columns: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row's combination, position of the first row of each combination)."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        size = max(len(uniques), 1)
        if span * size >= 2 ** 62:  # too many combinations to pack in one integer: refactorize first
            combined, _ = pd.factorize(combined)
            span = int(combined.max()) + 1 if len(combined) else 1
        combined = combined * size + codes
        span *= size
    row_codes, uniques = pd.factorize(combined)
    first = np.empty(len(uniques), dtype=np.int64)
    first[row_codes[::-1]] = np.arange(len(row_codes))[::-1]
    return row_codes, first


def on_unique(func, *columns: pd.Series):
    """func(*distinct columns) -> Series or tuple of Series, spread back to the rows of the columns."""
    index = columns[0].index
    row_codes, first = distinct_rows(*columns)
    parts = [column.iloc[first].reset_index(drop=True) for column in columns]
    result = func(*parts)

    def spread(values: pd.Series) -> pd.Series:
        out = values.reset_index(drop=True).take(row_codes)
        out.index = index
        return out

    return tuple(spread(r) for r in result) if isinstance(result, tuple) else spread(result)
