"""The reviewer's guides of a package, generated from the spec and the run: the clinical study data
reviewer's guide (csdrg.pdf, beside the SDTM define.xml) and the analysis data reviewer's guide (adrg.pdf,
beside the ADaM define.xml), with the sections of the PhUSE templates (cSDRG v1.2, ADRG v1.2).

What they say comes from the spec (study, standards, sources, trial design, the ADaM intermediate
datasets, the explanations of known conformance findings in study.yaml ``reviewers_guide.findings``), the
define models (datasets, records, methods, codelists, analysis results) and the run (the data cut, the
validator's findings). Each guide is written to ``<folder>/<name>.pdf`` and declared in that folder's
define.xml as a def:SupplementalDoc (``define.package.write_submission(guides=True)``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from define.acronyms import acronyms_used
from define.analysis_rules import analysis_rules
from define.model import DefineModel, Leaf
from define.pdfdoc import PdfDocument

GUIDES = {"sdtm": Leaf("LF.csdrg", "csdrg.pdf", "Clinical Study Data Reviewer's Guide"),
          "adam": Leaf("LF.adrg", "adrg.pdf", "Analysis Data Reviewer's Guide")}
NO_EXPLANATION = "No explanation given by the sponsor."


# --- what both guides say ---------------------------------------------------------------------------

def _study_table(doc: PdfDocument, spec) -> None:
    study = spec.study
    rows = [["Study identifier", study.get("studyid", "")], ["Protocol", study.get("protocol", "")],
            ["Study name", study.get("name", "")], ["Title", " ".join(str(study.get("description", "")).split())],
            ["Sponsor", study.get("sponsor", "")]]
    doc.table(["Item", "Value"], [r for r in rows if r[1]], [40, 150])


def _standards_table(doc: PdfDocument, spec, kind: str) -> None:
    study = spec.study
    standards, ct = study.get("standards", {}), study.get("ct", {})
    rows = []
    if kind == "sdtm":
        rows += [["SDTM", standards.get("sdtm", "")], ["SDTMIG", standards.get("sdtmig", "")],
                 ["CDISC SDTM Controlled Terminology", ct.get("sdtm", "")]]
    else:
        rows += [["ADaMIG", standards.get("adamig", "")], ["CDISC ADaM Controlled Terminology", ct.get("adam", "")],
                 ["Analysis Results Metadata", "1.0"]]
    rows += [["Define-XML", standards.get("define", "2.1.0")]]
    rows += [[name, str(version)] for name, version in (study.get("dictionaries") or {}).items()]
    doc.table(["Standard or dictionary", "Version"], [r for r in rows if r[1]], [100, 90])


def _design(doc: PdfDocument, spec) -> None:
    design = getattr(spec, "design", None) or {}
    elements = {e["etcd"]: e for e in design.get("elements", [])}
    if design.get("arms"):
        doc.para("Arms and their planned sequence of elements (TA):")
        doc.table(["ARMCD", "Arm", "Elements in order"],
                  [[a["armcd"], a["arm"], " > ".join(elements.get(e, {}).get("element", e) for e in a["elements"])]
                   for a in design["arms"]], [30, 60, 100])
    if elements:
        doc.para("Elements (TE) and the epochs they belong to:")
        doc.table(["ETCD", "Element", "Epoch", "Start rule", "End rule", "Planned"],
                  [[e["etcd"], e.get("element", ""), e.get("epoch", ""), e.get("testrl", ""), e.get("teenrl", ""),
                    e.get("tedur", "")] for e in elements.values()], [16, 36, 34, 42, 44, 18])
    if design.get("visits"):
        doc.para("Planned visits (TV):")
        doc.table(["VISITNUM", "VISIT", "Study day", "Start rule"],
                  [[v.get("visitnum"), v.get("visit"), v.get("visitdy", ""), v.get("tvstrl", "")]
                   for v in design["visits"]], [22, 40, 22, 106])


@dataclass(frozen=True)
class DatasetSummary:
    """What the guides say of a dataset's values, worked out in the one pass that reads it (``define.build``
    calls ``summarize`` through ``write_submission``): the guides then read no dataset themselves."""
    records: int
    data_cut: dict[str, str] | None = None  # TS: TSVAL of DCUTDTC and DCUTDESC
    cut_text: str | None = None  # ADSL: the data cut its DCUTDT/DCUTDESC say
    flags: tuple[tuple[str, int], ...] = ()  # ADSL: each population flag and its subjects with Y
    parameters: tuple[tuple[str, str, int], ...] = ()  # each PARAMCD (PARAM) and its records
    trace: tuple[str, str] | None = None  # SRCDOM counts, records with SRCSEQL


def summarize(name: str, data: pd.DataFrame) -> DatasetSummary:
    """The ``DatasetSummary`` of dataset ``name`` (whole columns; the data are not changed)."""
    ts = None
    if name == "TS" and {"TSPARMCD", "TSVAL"} <= set(data.columns):
        values = dict(zip(data["TSPARMCD"].astype(str), data["TSVAL"].astype(str)))
        ts = {k: values[k] for k in ("DCUTDTC", "DCUTDESC") if k in values}
    cut_text, flags = None, ()
    if name == "ADSL":
        if "DCUTDT" in data.columns and data["DCUTDT"].notna().any():
            dates = pd.to_datetime(data["DCUTDT"].dropna(), unit="D", origin="1960-01-01").dt.date.astype(str)
            description = data["DCUTDESC"].dropna().astype(str) if "DCUTDESC" in data.columns else \
                pd.Series(dtype=str)
            cut_text = f"Data cut of {dates.min()}" + ("" if dates.nunique() == 1 else f" to {dates.max()} (per subject)")
            cut_text += f" ({description.iloc[0]})" if not description.empty and description.iloc[0] else ""
        flags = tuple((f, int((data[f] == "Y").sum())) for f in data.columns if f.endswith("FL") and f not in ("DTHFL",))
    parameters = ()
    if "PARAMCD" in data.columns:
        counts = data.groupby(["PARAMCD", "PARAM"], sort=False).size() if "PARAM" in data.columns else \
            data.groupby("PARAMCD", sort=False).size()
        parameters = tuple((*(key if isinstance(key, tuple) else (key, "")), int(count))
                           for key, count in counts.items())
    trace = None
    if "SRCDOM" in data.columns:
        domains = data["SRCDOM"].astype("string").fillna("(none: derived)").value_counts(sort=False)
        seql = int(data["SRCSEQL"].astype("string").fillna("").str.strip().ne("").sum()) \
            if "SRCSEQL" in data.columns else 0
        trace = (", ".join(f"{d}: {n}" for d, n in domains.items()), str(seql))
    return DatasetSummary(len(data), ts, cut_text, flags, parameters, trace)


def summary(model: DefineModel, name: str) -> DatasetSummary:
    """The summary of a dataset of ``model``: the one worked out when it was described, else read now."""
    known = getattr(model, "summaries", None)
    if known is None:
        return summarize(name, model.data[name])
    if name not in known:
        known[name] = summarize(name, model.data[name])
    return known[name]


def _datasets_table(doc: PdfDocument, model: DefineModel, extra=None) -> None:
    rows = []
    for group in model.groups:
        row = [group.name, group.label, group.cls or "", group.structure, ", ".join(group.keys),
               str(summary(model, group.name).records)]
        rows.append(row + ([extra(group)] if extra else []))
    headers = ["Dataset", "Label", "Class", "Structure", "Keys", "Records"] + (["Notes"] if extra else [])
    widths = [16, 32, 26, 46, 52, 18] if not extra else [15, 28, 22, 38, 38, 14, 35]
    doc.table(headers, rows, widths)


def data_cut(model: DefineModel) -> str:
    """The data cut the datasets were made at, as the data say (TS DCUTDTC/DCUTDESC, ADSL DCUTDT/DCUTDESC)."""
    values = summary(model, "TS").data_cut if "TS" in set(model.data) else None
    if values and values.get("DCUTDTC"):
        return f"Data cut of {values['DCUTDTC']}" + (f" ({values['DCUTDESC']})" if values.get("DCUTDESC") else "")
    text = summary(model, "ADSL").cut_text if "ADSL" in set(model.data) else None
    if text is not None:
        return text
    return "No data cut: the datasets hold all the data of the raw export."


def explanation(known: list[dict], rule: str, dataset: str, variable: str) -> str:
    """The sponsor's explanation of a finding (the first entry whose rule, and dataset/variable when given, match)."""
    for entry in known:
        if str(entry.get("rule")) != rule:
            continue
        if entry.get("dataset") and str(entry["dataset"]) != dataset:
            continue
        if entry.get("variable") and str(entry["variable"]) != variable:
            continue
        return " ".join(str(entry.get("explanation", "")).split()) or NO_EXPLANATION
    return NO_EXPLANATION


