"""Reading the raw export as the spec's sources describe it."""
from pathlib import Path

from cdisc.pipeline import read_raw
from specs.loader import StudySpec


def test_a_files_own_missing_value_markers_read_as_empty(tmp_path):
    (tmp_path / "dm.csv").write_text('"USUBJID","SEX","AGE"\n"S-1",NA,42\n"S-2","F",NA\n', encoding="utf-8")
    spec = StudySpec(folder=Path("."), study={}, design={}, domains={},
                     sources={"dm": {"path": "dm.csv", "keys": ["USUBJID"], "missing": ["NA"]}})
    table = read_raw(spec, tmp_path).tables["dm"]
    assert table[["USUBJID", "SEX", "AGE"]].values.tolist() == [["S-1", "", "42"], ["S-2", "F", ""]]
