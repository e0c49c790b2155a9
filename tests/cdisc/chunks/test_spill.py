"""Spill files and the Spilled mapping (cdisc.chunks.spill)."""
import numpy as np
import pandas as pd

from cdisc.chunks import spill
from cdisc.chunks.spill import SpillFolder, Spilled, read_frame, read_table, write_frame


def test_spilled_mapping_reads_each_time(tmp_path):
    folder = SpillFolder(tmp_path / "joined")
    frame = pd.DataFrame({"USUBJID": ["A", "B"], "AVAL": [1.0, np.nan]})
    write_frame(frame, folder.path / "sdtm" / "DM.arrow")
    spilled = Spilled(folder, "sdtm", {"DM": 2})
    assert list(spilled) == ["DM"] and len(spilled) == 1 and "DM" in spilled and "LB" not in spilled
    pd.testing.assert_frame_equal(spilled["DM"], frame, check_dtype=False)
    assert spilled["DM"] is not spilled["DM"]  # read each time
    held = spilled["DM"]
    spilled.alive["DM"] = held
    assert spilled["DM"] is held  # while something holds it, that very frame
    del held
    assert "DM" not in spilled.alive
    folder.keep()  # moved out of the staging area, still readable
    assert not (tmp_path / "joined").exists() and spilled["DM"]["USUBJID"].tolist() == ["A", "B"]


def test_spill_written_in_batches_reads_back_whole(tmp_path, monkeypatch):
    # Python-object text converted a batch at a time with the whole frame's types: a column without a value
    # in the first batch is still text, and the file reads back as one write of the frame would
    frame = pd.DataFrame({"USUBJID": pd.Series(["A", "B", "C", "D", "E"], dtype=object),
                          "LBORRES": pd.Series([None, None, None, "5", "x"], dtype=object),
                          "AVAL": [1.0, np.nan, 3.0, 4.0, 5.0], "N": [1, 2, 3, 4, 5]})
    write_frame(frame, tmp_path / "whole.arrow")
    monkeypatch.setattr(spill, "BATCH", 2)
    write_frame(frame, tmp_path / "batches.arrow")
    assert read_table(tmp_path / "batches.arrow").num_rows == 5
    pd.testing.assert_frame_equal(read_frame(tmp_path / "batches.arrow"),
                                  read_frame(tmp_path / "whole.arrow"))


def test_a_spilled_dataset_is_read_a_column_at_a_time_as_the_whole_frame_holds_it(tmp_path, monkeypatch):
    import pytest

    # written in batches of 2 (the spill of a chunked dataset): each column, or a few, as the whole frame has
    # them (text and float64 made Series directly, the integers through pandas' metadata)
    monkeypatch.setattr(spill, "BATCH", 2)
    folder = SpillFolder(tmp_path / "joined")
    frame = pd.DataFrame({"USUBJID": pd.Series(["A", "B", "C"], dtype="str"),
                          "LBORRES": pd.Series([None, "5", "x"], dtype=object), "AVAL": [1.0, np.nan, 3.0],
                          "N": [1, 2, 3]})
    write_frame(frame, folder.path / "sdtm" / "LB.arrow")
    spilled = Spilled(folder, "sdtm", {"LB": 3})
    view = spilled.columns_of("LB")
    whole = spilled["LB"]
    assert list(view.columns) == ["USUBJID", "LBORRES", "AVAL", "N"] and len(view) == 3
    for name in whole.columns:
        pd.testing.assert_series_equal(view[name], whole[name])
    pd.testing.assert_frame_equal(view[["N", "USUBJID"]], whole[["N", "USUBJID"]])
    pd.testing.assert_frame_equal(view[["AVAL", "LBORRES"]], whole[["AVAL", "LBORRES"]])
    with pytest.raises(KeyError):
        spilled.columns_of("DM")
