"""cdisc.manifest and cdisc.cut_report: deterministic bytes, hand-checked hashes, verification."""
from __future__ import annotations

import hashlib
import json

import pandas as pd

from cdisc.cut_report import cut_report_data, write_cut_report
from cdisc.manifest import verify_manifest, write_manifest
from sdtm.cut import LOG_COLUMNS, DataCut

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # SHA-256 of b"abc"


def make_folder(root, name):
    folder = root / name
    (folder / "sdtm").mkdir(parents=True)
    (folder / "sdtm" / "dm.xpt").write_bytes(b"abc")
    (folder / "define.xml").write_bytes(b"<x/>")
    (folder / ".cut.partial").write_bytes(b"ignored")
    return folder


def make_inputs(root):
    (root / "raw" / "edc").mkdir(parents=True)
    (root / "raw" / "edc" / "dm.csv").write_bytes(b"abc")
    (root / "raw" / "lab.csv").write_bytes(b"x")
    return {"lab": root / "raw" / "lab.csv", "dm": root / "raw" / "edc" / "dm.csv"}


def write(folder, inputs, cut=DataCut(date="2024-06-30", description="DSMB 2")):
    return write_manifest(folder, inputs=inputs, spec_hash="f" * 64, ct_version="2025-03-28", tool_version="0.1.0",
                          cut=cut, created="2024-06-30")


def test_manifest_lists_outputs_and_inputs_with_their_sha256(tmp_path):
    folder, inputs = make_folder(tmp_path, "cut"), make_inputs(tmp_path)
    document = json.loads(write(folder, inputs).read_text("utf-8"))
    assert document["outputs"] == [
        {"path": "define.xml", "sha256": hashlib.sha256(b"<x/>").hexdigest(), "bytes": 4},
        {"path": "sdtm/dm.xpt", "sha256": ABC_SHA256, "bytes": 3},
    ]
    assert document["inputs"] == [
        {"name": "dm", "path": "edc/dm.csv", "sha256": ABC_SHA256, "bytes": 3},
        {"name": "lab", "path": "lab.csv", "sha256": hashlib.sha256(b"x").hexdigest(), "bytes": 1},
    ]
    assert document["cut"] == {"date": "2024-06-30", "description": "DSMB 2", "per_subject": None}
    assert (document["spec_sha256"], document["ct_version"], document["tool_version"], document["created"]) == \
        ("f" * 64, "2025-03-28", "0.1.0", "2024-06-30")


def test_manifest_bytes_are_the_same_for_the_same_content_anywhere(tmp_path):
    one = write(make_folder(tmp_path, "one"), make_inputs(tmp_path / "a")).read_bytes()
    two = write(make_folder(tmp_path, "two"), make_inputs(tmp_path / "b")).read_bytes()
    assert one == two
    assert one.decode("utf-8").index('"created"') < one.decode("utf-8").index('"tool_version"')  # sorted keys


def test_verify_manifest_finds_changed_missing_and_extra_files(tmp_path):
    folder, inputs = make_folder(tmp_path, "cut"), make_inputs(tmp_path)
    write(folder, inputs)
    assert verify_manifest(folder, inputs) == []
    (folder / "sdtm" / "dm.xpt").write_bytes(b"abd")
    (folder / "define.xml").unlink()
    (folder / "extra.txt").write_bytes(b"")
    inputs["lab"].write_bytes(b"y")
    assert verify_manifest(folder, inputs) == [
        "define.xml: missing",
        "sdtm/dm.xpt: SHA-256 differs from the manifest",
        "extra.txt: not in the manifest",
        f"input lab: SHA-256 differs from the manifest ({inputs['lab']})",
    ]
    assert verify_manifest(tmp_path / "nothing") == [f"{tmp_path / 'nothing' / 'manifest.json'}: manifest not found"]


def log_frame():
    rows = [
        ["DM", "dm.csv", "3", "Subject=3", "S3", "removed", "", "", "", "subject entered after the cut"],
        ["AE", "ae.csv", "2", "rec=2", "S1", "changed", "AEENDTC", "2024-07-05", "", "AEENDTC after the cut"],
        ["AE", "ae.csv", "2", "rec=2", "S1", "changed", "AEENRTPT", "", "ONGOING", "AEENDTC after the cut"],
        ["AE", "ae.csv", "3", "rec=3", "S1", "removed", "AESTDTC", "2024-07-02", "", "AESTDTC after the cut"],
        ["AE", "ae.csv", "4", "rec=4", "S3", "removed", "", "", "", "subject entered after the cut"],
    ]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def test_cut_report_counts_records_per_domain():
    data = cut_report_data(log_frame(), DataCut(date="2024-06-30"), counts={"AE": 7, "DM": 2})
    assert [(d["domain"], d["records_removed"], d["records_changed"], d["records_after_cut"])
            for d in data["domains"]] == [("DM", 1, 0, 2), ("AE", 2, 1, 7)]
    assert (data["records_removed"], data["records_changed"], data["subjects_left_out"]) == (3, 1, ["S3"])
    assert data["domains"][1]["rows"][0] == ["changed", "ae.csv", "2", "rec=2", "S1", "AEENDTC", "2024-07-05", "",
                                             "AEENDTC after the cut"]


def test_cut_report_files_are_deterministic_and_escaped(tmp_path):
    log = log_frame()
    log.loc[1, "old"] = "<b>&"
    first = [p.read_bytes() for p in write_cut_report(tmp_path / "a", log, DataCut(date="2024-06-30"))]
    second = [p.read_bytes() for p in write_cut_report(tmp_path / "b", log, DataCut(date="2024-06-30"))]
    assert first == second
    html = first[1].decode("utf-8")
    assert "&lt;b&gt;&amp;" in html and "<b>&" not in html
    assert "Cut date: <b>2024-06-30</b>" in html and 'href="#AE"' in html
