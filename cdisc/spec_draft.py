"""`cdisc spec draft --raw DIR --out SPEC_DIR`: a first spec from a raw export.

Every raw file (CSV, XPT, SAS7BDAT, the forms of an ODM file) becomes a source; each form gets a domain
from its column names and its name, each column a variable from its name (cdisc.draft_names), dates and
times their formats and controlled values their codelist from the values (cdisc.draft_values), a wide
findings form (one column per test) a melt. Every proposal carries a confidence and its reason, as a
comment in sdtm.yaml and in draft-report.md. What the draft cannot decide is written as a TODO
(specs.todo), which spec loading refuses, so that ``cdisc run`` starts only once a person has decided.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc import draft_names as names
from cdisc import draft_values as values
from specs.ct import load_ct
from specs.errors import RawDataError
from specs.standards import sdtmig_dataset, sdtmig_variable, sdtmig_variables
from specs.todo import todo
from specs.yaml_writer import dump

DRAFT_FILES = ("study.yaml", "sdtm.yaml", "draft-report.md")
RAW_SUFFIXES = (".csv", ".xpt", ".sas7bdat", ".xml")
STUDYID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass
class RawForm:
    source: str  # the source name in study.yaml
    path: str  # relative to the raw folder, '/' separated
    frame: pd.DataFrame
    odm: dict | None = None
    missing: list[str] = field(default_factory=list)  # values that mean missing here (R's NA)


@dataclass
class DomainDraft:
    domain: str
    form: RawForm
    confidence: float
    reason: str
    variables: list[dict] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # one per variable
    melt: dict | None = None
    unused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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


def variable_codelist(meta, ct) -> str | None:
    """The short name of the variable's CDISC codelist in the loaded CT (the IG names it or gives its code)."""
    for name in (meta.codelist_names + meta.codelists) if meta else ():
        if name in ct:
            return ct.codelist(name).short
    return None


def map_for(domain: str, variable: str, column: str, ct, domain_draft: DomainDraft) -> tuple[dict, dict]:
    """(the variable entry, extra note) for a column assigned to a variable."""
    meta = sdtmig_variable(domain, variable)
    entry: dict = {"name": variable}
    frame = domain_draft.form.frame
    codelist = variable_codelist(meta, ct)
    if meta and meta.type == "Num":
        return {**entry, "map": {"algorithm": "assign_numeric", "source": column}}, {}
    if codelist is None:
        return {**entry, "map": {"algorithm": "assign_no_ct", "source": column}}, {}
    match = values.match_terms(frame[column], ct.codelist(codelist))
    mapping = {"algorithm": "assign_ct", "source": column}
    if match.unmatched:
        mapping["terms"] = {v: todo(f"a term of {codelist} for '{v}'") for v in match.unmatched}
    return {**entry, "codelist": codelist, "map": mapping}, {"ct": match}


