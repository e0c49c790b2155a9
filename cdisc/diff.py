"""Compare two cuts dataset by dataset, by their keys: records added, removed and changed (old and new
value per variable), variables added or removed, attribute changes (label, type, length, format).

``cdisc diff OLD NEW [--out DIR] [--subject USUBJID]``. A cut folder holds ``*.xpt`` files, or
``sdtm/`` and ``adam/`` subfolders holding them. Keys per dataset: given by the caller, else
``keys.json`` ({dataset: [keys]}) in the (sub)folder or the cut folder, else a heuristic. --SEQ is
never a key and --SEQ differences are not listed by default: sequence numbers are derived again at
every cut, so a record added before another renumbers it.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from specs.errors import CdiscError, Problem, RawDataError

KEYS_FILE = "keys.json"
GROUPS = ("sdtm", "adam")
_OCCURRENCE = "__occurrence"


@dataclass
class DatasetDiff:
    group: str  # "sdtm", "adam" or "" (xpt files directly in the cut folder)
    name: str
    status: str  # "both", "added" (only in NEW), "removed" (only in OLD)
    keys: list[str] = field(default_factory=list)
    added: pd.DataFrame = field(default_factory=pd.DataFrame)
    removed: pd.DataFrame = field(default_factory=pd.DataFrame)
    changed: pd.DataFrame = field(default_factory=pd.DataFrame)  # keys..., variable, old, new
    variables_added: list[str] = field(default_factory=list)
    variables_removed: list[str] = field(default_factory=list)
    attributes: list[dict] = field(default_factory=list)  # variable, attribute, old, new
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.group}/{self.name}" if self.group else self.name

    @property
    def records_changed(self) -> int:
        return 0 if self.changed.empty else len(self.changed.drop_duplicates(self.keys))

    @property
    def has_differences(self) -> bool:
        return (self.status != "both" or not self.added.empty or not self.removed.empty or not self.changed.empty
                or bool(self.variables_added or self.variables_removed or self.attributes))

    def for_subject(self, usubjid: str) -> DatasetDiff:
        """The same comparison restricted to one subject's records (datasets without USUBJID: nothing)."""
        def keep(frame):
            if frame.empty or "USUBJID" not in frame:
                return frame.iloc[0:0]
            return frame[frame["USUBJID"].astype(str) == usubjid]
        return DatasetDiff(self.group, self.name, self.status, self.keys, keep(self.added), keep(self.removed),
                           keep(self.changed), self.variables_added, self.variables_removed, self.attributes,
                           self.notes)


