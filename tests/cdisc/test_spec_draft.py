"""cdisc spec draft: names, values and the drafted spec, and how much of two hand-written specs it gets right."""
from pathlib import Path

import pandas as pd
import pytest

from cdisc import draft_names as names
from cdisc import draft_values as values
from cdisc.draft_score import compare_specs
from cdisc.pipeline import builtin_raw_dir
from cdisc.spec_cli import main as spec_main
from specs.ct import load_ct
from specs.errors import SpecError
from specs.loader import builtin_spec_dir, load_study_spec, read_yaml

REPO = Path(__file__).resolve().parents[2]
OAK_RAW = REPO.parent / "shared" / "reference" / "studies" / "sdtm-oak-example" / "raw_data"
OAK_SPEC = REPO / "specs" / "studies" / "sdtm-oak-example"


def test_edc_decorations_come_off_and_cdash_names_give_sdtm_variables():
    assert names.normalize("IT.AETERM_RAW") == ("AETERM", "'IT.' and '_RAW'")
    assert names.normalize("sex_std") == ("SEX", "'_STD'")
    assert names.date_target("AE", "AESTDAT") == "AESTDTC"
    assert names.date_target("VS", "VSDAT") == "VSDTC"
    assert names.date_target("DM", "BRTHDAT") == "BRTHDTC"
    assert names.time_target("AE", "AESTTIM") == "AESTDTC"
    [term] = names.propose_variable("AE", "IT.AETERM", False)
    assert (term.variable, term.confidence, term.reason) == (
        "AETERM", 0.85, "the column is named as the SDTMIG variable (after taking off 'IT.')")
    assert [p.variable for p in names.propose_variable("AE", "AETERM_SOC", False)] == ["AEBODSYS", "AESOC"]
    assert [p.variable for p in names.propose_variable("LB", "TESTCODE", True)] == ["LBTESTCD"]
    assert names.propose_variable("LB", "TESTCODE", False) == []
    assert names.propose_variable("AE", "WHATEVER", False) == []


def test_the_domain_of_a_form_from_its_column_prefixes_and_its_name():
    assert names.domain_from_names("ae", ["Subject", "AETERM", "AESTDAT"]) == (
        "AE", 0.95, "2 column(s) named AExxx and the form name 'ae'")
    assert names.domain_from_names("form7", ["Subject", "AETERM", "AESTDAT"])[:2] == ("AE", 0.8)
    assert names.domain_from_names("vital_signs", ["Subject", "X1"]) == ("VS", 0.6, "the form name 'vital_signs'")
    assert names.domain_from_names("misc", ["Subject", "X1"])[0] is None
    assert names.first_named(["Site", "PATNUM", "INSTANCE"], names.SUBJECT_NAMES) == "PATNUM"
    assert names.first_named(["Site", "PATNUM", "INSTANCE"], names.VISIT_NAMES) == "INSTANCE"


def test_date_formats_are_detected_and_an_ambiguous_day_month_order_is_listed():
    found = values.detect_date_format("AESTDAT", pd.Series(["08/02/2024", "14/02/2024", ""]))
    assert (found.formats, found.ambiguous, found.unread) == (["DD/MM/YYYY"], [], [])
    found = values.detect_date_format("AESTDAT", pd.Series(["03/04/2020", "05/06/2021"]))
    assert found.formats == ["DD/MM/YYYY"]
    assert found.ambiguous == ["MM/DD/YYYY (reads '03/04/2020' as 2020-03-04, DD/MM/YYYY as 2020-04-03)"]
    found = values.detect_date_format("MDBDR", pd.Series(["15-Sep-20", "4 Oct 2020", "16-May-15"]))
    assert found.formats == ["DD-MON-YY", "DD MON YYYY"]
    assert values.detect_date_format("AGE", pd.Series(["42", "37"])) is None
    assert values.detect_date_format("AETERM", pd.Series(["Headache", "Nausea"])) is None
    assert values.detect_time_format("VSTIM", pd.Series(["08:27", "7:25"])) == "HH:MM"
    assert values.detect_time_format("VSPOS", pd.Series(["Sitting"])) is None


def test_collected_values_are_matched_to_a_codelist_exactly_case_insensitively_or_by_synonym():
    ct = load_ct()
    match = values.match_terms(pd.Series(["Mild", "MODERATE", "Mild", "Awful", ""]), ct.codelist("AESEV"))
    assert (match.exact, match.case_insensitive, match.synonym, match.unmatched) == (
        ["MODERATE"], {"Mild": "MILD"}, {}, ["Awful"])
    match = values.match_terms(pd.Series(["Yes", "No"]), ct.codelist("NY"))
    assert match.synonym == {"Yes": "Y", "No": "N"}
    assert match.summary() == "codelist NY: 0 exact, 0 case-insensitive, 2 by synonym or decode, 0 unmatched"


def test_a_wide_findings_form_is_recognised_by_its_test_columns():
    tests = values.wide_tests(["PATNUM", "SYS_BP", "DIA_BP", "RESPRT", "WEIGHT", "VSPOS"],
                              load_ct().codelist("VSTESTCD"), names.normalize)
    assert {c: t[0] for c, t in tests.items()} == {"SYS_BP": "SYSBP", "DIA_BP": "DIABP", "RESPRT": "RESP",
                                                   "WEIGHT": "WEIGHT"}
    assert tests["RESPRT"][1:] == (0.6, "'RESPRT' starts with the VSTESTCD term RESP")


