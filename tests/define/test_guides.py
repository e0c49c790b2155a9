"""The reviewer's guides (csdrg.pdf, adrg.pdf) generated from the spec and the run, declared in define.xml."""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from define.acronyms import acronyms_used
from define.analysis_rules import analysis_rules
from define.guides import GUIDES, data_cut, explanation, findings_summary, NO_EXPLANATION

from .conftest import NS, pdf_pages

KNOWN = [{"rule": "SD1076", "dataset": "LB", "variable": "LBLLOQ", "explanation": "The LLOQ of each result."},
         {"rule": "SD1076", "dataset": "CM", "explanation": "The visit of the diary."},
         {"rule": "CT2002", "explanation": "A registry name."}]


def test_the_sponsor_explanation_of_each_finding():
    assert explanation(KNOWN, "SD1076", "LB", "LBLLOQ") == "The LLOQ of each result."
    assert explanation(KNOWN, "SD1076", "LB", "LBFAST") == NO_EXPLANATION  # the variable is given: it must match
    assert explanation(KNOWN, "SD1076", "CM", "VISIT") == "The visit of the diary."
    assert explanation(KNOWN, "CT2002", "TS", "TSVCDREF") == "A registry name."
    assert explanation(KNOWN, "SD9999", "TS", "X") == NO_EXPLANATION


def test_findings_are_summarised_per_rule_dataset_and_variable():
    findings = pd.DataFrame({
        "rule": ["SD1076", "SD1076", "SD1076", "AD0001"], "severity": ["Warning", "Warning", "Warning", "Error"],
        "dataset": ["CM", "CM", "LB", "ADSL"], "variable": ["VISIT", "VISIT", "LBLLOQ", "SAFFL"],
        "count": [1, 2, 1, 3], "message": ["m1", "m2", "m3", "m4"]})
    summary = findings_summary(findings, KNOWN)
    assert summary[["rule", "dataset", "variable", "records", "message"]].values.tolist() == [
        ["AD0001", "ADSL", "SAFFL", 3, "m4"], ["SD1076", "CM", "VISIT", 3, "m1"], ["SD1076", "LB", "LBLLOQ", 1, "m3"]]
    assert summary["explanation"].tolist() == [NO_EXPLANATION, "The visit of the diary.", "The LLOQ of each result."]


def test_the_data_cut_as_the_data_say():
    ts = pd.DataFrame({"TSPARMCD": ["TITLE", "DCUTDTC", "DCUTDESC"], "TSVAL": ["T", "2023-06-30", "DSMB 1"]})
    assert data_cut(SimpleNamespace(data={"TS": ts})) == "Data cut of 2023-06-30 (DSMB 1)"
    adsl = pd.DataFrame({"DCUTDT": [23191.0, 23191.0], "DCUTDESC": ["Interim", "Interim"]})  # 2023-06-30
    assert data_cut(SimpleNamespace(data={"ADSL": adsl})) == "Data cut of 2023-06-30 (Interim)"
    assert data_cut(SimpleNamespace(data={"ADSL": adsl.assign(DCUTDT=None)})).startswith("No data cut")


def test_acronyms_are_those_the_text_uses():
    text = "The SDTM datasets (XPT) and the AESER flag; CTCAE grades; MMTT samples; ADaMIG 1.3."
    assert acronyms_used(text, {"MMTT": "Mixed-meal tolerance test", "IDAA1c": "Insulin dose-adjusted HbA1c"}) == [
        ["ADaMIG", "Analysis Data Model Implementation Guide"], ["MMTT", "Mixed-meal tolerance test"],
        ["SDTM", "Study Data Tabulation Model"], ["XPT", "SAS Transport file (XPORT version 5)"]]
    # a word inside a longer name is not the acronym (AE in AESER, CT in CTCAE, ADaM in ADaMIG)
    assert acronyms_used("AESER, CTCAE, ADaMIG-like") == [["ADaMIG", "Analysis Data Model Implementation Guide"]]
    assert acronyms_used("The CT is ours.", {"CT": "Computed tomography"}) == [["CT", "Computed tomography"]]


