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


def test_arrow_table_converts_each_shared_string_once_and_is_pyarrows_own_table():
    import pyarrow as pa

    from cdisc.chunks.spill import arrow_table, frame_schema

    a, b = "ALB", "GLUC"  # text shared by the records, as sdtm.unique makes it; a missing value each way
    frame = pd.DataFrame({"LBTESTCD": pd.Series([a, b, a, None, a, np.nan, b], dtype=object),
                          "USUBJID": pd.Series([f"S{i}" for i in range(7)], dtype=object),  # none shared
                          "LBSTRESN": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0, 7.0], "N": range(7),
                          "DOMAIN": pd.Series(["LB"] * 7, dtype="str")})
    schema = frame_schema(frame)
    assert schema.equals(pa.Schema.from_pandas(frame, preserve_index=False), check_metadata=True)
    assert [str(t) for t in schema.types] == ["string", "string", "double", "int64", "large_string"]
    table = arrow_table(frame, schema)
    assert table.column("LBTESTCD").to_pylist() == ["ALB", "GLUC", "ALB", None, "ALB", None, "GLUC"]
    assert table.column("LBSTRESN").to_pylist() == [1.0, None, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert table.equals(pa.Table.from_pandas(frame, preserve_index=False), check_metadata=True)
    part = frame.iloc[3:6]  # a batch: the whole frame's schema, a text column with one value
    assert arrow_table(part, schema).equals(pa.Table.from_pandas(part, schema=schema, preserve_index=False),
                                            check_metadata=True)
    assert arrow_table(part, schema).column("LBTESTCD").to_pylist() == [None, "ALB", None]


def test_arrow_table_leaves_other_objects_to_pyarrow():
    import pyarrow as pa
    import pytest

    from cdisc.chunks.spill import arrow_table, frame_schema

    numbers = pd.DataFrame({"X": pd.Series([1, 2, 1, 2], dtype=object), "Y": pd.Series(["a"] * 4, dtype=object)})
    schema = frame_schema(numbers)  # (pyarrow's inference: integers)
    assert str(schema.field("X").type) == "int64"
    assert arrow_table(numbers, schema).column("X").to_pylist() == [1, 2, 1, 2]
    nothing = pd.DataFrame({"X": pd.Series([None, None, np.nan], dtype=object)})
    assert str(frame_schema(nothing).field("X").type) == "null"
    assert arrow_table(nothing, frame_schema(nothing)).column("X").null_count == 3
    mixed = pd.DataFrame({"X": pd.Series(["a", 1, "a"], dtype=object)})
    with pytest.raises(pa.ArrowException):  # as pyarrow refuses it
        arrow_table(mixed, pa.schema([pa.field("X", pa.string())]))


def test_long_lived_frozen_keeps_what_was_alive_out_of_the_collector_until_the_block_ends():
    import gc

    assert gc.get_freeze_count() == 0
    spill.freeze_loaded()  # outside a block, in the command's own process: nothing frozen
    assert gc.get_freeze_count() == 0
    with spill.long_lived_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        loaded = [[n] for n in range(1000)]  # what a run loads for good after the block began (the spec)
        spill.freeze_loaded()
        assert gc.get_freeze_count() >= frozen + 1000
        with spill.long_lived_frozen():  # a block inside another leaves the outer one frozen
            pass
        assert gc.get_freeze_count() >= frozen + 1000
    assert gc.get_freeze_count() == 0
    del loaded


def test_after_chunk_gives_memory_back_in_the_commands_own_process_only(monkeypatch):
    given = []
    monkeypatch.setattr(spill, "give_back_memory", lambda collect=True: given.append(collect))
    spill.after_chunk()
    assert given == [True]  # a chunk run here: the later stages reuse its memory
    monkeypatch.setattr(spill, "in_worker_process", lambda: True)
    spill.after_chunk()
    assert given == [True]  # in a worker: kept for the next chunk (collected, not handed back)