def findings_summary(findings: pd.DataFrame | None, known: list[dict]) -> pd.DataFrame:
    """One row per rule, severity, dataset and variable: records (the count of each finding) and the first
    message, with the spec's explanation."""
    columns = ["rule", "severity", "dataset", "variable", "records", "message", "explanation"]
    if findings is None or findings.empty:
        return pd.DataFrame(columns=columns)
    frame = findings.copy()
    for column in ("dataset", "variable"):
        frame[column] = frame[column].astype("string").fillna("") if column in frame else ""
    frame["records"] = pd.to_numeric(frame["count"], errors="coerce").fillna(1) if "count" in frame else 1
    grouped = frame.groupby(["rule", "severity", "dataset", "variable"], sort=True, dropna=False).agg(
        records=("records", "sum"), message=("message", "first")).reset_index()
    grouped["records"] = grouped["records"].astype(int)
    grouped["explanation"] = [explanation(known, r, d, v) for r, d, v in
                              zip(grouped["rule"], grouped["dataset"], grouped["variable"])]
    order = {"Error": 0, "Warning": 1, "Notice": 2}
    return grouped.sort_values(["severity", "rule", "dataset"], key=lambda s: s.map(order).fillna(3)
                               if s.name == "severity" else s)[columns].reset_index(drop=True)


