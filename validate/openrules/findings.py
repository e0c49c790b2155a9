"""Open rules as part of ``cdisc validate``: pick the rules for the package's standards, run them, and turn
their issues into the validator's findings table (rule = CORE id, with the conformance and FDA ids).

Where the open rules come from: ``--rules DIR`` (repeatable), else the folders listed in the environment
variable CDISC_OPEN_RULES (separated by the path separator); none configured means none run.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from validate.openrules.engine import RunResult, run_rules
from validate.openrules.loader import OpenRule, load_rules

ENV = "CDISC_OPEN_RULES"
COLUMNS = ["rule", "severity", "standard", "core_id", "conformance_id", "fda_id", "dataset", "variable", "row", "key",
           "value", "count", "message"]
DEFAULT_VERSIONS = {"SDTMIG": "3.4", "ADAMIG": "1.3"}


def configured_folders(folders: list[str | Path] | None = None) -> list[Path]:
    if folders:
        return [Path(f) for f in folders]
    value = os.environ.get(ENV, "").strip()
    return [Path(f) for f in value.split(os.pathsep) if f.strip()] if value else []


def _version(package, standard: str, versions=None) -> str:
    """The IG version to select rules by: a CORE .env's (VERSION=3-4), else the one validate.versions found
    (define.xml, TS, --ig), else the toolkit's default."""
    product = str(package.properties.get("product", "")).upper()
    version = str(package.properties.get("version", "")).replace("-", ".").strip()
    if product == standard and version:
        return version
    found = getattr(versions, standard.lower(), None) if versions is not None else None
    return found or DEFAULT_VERSIONS[standard]


def _part(package, names: list[str]):
    return replace(package, datasets={n: package.datasets[n] for n in names},
                   meta={n: package.meta[n] for n in names if n in package.meta})


def run_open_rules(package, rules: list[OpenRule], terminology=None, versions=None, covered: dict | None = None
                   ) -> tuple[pd.DataFrame, dict, list[dict]]:
    """Findings of the rules on the package (SDTMIG rules on its SDTM datasets, ADaMIG rules on its ADaM ones),
    a summary, and what happened to each rule (ran, or not checked and why) for the report.

    ``covered``: CORE id -> id of the toolkit's rule that makes the same check (its findings cite the CORE id);
    such an open rule is not run twice."""
    covered = covered or {}
    record = [{"id": r.core_id, "severity": r.severity, "standard": ", ".join(sorted(r.standards)),
               "core_id": r.core_id, "conformance_id": ", ".join(r.conformance_ids) or None,
               "fda_id": ", ".join(r.fda_ids) or None, "description": r.description, "findings": 0, "seconds": 0.0,
               "status": "skipped", "reason": f"checked by the toolkit's rule {covered[r.core_id]}"}
              for r in rules if r.core_id in covered]
    rules = [r for r in rules if r.core_id not in covered]
    parts = {"SDTMIG": sorted(package.sdtm()), "ADAMIG": sorted(package.adam())}
    frames, summary = [], {"rules": 0, "checked": 0, "not applicable": 0, "skipped": [], "seconds": {}}
    for standard, names in parts.items():
        if not names:
            continue
        version = _version(package, standard, versions)
        selected = [r for r in rules if r.applies_to(standard, version)]
        if not selected:
            continue
        result = run_rules(selected, _part(package, names), terminology)
        record += rule_record(selected, result, f"{standard.replace('ADAMIG', 'ADaMIG')} {version}")
        summary["rules"] += len(selected)
        summary["seconds"].update(result.seconds)
        summary["checked"] += len(result.checked)
        not_applicable = ("missing variable", "domain missing")  # as CORE: the rule does not apply here
        summary["not applicable"] += sum(s.kind in not_applicable for s in result.skips)
        grouped: dict[tuple, list] = {}
        for skip in result.skips:
            if skip.kind not in not_applicable:
                grouped.setdefault((skip.rule.core_id, skip.reason), []).append(skip.dataset)
        summary["skipped"] += [f"{rule_id} on {', '.join(datasets)}: {reason}"
                               for (rule_id, reason), datasets in grouped.items()]
        frames.append(to_findings(result, package, f"{standard.replace('ADAMIG', 'ADaMIG')} {version}"))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return table, summary, record


def rule_record(rules: list[OpenRule], result: RunResult, standard: str) -> list[dict]:
    """One entry per rule in the shape of validate.registry's run record: ran, or skipped with the reason."""
    checked = {rule_id for rule_id, _ in result.checked}
    counts: dict[str, int] = {}
    for issue in result.issues:
        counts[issue.rule.core_id] = counts.get(issue.rule.core_id, 0) + 1
    reasons: dict[str, list] = {}
    for skip in result.skips:
        reasons.setdefault(skip.rule.core_id, []).append(f"{skip.dataset}: {skip.reason}")
    out = []
    for r in rules:
        entry = {"id": r.core_id, "severity": r.severity, "standard": standard, "core_id": r.core_id,
                 "conformance_id": ", ".join(r.conformance_ids) or None, "fda_id": ", ".join(r.fda_ids) or None,
                 "description": r.description, "findings": counts.get(r.core_id, 0), "seconds": 0.0}
        why = reasons.get(r.core_id, [])
        if r.core_id in checked:
            out.append({**entry, "status": "ran", "reason": "; ".join(why[:3])})
        else:
            out.append({**entry, "status": "skipped",
                        "reason": "; ".join(why[:3]) + (" ..." if len(why) > 3 else "") if why
                        else "no dataset in its scope"})
    return out


def to_findings(result: RunResult, package, standard: str) -> pd.DataFrame:
    rows = []
    for issue in result.issues:
        present = {k: v for k, v in issue.values.items() if v != "Not in dataset"}
        rows.append({
            "rule": issue.rule.core_id, "severity": issue.rule.severity, "standard": standard,
            "core_id": issue.rule.core_id, "conformance_id": ", ".join(issue.rule.conformance_ids) or None,
            "fda_id": ", ".join(issue.rule.fda_ids) or None, "dataset": issue.dataset,
            "variable": ", ".join(issue.values), "row": issue.row, "key": "",
            "value": "; ".join(f"{k}={v}" for k, v in present.items()), "count": 1, "message": issue.message,
        })
    table = pd.DataFrame(rows, columns=COLUMNS)
    if table.empty:
        return table
    table["row"] = pd.array(table["row"], dtype="Int64")
    for dataset, index in table.groupby("dataset").groups.items():  # readable keys, once per dataset
        if dataset not in package.datasets:
            continue
        records = table.loc[index, "row"]
        located = records.notna().to_numpy()
        if located.any():
            positions = records[located].to_numpy(dtype=np.int64) - 1
            keys = package.record_keys(dataset, positions).to_numpy()
            table.loc[np.asarray(index)[located], "key"] = keys
    return table


def load_configured(folders: list[str | Path] | None = None) -> list[OpenRule]:
    rules: list[OpenRule] = []
    for folder in configured_folders(folders):
        rules.extend(load_rules(folder))
    return rules
