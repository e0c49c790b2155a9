"""sdtm.cut: each rule on small hand-typed frames, partial dates, subjects, the log, the cut file."""
from __future__ import annotations

import pandas as pd
import pytest

from sdtm.cut import DataCut, apply_cut, clearly_after, earliest_date, latest_date, possibly_after, read_cut_file
from specs.errors import RawDataError, SpecError

CUT = DataCut(date="2024-06-30")


def located(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """Add the columns the map stage adds: __file, __row (1-based), __key."""
    frame = frame.copy()
    frame["__file"] = file
    frame["__row"] = range(1, len(frame) + 1)
    frame["__key"] = [f"rec={i}" for i in range(1, len(frame) + 1)]
    return frame


def test_earliest_and_latest_dates_of_partial_values():
    values = pd.Series(["2024-07", "2024-06", "2024", "2024-07-03T10:00", "2024---15", "", None, "2024-02"])
    assert earliest_date(values).tolist() == ["2024-07-01", "2024-06-01", "2024-01-01", "2024-07-03",
                                              "2024-01-15", "", "", "2024-02-01"]
    assert latest_date(values).tolist() == ["2024-07-31", "2024-06-30", "2024-12-31", "2024-07-03",
                                            "2024-12-15", "", "", "2024-02-29"]


def test_clearly_and_possibly_after_the_cut():
    values = pd.Series(["2024-07", "2024-06", "2024", "2024-06-30T23:59", "2024-07-01", "", "2025"])
    cut = pd.Series("2024-06-30", index=values.index)
    assert clearly_after(values, cut).tolist() == [True, False, False, False, True, False, True]
    assert possibly_after(values, cut).tolist() == [True, False, True, False, True, False, True]


def test_findings_partial_dates_go_only_when_clearly_after():
    lb = located(pd.DataFrame({
        "USUBJID": ["S1"] * 7,
        "LBTESTCD": ["A", "B", "C", "D", "E", "F", "G"],
        "LBDTC": ["2024-07", "2024-06", "2024", "", "2024-06-30T15:00", "2024-07-01", "2023-12-01"],
    }), "lab.csv")
    out, log = apply_cut({"LB": lb}, {"LB": {"cut": {"rule": "findings", "date": "LBDTC"}}}, {}, CUT)
    assert out["LB"]["LBTESTCD"].tolist() == ["B", "C", "D", "E", "G"]
    assert log.to_dict(orient="records") == [
        {"domain": "LB", "source": "lab.csv", "row": "1", "key": "rec=1", "usubjid": "S1", "action": "removed",
         "variable": "LBDTC", "old": "2024-07", "new": "", "reason": "LBDTC after the cut (2024-06-30)"},
        {"domain": "LB", "source": "lab.csv", "row": "6", "key": "rec=6", "usubjid": "S1", "action": "removed",
         "variable": "LBDTC", "old": "2024-07-01", "new": "", "reason": "LBDTC after the cut (2024-06-30)"},
    ]
    assert lb["LBTESTCD"].tolist() == ["A", "B", "C", "D", "E", "F", "G"]  # the input is untouched


AE_RULE = {"rule": "events", "start": "AESTDTC", "end": "AEENDTC",
           "ongoing": {"AEENRTPT": "ONGOING", "AEENTPT": "{cut}"}}


def ae_frame() -> pd.DataFrame:
    return located(pd.DataFrame({
        "USUBJID": ["S1", "S1", "S1", "S1", "S1", "S2"],
        "AETERM": ["before", "spans", "after", "partial end", "no end", "partial start"],
        "AESTDTC": ["2024-05-01", "2024-06-20", "2024-07-02", "2024-06-10", "2024-06-01", "2024-06"],
        "AEENDTC": ["2024-05-03", "2024-07-05T10:00", "2024-07-04", "2024-06", "", "2024-08"],
        "AEENRTPT": ["", "", "", "", "ONGOING", ""],
        "AEENTPT": ["", "", "", "", "END OF STUDY", ""],
    }), "ae.csv")


def test_event_spanning_the_cut_becomes_ongoing_at_the_cut():
    out, log = apply_cut({"AE": ae_frame()}, {"AE": {"cut": AE_RULE}}, {}, CUT)
    ae = out["AE"].set_index("AETERM")
    assert list(ae.index) == ["before", "spans", "partial end", "no end", "partial start"]
    assert ae.loc["spans", ["AESTDTC", "AEENDTC", "AEENRTPT", "AEENTPT"]].tolist() == \
        ["2024-06-20", "", "ONGOING", "2024-06-30"]
    # '2024-06' may be 2024-06-30 or before: not after the cut, kept as collected
    assert ae.loc["partial end", ["AEENDTC", "AEENRTPT", "AEENTPT"]].tolist() == ["2024-06", "", ""]
    # a partial start '2024-06' is not clearly after; its end '2024-08' is: ongoing
    assert ae.loc["partial start", ["AESTDTC", "AEENDTC", "AEENRTPT", "AEENTPT"]].tolist() == \
        ["2024-06", "", "ONGOING", "2024-06-30"]
    assert ae.loc["before", "AEENDTC"] == "2024-05-03"
    # never ended: ongoing at the cut too, its end reference the cut (the end of study has not come yet)
    assert ae.loc["no end", ["AEENRTPT", "AEENTPT"]].tolist() == ["ONGOING", "2024-06-30"]
    rows = log[["row", "action", "variable", "old", "new"]].values.tolist()
    assert rows == [
        ["3", "removed", "AESTDTC", "2024-07-02", ""],
        ["2", "changed", "AEENDTC", "2024-07-05T10:00", ""],
        ["6", "changed", "AEENDTC", "2024-08", ""],
        ["2", "changed", "AEENRTPT", "", "ONGOING"],
        ["6", "changed", "AEENRTPT", "", "ONGOING"],
        ["2", "changed", "AEENTPT", "", "2024-06-30"],
        ["5", "changed", "AEENTPT", "END OF STUDY", "2024-06-30"],
        ["6", "changed", "AEENTPT", "", "2024-06-30"],
    ]
    assert log["reason"].iloc[1] == "AEENDTC after the cut (2024-06-30): ongoing at the cut"
    assert log["reason"].iloc[6] == "no AEENDTC: ongoing at the cut (2024-06-30)"


def test_an_event_the_cut_makes_ongoing_loses_its_outcome():
    ae = ae_frame().assign(AEOUT=["RECOVERED/RESOLVED", "RECOVERED/RESOLVED", "RECOVERED/RESOLVED",
                                  "RECOVERED/RESOLVED", "NOT RECOVERED/NOT RESOLVED", "FATAL"])
    rule = {**AE_RULE, "ongoing": {**AE_RULE["ongoing"], "AEOUT": "NOT RECOVERED/NOT RESOLVED"}}
    out, log = apply_cut({"AE": ae}, {"AE": {"cut": rule}}, {}, CUT)
    assert out["AE"].set_index("AETERM")["AEOUT"].to_dict() == {
        "before": "RECOVERED/RESOLVED", "spans": "NOT RECOVERED/NOT RESOLVED", "partial end": "RECOVERED/RESOLVED",
        "no end": "NOT RECOVERED/NOT RESOLVED", "partial start": "NOT RECOVERED/NOT RESOLVED"}
    outcome = log[log["variable"] == "AEOUT"]
    assert outcome[["row", "old", "new"]].values.tolist() == [
        ["2", "RECOVERED/RESOLVED", "NOT RECOVERED/NOT RESOLVED"], ["6", "FATAL", "NOT RECOVERED/NOT RESOLVED"]]


def test_event_with_a_partial_end_spanning_the_cut_is_ongoing():
    ae = located(pd.DataFrame({"USUBJID": ["S1"], "AESTDTC": ["2024-06-01"], "AEENDTC": ["2024-06"],
                               "AEENRTPT": [""], "AEENTPT": [""]}), "ae.csv")
    out, log = apply_cut({"AE": ae}, {"AE": {"cut": AE_RULE}}, {}, DataCut(date="2024-06-15"))
    assert out["AE"][["AEENDTC", "AEENRTPT", "AEENTPT"]].values.tolist() == [["", "ONGOING", "2024-06-15"]]
    assert log["reason"].iloc[0] == "AEENDTC possibly after the cut (2024-06-15): ongoing at the cut"


def test_events_without_end_only_lose_records_that_start_after():
    ds = located(pd.DataFrame({"USUBJID": ["S1", "S1"], "DSDECOD": ["RANDOMIZED", "COMPLETED"],
                               "DSSTDTC": ["2024-01-10", "2024-12-01"]}), "ds.csv")
    out, log = apply_cut({"DS": ds}, {"DS": {"cut": {"rule": "events", "start": "DSSTDTC"}}}, {}, CUT)
    assert out["DS"]["DSDECOD"].tolist() == ["RANDOMIZED"]
    assert log["action"].tolist() == ["removed"]


def test_exposure_is_truncated_at_the_cut():
    ex = located(pd.DataFrame({
        "USUBJID": ["S1"] * 5,
        "EXSTDTC": ["2024-06-01", "2024-06-25", "2024-07-01", "2024-06-30T08:00", "2024-06-01"],
        "EXENDTC": ["2024-06-10", "2024-07-03", "2024-07-05", "2024-07-03T09:00", ""],
    }), "ex.csv")
    rule = {"rule": "exposure", "start": "EXSTDTC", "end": "EXENDTC"}
    out, log = apply_cut({"EX": ex}, {"EX": {"cut": rule}}, {}, CUT)
    assert out["EX"][["EXSTDTC", "EXENDTC"]].values.tolist() == [
        ["2024-06-01", "2024-06-10"], ["2024-06-25", "2024-06-30"], ["2024-06-30T08:00", "2024-06-30"],
        ["2024-06-01", ""]]
    assert log[["row", "action", "old", "new"]].values.tolist() == [
        ["3", "removed", "2024-07-01", ""], ["2", "changed", "2024-07-03", "2024-06-30"],
        ["4", "changed", "2024-07-03T09:00", "2024-06-30"]]


def test_an_interval_going_on_at_the_cut_has_no_end_yet_with_open_end_empty():
    ex = located(pd.DataFrame({
        "USUBJID": ["S1"] * 3, "EXSTDTC": ["2024-06-01", "2024-06-25", "2024-07-01"],
        "EXENDTC": ["2024-06-10", "2024-07-03", "2024-07-05"], "EXENRTPT": ["", "", ""], "EXENTPT": ["", "", ""],
    }), "ex.csv")
    rule = {"rule": "exposure", "start": "EXSTDTC", "end": "EXENDTC", "open_end": "empty",
            "ongoing": {"EXENRTPT": "ONGOING", "EXENTPT": "{cut}"}}
    out, log = apply_cut({"EX": ex}, {"EX": {"cut": rule}}, {}, CUT)
    assert out["EX"][["EXSTDTC", "EXENDTC", "EXENRTPT", "EXENTPT"]].values.tolist() == [
        ["2024-06-01", "2024-06-10", "", ""], ["2024-06-25", "", "ONGOING", "2024-06-30"]]
    assert log[["row", "action", "variable", "old", "new", "reason"]].values.tolist()[1] == [
        "2", "changed", "EXENDTC", "2024-07-03", "", "EXENDTC after the cut: no end yet at the cut (2024-06-30)"]
    with pytest.raises(SpecError, match="domains.EX.cut.open_end: 'later' is not one of cut, empty"):
        apply_cut({"EX": ex}, {"EX": {"cut": {**rule, "open_end": "later"}}}, {}, CUT)


def demo_subjects():
    dm = located(pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "RFICDTC": ["2024-05-01", "2024-06-20", "2024-07-02"]}),
                 "dm.csv")
    ds = located(pd.DataFrame({"USUBJID": ["S1", "S2", "S1"], "DSDECOD": ["RANDOMIZED", "RANDOMIZED", "COMPLETED"],
                               "DSSTDTC": ["2024-05-10", "2024-07-01", "2024-05-01"]}), "ds.csv")
    vs = located(pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "VSDTC": ["2024-05-10", "2024-06-21", "2024-07-02"]}),
                 "vs.csv")
    ts = pd.DataFrame({"TSPARMCD": ["TITLE"], "TSVAL": ["x"]})
    domains = {"DM": {"cut": {"rule": "subjects"}}, "VS": {}, "TS": {}}
    entry = {"entry": [{"domain": "DS", "variable": "DSSTDTC", "where": "DSDECOD == 'RANDOMIZED'"},
                       {"domain": "DM", "variable": "RFICDTC"}]}
    return {"TS": ts, "DM": dm, "DS": ds, "VS": vs}, domains, entry