def _conformance(doc: PdfDocument, findings: pd.DataFrame | None, known: list[dict], version: str) -> None:
    doc.heading("Conformance inputs", 2)
    doc.para(f"The datasets and define.xml as written were checked by the validator of cdisc-toolkit {version} "
             "(SDTMIG/ADaMIG conformance rules, FDA business and validator rules it implements, CDISC CT, "
             "Define-XML consistency). The full report (validation.html, .json, .csv, .xlsx) is in the validation "
             "folder of the run.")
    doc.heading("Issues summary", 2)
    if findings is None:
        doc.para("The conformance check was not run for this package (cdisc run --no-validate).")
        return
    summary = findings_summary(findings, known)
    if summary.empty:
        doc.para("The validator reported no finding.")
        return
    counts = summary.groupby("severity")["records"].sum()
    doc.para("Findings: " + ", ".join(f"{counts.get(s, 0)} {s.lower()}(s)" for s in ("Error", "Warning", "Notice"))
             + ". Each is listed once per rule, dataset and variable with the sponsor's explanation.")
    doc.table(["Rule", "Severity", "Dataset", "Variable", "Records", "Message", "Explanation"],
              summary.astype(str).values.tolist(), [15, 15, 14, 20, 16, 53, 57])


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("cdisc-toolkit")
    except Exception:
        return "0"


class _TextOnly:
    """Takes what a guide writes, as text, and writes nothing: the first pass that finds the acronyms the
    guide uses (PhUSE puts the acronyms at the start, before the text that uses them)."""

    def __init__(self, *texts: str):
        self.parts = list(texts)

    def heading(self, text: str, level: int = 1) -> str:
        self.parts.append(text)
        return ""

    def para(self, text: str) -> None:
        self.parts.append(text)

    def bullets(self, items: list[str]) -> None:
        self.parts.extend(items)

    def table(self, headers: list[str], rows: list[list], widths: list[float]) -> None:
        self.parts.extend(headers)
        self.parts.extend("" if cell is None else str(cell) for row in rows for cell in row)

    def text(self) -> str:
        return "\n".join(self.parts)


