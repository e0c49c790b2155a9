"""The third raw dialect: a REDCap longitudinal export (our generator, cdisc/demo/redcap.py) mapped by the
spec in specs/studies/redcap-example with the spec language alone (no pre-processing, no plugin), end to
end (SDTM only): every raw record accounted for and no validation finding."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc.demo.redcap import RECORDS_FILE, generate

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "specs" / "studies" / "redcap-example"


@pytest.fixture(scope="session")
def redcap_raw(tmp_path_factory):
    raw = tmp_path_factory.mktemp("redcap_raw")
    counts = generate(raw)
    return raw, counts


@pytest.fixture(scope="session")
def redcap(redcap_raw):
    """`cdisc run --spec specs/studies/redcap-example --raw <generated> --sdtm-only`, in-process."""
    from cdisc.pipeline import Progress, run

    raw, counts = redcap_raw
    out = raw.parent / "redcap_out"
    stream = io.StringIO()
    result = run(SPEC, raw, out, sdtm_only=True, progress=Progress(False), stream=stream)
    findings = json.loads((out / "validation" / "sdtm" / "validation.json").read_text("utf-8"))["findings"]
    records = pd.read_csv(raw / RECORDS_FILE, dtype=str, keep_default_na=False)
    return result, pd.DataFrame(findings), stream.getvalue(), records, counts


def test_every_raw_record_is_mapped(redcap):
    result, _, report, records, counts = redcap
    got = {r.domain: (r.source, r.records_in, r.records_out, len(r.not_mapped)) for r in result.sdtm.reports}
    tests = records[["sysbp", "diabp", "pulse", "temp", "weight"]].ne("").to_numpy().sum()
    assert got == {"DM": ("enrollment", counts["enrollment"], counts["enrollment"], 0),
                   "SV": ("visit", counts["visit"], counts["visit"], 0),
                   "EX": ("study_drug", counts["study_drug"], counts["study_drug"], 0),
                   "AE": ("adverse_events", counts["adverse_events"], counts["adverse_events"], 0),
                   "DS": ("disposition, enrollment", 2 * counts["enrollment"], 2 * counts["enrollment"], 0),
                   "VS": ("vital_signs", counts["vital_signs"], int(tests), 0)}
    # every row of the export is a record of some instrument that a source reads
    assert counts["visit"] + counts["adverse_events"] == len(records)
    assert "records not mapped" not in report and "no source reads" not in report


def test_no_validation_finding(redcap):
    result, findings, *_ = redcap
    assert findings.empty, findings[["rule", "dataset", "variable", "message"]].to_string()
    assert result.validation_errors == 0


def test_dm_race_from_the_checkbox_columns(redcap):
    result, _, _, records, _ = redcap
    dm = result.sdtm.datasets["DM"]
    supp = result.sdtm.datasets["SUPPDM"]
    enrollment = records[records["redcap_event_name"] == "screening_arm_1"].set_index("record_id")
    checked = enrollment[[f"race___{i}" for i in range(1, 7)]].eq("1").sum(axis=1)
    multiple = sorted("REDCAPDEMO-" + checked[checked > 1].index)
    assert multiple  # the generator plants subjects with two races
    assert sorted(dm.loc[dm["RACE"] == "MULTIPLE", "USUBJID"]) == multiple
    assert sorted(supp.loc[supp["QNAM"] == "RACE1", "USUBJID"]) == multiple
    names = ["AMERICAN INDIAN OR ALASKA NATIVE", "ASIAN", "BLACK OR AFRICAN AMERICAN",
             "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER", "WHITE", "NOT REPORTED"]
    for usubjid in multiple:
        row = enrollment.loc[usubjid.split("-")[1]]
        races = [name for i, name in enumerate(names, start=1) if row[f"race___{i}"] == "1"]
        assert supp.loc[supp["USUBJID"] == usubjid].sort_values("QNAM")["QVAL"].tolist() == races
    single = dm[dm["RACE"] != "MULTIPLE"]
    for usubjid, race in zip(single["USUBJID"], single["RACE"]):
        row = enrollment.loc[usubjid.split("-")[1]]
        assert [name for i, name in enumerate(names, start=1) if row[f"race___{i}"] == "1"] == [race]


def test_choices_dates_sites_and_visits_as_the_export_has_them(redcap):
    result, _, _, records, _ = redcap
    datasets = result.sdtm.datasets
    dm = datasets["DM"].set_index("SUBJID")
    enrollment = records[records["redcap_event_name"] == "screening_arm_1"].set_index("record_id")
    assert (dm["SEX"] == enrollment["sex"].map({"1": "M", "2": "F"})).all()
    assert (dm["SITEID"] == enrollment["redcap_data_access_group"].str.replace("site_", "")).all()
    parts = enrollment["dob"].str.split("/", expand=True)  # date_mdy: M/D/YYYY
    month, day, year = parts[0], parts[1], parts[2]
    assert (dm["BRTHDTC"] == year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)).all()
    ae = datasets["AE"]
    instances = records[records["redcap_repeat_instrument"] == "adverse_events"]
    assert sorted(zip(ae["USUBJID"], ae["AESPID"])) == sorted(zip("REDCAPDEMO-" + instances["record_id"],
                                                                   instances["redcap_repeat_instance"]))
    assert set(ae["AESER"]) <= {"Y", "N"} and set(ae["AESEV"]) <= {"MILD", "MODERATE", "SEVERE"}
    assert ((ae["AEENDTC"] == "") == (ae["AEENRTPT"] == "ONGOING")).all()
    sv = datasets["SV"]
    assert set(sv["VISIT"]) == {"SCREENING", "DAY 1", "WEEK 2", "WEEK 4", "END OF STUDY"}
    assert (datasets["EX"]["EXENDTC"].str.match(r"^\d{4}-\d{2}-\d{2}$")).all()
    ds = datasets["DS"]
    assert set(ds["DSDECOD"]) <= {"INFORMED CONSENT OBTAINED", "COMPLETED", "WITHDRAWAL BY SUBJECT"}
    assert "WITHDRAWAL BY SUBJECT" in set(ds["DSDECOD"])  # the generator plants one withdrawal
    vs = datasets["VS"]
    assert np.allclose(vs["VSSTRESN"], pd.to_numeric(vs["VSORRES"]))


def test_records_are_located_in_the_export_and_unread_instruments_are_said(redcap_raw):
    from cdisc.pipeline import read_raw
    from specs.loader import load_study_spec

    raw, _ = redcap_raw
    spec = load_study_spec(SPEC)
    records = pd.read_csv(raw / RECORDS_FILE, dtype=str, keep_default_na=False)
    del spec.sources["disposition"], spec.sources["visit"]
    export = read_raw(spec, raw)
    ae = export.tables["adverse_events"]
    lines = np.flatnonzero(records["redcap_repeat_instrument"] == "adverse_events") + 1
    assert ae["__row"].tolist() == lines.tolist()
    assert ae["__file"].iloc[0].endswith(f"{RECORDS_FILE}#adverse_events")
    assert ae["__key"].iloc[0] == (f"record_id={records['record_id'].iloc[lines[0] - 1]}, "
                                   f"redcap_repeat_instance=1")
    visits = int((records["visit_complete"] != "").sum())
    ends = int((records["disposition_complete"] != "").sum())
    assert [note.split(": ", 1)[1] for note in export.notes] == [
        f"instrument 'visit' holds data in {visits} record(s) that no source reads (a source with redcap: "
        f"{{form: visit}} would map them)",
        f"instrument 'disposition' holds data in {ends} record(s) that no source reads (a source with redcap: "
        f"{{form: disposition}} would map them)"]


def test_a_code_or_column_the_dictionary_does_not_know_stops_the_run_located(redcap_raw, tmp_path):
    import shutil

    from cdisc.pipeline import read_raw
    from specs.errors import RawDataError
    from specs.loader import load_study_spec

    raw, _ = redcap_raw
    spec = load_study_spec(SPEC)
    damaged = tmp_path / "raw"
    shutil.copytree(raw, damaged)
    records = pd.read_csv(damaged / RECORDS_FILE, dtype=str, keep_default_na=False)
    first = int(np.flatnonzero(records["redcap_event_name"] == "screening_arm_1")[0])
    records.loc[first, "sex"] = "9"
    records.to_csv(damaged / RECORDS_FILE, index=False)
    with pytest.raises(RawDataError) as raised:
        read_raw(spec, damaged)
    assert [p.message for p in raised.value.problems] == [
        "column sex: '9' is not a code of the data dictionary (1 Male, 2 Female)"]
    assert raised.value.problems[0].where.endswith(
        f"{RECORDS_FILE} row {first + 1} (record_id={records['record_id'][first]}, "
        f"redcap_event_name=screening_arm_1)")
    (damaged / "REDCAPDEMO_DataDictionary.csv").unlink()
    with pytest.raises(RawDataError, match="REDCAPDEMO_DataDictionary.csv: file not found") as raised:
        read_raw(spec, damaged)
    assert len(raised.value.problems) == 1  # said once, not once for each instrument the spec reads
