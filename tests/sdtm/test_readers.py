"""Raw readers: every source gives the same table of text."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sdtm.readers import frame_to_text, number_text, read_csv_source, read_odm, read_source
from sdtm.sas_readers import read_sas7bdat_source, read_xpt_source
from specs.errors import RawDataError

VS_CSV = (
    "Subject,SiteNumber,Folder,Form,RecordPosition,VSDAT,VSTIM,WEIGHT,HEIGHT\n"
    "01-001,01,SCR,VS,1,03/10/2022,09:15,71.5,172\n"
    "01-001,01,D1,VS,1,24/10/2022,08:30,71.0,\n"
    "01-002,01,SCR,VS,1,05/10/2022, 10:00 ,\"64,2\",165\n"
)
DM_CSV = (
    "Subject,SiteNumber,Folder,Form,RecordPosition,BRTHDAT,SEX\n"
    "01-001,01,SCR,DM,1,12/05/2004,Male\n"
    "01-002,01,SCR,DM,1,01/02/2008,Female\n"
)


def odm_text(extra_item: str = "") -> str:
    """The same two forms as ODM 1.3.2; items declared out of document order on purpose (OrderNumber)."""
    def items(form, pairs):
        return "".join(f'<ItemData ItemOID="{form}.{k}" Value="{v}"/>' for k, v in pairs if v != "")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="Snapshot" FileOID="F" ODMVersion="1.3.2"
     CreationDateTime="2024-01-01T00:00:00">
<Study OID="S"><MetaDataVersion OID="MDV.1" Name="m">
<FormDef OID="DM" Name="DM" Repeating="No"><ItemGroupRef ItemGroupOID="DM" Mandatory="Yes"/></FormDef>
<FormDef OID="VS" Name="VS" Repeating="No"><ItemGroupRef ItemGroupOID="VS" Mandatory="Yes"/></FormDef>
<FormDef OID="AE" Name="AE" Repeating="No"><ItemGroupRef ItemGroupOID="AE" Mandatory="Yes"/></FormDef>
<ItemGroupDef OID="DM" Name="DM" Repeating="No">
 <ItemRef ItemOID="DM.BRTHDAT" OrderNumber="1" Mandatory="No"/><ItemRef ItemOID="DM.SEX" OrderNumber="2" Mandatory="No"/>
</ItemGroupDef>
<ItemGroupDef OID="VS" Name="VS" Repeating="Yes">
 <ItemRef ItemOID="VS.WEIGHT" OrderNumber="3" Mandatory="No"/><ItemRef ItemOID="VS.VSDAT" OrderNumber="1" Mandatory="No"/>
 <ItemRef ItemOID="VS.VSTIM" OrderNumber="2" Mandatory="No"/><ItemRef ItemOID="VS.HEIGHT" OrderNumber="4" Mandatory="No"/>
</ItemGroupDef>
<ItemGroupDef OID="AE" Name="AE" Repeating="Yes"><ItemRef ItemOID="AE.AETERM" OrderNumber="1" Mandatory="No"/></ItemGroupDef>
<ItemDef OID="DM.BRTHDAT" Name="BRTHDAT" DataType="text"/><ItemDef OID="DM.SEX" Name="SEX" DataType="text"/>
<ItemDef OID="VS.VSDAT" Name="VSDAT" DataType="text"/><ItemDef OID="VS.VSTIM" Name="VSTIM" DataType="text"/>
<ItemDef OID="VS.WEIGHT" Name="WEIGHT" DataType="text"/><ItemDef OID="VS.HEIGHT" Name="HEIGHT" DataType="text"/>
<ItemDef OID="AE.AETERM" Name="AETERM" DataType="text"/>
</MetaDataVersion></Study>
<ClinicalData StudyOID="S" MetaDataVersionOID="MDV.1">
<SubjectData SubjectKey="01-001"><SiteRef LocationOID="01"/>
 <StudyEventData StudyEventOID="SCR">
  <FormData FormOID="DM"><ItemGroupData ItemGroupOID="DM" ItemGroupRepeatKey="1">{items("DM", [("BRTHDAT", "12/05/2004"), ("SEX", "Male")])}</ItemGroupData></FormData>
  <FormData FormOID="VS"><ItemGroupData ItemGroupOID="VS" ItemGroupRepeatKey="1">{items("VS", [("VSDAT", "03/10/2022"), ("VSTIM", "09:15"), ("WEIGHT", "71.5"), ("HEIGHT", "172")])}{extra_item}</ItemGroupData></FormData>
 </StudyEventData>
 <StudyEventData StudyEventOID="D1">
  <FormData FormOID="VS"><ItemGroupData ItemGroupOID="VS" ItemGroupRepeatKey="1">{items("VS", [("VSDAT", "24/10/2022"), ("VSTIM", "08:30"), ("WEIGHT", "71.0")])}</ItemGroupData></FormData>
 </StudyEventData>
</SubjectData>
<SubjectData SubjectKey="01-002"><SiteRef LocationOID="01"/>
 <StudyEventData StudyEventOID="SCR">
  <FormData FormOID="DM"><ItemGroupData ItemGroupOID="DM" ItemGroupRepeatKey="1">{items("DM", [("BRTHDAT", "01/02/2008"), ("SEX", "Female")])}</ItemGroupData></FormData>
  <FormData FormOID="VS"><ItemGroupData ItemGroupOID="VS" ItemGroupRepeatKey="1">{items("VS", [("VSDAT", "05/10/2022"), ("VSTIM", "10:00"), ("WEIGHT", "64,2"), ("HEIGHT", "165")])}</ItemGroupData></FormData>
 </StudyEventData>
</SubjectData>
</ClinicalData></ODM>
"""


