"""Dataset-JSON in its three forms, rows as arrays or objects, declared records and types checked."""
from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from validate.cli import main
from validate.package import load_package
from validate.registry import run_rules

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[2] / "shared" / "reference" / "dataset-json-1.1" / "examples"


def ndjson_text(document: dict, objects: bool = False) -> str:
    header = {k: v for k, v in document.items() if k != "rows"}
    names = [c["name"] for c in document["columns"]]
    rows = [dict(zip(names, r)) if objects else r for r in document["rows"]]
    return "\n".join(json.dumps(x) for x in [header] + rows) + "\n"


@pytest.mark.parametrize("name", ["dm", "ae", "lb", "ts"])
def test_cdisc_examples_read_alike_in_json_ndjson_and_dsjc(tmp_path, name):
    document = json.loads((EXAMPLES / f"{name}.json").read_text())
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir(), (tmp_path / "c").mkdir()
    (tmp_path / "a" / f"{name}.json").write_text(json.dumps(document))
    (tmp_path / "b" / f"{name}.ndjson").write_text(ndjson_text(document))
    (tmp_path / "c" / f"{name}.dsjc").write_bytes(zlib.compress(ndjson_text(document, objects=True).encode(), 9))
    frames = [load_package(tmp_path / folder).datasets[name.upper()] for folder in "abc"]
    assert len(frames[0]) == document["records"]
    for other in frames[1:]:
        assert other.equals(frames[0])
    assert load_package(tmp_path / "a").meta[name.upper()].issues == []


def test_declared_records_and_types_checked_against_rows(tmp_path):
    document = json.loads((EXAMPLES / "dm.json").read_text())
    document["records"] = document["records"] + 2
    age = [c["name"] for c in document["columns"]].index("AGE")
    document["rows"][0][age] = "sixty"
    document["rows"][1][age] = 63.5
    (tmp_path / "dm.json").write_text(json.dumps(document))
    findings = run_rules(load_package(tmp_path), None, ["CV0109"])
    assert findings[["dataset", "variable", "count"]].values.tolist() == [["DM", "", 1], ["DM", "AGE", 2]]
    assert findings["message"].tolist() == [
        f"dm.json declares records = {document['records']} but holds {document['records'] - 2} rows",
        "dm.json: AGE is declared integer but 2 value(s) are not (e.g. 'sixty', 63.5)"]


@pytest.mark.parametrize("content,message", [
    (b"not zlib", "not a readable compressed Dataset-JSON (.dsjc) file"),
    (zlib.compress(b'{"name": "DM", "columns": ["USUBJID"]}\n'), "column 1 is not an object with a 'name'"),
])
def test_bad_dsjc_is_a_clear_error(tmp_path, capsys, content, message):
    (tmp_path / "dm.dsjc").write_bytes(content)
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