def _acronyms(doc, acronyms: list[list[str]] | None) -> None:
    doc.heading("Acronyms", 2)
    if acronyms is None:  # the first pass: the list is not known yet
        return
    if acronyms:
        doc.table(["Acronym", "Meaning"], acronyms, [30, 160])
    else:
        doc.para("This guide uses no acronym.")


def study_acronyms(spec) -> dict:
    """The study's own acronyms (study.yaml ``reviewers_guide.acronyms``: acronym -> meaning)."""
    guide = getattr(spec, "reviewers_guide", None) or {}
    return dict(guide.get("acronyms") or {})


def _two_passes(body, title: str, subtitle: str, spec, created: datetime | None) -> bytes:
    """The guide written by ``body(doc, acronyms)`` with the acronyms its own text uses."""
    collected = _TextOnly(title, subtitle)
    body(collected, None)
    acronyms = acronyms_used(collected.text(), study_acronyms(spec))
    doc = PdfDocument(title, subtitle, created)
    body(doc, acronyms)
    return doc.output()


# --- the two guides ----------------------------------------------------------------------------------

def csdrg(spec, model: DefineModel, findings: pd.DataFrame | None, created: datetime | None = None) -> bytes:
    """The clinical study data reviewer's guide of the SDTM package ``model``."""
    study = spec.study
    return _two_passes(lambda doc, acronyms: _csdrg(doc, acronyms, spec, model, findings),
                       "Clinical Study Data Reviewer's Guide",
                       f"Study {study.get('studyid', '')} ({study.get('name', '')}): SDTM tabulation datasets", spec,
                       created)


def _csdrg(doc, acronyms, spec, model: DefineModel, findings: pd.DataFrame | None) -> None:
    study = spec.study
    known = reviewers_findings(spec)
    doc.heading("Introduction")
    doc.heading("Purpose", 2)
    doc.para("This guide describes the SDTM datasets of the study: how they were made from the raw export, the "
             "trial design they represent, the data cut, and the conformance findings with their explanations. "
             "It was generated with the datasets from the same study specification.")
    _study_table(doc, spec)
    _acronyms(doc, acronyms)
    doc.heading("Study data standards and dictionary inventory", 2)
    _standards_table(doc, spec, "sdtm")
    doc.heading("Source data", 2)
    doc.table(["Source", "File", "Description"],
              [[key, s.get("path", ""), s.get("description", "") or ("EDC form " + s["odm"]["form"] if s.get("odm")
                                                                     else "")]
               for key, s in spec.sources.items()], [30, 60, 100])
    doc.heading("Protocol description")
    doc.heading("Protocol number and title", 2)
    doc.para(f"{study.get('protocol', '')}: {' '.join(str(study.get('description', '')).split())}")
    doc.heading("Protocol design in relation to the trial design datasets", 2)
    _design(doc, spec)
    doc.heading("Subject data description")
    doc.heading("Overview", 2)
    _datasets_table(doc, model)
    doc.heading("Annotated CRF", 2)
    if any(d.id == "LF.acrf" for d in model.documents):
        doc.para("acrf.pdf, beside define.xml, shows each EDC form with its questions and the SDTM variables each "
                 "item is submitted in; define.xml origins of collected variables point at its pages.")
    else:
        doc.para("No annotated CRF is part of this package.")
    doc.heading("Data cut", 2)
    doc.para(data_cut(model))
    doc.heading("Traceability", 2)
    doc.para("Each dataset, the raw sources it is made from (records not mapped are listed by the run with the "
             "reason), and the derived variables whose method define.xml gives:")
    rows = []
    for group in model.groups:
        domain = spec.domains.get(group.domain or group.name, {})
        sources = _domain_sources(domain)
        files = [spec.sources[s]["path"] for s in sources if s in spec.sources]
        derived = [model.items[r.item_oid].name for r in group.items if r.method_oid]
        rows.append([group.name, ", ".join(files) or ("trial design of the study specification" if not sources
                                                       else ", ".join(sources)), ", ".join(derived)])
    doc.table(["Dataset", "Made from", "Derived variables (define.xml methods)"], rows, [18, 72, 100])
    doc.heading("Data conformance summary")
    _conformance(doc, findings, known, _version())


