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