def test_subject_entered_after_the_cut_is_removed_everywhere():
    datasets, domains, entry = demo_subjects()
    out, log = apply_cut(datasets, domains, entry, CUT)
    # S2 consented before the cut but was randomized after it (the first entry source wins);
    # S3 was never randomized: consent after the cut
    for name in ("DM", "DS", "VS"):
        assert set(out[name]["USUBJID"]) == {"S1"}, name
    assert out["TS"].equals(datasets["TS"])
    assert log[["domain", "usubjid", "action"]].values.tolist() == [
        ["DM", "S2", "removed"], ["DM", "S3", "removed"], ["DS", "S2", "removed"],
        ["VS", "S2", "removed"], ["VS", "S3", "removed"]]
    assert log["reason"].tolist()[:2] == ["subject entered after the cut (entry 2024-07-01, cut 2024-06-30)",
                                          "subject entered after the cut (entry 2024-07-02, cut 2024-06-30)"]


def test_per_subject_cut_dates_override_the_date_and_unlisted_subjects_go():
    datasets, domains, entry = demo_subjects()
    out, log = apply_cut(datasets, domains, entry, DataCut(date="2024-06-30", per_subject={"S2": "2024-07-15"}))
    assert set(out["DM"]["USUBJID"]) == {"S1", "S2"}
    out, log = apply_cut(datasets, domains, {}, DataCut(per_subject={"S1": "2024-06-30"}))
    assert set(out["VS"]["USUBJID"]) == {"S1"}
    assert set(log["reason"]) == {"subject has no cut date (not in the cut file)"}


