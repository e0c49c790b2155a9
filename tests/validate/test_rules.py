"""Each rule on the clean hand-typed package with ONE planted defect: exactly that finding."""
from __future__ import annotations

import pandas as pd
import pytest

from validate.package import load_package
from validate.registry import RULES, run_rules
from validate_study import S1, S2, S3, clean_frames, stub_ct, write_define, write_package


def run(tmp_path, frames, rule=None, define=False, labels=None):
    write_package(tmp_path / "pkg", frames, labels)
    if define:
        write_define(tmp_path / "pkg" / "define.xml", clean_frames() if define == "clean" else frames)
    package = load_package(tmp_path / "pkg")
    return run_rules(package, stub_ct(), [rule] if rule else None)


def triples(findings):
    return [(r.dataset, r.key, r.value) for r in findings.itertuples()]


def test_clean_package_has_no_findings(tmp_path):
    findings = run(tmp_path, clean_frames(), define=True)
    assert findings.empty, findings.to_string()


def set_cell(frames, dataset, row, column, value):
    frames[dataset].loc[row, column] = value


# (rule, planting function, expected findings as (dataset, key, value))
CASES = [
    ("SD0002", lambda f: set_cell(f, "LB", 2, "LBTESTCD", None), [("LB", f"USUBJID={S1}, LBSEQ=3", "")]),
    ("SD0056", lambda f: f.__setitem__("AE", f["AE"].drop(columns="AEDECOD")), [("AE", "", "")]),
    ("SD0057", lambda f: f.__setitem__("DM", f["DM"].drop(columns="RACE")), [("DM", "", "")]),
    ("SD0055", lambda f: f["EX"].__setitem__("EXDOSE", f["EX"]["EXDOSE"].map(str)), [("EX", "", "Char")]),
    ("SD0083", lambda f: set_cell(f, "DM", 2, "USUBJID", S2),
     [("DM", f"USUBJID={S2}", S2), ("DM", f"USUBJID={S2}", S2)]),
    ("SD0005", lambda f: set_cell(f, "LB", 1, "LBSEQ", 1.0),
     [("LB", f"USUBJID={S1}, LBSEQ=1", "1"), ("LB", f"USUBJID={S1}, LBSEQ=1", "1")]),
    ("SD1117", lambda f: f.__setitem__("AE", pd.concat([f["AE"], f["AE"].iloc[[1]].assign(AESEQ=2.0)], ignore_index=True)),
     [("AE", f"USUBJID={S2}, AESEQ=1", "1"), ("AE", f"USUBJID={S2}, AESEQ=2", "2")]),
    ("SD0003", lambda f: set_cell(f, "AE", 0, "AESTDTC", "2024-13-01"), [("AE", f"USUBJID={S1}, AESEQ=1", "2024-13-01")]),
    ("SD0013", lambda f: set_cell(f, "AE", 1, "AEENDTC", "2024-01-15"), [("AE", f"USUBJID={S2}, AESEQ=1", "2024-01-16")]),
    ("CV0201", lambda f: set_cell(f, "LB", 0, "LBDY", 0.0), [("LB", f"USUBJID={S1}, LBSEQ=1", "0")]),
    ("CV0202", lambda f: set_cell(f, "LB", 4, "LBDY", 7.0), [("LB", f"USUBJID={S2}, LBSEQ=2", "7")]),
    ("CV0203", lambda f: (set_cell(f, "LB", 4, "LBSTRESU", "mg/dL"), set_cell(f, "LB", 4, "LBORRESU", "mg/dL")),
     [("LB", f"USUBJID={S2}, LBSEQ=2", "mg/dL")]),
    ("CV0204", lambda f: set_cell(f, "LB", 1, "LBSTRESN", 6.9), [("LB", f"USUBJID={S1}, LBSEQ=2", "6.9")]),
    ("CV0205", lambda f: set_cell(f, "LB", 3, "LBSTRESC", None), [("LB", f"USUBJID={S2}, LBSEQ=1", "4.9")]),
    ("CT2001", lambda f: set_cell(f, "DM", 1, "SEX", "MALE"), [("DM", f"USUBJID={S2}", "MALE")]),
    ("CT2002", lambda f: set_cell(f, "EX", 0, "EXDOSFRM", "PILL"), [("EX", f"USUBJID={S1}, EXSEQ=1", "PILL")]),
    ("SD0064", lambda f: set_cell(f, "AE", 1, "USUBJID", "XYZ-01-099"), [("AE", "USUBJID=XYZ-01-099, AESEQ=1", "XYZ-01-099")]),
    ("CV0301", lambda f: set_cell(f, "LB", 4, "VISIT", "WEEK ONE"), [("LB", f"USUBJID={S2}, LBSEQ=2", "WEEK ONE")]),
    ("SD0065", lambda f: set_cell(f, "LB", 4, "VISITNUM", 3.0), [("LB", f"USUBJID={S2}, LBSEQ=2", "3")]),
    ("CV0302", lambda f: set_cell(f, "AE", 0, "EPOCH", "FOLLOW-UP"), [("AE", f"USUBJID={S1}, AESEQ=1", "FOLLOW-UP")]),
    ("CV0303", lambda f: set_cell(f, "DM", 1, "ACTARMCD", "C"), [("DM", f"USUBJID={S2}", "C")]),
    ("CV0304", lambda f: set_cell(f, "DM", 2, "ARMNRS", None),
     [("DM", f"USUBJID={S3}", ""), ("DM", f"USUBJID={S3}", "")]),
    ("CV0305", lambda f: set_cell(f, "SUPPAE", 0, "IDVARVAL", "7"),
     [("SUPPAE", f"RDOMAIN=AE, USUBJID={S1}, IDVAR=AESEQ, IDVARVAL=7, QNAM=AETRTEM", "7")]),
    ("CV0306", lambda f: set_cell(f, "DM", 0, "RFXSTDTC", "2024-01-09"), [("DM", f"USUBJID={S1}", "2024-01-09")]),
    ("CV0101", lambda f: f.__setitem__("LB", f["LB"].rename(columns={"LBCAT": "LB_CATEG"})), [("LB", "", "LB_CATEG")]),
    ("CV0103", lambda f: set_cell(f, "AE", 0, "AETERM", "x" * 201), [("AE", f"USUBJID={S1}, AESEQ=1", "x" * 201)]),
    ("CV0104", lambda f: set_cell(f, "AE", 0, "AETERM", "Céphalée"), [("AE", f"USUBJID={S1}, AESEQ=1", "Céphalée")]),
    ("CV0107", lambda f: f.__setitem__("DM", f["DM"][["STUDYID", "DOMAIN", "SUBJID", "USUBJID"] + list(f["DM"].columns[4:])]),
     [("DM", "", "")]),
    ("CV0108", lambda f: set_cell(f, "TA", 1, "TAETORD", 1.0),
     [("TA", "ARMCD=A, TAETORD=1", "ARMCD=A, TAETORD=1; ARMCD=A, TAETORD=1")]),  # one cause, 2 records
    ("CV0401", lambda f: f.__setitem__("ADSL", f["ADSL"].drop(columns="TRT01P")), [("ADSL", "", "")]),
    ("CV0402", lambda f: set_cell(f, "ADLB", 3, "PARAM", None), [("ADLB", f"USUBJID={S2}, PARAMCD=GLUC, AVISIT=WEEK 1", "")]),
    ("CV0404", lambda f: f.__setitem__("ADSL", pd.concat([f["ADSL"], f["ADSL"].iloc[[0]]], ignore_index=True)),
     [("ADSL", f"USUBJID={S1}", S1), ("ADSL", f"USUBJID={S1}", S1)]),
    ("CV0405", lambda f: set_cell(f, "ADLB", 3, "USUBJID", S3), [("ADLB", f"USUBJID={S3}, PARAMCD=GLUC, AVISIT=WEEK 1", S3)]),
    ("CV0406", lambda f: set_cell(f, "ADSL", 1, "SAFFL", None), [("ADSL", f"USUBJID={S2}", "")]),
    ("CV0407", lambda f: set_cell(f, "ADLB", 1, "ABLFL", "Y"),
     [("ADLB", f"USUBJID={S1}, PARAMCD=GLUC, AVISIT=BASELINE", "Y"), ("ADLB", f"USUBJID={S1}, PARAMCD=GLUC, AVISIT=WEEK 1", "Y")]),
    ("CV0408", lambda f: set_cell(f, "ADLB", 3, "BASE", 5.0), [("ADLB", f"USUBJID={S2}, PARAMCD=GLUC, AVISIT=WEEK 1", "5")]),
    ("CV0410", lambda f: set_cell(f, "ADLB", 1, "CHG", 1.5), [("ADLB", f"USUBJID={S1}, PARAMCD=GLUC, AVISIT=WEEK 1", "1.5")]),
    ("CV0411", lambda f: set_cell(f, "ADLB", 3, "PCHG", 12.5), [("ADLB", f"USUBJID={S2}, PARAMCD=GLUC, AVISIT=WEEK 1", "12.5")]),
    ("CV0412", lambda f: set_cell(f, "ADLB", 3, "PARAM", "Glucose (mg/dL)"),
     [("ADLB", f"USUBJID={k}, PARAMCD=GLUC, AVISIT={v}", "GLUC") for k, v in
      ((S1, "BASELINE"), (S1, "WEEK 1"), (S2, "BASELINE"), (S2, "WEEK 1"))]),
    ("CV0413", lambda f: set_cell(f, "ADLB", 0, "ADY", -1.0), [("ADLB", f"USUBJID={S1}, PARAMCD=GLUC, AVISIT=BASELINE", "-1")]),
]


