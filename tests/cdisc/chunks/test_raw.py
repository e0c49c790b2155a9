"""The spilled raw tables cut into the chunks' folders (cdisc.chunks.raw)."""
import numpy as np
import pandas as pd
import pytest

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


# ------------------------------------------------------------------------- XPT sources read a record batch at a time
def xpt_workspace(tmp_path, monkeypatch):
    """The demo with its central-lab file as an XPORT v8 file of text (the same values as the CSV file)."""
    import shutil

    import pyreadstat

    from cdisc.chunks import build
    from cdisc.pipeline import builtin_raw_dir
    from specs.loader import builtin_spec_dir

    spec, raw = tmp_path / "spec", tmp_path / "raw"
    shutil.copytree(builtin_spec_dir(), spec)
    shutil.copytree(builtin_raw_dir(), raw, ignore=shutil.ignore_patterns("*.xml"))
    study = spec / "study.yaml"
    study.write_text(study.read_text(encoding="utf-8").replace("vendor/central_lab.csv", "vendor/central_lab.xpt"),
                     encoding="utf-8")
    lab = pd.read_csv(raw / "vendor" / "central_lab.csv", dtype=str, keep_default_na=False)
    pyreadstat.write_xport(lab, str(raw / "vendor" / "central_lab.xpt"), file_format_version=8, table_name="LAB")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(build, "WORKERS", 1)  # the chunks one after the other, in this process
    return spec, raw, lab


def xpt_run(spec, raw, out, monkeypatch, chunk_subjects: int, batch_records: int | None) -> str:
    import io

    from cdisc.chunks import raw as raw_reading
    from cdisc.pipeline import Progress, run

    monkeypatch.setattr(raw_reading, "BATCH_RECORDS", batch_records)
    stream = io.StringIO()
    run(spec, raw, out, sdtm_only=True, validate=False, progress=Progress(False), stream=stream,
        chunk_subjects=chunk_subjects)
    return stream.getvalue().replace(str(out), "OUT")


def test_an_xpt_source_read_in_batches_gives_the_bytes_of_the_csv_file(tmp_path, monkeypatch):
    # the lab file read 41 records at a time (70 batches, most subjects' records cut between two) into 4 chunks: the
    # bytes of the run that reads it in one batch into one chunk, and SDTM's bytes those of the run that reads the CSV
    # file
    import io

    from cdisc.pipeline import Progress, run

    def written(out):  # the files of the version the run published (out/sdtm, out/m5, ... link to them)
        version = (out / ".cdisc" / "current").resolve()
        return {str(p.relative_to(version)): p.read_bytes() for p in sorted(version.rglob("*")) if p.is_file()}

    spec, raw, _ = xpt_workspace(tmp_path, monkeypatch)
    one = xpt_run(spec, raw, tmp_path / "one", monkeypatch, 1000, None)
    many = xpt_run(spec, raw, tmp_path / "many", monkeypatch, 7, 41)
    assert many.replace("many", "one") == one.replace("many", "one")
    one, many = written(tmp_path / "one"), written(tmp_path / "many")
    assert "sdtm/lb.xpt" in one and sorted(one) == sorted(many)
    assert [name for name in one if one[name] != many[name]] == []
    run(out_dir=tmp_path / "csv", sdtm_only=True, validate=False, progress=Progress(False), stream=io.StringIO(),
        chunk_subjects=7)
    csv = written(tmp_path / "csv")
    sdtm = [name for name in one if name.startswith("sdtm/") and name.endswith(".xpt")]
    assert len(sdtm) > 10 and [name for name in sdtm if one[name] != csv[name]] == []


