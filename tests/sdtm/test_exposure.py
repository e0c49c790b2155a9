"""Interventions: exposure as collected (EC), EX derived from EC, constant-dosing intervals."""
from pathlib import Path

import pandas as pd

from sdtm.engine import build_sdtm
from sdtm.exposure import constant_dosing_intervals, records_of_domain
from sdtm.prepare import locate
from specs.ct import load_ct
from specs.loader import StudySpec


def test_consecutive_days_of_the_same_dose_merge_into_one_interval():
    ec = pd.DataFrame({
        "USUBJID": ["A"] * 6 + ["B"] * 2,
        "ECTRT": ["DRUG"] * 8,
        "ECDOSE": [10.0, 10.0, 10.0, 20.0, 10.0, 10.0, 5.0, 5.0],
        "ECSTDTC": ["2023-01-01", "2023-01-02", "2023-01-03T08:00", "2023-01-04", "2023-01-06", "2023-01",
                    "2023-02-01", "2023-02-03"],
        "ECENDTC": ["2023-01-01", "2023-01-02", "2023-01-03T08:00", "2023-01-05", "2023-01-06", "", "", ""],
    })
    out = constant_dosing_intervals(ec, ["ECTRT", "ECDOSE"], "ECSTDTC", "ECENDTC")
    # A: 10 mg on days 1-3 (the day-3 time kept), 20 mg on days 4-5, 10 mg again on day 6 (after a dose
    # change: a new interval), a partial date alone. B: single doses two days apart are two intervals.
    assert list(zip(out["USUBJID"], out["ECDOSE"], out["ECSTDTC"], out["ECENDTC"])) == [
        ("A", 10.0, "2023-01-01", "2023-01-03T08:00"), ("A", 20.0, "2023-01-04", "2023-01-05"),
        ("A", 10.0, "2023-01-06", "2023-01-06"), ("A", 10.0, "2023-01", ""),
        ("B", 5.0, "2023-02-01", ""), ("B", 5.0, "2023-02-03", "")]


def test_single_administrations_on_consecutive_days_end_on_the_last_day():
    data = pd.DataFrame({"USUBJID": ["A"] * 3, "EXTRT": ["X"] * 3,
                         "EXSTDTC": ["2023-03-02", "2023-03-01", "2023-03-03"], "EXENDTC": ["", "", ""]})
    out = constant_dosing_intervals(data, ["EXTRT"], "EXSTDTC", "EXENDTC")
    assert list(zip(out["EXSTDTC"], out["EXENDTC"])) == [("2023-03-01", "2023-03-03")]


def test_the_records_of_a_domain_carry_its_variables_over_its_raw_columns():
    records = locate(pd.DataFrame({"SUBJ": ["1"], "ECDOSE": ["ten"], "DOSE": ["10"]}), "ec.csv", ["SUBJ"])
    mapped = pd.DataFrame({"ECDOSE": [10.0], "ECTRT": ["X"]}, index=records.index)
    mapped["__file"], mapped["__row"], mapped["__key"] = records["__file"], records["__row"], records["__key"]
    base = records_of_domain(records, mapped)
    assert base.loc[0, ["SUBJ", "DOSE", "ECDOSE", "ECTRT", "__key"]].tolist() == ["1", "10", "10", "X", "SUBJ=1"]


# A daily dosing diary: day 3 not taken (the reason collected), a dose change on day 6.
DIARY = pd.DataFrame({
    "SUBJ": ["01"] * 6,
    "DOSEDAT": ["2023-01-01", "2023-01-02", "2023-01-03", "2023-01-04", "2023-01-05", "2023-01-06"],
    "TAKEN": ["Y", "Y", "N", "Y", "Y", "Y"],
    "REASON": ["", "", "Forgot", "", "", ""],
    "DOSE": ["10", "10", "10", "10", "10", "20"],
    "UNIT": ["mg"] * 6,
    "ROUTE": ["Oral"] * 6,
})
COMMON = [{"name": "STUDYID", "map": {"algorithm": "hardcode_no_ct", "value": "S1"}},
          {"name": "USUBJID", "map": {"algorithm": "derive_usubjid", "source": "SUBJ"}}]


