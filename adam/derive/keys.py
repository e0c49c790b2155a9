"""Matching records by key without copying them: the row of one frame that each row of another matches.

A left join through ``DataFrame.merge`` copies every column of the left frame (ADLB: 1.5 M records x
60 variables at 10,000 subjects) to add two; here the keys are factorized once, the right frame's
distinct keys placed among the left frame's, and only the added columns are taken.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes of one key column in a space shared by both sides: equal values, equal codes; a missing
    value is its own code (it matches a missing value, as pandas merges do); a right value absent from
    the left gets -1. Returns (left codes, right codes, number of codes)."""
    lcodes, luniques = pd.factorize(left)
    rcodes, runiques = pd.factorize(right)
    null = len(luniques)
    placed = pd.Index(luniques).get_indexer(runiques) if len(runiques) else np.empty(0, dtype=np.intp)
    lcodes = np.where(lcodes < 0, null, lcodes)
    rcodes = np.where(rcodes < 0, null, placed[rcodes] if len(placed) else rcodes)
    return lcodes.astype(np.int64), rcodes.astype(np.int64), null + 1


def key_codes(left: pd.DataFrame, right: pd.DataFrame, left_on: list[str],
              right_on: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One integer per key in a space shared by both frames (equal keys, equal codes; missing equals
    missing): (left codes, right codes, which right rows have a key the left frame holds)."""
    n_left = len(left)
    combined = np.zeros(n_left + len(right), dtype=np.int64)
    valid = np.ones(len(right), dtype=bool)
    for lk, rk in zip(left_on, right_on):
        lcodes, rcodes, size = _codes(left[lk], right[rk])
        valid &= rcodes >= 0
        codes = np.concatenate([lcodes, np.where(rcodes < 0, 0, rcodes)])
        combined, _ = pd.factorize(combined * size + codes)  # kept small: no overflow however many keys
    return combined[:n_left], combined[n_left:], valid


def match_rows(left: pd.DataFrame, right: pd.DataFrame, left_on: list[str], right_on: list[str]) -> np.ndarray:
    """For each row of ``left``, the position of the ``right`` row with the same key (``left_on``
    values equal to ``right_on`` values, missing equal to missing), or -1. ``right`` must have one row
    per key (ValueError otherwise): a left join that keeps ``left``'s rows and order."""
    n_left = len(left)
    lkey, rkey, valid = key_codes(left, right, left_on, right_on)
    rows = np.flatnonzero(valid)
    if len(np.unique(rkey[rows])) < len(rows):
        raise ValueError(f"the keys {right_on} repeat in the added dataset (one record per key is needed)")
    size = int(max(lkey.max(initial=-1), rkey.max(initial=-1))) + 1
    position = np.full(size, -1, dtype=np.int64)
    position[rkey[rows]] = rows
    return position[lkey] if n_left else np.empty(0, dtype=np.int64)


def take_rows(column: pd.Series, positions: np.ndarray, index) -> pd.Series:
    """``column``'s values at ``positions`` (-1: missing), as a left merge gives them (integers become
    float64 and booleans object when a row has no match; every other dtype is kept)."""
    values = pd.api.extensions.take(column.array, positions, allow_fill=True)
    return pd.Series(values, index=index, name=column.name, copy=False)


def take_runs(frame: pd.DataFrame, positions: np.ndarray, most: int = 32) -> pd.DataFrame:
    """``frame``'s rows at ``positions`` with a new RangeIndex. When the positions are a few runs of
    consecutive rows (ADLB's records without a BASETYPE, then the Tregs records once per BASETYPE),
    the runs are sliced and stacked: pyarrow text is not copied, only numbers are; otherwise a take."""
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1 if len(positions) else np.empty(0, dtype=np.intp)
    if len(breaks) >= most or len(positions) < 50_000:  # a small frame: one take costs less than a concat
        return frame.take(positions).reset_index(drop=True)
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(positions)]])
    pieces = [frame.iloc[positions[a]:positions[a] + (b - a)] for a, b in zip(starts, ends) if b > a]
    out = pd.concat(pieces, ignore_index=True) if pieces else frame.iloc[:0].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out