def test_an_xpt_source_wrong_past_its_first_batches_is_located_as_read_whole(tmp_path, monkeypatch):
    import pyreadstat

    from specs.errors import CdiscError

    spec, raw, lab = xpt_workspace(tmp_path, monkeypatch)
    path = raw / "vendor" / "central_lab.xpt"
    resent = pd.concat([lab.iloc[:1500], lab.iloc[[1]], lab.iloc[1500:]], ignore_index=True)  # record 2 sent again
    pyreadstat.write_xport(resent, str(path), file_format_version=8, table_name="LAB")

    def failure(chunk_subjects, batch_records):
        with pytest.raises(CdiscError) as caught:
            xpt_run(spec, raw, tmp_path / "out", monkeypatch, chunk_subjects, batch_records)
        return str(caught.value)

    whole = failure(1000, None)
    assert failure(7, 41) == whole  # (record 2 in the first batch, its repeat in the 37th)
    from cdisc.chunks import raw as raw_reading

    with monkeypatch.context() as patched:  # the file read whole by the one-piece reader: the same message
        patched.setattr(raw_reading, "_streamable", lambda source: False)
        assert failure(7, None) == whole
    key = lab.iloc[1]
    assert (f"raw/vendor/central_lab.xpt row 1501 (SUBJECT=01-001, ACCESSION={key.ACCESSION}, TESTCODE={key.TESTCODE}, "
            f"TPT_MIN=, TRANSFER=T01): source lab: a second record with SUBJECT '01-001', ACCESSION "
            f"'{key.ACCESSION}', TESTCODE '{key.TESTCODE}', TPT_MIN '', TRANSFER 'T01', the key of "
            f"raw/vendor/central_lab.xpt row 2;") in whole
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    whole = failure(1000, None)
    assert failure(7, 41) == whole
    assert whole == (  # (the path as the XPT reader names it)
        f"1 raw data error:\n  {path}: truncated SAS XPORT file: the OBSV8 header declares 2,861 observations of "
        f"158 bytes (452,038 bytes), the data section (451,980 bytes from byte 3,440) holds 2,860 whole records of "
        f"158 bytes and 100 bytes of a partial record")


def test_an_xpt_source_in_cp1252_is_read_again_in_batches_as_cp1252(tmp_path, monkeypatch, caplog):
    # the last record's TESTNAME is cp1252 ('Hémoglobin', as a cp1252 SAS session writes it): the batches read as
    # UTF-8 stop there and the file is read again in batches as cp1252, the whole reader's fallback: its bytes
    import logging

    from cdisc.chunks import raw as raw_reading

    spec, raw, _ = xpt_workspace(tmp_path, monkeypatch)
    path = raw / "vendor" / "central_lab.xpt"
    data = bytearray(path.read_bytes())
    where = data.rindex(b"Hemoglobin")
    data[where + 1] = 0xE9
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="sdtm.sas_readers"):
        streamed = xpt_run(spec, raw, tmp_path / "streamed", monkeypatch, 7, 41)
    assert f"{path}: text is not utf-8, read as cp1252" in caplog.text
    with monkeypatch.context() as patched:
        patched.setattr(raw_reading, "_streamable", lambda source: False)
        whole = xpt_run(spec, raw, tmp_path / "whole", monkeypatch, 7, None)
    assert streamed.replace("streamed", "whole") == whole
    version = (tmp_path / "streamed" / ".cdisc" / "current").resolve()
    other = (tmp_path / "whole" / ".cdisc" / "current").resolve()
    assert (version / "sdtm" / "lb.xpt").read_bytes() == (other / "sdtm" / "lb.xpt").read_bytes()
    assert [p.relative_to(version) for p in version.rglob("*") if p.is_file() and
            p.read_bytes() != (other / p.relative_to(version)).read_bytes()] == []


# ------------------------------------------------------------------------- ODM exports read a batch of subjects at a time
def odm_run(out, monkeypatch, streamed: bool, chunk_subjects: int = 7, batch: int | None = 3, raw=None) -> str:
    """A demo run from its ODM export (``raw``: a copy of the demo's raw folder), the export read ``batch`` subjects
    at a time into chunks of ``chunk_subjects``; or (not ``streamed``) read whole, as before: its report."""
    import io

    from cdisc.chunks import build
    from cdisc.chunks import raw as raw_reading
    from cdisc.pipeline import Progress, run

    monkeypatch.setattr(build, "WORKERS", 1)
    monkeypatch.setattr(raw_reading, "BATCH_RECORDS", batch)
    with monkeypatch.context() as patched:
        if not streamed:
            patched.setattr(raw_reading, "_read_odm_run", lambda *args: None)
        stream = io.StringIO()
        run(raw_dir=raw, out_dir=out, edc="odm", sdtm_only=True, validate=False, progress=Progress(False),
            stream=stream, chunk_subjects=chunk_subjects)
    return stream.getvalue().replace(str(out), "OUT")