def test_domain_without_cut_rule_is_untouched_and_rule_errors_are_collected():
    datasets, _, _ = demo_subjects()
    out, log = apply_cut(datasets, {}, {}, CUT)
    assert log.empty and all(out[n].equals(datasets[n]) for n in datasets)
    bad = {"VS": {"cut": {"rule": "findings", "date": "VSSTDTC"}}, "DM": {"cut": {"rule": "later"}},
           "DS": {"cut": {"rule": "events", "start": "DSSTDTC", "ongoing": {"DSX": "Y"}}}}
    with pytest.raises(SpecError) as error:
        apply_cut(datasets, bad, {"entry": [{"domain": "XX", "variable": "XXDTC"}]}, CUT)
    assert str(error.value).splitlines() == [
        "4 spec errors:",
        "  sdtm.yaml: domains.VS.cut.date: 'VSSTDTC' is not a variable of VS",
        "  sdtm.yaml: domains.DM.cut.rule: unknown cut rule 'later' (known: subjects, findings, events, exposure)",
        "  sdtm.yaml: domains.DS.cut.ongoing: 'DSX' is not a variable of DS",
        "  study.yaml: cut.entry[0]: domain 'XX' is not mapped",
    ]


def test_bad_cut_dates_are_refused():
    with pytest.raises(RawDataError, match=r"data cut: '2024-02-30' is not an ISO 8601 date"):
        DataCut(date="2024-02-30")
    with pytest.raises(RawDataError, match="neither a cut date nor a cut date per subject"):
        DataCut()


