"""`cdisc spec draft --raw DIR --out SPEC_DIR`: a first spec from a raw export.

Every raw file (CSV, XPT, SAS7BDAT, the forms of an ODM file) becomes a source; each form gets a domain
from its column names and its name (cdisc.draft_domain), each column a variable from its name
(cdisc.draft_names), dates and times their formats and controlled values their codelist from the values
(cdisc.draft_values), a wide findings form (one column per test) a melt. Every proposal carries a
confidence and its reason, as a comment in sdtm.yaml and in draft-report.md. What the draft cannot decide
is written as a TODO (specs.todo), which spec loading refuses, so that ``cdisc run`` starts only once a
person has decided.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from cdisc import draft_names as names
from cdisc import draft_values as values
from cdisc.draft_domain import DomainDraft, RawForm, draft_domain
from specs.ct import load_ct
from specs.errors import RawDataError
from specs.standards import sdtmig_dataset, sdtmig_variable, sdtmig_variables
from specs.todo import todo
from specs.yaml_writer import dump

DRAFT_FILES = ("study.yaml", "sdtm.yaml", "draft-report.md")
RAW_SUFFIXES = (".csv", ".xpt", ".sas7bdat", ".xml")
STUDYID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def source_name(text: str, taken: set[str]) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "source"
    name = name if name[0].isalpha() else f"s_{name}"
    base, number = name, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name


def read_raw_folder(raw_dir: Path) -> list[RawForm]:
    """Every raw file of the folder (sub-folders too) as a form; an ODM file's forms join the CSV of the
    same name (the same form exported twice) or become sources of their own."""
    from sdtm.readers import read_odm, read_source

    files = sorted(p for p in raw_dir.rglob("*") if p.is_file() and p.suffix.lower() in RAW_SUFFIXES)
    if not files:
        raise RawDataError([f"{raw_dir}: no raw file (.csv, .xpt, .sas7bdat, ODM .xml) in the folder"])
    forms, taken, problems = [], set(), []
    odm_forms: list[tuple[str, str, pd.DataFrame]] = []
    for path in files:
        relative = path.relative_to(raw_dir).as_posix()
        try:
            if path.suffix.lower() == ".xml":
                odm_forms += [(relative, form, frame) for form, frame in read_odm(path).items()]
            else:
                forms.append(RawForm(source_name(path.stem, taken), relative, read_source(path)))
        except RawDataError as exc:
            problems += exc.problems
    if problems:
        raise RawDataError(problems)
    for form in forms:
        form.missing = missing_tokens(form.frame)
        if form.missing:
            form.frame = form.frame.replace(form.missing, "")
    by_stem = {Path(f.path).stem.casefold(): f for f in forms}
    for relative, form, frame in odm_forms:
        same = by_stem.get(form.casefold())
        if same is not None and same.odm is None:
            same.odm = {"path": relative, "form": form}
        else:
            forms.append(RawForm(source_name(form, taken), relative, frame, {"path": relative, "form": form}))
    return forms


MISSING_TOKENS = ("NA", ".")  # R and SAS write missing values so in text exports


def missing_tokens(frame: pd.DataFrame) -> list[str]:
    """The tokens that stand for missing values in a file: found in at least two columns and a fifth of them."""
    found = []
    for token in MISSING_TOKENS:
        columns = sum(bool((frame[c] == token).any()) for c in frame.columns)
        if columns >= max(2, len(frame.columns) / 5):
            found.append(token)
    return found


def record_keys(form: RawForm, subject, visit) -> tuple[list[str], str | None]:
    """Columns that tell the form's rows apart, or (best guess, why it is not sure)."""
    frame = form.frame
    record = names.first_named(frame.columns, names.RECORD_NAMES)
    for keys in ([subject, visit, record], [subject, record], [subject, visit], [record], [subject],
                 [str(frame.columns[0])]):
        keys = list(dict.fromkeys(k for k in keys if k))
        if keys and not frame.duplicated(keys).any():
            return keys, None
    keys = list(dict.fromkeys(k for k in (subject, visit, record) if k)) or [str(frame.columns[0])]
    return keys, f"rows of {form.path} repeat {', '.join(keys)}: which columns identify a record?"


