"""A REDCap records export read a record batch at a time into the chunks (cdisc.chunks.redcap): each batch cut
into the instruments the sources read, every record located by its line in the export, the same tables, notes,
messages and output bytes as the whole read (read_raw)."""
import io
from pathlib import Path

import pandas as pd
import pytest

from cdisc.chunks import build, raw as raw_reading, redcap
from cdisc.demo.redcap import RECORDS_FILE, generate, record_columns
from cdisc.pipeline import Progress, run
from cdisc.raw_export import read_raw
from specs.errors import CdiscError
from specs.loader import load_study_spec

SPEC = Path(__file__).resolve().parents[3] / "specs" / "studies" / "redcap-example"
STREAMED = redcap.read_redcap_run


def line(record: str, event: str, instrument: str = "", instance: str = "", **values: str) -> str:
    """One row of the export, typed by hand: the values named, the other columns empty."""
    columns = record_columns()
    row = dict.fromkeys(columns, "")
    row.update(record_id=record, redcap_event_name=event, redcap_repeat_instrument=instrument,
               redcap_repeat_instance=instance, redcap_data_access_group="site_101", **values)
    assert set(row) == set(columns)
    return ",".join(row[c] for c in columns) + "\n"


UNCHECKED = {f"race___{code}": "0" for code in range(1, 7)}
ENROLLED = dict(UNCHECKED, consent_date="2025-04-21", dob="8/13/1965", sex="2", ethnicity="2", race___5="1",
                enrollment_complete="2")
LINES = [  # 3 subjects, 10 rows: read 3 at a time, subject 1 spans the first two batches, subject 2 the next two
    line("1", "screening_arm_1", **ENROLLED, visit_date="2025-04-21", visit_complete="2"),  # 1
    line("1", "day_1_arm_1", **UNCHECKED, visit_date="2025-04-26", visit_complete="2", sysbp="130",
         vital_signs_complete="2"),  # 2
    line("1", "logs_arm_1", "adverse_events", "1", ae_term="Headache", ae_serious="0",
         adverse_events_complete="2"),  # 3
    line("1", "logs_arm_1", "adverse_events", "2", ae_term="Nausea", ae_serious="1",
         adverse_events_complete="1"),  # 4: a repeated instrument's second instance, in the second batch
    line("2", "screening_arm_1", **dict(ENROLLED, sex="1"), visit_date="2025-05-02", visit_complete="2"),  # 5
    line("2", "day_1_arm_1", **UNCHECKED, visit_date="2025-05-07", visit_complete="2"),  # 6
    line("2", "end_of_study_arm_1", **UNCHECKED, ds_date="2025-06-20", ds_status="3",
         disposition_complete="2"),  # 7: disposition, no source reads it below
    line("3", "screening_arm_1", **ENROLLED, visit_date="2025-05-09", visit_complete="0"),  # 8
    line("3", "end_of_study_arm_1", **UNCHECKED, ds_date="2025-06-30", ds_status="1",
         disposition_complete="2"),  # 9
    line("3", "logs_arm_1", "adverse_events", "1", ae_term="Rash", adverse_events_complete="2"),  # 10
]