def test_read_cut_file(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("USUBJID,DCUTDTC,DCUTDESC\nS1,2024-06-30,DSMB 3\nS2,2024-07-15,DSMB 3\n", "utf-8")
    cut = read_cut_file(path)
    assert cut == DataCut(date=None, per_subject={"S1": "2024-06-30", "S2": "2024-07-15"}, description="DSMB 3")


def test_read_cut_file_errors_name_the_row_and_value(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("USUBJID,DCUTDTC\nS1,30/06/2024\n,2024-06-30\nS1,2024-06-30\n", "utf-8")
    with pytest.raises(RawDataError) as error:
        read_cut_file(path)
    assert str(error.value).splitlines()[1:] == [
        f"  {path} row 3: USUBJID is empty",
        f"  {path} row 2: DCUTDTC '30/06/2024' is not an ISO 8601 date (YYYY-MM-DD)",
        f"  {path} row 4: USUBJID 'S1' appears more than once",
    ]
    path.write_text("SUBJECT,DATE\nS1,2024-06-30\n", "utf-8")
    with pytest.raises(RawDataError, match=r"column\(s\) USUBJID, DCUTDTC missing"):
        read_cut_file(path)
    with pytest.raises(RawDataError, match="cut file not found"):
        read_cut_file(tmp_path / "nope.csv")


def test_exposure_with_a_partial_end_spanning_the_cut_is_truncated():
    ex = located(pd.DataFrame({"USUBJID": ["S1", "S1"], "EXSTDTC": ["2024-06-01", "2024-05-01"],
                               "EXENDTC": ["2024-06", "2024-05"]}), "ex.csv")
    rule = {"rule": "exposure", "start": "EXSTDTC", "end": "EXENDTC"}
    out, log = apply_cut({"EX": ex}, {"EX": {"cut": rule}}, {}, DataCut(date="2024-06-15"))
    assert out["EX"]["EXENDTC"].tolist() == ["2024-06-15", "2024-05"]
    assert log["reason"].tolist() == ["EXENDTC possibly after the cut (partial date): truncated at the cut (2024-06-15)"]
