"""Arms from what was collected, by the design's explicit arm labels (``design.arms[].match.<key>``:
a label, a ``{regex}`` or a ``{glob}``, case and spaces ignored), never by a naming rule such as a shared
prefix: ARMCD/ARM from a collected arm text (``derive_armcd``/``derive_arm`` with ``match``) and the
actual arm (ACTARMCD, ACTARM, ARMNRS, ACTARMUD) from the collected actual treatment (``derive_actarmcd``
and its companions with ``source``). A text matching no arm, or two, is a located problem.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm.unique import text_of

from specs.visit_match import patterns

ACTUAL_COLUMNS = ("ACTARMCD", "ACTARM", "ARMNRS", "ACTARMUD")


def match_arms(values: pd.Series, arms: list[dict], key: str) -> tuple[pd.Series, pd.Series]:
    """(ARMCD, problem) of each collected text, worked out per distinct text; '' for an empty one."""
    table = [(arm, patterns(arm["match"][key])) for arm in arms if key in (arm.get("match") or {})]
    shown = "; ".join(f"{arm['armcd']}: " + " | ".join(p.shown for p in items) for arm, items in table)
    found = {}
    texts = text_of(values)
    for text in pd.unique(texts):
        if text.strip() == "":
            found[text] = ("", "")
            continue
        hits = [arm["armcd"] for arm, items in table if any(p.match(text) for p in items)]
        if len(hits) == 1:
            found[text] = (hits[0], "")
        elif hits:
            found[text] = ("", f"matches more than one arm of design.arms ({', '.join(hits)})")
        else:
            found[text] = ("", f"is not an arm of design.arms (match.{key}: {shown or 'none'})")
    armcd = texts.map({t: v[0] for t, v in found.items()}).astype(object)
    problem = texts.map({t: v[1] for t, v in found.items()}).astype(object)
    return armcd, problem


def actual_arm_collected(dm: pd.DataFrame, collected: pd.Series, arms: list[dict], key: str
                         ) -> tuple[pd.DataFrame, pd.Series]:
    """ACTARMCD, ACTARM, ARMNRS, ACTARMUD from the collected actual treatment of each subject, and the
    problem of each record ('' when placed).

    A randomized subject (ARMCD) whose treatment names an arm gets it; one with no treatment collected
    was not treated (ASSIGNED, NOT TREATED; never randomized: SCREEN FAILURE); one treated without being
    randomized has no actual arm: UNPLANNED TREATMENT, the collected text in ACTARMUD.
    """
    armcd, problem = match_arms(collected, arms, key)
    planned = text_of(dm["ARMCD"])
    text = text_of(collected).str.strip()
    treated = text != ""
    actual = armcd.where(planned != "", "")
    names = {a["armcd"]: a["arm"] for a in arms}
    unplanned = treated & (planned == "") & (problem == "")
    result = pd.DataFrame(index=dm.index)
    result["ACTARMCD"] = actual
    result["ACTARM"] = actual.map(names).fillna("")
    result["ARMNRS"] = np.select([(planned == "") & ~treated, (planned != "") & ~treated, unplanned],
                                 ["SCREEN FAILURE", "ASSIGNED, NOT TREATED", "UNPLANNED TREATMENT"], default="")
    result["ACTARMUD"] = text.where(unplanned, "")
    return result.astype(object), problem
