"""The partition by hand (cdisc.chunks.subjects): the route of each source, the chunk of each record."""
import pandas as pd
import pytest

from cdisc.chunks.raw import chunk_tables
from cdisc.chunks.subjects import NotChunkable, chunk_size, partition, routes


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

    assert chunk_size(10833, 2000, 2) == 1806  # 6 chunks, not 5 of 2,000 and one of 833
    assert chunk_size(10833, 1500, 2) == 1355  # 8 chunks
    assert chunk_size(10833, 2500) == 2167 and chunk_size(10833, 2500, 2) == 1806  # 5, 6 chunks
    assert chunk_size(4000, 2000, 2) == 2000 and chunk_size(1, 1, 2) == 1
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
    with pytest.raises(NotChunkable, match="randomization is merged by RANDNO, not by the subject"):
        routes(spec)


def test_a_source_read_in_batches_is_partitioned_as_the_whole(demo_sdtm):
    from cdisc.chunks.subjects import SubjectReading
    from specs.study_ct import study_ct

    spec = demo_sdtm[0]
    dm = located(pd.DataFrame({"Subject": ["01-003", "01-001", "01-002", "01-004", "01-005"]}), "dm.csv")
    lab = located(pd.DataFrame({"SUBJECT": ["01-005", "", "01-002", "09-999", "01-003"]}), "lab.csv")
    reading = SubjectReading(spec, study_ct(spec))
    reading.add("dm", dm)
    for start in (0, 2, 4):  # lab in batches of 2, 2 and 1 records
        reading.add("lab", lab.iloc[start:start + 2])
    part, _ = reading.partition(2)
    whole, _ = partition(spec, study_ct(spec), {"dm": dm, "lab": lab}, 2)
    assert part.boundaries == whole.boundaries and part.assigned["lab"].tolist() == [2, 0, 0, 2, 1]
    assert reading.route("lab").columns == ["SUBJECT"] and reading.route("ic").columns == ["Subject"]
    reading.drop("lab")  # read again from its start
    assert "lab" not in reading.partition(2)[0].assigned