@dataclass
class DiffResult:
    old: Path
    new: Path
    datasets: list[DatasetDiff]

    def for_subject(self, usubjid: str) -> DiffResult:
        return DiffResult(self.old, self.new, [d.for_subject(usubjid) for d in self.datasets])

    def summary(self) -> str:
        lines = [f"{self.old} -> {self.new}",
                 f"{'dataset':<14}{'added':>8}{'removed':>9}{'changed':>9}  variables / attributes"]
        for d in self.datasets:
            extra = []
            if d.status != "both":
                extra.append(f"dataset only in {'NEW' if d.status == 'added' else 'OLD'}")
            if d.variables_added:
                extra.append("+" + " +".join(d.variables_added))
            if d.variables_removed:
                extra.append("-" + " -".join(d.variables_removed))
            if d.attributes:
                extra.append(f"{len(d.attributes)} attribute change(s)")
            lines.append(f"{d.label:<14}{len(d.added):>8}{len(d.removed):>9}{d.records_changed:>9}  "
                         + "; ".join(extra))
        return "\n".join(lines)

    def details(self) -> str:
        """Every added, removed and changed record (use on one subject: for_subject)."""
        lines = []
        for d in self.datasets:
            if d.added.empty and d.removed.empty and d.changed.empty:
                continue
            lines.append(f"{d.label} (keys: {', '.join(d.keys)})")
            for title, frame in (("added", d.added), ("removed", d.removed)):
                for record in frame.to_dict(orient="records"):
                    lines.append(f"  {title}: " + ", ".join(f"{k}={_text(record[k])}" for k in d.keys))
            for record in d.changed.to_dict(orient="records"):
                key = ", ".join(f"{k}={_text(record[k])}" for k in d.keys)
                lines.append(f"  changed: {key}: {record['variable']} "
                             f"'{_text(record['old'])}' -> '{_text(record['new'])}'")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        def rows(frame):
            return [{k: _text(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
        return {"old": str(self.old), "new": str(self.new), "datasets": [
            {"dataset": d.label, "status": d.status, "keys": d.keys, "added": rows(d.added),
             "removed": rows(d.removed), "changed": rows(d.changed), "variables_added": d.variables_added,
             "variables_removed": d.variables_removed, "attributes": d.attributes, "notes": d.notes}
            for d in self.datasets]}

    def to_html(self, title: str = "Comparison of two data cuts") -> str:
        parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                 f"<title>{escape(title)}</title>",
                 "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
                 "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}th{background:#eee}"
                 ".added{background:#e6ffe6}.removed{background:#ffe6e6}</style></head><body>",
                 f"<h1>{escape(title)}</h1>",
                 f"<p>OLD: {escape(str(self.old))}<br>NEW: {escape(str(self.new))}</p>",
                 f"<pre>{escape(self.summary())}</pre>"]
        for d in self.datasets:
            if not d.has_differences:
                continue
            parts.append(f"<h2>{escape(d.label)}</h2><p>keys: {escape(', '.join(d.keys))}</p>")
            for note in d.notes:
                parts.append(f"<p><i>{escape(note)}</i></p>")
            if d.variables_added or d.variables_removed:
                parts.append(f"<p>variables added: {escape(', '.join(d.variables_added) or 'none')}; "
                             f"removed: {escape(', '.join(d.variables_removed) or 'none')}</p>")
            if d.attributes:
                parts.append(_html_table(pd.DataFrame(d.attributes), "attributes"))
            for title_, frame in (("added", d.added), ("removed", d.removed)):
                if not frame.empty:
                    parts.append(f"<h3>{len(frame)} record(s) {title_}</h3>" + _html_table(frame, title_))
            if not d.changed.empty:
                parts.append(f"<h3>{d.records_changed} record(s) changed</h3>" + _html_table(d.changed, "changed"))
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _html_table(frame: pd.DataFrame, css: str) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join(f'<tr class="{css}">' + "".join(f"<td>{escape(_text(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


# --- reading ----------------------------------------------------------------------------------------

def _xpt_files(folder: Path) -> dict[str, Path]:
    return {p.stem.upper(): p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() == ".xpt"}


def _groups(folder: Path) -> dict[str, Path]:
    groups = {g: folder / g for g in GROUPS if (folder / g).is_dir()}
    return groups or {"": folder}


def _read(path: Path):
    from define.xpt import read_xpt  # sasxport; UTF-8, else cp1252

    data, meta = read_xpt(path)
    for column in data.columns:
        if data[column].dtype != float:
            data[column] = data[column].astype(object).where(data[column].notna(), "").astype(str).str.rstrip()
    return data, {v.name: v for v in meta.variables}


def read_keys(folder: Path) -> dict[str, list[str]]:
    path = folder / KEYS_FILE
    if not path.is_file():
        return {}
    try:
        keys = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise RawDataError([Problem(str(path), f"not valid JSON ({exc})")]) from None
    if not isinstance(keys, dict) or not all(isinstance(v, list) for v in keys.values()):
        raise RawDataError([Problem(str(path), "expected {dataset: [key variables]}")])
    return {str(k).upper(): [str(v) for v in vs] for k, vs in keys.items()}


def write_keys(folder, keys: dict[str, list[str]]) -> Path:
    """keys.json for a cut folder (from the spec: {dataset: keys}), so that a later diff uses them."""
    path = Path(folder) / KEYS_FILE
    path.write_text(json.dumps({k: list(v) for k, v in sorted(keys.items())}, indent=1) + "\n", "utf-8")
    return path


def heuristic_keys(name: str, columns: list[str]) -> list[str]:
    """Keys when none are given: SUPP-- by their parent record and QNAM; trial design by its codes;
    DM/ADSL by USUBJID; other subject data by USUBJID, the topic (--TESTCD, --TRT, --TERM, --DECOD,
    PARAMCD), the visit, the time point and the date. Never --SEQ."""
    def present(names):
        return [c for c in names if c in columns]

    def matching(pattern):
        return [c for c in columns if re.fullmatch(pattern, c) and not c.startswith("RF")]

    if "QNAM" in columns:
        return present(["RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"])
    if "USUBJID" not in columns:
        return present(["TSPARMCD", "TSVAL", "ARMCD", "TAETORD", "ETCD", "VISITNUM", "IETESTCD"]) or \
            [c for c in columns if not c.endswith("SEQ")]
    if name in ("DM", "ADSL"):
        return ["USUBJID"]
    keys = ["USUBJID"] + matching(r"[A-Z]{2}(TESTCD|TRT|TERM|DECOD)") + present(["PARAMCD", "ETCD"])
    keys += present(["VISITNUM", "AVISITN"]) + matching(r"[A-Z]{2}TPTNUM") + present(["ATPTN"])
    dates = matching(r"[A-Z]{2}(DTC|STDTC)")
    return keys + (dates or present(["ADTM", "ADT", "ASTDTM", "ASTDT"]))


# --- comparing --------------------------------------------------------------------------------------

def _with_occurrence(data: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = data.copy()
    out[_OCCURRENCE] = out.groupby(keys, sort=False, dropna=False).cumcount()
    return out


def _differs(old: pd.Series, new: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(old) and pd.api.types.is_float_dtype(new):
        both_missing = old.isna() & new.isna()
        return ~both_missing & ~(old == new)
    return old.astype(str) != new.astype(str)


def compare_dataset(group: str, name: str, old: tuple | None, new: tuple | None, keys: list[str] | None,
                    ignore: set[str] = frozenset()) -> DatasetDiff:
    if old is None or new is None:
        data, meta = new if old is None else old
        chosen = keys or heuristic_keys(name, list(data.columns))
        status = "added" if old is None else "removed"
        return DatasetDiff(group, name, status, chosen, added=data if old is None else data.iloc[0:0],
                           removed=data if new is None else data.iloc[0:0])
    (old_data, old_meta), (new_data, new_meta) = old, new
    common = [c for c in new_data.columns if c in old_data.columns]
    chosen = keys or heuristic_keys(name, common)
    missing = [k for k in chosen if k not in common]
    diff = DatasetDiff(group, name, "both", chosen)
    if missing:
        diff.notes.append(f"key(s) {', '.join(missing)} not in both cuts; compared by "
                          f"{', '.join(c for c in chosen if c in common) or 'position'}")
        chosen = [c for c in chosen if c in common]
        diff.keys = chosen
    diff.variables_added = [c for c in new_data.columns if c not in old_data.columns]
    diff.variables_removed = [c for c in old_data.columns if c not in new_data.columns]
    for variable in common:
        for attribute in ("label", "type", "length", "format"):
            before, after = getattr(old_meta[variable], attribute), getattr(new_meta[variable], attribute)
            if before != after:
                diff.attributes.append({"variable": variable, "attribute": attribute, "old": before, "new": after})
    if not chosen:
        chosen = [_OCCURRENCE]
        old_data, new_data = old_data.assign(**{_OCCURRENCE: range(len(old_data))}), \
            new_data.assign(**{_OCCURRENCE: range(len(new_data))})
    elif old_data.duplicated(chosen).any() or new_data.duplicated(chosen).any():
        diff.notes.append(f"keys {', '.join(chosen)} are not unique; records with the same key are matched "
                          "in file order")
        old_data, new_data = _with_occurrence(old_data, chosen), _with_occurrence(new_data, chosen)
        chosen = chosen + [_OCCURRENCE]
    for key in chosen:  # a key whose type changed between the cuts is compared as text
        if old_data[key].dtype != new_data[key].dtype:
            old_data, new_data = old_data.assign(**{key: old_data[key].astype(str)}), \
                new_data.assign(**{key: new_data[key].astype(str)})
    merged = old_data.merge(new_data, on=chosen, how="outer", suffixes=("__old", "__new"), indicator=True)
    only_new, only_old = merged["_merge"] == "right_only", merged["_merge"] == "left_only"
    public = [k for k in chosen if k != _OCCURRENCE]
    diff.added = new_data[new_data.set_index(chosen).index.isin(merged.loc[only_new].set_index(chosen).index)
                          ].drop(columns=[_OCCURRENCE], errors="ignore").reset_index(drop=True)
    diff.removed = old_data[old_data.set_index(chosen).index.isin(merged.loc[only_old].set_index(chosen).index)
                            ].drop(columns=[_OCCURRENCE], errors="ignore").reset_index(drop=True)
    matched = merged[merged["_merge"] == "both"]
    changes = []
    for variable in common:
        if variable in chosen or variable in ignore:
            continue
        before, after = matched[f"{variable}__old"], matched[f"{variable}__new"]
        mask = _differs(before, after)
        if mask.any():
            part = matched.loc[mask, public].copy()
            if "USUBJID" not in public and "USUBJID__new" in matched:  # so that --subject finds it
                part["USUBJID"] = matched.loc[mask, "USUBJID__new"]
            part["variable"], part["old"], part["new"] = variable, before[mask].to_numpy(), after[mask].to_numpy()
            changes.append(part)
    if changes:
        diff.changed = pd.concat(changes, ignore_index=True).astype({"old": object, "new": object})
    else:
        diff.changed = pd.DataFrame(columns=public + ["variable", "old", "new"])
    return diff


def diff_cuts(old_dir, new_dir, keys: dict[str, list[str]] | None = None, include_seq: bool = False
              ) -> DiffResult:
    """Compare two cut folders. ``keys``: {dataset: [key variables]} overriding keys.json / heuristics."""
    old_dir, new_dir = Path(old_dir), Path(new_dir)
    problems = [Problem(str(d), "cut folder not found") for d in (old_dir, new_dir) if not d.is_dir()]
    if problems:
        raise RawDataError(problems)
    old_groups, new_groups = _groups(old_dir), _groups(new_dir)
    given = {k.upper(): v for k, v in (keys or {}).items()}
    results = []
    for group in sorted(set(old_groups) | set(new_groups), key=lambda g: (g not in GROUPS, g)):
        old_files = _xpt_files(old_groups[group]) if group in old_groups else {}
        new_files = _xpt_files(new_groups[group]) if group in new_groups else {}
        known = {**read_keys(old_dir), **read_keys(new_dir)}
        for folder in (old_groups.get(group), new_groups.get(group)):
            if folder is not None and folder not in (old_dir, new_dir):
                known.update(read_keys(folder))
        known.update(given)
        for name in sorted(set(old_files) | set(new_files)):
            old = _read(old_files[name]) if name in old_files else None
            new = _read(new_files[name]) if name in new_files else None
            columns = list((new or old)[0].columns)
            ignore = set() if include_seq else {c for c in columns if re.fullmatch(r"[A-Z]{0,4}SEQ", c)
                                                and c not in ("TSSEQ",)}
            results.append(compare_dataset(group, name, old, new, known.get(name), ignore))
    return DiffResult(old_dir, new_dir, results)


def main(argv: list[str] | None = None, stream=None) -> int:
    """``cdisc diff OLD NEW [--out DIR] [--subject USUBJID] [--include-seq]``; CdiscError on bad input."""
    stream = stream or sys.stdout
    parser = argparse.ArgumentParser(prog="cdisc diff", description="Compare two data cuts by their keys.")
    parser.add_argument("old", help="the earlier cut folder")
    parser.add_argument("new", help="the later cut folder")
    parser.add_argument("--out", help="write diff.html and diff.json into this folder")
    parser.add_argument("--subject", help="list every record added, removed or changed for this USUBJID")
    parser.add_argument("--include-seq", action="store_true", help="also list --SEQ differences")
    args = parser.parse_args(argv)
    result = diff_cuts(args.old, args.new, include_seq=args.include_seq)
    print(result.summary(), file=stream)
    shown = result.for_subject(args.subject) if args.subject else result
    if args.subject:
        print(f"\nsubject {args.subject}:", file=stream)
        print(shown.details() or "  no difference", file=stream)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "diff.html").write_text(shown.to_html(), "utf-8")
        (out / "diff.json").write_text(json.dumps(shown.to_dict(), indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"\nwritten: {out / 'diff.html'}, {out / 'diff.json'}", file=stream)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CdiscError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
