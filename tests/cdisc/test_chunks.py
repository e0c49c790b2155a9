"""A run in chunks of subjects gives the bytes of a run in one chunk (cdisc.chunks); the partition and the
join by hand."""
import io
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cdisc import chunks
from cdisc.chunks import Partition, check_order, chunk_tables, merge_notes, merge_sequences, partition, routes
from sdtm.notes import Count, Note, Values
from specs.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
OAK_SPEC = ROOT / "specs" / "studies" / "sdtm-oak-example"
OAK_RAW = ROOT.parent / "shared" / "reference" / "studies" / "sdtm-oak-example" / "raw_data"


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".cdisc" not in p.parts}


def run_demo(out: Path, chunk_subjects: int, **kwargs) -> str:
    from cdisc.pipeline import Progress, run

    stream = io.StringIO()
    run(out_dir=out, chunk_subjects=chunk_subjects, progress=Progress(False), stream=stream, **kwargs)
    return stream.getvalue().replace(str(out), "OUT")


def assert_same(one: Path, many: Path) -> None:
    a, b = files(one), files(many)
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert not different


def test_chunked_run_gives_the_bytes_of_one_chunk(tmp_path):
    """24 subjects in 3 chunks, 2 worker processes: XPT, Dataset-JSON, define.xml, validation, lineage,
    manifest and the run report (notes, records not mapped) as in one chunk."""
    one = run_demo(tmp_path / "one", 1000, formats="xpt,json")
    many = run_demo(tmp_path / "many", 10, formats="xpt,json")
    assert_same(tmp_path / "one", tmp_path / "many")
    assert many.replace("many", "one") == one.replace("many", "one")
    assert "(e.g. edc/ex_il2.csv row 25" in one and "LB: 2 NOT DONE record(s)" in one


def test_chunked_cut_gives_the_bytes_of_one_chunk(tmp_path, monkeypatch):
    from sdtm.cut import DataCut

    monkeypatch.setattr(chunks, "WORKERS", 1)  # the chunks one after the other, in this process
    cut = DataCut("2023-06-30", description="DSMB 1")
    one = run_demo(tmp_path / "one", 1000, cut=cut, validate=False)
    many = run_demo(tmp_path / "many", 7, cut=cut, validate=False)
    assert_same(tmp_path / "one", tmp_path / "many")
    assert many.replace("many", "one") == one.replace("many", "one")
    assert "data cut 2023-06-30:" in one


@pytest.mark.skipif(not OAK_RAW.is_dir(), reason="the shared reference folder is not beside the clone")
def test_sdtm_oak_example_in_chunks(tmp_path, monkeypatch):
    from cdisc.pipeline import Progress, run

    monkeypatch.setattr(chunks, "WORKERS", 1)
    outputs = []
    for name, size in (("one", 100), ("many", 2)):
        stream = io.StringIO()
        run(OAK_SPEC, OAK_RAW, tmp_path / name, sdtm_only=True, progress=Progress(False), stream=stream,
            chunk_subjects=size)
        outputs.append(stream.getvalue().replace(str(tmp_path / name), "OUT"))
    assert_same(tmp_path / "one", tmp_path / "many")
    assert outputs[0] == outputs[1]


# ------------------------------------------------------------------------------- by hand

