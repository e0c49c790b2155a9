"""A study's own CT (study.ct.files, sdtm.oak's study CT layout): collected texts, sponsor terms, errors."""

import pandas as pd
import pytest

from sdtm.algorithms import MapContext, assign_ct
from sdtm.prepare import locate
from specs.ct import load_ct
from specs.errors import SpecError
from specs.loader import StudySpec
from specs.study_ct import study_ct, with_study_terms

HEADER = "codelist_code,term_code,term_value,collected_value,term_preferred_term,term_synonyms\n"
ROWS = ("C66729,C38288,ORAL,PO (Oral),Oral Route of Administration,\n"
        "C71113,C25473,QD,QD (Every Day),Daily,\n"
        "C66741,V00224,VSALL,VS Domain ALL Tests,VS Domain ALL Tests,\n"
        "C67153,V00224,Vital Signs,Vital Signs,VS Domain ALL Tests,\n"
        "TPT,,PREDOSE,Pre-dose,,\n")


def _ct(tmp_path, rows=ROWS):
    path = tmp_path / "study_ct.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return with_study_terms(load_ct(), [(path, "ct/study_ct.csv")])


def test_a_collected_text_is_read_as_its_term(tmp_path):
    ct = _ct(tmp_path)
    raw = locate(pd.DataFrame({"MDRTE": ["PO (Oral)", "po (oral)", "Oral", ""]}), "cm.csv", [])
    ctx = MapContext("S", "CM", "CMROUTE", "ROUTE", ct, [], [])
    assert list(assign_ct(raw, {"source": "MDRTE"}, ctx)) == ["ORAL", "ORAL", "ORAL", ""]
    assert ct.codelist("FREQ").lookup_synonym("QD (Every Day)") == "QD"
    assert ctx.term_problems == [] and ctx.notes == []


def test_a_new_term_of_an_extensible_codelist_is_the_study_s_and_pairs_by_its_code(tmp_path):
    ct = _ct(tmp_path)
    vsall = ct.codelist("VSTESTCD").terms["VSALL"]
    assert (vsall.code, vsall.sponsor) == ("V00224", True)
    assert ct.codelist("VSTEST").terms["Vital Signs"].code == "V00224"  # derive_test_name pairs by code
    assert not ct.codelist("VSTESTCD").terms["SYSBP"].sponsor
    assert "VSALL" not in load_ct().codelist("VSTESTCD").terms  # the shipped CT is left as it was


def test_a_codelist_the_cdisc_ct_lacks_is_the_study_s_own(tmp_path):
    tpt = _ct(tmp_path).codelist("TPT")
    assert (tpt.extensible, tpt.lookup_synonym("Pre-dose")) == (False, "PREDOSE")


def test_every_error_of_a_study_ct_file_is_reported_with_its_row(tmp_path):
    rows = ("C66728,,LATER,Later,,\n"             # STENRF is not extensible
            "C66729,C99999,ORAL,Per os,,\n"       # ORAL's code is C38288
            "C71113,,QD,Daily dose,,\n"
            "C71113,,BID,Daily dose,,\n"          # one text, two terms
            ",,X,Y,,\n")
    with pytest.raises(SpecError) as error:
        _ct(tmp_path, rows)
    assert [str(p) for p in error.value.problems] == [
        "ct/study_ct.csv row 2: 'LATER' is not a term of the non-extensible codelist STENRF (C66728): a study may "
        "add terms only to an extensible codelist",
        "ct/study_ct.csv row 3: term_code C99999 is not the code of 'ORAL' in ROUTE (C66729): C38288",
        "ct/study_ct.csv row 5: collected value 'Daily dose' is given to 'QD' and to 'BID' of FREQ",
        "ct/study_ct.csv row 6: codelist_code and term_value must not be empty"]


def test_study_ct_files_are_read_from_the_spec_folder_and_a_missing_one_is_an_error(tmp_path):
    (tmp_path / "ct").mkdir()
    (tmp_path / "ct" / "study_ct.csv").write_text(HEADER + ROWS, encoding="utf-8")
    spec = StudySpec(folder=tmp_path, study={"ct": {"sdtm": "2025-03-28", "files": ["ct/study_ct.csv"]}},
                     sources={}, design={}, domains={})
    assert study_ct(spec).codelist("ROUTE").lookup_synonym("PO (Oral)") == "ORAL"
    spec.study["ct"]["files"] = ["ct/missing.csv"]
    with pytest.raises(SpecError, match="missing.csv: study CT file not found"):
        study_ct(spec)
    (tmp_path / "ct" / "bad.csv").write_text("code,value\nC66729,ORAL\n", encoding="utf-8")
    spec.study["ct"]["files"] = ["ct/bad.csv"]
    with pytest.raises(SpecError, match="bad.csv: not a study CT file: no column codelist_code, term_value"):
        study_ct(spec)