def _stack(drafts: list[DomainDraft]) -> tuple[list[dict], list[str]]:
    """The variables of several forms of one domain stacked (from: [a, b]): the same variable mapped
    differently by two forms is a TODO."""
    variables: dict[str, dict] = {}
    comments: dict[str, str] = {}
    for draft in drafts:
        for entry, comment in zip(draft.variables, draft.comments):
            name = entry["name"]
            placeholder = "map" not in entry  # a required variable this form has no column for
            if name not in variables or ("map" not in variables[name] and not placeholder):
                variables[name], comments[name] = dict(entry), f"{draft.form.source}: {comment}"
            elif placeholder or not _raw_columns(entry.get("map")):
                continue  # derived the same way whatever the form (--SEQ, --DY): the first form's
            elif entry.get("map") != variables[name].get("map") and "TODO" not in variables[name]:
                variables[name]["TODO"] = (f"the forms map {name} differently; {draft.form.source} has "
                                           f"{entry.get('map')} (a condition_add on the source, or one map)")
    order = {m.name: m.order for m in sdtmig_variables(drafts[0].domain)}
    keys = sorted(variables, key=lambda k: (order.get(k, 999), k))
    return [variables[k] for k in keys], [comments[k] for k in keys]


def _raw_columns(mapping) -> set[str]:
    """The raw columns a map reads (source, date, time), for comparing two maps."""
    if not isinstance(mapping, dict):
        return set()
    return {str(mapping[k]) for k in ("source", "date", "time") if k in mapping}


