"""A truncated or damaged XPT file is unreadable input (exit 2), never '0 errors'; where cdisc run wrote a
manifest.json beside the data, every file is checked against its recorded size and SHA-256."""
import numpy as np
import pandas as pd

from cdisc.manifest import write_manifest
from define.xpt import XptVariable, write_xpt
from validate.cli import main

# 6 + 2 + 16 + 8 + 8 = 40-byte records: every 2 records end on an 80-byte boundary.
DM = pd.DataFrame({"STUDYID": "XYZ-01", "DOMAIN": "DM", "USUBJID": [f"XYZ-01-{i:03d}" for i in range(10)],
                   "AGE": np.arange(30.0, 40.0), "RFSTDT": 23000.0})
VARIABLES = [XptVariable("STUDYID", "Study Identifier", "Char"), XptVariable("DOMAIN", "Domain Abbreviation", "Char"),
             XptVariable("USUBJID", "Unique Subject Identifier", "Char", 16), XptVariable("AGE", "Age", "Num"),
             XptVariable("RFSTDT", "Start date", "Num", format="DATE9.")]
DATA_START = 8 * 80 + 9 * 80 + 80  # headers, 5 NAMESTRs of 140 bytes padded to 720, OBS header


def write_dm(folder):
    folder.mkdir(parents=True, exist_ok=True)
    write_xpt(DM, folder / "dm.xpt", dataset_name="DM", dataset_label="Demographics", variables=VARIABLES)
    return folder / "dm.xpt"


def test_truncated_xpt_is_unreadable_input(tmp_path, capsys):
    path = write_dm(tmp_path / "pkg")
    path.write_bytes(path.read_bytes()[:DATA_START + 100])
    assert main([str(tmp_path / "pkg")]) == 2
    err = capsys.readouterr().err
    assert err == (f"cdisc validate: 1 unreadable dataset:\n  {path}: truncated or damaged SAS XPORT file: 1,540 bytes "
                   f"is not a multiple of 80 (an XPORT file is made of 80-byte records); the data section (100 bytes "
                   f"from byte 1,440) holds 2 whole records of 40 bytes and 20 bytes of a partial record\n")


def test_truncation_on_an_80_byte_boundary_is_caught_by_the_manifest(tmp_path, capsys):
    out = tmp_path / "out"
    path = write_dm(out / "sdtm")
    write_manifest(out, inputs={}, spec_hash="0" * 64, ct_version="2025-03-28", tool_version="0.1.0",
                   created="2000-01-01")
    whole = path.read_bytes()
    assert len(whole) == DATA_START + 400
    path.write_bytes(whole[:DATA_START + 320])  # 8 of the 10 records: the file alone looks whole
    assert main([str(out / "sdtm")]) == 2
    assert capsys.readouterr().err == (
        f"cdisc validate: 1 changed or truncated file:\n  {path}: truncated since it was written: "
        f"1,760 bytes, the manifest ({out / 'manifest.json'}) records 1,840 bytes\n")
    (out / "manifest.json").unlink()  # without the manifest, nothing tells: 8 records are validated
    main([str(out / "sdtm")])
    assert "1 datasets, 8 records" in capsys.readouterr().out


def test_a_changed_file_of_the_same_size_is_caught_by_the_manifest(tmp_path, capsys):
    out = tmp_path / "out"
    path = write_dm(out / "sdtm")
    write_manifest(out, inputs={}, spec_hash="0" * 64, ct_version="2025-03-28", tool_version="0.1.0",
                   created="2000-01-01")
    path.write_bytes(path.read_bytes().replace(b"XYZ-01-003", b"XYZ-01-009"))
    assert main([str(out / "sdtm")]) == 2
    assert capsys.readouterr().err == (
        f"cdisc validate: 1 changed or truncated file:\n  {path}: changed since it was written: its "
        f"SHA-256 differs from the one the manifest ({out / 'manifest.json'}) records\n")