@pytest.mark.parametrize("rule_id,plant,expected", CASES, ids=[c[0] for c in CASES])
def test_rule_finds_planted_defect(tmp_path, rule_id, plant, expected):
    frames = clean_frames()
    plant(frames)
    findings = run(tmp_path, frames, rule_id)
    assert (findings["rule"] == rule_id).all()
    assert triples(findings) == expected, findings.to_string()


def test_every_rule_passes_on_clean_package(tmp_path):
    write_package(tmp_path / "pkg", clean_frames())
    write_define(tmp_path / "pkg" / "define.xml", clean_frames())
    package = load_package(tmp_path / "pkg")
    for rule_id in RULES:
        assert run_rules(package, stub_ct(), [rule_id]).empty, rule_id


def test_messages_are_filled_from_templates(tmp_path):
    frames = clean_frames()
    set_cell(frames, "LB", 4, "LBDY", 7.0)
    findings = run(tmp_path, frames, "CV0202")
    assert findings["message"].tolist() == ["LBDY = 7 but LBDTC and DM.RFSTDTC give 8"]
    assert findings[["severity", "standard", "row"]].values.tolist() == [["Error", "SDTMIG 3.4", 5]]


def test_study_day_counts_without_day_zero(tmp_path):
    # RFSTDTC 2024-01-10: 2024-01-09 is day -1, 2024-01-10 day 1
    frames = clean_frames()
    frames["LB"].loc[0, ["LBDTC", "LBDY"]] = ["2024-01-09", -1.0]
    frames["LB"].loc[1, ["LBDTC", "LBDY"]] = ["2024-01-10T07:00", 1.0]
    frames["LB"].loc[2, ["LBDTC", "LBDY"]] = ["2024-01", 5.0]  # partial date: not compared
    assert run(tmp_path, frames, "CV0202").empty


