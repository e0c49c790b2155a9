"""The command line, the reports, Dataset-JSON input and corrupt input."""
from __future__ import annotations

import json

import pytest

from validate.cli import main, validate
from validate.package import load_package
from validate.registry import run_rules
from validate.report import terminal_summary, to_html
from validate_study import S1, S2, clean_frames, stub_ct, write_define, write_package


def test_hand_built_package_reports_exactly_the_planted_defects(tmp_path):
    frames = clean_frames()
    frames["DM"].loc[1, "SEX"] = "MALE"                 # CT2001
    frames["AE"].loc[0, "AESTDTC"] = "2024-01-11 10:00"  # SD0003 (space instead of T)
    frames["LB"].loc[4, "LBSEQ"] = 1.0                   # SD0005 twice (S2 LBSEQ 1 and 1)
    frames["ADLB"].loc[3, "CHG"] = 0.7                   # CV0410
    write_package(tmp_path / "pkg", frames)
    findings = run_rules(load_package(tmp_path / "pkg"), stub_ct())
    got = sorted(zip(findings["rule"], findings["dataset"], findings["key"], findings["value"]))
    assert got == sorted([
        ("CT2001", "DM", f"USUBJID={S2}", "MALE"),
        ("SD0003", "AE", f"USUBJID={S1}, AESEQ=1", "2024-01-11 10:00"),
        ("SD0005", "LB", f"USUBJID={S2}, LBSEQ=1", "1"),
        ("SD0005", "LB", f"USUBJID={S2}, LBSEQ=1", "1"),
        ("CV0410", "ADLB", f"USUBJID={S2}, PARAMCD=GLUC, AVISIT=WEEK 1", "0.7"),
    ])


def test_cli_writes_reports_and_exits_1_on_errors(tmp_path, capsys):
    frames = clean_frames()
    frames["DM"].loc[1, "SEX"] = "MALE"
    write_package(tmp_path / "pkg", frames)
    out = tmp_path / "report"
    ct = tmp_path / "ct.txt"  # a two-line NCI EVS file: codelist SEX and its terms
    ct.write_text("Code\tCodelist Code\tCodelist Extensible (Yes/No)\tCodelist Name\tCDISC Submission Value\n"
                  "C66731\t\tNo\tSex\tSEX\nC16576\tC66731\t\tSex\tF\nC20197\tC66731\t\tSex\tM\n")
    assert main([str(tmp_path / "pkg"), "--out", str(out), "--ct", str(ct)]) == 1
    report = json.loads((out / "validation.json").read_text())
    assert report["summary"]["counts"] == {"Error": 1, "Warning": 0, "Notice": 0}
    assert report["findings"][0]["rule"] == "CT2001"
    assert report["findings"][0]["row"] == 2
    html = (out / "validation.html").read_text()
    assert "CT2001" in html and f"USUBJID={S2}" in html and "<script" not in html
    printed = capsys.readouterr().out
    assert printed.startswith("Validation: 1 error, 0 warnings, 0 notices")


def test_cli_exits_0_on_clean_package_with_default_out(tmp_path, capsys):
    frames = clean_frames()
    write_package(tmp_path / "pkg", frames)
    write_define(tmp_path / "pkg" / "define.xml", frames)
    ct = tmp_path / "ct.txt"
    ct.write_text("Code\tCodelist Code\tCodelist Extensible (Yes/No)\tCodelist Name\tCDISC Submission Value\n")
    assert main([str(tmp_path / "pkg"), "--ct", str(ct)]) == 0
    assert (tmp_path / "pkg" / "validation" / "validation.html").exists()
    assert main([str(tmp_path / "pkg"), "--ct", str(ct)]) == 0  # the report folder is not read back


@pytest.mark.parametrize("make,message", [
    (lambda d: (d / "dm.xpt").write_bytes((d / "dm.xpt").read_bytes()[:500]),
     "dm.xpt: truncated SAS XPORT file: it ends at byte 500, inside the second member header record "
     "(record 7, bytes 480-559); expected at least 560 bytes"),
    (lambda d: (d / "define.xml").write_text("<ODM><Study>"), "define.xml: not a readable define.xml"),
    (lambda d: (d / "qq.json").write_text("{not json"), "qq.json: not readable Dataset-JSON"),
    (lambda d: (d / "notes.json").write_text('{"name": "NOTES", "columns": [], "rows": []}'),
     "unknown dataset 'NOTES'"),
])
def test_corrupt_input_gives_clear_message_and_exit_2(tmp_path, capsys, make, message):
    write_package(tmp_path / "pkg", {"DM": clean_frames()["DM"]})
    make(tmp_path / "pkg")
    assert main([str(tmp_path / "pkg")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_path_exit_2(tmp_path, capsys):
    assert main([str(tmp_path / "nothing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_dataset_json_is_read_like_xpt(tmp_path):
    dm = clean_frames()["DM"]
    columns = [{"itemOID": f"IT.DM.{c}", "name": c, "label": c.title(),
                "dataType": "integer" if c == "AGE" else "string"} for c in dm.columns]
    rows = dm.astype(object).where(dm.notna(), None).values.tolist()
    (tmp_path / "dm.json").write_text(json.dumps({"datasetJSONVersion": "1.1.0", "name": "DM", "label": "Demographics",
                                                  "columns": columns, "rows": rows}))
    lines = [json.dumps({"datasetJSONVersion": "1.1.0", "name": "DM", "label": "Demographics", "columns": columns})]
    (tmp_path / "nd").mkdir()
    (tmp_path / "nd" / "dm.ndjson").write_text("\n".join(lines + [json.dumps(r) for r in rows]))
    for path in (tmp_path / "dm.json", tmp_path / "nd" / "dm.ndjson"):
        package = load_package(path)
        df = package.datasets["DM"]
        assert df["AGE"].tolist() == [34.0, 41.0, 29.0]
        assert df["ARMCD"].isna().tolist() == [False, False, True]
        assert package.meta["DM"].variables["AGE"].type == "Num"


def test_same_dataset_in_xpt_and_json_validates_the_xpt(tmp_path):
    write_package(tmp_path, {"DM": clean_frames()["DM"]})
    (tmp_path / "dm.json").write_text(json.dumps({"name": "DM", "columns": [], "rows": []}))
    package = load_package(tmp_path)
    assert len(package.datasets["DM"]) == 3
    assert package.notes == ["DM: dm.json ignored, dm.xpt validated"]


def test_validate_api_and_summaries(tmp_path):
    frames = clean_frames()
    frames["LB"].loc[0, "LBDY"] = 0.0
    write_package(tmp_path / "pkg", frames)
    package, findings = validate(tmp_path / "pkg")
    assert "CV0201" in set(findings["rule"])
    assert terminal_summary(findings).splitlines()[0].startswith("Validation: ")
    assert "<h3" in to_html(findings, {"path": "x"})


def test_cp1252_xpt_is_read(tmp_path):
    frames = {"DM": clean_frames()["DM"]}
    frames["DM"].loc[0, "COUNTRY"] = "FRÀ"
    import pyreadstat
    pyreadstat.write_xport(frames["DM"], str(tmp_path / "dm.xpt"), file_format_version=5, table_name="DM")
    raw = (tmp_path / "dm.xpt").read_bytes().replace("FRÀ".encode("utf-8"), "FRÀ ".encode("cp1252"))
    (tmp_path / "dm.xpt").write_bytes(raw)
    package = load_package(tmp_path)
    assert package.datasets["DM"]["COUNTRY"].tolist()[0] == "FRÀ"
    assert package.meta["DM"].encoding == "cp1252"
