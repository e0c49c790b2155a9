"""Each XPT file written once: the package links a file written earlier from the same inputs, and writes
anew whenever anything that makes the bytes differs."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from define.written import XptFiles, written_lengths
from define.xpt import XptVariable, write_xpt

CREATED = datetime(2024, 6, 30)
VARIABLES = [XptVariable("USUBJID", "Unique Subject Identifier", "Char"),
             XptVariable("AETERM", "Reported Term", "Char", 12), XptVariable("AESEQ", "Sequence Number", "Num")]


@pytest.fixture
def frame():
    return pd.DataFrame({"USUBJID": ["S-001", "S-002"], "AETERM": ["Céphalée", "NAUSEA"], "AESEQ": [1.0, 2.0]})


def _write(files, frame, path, **changes):
    arguments = dict(dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES, created=CREATED)
    arguments.update(changes)
    return files.place(frame, path, **arguments)


def test_the_same_inputs_are_linked_not_written_again(tmp_path, frame):
    files = XptFiles()
    notes = files.write(frame, tmp_path / "sdtm" / "ae.xpt", dataset_name="AE", dataset_label="Adverse Events",
                        variables=VARIABLES, created=CREATED)
    assert notes == ["AE.AETERM row 1: 'Céphalée' -> 'Cephalee'"]
    assert written_lengths(tmp_path / "sdtm" / "ae.xpt", 3) == (5, 12, 8)
    # the package asks with the lengths define.xml gives (USUBJID: the longest value, 5)
    resolved = [XptVariable("USUBJID", "Unique Subject Identifier", "Char", 5)] + VARIABLES[1:]
    assert _write(files, frame, tmp_path / "m5" / "ae.xpt", variables=resolved) == notes
    assert (tmp_path / "m5" / "ae.xpt").samefile(tmp_path / "sdtm" / "ae.xpt")
    write_xpt(frame, tmp_path / "ae.xpt", dataset_name="AE", dataset_label="Adverse Events", variables=resolved,
              created=CREATED)
    assert (tmp_path / "m5" / "ae.xpt").read_bytes() == (tmp_path / "ae.xpt").read_bytes()


@pytest.mark.parametrize("change", ["frame", "label", "created", "length", "variable label", "format", "name"])
def test_anything_that_changes_the_bytes_writes_the_file_again(tmp_path, frame, change):
    files = XptFiles()
    files.write(frame, tmp_path / "sdtm" / "ae.xpt", dataset_name="AE", dataset_label="Adverse Events",
                variables=VARIABLES, created=CREATED)
    data, changes = frame, {}
    if change == "frame":
        data = frame.copy()  # equal values, but another object: not known to be the same
    elif change == "label":
        changes["dataset_label"] = "Adverse Event"
    elif change == "created":
        changes["created"] = datetime(2024, 7, 1)
    elif change == "length":
        changes["variables"] = [XptVariable("USUBJID", "Unique Subject Identifier", "Char", 6)] + VARIABLES[1:]
    elif change == "variable label":
        changes["variables"] = [VARIABLES[0], XptVariable("AETERM", "Verbatim Term", "Char", 12), VARIABLES[2]]
    elif change == "format":
        changes["variables"] = VARIABLES[:2] + [XptVariable("AESEQ", "Sequence Number", "Num", None, "8.")]
    target = tmp_path / "m5" / ("ae2.xpt" if change == "name" else "ae.xpt")
    _write(files, data, target, **changes)
    assert not target.samefile(tmp_path / "sdtm" / "ae.xpt")
    expected = dict(dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES, created=CREATED)
    expected.update(changes)
    write_xpt(data, tmp_path / target.name, **expected)
    assert target.read_bytes() == (tmp_path / target.name).read_bytes()


def test_a_file_removed_since_is_written_again(tmp_path, frame):
    files = XptFiles()
    files.write(frame, tmp_path / "sdtm" / "ae.xpt", dataset_name="AE", dataset_label="Adverse Events",
                variables=VARIABLES, created=CREATED)
    (tmp_path / "sdtm" / "ae.xpt").unlink()
    _write(files, frame, tmp_path / "m5" / "ae.xpt")
    assert written_lengths(tmp_path / "m5" / "ae.xpt", 3) == (5, 12, 8)


def test_a_file_read_through_xpt_folder_is_linked_when_writing_it_again_gives_its_bytes(tmp_path, frame):
    from define.written import XptFolder

    ascii_frame = frame.assign(AETERM=["HEADACHE", "NAUSEA"])
    resolved = [XptVariable("USUBJID", "Unique Subject Identifier", "Char", 5)] + VARIABLES[1:]
    arguments = dict(dataset_name="AE", dataset_label="Adverse Events", variables=resolved, created=CREATED)
    write_xpt(ascii_frame, tmp_path / "sdtm" / "ae.xpt", **arguments)
    folder = XptFolder({"AE": tmp_path / "sdtm" / "ae.xpt"})
    assert folder.columns("AE") == ["USUBJID", "AETERM", "AESEQ"]
    files = XptFiles()
    files.place(lambda: folder["AE"], tmp_path / "m5" / "ae.xpt", source=folder, **arguments)
    assert (tmp_path / "m5" / "ae.xpt").samefile(tmp_path / "sdtm" / "ae.xpt")
    # another label: the header would differ, so the file is written from the data read
    files.place(lambda: folder["AE"], tmp_path / "m5b" / "ae.xpt", source=folder,
                **{**arguments, "dataset_label": "Adverse Event"})
    assert not (tmp_path / "m5b" / "ae.xpt").samefile(tmp_path / "sdtm" / "ae.xpt")
    write_xpt(ascii_frame, tmp_path / "ae.xpt", **{**arguments, "dataset_label": "Adverse Event"})
    assert (tmp_path / "m5b" / "ae.xpt").read_bytes() == (tmp_path / "ae.xpt").read_bytes()


def test_a_file_whose_text_is_not_ascii_is_written_again_not_linked(tmp_path, frame):
    from define.written import XptFolder

    resolved = [XptVariable("USUBJID", "Unique Subject Identifier", "Char", 5)] + VARIABLES[1:]
    arguments = dict(dataset_name="AE", dataset_label="Adverse Events", variables=resolved, created=CREATED)
    path = tmp_path / "sdtm" / "ae.xpt"
    write_xpt(frame.assign(AETERM=["HEADACHE", "NAUSEA"]), path, **arguments)
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"HEADACHE") + 1] = 0xC9  # 'HÉADACHE' in cp1252, as a file from elsewhere may hold
    path.write_bytes(bytes(raw))
    folder = XptFolder({"AE": path})
    notes = XptFiles().place(lambda: folder["AE"], tmp_path / "m5" / "ae.xpt", source=folder, **arguments)
    assert not (tmp_path / "m5" / "ae.xpt").samefile(path)
    assert notes == ["AE.AETERM row 1: 'HÉADACHE' -> 'HEADACHE'"]
