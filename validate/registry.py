"""Conformance rules as registered functions, and the runner that gathers their findings.

A rule is ``(context) -> DataFrame`` of failing records: columns dataset, variable, row (1-based record
number, missing for dataset-level findings), value, and optionally key, message and any extra column
its message template names. Zero rows means pass. ``fail()`` builds that frame from a boolean mask.
"""
from __future__ import annotations

import string
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from validate.package import Package, as_text

SEVERITIES = ("Error", "Warning", "Notice")
SCOPES = ("SDTM", "ADaM", "define", "any")
FINDING_COLUMNS = ["rule", "severity", "standard", "core_id", "fda_id", "dataset", "variable", "row", "key",
                   "value", "message"]
RULE_COLUMNS = ["dataset", "variable", "row", "key", "value"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    standard: str
    message: str
    core_id: str | None
    fda_id: str | None
    scope: str
    func: Callable
    description: str = ""


RULES: dict[str, Rule] = {}


def rule(id: str, severity: str, standard: str, message: str, core_id: str | None = None,
         fda_id: str | None = None, scope: str = "SDTM"):
    """Register a rule function under ``id``."""
    if severity not in SEVERITIES:
        raise ValueError(f"rule {id}: severity {severity!r} is not one of {SEVERITIES}")
    if scope not in SCOPES:
        raise ValueError(f"rule {id}: scope {scope!r} is not one of {SCOPES}")

    def register(func: Callable) -> Callable:
        if id in RULES and RULES[id].func.__qualname__ != func.__qualname__:
            raise ValueError(f"rule id {id} registered twice ({RULES[id].func.__name__}, {func.__name__})")
        doc = (func.__doc__ or "").strip().splitlines()
        RULES[id] = Rule(id, severity, standard, message, core_id, fda_id, scope, func, doc[0] if doc else "")
        return func

    return register


@dataclass
class Context:
    """What a rule sees: the package, the terminology (may be None), and cached lookups."""

    package: Package
    ct: object = None
    cache: dict = field(default_factory=dict)


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in RULE_COLUMNS})


def fail(package: Package, dataset: str, mask, variable: str, values: pd.Series | None = None,
         **extra) -> pd.DataFrame:
    """Failing records of ``dataset`` where ``mask`` is true, with keys and the offending values.

    ``values`` defaults to the column ``variable``; ``extra`` adds columns (scalars or series aligned on
    the dataset) that a message template can name.
    """
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return empty()
    df = package.datasets[dataset]
    if values is None:
        values = df[variable] if variable in df.columns else pd.Series([""] * len(df))
    out = pd.DataFrame({
        "dataset": dataset, "variable": variable, "row": rows + 1,
        "key": package.record_keys(dataset, rows).to_numpy(),
        "value": as_text(values.iloc[rows]).to_numpy(),
    })
    for name, extra_values in extra.items():
        out[name] = as_text(extra_values.iloc[rows]).to_numpy() if isinstance(extra_values, pd.Series) else extra_values
    return out


def dataset_finding(dataset: str, variable: str, value: str = "", **extra) -> pd.DataFrame:
    """One dataset-level finding (no record): a missing variable, a label too long."""
    return pd.DataFrame([{"dataset": dataset, "variable": variable, "row": pd.NA, "key": "", "value": value, **extra}])


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty()


def render_messages(template: str, table: pd.DataFrame) -> pd.Series:
    """Fill ``template`` for every row by column concatenation (no per-row formatting)."""
    out = pd.Series([""] * len(table), index=table.index, dtype="object")
    for literal, field_name, _spec, _conv in string.Formatter().parse(template):
        out = out + literal
        if field_name:
            column = table[field_name] if field_name in table.columns else pd.Series("", index=table.index)
            out = out + column.astype("object").where(column.notna(), "").astype(str)
    return out


def run_rules(package: Package, ct=None, rules: list[str] | None = None) -> pd.DataFrame:
    """Run the selected rules (all by default) and return one tidy findings table."""
    import validate.rules  # noqa: F401 - registers the rules

    context = Context(package, ct)
    selected = [RULES[r] for r in rules] if rules else list(RULES.values())
    tables = []
    timings = {}
    for r in selected:
        if r.scope == "define" and package.define is None:
            continue
        if r.scope == "SDTM" and not package.sdtm() or r.scope == "ADaM" and not package.adam():
            continue
        started = time.perf_counter()
        try:
            found = r.func(context)
        except Exception as exc:  # a broken rule is reported, never hides the others
            found = dataset_finding("", "", f"{type(exc).__name__}: {exc}",
                                    message=f"rule {r.id} failed to run: {type(exc).__name__}: {exc}; "
                                            + traceback.format_exc(limit=-1).strip().splitlines()[-1])
        timings[r.id] = time.perf_counter() - started
        if found is None or not len(found):
            continue
        found = found.copy()
        template_messages = render_messages(r.message, found)
        if "message" in found.columns:
            found["message"] = found["message"].where(found["message"].notna() & (found["message"] != ""),
                                                      template_messages)
        else:
            found["message"] = template_messages
        for column, value in (("rule", r.id), ("severity", r.severity), ("standard", r.standard),
                              ("core_id", r.core_id), ("fda_id", r.fda_id)):
            found[column] = value
        tables.append(found[FINDING_COLUMNS])
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=FINDING_COLUMNS)
    table["row"] = pd.array(table["row"], dtype="Int64")
    table.attrs["timings"] = timings
    return table