def _spec() -> StudySpec:
    ec = {"label": "Exposure as Collected", "from": "diary", "variables": COMMON + [
        {"name": "DOMAIN", "map": {"algorithm": "hardcode_no_ct", "value": "EC"}},
        {"name": "ECTRT", "map": {"algorithm": "hardcode_no_ct", "value": "STUDY DRUG"}},
        {"name": "ECOCCUR", "codelist": "NY", "map": {"algorithm": "assign_ct", "source": "TAKEN"}},
        {"name": "ECREASOC", "map": {"algorithm": "condition_add", "cases": [
            {"when": "TAKEN == 'N'", "then": {"algorithm": "assign_no_ct", "source": "REASON"}}]}},
        {"name": "ECDOSE", "map": {"algorithm": "assign_numeric", "source": "DOSE"}},
        {"name": "ECDOSU", "codelist": "UNIT", "map": {"algorithm": "assign_ct", "source": "UNIT"}},
        {"name": "ECROUTE", "codelist": "ROUTE", "map": {"algorithm": "assign_ct", "source": "ROUTE"}},
        {"name": "ECSTDTC", "map": {"algorithm": "assign_datetime", "date": "DOSEDAT", "format": "YYYY-MM-DD"}},
        {"name": "ECENDTC", "map": {"algorithm": "assign_datetime", "date": "DOSEDAT", "format": "YYYY-MM-DD"}}]}
    ex = {"label": "Exposure", "from_domain": "EC",
          "where": {"condition": "ECOCCUR != 'N'", "reason": "dose not given (ECOCCUR = N): in EC only"},
          "intervals": {"by": ["EXTRT", "EXDOSE", "EXDOSU", "EXROUTE"], "start": "EXSTDTC", "end": "EXENDTC"},
          "variables": COMMON + [
              {"name": "DOMAIN", "map": {"algorithm": "hardcode_no_ct", "value": "EX"}},
              {"name": "EXTRT", "map": {"algorithm": "assign_no_ct", "source": "ECTRT"}},
              {"name": "EXDOSE", "map": {"algorithm": "assign_numeric", "source": "ECDOSE"}},
              {"name": "EXDOSU", "codelist": "UNIT", "map": {"algorithm": "assign_ct", "source": "ECDOSU"}},
              {"name": "EXROUTE", "codelist": "ROUTE", "map": {"algorithm": "assign_ct", "source": "ECROUTE"}},
              {"name": "EXSTDTC", "map": {"algorithm": "assign_no_ct", "source": "ECSTDTC"}},
              {"name": "EXENDTC", "map": {"algorithm": "assign_no_ct", "source": "ECENDTC"}}]}
    return StudySpec(folder=Path("."), study={"studyid": "S1"}, sources={"diary": {"path": "diary.csv",
                     "keys": ["SUBJ", "DOSEDAT"], "values": {"TAKEN": ["Y", "N"]}}}, design={}, domains={"EC": ec, "EX": ex})


def test_ex_from_ec_gives_the_doses_taken_as_constant_dosing_intervals():
    tables = {"diary": locate(DIARY, "diary.csv", ["SUBJ", "DOSEDAT"])}
    result = build_sdtm(_spec(), tables, load_ct())
    ec, ex = result.datasets["EC"], result.datasets["EX"]
    # EC keeps every collected dose, the one not taken with its reason
    assert list(ec["ECOCCUR"]) == ["Y", "Y", "N", "Y", "Y", "Y"]
    assert list(ec["ECREASOC"]) == ["", "", "Forgot", "", "", ""]
    assert list(ec["ECROUTE"]) == ["ORAL"] * 6
    # EX: days 1-2 and 4-5 at 10 mg (the missed day is a gap), day 6 at 20 mg
    assert list(zip(ex["EXDOSE"], ex["EXSTDTC"], ex["EXENDTC"])) == [
        (10.0, "2023-01-01", "2023-01-02"), (10.0, "2023-01-04", "2023-01-05"), (20.0, "2023-01-06", "2023-01-06")]
    assert list(ex["EXROUTE"]) == ["ORAL"] * 3
    report = {r.domain: r for r in result.reports}["EX"]
    assert (report.source, report.records_in, report.records_out) == ("EC (domain)", 6, 3)
    assert [(i.key, i.reason) for i in report.not_mapped] == [
        ("row 3 (SUBJ=01, DOSEDAT=2023-01-03)", "dose not given (ECOCCUR = N): in EC only")]
    assert "EX: 5 records merged into 3 constant-dosing intervals (same EXTRT, EXDOSE, EXDOSU, EXROUTE, " \
           "consecutive days)" in result.notes


def test_a_domain_can_only_come_from_an_earlier_mapped_domain():
    from specs.semantics import check_spec

    spec = _spec()
    spec.domains = {"EX": spec.domains["EX"], "EC": spec.domains["EC"]}
    spec.domains["EX"]["intervals"] = {"by": ["EXTRT", "EXLOT"], "start": "EXSTDTC", "end": "EXENDTC"}
    spec.files = {"sdtm": Path("sdtm.yaml"), "study": Path("study.yaml")}
    assert [str(p) for p in check_spec(spec)] == [
        "sdtm.yaml: domains.EX.from_domain: 'EC' is not a domain mapped from raw records earlier in sdtm.yaml",
        "sdtm.yaml: domains.EX.intervals.by: 'EXLOT' is not a variable of EX"]


def test_a_value_copied_from_ec_has_ec_as_its_predecessor():
    from specs.model import domain_variables

    origins = {v.name: v.origin for v in domain_variables("EX", _spec().domains["EX"])}
    assert (origins["EXTRT"].type, origins["EXTRT"].predecessor) == ("Predecessor", "EC.ECTRT")
    assert origins["DOMAIN"].type == "Assigned"


def test_the_demo_study_s_ex_comes_from_an_ec_that_keeps_the_injections_not_given(demo_sdtm):
    """The demo spec maps every collected dose into EC (ECOCCUR = N for an injection not given, with its
    reason) and derives EX from EC: EX holds EC's doses given, each EX record with its EC record's dates."""
    _, _, result = demo_sdtm
    ec, ex = result.datasets["EC"], result.datasets["EX"]
    given = ec[ec["ECOCCUR"] != "N"]
    key = ["USUBJID", "ECSTDTC", "ECENDTC"]
    assert sorted(map(tuple, given[key].values.tolist())) == sorted(
        map(tuple, ex[["USUBJID", "EXSTDTC", "EXENDTC"]].values.tolist()))
    assert set(given["ECTRT"]) == {"CICLOSPORIN", "ILT-101 OR PLACEBO"}  # masked as collected, EX unblinds
    not_given = ec[ec["ECOCCUR"] == "N"]
    assert len(not_given) == len({r.domain: r for r in result.reports}["EX"].not_mapped) == 21
    assert (not_given["ECREASOC"] != "").all()
