"""Data codelists, Mandatory from the data, value-level defaults and ARM on small hand-made frames."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from define.arm import add_analysis_results
from define.build import build_define
from define.model import DEFAULT_VALUE, DatasetInput, OriginDef, StudyInput, ValueLevelRule, VariableInput
from define.xml import define_tree, define_schema
from specs.errors import DataError

DERIVED = OriginDef("Derived")


def _study():
    return StudyInput("S1", "S1", "Study S1", "S1", ("ADaMIG", "1.3"), {}, mandatory_from_data=True)


def _frame():
    return pd.DataFrame({"STUDYID": "S1", "USUBJID": ["A", "A", "B", "B"], "PARAMCD": ["X", "Y", "X", "Y"],
                         "PARAM": ["Ex (u)", "Why (u)", "Ex (u)", "Why (u)"], "AVISITN": [1.0, 1.0, 2.0, None],
                         "AVAL": [1.5, 2.0, 3.5, 4.0]})


def _inputs(per_value=None, decode="PARAM"):
    variables = [VariableInput("STUDYID", "Study Identifier", "Char", OriginDef("Assigned")),
                 VariableInput("USUBJID", "Unique Subject Identifier", "Char", OriginDef("Assigned")),
                 VariableInput("PARAMCD", "Parameter Code", "Char", OriginDef("Assigned"), terms_from_data=True,
                               decode_from=decode),
                 VariableInput("PARAM", "Parameter", "Char", OriginDef("Assigned"), terms_from_data=True),
                 VariableInput("AVISITN", "Analysis Visit (N)", "Num", DERIVED, method="visit", mandatory=True),
                 VariableInput("AVAL", "Analysis Value", "Num", DERIVED, method="all parameters")]
    return [DatasetInput("ADX", "X", "Analysis", "BASIC DATA STRUCTURE", "s", ["USUBJID", "PARAMCD", "AVISITN"],
                         variables, value_levels=[ValueLevelRule("AVAL", "PARAMCD", "PARAM", per_value or {})])]


def test_data_codelist_with_decodes_and_mandatory_from_the_data():
    model = build_define(_study(), "Analysis", _inputs(), {"ADX": _frame()})
    codelists = {c.oid: c for c in model.codelists}
    assert [(i.value, i.decode) for i in codelists["CL.ADX.PARAMCD"].items] == [("X", "Ex (u)"), ("Y", "Why (u)")]
    assert [i.value for i in codelists["CL.ADX.PARAM"].items] == ["Ex (u)", "Why (u)"]
    mandatory = {r.item_oid: r.mandatory for r in model.group("ADX").items}
    # AVISITN is a key (the spec says mandatory) but one record has none: not mandatory
    assert mandatory == {"IT.ADX.STUDYID": True, "IT.ADX.USUBJID": True, "IT.ADX.PARAMCD": True,
                         "IT.ADX.PARAM": True, "IT.ADX.AVISITN": False, "IT.ADX.AVAL": True}


def test_a_code_with_two_decodes_is_refused():
    frame = _frame()
    frame.loc[2, "PARAM"] = "Ex (other unit)"
    with pytest.raises(DataError) as error:
        build_define(_study(), "Analysis", _inputs(), {"ADX": frame})
    assert "ADX.PARAMCD: value 'X' has more than one PARAM ('Ex (u)', 'Ex (other unit)'): a codelist term has " \
           "one decode" in str(error.value)


def test_value_level_default_and_shared_methods():
    per_value = {"Y": VariableInput("AVAL", "", "Num", OriginDef("Derived", None, None, "From LB.LBSTRESN"),
                                    method="sum of the Xs"),
                 DEFAULT_VALUE: VariableInput("AVAL", "", "Num", OriginDef("Predecessor", None, None, "LB.LBSTRESN"))}
    model = build_define(_study(), "Analysis", _inputs(per_value), {"ADX": _frame()})
    entries = {r.item_oid: r for r in model.value_lists[0].items}
    assert entries["IT.ADX.AVAL.X"].method_oid is None
    assert model.items["IT.ADX.AVAL.X"].origin.description == "LB.LBSTRESN"
    assert model.items["IT.ADX.AVAL.X"].label == "Ex (u)"
    assert {m.oid: m.description for m in model.methods}[entries["IT.ADX.AVAL.Y"].method_oid] == "sum of the Xs"


def test_analysis_results_validate_against_the_arm_schema():
    model = build_define(_study(), "Analysis", _inputs(), {"ADX": _frame()})
    add_analysis_results(model, [{"id": "T 1", "title": "Table 1", "results": [
        {"description": "Y at visit 1", "reason": "SPECIFIED IN SAP", "purpose": "PRIMARY OUTCOME MEASURE",
         "dataset": "ADX", "where": {"PARAMCD": "Y", "AVISITN": [1, 2]}, "variables": ["AVAL"],
         "documentation": "Mean", "code": "adx.AVAL.mean()"}]}])
    result = model.analysis_results[0].results[0]
    assert (result.oid, result.records, result.parameter_oid) == ("AR.T_1.R.1", 1, "IT.ADX.PARAMCD")
    tree = define_tree(model, "2025-01-01T00:00:00")
    assert define_schema(arm=True).validate(tree), define_schema(arm=True).error_log


DOCUMENTS = [{"id": "SAP", "title": "Statistical Analysis Plan", "href": "../sap.pdf"},
             {"id": "CSR", "title": "Clinical Study Report", "href": "../csr.pdf"},
             {"id": "PROT", "title": "Protocol", "href": "../protocol.pdf"}]


def _documented(model):
    return add_analysis_results(model, [{"id": "T 1", "title": "Table 1",
                                         "documents": [{"document": "CSR", "pages": 12, "title": "Table 14.2.1"}],
                                         "results": [
        {"description": "Y at visit 1", "reason": "SPECIFIED IN SAP", "purpose": "PRIMARY OUTCOME MEASURE",
         "dataset": "ADX", "where": {"PARAMCD": "Y"}, "variables": ["AVAL"], "documentation": "ANCOVA",
         "documents": [{"document": "SAP", "destination": "Section_10.1", "title": "SAP Section 10.1"}]},
        {"description": "X", "reason": "SPECIFIED IN SAP", "purpose": "PRIMARY OUTCOME MEASURE",
         "dataset": "ADX", "where": {"PARAMCD": "X"}, "variables": ["AVAL"], "documents": [{"document": "SAP"}]}]}],
        documents=DOCUMENTS)


def test_analysis_results_refer_to_the_documents_the_spec_names(xp):
    model = _documented(build_define(_study(), "Analysis", _inputs(), {"ADX": _frame()}))
    # the documents referred to become def:leaf elements (the protocol, named by no result, does not)
    assert [(d.id, d.href) for d in model.result_documents] == [("LF.SAP", "../sap.pdf"), ("LF.CSR", "../csr.pdf")]
    tree = define_tree(model, "2025-01-01T00:00:00")
    assert define_schema(arm=True).validate(tree), define_schema(arm=True).error_log
    display = "//arm:ResultDisplay[@OID='RD.T_1']"
    ref = xp(tree, f"{display}/def:DocumentRef[@leafID='LF.CSR']/def:PDFPageRef")
    assert (ref.get("PageRefs"), ref.get("Type"), ref.get("Title")) == ("12", "PhysicalRef", "Table 14.2.1")
    first = xp(tree, f"{display}/arm:AnalysisResult[1]/arm:Documentation/def:DocumentRef[@leafID='LF.SAP']/def:PDFPageRef")
    assert (first.get("PageRefs"), first.get("Type")) == ("Section_10.1", "NamedDestination")
    # a result without documentation text still points at the SAP (the whole document)
    second = xp(tree, f"{display}/arm:AnalysisResult[2]/arm:Documentation/def:DocumentRef", all=True)
    assert [r.get("leafID") for r in second] == ["LF.SAP"] and not list(second[0])
    assert xp(tree, f"{display}/arm:AnalysisResult[2]/arm:Documentation/odm:Description/odm:TranslatedText"
                    ).text == "See the Statistical Analysis Plan."
    leaf = xp(tree, "//def:leaf[@ID='LF.SAP']")
    assert leaf.get("{http://www.w3.org/1999/xlink}href") == "../sap.pdf"
    assert not xp(tree, "//def:SupplementalDoc/def:DocumentRef[@leafID='LF.SAP']", all=True)  # not a supplement


def test_a_document_not_declared_is_refused():
    model = build_define(_study(), "Analysis", _inputs(), {"ADX": _frame()})
    with pytest.raises(DataError) as error:
        add_analysis_results(model, [{"id": "T1", "title": "t", "documents": [{"document": "CSR"}], "results": [
            {"description": "d", "reason": "SPECIFIED IN SAP", "purpose": "PRIMARY OUTCOME MEASURE", "dataset": "ADX",
             "where": {"PARAMCD": "X"}, "variables": ["AVAL"], "documents": [{"document": "SAP 2"}]}]}],
            documents=DOCUMENTS[:1])
    assert "adam.yaml: analysis_results[0].documents[0].document: 'CSR' is not one of the documents (adam.yaml " \
           "documents: SAP)" in str(error.value)
    assert "adam.yaml: analysis_results[0].results[0].documents[0].document: 'SAP 2' is not one of" in str(error.value)


def test_a_result_whose_records_a_cut_has_not_reached_keeps_its_metadata():
    model = build_define(_study(), "Analysis", _inputs(), {"ADX": _frame()})
    add_analysis_results(model, [{"id": "T1", "title": "t", "results": [
        {"description": "d", "reason": "SPECIFIED IN SAP", "purpose": "PRIMARY OUTCOME MEASURE", "dataset": "ADX",
         "where": {"PARAMCD": "Z"}, "variables": ["AVAL"]}]}])
    assert model.analysis_results[0].results[0].records == 0
    assert "WC.AR.T1.R.1" in {c.oid for c in model.where_clauses}


def test_analysis_results_that_do_not_fit_are_refused():
    model = build_define(_study(), "Analysis", _inputs(), {"ADX": _frame()})
    entries = [{"id": "T1", "title": "t", "results": [
        {"description": "d", "reason": "SPECIFIED IN SAP", "purpose": "PRIMARY OUTCOME MEASURE", "dataset": "ADX",
         "where": {"PARAMCD": "Z"}, "variables": ["AVAL"]},
        {"description": "d", "reason": "SPECIFIED IN SAP", "purpose": "PRIMARY OUTCOME MEASURE", "dataset": "ADX",
         "where": {"PARAMCD": "X"}, "variables": ["CHG"]},
        {"description": "d", "reason": "SPECIFIED IN SAP", "purpose": "PRIMARY OUTCOME MEASURE", "dataset": "ADQS",
         "where": {"PARAMCD": "X"}, "variables": ["AVAL"]}]}]
    with pytest.raises(DataError) as error:
        add_analysis_results(model, entries)
    text = str(error.value)
    assert ".results[0]" not in text  # selecting no record (yet) is not an error
    assert "adam.yaml: analysis_results[0].results[1]: not variables of ADX: CHG" in text
    assert "adam.yaml: analysis_results[0].results[2].dataset: 'ADQS' is not an ADaM dataset of this package" in text


SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "define-xml-2.1"


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared beside the clone")
def test_the_cdisc_adam_example_with_arm_validates_and_ours_against_the_reference_schema(tmp_path):
    from lxml import etree

    from define.xml import validate_define

    # the CDISC example (ARM included) passes our check, which picks the ARM schema for it
    assert validate_define(SHARED / "examples" / "defineV21-ADaM.xml") == []
    # ours, against the reference copy of the ARM 1.0 schema (which extends Define-XML 2.1)
    model = build_define(_study(), "Analysis", _inputs(), {"ADX": _frame()})
    add_analysis_results(model, [{"id": "T1", "title": "t", "results": [
        {"description": "d", "reason": "DATA DRIVEN", "purpose": "EXPLORATORY OUTCOME MEASURE", "dataset": "ADX",
         "where": {"PARAMCD": "X"}, "variables": ["AVAL"]}]}])
    schema = etree.XMLSchema(etree.parse(str(SHARED / "schema" / "cdisc-arm-1.0" / "arm1-0-0.xsd")))
    assert schema.validate(define_tree(model, "2025-01-01T00:00:00")), schema.error_log


def test_the_demo_results_point_at_the_sap_and_the_csr(demo_submission, xp):
    from lxml import etree

    package = demo_submission[0]
    tree = etree.parse(str(package.folders["adam"] / "define.xml"))
    leaves = {leaf.get("ID"): leaf.get("{http://www.w3.org/1999/xlink}href") for leaf in xp(tree, "//def:leaf", all=True)}
    assert leaves["LF.SAP"].endswith("/nct05153070/sap.pdf") and leaves["LF.CSR"].endswith("/nct05153070/csr.pdf")
    displays = xp(tree, "//arm:ResultDisplay", all=True)
    assert len(displays) == 2
    for display in displays:
        assert xp(display, "def:DocumentRef/@leafID", all=True) == ["LF.CSR"]
        for result in xp(display, "arm:AnalysisResult", all=True):
            assert xp(result, "arm:Documentation/def:DocumentRef/@leafID", all=True) == ["LF.SAP"]
    # the toolkit does not make them: the package says they are missing
    assert any("Statistical Analysis Plan (LF.SAP" in note and "is not in the package" in note
               for note in package.notes)
