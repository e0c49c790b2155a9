"""Reading the raw export as the spec's sources describe it."""
from pathlib import Path

import pytest

from cdisc.raw_export import read_raw
from specs.loader import StudySpec


def test_a_files_own_missing_value_markers_read_as_empty(tmp_path):
    (tmp_path / "dm.csv").write_text('"USUBJID","SEX","AGE"\n"S-1",NA,42\n"S-2","F",NA\n', encoding="utf-8")
    spec = StudySpec(folder=Path("."), study={}, design={}, domains={},
                     sources={"dm": {"path": "dm.csv", "keys": ["USUBJID"], "missing": ["NA"]}})
    table = read_raw(spec, tmp_path).tables["dm"]
    assert table[["USUBJID", "SEX", "AGE"]].values.tolist() == [["S-1", "", "42"], ["S-2", "F", ""]]


ODM = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="Snapshot" FileOID="F" ODMVersion="1.3.2" CreationDateTime="2024-01-01T00:00:00">
<Study OID="S"><MetaDataVersion OID="MDV.1" Name="m">
<FormDef OID="DM" Name="DM" Repeating="No"><ItemGroupRef ItemGroupOID="DM" Mandatory="Yes"/></FormDef>
<FormDef OID="CM" Name="CM" Repeating="Yes"><ItemGroupRef ItemGroupOID="CM" Mandatory="Yes"/></FormDef>
<FormDef OID="PE" Name="PE" Repeating="No"><ItemGroupRef ItemGroupOID="PE" Mandatory="Yes"/></FormDef>
<ItemGroupDef OID="DM" Name="DM" Repeating="No"><ItemRef ItemOID="DM.SEX" Mandatory="No"/></ItemGroupDef>
<ItemGroupDef OID="CM" Name="CM" Repeating="Yes"><ItemRef ItemOID="CM.CMTRT" Mandatory="No"/></ItemGroupDef>
<ItemGroupDef OID="PE" Name="PE" Repeating="No"><ItemRef ItemOID="PE.PEORRES" Mandatory="No"/></ItemGroupDef>
<ItemDef OID="DM.SEX" Name="SEX" DataType="text"/><ItemDef OID="CM.CMTRT" Name="CMTRT" DataType="text"/>
<ItemDef OID="PE.PEORRES" Name="PEORRES" DataType="text"/>
</MetaDataVersion></Study>
<ClinicalData StudyOID="S" MetaDataVersionOID="MDV.1">
<SubjectData SubjectKey="01-001"><SiteRef LocationOID="01"/><StudyEventData StudyEventOID="SCR">
<FormData FormOID="DM"><ItemGroupData ItemGroupOID="DM"><ItemData ItemOID="DM.SEX" Value="F"/></ItemGroupData></FormData>
<FormData FormOID="CM"><ItemGroupData ItemGroupOID="CM" ItemGroupRepeatKey="1"><ItemData ItemOID="CM.CMTRT" Value="Aspirin"/></ItemGroupData>
<ItemGroupData ItemGroupOID="CM" ItemGroupRepeatKey="2"><ItemData ItemOID="CM.CMTRT" Value="Insulin"/></ItemGroupData></FormData>
</StudyEventData></SubjectData>
</ClinicalData></ODM>
"""


def test_forms_of_the_odm_export_that_no_source_reads_are_listed_for_the_run_report(tmp_path):
    (tmp_path / "odm.xml").write_text(ODM, encoding="utf-8")
    spec = StudySpec(folder=Path("."), study={}, design={}, domains={},
                     sources={"dm": {"path": "dm.csv", "keys": ["Subject"], "odm": {"path": "odm.xml", "form": "DM"}}})
    raw = read_raw(spec, tmp_path, edc="odm")
    assert raw.tables["dm"][["Subject", "SEX"]].values.tolist() == [["01-001", "F"]]
    # CM holds two records nobody reads; PE holds none, so nothing is lost there
    assert [line.split(": ", 1)[1] for line in raw.notes] == [
        "1 form(s) with records that no source of the spec reads, not mapped: CM (2 records)"]
    assert raw.notes[0].split(": ", 1)[0].endswith("odm.xml")


def test_an_odm_export_that_cannot_be_read_is_reported_once_however_many_forms_sources_read(tmp_path):
    from specs.errors import RawDataError

    (tmp_path / "odm.xml").write_text(ODM[:ODM.index("<ClinicalData")], encoding="utf-8")  # cut short
    spec = StudySpec(folder=Path("."), study={}, design={}, domains={}, sources={
        name: {"path": f"{name}.csv", "keys": ["Subject"], "odm": {"path": "odm.xml", "form": form}}
        for name, form in (("dm", "DM"), ("cm", "CM"), ("pe", "PE"))})
    with pytest.raises(RawDataError) as raised:
        read_raw(spec, tmp_path, edc="odm")
    assert len(raised.value.problems) == 1
    assert str(raised.value.problems[0]) == (f"{tmp_path / 'odm.xml'}: line 13: malformed XML (Premature end of "
                                              "data in tag ODM line 2, line 13, column 1)")
