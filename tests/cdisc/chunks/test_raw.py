"""The spilled raw tables cut into the chunks' folders (cdisc.chunks.raw)."""
import numpy as np
import pandas as pd

from cdisc.chunks import spill
from cdisc.chunks.raw import split_spilled
from cdisc.chunks.spill import read_frame, write_frame
from cdisc.chunks.subjects import Partition


def test_split_puts_each_record_in_its_chunk_in_file_order(tmp_path, monkeypatch):
    # a table spilled in batches of 2 records, cut into 3 chunks: each chunk holds its records in the order of
    # the file (records 0, 3 and 5 -> chunk 0; 2 -> chunk 1; 1 and 4 -> chunk 2), a lookup table every record
    # in every chunk
    monkeypatch.setattr(spill, "BATCH", 2)
    whole = tmp_path / "00000"
    write_frame(pd.DataFrame({"SUBJ": ["a", "c", "b", "a", "c", "a"], "N": [0, 1, 2, 3, 4, 5]}),
                       whole / "lab.arrow")
    write_frame(pd.DataFrame({"CODE": ["X", "Y"]}), whole / "codes.arrow")
    part = Partition(["a", "b", "c"], {"lab": np.array([0, 2, 1, 0, 2, 0]), "codes": "all"})
    split_spilled(tmp_path, part)
    got = [read_frame(tmp_path / f"{index:05d}" / "lab.arrow")["N"].tolist() for index in range(3)]
    assert got == [[0, 3, 5], [2], [1, 4]]
    assert [read_frame(tmp_path / f"{index:05d}" / "codes.arrow")["CODE"].tolist() for index in range(3)] \
        == [["X", "Y"]] * 3