def draft_spec(raw_dir, out_dir) -> dict:
    """Write study.yaml, sdtm.yaml and draft-report.md of a first spec for the raw export; returns counts."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise RawDataError([f"{raw_dir}: raw export folder not found"])
    forms = read_raw_folder(raw_dir)
    ct = load_ct()
    study = {"studyid": _study_id(forms), "subjects": {}, "visits": {}}
    drafts, skipped = [], []
    for form in forms:
        draft = draft_domain(form, ct, study)
        (drafts.append(draft) if draft else skipped.append(form))
    by_domain: dict[str, list[DomainDraft]] = {}
    for draft in drafts:
        by_domain.setdefault(draft.domain, []).append(draft)
    domains, comments = {}, {}
    for domain in sorted(by_domain, key=lambda d: (d != "DM", d)):
        group = by_domain[domain]
        meta = sdtmig_dataset(domain)
        body: dict = {"label": meta.label if meta else todo("the domain label")}
        if meta:
            body["class"] = meta.class_.upper()
            body["structure"] = meta.structure
        body["from"] = group[0].form.source if len(group) == 1 else [d.form.source for d in group]
        melts = [d.melt for d in group if d.melt]
        if melts:
            body["melt"] = melts[0]
        keys = ["STUDYID", "USUBJID"] + [v for v in (f"{domain}TESTCD", "VISITNUM", f"{domain}SEQ")
                                         if any(e["name"] == v for d in group for e in d.variables)][:2]
        body["keys"] = keys
        body["sort"] = ["STUDYID", "USUBJID"] + ([f"{domain}SEQ"] if sdtmig_variable(domain, f"{domain}SEQ") else [])
        variables, notes = (group[0].variables, group[0].comments) if len(group) == 1 else _stack(group)
        body["variables"] = variables
        domains[domain] = body
        why = "; ".join(f"{d.form.source} ({d.form.path}): {d.confidence:.2f} {d.reason}" for d in group)
        comments[("domains", domain)] = why
        for position, note in enumerate(notes):
            comments[("domains", domain, "variables", position)] = note
    study_doc = _study_document(forms, study, raw_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    header = ("{name} drafted by `cdisc spec draft` from {raw}. Each proposal has a comment: its confidence "
              "(0 to 1) and why.\nResolve every TODO (spec loading and cdisc run refuse them), check each "
              "proposal, then run.")
    (out_dir / "study.yaml").write_text(dump(study_doc, header=header.format(name="study.yaml", raw=raw_dir.name)),
                                        encoding="utf-8")
    (out_dir / "sdtm.yaml").write_text(dump({"domains": domains}, comments=comments,
                                            header=header.format(name="sdtm.yaml", raw=raw_dir.name)),
                                       encoding="utf-8")
    report = draft_report(by_domain, skipped, study)
    (out_dir / "draft-report.md").write_text(report, encoding="utf-8")
    from specs.todo import find_todos

    todos = len(find_todos(study_doc)) + len(find_todos({"domains": domains}))
    return {"forms": len(forms), "domains": len(domains), "variables": sum(len(d["variables"]) for d in domains.values()),
            "todos": todos, "skipped": [f.path for f in skipped]}


def _study_id(forms: list[RawForm]) -> str | None:
    for form in forms:
        column = names.first_named(form.frame.columns, ("STUDYID", "STUDY", "PROTOCOL"))
        if column:
            found = values.distinct(form.frame[column])
            if len(found) == 1 and STUDYID.match(found.iloc[0]):
                return found.iloc[0]
    return None


def _study_document(forms: list[RawForm], study: dict, raw_dir: Path) -> dict:
    sources = {}
    for form in forms:
        subject = study["subjects"].get(form.source) or names.first_named(form.frame.columns, names.SUBJECT_NAMES)
        visit = names.first_named(form.frame.columns, names.VISIT_NAMES)
        keys, doubt = record_keys(form, subject, visit)
        entry: dict = {"path": form.path, "keys": keys}
        if form.missing:
            entry["missing"] = form.missing
        if doubt:
            entry["TODO"] = doubt
        if form.odm:
            entry["odm"] = form.odm
        if not subject:
            entry["description"] = "no subject column recognised: a lookup table? (role: lookup)"
        sources[form.source] = entry
    studyid = study["studyid"] or todo("the study identifier (letters, digits, _ and -)")
    document = {"version": 2,
                "study": {"studyid": studyid, "name": todo("the study's name"),
                          "description": todo("one sentence on the study"), "protocol": studyid,
                          "standards": {"sdtm": "2.0", "sdtmig": "3.4", "define": "2.1.0"},
                          "ct": {"sdtm": _ct_date()}},
                "sources": sources}
    visits = []
    for key, labels in study["visits"].items():
        for label in labels:
            visits.append({"visitnum": len(visits) + 1, "visit": str(label).upper(), "match": {key: label}})
    if visits:
        document["design"] = {"TODO": "check the visits: names, numbers and order (numbered here in order of "
                                      "first appearance in the raw files); one visit named differently by two "
                                      "files is one entry with both in match",
                              "visits": visits}
    return document


def _ct_date() -> str:
    ct = load_ct()
    return ct.package_dates.get("sdtm") or next(iter(ct.package_dates.values()), "")


def draft_report(by_domain: dict[str, list[DomainDraft]], skipped: list[RawForm], study: dict) -> str:
    lines = ["# Draft report (cdisc spec draft)", "",
             "Confidence 0 to 1 per proposal; TODO marks what a person must decide (cdisc run refuses the spec "
             "until each is resolved).", ""]
    for domain, group in sorted(by_domain.items()):
        for draft in group:
            lines += [f"## {domain} from {draft.form.path}" + (f" (ODM form {draft.form.odm['form']})"
                                                               if draft.form.odm else ""), "",
                      f"- domain: {draft.confidence:.2f} {draft.reason}"]
            for entry, comment in zip(draft.variables, draft.comments):
                flag = " **TODO**" if _has_todo(entry) else ""
                lines.append(f"- {entry['name']}: {comment}{flag}")
            for note in draft.notes:
                lines.append(f"- note: {note}")
            if draft.unused:
                lines.append(f"- columns not mapped (map them, or leave them out): {', '.join(draft.unused)}")
            lines.append("")
    if skipped:
        lines += ["## Files with no domain recognised", ""]
        lines += [f"- {f.path}" + (f" (ODM form {f.odm['form']})" if f.odm else "") +
                  f": columns {', '.join(map(str, list(f.frame.columns)[:12]))}" for f in skipped]
        lines.append("")
    return "\n".join(lines)


def _has_todo(entry) -> bool:
    from specs.todo import find_todos

    return bool(find_todos(entry))
