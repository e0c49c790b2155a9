"""`cdisc validate PATH --rules DIR`: a CORE test-case folder read directly, open rules beside our own."""
from __future__ import annotations

import json

import yaml

from core_folder import write_core_folder
from validate.cli import main

RULE = {
    "Authorities": [{"Organization": "CDISC", "Standards": [{"Name": "SDTMIG", "Version": "3.4", "References": [
        {"Rule Identifier": {"Id": "CG0094", "Version": "1"}}]}]},
        {"Organization": "FDA", "Standards": [{"Name": "SDTMIG", "Version": "3.4", "References": [
            {"Rule Identifier": {"Id": "FB1502", "Version": "1"}}]}]}],
    "Check": {"all": [{"name": "--SEV", "operator": "not_equal_to", "value": "MILD"},
                      {"name": "--SEV", "operator": "non_empty"}]},
    "Core": {"Id": "CORE-900001", "Status": "Published", "Version": "1"},
    "Description": "Raise an error when --SEV is not MILD.", "Executability": "Fully Executable",
    "Outcome": {"Message": "--SEV is not MILD", "Output Variables": ["--SEV"]},
    "Rule Type": "Record Data", "Scope": {"Classes": {"Include": ["EVENTS"]}, "Domains": {"Include": ["ALL"]}},
    "Sensitivity": "Record",
}


def write_rule(folder, rule=RULE):
    (folder / "CORE-900001").mkdir(parents=True)
    (folder / "CORE-900001" / "rule.yml").write_text(yaml.safe_dump(rule))
    return folder


def package(tmp_path):
    return write_core_folder(tmp_path / "data", {"AE": {
        "STUDYID": ["S", "S"], "DOMAIN": ["AE", "AE"], "USUBJID": ["S-1", "S-2"], "AESEQ": ["1", "1"],
        "AETERM": ["HEADACHE", "NAUSEA"], "AEDECOD": ["Headache", "Nausea"], "AESEV": ["MILD", "SEVERE"]}},
        numeric=("AESEQ",))


def test_open_rule_findings_carry_core_conformance_and_fda_ids(tmp_path):
    rules = write_rule(tmp_path / "rules")
    assert main([str(package(tmp_path)), "--rules", str(rules), "--out", str(tmp_path / "report")]) == 1
    report = json.loads((tmp_path / "report" / "validation.json").read_text())
    found = [f for f in report["findings"] if f["rule"] == "CORE-900001"]
    assert found == [{"rule": "CORE-900001", "severity": "Error", "standard": "SDTMIG 3.4", "core_id": "CORE-900001",
                      "conformance_id": "CG0094", "fda_id": "FB1502", "dataset": "AE", "variable": "AESEV",
                      "row": 2, "key": "USUBJID=S-2, AESEQ=1", "value": "AESEV=SEVERE", "count": 1,
                      "message": "AESEV is not MILD"}]
    assert any(r["id"] == "CORE-900001" and r["description"] == RULE["Description"] for r in report["rules"])
    html = (tmp_path / "report" / "validation.html").read_text()
    assert "CDISC CG0094" in html and "FDA FB1502" in html


def test_the_environment_variable_configures_the_default_run(tmp_path, monkeypatch):
    rules = write_rule(tmp_path / "rules")
    monkeypatch.setenv("CDISC_OPEN_RULES", str(rules))
    main([str(package(tmp_path)), "--out", str(tmp_path / "report")])
    report = json.loads((tmp_path / "report" / "validation.json").read_text())
    assert [f["row"] for f in report["findings"] if f["rule"] == "CORE-900001"] == [2]
    monkeypatch.delenv("CDISC_OPEN_RULES")
    main([str(package(tmp_path)), "--out", str(tmp_path / "report")])
    report = json.loads((tmp_path / "report" / "validation.json").read_text())
    assert not [f for f in report["findings"] if f["rule"].startswith("CORE")]


def test_a_broken_rules_folder_is_refused_before_any_data_is_read(tmp_path, capsys):
    broken = dict(RULE)
    del broken["Check"]
    rules = write_rule(tmp_path / "rules", broken)
    assert main([str(package(tmp_path)), "--rules", str(rules), "--out", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert "CORE-900001/rule.yml: Check: missing or not a condition tree" in err and "Traceback" not in err
    assert main([str(package(tmp_path)), "--rules", str(tmp_path / "nowhere")]) == 2
    assert "no such rules folder" in capsys.readouterr().err


def test_an_open_rule_the_toolkit_already_checks_runs_once(tmp_path, monkeypatch):
    from validate.registry import RULES
    import validate.rules  # noqa: F401 - registers the rules

    own = next(r for r in RULES.values() if r.core_id)
    duplicate = dict(RULE, Core={"Id": own.core_id, "Status": "Published", "Version": "1"})
    rules = write_rule(tmp_path / "rules", duplicate)
    main([str(package(tmp_path)), "--rules", str(rules), "--out", str(tmp_path / "report")])
    report = json.loads((tmp_path / "report" / "validation.json").read_text())
    assert not [f for f in report["findings"] if f["rule"] == own.core_id]
    entry = next(r for r in report["rules"] if r["id"] == own.core_id)
    assert (entry["status"], entry["reason"]) == ("skipped", f"checked by the toolkit's rule {own.id}")
