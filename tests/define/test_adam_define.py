"""The ADaM side: define.xml from adam.yaml and the ADaM build, DATE9. dates, AVAL by PARAMCD, package."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from lxml import etree

from define.build import where_clause_mask
from define.datasetjson import read_dataset_json, validate_dataset_json
from define.xml import validate_define
from define.xpt import read_xpt

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}


@pytest.fixture(scope="module")
def adam_package(demo_submission):
    package, datasets, _ = demo_submission
    return package, datasets


def test_both_define_xml_are_valid_and_rendered(adam_package):
    package, _ = adam_package
    assert package.folders["adam"].as_posix().endswith("m5/datasets/nct05153070/analysis/adam/datasets")
    for folder in package.folders.values():
        assert validate_define(folder / "define.xml") == []
        assert (folder / "define.html").stat().st_size > 10_000
        assert (folder / "define2-1.xsl").is_file()


def test_adam_dates_are_integers_with_date9(adam_package):
    package, datasets = adam_package
    tree = etree.parse(str(package.folders["adam"] / "define.xml"))
    trtsdt = tree.xpath("//odm:ItemDef[@OID='IT.ADSL.TRTSDT']", namespaces=NS)[0]
    # days since 1960-01-01 for 2022-2026 dates are 5 digits (2022-09-21 = 22909)
    assert (trtsdt.get("DataType"), trtsdt.get("Length"), trtsdt.get("{http://www.cdisc.org/ns/def/v2.1}DisplayFormat")) \
        == ("integer", "5", "DATE9.")
    _, meta = read_xpt(package.folders["adam"] / "adsl.xpt")
    assert {v.name: v.format for v in meta.variables}["TRTSDT"] == "DATE9."
    data, json_meta = read_dataset_json(package.folders["adam"] / "adsl.json")
    column = {c.name: c for c in json_meta.columns}["TRTSDT"]
    assert (column.dataType, column.targetDataType) == ("date", "integer")
    pd.testing.assert_series_equal(data["TRTSDT"], datasets["ADSL"]["TRTSDT"].reset_index(drop=True),
                                   check_dtype=False)


def test_aval_is_described_per_paramcd_and_every_clause_selects_records(adam_package, demo):
    from define.adapters import from_adam
    from adam.spec import load_adam_spec

    package, datasets = adam_package
    model = from_adam(load_adam_spec(), datasets, demo.spec.study, demo.ct)
    value_lists = {v.oid: v for v in model.value_lists}
    assert {"VL.ADLB.AVAL", "VL.ADEFF.AVAL"} <= set(value_lists)
    paramcds = sorted(datasets["ADLB"]["PARAMCD"].dropna().unique())
    assert [r.where_clause_oid for r in value_lists["VL.ADLB.AVAL"].items] == \
        [f"WC.ADLB.PARAMCD.{p}" for p in paramcds]
    for clause in model.where_clauses:
        assert where_clause_mask(datasets[clause.dataset], clause).any(), clause.oid


def test_every_adam_dataset_json_is_schema_valid(adam_package):
    package, datasets = adam_package
    for name in datasets:
        assert validate_dataset_json(package.folders["adam"] / f"{name.lower()}.json") == [], name


# --- issue 12: codelists, Mandatory, value-level methods and origins, analysis results metadata ----------

def _adam_tree(adam_package):
    package, _ = adam_package
    return etree.parse(str(package.folders["adam"] / "define.xml"))


def test_sponsor_codelists_of_the_analysis_values(adam_package):
    tree = _adam_tree(adam_package)
    _, datasets = adam_package
    for oid in ("CL.ADLB.PARAMCD", "CL.ADLB.PARAM", "CL.ADLB.AVISIT", "CL.ADLB.AVISITN", "CL.ADLB.BASETYPE",
                "CL.ADLB.ATPT", "CL.ADSL.TRT01P", "CL.ADSL.TRT02P", "CL.ADEFF.PARAMCD", "CL.ADEX.PARAMCD"):
        assert tree.xpath(f"//odm:CodeList[@OID='{oid}']", namespaces=NS), oid
    adlb = datasets["ADLB"]
    decodes = {i.get("CodedValue"): i.xpath("string(odm:Decode/odm:TranslatedText)", namespaces=NS)
               for i in tree.xpath("//odm:CodeList[@OID='CL.ADLB.PARAMCD']/odm:CodeListItem", namespaces=NS)}
    assert decodes == dict(zip(adlb["PARAMCD"], adlb["PARAM"]))
    assert decodes["CPAUCM"] == "C-Peptide AUC 0-120 min Mean (nmol/L)"
    basetypes = tree.xpath("//odm:CodeList[@OID='CL.ADLB.BASETYPE']/odm:EnumeratedItem/@CodedValue", namespaces=NS)
    assert basetypes == ["POST-CICLOSPORIN D63", "PRE-TREATMENT"]
    assert tree.xpath("//odm:ItemDef[@OID='IT.ADSL.TRT01P']/odm:CodeListRef/@CodeListOID", namespaces=NS) == \
        ["CL.ADSL.TRT01P"]


def test_mandatory_only_where_every_record_has_a_value(adam_package):
    tree = _adam_tree(adam_package)
    _, datasets = adam_package
    for name, data in datasets.items():
        for ref in tree.xpath(f"//odm:ItemGroupDef[@Name='{name}']/odm:ItemRef", namespaces=NS):
            variable = ref.get("ItemOID").split(".", 2)[2]
            column = data[variable].astype("string").str.strip().replace("", pd.NA)
            assert (ref.get("Mandatory") == "Yes") == bool(column.notna().all()), f"{name}.{variable}"
    atptn = tree.xpath("//odm:ItemGroupDef[@Name='ADLB']/odm:ItemRef[@ItemOID='IT.ADLB.ATPTN']", namespaces=NS)[0]
    assert atptn.get("Mandatory") == "No"  # a key, but null for the samples outside the MMTT


def _vlm(tree, item_oid):
    item = tree.xpath(f"//odm:ItemDef[@OID='{item_oid}']", namespaces=NS)[0]
    ref = tree.xpath(f"//def:ValueListDef/odm:ItemRef[@ItemOID='{item_oid}']", namespaces=NS)[0]
    method = ref.get("MethodOID")
    text = tree.xpath(f"string(//odm:MethodDef[@OID='{method}']/odm:Description/odm:TranslatedText)",
                      namespaces=NS) if method else None
    origin = item.xpath("def:Origin", namespaces=NS)[0]
    return origin.get("Type"), origin.xpath("string(odm:Description/odm:TranslatedText)", namespaces=NS), text


def test_value_level_origin_and_method_per_parameter(adam_package):
    tree = _adam_tree(adam_package)
    assert _vlm(tree, "IT.ADLB.AVAL.ALT") == ("Predecessor", "LB.LBSTRESN", None)
    assert _vlm(tree, "IT.ADLB.AVAL.TLHRTLH") == ("Predecessor", "CP.CPSTRESN", None)
    kind, source, auc = _vlm(tree, "IT.ADLB.AVAL.CPAUC")
    assert (kind, source) == ("Derived", "From LB.LBSTRESN") and auc.startswith("Trapezoidal AUC")
    assert _vlm(tree, "IT.ADLB.AVAL.CPAUCM")[2].startswith("AUC mean: AVAL of the CPAUC record")
    assert _vlm(tree, "IT.ADLB.AVAL.LCPAUCM")[2].startswith("ln(AVAL of the CPAUCM record")
    assert "HALFLLOQ" in _vlm(tree, "IT.ADLB.AVAL.CPEPMMTT")[2]
    # one method per parameter, never the AUC method on a parameter it does not make
    for item in tree.xpath("//def:ValueListDef[@OID='VL.ADLB.AVAL']/odm:ItemRef/@ItemOID", namespaces=NS):
        if not item.endswith(".CPAUC"):
            assert "Trapezoidal" not in (_vlm(tree, item)[2] or ""), item
    # parameters with the same method share one MethodDef
    refs = {r.get("ItemOID"): r.get("MethodOID") for r in tree.xpath("//def:ValueListDef/odm:ItemRef", namespaces=NS)}
    assert refs["IT.ADLB.AVAL.CPEPFAST"] == refs["IT.ADLB.AVAL.CPEPMMTT"]
    assert _vlm(tree, "IT.ADLB.AVALC.TLHRTLH")[:2] == ("Predecessor", "CP.CPSTRESC")
    assert _vlm(tree, "IT.ADEFF.AVAL.WEIGHT")[:2] == ("Predecessor", "VS.VSSTRESN")
    assert _vlm(tree, "IT.ADEFF.AVAL.INSTOT")[:2] == ("Derived", "From CM.CMDOSTOT")


def test_methods_read_without_the_spec_files(adam_package):
    tree = _adam_tree(adam_package)
    texts = tree.xpath("//odm:MethodDef/odm:Description/odm:TranslatedText/text()", namespaces=NS)
    assert texts
    assert [t for t in texts if "spec" in t.lower() or "yaml" in t.lower() or "definitions." in t] == []
    avisit = tree.xpath("string(//odm:MethodDef[@OID='MT.ADLB.AVISIT']/odm:Description/odm:TranslatedText)",
                        namespaces=NS)
    assert "DAY 1 day 1, DAY 63 days 60-65" in avisit


def test_analysis_results_metadata_for_the_primary_and_cpeptide_endpoints(adam_package):
    from define.xml import define_schema

    package, datasets = adam_package
    tree = _adam_tree(adam_package)
    assert define_schema(arm=True).validate(tree), define_schema(arm=True).error_log
    arm = {"arm": "http://www.cdisc.org/ns/arm/v1.0", **NS}
    results = tree.xpath("//arm:AnalysisResult", namespaces=arm)
    purposes = {r.get("OID"): r.get("AnalysisPurpose") for r in results}
    assert purposes["AR.Table_14.2.1.R.1"] == "PRIMARY OUTCOME MEASURE"
    assert sorted(purposes) == ["AR.Table_14.2.1.R.1", "AR.Table_14.2.2.R.1", "AR.Table_14.2.2.R.2",
                                "AR.Table_14.2.2.R.3"]
    # the primary result's records: Tregs, Day 67, against the post-ciclosporin Day 63 baseline
    from define.adapters import from_adam
    from adam.spec import load_adam_spec

    model = from_adam(load_adam_spec(), datasets, package_study(), None)
    clause = {c.oid: c for c in model.where_clauses}["WC.AR.Table_14.2.1.R.1"]
    selected = datasets["ADLB"][where_clause_mask(datasets["ADLB"], clause)]
    assert set(selected["PARAMCD"]) == {"TLHRTLH"} and set(selected["AVISITN"]) == {67.0}
    assert set(selected["BASETYPE"]) == {"POST-CICLOSPORIN D63"} and selected["CHG"].notna().any()
    primary = model.analysis_results[0].results[0]
    assert primary.records == len(selected)


def package_study():
    from specs.loader import load_study_spec

    return load_study_spec().study
