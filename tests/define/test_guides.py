"""The reviewer's guides (csdrg.pdf, adrg.pdf) generated from the spec and the run, declared in define.xml."""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

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
