"""Data cuts through the command line: reproducible, audited, atomic, and compared with `cdisc diff`."""
import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from cdisc.pipeline import builtin_raw_dir

CUT = "2023-06-30"
LATER = "2023-12-31"


def cdisc(*args, check=True):
    done = subprocess.run([sys.executable, "-m", "cdisc", *args], capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def cuts(tmp_path_factory):
    out = tmp_path_factory.mktemp("cuts") / "out"
    cdisc("run", "--out", str(out), "--cut", CUT, "--cut-description", "DSMB 1")
    cdisc("run", "--out", str(out), "--cut", LATER, "--cut-description", "DSMB 2")
    return out


def read(folder: Path, name: str):
    return pyreadstat.read_xport(str(folder / f"{name}.xpt"))[0]


def sdtm_files(folder: Path):
    return sorted((folder / "sdtm").glob("*.xpt"))


def test_no_record_is_dated_after_the_cut(cuts):
    folder = cuts / "cuts" / CUT
    for path in sdtm_files(folder):
        data = read(folder / "sdtm", path.stem)
        for column in [c for c in data.columns if c.endswith("DTC")]:
            complete = data[column].astype(str).str[:10]
            complete = complete[complete.str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
            assert (complete <= CUT).all(), (path.name, column, complete.max())


def test_an_adverse_event_spanning_the_cut_is_ongoing(cuts):
    folder = cuts / "cuts" / CUT
    ae = read(folder / "sdtm", "ae")
    # ae.csv: 01-005 has an event from before the cut that ended after it
    ongoing = ae[(ae["AEENRTPT"] == "ONGOING") & (ae["AEENTPT"] == CUT)]
    assert "NCT05153070-01-005" in set(ongoing["USUBJID"])
    assert (ongoing["AEENDTC"] == "").all() and (ongoing["AESTDTC"].str[:10] <= CUT).all()


def test_a_subject_randomized_after_the_cut_is_absent(cuts):
    # rand.csv: 01-017 randomized 10/07/2023, after the cut
    folder = cuts / "cuts" / CUT
    for path in sdtm_files(folder):
        data = read(folder / "sdtm", path.stem)
        if "USUBJID" in data:
            assert "NCT05153070-01-017" not in set(data["USUBJID"]), path.name
    assert "NCT05153070-01-017" in set(read(cuts / "cuts" / LATER / "sdtm", "dm")["USUBJID"])


def test_adsl_carries_the_cut(cuts):
    adsl = read(cuts / "cuts" / CUT / "adam", "adsl")
    assert set(adsl["DCUTDESC"]) == {"DSMB 1"}
    assert set(adsl["DCUTDT"].astype(str)) == {CUT}


def test_adsl_compliance_at_the_cut_counts_the_doses_planned_by_then(cuts):
    adsl = read(cuts / "cuts" / CUT / "adam", "adsl").set_index("USUBJID")
    assert len(adsl) == 15 and set(adsl["PPROTFL"]) == {"Y"}
    # 01-001: day 1 = 2022-10-18, the cut is day 256: 62 ciclosporin days and 5 + 27 weekly
    # injections (74, 81, ..., 256) were planned by then
    first = adsl.loc["NCT05153070-01-001"]
    assert (first["CSPLAN"], first["ILPLAN"], first["EOTSTT"], first["EOSSTT"]) == (62, 32, "ONGOING", "ONGOING")
    # 01-016 started ciclosporin on 2023-06-28: 3 days planned, no injection yet, not in the FAS yet
    last = adsl.loc["NCT05153070-01-016"]
    assert (last["CSPLAN"], last["ILPLAN"], last["FASFL"]) == (3, 0, "N") and pd.isna(last["ILCMP"])


def test_ciclosporin_going_on_at_the_cut_is_open_in_sdtm_and_counted_to_the_cut_in_adam(cuts):
    folder = cuts / "cuts" / CUT
    ex = read(folder / "sdtm", "ex")
    ongoing = ex[ex["EXENRTPT"] == "ONGOING"].set_index("USUBJID")
    # ex_csa.csv: 01-013 from 2023-05-14, 01-015 from 2023-06-03 to 06-10 then from 2023-06-12, both going on
    assert ongoing.loc["NCT05153070-01-013", ["EXSTDTC", "EXENDTC", "EXENTPT"]].tolist() == ["2023-05-14", "", CUT]
    dm = read(folder / "sdtm", "dm").set_index("USUBJID")
    assert dm.loc["NCT05153070-01-015", ["RFXENDTC", "RFENDTC", "RFPENDTC"]].tolist() == ["2023-06-12", "2023-06-12", CUT]
    adsl = read(folder / "adam", "adsl").set_index("USUBJID")
    # 01-013: 2023-05-14..06-30 = 48 days taken of 48 planned; 01-015: 8 + 19 days taken of 28 planned (96.4 %)
    assert adsl.loc["NCT05153070-01-013", ["CSDAYS", "CSPLAN", "CSCMP"]].tolist() == [48, 48, 100.0]
    assert adsl.loc["NCT05153070-01-015", ["CSDAYS", "CSPLAN", "CSCMP"]].tolist() == [27, 28, 96.4]
    assert str(adsl.loc["NCT05153070-01-015", "TR01EDT"]) == CUT
    validation = json.loads((folder / "validation" / "sdtm" / "validation.json").read_text())
    # an interval ongoing relative to the cut has an end time point (SD0021); EXENRTPT/EXENTPT are SDTM model
    # variables the IG does not list for EX (SD1076), which the cSDRG explains
    rules = {(f["rule"], f["dataset"]) for f in validation["findings"]}
    assert ("SD0021", "EX") not in rules and ("SD1076", "EX") in rules


def test_a_second_run_gives_identical_files(cuts, tmp_path):
    again = tmp_path / "again"
    cdisc("run", "--out", str(again), "--cut", CUT, "--cut-description", "DSMB 1")
    first = json.loads((cuts / "cuts" / CUT / "manifest.json").read_text())
    second = json.loads((again / "cuts" / CUT / "manifest.json").read_text())
    assert first["outputs"] == second["outputs"] and len(first["outputs"]) > 20
    for entry in first["outputs"]:
        path = again / "cuts" / CUT / entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["path"]
    assert first["cut"] == {"date": CUT, "description": "DSMB 1", "per_subject": None}
    assert first["spec_sha256"] and first["ct_version"] == "2025-03-28"


def test_the_cut_report_lists_removed_and_changed_records(cuts):
    report = json.loads((cuts / "cuts" / CUT / "cut_report.json").read_text())
    assert report["cut"]["date"] == CUT
    text = json.dumps(report)
    assert "subject entered after the cut" in text and "ONGOING" in text


def test_diff_lists_the_records_the_later_cut_added_for_one_subject(cuts):
    subject = "NCT05153070-01-016"
    # independently of the pipeline: the central-lab samples of 01-016 taken in (CUT, LATER], keyed as LB is
    # (LBTESTCD, VISITNUM, LBTPTNUM) with the spec's test codes and visit numbers written out here
    testcd = {"GLUF": "GLUC", "CREA": "CREAT", "CPEP": "CPEPTIDE"}
    visitnum = {"DAY 63": "3", "DAY 67": "4", "MONTH 3": "5", "MONTH 6": "6"}
    with open(builtin_raw_dir() / "vendor" / "central_lab.csv", encoding="utf-8") as handle:
        expected = {(testcd.get(r["TESTCODE"], r["TESTCODE"]), visitnum[r["VISIT"]], r["TPT_MIN"])
                    for r in csv.DictReader(handle) if r["SUBJECT"] == "01-016" and CUT < r["COLLDATE"] <= LATER}
    assert expected
    done = cdisc("diff", str(cuts / "cuts" / CUT), str(cuts / "cuts" / LATER), "--subject", subject,
                 "--out", str(cuts / "diff"))
    assert "LB" in done.stdout
    diff = json.loads((cuts / "diff" / "diff.json").read_text())
    lb = next(d for d in diff["datasets"] if d["dataset"] == "sdtm/LB")
    added = {(r["LBTESTCD"], r["VISITNUM"], r["LBTPTNUM"]) for r in lb["added"]}
    assert len(lb["added"]) == len(expected) and not lb["removed"]
    assert added == expected
    assert all(r["USUBJID"] == subject for r in lb["added"])


def test_a_failed_cut_leaves_the_output_as_it_was(cuts, tmp_path):
    folder = cuts / "cuts" / CUT
    before = {p.relative_to(cuts): p.read_bytes() for p in cuts.rglob("*") if p.is_file()}
    raw = tmp_path / "raw"
    shutil.copytree(builtin_raw_dir(), raw, ignore=shutil.ignore_patterns("*.xml"))
    ae = raw / "edc" / "ae.csv"
    ae.write_text(ae.read_text(encoding="utf-8").replace("Moderate", "Quite bad", 1), encoding="utf-8")
    done = cdisc("run", "--out", str(cuts), "--raw", str(raw), "--cut", CUT, check=False)
    assert done.returncode == 1 and "Quite bad" in done.stderr and "Traceback" not in done.stderr
    after = {p.relative_to(cuts): p.read_bytes() for p in cuts.rglob("*") if p.is_file()}
    assert after == before
    assert folder.is_dir()
