"""The raw checks of a run in chunks (cdisc.chunks.checks): the raw files read a few records at a time and the
subjects in chunks, every raw-level problem has the message of a run that reads each file whole in one chunk."""
import io
import shutil
from pathlib import Path

import pytest

from cdisc.chunks import build, raw as raw_reading
from cdisc.pipeline import Progress, builtin_raw_dir, run
from specs.errors import CdiscError
from specs.loader import builtin_spec_dir


@pytest.fixture()
def workspace(tmp_path, monkeypatch):
    spec, raw = tmp_path / "spec", tmp_path / "raw"
    shutil.copytree(builtin_spec_dir(), spec)
    shutil.copytree(builtin_raw_dir(), raw, ignore=shutil.ignore_patterns("*.xml"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(build, "WORKERS", 1)  # the chunks one after the other, in this process
    return spec, raw


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def failure(spec, raw, monkeypatch, chunk_subjects: int, batch_records: int | None) -> str:
    monkeypatch.setattr(raw_reading, "BATCH_RECORDS", batch_records)
    with pytest.raises(CdiscError) as caught:
        run(spec, raw, Path("out"), sdtm_only=True, validate=False, progress=Progress(False), stream=io.StringIO(),
            chunk_subjects=chunk_subjects)
    return str(caught.value)


def test_repeated_keys_undeclared_values_and_unknown_subjects_as_in_one_chunk(workspace, monkeypatch):
    spec, raw = workspace
    lab = raw / "vendor" / "central_lab.csv"
    rows = lines(lab)
    # two re-sent lab records (subjects 01-001 and 01-012, in different chunks), each far from its first; a record
    # of a subject not in the study; two undeclared values of AE (in two subjects); a lookup's repeated key
    lab.write_text("".join(rows[:1500] + [rows[1]] + rows[1500:] + [rows[1400], rows[5].replace("01-001", "09-999")]),
                   encoding="utf-8")
    ae = lines(raw / "edc" / "ae.csv")
    for index in (3, 30):  # AESER, the 11th column
        fields = ae[index].split(",")
        ae[index] = ",".join(fields[:10] + ["Maybe"] + fields[11:])
    (raw / "edc" / "ae.csv").write_text("".join(ae), encoding="utf-8")
    randomization = raw / "vendor" / "randomization.csv"
    randomization.write_text(randomization.read_text(encoding="utf-8") + "R001,9,A,Active\n", encoding="utf-8")
    whole = failure(spec, raw, monkeypatch, 1000, None)  # one chunk, each file one batch
    assert failure(spec, raw, monkeypatch, 7, 3) == whole  # 4 chunks, 3 records a batch
    assert failure(spec, raw, monkeypatch, 1000, 2) == whole
    key = rows[1].split(",")
    assert (f"raw/vendor/central_lab.csv row 1500 (SUBJECT=01-001, ACCESSION={key[3]}, TESTCODE={key[7]}, TPT_MIN=, "
            f"TRANSFER=T01): source lab: a second record with SUBJECT '01-001', ACCESSION '{key[3]}', TESTCODE "
            f"'{key[7]}', TPT_MIN '', TRANSFER 'T01', the key of raw/vendor/central_lab.csv row 1;") in whole
    assert f"raw/vendor/central_lab.csv row 2862 (SUBJECT={rows[1400].split(',')[1]}, " in whole
    assert "source randomization: a second record with RANDNO 'R001', the key of raw/vendor/randomization.csv row 1;" \
        in whole
    assert "source ae: AESER is 'Maybe', not one of the values declared for it" in whole
    assert "(2 records; this is the first)" in whole
    assert "09-999" in whole


def test_a_file_wrong_past_its_first_batches_is_read_whole_and_located(workspace, monkeypatch):
    spec, raw = workspace
    lab = raw / "vendor" / "central_lab.csv"
    rows = lines(lab)
    rows[2000] = rows[2000].rstrip("\n") + ",extra\n"  # a long record
    lab.write_text("".join(rows), encoding="utf-8")
    ae = raw / "edc" / "ae.csv"
    data = ae.read_bytes().split(b"\n")
    data[40] = data[40].replace(b",LOG,", b",LOG\xe9,")  # not UTF-8, on line 41
    ae.write_bytes(b"\n".join(data))
    vs = lines(raw / "edc" / "vs.csv")
    vs = [vs[0].rstrip("\n") + ",\n"] + [line.rstrip("\n") + ",\n" for line in vs[1:]]
    vs[200] = vs[200].rstrip("\n") + "x\n"  # a value in a column without a name
    (raw / "edc" / "vs.csv").write_text("".join(vs), encoding="utf-8")
    whole = failure(spec, raw, monkeypatch, 1000, None)
    assert failure(spec, raw, monkeypatch, 7, 3) == whole
    width = rows[0].count(",") + 1
    assert (f"raw/vendor/central_lab.csv: line 2001: {width + 1} values where the header has {width} columns: "
            f"'extra' after the last column TRANSFER") in whole
    assert "ae.csv: byte 0xE9 at offset" in whole and "(line 41) is not valid utf-8" in whole
    assert "vs.csv: row 200: column " in whole and "has no name in the header but holds 'x'" in whole
