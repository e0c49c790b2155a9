"""SDTMIG 3.4 section 4.2.8.3: RACE = 'MULTIPLE' with each race in SUPPDM (RACE1, RACE2, ...) is valid."""
from __future__ import annotations

import pandas as pd

from validate.package import load_package
from validate.registry import run_rules
from validate_study import S2, clean_frames, stub_ct, write_package


def _findings(tmp_path, frames):
    write_package(tmp_path / "pkg", frames)
    return run_rules(load_package(tmp_path / "pkg"), stub_ct(), ["CT2001"])


def test_multiple_races_with_each_race_in_suppdm_is_no_finding(tmp_path):
    frames = clean_frames()
    frames["DM"].loc[1, "RACE"] = "MULTIPLE"
    frames["SUPPDM"] = pd.DataFrame({
        "STUDYID": ["XYZ-01"] * 2, "RDOMAIN": ["DM"] * 2, "USUBJID": [S2] * 2, "IDVAR": [None] * 2,
        "IDVARVAL": [None] * 2, "QNAM": ["RACE1", "RACE2"], "QLABEL": ["Race 1", "Race 2"],
        "QVAL": ["WHITE", "ASIAN"], "QORIG": ["CRF"] * 2, "QEVAL": [None] * 2})
    assert _findings(tmp_path, frames).empty


def test_multiple_without_the_races_in_suppdm_is_not_a_race(tmp_path):
    frames = clean_frames()
    frames["DM"].loc[1, "RACE"] = "MULTIPLE"
    assert [(r.dataset, r.value) for r in _findings(tmp_path, frames).itertuples()] == [("DM", "MULTIPLE")]
