"""One raw form -> one domain's draft (cdisc spec draft): the domain from the form's name and columns (or a
wide findings form from its test columns), each column a variable from its name, dates and times with their
formats, controlled values with their codelist, the derived variables the domain needs; each proposal with
its confidence and reason, and a TODO where the draft cannot decide."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc import draft_names as names
from cdisc import draft_values as values
from specs.standards import sdtmig_variable, sdtmig_variables
from specs.todo import todo


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


def guess_domain(form: RawForm, ct) -> tuple[str | None, float, str, tuple | None]:
    """(domain, confidence, why, wide) of a raw form: from its name and column names, or, when two or more
    numeric columns are the tests of a findings domain, that domain as a wide form (wide: (domain,
    {column: (TESTCD, confidence, why)}))."""
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
    return domain, confidence, reason, wide


def draft_domain(form: RawForm, ct, study: dict) -> DomainDraft | None:
    frame = form.frame
    columns = [str(c) for c in frame.columns]
    domain, confidence, reason, wide = guess_domain(form, ct)
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
    timing = timing_entries(domain, frame, used, draft)
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


def timing_entries(domain: str, frame: pd.DataFrame, used: set, draft: DomainDraft) -> dict[str, dict]:
    """The --DTC mappings of a form: each date column (with its time column when there is one) read as
    assign_datetime into the timing variable its name gives; the columns taken are added to ``used``, a date
    column no variable is recognised for is a TODO entry and a note."""
    columns = [str(c) for c in frame.columns]
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
    return timing


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
