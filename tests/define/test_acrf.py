"""The annotated CRF generated from the ODM export's metadata and the spec (acrf.pdf) and the define.xml
origins that point at its pages."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from define.acrf import annotate, read_odm_forms, write_acrf
from specs.errors import RawDataError

from .conftest import pdf_pages

ODM = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="Snapshot" FileOID="F" CreationDateTime="2024-01-01T00:00:00"
     ODMVersion="1.3.2"><Study OID="S"><GlobalVariables><StudyName>S</StudyName><StudyDescription>S</StudyDescription>
<ProtocolName>S</ProtocolName></GlobalVariables><MetaDataVersion OID="MDV.1" Name="m">
<StudyEventDef OID="SCR" Name="Screening" Repeating="No" Type="Scheduled"><FormRef FormOID="DEMO" OrderNumber="1"
 Mandatory="No"/><FormRef FormOID="VITALS" OrderNumber="2" Mandatory="No"/></StudyEventDef>
<FormDef OID="DEMO" Name="Demographics" Repeating="No"><ItemGroupRef ItemGroupOID="IG.DEMO" Mandatory="Yes"/></FormDef>
<FormDef OID="VITALS" Name="Vital Signs" Repeating="No"><ItemGroupRef ItemGroupOID="IG.VITALS" Mandatory="Yes"/></FormDef>
<ItemGroupDef OID="IG.DEMO" Name="DEMO" Repeating="No"><ItemRef ItemOID="DEMO.SEXE" OrderNumber="2" Mandatory="No"/>
<ItemRef ItemOID="DEMO.BIRTH" OrderNumber="1" Mandatory="No"/><ItemRef ItemOID="DEMO.NOTE" OrderNumber="3"
 Mandatory="No"/></ItemGroupDef>
<ItemGroupDef OID="IG.VITALS" Name="VITALS" Repeating="Yes"><ItemRef ItemOID="VITALS.WT" OrderNumber="1"
 Mandatory="No"/></ItemGroupDef>
<ItemDef OID="DEMO.SEXE" Name="SEXE" DataType="text"><Question><TranslatedText xml:lang="en">Sex of the
 subject</TranslatedText></Question></ItemDef>
<ItemDef OID="DEMO.BIRTH" Name="BIRTH" DataType="text"><Question><TranslatedText xml:lang="en">Date of
 birth</TranslatedText></Question></ItemDef>
<ItemDef OID="DEMO.NOTE" Name="NOTE" DataType="text"/>
<ItemDef OID="VITALS.WT" Name="WT" DataType="text"><Question><TranslatedText xml:lang="en">Weight
 (kg)</TranslatedText></Question></ItemDef>
</MetaDataVersion></Study><ClinicalData StudyOID="S" MetaDataVersionOID="MDV.1"/></ODM>
"""

SPEC = SimpleNamespace(
    studyid="S", study={"name": "Study S"},
    sources={"demo": {"path": "demo.csv", "odm": {"path": "odm.xml", "form": "DEMO"}},
             "vitals": {"path": "vitals.csv", "odm": {"path": "odm.xml", "form": "VITALS"}}},
    domains={"DM": {"label": "Demographics", "from": "demo", "variables": [
                 {"name": "SEX", "map": {"algorithm": "assign_ct", "source": "SEXE"}},
                 {"name": "BRTHDTC", "map": {"algorithm": "assign_datetime", "date": "BIRTH", "format": "DD/MM/YYYY"}}]},
             "VS": {"label": "Vital Signs", "from": "vitals",
                    "melt": {"columns": {"WT": "WEIGHT"}, "name": "TESTCD", "value": "RESULT"},
                    "variables": [{"name": "VSTESTCD", "map": {"algorithm": "assign_no_ct", "source": "TESTCD"}},
                                  {"name": "VSORRES", "map": {"algorithm": "assign_no_ct", "source": "RESULT"}}]}})


def test_forms_items_and_questions_from_the_odm_metadata(tmp_path):
    (tmp_path / "odm.xml").write_text(ODM, encoding="utf-8")
    forms = read_odm_forms(tmp_path / "odm.xml")
    assert [(f.oid, f.name, f.events) for f in forms] == [("DEMO", "Demographics", ["Screening"]),
                                                          ("VITALS", "Vital Signs", ["Screening"])]
    assert [(i.name, i.question) for i in forms[0].items] == [("BIRTH", "Date of birth"), ("SEXE", "Sex of the subject"),
                                                              ("NOTE", "")]
    annotate(SPEC, forms)
    assert [i.targets for i in forms[0].items] == [["DM.BRTHDTC"], ["DM.SEX"], []]
    assert forms[1].items[0].targets == ["VS.VSORRES where VSTESTCD = WEIGHT"]


