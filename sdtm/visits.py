"""Collected visit labels placed in the schedule (study.yaml ``design.visits``) or numbered by the study's
rule for unscheduled visits (``design.unscheduled``).

A visit's ``match.<key>`` gives, for each way a source names visits (EDC folder, vendor label), the label
as text, a ``{regex: ...}`` or a ``{glob: ...}``, or a list of these. Labels compare case- and
space-insensitively ('week  2' is 'WEEK 2'); a regex or glob must match the whole label. A label the
schedule does not place is an unscheduled visit when it matches the rule, numbered from the number in
the label ('Unscheduled 4.1' -> VISITNUM 4.1, ``number: label``) or after the last scheduled visit
(``number: after_last``: the last VISITNUM plus the label's number times ``step``). A label matching no
visit, or two visits of the schedule, is a located error; nothing is guessed.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sdtm.unique import factorize, text_of

from specs.visit_match import patterns

NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _label_number(found: re.Match, label: str) -> float | None:
    """The number of an unscheduled visit: the regex's group 'number', else the first number in the label."""
    if found is not None and "number" in found.re.groupindex and found.group("number"):
        text = found.group("number")
    else:
        first = NUMBER.search(label)
        text = first.group(0) if first else None
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _number_text(number: float) -> str:
    return f"{number:g}"


def place_visits(labels: pd.Series, visits: list[dict], unscheduled: dict | None, key: str) -> pd.DataFrame:
    """VISITNUM, VISIT, VISITDY and problem ('' when placed) of each label, worked out per distinct label."""
    schedule = [(visit, patterns(visit["match"][key])) for visit in visits if key in visit.get("match", {})]
    rule = unscheduled if unscheduled and key in unscheduled.get("match", {}) else None
    rule_patterns = patterns(rule["match"][key]) if rule else []
    last = max((float(v["visitnum"]) for v in visits), default=0.0)
    rows = {}
    text = text_of(labels)
    codes, distinct = factorize(text)  # (text: no missing value)
    for label in np.asarray(distinct, dtype=object):
        if label.strip() == "":
            rows[label] = (np.nan, "", np.nan, "")
            continue
        hits = [visit for visit, items in schedule if any(p.match(label) for p in items)]
        if len(hits) == 1:
            visit = hits[0]
            rows[label] = (float(visit["visitnum"]), visit["visit"], visit.get("visitdy", np.nan), "")
            continue
        if len(hits) > 1:
            rows[label] = (np.nan, "", np.nan, "matches more than one visit of the schedule (design.visits: " +
                           ", ".join(f"{v['visit']}" for v in hits) + ")")
            continue
        found = next((m for p in rule_patterns if (m := p.match(label))), None)
        if found is None:
            shown = [p.shown for _, items in schedule for p in items]
            unsched = f"; design.unscheduled match.{key}: {', '.join(p.shown for p in rule_patterns)}" if rule else ""
            rows[label] = (np.nan, "", np.nan, f"is not a visit of the schedule (design.visits match.{key}: "
                                               f"{', '.join(shown)}{unsched})")
            continue
        number = _label_number(found, label)
        if number is None:
            rows[label] = (np.nan, "", np.nan, "is an unscheduled visit with no number in its label to number it "
                                               "by (design.unscheduled)")
            continue
        visitnum = number if rule.get("number", "label") == "label" else \
            round(last + number * float(rule.get("step", 1)), 10)
        name = f"{rule.get('visit', 'UNSCHEDULED')} {_number_text(number)}"
        rows[label] = (visitnum, name, np.nan, "")
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["visitnum", "visit", "visitdy", "problem"])
    placed = table.iloc[codes]  # each label's row (the table's rows are the distinct labels in order)
    placed.index = labels.index
    return placed
