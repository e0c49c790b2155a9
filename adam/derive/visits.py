"""Analysis visits from visit windows on a study day (AVISIT/AVISITN, AWTARGET/AWLO/AWHI).

A window is ``{avisit, avisitn, target, low, high}`` in study days, bounds included. Windows must
not overlap; a record outside every window gets null analysis-visit variables. Which record a
window keeps when it holds several is the job of ``derive_var_anl_flag`` (flags.py).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.errors import SpecError

from .checks import assert_data_frame, resolve_where
from .text import text_choice

_KEYS = ("avisit", "avisitn", "target", "low", "high")


def assert_windows(windows) -> list[dict]:
    """Check the window table: every key present, low <= target <= high, no overlaps."""
    problems = []
    if not isinstance(windows, list) or not windows:
        raise SpecError(["argument 'windows' must be a non-empty list of windows"])
    for i, w in enumerate(windows):
        missing = [k for k in _KEYS if not isinstance(w, dict) or k not in w]
        if missing:
            problems.append(f"argument 'windows'[{i}]: missing {', '.join(missing)}")
        elif not (w["low"] <= w["target"] <= w["high"]):
            problems.append(f"argument 'windows'[{i}] ({w['avisit']}): needs low <= target <= high, "
                            f"got {w['low']}, {w['target']}, {w['high']}")
    if problems:
        raise SpecError(problems)
    ordered = sorted(windows, key=lambda w: w["low"])
    for a, b in zip(ordered, ordered[1:]):
        if b["low"] <= a["high"]:
            problems.append(f"argument 'windows': {a['avisit']!r} [{a['low']}, {a['high']}] overlaps "
                            f"{b['avisit']!r} [{b['low']}, {b['high']}]")
    if problems:
        raise SpecError(problems)
    return windows


def derive_vars_visit_windows(dataset: pd.DataFrame, windows: list[dict], day_var: str = "ADY",
                              new_vars=("AVISIT", "AVISITN", "AWTARGET", "AWLO", "AWHI"),
                              where=None) -> pd.DataFrame:
    """Put each record (meeting ``where``) in the window holding its ``day_var``.

    ``new_vars`` names, in this order, the visit label, visit number, target, low and high bound
    variables; give fewer names to leave the rest out.
    """
    assert_windows(windows)
    assert_data_frame(dataset, "day_var", required_vars=[day_var])
    names = list(new_vars)
    if not 1 <= len(names) <= 5:
        raise SpecError(["argument 'new_vars': give 1 to 5 names (visit, number, target, low, high)"])
    day = pd.to_numeric(dataset[day_var], errors="coerce").to_numpy()
    chosen = np.full(len(dataset), -1)
    mask = resolve_where(dataset, where).to_numpy()
    for i, w in enumerate(windows):
        chosen[mask & (day >= w["low"]) & (day <= w["high"])] = i
    found = chosen >= 0
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    slot = np.where(found, chosen, len(windows))  # the last slot: no window
    for name, key in zip(names, _KEYS):  # each column taken from its few values, not built per record
        if key == "avisit":
            out[name] = text_choice([str(w[key]) for w in windows] + [None], slot, dataset.index)
        else:
            values = np.append(pd.to_numeric(pd.Series([w[key] for w in windows], dtype=object))
                               .to_numpy(dtype="float64"), np.nan)
            out[name] = pd.Series(values[slot], index=dataset.index)
    return out
