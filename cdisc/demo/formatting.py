"""Vectorized text formatting for the demo raw export: each distinct value is formatted once."""
from __future__ import annotations

import numpy as np

_HHMM = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)], dtype=object)


def _each_distinct(values: np.ndarray, fmt) -> np.ndarray:
    uniques, inverse = np.unique(values, return_inverse=True)
    return np.array([fmt(u) for u in uniques.tolist()] + [""], dtype=object)[inverse.reshape(-1)]


def ddmmyyyy(dates) -> np.ndarray:
    """DD/MM/YYYY as captured in the EDC."""
    days = np.asarray(dates, dtype="datetime64[D]")
    return _each_distinct(days, lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}")


def iso_date(dates) -> np.ndarray:
    days = np.asarray(dates, dtype="datetime64[D]")
    return _each_distinct(days, lambda d: d.isoformat())


def hhmm(minutes) -> np.ndarray:
    return _HHMM[np.asarray(minutes, dtype=int) % (24 * 60)]


def decimals(values, places: int) -> np.ndarray:
    rounded = np.round(np.asarray(values, dtype=float), places) + 0.0   # + 0.0 turns -0.0 into 0.0
    return _each_distinct(rounded, lambda v: f"{v:.{places}f}")


def integers(values) -> np.ndarray:
    return _each_distinct(np.rint(np.asarray(values, dtype=float)).astype(int), str)