def adrg(spec, model: DefineModel, adam_spec, findings: pd.DataFrame | None, created: datetime | None = None
         ) -> bytes:
    """The analysis data reviewer's guide of the ADaM package ``model``."""
    study = spec.study
    return _two_passes(lambda doc, acronyms: _adrg(doc, acronyms, spec, model, adam_spec, findings),
                       "Analysis Data Reviewer's Guide",
                       f"Study {study.get('studyid', '')} ({study.get('name', '')}): ADaM analysis datasets", spec,
                       created)


def _adrg(doc, acronyms, spec, model: DefineModel, adam_spec, findings: pd.DataFrame | None) -> None:
    study = spec.study
    known = reviewers_findings(spec)
    methods = {m.oid: m.description for m in model.methods}
    doc.heading("Introduction")
    doc.heading("Purpose", 2)
    doc.para("This guide describes the ADaM datasets of the study: populations, treatment variables, analysis "
             "visits and baselines, imputations, the intermediate datasets, traceability to SDTM, the analysis "
             "results of the key endpoints and the conformance findings with their explanations.")
    _study_table(doc, spec)
    _acronyms(doc, acronyms)
    doc.heading("Study data standards and dictionary inventory", 2)
    _standards_table(doc, spec, "adam")
    doc.heading("Source data", 2)
    doc.para("The ADaM datasets were made from the SDTM datasets of the same package (tabulations/sdtm), read "
             "from the XPT files as submitted.")
    doc.heading("Protocol description")
    doc.heading("Protocol number and title", 2)
    doc.para(f"{study.get('protocol', '')}: {' '.join(str(study.get('description', '')).split())}")
    doc.heading("Protocol design", 2)
    _design(doc, spec)
    doc.heading("Analysis considerations related to multiple analysis datasets")
    doc.heading("Analysis populations", 2)
    if "ADSL" in set(model.data):  # (the keys: ``in`` on a Mapping may read the dataset)
        doc.table(["Flag", "Subjects Y", "Definition"],
                  [[f, str(count), methods.get(f"MT.ADSL.{f}", "")] for f, count in summary(model, "ADSL").flags],
                  [20, 20, 150])
    doc.heading("Treatment variables", 2)
    doc.table(["Variable", "Values", "Definition"], _codelist_rows(model, ("TRT", "APERIOD")), [24, 66, 100])
    doc.heading("Analysis visits, baselines and imputations", 2)
    doc.table(["Variable", "Definition"],
              [[oid.split(".", 1)[1], text] for oid, text in methods.items()
               if oid.split(".")[-1] in ("AVISIT", "ABLFL", "BASETYPE", "DTYPE", "ASTDT", "AENDT", "ANL01FL")],
              [30, 160])
    doc.heading("Special analysis rules", 2)
    rules = analysis_rules(adam_spec.datasets)
    if rules:
        doc.para("The rules the ADaM specification applies (baselines, analysis windows, imputations, parameters "
                 "derived from others, treatment emergence), in the words of its derivation steps; datasets not "
                 "submitted (intermediate) feed the datasets that are:")
        doc.table(["Dataset", "Rule", "What the specification does"], rules, [20, 30, 140])
    else:
        doc.para("The ADaM specification applies no baseline, window, imputation or derived-parameter rule.")
    doc.heading("Analysis data creation and processing issues")
    doc.heading("Data cut", 2)
    doc.para(data_cut(model))
    doc.heading("Intermediate datasets and data dependencies", 2)
    rows = []
    for name, ds in adam_spec.datasets.items():
        source = ds.get("source")
        rows.append([name, "written" if ds.get("output", True) else "intermediate, not submitted",
                     ", ".join(source) if isinstance(source, list) else str(source), ds.get("comment", "")])
    doc.table(["Dataset", "Kind", "Made from", "Note"], rows, [20, 40, 50, 80])
    doc.heading("Analysis dataset descriptions")
    doc.heading("Overview", 2)
    _datasets_table(doc, model)
    doc.heading("Parameters", 2)
    doc.table(["Dataset", "PARAMCD", "Parameter", "Records"], _parameter_rows(model), [20, 24, 126, 20])
    doc.heading("Traceability", 2)
    doc.para("Records taken from one SDTM record carry SRCDOM, SRCVAR and SRCSEQ; parameters derived from "
             "several records list the --SEQ of their sources in SRCSEQL. Value-level metadata in define.xml "
             "gives the origin and method of each parameter.")
    doc.table(["Dataset", "Source domains (SRCDOM: records)", "Records with SRCSEQL"], _trace_rows(model),
              [24, 110, 56])
    doc.heading("Analysis results", 2)
    if model.analysis_results:
        doc.table(["Display", "Result", "Purpose", "Records"],
                  [[d.name + ": " + d.title, r.description, r.purpose, str(r.records)]
                   for d in model.analysis_results for r in d.results], [70, 70, 32, 18])
    else:
        doc.para("No analysis results metadata in this package.")
    doc.heading("Data conformance summary")
    _conformance(doc, findings, known, _version())


