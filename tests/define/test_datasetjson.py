"""Dataset-JSON 1.1 writer/reader: schema-valid, JSON and NDJSON, same data and metadata back."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from define.datasetjson import (Column, columns_from_xpt, read_dataset_json, validate_dataset_json,
                                write_dataset_json)
from define.xpt import XptVariable

# ADSL-like frame: text with a missing value, an integer, a decimal, a SAS date (days since 1960-01-01)
FRAME = pd.DataFrame({
    "USUBJID": ["S1-001", "S1-002", "S1-003"],
    "SEX": ["F", "", "M"],
    "AGE": [23.0, 31.0, np.nan],
    "HBA1CBL": [7.25, np.nan, 6.5],
    "TRTSDT": [22909.0, np.nan, 0.0],  # 2022-09-21, missing, 1960-01-01
})
VARIABLES = [XptVariable("USUBJID", "Unique Subject Identifier", "Char", 6),
             XptVariable("SEX", "Sex", "Char", 1),
             XptVariable("AGE", "Age", "Num"),
             XptVariable("HBA1CBL", "Baseline HbA1c (%)", "Num"),
             XptVariable("TRTSDT", "Date of First Exposure to Treatment", "Num", format="DATE9.")]
COLUMNS = columns_from_xpt("ADSL", VARIABLES, keys=["USUBJID"], data=FRAME)


def test_columns_carry_the_types_worked_out_by_hand():
    assert [(c.name, c.dataType, c.targetDataType, c.length, c.keySequence) for c in COLUMNS] == [
        ("USUBJID", "string", None, 6, 1), ("SEX", "string", None, 1, None), ("AGE", "integer", None, None, None),
        ("HBA1CBL", "double", None, None, None), ("TRTSDT", "date", "integer", None, None)]


@pytest.mark.parametrize("suffix", ["json", "ndjson"])
def test_round_trip_gives_the_same_data_and_metadata(tmp_path, suffix):
    path = write_dataset_json(FRAME, tmp_path / f"adsl.{suffix}", name="ADSL", label="Subject-Level Analysis Dataset",
                              columns=COLUMNS, created="2025-03-28T12:00:00", study_oid="STDY.S1")
    assert validate_dataset_json(path) == []
    data, meta = read_dataset_json(path)
    pd.testing.assert_frame_equal(data, FRAME)
    assert (meta.name, meta.label, meta.records, meta.created) == \
        ("ADSL", "Subject-Level Analysis Dataset", 3, "2025-03-28T12:00:00")
    assert meta.columns == COLUMNS
    assert meta.xpt_variables() == VARIABLES


def test_values_as_written_in_the_file(tmp_path):
    path = write_dataset_json(FRAME, tmp_path / "adsl.ndjson", name="ADSL", label="Subject-Level Analysis Dataset",
                              columns=COLUMNS, created="2025-03-28T12:00:00")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["datasetJSONVersion"] == "1.1.0"
    assert [json.loads(line) for line in lines[1:]] == [
        ["S1-001", "F", 23, 7.25, "2022-09-21"],
        ["S1-002", None, 31, None, None],
        ["S1-003", "M", None, 6.5, "1960-01-01"]]


def test_the_same_data_gives_the_same_bytes(tmp_path):
    kwargs = dict(name="ADSL", label="Subject-Level Analysis Dataset", columns=COLUMNS, created="2025-03-28T12:00:00")
    first = write_dataset_json(FRAME, tmp_path / "a.json", **kwargs)
    second = write_dataset_json(FRAME, tmp_path / "b.json", **kwargs)
    assert first.read_bytes() == second.read_bytes()


def test_schema_problems_are_reported(tmp_path):
    path = write_dataset_json(FRAME, tmp_path / "adsl.json", name="ADSL", label="ADSL", columns=COLUMNS,
                              created="2025-03-28T12:00:00")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["datasetJSONVersion"] = "1.0"
    del document["columns"][0]["dataType"]
    document["rows"] = document["rows"][:2]
    path.write_text(json.dumps(document), encoding="utf-8")
    problems = validate_dataset_json(path)
    assert any(p.startswith("datasetJSONVersion:") for p in problems)
    assert any(p.startswith("columns/0:") and "'dataType' is a required property" in p for p in problems)
    assert "records: 3 but 2 rows" in problems


def test_a_column_missing_from_the_data_is_refused(tmp_path):
    from specs.errors import DataError

    with pytest.raises(DataError, match="ADSL: columns not in the data: XX"):
        write_dataset_json(FRAME, tmp_path / "x.json", name="ADSL", label="ADSL",
                           columns=COLUMNS + [Column("IT.ADSL.XX", "XX", "X", "string")], created="2025-01-01T00:00:00")


def test_rows_are_checked_as_the_schema_checks_them(tmp_path):
    from define.datasetjson import _validator

    path = write_dataset_json(FRAME, tmp_path / "adsl.json", name="ADSL", label="ADSL", columns=COLUMNS,
                              created="2025-03-28T12:00:00")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["rows"][1] = "not a row"
    document["rows"][2] = [{"a": 1}, None]  # an array: the schema asks nothing of its values
    path.write_text(json.dumps(document), encoding="utf-8")
    assert validate_dataset_json(path)[0] == "rows/1: 'not a row' is not of type 'array'"
    assert [e.message for e in _validator().iter_errors(document)] == ["'not a row' is not of type 'array'"]
    document["rows"][1] = []
    path.write_text(json.dumps(document), encoding="utf-8")  # every row a list: checked without the rows
    assert validate_dataset_json(path) == ["rows/1: 0 values for 5 columns"]
    assert list(_validator().iter_errors(document)) == []


@pytest.mark.parametrize("chunk", [100_000, 2, 1])
@pytest.mark.parametrize("suffix", ["json", "ndjson"])
def test_records_are_written_as_the_json_encoder_writes_each_one(tmp_path, suffix, chunk, monkeypatch):
    from define import datasetjson
    from define.datasetjson import dataset_json_document, validate_written_dataset_json

    monkeypatch.setattr(datasetjson, "ROWS_CHUNK", chunk)  # records written a chunk at a time: the same bytes

    frame = pd.DataFrame({"USUBJID": ["S-1", None, "S-\u00e9\"\\\n", "S-1", ""],
                          "AVAL": [0.0, -0.0, np.nan, 1 / 3, 1e-7], "N": [1.0, 2.0, np.nan, 2.0, -3.0],
                          "ADT": [22909.0, np.nan, 0.0, 22909.0, -1.0]})
    columns = [Column("IT.X.USUBJID", "USUBJID", "Subject", "string", length=12),
               Column("IT.X.AVAL", "AVAL", "Value", "double"), Column("IT.X.N", "N", "N", "integer"),
               Column("IT.X.ADT", "ADT", "Date", "date", "integer", displayFormat="DATE9.")]
    kwargs = dict(name="X", label="X", columns=columns, created="2025-03-28T12:00:00", study_oid="S")
    path = write_dataset_json(frame, tmp_path / f"x.{suffix}", **kwargs)
    meta, rows = dataset_json_document(frame, **kwargs)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    expected = ("\n".join([dumps(meta)] + [dumps(row) for row in rows]) + "\n" if suffix == "ndjson"
                else dumps({**meta, "rows": rows}))
    assert path.read_text(encoding="utf-8") == expected
    assert rows[1][:2] == [None, -0.0] and '[null,-0.0,2,null]' in expected
    assert validate_written_dataset_json(path, len(frame)) == [] == validate_dataset_json(path)
    assert validate_written_dataset_json(path, 4) == ["records: 5 but 4 rows"]
    empty = write_dataset_json(frame.iloc[:0], tmp_path / f"e.{suffix}", **kwargs)
    meta, _ = dataset_json_document(frame.iloc[:0], **kwargs)
    assert empty.read_text(encoding="utf-8") == (dumps(meta) + "\n" if suffix == "ndjson"
                                                 else dumps({**meta, "rows": []}))
    assert validate_written_dataset_json(empty, 0) == [] == validate_dataset_json(empty)