@pytest.fixture(scope="module")
def demo_draft(tmp_path_factory):
    out = tmp_path_factory.mktemp("draft") / "demo"
    assert spec_main(["draft", "--raw", str(builtin_raw_dir()), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def oak_draft(tmp_path_factory):
    out = tmp_path_factory.mktemp("draft") / "oak"
    assert spec_main(["draft", "--raw", str(OAK_RAW), "--out", str(out)]) == 0
    return out


def variables(folder, domain):
    document = read_yaml(folder / "sdtm.yaml", [])
    return {v["name"]: v for v in document["domains"][domain]["variables"]}


def test_the_demo_draft_proposes_cdash_variables_dates_ct_and_visits(demo_draft):
    ae = variables(demo_draft, "AE")
    assert ae["AESTDTC"]["map"] == {"algorithm": "assign_datetime", "date": "AESTDAT", "format": "DD/MM/YYYY"}
    assert ae["AESEV"] == {"name": "AESEV", "codelist": "AESEV", "map": {"algorithm": "assign_ct", "source": "AESEV"}}
    assert ae["AEREL"]["map"]["source"] == "TODO: AEREL_CSA or AEREL_IL2? each is named as AEREL"
    assert ae["USUBJID"]["map"] == {"algorithm": "derive_usubjid", "source": "Subject"}
    vs = variables(demo_draft, "VS")
    assert vs["VSDTC"]["map"] == {"algorithm": "assign_datetime", "date": "VSDAT", "time": "VSTIM",
                                  "format": "DD/MM/YYYY"}
    assert vs["VISITNUM"]["map"] == {"algorithm": "derive_visitnum", "source": "Folder"}
    text = (demo_draft / "sdtm.yaml").read_text(encoding="utf-8")
    assert "      # 0.95 AETERM: the column is named as the SDTMIG variable\n      - {name: AETERM," in text
    assert "melt:\n      columns: {WEIGHT: WEIGHT, HEIGHT: HEIGHT, SYSBP: SYSBP, DIABP: DIABP, PULSE: PULSE, " \
           "TEMP: TEMP}" in text
    study = read_yaml(demo_draft / "study.yaml", [])
    assert study["sources"]["ae"] == {"path": "edc/ae.csv", "keys": ["Subject", "Folder", "RecordPosition"],
                                      "odm": {"path": "edc/odm_export.xml", "form": "AE"}}
    assert study["design"]["visits"][0] == {"visitnum": 1, "visit": "SCR", "match": {"folder": "SCR"}}
    report = (demo_draft / "draft-report.md").read_text(encoding="utf-8")
    assert "- AEREL: 0.30 2 columns named as AEREL **TODO**" in report


def test_the_oak_draft_reads_r_missing_values_wide_vitals_and_mixed_date_formats(oak_draft):
    study = read_yaml(oak_draft / "study.yaml", [])
    assert study["sources"]["dm"]["missing"] == ["NA"]
    report = (oak_draft / "draft-report.md").read_text(encoding="utf-8")
    assert "## Files with no domain recognised\n\n- cm_sdtm_oak_spec.csv: columns " in report  # a spec, not data
    text = (oak_draft / "sdtm.yaml").read_text(encoding="utf-8")
    assert "columns: {SYS_BP: SYSBP, DIA_BP: DIABP, PULSE: PULSE, RESPRT: RESP, TEMP: TEMP, OXY_SAT: OXYSAT}" in text
    vs = variables(oak_draft, "VS")
    assert vs["VSDTC"]["map"] == {"algorithm": "assign_datetime", "date": "VTLD", "time": "VTLTM",
                                  "format": "DD-MON-YY"}
    assert vs["VSORRESU"]["map"]["terms"]["SYSBP"] == "TODO: the unit of SYSBP (empty when it has none)"
    assert variables(oak_draft, "DM")["RFSTDTC"]["map"] == {"algorithm": "assign_no_ct", "source": "RFSTDTC"}


def test_a_draft_is_refused_by_spec_loading_until_its_todos_are_resolved(demo_draft):
    with pytest.raises(SpecError) as error:
        load_study_spec(demo_draft)
    lines = str(error.value).splitlines()
    assert lines[0].endswith("unresolved TODOs:")
    assert any(line.endswith("sdtm.yaml: domains.AE.variables[20].map.source (AEREL): TODO: AEREL_CSA or "
                             "AEREL_IL2? each is named as AEREL") for line in lines)


def test_how_much_of_the_hand_written_specs_the_draft_proposes(demo_draft, oak_draft, capsys):
    demo = compare_specs(demo_draft, builtin_spec_dir())
    oak = compare_specs(oak_draft, OAK_SPEC)
    print(f"\ndemo study: {demo.line()}\nsdtm.oak example: {oak.line()}")
    with capsys.disabled():
        print(f"\ncdisc spec draft: demo study {demo.line()}; sdtm.oak example {oak.line()}")
    assert (demo.correct, demo.total) == (88, 203)  # the demo spec maps EC from the raw forms and EX from EC
    assert (oak.correct, oak.total) == (52, 82)


def test_draft_refuses_to_overwrite_a_spec_and_names_an_empty_raw_folder(tmp_path, demo_draft, capsys):
    from cdisc.cli import main

    assert main(["spec", "draft", "--raw", str(builtin_raw_dir()), "--out", str(demo_draft)]) == 1
    assert "study.yaml: already exists (--force overwrites it)" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["spec", "draft", "--raw", str(tmp_path / "empty"), "--out", str(tmp_path / "x")]) == 1
    assert capsys.readouterr().err.startswith("error: 1 raw data error:\n")