@pytest.fixture
def export(tmp_path):
    (tmp_path / "vs.csv").write_text(VS_CSV, encoding="utf-8")
    (tmp_path / "dm.csv").write_text(DM_CSV, encoding="utf-8")
    (tmp_path / "odm_export.xml").write_text(odm_text(), encoding="utf-8")
    return tmp_path


def test_number_text():
    assert [number_text(v) for v in [12.0, 0.5, np.nan, 1e-5, -3.0, 123456.789, 1e30]] == [
        "12", "0.5", "", "0.00001", "-3", "123456.789", "1000000000000000000000000000000"]


def test_csv_is_text_stripped_with_empty_for_missing(export):
    vs = read_csv_source(export / "vs.csv")
    assert list(vs.columns) == ["Subject", "SiteNumber", "Folder", "Form", "RecordPosition",
                                "VSDAT", "VSTIM", "WEIGHT", "HEIGHT"]
    assert vs["WEIGHT"].tolist() == ["71.5", "71.0", "64,2"]  # CSV text is kept as written
    assert vs["HEIGHT"].tolist() == ["172", "", "165"]
    assert vs["VSTIM"].tolist() == ["09:15", "08:30", "10:00"]
    assert vs["SiteNumber"].tolist() == ["01", "01", "01"]  # leading zeros survive
    assert all(pd.api.types.is_string_dtype(t) for t in vs.dtypes)


def test_csv_with_byte_order_mark(tmp_path):
    (tmp_path / "x.csv").write_bytes(b"\xef\xbb\xbfSubject,AETERM\n01-001,C\xc3\xa9phal\xc3\xa9es\n")
    frame = read_csv_source(tmp_path / "x.csv")
    assert list(frame.columns) == ["Subject", "AETERM"]
    assert frame["AETERM"].tolist() == ["Céphalées"]


def test_csv_not_utf8_names_file_offset_and_cp1252(tmp_path):
    path = tmp_path / "ae.csv"
    path.write_bytes("Subject,AETERM\n01-001,Céphalées\n".encode("cp1252"))
    with pytest.raises(RawDataError) as caught:
        read_csv_source(path)
    assert str(caught.value) == (f"1 raw data error:\n  {path}: byte 0xE9 at offset 23 (line 2) is not valid "
                                 "utf-8; try encoding='cp1252'")
    assert read_csv_source(path, encoding="cp1252")["AETERM"].tolist() == ["Céphalées"]


def test_missing_file_is_named(tmp_path):
    for reader in (read_source, read_csv_source, read_odm, read_xpt_source, read_sas7bdat_source):
        with pytest.raises(RawDataError, match="nope.csv: file not found"):
            reader(tmp_path / "nope.csv")


