"""define.xml of the demo study: entries compared with values worked out by hand, XSD validity, reruns."""
from __future__ import annotations

from lxml import etree

from define.build import where_clause_mask
from define.xml import validate_define, write_define

DEF = "{http://www.cdisc.org/ns/def/v2.1}"


def test_the_demo_define_xml_is_valid_against_the_define_xml_2_1_xsd(demo):
    assert validate_define(demo.folder / "define.xml") == []


def test_the_xsd_check_reports_a_broken_document(demo, tmp_path):
    broken = tmp_path / "define.xml"
    text = (demo.folder / "define.xml").read_text(encoding="utf-8")
    broken.write_text(text.replace(' def:Context="Submission"', "").replace('DataType="integer"', 'DataType="int"', 1),
                      encoding="utf-8")
    errors = validate_define(broken)
    assert any("Context" in e for e in errors)
    assert any("'int'" in e for e in errors)


def test_header_is_a_submission_define_with_the_creation_time_given(demo, xp):
    odm = demo.tree.getroot()
    assert odm.get("CreationDateTime") == "2025-03-28T12:00:00"
    assert odm.get(f"{DEF}Context") == "Submission"
    assert odm.get("FileOID") == "NCT05153070.SDTM.Define-XML_2.1.0"
    assert xp(demo.tree, "//odm:StudyName").text == "DF-IL2-REP"
    standards = [(s.get("Name"), s.get("Type"), s.get("Version"), s.get("PublishingSet"))
                 for s in xp(demo.tree, "//def:Standard", all=True)]
    assert standards == [("SDTMIG", "IG", "3.4", None), ("CDISC/NCI", "CT", "2025-03-28", "SDTM")]
    pi = demo.tree.getroot().getprevious()
    assert pi.target == "xml-stylesheet" and 'href="define2-1.xsl"' in pi.text


def test_item_defs_written_out_by_hand(demo, xp):
    # AGE: whole years 16-35 -> integer, 2 digits; derived by the sponsor with a method.
    age = xp(demo.tree, "//odm:ItemDef[@OID='IT.DM.AGE']")
    assert (age.get("DataType"), age.get("Length"), age.get("SignificantDigits")) == ("integer", "2", None)
    assert xp(age, "def:Origin").attrib == {"Type": "Derived", "Source": "Sponsor"}
    assert xp(demo.tree, "//odm:ItemGroupDef[@OID='IG.DM']/odm:ItemRef[@ItemOID='IT.DM.AGE']").get("MethodOID") == "MT.DM.AGE"
    assert xp(demo.tree, "//odm:MethodDef[@OID='MT.DM.AGE']/odm:Description/odm:TranslatedText").text == \
        "Completed years from BRTHDTC to RFICDTC."
    # SEX: "M"/"F" -> text of length 1, codelist SEX, collected on CRF page 1 from the subject.
    sex = xp(demo.tree, "//odm:ItemDef[@OID='IT.DM.SEX']")
    assert (sex.get("DataType"), sex.get("Length"), sex.get("SASFieldName")) == ("text", "1", "SEX")
    assert xp(sex, "odm:CodeListRef").get("CodeListOID") == "CL.SEX"
    assert xp(sex, "def:Origin").attrib == {"Type": "Collected", "Source": "Subject"}
    # the demo study ships no annotated CRF, so its page numbers stay out of define.xml (no broken link)
    assert xp(sex, "def:Origin/def:DocumentRef", all=True) == []
    assert xp(demo.tree, "//def:AnnotatedCRF", all=True) == []
    # AESTDTC holds "2023" and "2023-06" beside full dates: partialDate, and no Length (ISO 8601).
    aestdtc = xp(demo.tree, "//odm:ItemDef[@OID='IT.AE.AESTDTC']")
    assert (aestdtc.get("DataType"), aestdtc.get("Length")) == ("partialDate", None)
    # LBELTM "PT15M", "-PT10M": an ISO 8601 duration.
    assert xp(demo.tree, "//odm:ItemDef[@OID='IT.LB.LBELTM']").get("DataType") == "durationDatetime"
    # AELLTCD: MedDRA codes (8 digits) against the external dictionary of the spec.
    llt = xp(demo.tree, "//odm:ItemDef[@OID='IT.AE.AELLTCD']")
    assert (llt.get("DataType"), llt.get("Length")) == ("integer", "8")
    meddra = xp(demo.tree, f"//odm:CodeList[@OID='{xp(llt, 'odm:CodeListRef').get('CodeListOID')}']")
    assert xp(meddra, "odm:ExternalCodeList").attrib == {"Dictionary": "MedDRA", "Version": "27.0"}


