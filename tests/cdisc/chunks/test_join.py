"""A dataset and the lineage joined from the chunks' spill files (cdisc.chunks.join)."""
from datetime import datetime

import numpy as np
import pandas as pd

from cdisc.chunks.join import join_dataset, join_lineage, write_in_parts, write_lineage_parts
from cdisc.chunks.spill import SpillFolder, Spilled, dataset_file, read_frame, write_frame


def test_join_as_arrow_or_as_frames(tmp_path):
    # chunks of one schema joined as Arrow; a chunk whose column has no value (another type) joined as pandas
    # joins the frames: the same frame either way, columns left out dropped from each chunk
    def spill(index, frame):
        write_frame(frame, dataset_file(tmp_path, "sdtm", "LB", index))

    spill(0, pd.DataFrame({"USUBJID": ["A", "A"], "LBSEQ": [1.0, 2.0], "LBSPEC": ["", ""]}))
    spill(1, pd.DataFrame({"USUBJID": ["B"], "LBSEQ": [1.0], "LBSPEC": [""]}))
    joined = join_dataset(tmp_path, "sdtm", "LB", 2, ["LBSPEC"])
    expected = pd.DataFrame({"USUBJID": ["A", "A", "B"], "LBSEQ": [1.0, 2.0, 1.0]})
    pd.testing.assert_frame_equal(joined, expected)
    spill(2, pd.DataFrame({"USUBJID": pd.Series([], dtype=object), "LBSEQ": pd.Series([], dtype=object),
                           "LBSPEC": pd.Series([], dtype=object)}))
    spill(3, pd.DataFrame({"USUBJID": ["C"], "LBSEQ": [1.0], "LBSPEC": [""]}))
    joined = join_dataset(tmp_path, "sdtm", "LB", 4, ["LBSPEC"])
    expected = pd.DataFrame({"USUBJID": ["A", "A", "B", "C"], "LBSEQ": [1.0, 2.0, 1.0, 1.0]})
    pd.testing.assert_frame_equal(joined, expected)


def test_a_dataset_written_chunk_by_chunk_reads_back_as_the_joined_one(tmp_path):
    from define.written import XptFiles
    from define.xpt import XptVariable, write_xpt

    work, folder = tmp_path / "work", SpillFolder(tmp_path / "joined")
    parts = [pd.DataFrame({"USUBJID": pd.Series(["S-1", "S-2"], dtype="str"), "AESPID": [None, None],
                           "AESEQ": [1.0, np.nan]}),
             pd.DataFrame({"USUBJID": pd.Series(["S-30"], dtype="str"), "AESPID": [None], "AESEQ": [2.0]})]
    for index, part in zip([0, 2], parts):  # (chunk 1: no adverse event)
        write_frame(part, dataset_file(work, "sdtm", "AE", index))
    how = dict(dataset_name="AE", dataset_label="Adverse Events", created=datetime(2024, 5, 1),
               variables=[XptVariable("USUBJID", "Subject", "Char"), XptVariable("AESEQ", "Sequence", "Num")])
    rows: dict = {}
    spilled = Spilled(folder, "sdtm", rows)
    files = XptFiles()
    done = write_in_parts(files, spilled, work, "sdtm", "AE", [2, 0, 1], ["AESPID"], tmp_path / "ae.xpt", **how)
    assert done == ([], 3)
    rows["AE"] = 3
    joined = join_dataset(work, "sdtm", "AE", 3, ["AESPID"])
    pd.testing.assert_frame_equal(spilled["AE"], joined)  # the same columns, types and values
    write_xpt(joined, tmp_path / "whole" / "ae.xpt", **how)
    assert (tmp_path / "ae.xpt").read_bytes() == (tmp_path / "whole" / "ae.xpt").read_bytes()
    assert files.same(None, tmp_path / "m5" / "ae.xpt", source=spilled, **how) is not None  # the package links it
    # a chunk the writer must see whole (a value it transliterates): nothing written, the caller joins
    write_frame(parts[1].assign(USUBJID="S-3é"), dataset_file(work, "sdtm", "AE", 2))
    assert write_in_parts(files, spilled, work, "sdtm", "AE", [2, 0, 1], ["AESPID"],
                                 tmp_path / "again" / "ae.xpt", **how) is None
    assert not spilled.path("AE").exists() and not (tmp_path / "again" / "ae.xpt").exists()


def test_lineage_joins_each_dataset_chunk_after_chunk_with_its_records_offset(tmp_path):
    def lineage(rows):
        return pd.DataFrame(rows, columns=["DATASET", "RECORD", "USUBJID", "SEQ", "FILE", "ROW", "KEY", "MELTED"])

    first = lineage([("DM", 1, "S-1", np.nan, "dm.csv", 2, "S-1", ""), ("DM", 2, "S-2", np.nan, "dm.csv", 3, "S-2", ""),
                     ("AE", 1, "S-1", 1.0, "ae.csv", 2, "S-1/1", "")])
    second = lineage([("DM", 1, "S-3", np.nan, "dm.csv", 4, "S-3", ""),  # (no adverse event in this chunk)
                      ("VS", 1, "S-3", 1.0, "vs.csv", 2, "S-3/1", "VSORRES=SYSBP")])
    write_lineage_parts(first, dataset_file(tmp_path, "lineage", "records", 0))
    write_lineage_parts(second, dataset_file(tmp_path, "lineage", "records", 1))
    offsets = {"DM": [0, 2], "AE": [0, 1], "VS": [0, 0]}  # the records of the chunks before, per dataset
    join_lineage(tmp_path, 2, offsets, ["DM", "AE", "VS"], tmp_path / "lineage.arrow")
    joined = read_frame(tmp_path / "lineage.arrow")
    assert joined[["DATASET", "RECORD", "USUBJID", "ROW"]].values.tolist() == [
        ["DM", 1, "S-1", 2], ["DM", 2, "S-2", 3], ["DM", 3, "S-3", 4], ["AE", 1, "S-1", 2], ["VS", 1, "S-3", 2]]
    assert joined["MELTED"].tolist() == ["", "", "", "", "VSORRES=SYSBP"] and str(joined["RECORD"].dtype) == "int64"
    join_lineage(tmp_path / "none", 2, offsets, ["DM"], tmp_path / "empty.arrow")  # no chunk's lineage
    assert list(read_frame(tmp_path / "empty.arrow").columns) == list(first.columns)