def test_odm_form_equals_csv_form(export):
    tables = read_odm(export / "odm_export.xml")
    assert list(tables) == ["DM", "VS", "AE"]
    pd.testing.assert_frame_equal(tables["VS"], read_csv_source(export / "vs.csv"))
    pd.testing.assert_frame_equal(tables["DM"], read_csv_source(export / "dm.csv"))
    pd.testing.assert_frame_equal(read_source(export / "odm_export.xml", form="VS"),
                                  read_source(export / "vs.csv"))


def test_odm_form_without_records_has_its_columns(export):
    ae = read_odm(export / "odm_export.xml")["AE"]
    assert list(ae.columns) == ["Subject", "SiteNumber", "Folder", "Form", "RecordPosition", "AETERM"]
    assert len(ae) == 0


def test_odm_undeclared_item_is_an_error(tmp_path):
    path = tmp_path / "odm.xml"
    path.write_text(odm_text('<ItemData ItemOID="VS.PULSE" Value="60"/>'), encoding="utf-8")
    with pytest.raises(RawDataError, match="form VS: ItemData VS.PULSE not declared"):
        read_odm(path)


def test_malformed_odm_names_file_and_line(tmp_path):
    path = tmp_path / "odm.xml"
    path.write_text(odm_text().replace("</ClinicalData>", "</ClinicalDat>"), encoding="utf-8")
    with pytest.raises(RawDataError) as caught:
        read_odm(path)
    line = odm_text().splitlines().index("</ClinicalData></ODM>") + 1
    assert f"{path}: line {line}: malformed XML" in str(caught.value)


@pytest.mark.parametrize("where", ["text", "attribute"])
def test_odm_external_entities_are_not_resolved(tmp_path, where):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    text = odm_text().replace('<?xml version="1.0" encoding="UTF-8"?>',
                              f'<?xml version="1.0"?>\n<!DOCTYPE ODM [<!ENTITY x SYSTEM "file://{secret}">]>')
    if where == "text":
        text = text.replace('<SiteRef LocationOID="01"/>', '<SiteRef LocationOID="01"/>&x;', 1)
    else:
        text = text.replace('ItemOID="VS.VSTIM" Value="09:15"', 'ItemOID="VS.VSTIM" Value="&x;"')
    path = tmp_path / "odm.xml"
    path.write_text(text, encoding="utf-8")
    try:
        tables = read_odm(path)
    except RawDataError as refused:  # refusing the file is fine too
        assert "TOP-SECRET" not in str(refused)
        return
    assert "TOP-SECRET" not in tables["VS"].to_csv()


def test_odm_entity_expansion_bomb_is_refused(tmp_path):
    entities = ['<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">']
    for name, previous in zip("bcdefg", "abcdef"):
        entities.append(f'<!ENTITY {name} "{f"&{previous};" * 20}">')
    path = tmp_path / "odm.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE ODM [' + "\n".join(entities) + ']>\n'
                    '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><ClinicalData>'
                    '<SubjectData SubjectKey="&g;">&g;</SubjectData></ClinicalData></ODM>\n')
    with pytest.raises(RawDataError, match=r"odm.xml: line \d+: malformed XML"):
        read_odm(path)


def test_read_source_dispatch_errors(export):
    with pytest.raises(RawDataError, match=r"name the form to read \(forms: DM, VS, AE\)"):
        read_source(export / "odm_export.xml")
    with pytest.raises(RawDataError, match=r"form 'LB' is not in it"):
        read_source(export / "odm_export.xml", form="LB")
    (export / "x.json").write_text("{}")
    with pytest.raises(RawDataError, match=r"unknown raw format '.json'"):
        read_source(export / "x.json")
    assert read_source(export / "vs.csv", fmt="csv").shape == (3, 9)


def test_frame_to_text_dtypes():
    frame = frame_to_text(pd.DataFrame({"I": [1, 2], "F": [1.5, np.nan], "S": ["a ", None]}))
    assert frame.to_dict("list") == {"I": ["1", "2"], "F": ["1.5", ""], "S": ["a", ""]}
    assert all(pd.api.types.is_string_dtype(t) for t in frame.dtypes)