def located(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    return frame.assign(__file=file, __row=range(2, len(frame) + 2), __key="k")


def test_sources_routed_by_the_usubjid_mapping(demo_sdtm):
    spec = demo_sdtm[0]
    found = routes(spec)
    assert found["dm"].kind == "subject" and found["dm"].domain == "DM" and found["dm"].rename == {}
    assert found["ic"].rename == {"Subject": "Subject"}  # merged into DM by Subject
    assert found["lab"].domain == "LB"
    assert found["randomization"].kind == "all"  # a lookup: every chunk


def test_partition_places_every_record(demo_sdtm):
    from specs.study_ct import study_ct

    spec = demo_sdtm[0]
    tables = {
        "dm": located(pd.DataFrame({"Subject": ["01-003", "01-001", "01-002", "01-004", "01-005"]}), "dm.csv"),
        # an unknown subject and a blank one go to the chunk whose range holds them (mapped or refused there)
        "lab": located(pd.DataFrame({"SUBJECT": ["01-005", "", "01-002", "09-999", "01-003"]}), "lab.csv"),
        "randomization": located(pd.DataFrame({"RANDNO": ["1", "2"]}), "randomization.csv"),
    }
    part, why = partition(spec, study_ct(spec), tables, 2)
    assert why == ""
    # 5 subjects (and 09-999, a subject of lab only) sorted, 2 a chunk
    assert part.boundaries == ["NCT05153070-01-001", "NCT05153070-01-003", "NCT05153070-01-005"]
    assert part.assigned["dm"].tolist() == [1, 0, 0, 1, 2]
    assert part.assigned["lab"].tolist() == [2, 0, 0, 2, 1]
    assert part.assigned["randomization"] == "all"
    first = chunk_tables(tables, part, 0)
    assert first["dm"]["Subject"].tolist() == ["01-001", "01-002"]  # in the table's own order
    assert first["lab"]["__row"].tolist() == [3, 4]
    assert len(first["randomization"]) == 2 and len(chunk_tables(tables, part, 2)["randomization"]) == 2


def test_chunks_evened_out_for_the_workers(demo_sdtm):
    from specs.study_ct import study_ct

    assert chunks.chunk_size(10833, 2000, 2) == 1806  # 6 chunks, not 5 of 2,000 and one of 833
    assert chunks.chunk_size(10833, 1500, 2) == 1355  # 8 chunks
    assert chunks.chunk_size(10833, 2500) == 2167 and chunks.chunk_size(10833, 2500, 2) == 1806  # 5, 6 chunks
    assert chunks.chunk_size(4000, 2000, 2) == 2000 and chunks.chunk_size(1, 1, 2) == 1
    spec = demo_sdtm[0]
    tables = {"dm": located(pd.DataFrame({"Subject": ["01-003", "01-001", "01-002", "01-004", "01-005"]}),
                            "dm.csv")}
    part, _ = partition(spec, study_ct(spec), tables, 4, workers=2)  # 5 subjects: 2 chunks of 3, not 4 and 1
    assert part.boundaries == ["NCT05153070-01-001", "NCT05153070-01-004"] and part.size == 3
    assert part.assigned["dm"].tolist() == [0, 0, 0, 1, 1]


def test_small_study_is_one_chunk(demo_sdtm):
    from specs.study_ct import study_ct

    spec = demo_sdtm[0]
    tables = {"dm": located(pd.DataFrame({"Subject": ["01-001", "01-002"]}), "dm.csv")}
    part, why = partition(spec, study_ct(spec), tables, 2)
    assert part.boundaries == [""] and why == ""


def test_merge_not_by_subject_is_one_chunk(demo_sdtm):
    from copy import deepcopy

    spec = deepcopy(demo_sdtm[0])
    spec.sources["randomization"].pop("role")  # no longer a lookup: merged by RANDNO, not by the subject
    with pytest.raises(chunks.NotChunkable, match="randomization is merged by RANDNO, not by the subject"):
        routes(spec)


def test_order_checked_at_the_join():
    edges = [(("S", "A-1"), ("S", "A-3")), None, (("S", "A-4"), ("S", "A-9"))]
    check_order("LB", edges, ["A-1", "A-4", "A-4"])
    misordered = [(("S", "A-1"), ("S", "A-5")), (("S", "A-4"), ("S", "A-9"))]
    with pytest.raises(DataError) as error:
        check_order("LB", misordered, ["A-1", "A-4"])
    assert str(error.value.problems[0].where) == "LB, chunk 2 (subjects from 'A-4')"
    assert error.value.problems[0].message == (
        "its first record ('S', 'A-4') does not come after the last record ('S', 'A-5') of chunk 1: the chunks of "
        "LB do not join into its sort order")
    unsorted = [((), ()), None, ((), ())]
    check_order("TX", [None, ((), ()), None], ["A-1", "A-4", "A-7"], [], "sdtm.yaml: domains.TX.sort")
    with pytest.raises(DataError) as error:
        check_order("TX", unsorted, ["A-1", "A-4", "A-7"], [], "sdtm.yaml: domains.TX.sort")
    assert str(error.value.problems[0]) == (
        "sdtm.yaml: domains.TX.sort: TX is not sorted by USUBJID: its records in 3 chunks of subjects cannot be "
        "joined in its order (run with --chunk-subjects above the number of subjects)")


def test_notes_join_their_counts_and_values():
    """Each chunk's notes in the order of the code path (stages ending at 1, 2, 2, 4); a note of one chunk
    only goes by its stage and domain among the others."""
    first = ["spec note", Note("LB.LBDTC from column D: ", Count(1), " two-digit year"),
             Note("LB: ", Count(2), " NOT DONE"), Note("AE.AEOUT: values ", Values({"b"}), " added")]
    second = ["spec note", Note("AE.AEDTC from column D: ", Count(4), " two-digit year"),
              Note("LB: ", Count(3), " NOT DONE"), Note("VS: ", Count(1), " NOT DONE"),
              Note("AE.AEOUT: values ", Values({"a", "b"}), " added")]
    merged = merge_notes([(first, [1, 2, 2, 3]), (second, [1, 2, 2, 4])], ["DM", "AE", "LB", "VS"])
    assert merged == ["spec note", "AE.AEDTC from column D: 4 two-digit year", "LB.LBDTC from column D: 1 two-digit year",
                      "LB: 5 NOT DONE", "VS: 1 NOT DONE", "AE.AEOUT: values 'a', 'b' added"]


def test_merge_sequences_keeps_each_lists_order():
    assert merge_sequences([["a", "c"], ["a", "b", "c", "d"], ["e"]], str) == ["a", "b", "c", "d", "e"]
    # a list sharing nothing: by rank among the others
    assert merge_sequences([["a2", "c2"], ["b2"]], str, rank=lambda k: k[0]) == ["a2", "b2", "c2"]


def test_cut_logs_join_by_domain_and_change():
    def log(rows):
        return pd.DataFrame([dict(zip(["domain", "source", "row", "key", "usubjid", "action", "variable", "old",
                                       "new", "reason"], r)) for r in rows])

    first = log([("DM", "dm", 2, "k", "S1", "removed", "", "", "", "subject entered after the cut"),
                 ("LB", "lab", 5, "k", "S1", "removed", "LBDTC", "x", "", "after the cut")])
    second = log([("LB", "lab", 3, "k", "S3", "removed", "LBDTC", "y", "", "after the cut"),
                  ("LB", "lab", 4, "k", "S3", "removed", "VISITNUM", "3", "", "collected at a visit after the cut (SV)")])
    third = log([("AE", "ae", 7, "k", "S5", "changed", "AEENDTC", "z", "", "ongoing at the cut")])
    merged = chunks.merge_cut_logs([first, None, second, third], ["DM", "AE", "LB"])
    assert merged["row"].tolist() == [2, 7, 5, 3, 4]


def test_spilled_mapping_reads_each_time(tmp_path):
    folder = chunks.SpillFolder(tmp_path / "joined")
    frame = pd.DataFrame({"USUBJID": ["A", "B"], "AVAL": [1.0, np.nan]})
    chunks.write_frame(frame, folder.path / "sdtm" / "DM.arrow")
    spilled = chunks.Spilled(folder, "sdtm", {"DM": 2})
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
    chunks.write_frame(frame, tmp_path / "whole.arrow")
    monkeypatch.setattr(chunks, "BATCH", 2)
    chunks.write_frame(frame, tmp_path / "batches.arrow")
    assert chunks.read_table(tmp_path / "batches.arrow").num_rows == 5
    pd.testing.assert_frame_equal(chunks.read_frame(tmp_path / "batches.arrow"),
                                  chunks.read_frame(tmp_path / "whole.arrow"))


def test_join_as_arrow_or_as_frames(tmp_path):
    # chunks of one schema joined as Arrow; a chunk whose column has no value (another type) joined as pandas
    # joins the frames: the same frame either way, columns left out dropped from each chunk
    def spill(index, frame):
        chunks.write_frame(frame, chunks.dataset_file(tmp_path, "sdtm", "LB", index))

    spill(0, pd.DataFrame({"USUBJID": ["A", "A"], "LBSEQ": [1.0, 2.0], "LBSPEC": ["", ""]}))
    spill(1, pd.DataFrame({"USUBJID": ["B"], "LBSEQ": [1.0], "LBSPEC": [""]}))
    joined = chunks.join_dataset(tmp_path, "sdtm", "LB", 2, ["LBSPEC"])
    expected = pd.DataFrame({"USUBJID": ["A", "A", "B"], "LBSEQ": [1.0, 2.0, 1.0]})
    pd.testing.assert_frame_equal(joined, expected)
    spill(2, pd.DataFrame({"USUBJID": pd.Series([], dtype=object), "LBSEQ": pd.Series([], dtype=object),
                           "LBSPEC": pd.Series([], dtype=object)}))
    spill(3, pd.DataFrame({"USUBJID": ["C"], "LBSEQ": [1.0], "LBSPEC": [""]}))
    joined = chunks.join_dataset(tmp_path, "sdtm", "LB", 4, ["LBSPEC"])
    expected = pd.DataFrame({"USUBJID": ["A", "A", "B", "C"], "LBSEQ": [1.0, 2.0, 1.0, 1.0]})
    pd.testing.assert_frame_equal(joined, expected)


def test_a_dataset_written_chunk_by_chunk_reads_back_as_the_joined_one(tmp_path):
    from define.written import XptFiles
    from define.xpt import XptVariable, write_xpt

    work, folder = tmp_path / "work", chunks.SpillFolder(tmp_path / "joined")
    parts = [pd.DataFrame({"USUBJID": pd.Series(["S-1", "S-2"], dtype="str"), "AESPID": [None, None],
                           "AESEQ": [1.0, np.nan]}),
             pd.DataFrame({"USUBJID": pd.Series(["S-30"], dtype="str"), "AESPID": [None], "AESEQ": [2.0]})]
    for index, part in zip([0, 2], parts):  # (chunk 1: no adverse event)
        chunks.write_frame(part, chunks.dataset_file(work, "sdtm", "AE", index))
    how = dict(dataset_name="AE", dataset_label="Adverse Events", created=datetime(2024, 5, 1),
               variables=[XptVariable("USUBJID", "Subject", "Char"), XptVariable("AESEQ", "Sequence", "Num")])
    rows: dict = {}
    spilled = chunks.Spilled(folder, "sdtm", rows)
    files = XptFiles()
    done = chunks.write_in_parts(files, spilled, work, "sdtm", "AE", [2, 0, 1], ["AESPID"], tmp_path / "ae.xpt", **how)
    assert done == ([], 3)
    rows["AE"] = 3
    joined = chunks.join_dataset(work, "sdtm", "AE", 3, ["AESPID"])
    pd.testing.assert_frame_equal(spilled["AE"], joined)  # the same columns, types and values
    write_xpt(joined, tmp_path / "whole" / "ae.xpt", **how)
    assert (tmp_path / "ae.xpt").read_bytes() == (tmp_path / "whole" / "ae.xpt").read_bytes()
    assert files.same(None, tmp_path / "m5" / "ae.xpt", source=spilled, **how) is not None  # the package links it
    # a chunk the writer must see whole (a value it transliterates): nothing written, the caller joins
    chunks.write_frame(parts[1].assign(USUBJID="S-3é"), chunks.dataset_file(work, "sdtm", "AE", 2))
    assert chunks.write_in_parts(files, spilled, work, "sdtm", "AE", [2, 0, 1], ["AESPID"],
                                 tmp_path / "again" / "ae.xpt", **how) is None
    assert not spilled.path("AE").exists() and not (tmp_path / "again" / "ae.xpt").exists()


def test_lineage_joins_each_dataset_chunk_after_chunk_with_its_records_offset(tmp_path):
    def lineage(rows):
        return pd.DataFrame(rows, columns=["DATASET", "RECORD", "USUBJID", "SEQ", "FILE", "ROW", "KEY", "MELTED"])

    first = lineage([("DM", 1, "S-1", np.nan, "dm.csv", 2, "S-1", ""), ("DM", 2, "S-2", np.nan, "dm.csv", 3, "S-2", ""),
                     ("AE", 1, "S-1", 1.0, "ae.csv", 2, "S-1/1", "")])
    second = lineage([("DM", 1, "S-3", np.nan, "dm.csv", 4, "S-3", ""),  # (no adverse event in this chunk)
                      ("VS", 1, "S-3", 1.0, "vs.csv", 2, "S-3/1", "VSORRES=SYSBP")])
    chunks.write_lineage_parts(first, chunks.dataset_file(tmp_path, "lineage", "records", 0))
    chunks.write_lineage_parts(second, chunks.dataset_file(tmp_path, "lineage", "records", 1))
    offsets = {"DM": [0, 2], "AE": [0, 1], "VS": [0, 0]}  # the records of the chunks before, per dataset
    chunks.join_lineage(tmp_path, 2, offsets, ["DM", "AE", "VS"], tmp_path / "lineage.arrow")
    joined = chunks.read_frame(tmp_path / "lineage.arrow")
    assert joined[["DATASET", "RECORD", "USUBJID", "ROW"]].values.tolist() == [
        ["DM", 1, "S-1", 2], ["DM", 2, "S-2", 3], ["DM", 3, "S-3", 4], ["AE", 1, "S-1", 2], ["VS", 1, "S-3", 2]]
    assert joined["MELTED"].tolist() == ["", "", "", "", "VSORRES=SYSBP"] and str(joined["RECORD"].dtype) == "int64"
    chunks.join_lineage(tmp_path / "none", 2, offsets, ["DM"], tmp_path / "empty.arrow")  # no chunk's lineage
    assert list(chunks.read_frame(tmp_path / "empty.arrow").columns) == list(first.columns)


def test_split_puts_each_record_in_its_chunk_in_file_order(tmp_path, monkeypatch):
    # a table spilled in batches of 2 records, cut into 3 chunks: each chunk holds its records in the order of
    # the file (records 0, 3 and 5 -> chunk 0; 2 -> chunk 1; 1 and 4 -> chunk 2), a lookup table every record
    # in every chunk
    monkeypatch.setattr(chunks, "BATCH", 2)
    whole = tmp_path / "00000"
    chunks.write_frame(pd.DataFrame({"SUBJ": ["a", "c", "b", "a", "c", "a"], "N": [0, 1, 2, 3, 4, 5]}),
                       whole / "lab.arrow")
    chunks.write_frame(pd.DataFrame({"CODE": ["X", "Y"]}), whole / "codes.arrow")
    part = chunks.Partition(["a", "b", "c"], {"lab": np.array([0, 2, 1, 0, 2, 0]), "codes": "all"})
    chunks.split_spilled(tmp_path, part)
    got = [chunks.read_frame(tmp_path / f"{index:05d}" / "lab.arrow")["N"].tolist() for index in range(3)]
    assert got == [[0, 3, 5], [2], [1, 4]]
    assert [chunks.read_frame(tmp_path / f"{index:05d}" / "codes.arrow")["CODE"].tolist() for index in range(3)] \
        == [["X", "Y"]] * 3


def test_running_keeps_to_the_tasks_allowed_at_once():
    # a thread pool of 3 stands in for the worker processes: with one task allowed at a time, no two overlap
    # until the results are asked for; the results come in task order
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    lock, now, most = threading.Lock(), [0], [0]

    def task(t):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1
        return t.index * 10

    tasks = [SimpleNamespace(index=i) for i in range(4)]
    with ThreadPoolExecutor(3) as pool:
        running = chunks.Running(pool, task, tasks, at_once=1)
        time.sleep(0.5)  # (all four done one after the other meanwhile)
        assert most[0] == 1
        assert running.results() == [0, 10, 20, 30]


def test_running_without_a_pool_runs_the_tasks_here_when_asked():
    from types import SimpleNamespace

    ran = []
    tasks = [SimpleNamespace(index=i) for i in range(3)]
    running = chunks.Running(None, lambda t: ran.append(t.index) or t.index, tasks, at_once=1)
    assert ran == []
    assert running.results() == [0, 1, 2] and ran == [0, 1, 2]
