"""The findings as JSON, as one self-contained HTML page, and as a one-screen terminal summary."""
from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd

from validate.registry import FINDING_COLUMNS, RULES, SEVERITIES

SHOWN_ROWS = 20


def summarize(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per rule and dataset: severity, count, message of the first finding."""
    if findings.empty:
        return pd.DataFrame(columns=["rule", "severity", "dataset", "count", "message"])
    grouped = findings.groupby(["rule", "dataset"], sort=False, dropna=False)
    out = grouped.agg(severity=("severity", "first"), count=("rule", "size"), message=("message", "first")).reset_index()
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return out.sort_values(["severity", "rule", "dataset"], key=lambda c: c.map(order) if c.name == "severity" else c,
                           kind="stable").reset_index(drop=True)


def severity_counts(findings: pd.DataFrame) -> dict[str, int]:
    counts = findings["severity"].value_counts() if len(findings) else pd.Series(dtype=int)
    return {s: int(counts.get(s, 0)) for s in SEVERITIES}


def _records(findings: pd.DataFrame) -> list[dict]:
    table = findings[FINDING_COLUMNS].astype(object).where(findings[FINDING_COLUMNS].notna(), None)
    records = table.to_dict(orient="records")
    for record in records:  # JSON has no NaN
        for k, v in record.items():
            if isinstance(v, float) and math.isnan(v):
                record[k] = None
            elif k == "row" and v is not None:
                record[k] = int(v)
    return records


def to_json(findings: pd.DataFrame, package_info: dict | None = None) -> dict:
    summary = summarize(findings)
    return {
        "package": package_info or {},
        "summary": {"counts": severity_counts(findings), "total": int(len(findings)),
                    "by_rule": summary.to_dict(orient="records")},
        "rules": [{"id": r.id, "severity": r.severity, "standard": r.standard, "core_id": r.core_id,
                   "fda_id": r.fda_id, "description": r.description} for r in RULES.values()],
        "findings": _records(findings),
    }


def write_json(findings: pd.DataFrame, path: Path, package_info: dict | None = None) -> None:
    path.write_text(json.dumps(to_json(findings, package_info), indent=1, default=str), encoding="utf-8")


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.n{text-align:right}
.Error{color:#fff;background:#c0392b}.Warning{background:#f5c542}.Notice{background:#cfe3f7}
.badge{padding:.1em .5em;border-radius:.3em;font-weight:600}
.cards span{display:inline-block;margin-right:1em;padding:.5em 1em;border-radius:.4em;font-size:1.1em}
code{background:#f4f4f4;padding:0 .2em}
"""


def _table(frame: pd.DataFrame, columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in frame[columns].astype(object).itertuples(index=False):
        cells = []
        for column, value in zip(columns, row):
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA else str(value)
            if column == "severity":
                cells.append(f'<td><span class="badge {html.escape(text)}">{html.escape(text)}</span></td>')
            else:
                cls = ' class="n"' if column in ("count", "row") else ""
                cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def to_html(findings: pd.DataFrame, package_info: dict | None = None) -> str:
    info = package_info or {}
    counts = severity_counts(findings)
    summary = summarize(findings)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Validation report</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>Conformance report: {html.escape(str(info.get('path', '')))}</h1>"]
    if info:
        parts.append("<p>" + ", ".join(f"{html.escape(str(k))}: <code>{html.escape(str(v))}</code>"
                                       for k, v in info.items() if k != "path") + "</p>")
    parts.append("<div class='cards'>" + "".join(f"<span class='{s}'>{counts[s]} {s.lower()}s</span>"
                                                 for s in SEVERITIES) + "</div>")
    if findings.empty:
        parts.append("<p>No findings.</p>")
    else:
        parts.append("<h2>Summary by rule and dataset</h2>")
        parts.append(_table(summary, ["severity", "rule", "dataset", "count", "message"]))
        by_dataset = findings.groupby(["dataset", "severity"]).size().unstack(fill_value=0)
        by_dataset = by_dataset.reindex(columns=[s for s in SEVERITIES], fill_value=0).reset_index()
        parts.append("<h2>Findings by dataset</h2>")
        parts.append(_table(by_dataset.rename(columns=str), ["dataset", *SEVERITIES]))
        parts.append("<h2>Details</h2>")
        for (rule_id, dataset), rows in findings.groupby(["rule", "dataset"], sort=False):
            r = RULES.get(rule_id)
            ids = ", ".join(x for x in (r and r.fda_id and f"FDA {r.fda_id}", r and r.core_id and f"CORE {r.core_id}") if x)
            parts.append(f"<h3 id='{html.escape(rule_id)}-{html.escape(str(dataset))}'>{html.escape(rule_id)} "
                         f"{html.escape(str(dataset))}: {len(rows)} finding{'s' if len(rows) != 1 else ''}</h3>")
            if r is not None:
                parts.append(f"<p>{html.escape(r.description)} <small>({html.escape(r.standard)}"
                             f"{'; ' + html.escape(ids) if ids else ''})</small></p>")
            shown = rows.head(SHOWN_ROWS)
            parts.append(_table(shown, ["variable", "row", "key", "value", "message"]))
            if len(rows) > SHOWN_ROWS:
                parts.append(f"<p>… and {len(rows) - SHOWN_ROWS} more in validation.json.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(findings: pd.DataFrame, path: Path, package_info: dict | None = None) -> None:
    path.write_text(to_html(findings, package_info), encoding="utf-8")


def terminal_summary(findings: pd.DataFrame, max_lines: int = 15) -> str:
    """A summary that fits one screen: severity counts and the most frequent rule/dataset pairs."""
    counts = severity_counts(findings)
    lines = ["Validation: " + ", ".join(f"{counts[s]} {s.lower()}{'s' if counts[s] != 1 else ''}" for s in SEVERITIES)]
    summary = summarize(findings)
    for row in summary.head(max_lines).itertuples(index=False):
        message = row.message if len(row.message) <= 70 else row.message[:67] + "..."
        lines.append(f"  {row.severity:<7} {row.rule:<7} {str(row.dataset):<8} {row.count:>7}  {message}")
    if len(summary) > max_lines:
        lines.append(f"  ... {len(summary) - max_lines} more rule/dataset pairs in the report")
    return "\n".join(lines)