def test_every_page_cited_holds_the_annotation(tmp_path):
    (tmp_path / "odm.xml").write_text(ODM, encoding="utf-8")
    acrf = write_acrf(annotate(SPEC, read_odm_forms(tmp_path / "odm.xml")), "S", {"DM": "Demographics"})
    pages = pdf_pages(acrf.pdf)
    assert len(pages) == 2  # one form per page
    assert acrf.pages == {"DM.BRTHDTC": [1], "DM.SEX": [1], "VS.VSORRES": [2]}
    assert "DM = Demographics" in pages[0] and "NOT SUBMITTED" in pages[0] and "Sex of the subject" in pages[0]
    assert "VS.VSORRES where VSTESTCD = WEIGHT" in pages[1]
    assert acrf.pages_of("DM", "SEX") == "1" and acrf.pages_of("DM", "AGE") is None


def test_a_form_longer_than_a_page_continues_and_cites_the_later_page(tmp_path):
    items = "".join(f'<ItemRef ItemOID="DEMO.Q{n}" OrderNumber="{n + 3}" Mandatory="No"/>' for n in range(80))
    defs = "".join(f'<ItemDef OID="DEMO.Q{n}" Name="Q{n}" DataType="text"/>' for n in range(80))
    odm = ODM.replace('Mandatory="No"/></ItemGroupDef>', f'Mandatory="No"/>{items}</ItemGroupDef>', 1)
    odm = odm.replace('<ItemDef OID="DEMO.NOTE" Name="NOTE" DataType="text"/>',
                      f'<ItemDef OID="DEMO.NOTE" Name="NOTE" DataType="text"/>{defs}')
    (tmp_path / "odm.xml").write_text(odm, encoding="utf-8")
    spec = SimpleNamespace(**{**vars(SPEC), "domains": {"DM": {**SPEC.domains["DM"], "variables": SPEC.domains["DM"]
                                                               ["variables"] + [{"name": "DMXX", "map": {
                                                                   "algorithm": "assign_no_ct", "source": "Q79"}}]}}})
    acrf = write_acrf(annotate(spec, read_odm_forms(tmp_path / "odm.xml")), "S")
    pages = pdf_pages(acrf.pdf)
    page = acrf.pages["DM.DMXX"][0]
    assert page > 1 and "Demographics (DEMO) - continued" in pages[page - 1] and "DM.DMXX" in pages[page - 1]


def test_an_odm_file_without_metadata_is_a_located_error(tmp_path):
    (tmp_path / "odm.xml").write_text('<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"/>', encoding="utf-8")
    with pytest.raises(RawDataError) as error:
        read_odm_forms(tmp_path / "odm.xml")
    assert "odm.xml: no MetaDataVersion: the ODM export has no form metadata" in str(error.value)


def test_demo_acrf_pages_hold_each_collected_variable(demo_acrf, demo):
    from define.adapters import from_sdtm

    pages = pdf_pages(demo_acrf.pdf)
    forms = {f.oid: f for f in demo_acrf.forms}
    assert forms["VS"].items[3].question == "Weight (kg)"  # question text of the demo ODM export
    model = from_sdtm(demo.spec, demo.result, demo.ct, acrf=demo_acrf)
    assert [d.href for d in model.documents] == ["acrf.pdf"]
    cited = 0
    for item in model.items.values():
        origin = item.origin
        if origin is None or not origin.pages:
            continue
        dataset = item.oid.split(".")[1]
        annotation = f"{dataset}.{item.name}" if not dataset.startswith("SUPP") else \
            f"{dataset}.QVAL where QNAM = {item.oid.split('.')[-1]}"
        for page in origin.pages.split():
            assert 1 <= int(page) <= len(pages), item.oid
            assert annotation in pages[int(page) - 1].replace("\n", " "), (item.oid, page)
            cited += 1
    assert cited >= 30
    assert model.items["IT.DM.SEX"].origin.pages == str(demo_acrf.pages["DM.SEX"][0])
