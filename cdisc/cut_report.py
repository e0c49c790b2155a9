"""The cut report: every record a data cut removed or changed, per domain, as JSON and as one HTML page.

Built from the log of ``sdtm.cut.apply_cut``. No clock: the same cut gives the same bytes.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd

REPORT_JSON = "cut_report.json"
REPORT_HTML = "cut_report.html"
_RECORD = ["source", "row", "key"]
ROW_COLUMNS = ["action", "source", "row", "key", "usubjid", "variable", "old", "new", "reason"]


def _records(log: pd.DataFrame, action: str) -> int:
    """Distinct raw records with that action (a changed record has a log row per variable)."""
    rows = log[log["action"] == action]
    return int(len(rows.drop_duplicates(_RECORD))) if not rows.empty else 0


def cut_report_data(log: pd.DataFrame, cut=None, counts: dict[str, int] | None = None) -> dict:
    """The report as a dict: the cut, and per domain (in log order) the counts and the log rows
    (lists in the order of ``columns``: action, source, row, key, usubjid, variable, old, new, reason).

    ``counts`` (domain -> records after the cut), when given, is reported beside the counts.
    """
    log = log.fillna("").astype(str)
    domains = []
    for domain in pd.unique(log["domain"]):
        part = log[log["domain"] == domain]
        entry = {
            "domain": domain,
            "records_removed": _records(part, "removed"),
            "records_changed": _records(part, "changed"),
            "rows": part[ROW_COLUMNS].to_numpy().tolist(),
        }
        if counts is not None and domain in counts:
            entry["records_after_cut"] = int(counts[domain])
        domains.append(entry)
    subjects = sorted(set(log.loc[log["reason"].str.startswith("subject "), "usubjid"]) - {""})
    return {
        "cut": cut.to_dict() if cut is not None else None,
        "columns": ROW_COLUMNS,
        "subjects_left_out": subjects,
        "records_removed": sum(d["records_removed"] for d in domains),
        "records_changed": sum(d["records_changed"] for d in domains),
        "domains": domains,
    }


def cut_report_html(data: dict, title: str = "Data cut report") -> str:
    cut = data.get("cut") or {}
    when = cut.get("date") or "per subject"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%;text-align:left}"
        "th{background:#eee}.removed{color:#a00}.changed{color:#05a}</style>",
        "</head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Cut date: <b>{escape(str(when))}</b>"
        + (f" &mdash; {escape(cut['description'])}" if cut.get("description") else "") + "</p>",
    ]
    per_subject = cut.get("per_subject") or {}
    if per_subject:
        parts.append(f"<p>{len(per_subject)} subject(s) with their own cut date.</p>")
    parts.append(f"<p>{data['records_removed']} record(s) removed, {data['records_changed']} changed; "
                 f"subjects left out: {escape(', '.join(data['subjects_left_out']) or 'none')}.</p>")
    parts.append("<table><tr><th>Domain</th><th>Removed</th><th>Changed</th><th>After the cut</th></tr>")
    for d in data["domains"]:
        parts.append(f'<tr><td><a href="#{escape(d["domain"])}">{escape(d["domain"])}</a></td>'
                     f"<td>{d['records_removed']}</td><td>{d['records_changed']}</td>"
                     f"<td>{d.get('records_after_cut', '')}</td></tr>")
    parts.append("</table>")
    for d in data["domains"]:
        parts.append(f'<h2 id="{escape(d["domain"])}">{escape(d["domain"])}</h2>')
        parts.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in ROW_COLUMNS) + "</tr>")
        for row in d["rows"]:
            cells = "".join(f"<td>{escape(str(value))}</td>" for value in row)
            parts.append(f'<tr class="{escape(row[0])}">{cells}</tr>')
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_cut_report(folder, log: pd.DataFrame, cut=None, counts: dict[str, int] | None = None
                     ) -> tuple[Path, Path]:
    """Write cut_report.json and cut_report.html into folder; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = cut_report_data(log, cut, counts)
    json_path, html_path = folder / REPORT_JSON, folder / REPORT_HTML
    json_path.write_bytes((json.dumps(data, sort_keys=True, indent=None, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8"))
    html_path.write_bytes(cut_report_html(data).encode("utf-8"))
    return json_path, html_path
