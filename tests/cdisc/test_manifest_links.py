"""The manifest reads a file linked under two names (out/sdtm and the m5 package) once."""
from __future__ import annotations

import os

import cdisc.manifest as manifest

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # SHA-256 of b"abc"


def test_a_linked_file_is_hashed_once_and_listed_under_each_name(tmp_path, monkeypatch):
    (tmp_path / "sdtm").mkdir()
    (tmp_path / "m5").mkdir()
    (tmp_path / "sdtm" / "dm.xpt").write_bytes(b"abc")
    os.link(tmp_path / "sdtm" / "dm.xpt", tmp_path / "m5" / "dm.xpt")
    (tmp_path / "m5" / "define.xml").write_bytes(b"abc")  # same bytes, another file: read on its own
    read = []
    real = manifest.sha256_file
    monkeypatch.setattr(manifest, "sha256_file", lambda path: read.append(path.name) or real(path))
    document = manifest.manifest_document(tmp_path, inputs={}, spec_hash="f" * 64, ct_version="x",
                                          tool_version="0", created="2024-06-30")
    assert document["outputs"] == [{"path": p, "sha256": ABC_SHA256, "bytes": 3}
                                   for p in ("m5/define.xml", "m5/dm.xpt", "sdtm/dm.xpt")]
    assert sorted(read) == ["define.xml", "dm.xpt"]