@pytest.fixture()
def export(tmp_path, monkeypatch):
    """The example's data dictionary and a records export typed by hand (LINES), in tmp_path/raw."""
    raw = tmp_path / "raw"
    generate(raw)
    (raw / RECORDS_FILE).write_text(",".join(record_columns()) + "\n" + "".join(LINES), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(build, "WORKERS", 1)  # the chunks one after the other, in this process
    return raw


def spilled(spec, raw: Path, folder: Path, batch_records: int | None):
    from cdisc.chunks.spill import read_frame
    from specs.study_ct import study_ct

    read, reading, checks = raw_reading.read_spilled(spec, raw, "csv", Progress(False), study_ct(spec), folder,
                                                     batch_records)
    return read, {name: read_frame(folder / "00000" / f"{name}.arrow") for name in spec.sources}, reading


def test_each_batch_is_cut_into_the_instruments_the_sources_read(export, tmp_path, monkeypatch):
    # 3 rows a batch: the tables read_raw cuts from the whole export, each record at its line; subject 1's
    # instances of adverse_events in two batches; disposition (rows 7 and 9) read by no source: the note
    calls = []
    streamed = redcap.read_redcap_run
    monkeypatch.setattr(redcap, "read_redcap_run", lambda *args: calls.append(streamed(*args)) or calls[-1])
    spec = load_study_spec(SPEC)
    del spec.sources["disposition"]
    read, tables, reading = spilled(spec, export, tmp_path / "streamed", 3)
    assert len(calls) == 1 and calls[0] is not None  # (not read whole after all)
    monkeypatch.setattr(redcap, "read_redcap_run", lambda *args: None)
    whole, spilled_whole, _ = spilled(spec, export, tmp_path / "whole", None)
    for name in spec.sources:
        pd.testing.assert_frame_equal(tables[name], spilled_whole[name])
    assert read.headers == whole.headers
    assert read.files == whole.files
    assert read.notes == whole.notes == read_raw(spec, export).notes == [
        "raw/REDCAPDEMO_DATA.csv: instrument 'disposition' holds data in 2 record(s) that no source reads "
        "(a source with redcap: {form: disposition} would map them)"]
    assert tables["enrollment"]["__row"].tolist() == [1, 5, 8]
    assert tables["enrollment"]["sex"].tolist() == ["Female", "Male", "Female"]
    assert tables["enrollment"]["race"].tolist() == ["White"] * 3
    assert tables["visit"]["__row"].tolist() == [1, 2, 5, 6, 8]
    assert tables["vital_signs"]["__row"].tolist() == [2]
    assert tables["study_drug"]["__row"].tolist() == []
    ae = tables["adverse_events"]
    assert ae["__row"].tolist() == [3, 4, 10]
    assert ae["__file"].tolist() == ["raw/REDCAPDEMO_DATA.csv#adverse_events"] * 3
    assert ae["__key"].tolist() == ["record_id=1, redcap_repeat_instance=1", "record_id=1, redcap_repeat_instance=2",
                                    "record_id=3, redcap_repeat_instance=1"]
    assert ae["ae_serious"].tolist() == ["No", "Yes", ""]
    part, why = reading.partition(1)  # a subject a chunk
    assert why == "" and part.boundaries == ["REDCAPDEMO-1", "REDCAPDEMO-2", "REDCAPDEMO-3"]
    assert {name: where.tolist() for name, where in part.assigned.items()} == {
        "enrollment": [0, 1, 2], "visit": [0, 0, 1, 1, 2], "vital_signs": [0], "study_drug": [],
        "adverse_events": [0, 0, 2]}


def reading(monkeypatch, streamed: bool, batch_records: int | None) -> None:
    """The export read in batches of ``batch_records`` rows (streamed), or whole by read_raw."""
    monkeypatch.setattr(redcap, "read_redcap_run", STREAMED if streamed else lambda *args: None)
    monkeypatch.setattr(raw_reading, "BATCH_RECORDS", batch_records)


def failure(raw: Path, monkeypatch, streamed: bool, chunk_subjects: int = 1, batch_records: int | None = 3) -> str:
    reading(monkeypatch, streamed, batch_records)
    with pytest.raises(CdiscError) as caught:
        run(SPEC, raw, Path("out"), sdtm_only=True, validate=False, progress=Progress(False), stream=io.StringIO(),
            chunk_subjects=chunk_subjects)
    return str(caught.value)


def test_a_bad_line_past_the_first_batches_has_the_message_of_the_whole_read(export, monkeypatch):
    # row 8 (line 9 of the file, in the third batch) with a value after the last column: the csv module's
    # located message, once however many sources read the export, as read_raw says it
    records = export / RECORDS_FILE
    text = records.read_text(encoding="utf-8").splitlines(keepends=True)
    records.write_text("".join(text[:8] + [text[8].rstrip("\n") + ",extra\n"] + text[9:]), encoding="utf-8")
    whole = failure(export, monkeypatch, False, 1000, None)
    assert failure(export, monkeypatch, True) == whole
    width = len(record_columns())
    assert whole == (f"1 raw data error:\n  {records.resolve()}: line 9: {width + 1} values where the header has "
                     f"{width} columns: 'extra' after the last column disposition_complete")


def test_a_code_the_dictionary_does_not_declare_in_a_late_batch_is_located_as_read_whole(export, monkeypatch):
    # sex '9' in rows 1 and 8 (subjects 1 and 3: the first and third batches), ae_severity '7' in row 10 (the
    # fourth): each located by its row, column by column and source by source, as read_raw says them
    wrong = LINES[:9] + [line("3", "logs_arm_1", "adverse_events", "1", ae_term="Rash", ae_severity="7",
                              adverse_events_complete="2")]
    records = export / RECORDS_FILE
    text = ",".join(record_columns()) + "\n" + "".join(wrong)
    records.write_text(text.replace("1965,2,2,", "1965,9,2,"), encoding="utf-8")
    whole = failure(export, monkeypatch, False, 1000, None)
    assert failure(export, monkeypatch, True) == whole
    assert whole.split("\n") == [
        "3 raw data errors:",
        "  raw/REDCAPDEMO_DATA.csv row 1 (record_id=1, redcap_event_name=screening_arm_1): column sex: '9' is not a "
        "code of the data dictionary (1 Male, 2 Female)",
        "  raw/REDCAPDEMO_DATA.csv row 8 (record_id=3, redcap_event_name=screening_arm_1): column sex: '9' is not a "
        "code of the data dictionary (1 Male, 2 Female)",
        "  raw/REDCAPDEMO_DATA.csv row 10 (record_id=3, redcap_event_name=logs_arm_1, redcap_repeat_instance=1): "
        "column ae_severity: '7' is not a code of the data dictionary (1 Mild, 2 Moderate, 3 Severe)"]


def test_the_example_read_in_batches_into_chunks_gives_the_bytes_of_the_whole_read(tmp_path, monkeypatch):
    # the example's 6 subjects, 4 rows a batch, 2 subjects a chunk: the report and every file of the run that
    # reads the export whole in one chunk; a repeated instance of adverse events, the same message
    def written(out):
        version = (out / ".cdisc" / "current").resolve()
        return {str(p.relative_to(version)): p.read_bytes() for p in sorted(version.rglob("*")) if p.is_file()}

    def report(out, streamed, chunk_subjects, batch_records):
        reading(monkeypatch, streamed, batch_records)
        stream = io.StringIO()
        run(SPEC, raw, out, sdtm_only=True, validate=False, progress=Progress(False), stream=stream,
            chunk_subjects=chunk_subjects)
        return stream.getvalue().replace(str(out), "OUT")

    monkeypatch.chdir(tmp_path)
    raw = Path("raw")
    generate(raw)
    monkeypatch.setattr(build, "WORKERS", 1)
    streamed = report(Path("streamed"), True, 2, 4)
    assert report(Path("whole"), False, 1000, None) == streamed
    assert "AE       adverse_events                11      11           0" in streamed
    streamed, whole = written(tmp_path / "streamed"), written(tmp_path / "whole")
    assert "sdtm/ae.xpt" in whole and sorted(streamed) == sorted(whole)
    assert [name for name in whole if streamed[name] != whole[name]] == []
    records = raw / RECORDS_FILE
    text = records.read_text(encoding="utf-8").splitlines(keepends=True)
    again = next(i for i, row in enumerate(text) if row.startswith("5,logs_arm_1,adverse_events,2,"))
    records.write_text("".join(text + [text[again]]), encoding="utf-8")  # subject 5's second AE sent again
    whole = failure(raw, monkeypatch, False, 1000, None)
    assert failure(raw, monkeypatch, True, 2, 4) == whole
    assert (f"raw/REDCAPDEMO_DATA.csv#adverse_events row {len(text)} (record_id=5, redcap_repeat_instance=2): "
            f"source adverse_events: a second record with record_id '5', redcap_repeat_instance '2', the key of "
            f"raw/REDCAPDEMO_DATA.csv#adverse_events row {again}") in whole