def test_special_analysis_rules_from_the_spec_steps():
    datasets = {
        "ADLB": {"steps": [
            {"step": "derive_vars_blq", "args": {"rule": "half", "lloq_var": "LBLLOQ"}},
            {"step": "derive_vars_visit_windows", "args": {"windows": [
                {"avisit": "WEEK 1", "avisitn": 7, "target": 7, "low": 2, "high": 10}], "day_var": "ADY"}},
            {"step": "derive_var_anl_flag", "args": {"by_vars": ["USUBJID", "PARAMCD", "AVISITN"], "tie": "earlier"}},
            {"step": "filter_records", "args": {"where": "AVAL is not empty"}},
            {"step": "derive_var_ablfl", "comment": "the last value before the first dose",
             "args": {"by_vars": ["USUBJID", "PARAMCD"], "order": ["ADT"],
                      "definitions": [{"where": 'PRETRTFL == "Y"', "mode": "last"}]}},
            {"step": "derive_param_auc", "args": {"by_vars": ["USUBJID", "AVISITN"], "parameter": "GLUC",
                                                  "time_points": [0, 30, 60], "missing": "interpolate", "blq": "zero",
                                                  "set_values_to": {"PARAMCD": "GLUCAUC"}}},
            {"step": "derive_param_computed", "args": {"by_vars": ["USUBJID"], "formula": {
                "type": "log", "argument": "GLUCAUC", "offset": 1}, "set_values_to": {"PARAMCD": "LGLUCAUC"}}},
            {"step": "derive_vars_dt", "args": {"new_vars_prefix": "A", "dtc": "LBDTC"}}]}}  # no imputation: no rule
    assert analysis_rules(datasets) == [
        ["ADLB", "Baseline", 'ABLFL = Y per USUBJID, PARAMCD: records without BASETYPE: the last record by ADT where '
                             'PRETRTFL == "Y". (the last value before the first dose)'],
        ["ADLB", "Analysis windows", "Analysis visit windows on ADY: WEEK 1 (AVISITN 7): ADY 2 to 10, target 7."],
        ["ADLB", "Analysis windows", "ANL01FL = Y on one record per USUBJID, PARAMCD, AVISITN: the closest to the "
                                     "window's target day (AWTARGET); at equal distance, the earlier one."],
        ["ADLB", "Imputation", "A result reported below the LLOQ (AVALC '<x', no numeric value) gets AVAL = LLOQ/2 "
                               "(DTYPE = HALFLLOQ); the LLOQ is LBLLOQ where it has a value, else the x of the result "
                               "text; AVALC keeps the reported text."],
        ["ADLB", "Derived parameter", "GLUCAUC: area under the GLUC curve by the linear trapezoidal rule over ATPTN = "
                                      "0, 30, 60, per USUBJID, AVISITN; one missing interior time point is bridged by "
                                      "linear interpolation; a missing first or last point, or more than one, makes "
                                      "the AUC missing; below-LLOQ results count as 0."],
        ["ADLB", "Derived parameter", "LGLUCAUC = ln(GLUCAUC + 1), per USUBJID (null when an operand is)."]]
    assert analysis_rules({"ADSL": {"steps": [{"step": "filter_records", "args": {}}]}}) == []


def test_demo_guides_are_in_the_package_and_declared_in_define(demo_guides, xp):
    from lxml import etree

    package, found = demo_guides
    for key, sections in (("sdtm", ["Study data standards and dictionary inventory", "Protocol design in relation "
                                    "to the trial design datasets", "Annotated CRF", "Data cut", "Traceability",
                                    "Issues summary"]),
                          ("adam", ["Analysis populations", "Treatment variables", "Intermediate datasets and data "
                                    "dependencies", "Parameters", "Traceability", "Analysis results",
                                    "Issues summary"])):
        folder = package.folders[key]
        leaf = GUIDES[key]
        text = "\n".join(pdf_pages((folder / leaf.href).read_bytes()))
        for section in sections:
            assert section in text, (key, section)
        tree = etree.parse(str(folder / "define.xml"))
        assert xp(tree, f"//def:SupplementalDoc/def:DocumentRef[@leafID='{leaf.id}']") is not None
        assert xp(tree, f"//def:leaf[@ID='{leaf.id}']").get("{http://www.w3.org/1999/xlink}href") == leaf.href
    csdrg = "\n".join(pdf_pages((package.folders["sdtm"] / "csdrg.pdf").read_bytes()))
    assert "Ciclosporin then ILT-101" in csdrg and "No data cut" in csdrg
    # every SDTM finding of the run is listed, with the explanation the spec gives for LBLLOQ
    for rule in found["sdtm"]["rule"].unique():
        assert rule in csdrg
    if ((found["sdtm"]["rule"] == "SD1076") & (found["sdtm"]["variable"] == "LBLLOQ")).any():
        assert "LBLLOQ (SDTM v2.0 Findings class)" in csdrg
    adrg = "\n".join(pdf_pages((package.folders["adam"] / "adrg.pdf").read_bytes()))
    assert "Table 14.2.1" in adrg and "CPAUCM" in adrg and "POST-CICLOSPORIN D63" in adrg
    # PhUSE sections: acronyms from what each guide uses (the study's own from study.yaml), and the ADRG's special
    # analysis rules from the ADaM spec
    for text in (csdrg, adrg):
        assert "Acronyms" in text and "Study Data Tabulation Model" in text
    assert "Regulatory T cells" in adrg and "Lower Limit of Quantitation" in adrg  # study's own, standard
    assert "Electronic Data Capture" in csdrg and "Electronic Data Capture" not in adrg  # only what each one uses
    assert "Special analysis rules" in adrg
    for rule in ("ADY 60 to 65, target 63", "LLOQ/2 (DTYPE = HALFLLOQ)", "linear trapezoidal rule over ATPTN = 0, 15, "
                 "30, 60, 90, 120", "LCPAUCM = ln(CPAUCM + 1)", "BASETYPE POST-CICLOSPORIN D63"):
        assert rule in adrg.replace("\n", " "), rule
