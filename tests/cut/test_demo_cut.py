"""End to end on the demo study: a cut in the middle of follow-up, run twice, and compared with a later cut."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from cdisc.diff import diff_cuts, write_keys
from cdisc.manifest import verify_manifest, write_manifest
from cdisc.pipeline import write_datasets
from sdtm.cut import DataCut
from sdtm.engine import build_sdtm
from specs.ct import load_ct

CUT, LATER = "2023-06-30", "2023-12-31"
SPANNING_AE = ("NCT05153070-01-005", "2023-01-12")  # ends 2023-07-13 in the full data
RANDOMIZED_AFTER = "NCT05153070-01-017"  # consent 2023-06-18, randomized 2023-07-10


@pytest.fixture(scope="module")
def cuts(demo_sdtm):
    spec, raw, full = demo_sdtm
    ct = load_ct()
    return {date: build_sdtm(spec, raw.tables, ct, cut=DataCut(date=date)) for date in (CUT, LATER)}


def dated_columns(data: pd.DataFrame) -> list[str]:
    return [c for c in data.columns if c.endswith(("DTC", "STDTC", "ENDTC")) and data[c].dtype == object]


def test_no_record_is_dated_after_the_cut(demo_sdtm, cuts):
    checked = 0
    for name, data in cuts[CUT].datasets.items():
        if "USUBJID" not in data:
            continue
        for column in dated_columns(data):
            dates = data[column].astype(str).str[:10]
            complete = dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
            assert (dates[complete] <= CUT).all(), (name, column, dates[complete & (dates > CUT)].tolist()[:3])
            checked += int(complete.sum())
    assert checked > 1000
    full = demo_sdtm[2].datasets
    assert (full["LB"]["LBDTC"].str[:10] > CUT).any()  # the check above is not vacuous


def test_an_adverse_event_spanning_the_cut_is_ongoing(demo_sdtm, cuts):
    def the_event(data):
        return data[(data["USUBJID"] == SPANNING_AE[0]) & (data["AESTDTC"] == SPANNING_AE[1])]
    before = the_event(demo_sdtm[2].datasets["AE"])
    assert before["AEENDTC"].tolist() == ["2023-07-13"]
    after = the_event(cuts[CUT].datasets["AE"])
    assert after[["AEENDTC", "AEENRTPT", "AEENTPT"]].values.tolist() == [["", "ONGOING", CUT]]
    assert after["AEENDY"].isna().all()
    log = cuts[CUT].cut_log
    entry = log[(log["usubjid"] == SPANNING_AE[0]) & (log["variable"] == "AEENDTC")]
    assert entry[["source", "action", "old", "new"]].values.tolist() == [["edc/ae.csv", "changed", "2023-07-13", ""]]


def test_a_subject_randomized_after_the_cut_is_absent_everywhere(demo_sdtm, cuts):
    assert RANDOMIZED_AFTER in set(demo_sdtm[2].datasets["DM"]["USUBJID"])
    for name, data in cuts[CUT].datasets.items():
        if "USUBJID" in data:
            assert RANDOMIZED_AFTER not in set(data["USUBJID"]), name
    assert RANDOMIZED_AFTER in set(cuts[LATER].datasets["DM"]["USUBJID"])
    log = cuts[CUT].cut_log
    dm_entry = log[(log["domain"] == "DM") & (log["usubjid"] == RANDOMIZED_AFTER)]
    assert dm_entry["reason"].tolist() == ["subject entered after the cut (entry 2023-07-10, cut 2023-06-30)"]


def test_reference_dates_are_derived_from_what_remains(cuts):
    dm = cuts[CUT].datasets["DM"]
    complete = dm["RFENDTC"].str.fullmatch(r"\d{4}-\d{2}-\d{2}.*")
    assert complete.sum() > 10 and (dm.loc[complete, "RFENDTC"].str[:10] <= CUT).all()
    for name, data in cuts[CUT].datasets.items():
        seq = [c for c in data.columns if c == f"{name}SEQ"]
        if seq and "USUBJID" in data:  # --SEQ renumbered from 1 per subject after the cut
            firsts = data.groupby("USUBJID")[seq[0]].min()
            assert (firsts == 1).all(), name


def write_cut(result, folder, date):
    folder.mkdir(parents=True)
    write_datasets(result.datasets, result.specs, folder / "sdtm", datetime.fromisoformat(date))
    write_keys(folder, {n: s.raw["keys"] for n, s in result.specs.items() if s.raw.get("keys")})


def test_the_same_cut_twice_gives_identical_files(demo_sdtm, cuts, tmp_path):
    spec, raw, _ = demo_sdtm
    again = build_sdtm(spec, raw.tables, load_ct(), cut=DataCut(date=CUT))
    manifests = []
    for folder, result in ((tmp_path / "one", cuts[CUT]), (tmp_path / "two", again)):
        write_cut(result, folder, CUT)
        manifests.append(write_manifest(folder, inputs=raw.files, spec_hash=spec.digest(), ct_version="2025-03-28",
                                        tool_version="test", cut=DataCut(date=CUT), created=CUT).read_bytes())
        assert verify_manifest(folder, raw.files) == []
    assert manifests[0] == manifests[1]
    pd.testing.assert_frame_equal(cuts[CUT].cut_log, again.cut_log)


def test_diff_of_two_cuts_lists_the_records_the_later_cut_added(cuts, tmp_path):
    write_cut(cuts[CUT], tmp_path / "early", CUT)
    write_cut(cuts[LATER], tmp_path / "late", LATER)
    subject = "NCT05153070-01-016"
    result = diff_cuts(tmp_path / "early", tmp_path / "late").for_subject(subject)
    by_name = {d.name: d for d in result.datasets}
    late_lb = cuts[LATER].datasets["LB"]
    expected = late_lb[(late_lb["USUBJID"] == subject) & (late_lb["LBDTC"].str[:10] > CUT)]
    added = by_name["LB"].added
    assert len(added) == len(expected) > 0
    assert sorted(zip(added["LBTESTCD"], added["VISITNUM"], added["LBDTC"])) == \
        sorted(zip(expected["LBTESTCD"], expected["VISITNUM"], expected["LBDTC"]))
    assert by_name["LB"].removed.empty and by_name["LB"].changed.empty
    # a dosing interval going on at the first cut has no end there (ongoing relative to the cut), its end in the later one
    ex_changes = by_name["EX"].changed
    assert ex_changes[ex_changes["variable"] == "EXENDTC"][["old", "new"]].values.tolist() == [["", "2023-08-28"]]


def test_the_cut_is_in_ts(cuts):
    ts = cuts[CUT].datasets["TS"].set_index("TSPARMCD")
    assert ts.loc["DCUTDTC", "TSVAL"] == CUT
    assert ts.loc["DCUTDESC", "TSVAL"] == f"Data cut at {CUT}: data known up to that date"
    assert ts.loc["SENDTC", "TSVAL"][:10] <= CUT


def test_an_event_made_ongoing_by_the_cut_loses_its_outcome(demo_sdtm, cuts):
    ae = cuts[CUT].datasets["AE"]
    event = ae[(ae["USUBJID"] == SPANNING_AE[0]) & (ae["AESTDTC"] == SPANNING_AE[1])]
    assert event[["AEOUT", "AEENRTPT", "AEENTPT"]].values.tolist() == [["NOT RECOVERED/NOT RESOLVED", "ONGOING", CUT]]
    ongoing = ae[ae["AEENDTC"] == ""]
    assert set(ongoing["AEENRTPT"]) == {"ONGOING"} and set(ongoing["AEENTPT"]) == {CUT}
    assert set(ongoing["AEOUT"]) == {"NOT RECOVERED/NOT RESOLVED"}
    assert not (ae.loc[ae["AEENRTPT"] == "ONGOING", "AEOUT"] == "RECOVERED/RESOLVED").any()


def test_the_last_dose_at_the_cut_is_the_last_one_known(cuts):
    # 01-012, on weekly injections at the cut: the last injection before it, not the cut date
    dm = cuts[CUT].datasets["DM"].set_index("USUBJID")
    assert dm.loc["NCT05153070-01-012", ["RFXENDTC", "RFENDTC"]].tolist() == ["2023-06-26T08:55"] * 2


# ex_csa.csv: the ciclosporin intervals going on at 2023-06-30 (start, collected end)
ON_CICLOSPORIN = {"01-013": ("2023-05-14", "2023-07-14"), "01-014": ("2023-06-01", "2023-08-01"),
                  "01-015": ("2023-06-12", "2023-07-25"), "01-016": ("2023-06-28", "2023-08-28")}


def test_subjects_on_ciclosporin_at_the_cut_have_no_end_yet(cuts):
    result = cuts[CUT].datasets
    ex, dm = result["EX"], result["DM"].set_index("USUBJID")
    open_ex = ex[ex["EXENDTC"] == ""].set_index("USUBJID")
    assert sorted(open_ex.index) == sorted(f"NCT05153070-{s}" for s in ON_CICLOSPORIN)
    for subject, (start, _) in ON_CICLOSPORIN.items():
        usubjid = f"NCT05153070-{subject}"
        # SDTMIG 4.4.7: no end yet, ongoing relative to the cut; the last dose known is the interval's start
        assert open_ex.loc[usubjid, ["EXTRT", "EXSTDTC", "EXENRTPT", "EXENTPT"]].tolist() == \
            ["CICLOSPORIN", start, "ONGOING", CUT]
        assert dm.loc[usubjid, ["RFXENDTC", "RFENDTC"]].tolist() == [start, start]
        # the subject takes part at least until the cut: the ciclosporin element runs to it
        assert dm.loc[usubjid, "RFPENDTC"] == CUT
    assert not (dm["RFXENDTC"] == CUT).any()
    ec = result["EC"]
    assert set(ec.loc[ec["ECENDTC"] == "", "ECENRTPT"]) == {"ONGOING"}
    se = result["SE"]
    csa = se[(se["ETCD"] == "CSA") & se["USUBJID"].isin(open_ex.index)]
    assert set(csa["SEENDTC"]) == {CUT}
    log = cuts[CUT].cut_log
    entry = log[(log["usubjid"] == "NCT05153070-01-016") & (log["variable"] == "EXENDTC")]
    assert entry[["action", "old", "new", "reason"]].values.tolist() == [
        ["changed", "2023-08-28", "", "EXENDTC after the cut: no end yet at the cut (2023-06-30)"]]


def test_the_full_study_has_no_relative_end_timing_in_ex(demo_sdtm, cuts):
    # without a cut every interval has its end: EXENRTPT/EXENTPT (permissible, empty) are left out
    assert "EXENRTPT" not in demo_sdtm[2].datasets["EX"] and "EXENTPT" not in demo_sdtm[2].datasets["EX"]
    ex = cuts[LATER].datasets["EX"]
    assert (ex["EXENDTC"] != "").all() or set(ex.loc[ex["EXENDTC"] == "", "EXENRTPT"]) == {"ONGOING"}
