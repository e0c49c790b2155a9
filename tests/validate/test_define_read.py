"""Define-XML 1.0, 2.0 and 2.1 read completely; what cannot be read is reported."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from validate.define_xml import read_define
from validate.package import Package
from validate.registry import run_rules
from validate.versions import detect_versions

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
DEFINE_21 = HERE.parents[2] / "shared" / "reference" / "define-xml-2.1" / "examples"


def test_define_10_pilot_extract():
    meta = read_define(FIXTURES / "define-1.0-pilot-extract.xml")
    assert meta.version == "1.0"
    assert meta.standards == [{"name": "CDISC SDTM", "version": "3.1.2", "type": "IG", "publishing_set": None, "oid": None}]
    supp = meta.groups["SUPPAE"]
    assert supp.label == "Supplemental Qualifiers for AE" and supp.dataset_class == "Relationship"
    assert supp.keys == ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"]  # from def:DomainKeys
    assert [r.role for r in supp.items][:2] == ["IDENTIFIER", "IDENTIFIER"]
    usubjid = meta.item("SUPPAE", "USUBJID")
    assert (usubjid.label, usubjid.origin, usubjid.length) == ("Unique Subject Identifier", "Derived", 11)
    assert meta.comments[usubjid.comment_oid] == "Concatenation of STUDYID, DM.SITEID and DM.SUBJID"
    assert meta.item("SUPPAE", "STUDYID").origin_detail == "CRF Page 7"
    [(ref, item, checks)] = meta.value_level("SUPPAE", "QNAM")
    assert (item.name, item.label, checks) == ("AETRTEM", "Treatment Emergent Flag", [])
    assert meta.methods[item.method_oid].description.startswith("(date portion of --DTC) minus")
    assert meta.issues == []


def test_define_20_extract():
    meta = read_define(FIXTURES / "define-2.0-example-extract.xml")
    assert meta.version == "2.0"
    assert (meta.standards[0]["name"], meta.standards[0]["version"]) == ("SDTM-IG", "3.1.2")
    lb = meta.groups["LB"]
    assert (lb.label, lb.domain, lb.dataset_class, lb.keys) == ("Laboratory Test Results", "LB", "FINDINGS",
                                                                 ["STUDYID", "USUBJID", "LBTESTCD"])
    assert meta.comments[lb.comment_oid] == "Central laboratory results"
    assert [r.role for r in lb.items] == ["Identifier", "Identifier", "Topic", None, "Timing"]
    assert meta.methods[lb.items[4].method_oid].name == "Algorithm to derive LBDY"
    assert meta.item("LB", "LBTESTCD").origin_detail == "pages 12"
    [(ref, item, checks)] = meta.value_level("LB", "LBORRES")
    assert (item.data_type, item.significant_digits, ref.method_oid) == ("float", 1, "MT.LBORRES")
    assert [(c.item_oid, c.comparator, c.values) for c in checks] == [("IT.LB.LBTESTCD", "EQ", ["GLUC"])]
    assert meta.issues == []


@pytest.mark.parametrize("name,groups,value_lists", [("defineV21-SDTM.xml", 11, 8), ("defineV21-ADaM.xml", 3, 3)])
def test_cdisc_21_examples_read_without_issues(name, groups, value_lists):
    meta = read_define(DEFINE_21 / name)
    assert meta.version == "2.1" and len(meta.groups) == groups and len(meta.value_lists) == value_lists
    assert [i for i in meta.issues if i.severity != "Notice"] == []
    for oid, refs in meta.value_lists.items():  # every value-level item and where clause resolves
        for ref in refs:
            assert ref.item_oid in meta.items and all(w in meta.where_clauses for w in ref.where_clause_oids)


def test_cdisc_21_adam_example_declares_adamig_11_and_ct_versions():
    package = Package(root=DEFINE_21, define=read_define(DEFINE_21 / "defineV21-ADaM.xml"),
                      datasets={"ADSL": pd.DataFrame({"USUBJID": ["1"]})})
    versions = detect_versions(package)
    assert (versions.adamig, versions.sources["ADaMIG"]) == ("1.1", "define.xml")
    assert versions.ct == {"ADaM": "2017-09-29", "SDTM": "2018-06-29"}


def test_sdtm_21_example_version_is_the_one_most_datasets_follow():
    package = Package(root=DEFINE_21, define=read_define(DEFINE_21 / "defineV21-SDTM.xml"),
                      datasets={"DM": pd.DataFrame({"USUBJID": ["1"]})})
    assert detect_versions(package).sdtmig == "3.1.2"


def test_unreadable_parts_are_findings_not_silence(tmp_path):
    text = (FIXTURES / "define-2.0-example-extract.xml").read_text()
    text = text.replace('<ItemRef ItemOID="IT.LB.LBDY"', '<ItemRef ItemOID="IT.LB.NOPE"')
    text = text.replace('KeySequence="3"', 'KeySequence="three"')
    text = text.replace("</MetaDataVersion>", "<def:Mystery/></MetaDataVersion>")
    path = tmp_path / "define.xml"
    path.write_text(text)
    meta = read_define(path)
    package = Package(root=tmp_path, define=meta, datasets={"LB": pd.DataFrame({"STUDYID": ["S"]})})
    findings = run_rules(package, None, ["CV0500"])
    assert findings[["severity", "variable", "value"]].values.tolist() == [
        ["Notice", "define.xml: MetaDataVersion/Mystery", "element <Mystery> is not read by the validator"],
        ["Error", "define.xml: LB.IT.LB.LBTESTCD KeySequence", "'three' is not an integer"],
        ["Error", "define.xml: ItemGroupDef LB", "ItemRef 'IT.LB.NOPE' has no ItemDef"],
    ]


def test_missing_roles_one_finding_per_dataset():
    meta = read_define(FIXTURES / "define-2.0-example-extract.xml")
    package = Package(root=FIXTURES, define=meta, datasets={"LB": pd.DataFrame({"STUDYID": ["S"]})})
    findings = run_rules(package, None, ["CV0508"])
    assert findings[["dataset", "variable", "message"]].values.tolist() == [
        ["LB", "LBORRES", "LB.LBORRES: the ItemRef has no Role"]]
    v21 = read_define(DEFINE_21 / "defineV21-SDTM.xml")  # 2.1 without any Role: optional there
    assert run_rules(Package(root=DEFINE_21, define=v21, datasets={"DM": pd.DataFrame({"STUDYID": ["S"]})}),
                     None, ["CV0508"]).empty