def draft_domain(form: RawForm, ct, study: dict) -> DomainDraft | None:
    frame = form.frame
    columns = [str(c) for c in frame.columns]
    stem = form.odm["form"] if form.odm and Path(form.path).suffix == ".xml" else Path(form.path).stem
    wide = None
    for domain in sorted(names.domain_codes()):
        testcd = sdtmig_variable(domain, f"{domain}TESTCD")
        codelist = variable_codelist(testcd, ct)
        if codelist and names.domain_class(domain) == "FINDINGS":
            tests = values.wide_tests(columns, ct.codelist(codelist), names.normalize)
            tests = {c: t for c, t in tests.items() if values.is_numeric_column(frame[c])}
            if len(tests) >= 2 and (wide is None or len(tests) > len(wide[1])):
                wide = (domain, tests)
    domain, confidence, reason = names.domain_from_names(stem, columns)
    if wide and (domain is None or domain == wide[0] or confidence < 0.9):
        domain, confidence = wide[0], 0.85
        reason = f"{len(wide[1])} columns are {domain} tests (one column per test: a wide findings form)"
    if domain is None:
        return None
    draft = DomainDraft(domain, form, confidence, reason)
    subject = names.first_named(columns, names.SUBJECT_NAMES)
    site = names.first_named(columns, names.SITE_NAMES)
    visit = names.first_named(columns, names.VISIT_NAMES)
    if subject is None:
        return None  # a table with no subject column is a lookup or a document, not a domain's records
    study["subjects"].setdefault(form.source, subject)
    proposals: dict[str, list[names.Proposal]] = {}
    used = {c for c in (subject, visit) if c}
    findings_long = names.domain_class(domain) == "FINDINGS" and not wide
    melted = {}
    if wide:
        melted = {c: t[0] for c, t in wide[1].items()}
        draft.melt = {"columns": melted, "name": "TESTCD", "value": "RESULT"}
        for column, (code, conf, why) in wide[1].items():
            draft.notes.append(f"test column {column} -> {code} ({conf:.2f}: {why})")
        used |= set(melted)
    # dates and times: joined into one --DTC per date column (with its time column when there is one)
    dates, times = {}, {}
    for column in columns:
        name = names.normalize(column)[0]
        if column in used or (name.endswith("DTC") and sdtmig_variable(domain, name)):
            continue  # already ISO 8601 under its SDTM name: taken as it is
        found = values.detect_date_format(column, frame[column])
        if found:
            dates[column] = found
            continue
        time_format = values.detect_time_format(column, frame[column])
        if time_format:
            times[column] = time_format
    timing: dict[str, dict] = {}
    for column, found in dates.items():
        target = names.date_target(domain, column)
        why = "CDASH/SDTMIG date name"
        only = next((v for v in (f"{domain}DTC", f"{domain}STDTC") if sdtmig_variable(domain, v)), None)
        if target is None and len(dates) == 1 and only:
            target, why = only, "the form's only date column"
        stem_d = names.DATE_SUFFIX.sub("", names.normalize(column)[0])
        time = next((t for t in times if names.TIME_SUFFIX.sub("", names.normalize(t)[0]) == stem_d), None)
        if time is None and len(dates) == 1 and len(times) == 1:
            time = next(iter(times))
        fmt: object = found.formats[0] if len(found.formats) == 1 else found.formats
        why_fmt = f"format {', '.join(found.formats)} reads every value"
        if found.ambiguous:
            fmt = todo(f"{' or '.join([found.formats[0]] + [a.split(' ')[0] for a in found.ambiguous])}? "
                       f"every value reads in more than one day/month order: {'; '.join(found.ambiguous)}")
            why_fmt = "ambiguous day/month order"
        if found.unread:
            why_fmt += f"; no known format reads {', '.join(repr(v) for v in found.unread)}"
        mapping = {"algorithm": "assign_datetime", "date": column}
        if time:
            mapping["time"] = time
            used.add(time)
            if times[time] not in ("HH:MM", "HH:MM:SS"):
                mapping["time_format"] = times[time]
        mapping["format"] = fmt
        used.add(column)
        if target is None:
            draft.notes.append(f"date column {column} ({why_fmt}): no SDTM variable recognised from its name")
            timing[f"__{column}"] = {"name": todo(f"the {domain} timing variable of the date {column}"),
                                     "map": mapping, "__why": (0.3, why_fmt)}
            continue
        conf = 0.9 if why.startswith("CDASH") else 0.5
        timing[target] = {"name": target, "map": mapping,
                          "__why": (conf if not found.ambiguous else 0.4,
                                    f"{column}{' + ' + time if time else ''}: {why}; {why_fmt}")}
    for column in columns:
        if column in used or names.normalize(column)[0] == "DOMAIN":
            continue
        for proposal in names.propose_variable(domain, column, findings_long):
            proposals.setdefault(proposal.variable, []).append(proposal)
    if subject and domain == "DM" and "SUBJID" not in proposals and names.normalize(subject)[0] != "USUBJID":
        proposals["SUBJID"] = [names.Proposal("SUBJID", subject, 0.7, "the subject column")]
    if site and domain == "DM" and "SITEID" not in proposals:
        proposals["SITEID"] = [names.Proposal("SITEID", site, 0.7, "the site column")]
    entries: dict[str, tuple[dict, float, str]] = {}
    studyid = study.get("studyid")
    if "STUDYID" in proposals:
        pass
    else:
        entries["STUDYID"] = ({"name": "STUDYID", "map": {"algorithm": "hardcode_no_ct",
                                                           "value": studyid or todo("the study identifier")}},
                              0.9 if studyid else 0.0, "the study identifier")
    entries["DOMAIN"] = ({"name": "DOMAIN", "map": {"algorithm": "hardcode_no_ct", "value": domain}}, 1.0,
                         "the domain")
    if "USUBJID" not in proposals:
        if subject and names.normalize(subject)[0] == "USUBJID":
            entries["USUBJID"] = ({"name": "USUBJID", "map": {"algorithm": "assign_no_ct", "source": subject}},
                                  0.95, "the column is named as the SDTMIG variable")
        elif subject:
            entries["USUBJID"] = ({"name": "USUBJID", "map": {"algorithm": "derive_usubjid", "source": subject}},
                                  0.85, f"{subject} is the subject column")
        else:
            entries["USUBJID"] = ({"name": "USUBJID", "TODO": "no subject column recognised"}, 0.0,
                                  "no subject column")
    for variable, candidates in proposals.items():
        candidates.sort(key=lambda p: -p.confidence)
        best = candidates[0]
        ties = [p for p in candidates if p.confidence == best.confidence]
        if len(ties) > 1:
            entry = {"name": variable, "map": {"algorithm": "assign_no_ct", "source": todo(
                f"{' or '.join(p.column for p in ties)}? each is named as {variable}")}}
            entries[variable] = (entry, 0.3, f"{len(ties)} columns named as {variable}")
            used |= {p.column for p in ties}
            continue
        entry, extra = map_for(domain, variable, best.column, ct, draft)
        why = best.reason
        if "ct" in extra:
            why += f"; {extra['ct'].summary()}"
            if extra["ct"].unmatched:
                why += f" ({', '.join(repr(v) for v in extra['ct'].unmatched[:5])})"
        entries[variable] = (entry, best.confidence, f"{best.column}: {why}")
        used.add(best.column)
        for other in candidates[1:]:
            draft.notes.append(f"{other.column} also looks like {variable} ({other.reason}); {best.column} chosen")
    for key, entry in timing.items():
        why = entry.pop("__why")
        entries.setdefault(key, (entry, *why))
    if wide:
        testcd = f"{domain}TESTCD"
        codelist = variable_codelist(sdtmig_variable(domain, testcd), ct)
        entries[testcd] = ({"name": testcd, "codelist": codelist, "map": {"algorithm": "assign_ct",
                                                                           "source": "TESTCD"}},
                           0.85, "the test of each melted column")
        entries[f"{domain}ORRES"] = ({"name": f"{domain}ORRES", "map": {"algorithm": "assign_no_ct",
                                                                        "source": "RESULT"}},
                                     0.85, "the value of each melted column")
        units = {code: todo(f"the unit of {code} (empty when it has none)") for code in melted.values()}
        entries[f"{domain}ORRESU"] = ({"name": f"{domain}ORRESU", "map": {"algorithm": "assign_ct",
                                                                          "source": "TESTCD", "terms": units}},
                                      0.5, "the unit of each test: a wide form does not say it")
    if f"{domain}TESTCD" in entries or f"{domain}TESTCD" in proposals:
        _findings_derived(domain, entries)
    seq = f"{domain}SEQ"
    if sdtmig_variable(domain, seq):
        order = [v for v in (f"{domain}TESTCD", f"{domain}STDTC", f"{domain}DTC") if v in entries][:1]
        entries[seq] = ({"name": seq, "map": {"algorithm": "derive_seq", "order": order or ["USUBJID"]}}, 0.9,
                        "the sequence number within the subject")
    if visit and domain not in ("DM",) and sdtmig_variable(domain, "VISITNUM"):
        key = names.normalize(visit)[0].lower()
        args = {} if key == "folder" else {"match": key}
        entries["VISITNUM"] = ({"name": "VISITNUM", "map": {"algorithm": "derive_visitnum", "source": visit,
                                                            **args}}, 0.8, f"{visit} is the visit column")
        entries["VISIT"] = ({"name": "VISIT", "map": {"algorithm": "derive_visit", "source": visit, **args}}, 0.8,
                            f"{visit} is the visit column")
        study["visits"].setdefault(key, [])
        seen = study["visits"][key]
        seen += [v for v in values.distinct(frame[visit]) if v not in seen]
    for dtc, dy in (("DTC", "DY"), ("STDTC", "STDY"), ("ENDTC", "ENDY")):
        if f"{domain}{dtc}" in entries and sdtmig_variable(domain, f"{domain}{dy}"):
            entries[f"{domain}{dy}"] = ({"name": f"{domain}{dy}", "map": {"algorithm": "derive_study_day",
                                                                          "dtc": f"{domain}{dtc}"}}, 0.9,
                                        f"the study day of {domain}{dtc}")
    for meta in sdtmig_variables(domain):
        if meta.core == "Req" and meta.name not in entries:
            entries[meta.name] = ({"name": meta.name, "TODO": "a required variable no raw column was recognised "
                                                              "for: map it or derive it"}, 0.0, "required")
    order = {m.name: m.order for m in sdtmig_variables(domain)}
    for key in sorted(entries, key=lambda k: (order.get(k, 999), k)):
        entry, conf, why = entries[key]
        draft.variables.append(entry)
        draft.comments.append(f"{conf:.2f} {why}")
    draft.unused = [c for c in columns if c not in used and c != site]
    return draft


def _findings_derived(domain: str, entries: dict) -> None:
    """The standard results of a findings domain, from its original results."""
    if f"{domain}ORRES" not in entries:
        return
    derived = {f"{domain}TEST": ("derive_test_name", {"testcd": f"{domain}TESTCD"}),
               f"{domain}STRESC": ("derive_stresc", {"orres": f"{domain}ORRES", "orresu": f"{domain}ORRESU",
                                                      "testcd": f"{domain}TESTCD"}),
               f"{domain}STRESN": ("derive_stresn", {"stresc": f"{domain}STRESC"}),
               f"{domain}STRESU": ("derive_stresu", {"orresu": f"{domain}ORRESU", "testcd": f"{domain}TESTCD"})}
    test = entries.get(f"{domain}TEST")
    if test and f"{domain}TESTCD" in entries and test[0].get("map", {}).get("algorithm") != "derive_test_name":
        # the test name from the code's CDISC name, not the vendor's text (which is often not a CT term)
        del entries[f"{domain}TEST"]
    for variable, (algorithm, args) in derived.items():
        if variable not in entries and sdtmig_variable(domain, variable):
            entries[variable] = ({"name": variable, "map": {"algorithm": algorithm, **args}}, 0.8,
                                 "the standard result of the original result")


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
