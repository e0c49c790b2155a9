"""Standard versions (define.xml, TS, --ig), full or partial CT, and the reports (causes, rules run, CSV, XLSX)."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from specs.errors import DataError
from validate.cli import main
from validate.package import load_package
from validate.registry import run_rules
from validate.report import causes, to_html
from validate.terminology import CodelistTerms, Terminology
from validate.versions import detect_versions, parse_ig_flag
from validate_study import S1, S2, clean_frames, stub_ct, write_package

NCI_HEADER = "Code\tCodelist Code\tCodelist Extensible (Yes/No)\tCodelist Name\tCDISC Submission Value\n"


def ts_frame(version: str | None, ct_version: str | None = None) -> pd.DataFrame:
    rows = [("SDTIGVER", version, None, None)] if version else []
    rows.append(("TITLE", "A study", None, None))
    if ct_version:
        rows.append(("SEXPOP", "BOTH", "CDISC CT", ct_version))
    return pd.DataFrame({"STUDYID": "XYZ-01", "DOMAIN": "TS", "TSSEQ": [1.0] * len(rows),
                         "TSPARMCD": [r[0] for r in rows], "TSVAL": [r[1] for r in rows],
                         "TSVCDREF": [r[2] for r in rows], "TSVCDVER": [r[3] for r in rows]}).astype(
        {"TSVCDREF": object, "TSVCDVER": object, "TSVAL": object})


def package_with(tmp_path, frames):
    write_package(tmp_path / "pkg", frames)
    return load_package(tmp_path / "pkg")


@pytest.mark.parametrize("text,expected", [
    ("3.2", ("sdtmig", "3.2")), ("SDTMIG 3.3", ("sdtmig", "3.3")), ("ADaMIG 1.1", ("adamig", "1.1")),
    ("adamig=1.2", ("adamig", "1.2")), ("1.3", ("adamig", "1.3")), ("SDTM-IG v3.2", ("sdtmig", "3.2")),
])
def test_ig_flag(text, expected):
    assert parse_ig_flag(text) == expected


def test_ig_flag_without_version_is_refused():
    with pytest.raises(DataError, match="names no version"):
        parse_ig_flag("SDTMIG")


def test_a_32_package_is_not_checked_against_34(tmp_path):
    frames = clean_frames()
    frames["TS"] = ts_frame("3.2")
    frames["AE"] = frames["AE"].drop(columns="AEDECOD")  # SDTMIG 3.4 SD0056, but 3.2 metadata is not shipped
    findings = run_rules(package_with(tmp_path, frames), stub_ct())
    record = {r["id"]: r for r in findings.attrs["rules"]}
    assert record["SD0056"]["status"] == "skipped"
    assert record["SD0056"]["reason"] == ("not checked: no SDTMIG 3.2 variable metadata is shipped (SDTMIG 3.4 are)")
    assert "SD0056" not in set(findings["rule"])
    assert record["SD0003"]["status"] == "ran" and record["SD0003"]["standard"] == "SDTMIG 3.2"
    assert findings.attrs["versions"]["SDTMIG"] == "3.2 (TS SDTIGVER; no metadata shipped: IG rules not checked)"


def test_the_terminal_says_which_versions_were_checked_and_which_are_supported(tmp_path, capsys):
    frames = clean_frames()
    frames["TS"] = ts_frame("3.2")
    folder = write_package(tmp_path / "pkg", frames)
    main([str(folder), "--out", str(tmp_path / "report")])
    printed = capsys.readouterr().out
    assert ("  checked against SDTMIG 3.2 (TS SDTIGVER; no metadata shipped: IG rules not checked)" in printed
            and "; IG variable metadata shipped: SDTMIG 3.4, ADaMIG 1.3; on another version the rules that need it "
                "are not checked, the others run" in printed)
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "IG variable metadata shipped: SDTMIG 3.4, ADaMIG 1.3" in " ".join(capsys.readouterr().out.split())


def test_ig_flag_wins_and_the_disagreement_is_noted(tmp_path):
    frames = clean_frames()
    frames["TS"] = ts_frame("3.2")
    versions = detect_versions(package_with(tmp_path, frames), None, ["3.4"])
    assert versions.sdtmig == "3.4" and versions.sources["SDTMIG"] == "--ig"
    assert versions.notes == ["SDTMIG 3.4 given with --ig; TS SDTIGVER declares 3.2"]


def test_undeclared_version_is_assumed_and_said(tmp_path):
    versions = detect_versions(package_with(tmp_path, clean_frames()))
    assert versions.sdtmig == "3.4" and versions.sources["SDTMIG"] == "assumed: the package does not declare it"
    assert versions.adamig == "1.3"


def test_codelist_outside_a_subset_is_not_checked_but_a_full_package_checks_it(tmp_path):
    frames = clean_frames()
    frames["DM"].loc[0, "ETHNIC"] = "MARTIAN"  # ETHNIC C66790 is not in the stub subset
    package = package_with(tmp_path, frames)
    subset = stub_ct()
    subset.complete = False
    findings = run_rules(package, subset, ["CT2001"])
    assert findings.empty
    reason = findings.attrs["rules"][0]["reason"]
    assert "not checked: " in reason and "DM.ETHNIC (C66790)" in reason
    full = Terminology({**stub_ct().by_code, "C66790": CodelistTerms("C66790", "ETHNIC", "Ethnic Group", False,
                                                                     {"HISPANIC OR LATINO": "C17459"})})
    findings = run_rules(package, full, ["CT2001"])
    assert findings[["dataset", "variable", "value"]].values.tolist() == [["DM", "ETHNIC", "MARTIAN"]]


def test_ct_version_mismatch_lowers_closed_codelist_findings_to_warnings(tmp_path):
    frames = clean_frames()
    frames["TS"] = ts_frame("3.4", ct_version="2014-09-26")
    frames["DM"].loc[1, "SEX"] = "MALE"
    ct = stub_ct()
    ct.versions = {"SDTM": "2025-03-28"}
    findings = run_rules(package_with(tmp_path, frames), ct, ["CT2001"])
    assert findings[["severity", "value"]].values.tolist() == [["Warning", "MALE"]]
    assert findings["message"][0] == ("SEX = 'MALE' is not in non-extensible codelist SEX (C66731) (the package "
                                      "declares SDTM CT 2014-09-26, checked against 2025-03-28)")


def test_several_ct_files_merge(tmp_path):
    sdtm, adam = tmp_path / "SDTM_Terminology_2025-03-28.txt", tmp_path / "ADaM_CT_2025-03-28.csv"
    sdtm.write_text(NCI_HEADER + "C66731\t\tNo\tSex\tSEX\nC16576\tC66731\t\tSex\tF\n")
    adam.write_text(NCI_HEADER.replace("\t", ",") + "C81224,,Yes,Derivation Type,DTYPE\nC81209,C81224,,Derivation Type,AVERAGE\n")
    from validate.terminology import load_terminology
    ct = load_terminology([sdtm, adam])
    assert set(ct.by_code) == {"C66731", "C81224"} and ct.complete
    assert ct.versions == {"SDTM": "2025-03-28", "ADaM": "2025-03-28"}


def test_causes_group_records_of_one_rule_and_variable():
    findings = pd.DataFrame({
        "rule": ["CT2001"] * 3 + ["SD0003"], "severity": ["Error"] * 3 + ["Warning"], "standard": "x",
        "core_id": None, "fda_id": None, "dataset": ["DM", "DM", "DM", "AE"], "variable": ["SEX", "SEX", "SEX", "AESTDTC"],
        "row": [1, 2, 3, 4], "key": [f"USUBJID={S1}", f"USUBJID={S2}", "USUBJID=3", "k"], "value": ["MALE", "MALE", "X", "d"],
        "count": [1, 1, 1, 1], "message": ["m1", "m2", "m3", "m4"]})
    got = causes(findings)
    assert got[["severity", "rule", "dataset", "variable", "count", "values"]].values.tolist() == [
        ["Error", "CT2001", "DM", "SEX", 3, "'MALE' x2, 'X'"], ["Warning", "SD0003", "AE", "AESTDTC", 1, "'d'"]]
    assert got["examples"][0] == f"USUBJID={S1}; USUBJID={S2}; USUBJID=3"


def test_cli_writes_csv_xlsx_and_lists_rules_run_and_not_checked(tmp_path):
    frames = clean_frames()
    frames["DM"].loc[1, "SEX"] = "MALE"
    write_package(tmp_path / "pkg", {k: v for k, v in frames.items() if not k.startswith("AD")})
    ct = tmp_path / "ct.txt"
    ct.write_text(NCI_HEADER + "C66731\t\tNo\tSex\tSEX\nC16576\tC66731\t\tSex\tF\nC20197\tC66731\t\tSex\tM\n")
    out = tmp_path / "report"
    assert main([str(tmp_path / "pkg"), "--out", str(out), "--ct", str(ct)]) == 1
    rows = pd.read_csv(out / "validation.csv", dtype=str, keep_default_na=False)
    assert rows.columns.tolist() == ["rule", "core_id", "fda_id", "message", "dataset", "variable", "record", "key",
                                     "value", "severity", "count"]
    assert rows[["rule", "dataset", "variable", "record", "value", "severity", "count"]].values.tolist() == [
        ["CT2001", "DM", "SEX", "2", "MALE", "Error", "1"]]
    book = load_workbook(out / "validation.xlsx", read_only=True)
    assert book.sheetnames == ["Causes", "Findings", "Rules", "Package"]
    causes_sheet = list(book["Causes"].values)
    assert causes_sheet[0][:6] == ("severity", "rule", "dataset", "variable", "core_id", "fda_id")
    assert causes_sheet[1][:4] == ("Error", "CT2001", "DM", "SEX")
    report = json.loads((out / "validation.json").read_text())
    status = {r["id"]: r["status"] for r in report["rules"]}
    assert status["SD0003"] == "ran" and status["CV0410"] == "skipped"
    assert report["causes"][0]["rule"] == "CT2001" and report["causes"][0]["count"] == 1
    html = (out / "validation.html").read_text()
    assert "Rules not checked" in html and "no ADaM datasets" in html and "Causes (1)" in html


def test_html_shows_versions_checked_against(tmp_path):
    findings = run_rules(package_with(tmp_path, clean_frames()), stub_ct(), ["SD0003"])
    assert "SDTMIG <code>3.4 (assumed: the package does not declare it)</code>" in to_html(findings, {"path": "p"})