def test_an_odm_export_read_a_batch_of_subjects_at_a_time_gives_the_bytes_of_the_whole_read(tmp_path, monkeypatch):
    # the demo's 26 subjects read 3 at a time into chunks of 7 (the lab file 3 records at a time): the report and
    # every file of the run that reads the export whole
    from cdisc.chunks import raw as raw_reading

    def written(out):
        version = (out / ".cdisc" / "current").resolve()
        return {str(p.relative_to(version)): p.read_bytes() for p in sorted(version.rglob("*")) if p.is_file()}

    monkeypatch.chdir(tmp_path)
    calls = []
    stream_odm = raw_reading._read_odm_run
    monkeypatch.setattr(raw_reading, "_read_odm_run", lambda *args: calls.append(stream_odm(*args)) or calls[-1])
    streamed = odm_run(tmp_path / "streamed", monkeypatch, True)
    assert len(calls) == 1 and calls[0] is not None  # (not read whole after all)
    whole = odm_run(tmp_path / "whole", monkeypatch, False)
    assert streamed.replace("streamed", "whole") == whole
    streamed, whole = written(tmp_path / "streamed"), written(tmp_path / "whole")
    assert "sdtm/vs.xpt" in whole and sorted(streamed) == sorted(whole)
    assert [name for name in whole if streamed[name] != whole[name]] == []


def test_an_odm_export_wrong_past_its_first_batches_is_located_as_read_whole(tmp_path, monkeypatch):
    # the last subject (01-026, in the 9th batch of 3) made wrong three ways: the message of the whole read, each
    # record located by its row in its form's table
    import shutil

    from cdisc.pipeline import builtin_raw_dir
    from specs.errors import CdiscError

    raw = tmp_path / "raw"
    shutil.copytree(builtin_raw_dir(), raw)
    path = raw / "edc" / "odm_export.xml"
    text = path.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    def failure(streamed):
        with pytest.raises(CdiscError) as caught:
            odm_run(tmp_path / "out", monkeypatch, streamed, raw=raw)
        return str(caught.value)

    last = text.rindex('ItemOID="VS.VSDAT" Value="')  # 01-026's last visit
    path.write_text(text[:last] + 'ItemOID="VS.VSDAT" Value="31/13/2025' + text[text.index('"', last + 26):],
                    encoding="utf-8")
    whole = failure(False)
    assert failure(True) == whole
    assert whole.split("\n")[:2] == [  # (row 239: the last of VS's 239 records; one problem a test code)
        "5 raw data errors:", "  raw/edc/odm_export.xml#VS row 239 (Subject=01-026, Folder=M24, RecordPosition=1, "
        "TESTCD=WEIGHT): VS.VSDTC from column VSDAT: '31/13/2025' is not a date in DD/MM/YYYY (month outside 1-12)"]
    path.write_text(text[:last] + 'ItemOID="VS.BMI" Value="' + text[last + 26:], encoding="utf-8")  # not declared
    whole = failure(False)
    assert failure(True) == whole == (  # (said once, not again by each of the 10 forms the spec reads)
        f"1 raw data error:\n  {path}: form VS: ItemData VS.BMI not declared in the form's ItemGroupDef")
    path.write_text(text[:last], encoding="utf-8")  # truncated
    whole = failure(False)
    assert failure(True) == whole
    assert text[:last].count("\n") + 1 == 5064  # (the file cut in line 5064, in its first ItemData)
    assert whole == (f"1 raw data error:\n  {path}: line 5064: malformed XML (Couldn't find end of Start Tag ItemData, "
                     f"line 5064, column 70)")


# ------------------------------------------------------------------- the next record batch read in a thread
def test_read_ahead_gives_the_items_in_order_and_raises_in_their_place():
    from cdisc.chunks.raw import read_ahead

    def batches():
        yield "first"
        yield "second"
        raise ValueError("record 3 is wrong")

    got = []
    with pytest.raises(ValueError, match="record 3 is wrong"):
        for item in read_ahead(batches()):
            got.append(item)
    assert got == ["first", "second"]  # every item before the problem, then the problem
    assert list(read_ahead(iter([]))) == []


def test_read_ahead_stopped_early_stops_its_thread_and_closes_the_iterator():
    import threading
    from contextlib import closing

    from cdisc.chunks.raw import read_ahead

    made, closed = [], []

    def batches():
        try:
            for number in range(1000):
                made.append(number)
                yield number
        finally:
            closed.append(True)  # (the CSV reader a source's batches hold, closed with them)

    with pytest.raises(RuntimeError):
        with closing(read_ahead(batches(), depth=1)) as items:
            for item in items:
                raise RuntimeError("the caller's own problem")  # after the first item
    assert closed == [True]
    assert len(made) <= 3  # the one taken, the one waiting, the one being made when the caller stopped
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]
