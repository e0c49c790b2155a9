"""A run in chunks of subjects gives the bytes of a run in one chunk (cdisc.chunks.build)."""
import io
from pathlib import Path

import pytest

from cdisc.chunks import build, raw

ROOT = Path(__file__).resolve().parents[3]
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


def test_chunked_run_gives_the_bytes_of_one_chunk(tmp_path, monkeypatch):
    """24 subjects in 3 chunks, 2 worker processes, the raw files read 11 records at a time: XPT, Dataset-JSON,
    define.xml, validation, lineage, manifest and the run report (notes, records not mapped) as in one chunk
    with each file read whole."""
    one = run_demo(tmp_path / "one", 1000, formats="xpt,json")
    monkeypatch.setattr(raw, "BATCH_RECORDS", 11)  # (every raw file in several batches)
    many = run_demo(tmp_path / "many", 10, formats="xpt,json")
    assert_same(tmp_path / "one", tmp_path / "many")
    assert many.replace("many", "one") == one.replace("many", "one")
    assert "(e.g. edc/ex_il2.csv row 25" in one and "LB: 2 NOT DONE record(s)" in one


def test_chunked_cut_gives_the_bytes_of_one_chunk(tmp_path, monkeypatch):
    from sdtm.cut import DataCut

    monkeypatch.setattr(build, "WORKERS", 1)  # the chunks one after the other, in this process
    cut = DataCut("2023-06-30", description="DSMB 1")
    one = run_demo(tmp_path / "one", 1000, cut=cut, validate=False)
    many = run_demo(tmp_path / "many", 7, cut=cut, validate=False)
    assert_same(tmp_path / "one", tmp_path / "many")
    assert many.replace("many", "one") == one.replace("many", "one")
    assert "data cut 2023-06-30:" in one


@pytest.mark.skipif(not OAK_RAW.is_dir(), reason="the shared reference folder is not beside the clone")
def test_sdtm_oak_example_in_chunks(tmp_path, monkeypatch):
    from cdisc.pipeline import Progress, run

    monkeypatch.setattr(build, "WORKERS", 1)
    outputs = []
    for name, size in (("one", 100), ("many", 2)):
        stream = io.StringIO()
        run(OAK_SPEC, OAK_RAW, tmp_path / name, sdtm_only=True, progress=Progress(False), stream=stream,
            chunk_subjects=size)
        outputs.append(stream.getvalue().replace(str(tmp_path / name), "OUT"))
    assert_same(tmp_path / "one", tmp_path / "many")
    assert outputs[0] == outputs[1]