def test_sex_codelist_written_out_by_hand(demo, xp):
    codelist = xp(demo.tree, "//odm:CodeList[@OID='CL.SEX']")
    assert (codelist.get("Name"), codelist.get("DataType"), codelist.get(f"{DEF}StandardOID")) == \
        ("Sex", "text", "STD.CT.SDTM")
    assert xp(codelist, "odm:Alias").attrib == {"Context": "nci:ExtCodeID", "Name": "C66731"}
    items = [(i.get("CodedValue"), xp(i, "odm:Decode/odm:TranslatedText").text, xp(i, "odm:Alias").get("Name"))
             for i in xp(codelist, "odm:CodeListItem", all=True)]
    assert items == [("F", "Female", "C16576"), ("M", "Male", "C20197")]  # only the terms used (no U, INTERSEX)


def test_value_level_entry_for_c_peptide_written_out_by_hand(demo, xp):
    # LBSTRESN of C-peptide: nmol/L with 3 decimals (factor 0.331), all below 10 -> float, w.d = 5.3.
    ref = xp(demo.tree, "//def:ValueListDef[@OID='VL.LB.LBSTRESN']/odm:ItemRef[@ItemOID='IT.LB.LBSTRESN.CPEPTIDE']")
    assert xp(ref, "def:WhereClauseRef").get("WhereClauseOID") == "WC.LB.LBTESTCD.CPEPTIDE"
    assert ref.get("MethodOID") == "MT.LB.LBSTRESN"
    check = xp(demo.tree, "//def:WhereClauseDef[@OID='WC.LB.LBTESTCD.CPEPTIDE']/odm:RangeCheck")
    assert (check.get("Comparator"), check.get(f"{DEF}ItemOID"), xp(check, "odm:CheckValue").text) == \
        ("EQ", "IT.LB.LBTESTCD", "CPEPTIDE")
    item = xp(demo.tree, "//odm:ItemDef[@OID='IT.LB.LBSTRESN.CPEPTIDE']")
    assert (item.get("Name"), item.get("DataType"), item.get("Length"), item.get("SignificantDigits")) == \
        ("LBSTRESN", "float", "5", "3")
    assert xp(item, "odm:Description/odm:TranslatedText").text == "C-peptide"
    parent = xp(demo.tree, "//odm:ItemDef[@OID='IT.LB.LBSTRESN']")
    assert xp(parent, "def:ValueListRef").get("ValueListOID") == "VL.LB.LBSTRESN"


def test_suppae_qval_is_described_per_qnam(demo, xp):
    entries = [r.get("ItemOID") for r in xp(demo.tree, "//def:ValueListDef[@OID='VL.SUPPAE.QVAL']/odm:ItemRef", all=True)]
    assert entries == ["IT.SUPPAE.QVAL.AERELCSA", "IT.SUPPAE.QVAL.AERELIL2"]
    item = xp(demo.tree, "//odm:ItemDef[@OID='IT.SUPPAE.QVAL.AERELCSA']")
    # the longest term is "UNLIKELY RELATED" (16 characters)
    assert (item.get("DataType"), item.get("Length")) == ("text", "16")
    assert xp(item, "odm:Description/odm:TranslatedText").text == "Relationship to Ciclosporin"
    assert xp(item, "def:Origin").get("Type") == "Collected"


def test_crf_pages_are_referenced_when_the_spec_ships_an_annotated_crf(demo, xp, tmp_path):
    import dataclasses
    import shutil

    from define.model import from_sdtm
    from define.package import write_package

    folder = tmp_path / "spec"
    shutil.copytree(demo.spec.folder, folder)
    (folder / "acrf.pdf").write_bytes(b"%PDF-1.4\n% annotated CRF of the sponsor\n%%EOF\n")
    spec = dataclasses.replace(demo.spec, folder=folder)
    package = write_package(tmp_path / "out", sdtm=from_sdtm(spec, demo.result, demo.ct), created=demo.created)
    out = package.folders["sdtm"]
    tree = etree.parse(str(out / "define.xml"))
    assert (out / "acrf.pdf").read_bytes().startswith(b"%PDF")
    assert xp(tree, "//def:AnnotatedCRF/def:DocumentRef").get("leafID") == "LF.acrf"
    sex = xp(tree, "//odm:ItemDef[@OID='IT.DM.SEX']")
    assert xp(sex, "def:Origin/def:DocumentRef/def:PDFPageRef").attrib == {"PageRefs": "1", "Type": "PhysicalRef"}
    qval = xp(tree, "//odm:ItemDef[@OID='IT.SUPPAE.QVAL.AERELCSA']")
    assert xp(qval, "def:Origin/def:DocumentRef/def:PDFPageRef").get("PageRefs") == "7"


def test_every_where_clause_selects_at_least_one_record(demo):
    assert demo.model.where_clauses
    for clause in demo.model.where_clauses:
        assert where_clause_mask(demo.model.data[clause.dataset], clause).any(), clause.oid


def test_rewriting_gives_the_same_bytes(demo, tmp_path):
    first = write_define(demo.model, tmp_path / "a.xml", demo.created)
    second = write_define(demo.model, tmp_path / "b.xml", demo.created)
    assert first.read_bytes() == second.read_bytes() == (demo.folder / "define.xml").read_bytes()
