"""Analysis Results Metadata (ARM 1.0 for Define-XML 2.1) from the ``analysis_results`` of adam.yaml.

Each result display (a table of the CSR) holds analysis results: the dataset, the records analysed (a
WhereClauseDef: every ``where`` condition holds, a value is EQ, a list IN), the analysis variables, the
reason and purpose (ARM's enumerations), the documentation of the method and, optionally, the code.
What the spec names must exist: the dataset and its variables; otherwise one DataError names every
problem. A result may select no record (a data cut before its visit): its metadata stays, with 0 records.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from define.build import _checked_text, hits, oid_part
from define.model import DefineModel, Leaf, RangeCheck, WhereClauseDef
from specs.errors import DataError, Problem

ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"


@dataclass
class DocumentRef:
    """A place in a document of adam.yaml ``documents`` (def:DocumentRef with an optional def:PDFPageRef)."""
    leaf_id: str
    pages: str | None = None  # physical page numbers ('12' or '12 13')
    destination: str | None = None  # a named destination in the PDF
    title: str | None = None


@dataclass
class AnalysisResult:
    oid: str
    description: str
    reason: str
    purpose: str
    dataset_oid: str
    where_clause_oid: str
    variable_oids: list[str]
    parameter_oid: str | None = None
    documentation: str | None = None
    code: str | None = None
    code_context: str | None = None
    records: int = 0  # records the where clause selects (for the reviewer's guide)
    documents: list[DocumentRef] = field(default_factory=list)  # where the SAP/CSR describe the method


@dataclass
class ResultDisplay:
    oid: str
    name: str
    title: str
    results: list[AnalysisResult] = field(default_factory=list)
    documents: list[DocumentRef] = field(default_factory=list)  # where the display is (CSR)


def _text_of(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _document_refs(refs, leaves: dict[str, Leaf], at: str, problems: list[Problem]) -> list[DocumentRef]:
    out = []
    for index, ref in enumerate(refs or []):
        leaf = leaves.get(str(ref.get("document")))
        if leaf is None:
            problems.append(Problem(f"{at}.documents[{index}].document", f"'{ref.get('document')}' is not one of "
                                    f"the documents (adam.yaml documents: {', '.join(leaves) or 'none'})"))
            continue
        out.append(DocumentRef(leaf.id, None if ref.get("pages") is None else str(ref["pages"]),
                               ref.get("destination"), ref.get("title")))
    return out


def _conditions(result: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    """(variable, EQ/IN, values as define.xml writes them) of each ``where`` condition of a result."""
    return [(variable, "IN" if isinstance(value, list) else "EQ",
             tuple(_text_of(v) for v in (value if isinstance(value, list) else [value])))
            for variable, value in result["where"].items()]


def result_counts(entries: list[dict], name: str, data: pd.DataFrame) -> dict[tuple[int, int], int]:
    """The records each result on dataset ``name`` selects ((display, result) position -> count), from
    one read of the dataset; a result naming a variable the dataset lacks is left to add_analysis_results."""
    counts, views = {}, {}
    for d_index, entry in enumerate(entries or []):
        for r_index, result in enumerate(entry["results"]):
            if result["dataset"] != name or any(v not in data.columns for v in result["where"]):
                continue
            mask = np.ones(len(data), dtype=bool)
            for variable, comparator, values in _conditions(result):
                if variable not in views:  # (each column read once: data may read one on each access)
                    views[variable] = _checked_text(data[variable])
                mask &= hits(views[variable], list(values))
            counts[(d_index, r_index)] = int(mask.sum())
    return counts


def add_analysis_results(model: DefineModel, entries: list[dict], where: str = "adam.yaml: analysis_results",
                         documents: list[dict] | None = None, counts: dict[tuple[int, int], int] | None = None
                         ) -> DefineModel:
    """Add the result displays of ``entries`` (adam.yaml ``analysis_results``) and their where clauses to
    ``model``, and the ``documents`` (adam.yaml ``documents``: SAP, CSR) they refer to as def:leaf elements;
    DataError naming each entry that does not fit the datasets described or names a document not declared.
    ``counts``: ``result_counts`` of every dataset, when already worked out in the pass that described them;
    otherwise each dataset the results name is read once here."""
    problems: list[Problem] = []
    displays = []
    leaves = {str(d["id"]): Leaf(f"LF.{oid_part(str(d['id']))}", d["href"], d["title"]) for d in documents or []}
    available = set(model.data)  # (``in`` on a Mapping may read the dataset: its keys are listed once)
    if counts is None:
        counts = {}
        for name in dict.fromkeys(r["dataset"] for e in entries or [] for r in e["results"]):
            if name in available:
                counts.update(result_counts(entries, name, model.data[name]))
    for d_index, entry in enumerate(entries or []):
        display = ResultDisplay(f"RD.{oid_part(entry['id'])}", entry["id"], entry["title"],
                                documents=_document_refs(entry.get("documents"), leaves, f"{where}[{d_index}]",
                                                         problems))
        for r_index, result in enumerate(entry["results"]):
            at = f"{where}[{d_index}].results[{r_index}]"
            ds = result["dataset"]
            if ds not in available:
                problems.append(Problem(f"{at}.dataset", f"'{ds}' is not an ADaM dataset of this package"))
                continue
            columns = {model.items[ref.item_oid].name for ref in model.group(ds).items}  # (those of the data)
            missing = [v for v in list(result["where"]) + list(result["variables"]) if v not in columns]
            if missing:
                problems.append(Problem(at, f"not variables of {ds}: {', '.join(missing)}"))
                continue
            oid = f"AR.{oid_part(entry['id'])}.R.{r_index + 1}"
            conditions = _conditions(result)
            checks = [RangeCheck(f"IT.{ds}.{oid_part(variable)}", comparator, values)
                      for variable, comparator, values in conditions]
            # a result whose records a data cut has not reached yet keeps its metadata (records = 0)
            clause = WhereClauseDef(f"WC.{oid}", checks, ds, tuple(conditions))
            model.where_clauses.append(clause)
            display.results.append(AnalysisResult(
                oid, result["description"], result["reason"], result["purpose"], f"IG.{ds}", clause.oid,
                [f"IT.{ds}.{oid_part(v)}" for v in result["variables"]],
                f"IT.{ds}.PARAMCD" if "PARAMCD" in columns else None, result.get("documentation"),
                result.get("code"), result.get("code_context"), counts.get((d_index, r_index), 0),
                _document_refs(result.get("documents"), leaves, at, problems)))
        if display.results:
            displays.append(display)
    if problems:
        raise DataError(problems, title="analysis results that do not fit the datasets")
    model.analysis_results = displays
    used = {ref.leaf_id for d in displays for ref in d.documents + [r for x in d.results for r in x.documents]}
    model.result_documents = [leaf for leaf in leaves.values() if leaf.id in used]
    return model


def write_arm(mdv, model: DefineModel, o, d, text) -> None:
    """Append ``arm:AnalysisResultDisplays`` to the MetaDataVersion element ``mdv`` (after def:leaf);
    ``o``, ``d`` and ``text`` are define.xml's element makers (ODM, def, Description/TranslatedText)."""
    from lxml import etree

    def a(tag, parent, **attrs):
        return etree.SubElement(parent, f"{{{ARM_NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None})

    def refs(parent, documents: list[DocumentRef]) -> None:
        for ref in documents:
            element = d("DocumentRef", parent, leafID=ref.leaf_id)
            if ref.pages or ref.destination:
                d("PDFPageRef", element, PageRefs=ref.pages or ref.destination,
                  Type="PhysicalRef" if ref.pages else "NamedDestination", Title=ref.title)

    titles = {leaf.id: leaf.title for leaf in model.result_documents}
    displays = a("AnalysisResultDisplays", mdv)
    for display in model.analysis_results:
        element = a("ResultDisplay", displays, OID=display.oid, Name=display.name)
        text(element, "Description", display.title)
        refs(element, display.documents)
        for result in display.results:
            r = a("AnalysisResult", element, OID=result.oid, ParameterOID=result.parameter_oid,
                  AnalysisReason=result.reason, AnalysisPurpose=result.purpose)
            text(r, "Description", result.description)
            datasets = a("AnalysisDatasets", r)
            dataset = a("AnalysisDataset", datasets, ItemGroupOID=result.dataset_oid)
            d("WhereClauseRef", dataset, WhereClauseOID=result.where_clause_oid)
            for variable in result.variable_oids:
                a("AnalysisVariable", dataset, ItemOID=variable)
            if result.documentation or result.documents:
                documentation = a("Documentation", r)
                # ARM requires a description: without the spec's text, the documents referred to
                text(documentation, "Description", result.documentation or "See the " + " and the ".join(
                    dict.fromkeys(titles.get(ref.leaf_id, ref.leaf_id) for ref in result.documents)) + ".")
                refs(documentation, result.documents)
            if result.code:
                code = a("ProgrammingCode", r, Context=result.code_context or "Python 3")
                a("Code", code).text = result.code