def _domain_sources(domain: dict) -> list[str]:
    value = domain.get("from")
    own = [] if value is None else ([value] if isinstance(value, str) else list(value))
    return own + [m["source"] for m in domain.get("merge", []) if isinstance(m, dict) and "source" in m]


def _codelist_rows(model: DefineModel, prefixes: tuple) -> list[list[str]]:
    """The values and definition of the variables named ``prefixes*``, from the first dataset (in the
    package's order: ADSL first) that has them."""
    rank = {g.name: n for n, g in enumerate(model.groups)}
    rows, seen = [], set()
    for codelist in sorted(model.codelists, key=lambda c: (rank.get(c.name.split(".")[0], len(rank)), c.name)):
        variable = codelist.name.split(".")[-1]
        if not variable.startswith(prefixes) or variable in seen or variable.endswith("N"):
            continue
        seen.add(variable)
        dataset = codelist.name.split(".")[0]
        rows.append([variable, ", ".join(i.value for i in codelist.items),
                     next((m.description for m in model.methods if m.oid == f"MT.{dataset}.{variable}"), "")])
    return rows


def _parameter_rows(model: DefineModel) -> list[list[str]]:
    return [[name, code, label, str(count)] for name in model.data for code, label, count in
            summary(model, name).parameters]


def _trace_rows(model: DefineModel) -> list[list[str]]:
    return [[name, *summary(model, name).trace] for name in model.data if summary(model, name).trace is not None]


def reviewers_findings(spec) -> list[dict]:
    """The sponsor's explanations of known conformance findings (study.yaml ``reviewers_guide.findings``)."""
    guide = getattr(spec, "reviewers_guide", None) or {}
    return list(guide.get("findings") or [])


def write_guides(folders: dict[str, Path], spec, models: dict[str, DefineModel], adam_spec=None,
                 findings: dict[str, pd.DataFrame | None] | None = None, created: datetime | None = None
                 ) -> list[Path]:
    """csdrg.pdf in the SDTM folder, adrg.pdf in the ADaM one (``folders``/``models`` keyed sdtm/adam)."""
    findings = findings or {}
    written = []
    for key, folder in folders.items():
        model = models.get(key)
        if model is None or (key == "adam" and adam_spec is None):
            continue
        content = (csdrg(spec, model, findings.get(key), created) if key == "sdtm"
                   else adrg(spec, model, adam_spec, findings.get(key), created))
        path = Path(folder) / GUIDES[key].href
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(content)
        partial.replace(path)
        written.append(path)
    return written