@pytest.mark.parametrize("value,valid", [
    ("2003-12-15T10:30:59", True), ("2003-12", True), ("2003", True), ("2003---15", True),
    ("2003-12-15T--:15", True), ("2003-01-01/2003-06-30", True), ("2003-12-15T10", True),
    ("2003-02-30", False), ("2003/12/15", False), ("20031215", False), ("2003-12-15 10:30", False),
    ("2003-12-", False), ("2003-12-15T", False), ("2003-12-15T25:00", False), ("15DEC2003", False),
])
def test_iso8601_syntax(value, valid):
    from validate.rules.common import iso_valid
    assert bool(iso_valid(pd.Series([value]))[0]) is valid


def test_start_after_end_compares_at_common_precision():
    from validate.rules.values import start_after_end
    start = pd.Series(["2024-01-16", "2024-02", "2024-01-16T10:00", "2024-01-16T10:00", None, "2024---16"])
    end = pd.Series(["2024-01-15", "2024-01-20", "2024-01-16T09:00", "2024-01-16", "2024-01-01", "2024-01-01"])
    assert start_after_end(start, end).tolist() == [True, True, True, False, False, False]


DEFINE_CASES = [
    ("CV0501", lambda f: f.pop("TV"), [("TV", "", "in define.xml but has no data file")]),
    ("CV0502", lambda f: f.__setitem__("AE", f["AE"].assign(AEOUT=["RECOVERED/RESOLVED"] * 2)),
     [("AE", "", "in the data but not in define.xml")]),
    ("CV0504", lambda f: f["DM"].__setitem__("AGE", f["DM"]["AGE"].map(lambda v: f"{v:.0f}")), [("DM", "", "Char")]),
    ("CV0505", lambda f: set_cell(f, "DM", 0, "COUNTRY", "FRANCE"), [("DM", "", "6")]),
    ("CV0506", lambda f: f.__setitem__("TV", f["TV"][["STUDYID", "DOMAIN", "VISITNUM", "VISIT", "TVSTRL", "ARMCD"]]),
     [("TV", "", "5")]),
    ("CT2001", lambda f: set_cell(f, "DM", 2, "SEX", "U"), [("DM", f"USUBJID={S3}", "U")]),  # not in the define subset
]


@pytest.mark.parametrize("rule_id,plant,expected", DEFINE_CASES, ids=[c[0] for c in DEFINE_CASES])
def test_define_rule_finds_planted_defect(tmp_path, rule_id, plant, expected):
    frames = clean_frames()
    plant(frames)
    assert triples(run(tmp_path, frames, rule_id, define="clean")) == expected


def test_define_label_mismatch(tmp_path):
    findings = run(tmp_path, clean_frames(), "CV0503", define="clean", labels={("AE", "AETERM"): "Reported Term"})
    assert triples(findings) == [("AE", "", "Reported Term")]
    assert findings["message"][0] == ("label of AE AETERM is 'Reported Term' in the data but "
                                      "'Reported Term for the Adverse Event' in define.xml")


def test_codelist_codes_checked_against_ct(tmp_path):
    write_package(tmp_path / "pkg", clean_frames())
    define = write_define(tmp_path / "pkg" / "define.xml", clean_frames())
    define.write_text(define.read_text().replace('Name="C20197"', 'Name="C99999"'))
    findings = run_rules(load_package(tmp_path / "pkg"), stub_ct(), ["CV0507"])
    assert findings[["dataset", "variable", "value"]].values.tolist() == [["Sex", "C99999", "M"]]
