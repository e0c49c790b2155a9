"""cdisc.lineage.write_csv: the bytes pandas' CSV writer gives, written on whole columns."""
import numpy as np
import pandas as pd

import cdisc.lineage as lineage
from cdisc.lineage import write_csv

FRAME = pd.DataFrame({
    "TEXT": pd.Series(["x", "a,b", 'q"t', "", None, "é"], dtype=object),
    "INT": [1, 2, 3, -4, 5, 6],
    "FLOAT": [1.0, np.nan, 2.5, 1e16, 0.1, 3.0],
    "STR": pd.Series(["", None, "z", "y y", " ", "k,"], dtype="str"),
    "EMPTY": [""] * 6,
    "NULLABLE": pd.Series([1, None, 3, 4, 5, 6], dtype="Int64"),
    "CATEGORY": pd.Categorical(["u", "v,w", "u", "u", "v,w", "u"]),
})


def pandas_bytes(frame, tmp_path):
    frame.to_csv(tmp_path / "pandas.csv", index=False, lineterminator="\n")
    return (tmp_path / "pandas.csv").read_bytes()


def test_the_bytes_of_pandas_to_csv(tmp_path, monkeypatch):
    write_csv(FRAME, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == pandas_bytes(FRAME, tmp_path)
    assert (tmp_path / "ours.csv").read_text().splitlines()[1:4] == [
        "x,1,1.0,,,1,u", '"a,b",2,,,,,"v,w"', '"q""t",3,2.5,z,,3,u']
    monkeypatch.setattr(lineage, "CHUNK", 4)  # two chunks of rows
    chunked = pd.concat([FRAME, FRAME], ignore_index=True)  # pyarrow-backed text in two chunks
    write_csv(chunked, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == pandas_bytes(chunked, tmp_path)


def test_line_breaks_empty_frames_and_one_column_are_pandas_own(tmp_path):
    for frame in (FRAME.assign(TEXT=["a\nb", "c\r", "", "", "", ""]), FRAME.iloc[:0], FRAME[["EMPTY"]]):
        write_csv(frame, tmp_path / "ours.csv")
        assert (tmp_path / "ours.csv").read_bytes() == pandas_bytes(frame, tmp_path)


def test_text_with_few_distinct_values_is_spelled_once_per_value_with_the_same_bytes(tmp_path):
    many = pd.concat([FRAME] * 2000, ignore_index=True)  # 12,000 records, a handful of distinct texts
    write_csv(many, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == pandas_bytes(many, tmp_path)
    broken = many.assign(STR=pd.Series(["a\nb", "c", "", None, " ", "k,"] * 2000, dtype="str"))
    write_csv(broken, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == pandas_bytes(broken, tmp_path)


def ipc_file(frames, path):
    """Frames as the record batches of one Arrow IPC file, as cdisc.chunks spills the lineage."""
    import pyarrow as pa

    tables = [pa.Table.from_pandas(f, preserve_index=False) for f in frames]
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, tables[0].schema) as writer:
        for table in tables:
            writer.write_table(table.cast(tables[0].schema))
    return path


def test_an_arrow_file_is_written_batch_by_batch_with_the_bytes_of_the_whole_frame(tmp_path, monkeypatch):
    from cdisc.chunks.spill import read_frame
    from cdisc.lineage import write_arrow_csv

    plain = FRAME[["TEXT", "INT", "FLOAT", "STR", "EMPTY"]].astype({"TEXT": "str"})
    many = pd.concat([plain] * 2000, ignore_index=True)  # few distinct texts: spelled per value
    broken = plain.assign(STR=pd.Series(["a\nb", "c", "", None, " ", "k,"], dtype="str"))
    monkeypatch.setattr(lineage, "CHUNK", 4)
    for frames in ([plain, many, broken, plain], [FRAME, FRAME], [plain.iloc[:0]]):  # FRAME: pandas' types
        source = ipc_file(frames, tmp_path / "lineage.arrow")
        write_arrow_csv(source, tmp_path / "ours.csv")
        assert (tmp_path / "ours.csv").read_bytes() == pandas_bytes(read_frame(source), tmp_path)


def test_a_stopped_run_stops_the_lineage_at_its_next_chunk(tmp_path, monkeypatch):
    import threading

    import pytest

    from cdisc.lineage import Stopped, write_arrow_csv

    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):
        write_arrow_csv(ipc_file([FRAME], tmp_path / "lineage.arrow"), tmp_path / "ours.csv", stop)
