"""cdisc.diff on two tiny hand-made cut folders: exactly the records added, removed and changed."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from cdisc.diff import diff_cuts, heuristic_keys, main, write_keys
from define.xpt import XptVariable, write_xpt
from specs.errors import RawDataError

LB_VARS = [XptVariable("USUBJID", "Unique Subject Identifier", "Char", 4),
           XptVariable("LBSEQ", "Sequence Number", "Num"),
           XptVariable("LBTESTCD", "Lab Test or Examination Short Name", "Char", 8),
           XptVariable("VISITNUM", "Visit Number", "Num"),
           XptVariable("LBSTRESN", "Numeric Result/Finding in Std Units", "Num"),
           XptVariable("LBDTC", "Date/Time of Specimen Collection", "Char", 10)]


def lb(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[v.name for v in LB_VARS])


OLD_LB = lb([["S1", 1, "GLUC", 1, 5.0, "2024-01-01"],
             ["S1", 2, "GLUC", 2, 5.5, "2024-02-01"],
             ["S2", 1, "GLUC", 1, 6.0, "2024-01-05"]])
NEW_LB = lb([["S1", 1, "GLUC", 1, 5.0, "2024-01-01"],
             ["S1", 2, "GLUC", 2, 5.7, "2024-02-01"],   # value corrected
             ["S1", 3, "GLUC", 3, 6.1, "2024-03-01"],   # added
             ["S3", 1, "GLUC", 1, np.nan, "2024-03-02"]])  # added; S2's record removed


def write_cut(folder, lb_data, lb_vars=LB_VARS, dm=True, dm_label="Demographics"):
    folder.mkdir(parents=True)
    write_xpt(lb_data, folder / "lb.xpt", dataset_name="LB", dataset_label="Laboratory Test Results",
              variables=lb_vars)
    if dm:
        subjects = sorted(set(lb_data["USUBJID"]))
        write_xpt(pd.DataFrame({"USUBJID": subjects}), folder / "dm.xpt", dataset_name="DM", dataset_label=dm_label,
                  variables=[XptVariable("USUBJID", "Unique Subject Identifier", "Char", 4)])
    return folder


@pytest.fixture
def cuts(tmp_path):
    old = write_cut(tmp_path / "old" / "sdtm", OLD_LB).parent
    new = write_cut(tmp_path / "new" / "sdtm", NEW_LB).parent
    return old, new


def test_records_added_removed_and_changed_by_keys(cuts):
    result = diff_cuts(*cuts, keys={"LB": ["USUBJID", "LBTESTCD", "VISITNUM"]})
    by_name = {d.label: d for d in result.datasets}
    assert list(by_name) == ["sdtm/DM", "sdtm/LB"]
    lb_diff = by_name["sdtm/LB"]
    assert lb_diff.added[["USUBJID", "VISITNUM"]].values.tolist() == [["S1", 3.0], ["S3", 1.0]]
    assert lb_diff.removed[["USUBJID", "VISITNUM"]].values.tolist() == [["S2", 1.0]]
    # LBSEQ differs nowhere here, and --SEQ is never listed by default
    assert lb_diff.changed.values.tolist() == [["S1", "GLUC", 2.0, "LBSTRESN", 5.5, 5.7]]
    assert list(lb_diff.changed.columns) == ["USUBJID", "LBTESTCD", "VISITNUM", "variable", "old", "new"]
    dm_diff = by_name["sdtm/DM"]
    assert dm_diff.added["USUBJID"].tolist() == ["S3"] and dm_diff.removed["USUBJID"].tolist() == ["S2"]
    assert not dm_diff.attributes and lb_diff.attributes == []


def test_seq_differences_are_left_out_unless_asked(tmp_path):
    old = write_cut(tmp_path / "old", OLD_LB, dm=False)
    renumbered = OLD_LB.copy()
    renumbered.loc[1, "LBSEQ"] = 7
    new = write_cut(tmp_path / "new", renumbered, dm=False)
    assert diff_cuts(old, new).datasets[0].changed.empty
    changed = diff_cuts(old, new, include_seq=True).datasets[0].changed
    assert changed[["variable", "old", "new"]].values.tolist() == [["LBSEQ", 2.0, 7.0]]


def test_variables_and_attributes_changes(tmp_path):
    old = write_cut(tmp_path / "old", OLD_LB, dm_label="Demographics")
    new_vars = [v for v in LB_VARS if v.name != "LBDTC"] + [XptVariable("LBSTAT", "Completion Status", "Char", 8)]
    new_vars[2] = XptVariable("LBTESTCD", "Lab Test Short Name", "Char", 7)
    new_data = OLD_LB.drop(columns=["LBDTC"]).assign(LBSTAT="")
    new = write_cut(tmp_path / "new", new_data, new_vars, dm_label="Demographic Data")
    result = {d.name: d for d in diff_cuts(old, new).datasets}
    assert result["LB"].variables_added == ["LBSTAT"] and result["LB"].variables_removed == ["LBDTC"]
    assert result["LB"].attributes == [
        {"variable": "LBTESTCD", "attribute": "label", "old": "Lab Test or Examination Short Name",
         "new": "Lab Test Short Name"},
        {"variable": "LBTESTCD", "attribute": "length", "old": 8, "new": 7}]
    assert result["LB"].added.empty and result["LB"].removed.empty and result["LB"].changed.empty
    assert result["DM"].attributes == []  # the dataset label is not a variable attribute


def test_keys_json_in_the_folder_is_used(tmp_path):
    old = write_cut(tmp_path / "old", OLD_LB, dm=False)
    new = write_cut(tmp_path / "new", NEW_LB, dm=False)
    write_keys(new, {"LB": ["USUBJID", "LBDTC"]})
    assert json.loads((new / "keys.json").read_text()) == {"LB": ["USUBJID", "LBDTC"]}
    assert diff_cuts(old, new).datasets[0].keys == ["USUBJID", "LBDTC"]


def test_heuristic_keys_never_use_seq():
    assert heuristic_keys("LB", ["STUDYID", "USUBJID", "LBSEQ", "LBTESTCD", "VISITNUM", "LBTPTNUM", "LBDTC"]) == \
        ["USUBJID", "LBTESTCD", "VISITNUM", "LBTPTNUM", "LBDTC"]
    assert heuristic_keys("AE", ["USUBJID", "AESEQ", "AETERM", "AEDECOD", "AESTDTC", "AEENDTC"]) == \
        ["USUBJID", "AETERM", "AEDECOD", "AESTDTC"]
    assert heuristic_keys("DM", ["USUBJID", "RFSTDTC", "ARMCD"]) == ["USUBJID"]
    assert heuristic_keys("SUPPAE", ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"]) == \
        ["RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"]
    assert heuristic_keys("TS", ["STUDYID", "TSSEQ", "TSPARMCD", "TSVAL"]) == ["TSPARMCD", "TSVAL"]


def test_duplicate_keys_are_matched_in_file_order(tmp_path):
    old_data = lb([["S1", 1, "GLUC", 1, 5.0, ""], ["S1", 2, "GLUC", 1, 6.0, ""]])
    new_data = lb([["S1", 1, "GLUC", 1, 5.0, ""], ["S1", 2, "GLUC", 1, 6.5, ""], ["S1", 3, "GLUC", 1, 7.0, ""]])
    old, new = write_cut(tmp_path / "old", old_data, dm=False), write_cut(tmp_path / "new", new_data, dm=False)
    lb_diff = diff_cuts(old, new, keys={"LB": ["USUBJID", "LBTESTCD", "VISITNUM"]}).datasets[0]
    assert lb_diff.changed[["variable", "old", "new"]].values.tolist() == [["LBSTRESN", 6.0, 6.5]]
    assert lb_diff.added["LBSTRESN"].tolist() == [7.0]
    assert "not unique" in lb_diff.notes[0]


def test_main_prints_summary_and_one_subjects_records_and_writes_html(cuts, tmp_path):
    out = io.StringIO()
    assert main([str(cuts[0]), str(cuts[1]), "--subject", "S1", "--out", str(tmp_path / "report")], out) == 0
    text = out.getvalue()
    assert "sdtm/LB              2        1        1" in text
    subject_part = text.split("subject S1:")[1]
    assert "added: USUBJID=S1, LBTESTCD=GLUC, VISITNUM=3, LBDTC=2024-03-01" in subject_part
    assert "changed: USUBJID=S1, LBTESTCD=GLUC, VISITNUM=2, LBDTC=2024-02-01: LBSTRESN '5.5' -> '5.7'" in subject_part
    assert "S2" not in subject_part and "S3" not in subject_part
    html = (tmp_path / "report" / "diff.html").read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "5.7" in html
    assert json.loads((tmp_path / "report" / "diff.json").read_text("utf-8"))["datasets"][1]["dataset"] == "sdtm/LB"


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(RawDataError, match="cut folder not found"):
        diff_cuts(tmp_path / "a", tmp_path)
