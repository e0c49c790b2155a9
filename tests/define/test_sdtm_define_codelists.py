"""SDTM define.xml: COUNTRY against ISO 3166, DSDECOD's codelist per DSCAT, comments for Expected variables
without a value, no Permissible variable without a value (issue 12)."""
import pandas as pd

from sdtm.engine import empty_permissible
from specs.model import domain_spec


def test_country_refers_to_iso_3166(demo, xp):
    assert xp(demo.tree, "//odm:ItemDef[@OID='IT.DM.COUNTRY']/odm:CodeListRef/@CodeListOID") == "CL.ISO_3166-1_alpha-3"
    external = xp(demo.tree, "//odm:CodeList[@OID='CL.ISO_3166-1_alpha-3']/odm:ExternalCodeList")
    assert (external.get("Dictionary"), external.get("Version")) == ("ISO 3166-1 alpha-3", "2020")


def test_dsdecod_takes_its_codelist_from_its_category(demo, xp):
    refs = xp(demo.tree, "//def:ValueListDef[@OID='VL.DS.DSDECOD']/odm:ItemRef/@ItemOID", all=True)
    assert list(refs) == ["IT.DS.DSDECOD.DISPOSITION_EVENT", "IT.DS.DSDECOD.PROTOCOL_MILESTONE"]
    assert xp(demo.tree, "//odm:ItemDef[@OID='IT.DS.DSDECOD.DISPOSITION_EVENT']/odm:CodeListRef/@CodeListOID") == \
        "CL.NCOMPLT"
    assert xp(demo.tree, "//odm:ItemDef[@OID='IT.DS.DSDECOD.PROTOCOL_MILESTONE']/odm:CodeListRef/@CodeListOID") == \
        "CL.PROTMLST"
    terms = xp(demo.tree, "//odm:CodeList[@OID='CL.NCOMPLT']/odm:CodeListItem/@CodedValue", all=True)
    assert sorted(terms) == ["COMPLETED", "SCREEN FAILURE", "WITHDRAWAL BY SUBJECT"]


def test_an_expected_variable_without_a_value_has_a_comment(demo, xp):
    # DM.DTHFL and ACTARMUD and TA.TATRANS have no value in the demo; DTHDTC has the spec's own comment
    for oid in ("IT.DM.DTHFL", "IT.DM.ACTARMUD", "IT.TA.TATRANS", "IT.TV.ARMCD"):
        comment = xp(demo.tree, f"//odm:ItemDef[@OID='{oid}']/@def:CommentOID")
        text = xp(demo.tree, f"//def:CommentDef[@OID='{comment}']//odm:TranslatedText/text()")
        assert text.startswith("Expected variable with no value in this study"), oid
    comment = xp(demo.tree, "//odm:ItemDef[@OID='IT.DM.DTHDTC']/@def:CommentOID")
    assert xp(demo.tree, f"//def:CommentDef[@OID='{comment}']//odm:TranslatedText/text()").startswith("No death")
    assert not xp(demo.tree, "//odm:ItemDef[@OID='IT.DM.SEX']/@def:CommentOID", all=True)


def test_no_permissible_variable_without_a_value_in_the_demo(demo_sdtm):
    _, _, result = demo_sdtm
    for name in ("SE", "TI", "TV", "TS"):
        assert not any(empty_permissible(result.datasets[name], result.specs[name]) for _ in [0]), name
    assert "SEUPDES" not in result.datasets["SE"] and "TIVERS" not in result.datasets["TI"]
    assert "TVENRL" not in result.datasets["TV"]
    assert "TSVALNF" in result.datasets["TS"]  # the null flavors of the parameters the spec does not give
    assert "TATRANS" in result.datasets["TA"]  # Expected: kept, with a comment
    assert "SE: permissible variable(s) without any value left out: SEUPDES (SDTMIG 4.1.5; 'keep: true' in the " \
           "spec keeps one)" in result.notes


def test_empty_permissible_variables_by_hand():
    spec = domain_spec("AE", {"label": "Adverse Events", "variables": [
        {"name": "USUBJID"}, {"name": "AESEV"}, {"name": "AESCONG"}, {"name": "AESLIFE", "keep": True},
        {"name": "AESTDY"}, {"name": "AESER"}]})
    data = pd.DataFrame({"USUBJID": ["S1", "S2"], "AESEV": ["MILD", ""], "AESCONG": ["", None],
                         "AESLIFE": ["", ""], "AESTDY": [float("nan")] * 2, "AESER": ["", ""]})
    # AESER is Expected (kept); AESLIFE is kept by the spec; an empty dataset keeps its structure
    assert empty_permissible(data, spec) == ["AESCONG", "AESTDY"]
    assert empty_permissible(data.iloc[:0], spec) == []
