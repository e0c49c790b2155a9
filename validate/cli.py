"""``cdisc validate PATH [--define FILE] [--out DIR] [--ct FILE ...] [--ig VERSION ...] [--rules DIR ...]``.

Writes validation.json, .html, .csv and .xlsx into --out (default: PATH/validation when PATH is a
folder, else a 'validation' folder beside the file; the loader skips that folder), prints a one-screen
summary and returns 0 when there is no Error-level finding, 1 when there is, 2 when the input cannot be
read. PATH may also be a CDISC CORE test-case ``data/`` folder (.env, _datasets.csv, _variables.csv, CSVs).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from specs.errors import CdiscError

from validate.package import Package, load_package
from validate.registry import run_rules
from validate.report import terminal_summary, write_csv, write_html, write_json, write_xlsx
from validate.standards import available_versions
from validate.terminology import load_terminology
from validate.versions import detect_versions

REPORT_FILES = ("validation.json", "validation.html", "validation.csv", "validation.xlsx")


def validate(path: str | Path, define: str | Path | None = None, ct=None, ig: list[str] | None = None,
             rules: list[str | Path] | None = None) -> tuple[Package, pd.DataFrame]:
    """Load the package at ``path`` and run every rule; raises CdiscError on unreadable input.

    ``ct``: one NCI EVS CT file or several (SDTM, ADaM, Define-XML); default: the bundled subset.
    ``ig``: standard versions to check against ("3.2", "ADaMIG 1.1"); default: what the package declares.
    ``rules``: folders of CDISC Open Rules to run beside the toolkit's own (default: those CDISC_OPEN_RULES lists).
    """
    from validate.openrules.findings import load_configured, run_open_rules

    open_rules = load_configured(rules)  # rule files are checked before any data is read
    package = load_package(path, define)
    terminology = load_terminology(ct)
    if terminology is None:
        package.notes.append("no controlled terminology found: CT2001/CT2002 checked define.xml codelists only")
    elif not terminology.complete:
        package.notes.append("controlled terminology: the bundled subset; codelists it does not carry are not "
                             "checked (give the full NCI packages with --ct)")
    versions = detect_versions(package, terminology, ig)
    package.notes.extend(versions.notes)
    findings = run_rules(package, terminology, versions=versions)
    if open_rules:
        attrs = dict(findings.attrs)
        from validate.registry import RULES

        covered = {r.core_id: r.id for r in RULES.values() if r.core_id}  # keep the toolkit's, citing both ids
        extra, summary, record = run_open_rules(package, open_rules, terminology, versions, covered)
        if len(extra):
            findings = pd.concat([findings, extra[findings.columns]], ignore_index=True)
            findings["row"] = pd.array(findings["row"], dtype="Int64")
        findings.attrs.update(attrs)
        findings.attrs["rules"] = list(attrs.get("rules", [])) + record
        package.notes.append(
            f"CDISC Open Rules: {summary['rules']} rules, {summary['checked']} rule/dataset checks; "
            f"{summary['not applicable']} not applicable (a variable or dataset they need is absent)"
            + (f"; {len(summary['skipped'])} not run: " + "; ".join(summary["skipped"][:5])
               + (" ..." if len(summary["skipped"]) > 5 else "") if summary["skipped"] else ""))
    findings.attrs["ct"] = terminology.source if terminology is not None else ""
    return package, findings


def shipped_metadata() -> str:
    """Which IG versions are fully checked: those whose variable metadata is shipped (or in $CDISC_STANDARDS_DIR)."""
    shipped = [f"{label} {v}" for need, label in (("sdtmig", "SDTMIG"), ("adamig", "ADaMIG"))
               for v in available_versions(need)]
    return (f"IG variable metadata shipped: {', '.join(shipped) or 'none'}; on another version the rules that "
            "need it are not checked, the others run")


def checked_against(described: dict) -> str:
    """'checked against SDTMIG 3.4 (define.xml), ...; IG variable metadata shipped: ...' for the terminal."""
    parts = [f"{name} {value}" for name, value in described.items() if not name.endswith("CT declared")]
    return f"checked against {', '.join(parts) or 'no declared standard'}; {shipped_metadata()}"


def default_out(path: Path) -> Path:
    return path / "validation" if path.is_dir() else path.parent / "validation"


def write_reports(findings: pd.DataFrame, out: Path, info: dict) -> None:
    """Write both reports into ``out`` atomically (temporary folder, then rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".validation-", dir=out.parent))
    try:
        write_json(findings, staging / "validation.json", info)
        write_html(findings, staging / "validation.html", info)
        write_csv(findings, staging / "validation.csv")
        write_xlsx(findings, staging / "validation.xlsx", info)
        out.mkdir(exist_ok=True)
        for name in REPORT_FILES:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdisc validate", description="Check an SDTM/ADaM package for conformance.")
    parser.add_argument("path", help="folder of .xpt / Dataset-JSON files (searched recursively), or one file")
    parser.add_argument("--define", help="define.xml (default: any define.xml under PATH)")
    parser.add_argument("--out", help="report folder (default: PATH/validation)")
    parser.add_argument("--ct", action="append", metavar="FILE",
                        help="NCI EVS controlled terminology package (.txt or .csv); repeat for SDTM, ADaM and "
                             "Define-XML CT (default: the bundled subset)")
    parser.add_argument("--ig", action="append", metavar="VERSION",
                        help="standard version to check against, e.g. 3.2 or 'ADaMIG 1.1' (default: the version "
                             f"define.xml or TS declares); repeatable. {shipped_metadata()}")
    parser.add_argument("--rules", action="append", metavar="DIR",
                        help="a folder of CDISC Open Rules (rule.yml files) to run as well; repeatable "
                             "(default: the folders in $CDISC_OPEN_RULES)")
    args = parser.parse_args(argv)
    path = Path(args.path)
    started = time.perf_counter()
    try:
        package, findings = validate(path, args.define, args.ct, args.ig, args.rules)
    except CdiscError as exc:
        print(f"cdisc validate: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    info = {"path": str(path), "datasets": ", ".join(sorted(package.datasets)),
            "records": sum(package.records(n) for n in package.datasets),  # counted, not read again
            "define": str(package.define.path) if package.define is not None else "none",
            "controlled terminology": findings.attrs.get("ct") or "none", "seconds": round(elapsed, 2)}
    if package.notes:
        info["notes"] = "; ".join(package.notes)
    out = Path(args.out) if args.out else default_out(path)
    try:
        write_reports(findings, out, info)
    except OSError as exc:
        print(f"cdisc validate: cannot write the report to {out}: {exc}", file=sys.stderr)
        return 2
    print(terminal_summary(findings))
    print(f"  {checked_against(findings.attrs.get('versions', {}))}")
    for note in package.notes:
        print(f"  note: {note}")
    print(f"{len(package.datasets)} datasets, {info['records']} records in {elapsed:.1f} s; "
          f"report: {out / 'validation.html'}")
    return 1 if (findings["severity"] == "Error").any() else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
