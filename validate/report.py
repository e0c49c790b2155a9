"""The findings as JSON (the machine interface), one self-contained HTML page, a CSV and an XLSX in the
column layout reviewers know, and a one-screen terminal summary.

Every report leads with causes: the findings of one rule on one variable of one dataset are one cause,
with the number of records, the distinct values and a few example records, so that one metadata problem
reads as one line, not as thousands. The rules that ran, and those that were not checked with the reason,
follow.
"""
from __future__ import annotations

import csv
import datetime
import html
import json
import math
import re
import zipfile
from pathlib import Path

import pandas as pd

from validate.registry import FINDING_COLUMNS, RULES, SEVERITIES

SHOWN_ROWS = 20
EXAMPLES = 3
SHOWN_VALUES = 5
XLSX_MAX_ROWS = 200_000
CAUSE_KEY = ["severity", "rule", "dataset", "variable"]
CSV_COLUMNS = ["rule", "core_id", "fda_id", "message", "dataset", "variable", "record", "key", "value", "severity",
               "count"]


def _text(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _bare(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings without their attrs (the run's record of every rule): pandas deep-copies attrs into
    every frame derived from a table, thousands of times in a report."""
    if not findings.attrs:
        return findings
    out = findings.copy(deep=False)
    out.attrs = {}
    return out


def causes(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per cause (severity, rule, dataset, variable): records, distinct values, examples, message."""
    findings = _bare(findings)
    columns = CAUSE_KEY + ["core_id", "fda_id", "count", "findings", "values", "examples", "message"]
    if findings.empty:
        return pd.DataFrame(columns=columns)
    table = findings.assign(variable=findings["variable"].fillna(""), dataset=findings["dataset"].fillna(""))
    counts = table["count"] if "count" in table.columns else pd.Series(1, index=table.index)
    table = table.assign(count=counts)
    grouped = table.groupby(CAUSE_KEY, sort=False, dropna=False)
    out = grouped.agg(core_id=("core_id", "first"), fda_id=("fda_id", "first"), count=("count", "sum"),
                      findings=("rule", "size"), message=("message", "first")).reset_index()
    # distinct values and examples: computed on the first rows of each group only (cheap on huge runs)
    values, examples = [], []
    for _, rows in grouped:
        tally = rows["value"].astype(str).value_counts()
        shown = [f"'{v}' x{n}" if n > 1 else f"'{v}'" for v, n in tally.head(SHOWN_VALUES).items() if v != ""]
        more = len(tally) - SHOWN_VALUES
        values.append(", ".join(shown) + (f" and {more} more" if more > 0 else ""))
        keys = [k if k else (f"record {_text(r)}" if _text(r) else "") for k, r in
                zip(rows["key"].head(EXAMPLES).astype(str), rows["row"].head(EXAMPLES))]
        examples.append("; ".join(k for k in keys if k))
    out["values"], out["examples"] = values, examples
    order = {s: i for i, s in enumerate(SEVERITIES)}
    out = out.sort_values(["severity", "count", "rule", "dataset"], ascending=[True, False, True, True],
                          key=lambda c: c.map(order) if c.name == "severity" else c, kind="stable")
    return out[columns].reset_index(drop=True)


def summarize(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per rule and dataset: severity, count, message of the first finding."""
    findings = _bare(findings)
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


def rule_record(findings: pd.DataFrame) -> list[dict]:
    """What the run did with every rule (attrs['rules'] of run_rules), or the registered rules. Timings stay
    out: two runs on the same package give byte-identical reports."""
    record = findings.attrs.get("rules")
    if record is not None:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in record]
    return [{"id": r.id, "severity": r.severity, "standard": r.standard, "core_id": r.core_id, "fda_id": r.fda_id,
             "description": r.description, "status": "", "reason": "", "findings": 0, "seconds": 0.0}
            for r in RULES.values()]


def _records(findings: pd.DataFrame) -> list[dict]:
    findings = _bare(findings)
    columns = [c for c in FINDING_COLUMNS if c in findings.columns]
    table = findings[columns].astype(object).where(findings[columns].notna(), None)
    records = table.to_dict(orient="records")
    for record in records:  # JSON has no NaN
        for k, v in record.items():
            if isinstance(v, float) and math.isnan(v):
                record[k] = None
            elif k in ("row", "count") and v is not None:
                record[k] = int(v)
    return records


def to_json(findings: pd.DataFrame, package_info: dict | None = None) -> dict:
    summary = summarize(findings)
    by_cause = causes(findings)
    return {
        "package": package_info or {},
        "versions": findings.attrs.get("versions", {}),
        "summary": {"counts": severity_counts(findings), "total": int(len(findings)),
                    "records": int(findings["count"].sum()) if "count" in findings.columns and len(findings) else 0,
                    "by_rule": summary.to_dict(orient="records")},
        "causes": json.loads(by_cause.to_json(orient="records")),
        "rules": rule_record(findings),
        "findings": _records(findings),
    }


def write_json(findings: pd.DataFrame, path: Path, package_info: dict | None = None) -> None:
    path.write_text(json.dumps(to_json(findings, package_info), indent=1, default=str), encoding="utf-8")


def _csv_rows(findings: pd.DataFrame) -> pd.DataFrame:
    findings = _bare(findings)
    out = findings.rename(columns={"row": "record"})
    if "count" not in out.columns:
        out["count"] = 1
    return out[CSV_COLUMNS]


def write_csv(findings: pd.DataFrame, path: Path) -> None:
    """One row per finding: rule id, message, dataset, variable, record, value, severity, count."""
    _csv_rows(findings).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)


def write_xlsx(findings: pd.DataFrame, path: Path, package_info: dict | None = None) -> None:
    """Sheets Causes, Findings, Rules and Package (openpyxl write-only: fast and small in memory)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def sheet(title: str, frame: pd.DataFrame, note: str = "") -> None:
        ws = workbook.create_sheet(title)
        from openpyxl.cell import WriteOnlyCell

        header = []
        for name in frame.columns:
            cell = WriteOnlyCell(ws, value=str(name))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in frame.itertuples(index=False):
            ws.append([None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else
                       (int(v) if hasattr(v, "item") and float(v).is_integer() else v.item() if hasattr(v, "item") else v)
                       for v in row])
        if note:
            ws.append([note])

    sheet("Causes", causes(findings))
    details = _csv_rows(findings)
    note = (f"first {XLSX_MAX_ROWS} of {len(details)} findings; all are in validation.csv"
            if len(details) > XLSX_MAX_ROWS else "")
    sheet("Findings", details.head(XLSX_MAX_ROWS).astype(object), note)
    rules = pd.DataFrame(rule_record(findings))
    sheet("Rules", rules.astype(object) if len(rules) else rules)
    info = {**(package_info or {}), **{f"version: {k}": v for k, v in findings.attrs.get("versions", {}).items()}}
    sheet("Package", pd.DataFrame({"item": list(info), "value": [str(v) for v in info.values()]}))
    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    workbook.save(path)
    _fix_zip_times(path)


FIXED_TIME = datetime.datetime(2000, 1, 1)


def _fix_zip_times(path: Path) -> None:
    """Rewrite the XLSX (a zip) with fixed entry times, so the same findings give the same bytes."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time as 'modified'
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            target.writestr(fixed, data)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#222;max-width:1300px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.n{text-align:right}
.Error{color:#fff;background:#c0392b}.Warning{background:#f5c542}.Notice{background:#cfe3f7}
.badge{padding:.1em .5em;border-radius:.3em;font-weight:600}
.cards span{display:inline-block;margin-right:1em;padding:.5em 1em;border-radius:.4em;font-size:1.1em}
code{background:#f4f4f4;padding:0 .2em}.skipped{color:#777}
"""


def _table(frame: pd.DataFrame, columns: list[str], labels: dict | None = None) -> str:
    head = "".join(f"<th>{html.escape((labels or {}).get(c, c))}</th>" for c in columns)
    body = []
    for row in frame[columns].astype(object).itertuples(index=False):
        cells = []
        for column, value in zip(columns, row):
            text = _text(value)
            if column == "severity":
                cells.append(f'<td><span class="badge {html.escape(text)}">{html.escape(text)}</span></td>')
            else:
                cls = ' class="n"' if column in ("count", "row", "findings", "seconds") else ""
                cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


class _RecordedRule:
    """A rule known from the run's record only (an open rule), read like a registered Rule."""

    def __init__(self, entry: dict):
        self.__dict__.update(entry)

    @classmethod
    def of(cls, entry: dict | None):
        return cls(entry) if entry else None


def to_html(findings: pd.DataFrame, package_info: dict | None = None) -> str:
    info = package_info or {}
    counts = severity_counts(findings)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Validation report</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>Conformance report: {html.escape(str(info.get('path', '')))}</h1>"]
    if info:
        parts.append("<p>" + ", ".join(f"{html.escape(str(k))}: <code>{html.escape(str(v))}</code>"
                                       for k, v in info.items() if k != "path") + "</p>")
    versions = findings.attrs.get("versions", {})
    if versions:
        parts.append("<p>Checked against: " + ", ".join(f"{html.escape(k)} <code>{html.escape(str(v))}</code>"
                                                        for k, v in versions.items()) + "</p>")
    parts.append("<div class='cards'>" + "".join(f"<span class='{s}'>{counts[s]} {s.lower()}s</span>"
                                                 for s in SEVERITIES) + "</div>")
    by_cause = causes(findings)
    if findings.empty:
        parts.append("<p>No findings.</p>")
    else:
        parts.append(f"<h2>Causes ({len(by_cause)})</h2><p>One line per rule, dataset and variable: the records "
                     "it covers, the distinct values and example records. Details follow below.</p>")
        parts.append(_table(by_cause, ["severity", "rule", "dataset", "variable", "count", "message", "values", "examples"],
                            {"count": "records"}))
    record = pd.DataFrame(rule_record(findings))
    if len(record):
        ran = record[record["status"].isin(["ran", "failed", ""])]
        skipped = record[record["status"] == "skipped"]
        parts.append(f"<h2>Rules run ({len(ran)})</h2>")
        parts.append(_table(ran.assign(ids=ran.apply(lambda r: ", ".join(
            x for x in (_text(r['core_id']), _text(r.get('conformance_id')), _text(r['fda_id'])) if x), axis=1)),
                            ["id", "ids", "standard", "severity", "description", "findings", "reason"],
                            {"ids": "CORE / CDISC / FDA id", "reason": "not checked in this run"}))
        parts.append(f"<h2 class='skipped'>Rules not checked ({len(skipped)})</h2>")
        parts.append(_table(skipped, ["id", "standard", "description", "reason"]) if len(skipped) else "<p>None.</p>")
    if not findings.empty:
        parts.append("<h2>Details</h2>")
        recorded = {r["id"]: r for r in findings.attrs.get("rules", []) if r.get("conformance_id")}
        for (rule_id, dataset), rows in findings.groupby(["rule", "dataset"], sort=False):
            r = RULES.get(rule_id) or _RecordedRule.of(recorded.get(rule_id))  # an open rule: from the run's record
            ids = ", ".join(x for x in (r and getattr(r, "conformance_id", None) and f"CDISC {r.conformance_id}",
                                        r and r.fda_id and f"FDA {r.fda_id}", r and r.core_id and f"CORE {r.core_id}")
                            if x)
            parts.append(f"<h3 id='{html.escape(rule_id)}-{html.escape(str(dataset))}'>{html.escape(rule_id)} "
                         f"{html.escape(str(dataset))}: {len(rows)} finding{'s' if len(rows) != 1 else ''}</h3>")
            if r is not None:
                parts.append(f"<p>{html.escape(r.description)} <small>({html.escape(str(rows['standard'].iloc[0]))}"
                             f"{'; ' + html.escape(ids) if ids else ''})</small></p>")
            shown = rows.head(SHOWN_ROWS)
            parts.append(_table(shown, ["variable", "row", "key", "value", "count", "message"], {"count": "records"}))
            if len(rows) > SHOWN_ROWS:
                parts.append(f"<p>… and {len(rows) - SHOWN_ROWS} more in validation.csv and validation.json.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(findings: pd.DataFrame, path: Path, package_info: dict | None = None) -> None:
    path.write_text(to_html(findings, package_info), encoding="utf-8")


def terminal_summary(findings: pd.DataFrame, max_lines: int = 15) -> str:
    """A summary that fits one screen: severity counts and the largest causes."""
    counts = severity_counts(findings)
    lines = ["Validation: " + ", ".join(f"{counts[s]} {s.lower()}{'s' if counts[s] != 1 else ''}" for s in SEVERITIES)]
    by_cause = causes(findings)
    for row in by_cause.head(max_lines).itertuples(index=False):
        message = row.message if len(row.message) <= 64 else row.message[:61] + "..."
        lines.append(f"  {row.severity:<7} {row.rule:<7} {str(row.dataset):<8} {row.count:>7}  {message}")
    if len(by_cause) > max_lines:
        lines.append(f"  ... {len(by_cause) - max_lines} more causes in the report")
    skipped = [r for r in findings.attrs.get("rules", []) if r.get("status") == "skipped"]
    if skipped:
        lines.append(f"  {len(skipped)} rule(s) not checked (see 'Rules not checked' in the report)")
    return "\n".join(lines)
