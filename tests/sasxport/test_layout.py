"""Structure checks: damaged and truncated XPORT files are refused with one message that says what is
wrong, what was expected and what was found; byte-level cases made by hand from a file of known layout."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from define.xpt import XptVariable, write_xpt
from sasxport import XportError, check_xport, read_xport

# Record length 2 + 8 + 12 = 22 bytes; 5 records = 110 bytes, padded to 160 (2 records of 80).
FRAME = pd.DataFrame({"ID": ["01", "02", "03", "04", "05"], "VAL": [1.0, 2.5, np.nan, -4.0, 5.0],
                      "TERM": ["Headache", "Nausea", "", "Rash", "Fever"]})
VARIABLES = [XptVariable("ID", "Identifier", "Char"), XptVariable("VAL", "Value", "Num"),
             XptVariable("TERM", "Term", "Char", 12)]
HEADER_BYTES = 8 * 80 + 6 * 80 + 80  # 8 header records, 3 NAMESTRs of 140 bytes padded to 480, OBS header


@pytest.fixture()
def good(tmp_path):
    path = tmp_path / "ae.xpt"
    write_xpt(FRAME, path, dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES)
    return path, path.read_bytes()


def damaged(tmp_path, data: bytes):
    path = tmp_path / "bad.xpt"
    path.write_bytes(data)
    with pytest.raises(XportError) as caught:
        read_xport(path)
    assert caught.value.path == str(path)
    return caught.value.message


def test_the_good_file_has_the_layout_the_cases_assume(good):
    path, raw = good
    layout = check_xport(path)
    assert (layout.version, layout.record_length, layout.observations) == (5, 22, 5)
    assert layout.data_offset == HEADER_BYTES == 1200
    assert len(raw) == HEADER_BYTES + 160
    assert [(v.name, v.type, v.length, v.position) for v in layout.variables] == [
        ("ID", "Char", 2, 0), ("VAL", "Num", 8, 2), ("TERM", "Char", 12, 10)]


@pytest.mark.parametrize("size,message", [
    (1359, "truncated or damaged SAS XPORT file: 1,359 bytes is not a multiple of 80 (an XPORT file is made "
           "of 80-byte records); the data section (159 bytes from byte 1,200) holds 7 whole records of 22 bytes "
           "and 5 bytes of a partial record"),
    (1250, "truncated or damaged SAS XPORT file: 1,250 bytes is not a multiple of 80 (an XPORT file is made "
           "of 80-byte records); the data section (50 bytes from byte 1,200) holds 2 whole records of 22 bytes "
           "and 6 bytes of a partial record"),
    (1280, "truncated SAS XPORT file: the data section (80 bytes from byte 1,200) ends in a partial record: "
           "expected 4 records of 22 bytes (88 bytes) padded with blanks to a multiple of 80, found 3 whole "
           "records of 22 bytes and 14 bytes of a partial record"),
    (1150, "truncated SAS XPORT file: it ends at byte 1,150, inside the OBS header record (record 15, bytes "
           "1,120-1,199); expected at least 1,200 bytes"),
    (700, "truncated SAS XPORT file: the NAMESTR header declares 3 variables (420 bytes of NAMESTR records "
          "from byte 640), but the file has 700 bytes"),
    (300, "truncated SAS XPORT file: it ends at byte 300, inside the MEMBER header record (record 4, bytes "
          "240-319); expected at least 320 bytes"),
    (40, "truncated SAS XPORT file: it ends at byte 40, inside the LIBRARY header record (record 1, bytes 0-79); "
         "expected at least 80 bytes"),
])
def test_truncated_files_say_where_they_end(tmp_path, good, size, message):
    _, raw = good
    assert damaged(tmp_path, raw[:size]) == message


def test_truncation_at_a_record_boundary_that_is_a_multiple_of_80_cannot_be_seen_in_v5(tmp_path):
    """40 records of 22 bytes = 880 bytes = 11 * 80: cut there, a 41-record file reads as 40 records.
    Only a checksum beside the file (manifest.json) tells; v8 states the count (see below)."""
    frame = pd.DataFrame({"ID": [f"{i:02d}" for i in range(41)], "VAL": np.arange(41.0), "TERM": "x"})
    path = tmp_path / "ae.xpt"
    write_xpt(frame, path, dataset_name="AE", dataset_label="", variables=VARIABLES)
    path.write_bytes(path.read_bytes()[:HEADER_BYTES + 880])
    assert len(read_xport(path).data) == 40


def test_file_that_is_not_xport(tmp_path):
    assert damaged(tmp_path, b"ID,VAL\n01,1\n" * 10) == (
        "not a SAS XPORT file: the first record should be the library header "
        "'HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!', found 'ID,VAL\\x0a01,1\\x0aID,VAL\\x0a01,1\\x0aID,VAL\\x0a01,1"
        "\\x0aID,VAL\\x0a01,1\\x0a...'")
    assert damaged(tmp_path, b"") == "empty file (0 bytes): not a SAS XPORT file"


def test_corrupted_headers(tmp_path, good):
    _, raw = good
    bad = raw.replace(b"MEMBER  HEADER", b"MEMBRE  HEADER")
    assert damaged(tmp_path, bad) == (
        "damaged SAS XPORT file: record 4 (byte 240) should be the MEMBER header record "
        "'HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!', found 'HEADER RECORD*******MEMBRE  HEADER RECORD!!!!!!!'")
    bad = raw[:80] + b"XAS" + raw[83:]
    assert damaged(tmp_path, bad) == ("damaged SAS XPORT file: record 2 (byte 80) should start with "
                                      "'SAS     SAS     SASLIB  ', found 'XAS     SAS     SASLIB  '")
    bad = raw.replace(b"OBS     HEADER", b"OBX     HEADER")
    assert damaged(tmp_path, bad).startswith("damaged SAS XPORT file: record 15 (byte 1,120) should be the OBS header record "
                                             "'HEADER RECORD*******OBS     HEADER RECORD!!!!!!!', found "
                                             "'HEADER RECORD*******OBX     HEADER RECORD!!!!!!!'")
    bad = raw[:400] + b"SAS     AE      SASDAX" + raw[422:]
    assert damaged(tmp_path, bad).startswith("damaged SAS XPORT file: record 6 (byte 400) should be the member record")


@pytest.mark.parametrize("count,message", [
    (b"0004", "damaged SAS XPORT file: NAMESTR 4 of 4 (byte 1,060): type 8224, expected 1 (numeric) or 2 "
              "(character); is the variable count in the NAMESTR header right?"),
    (b"0002", "damaged SAS XPORT file: record 13 (byte 960) should be the OBS header record"),
    (b"00x3", "damaged SAS XPORT file: record 8 (byte 560): the variable count '00000000x3' is not a number"),
])
def test_wrong_variable_count(tmp_path, good, count, message):
    _, raw = good
    header = raw.index(b"NAMESTR HEADER RECORD!!!!!!!") + 28
    bad = raw[:header + 6] + count + raw[header + 10:]
    assert damaged(tmp_path, bad).startswith(message)


def test_inconsistent_namestr_fields(tmp_path, good):
    _, raw = good
    start = 8 * 80
    val = start + 140  # the second NAMESTR (VAL)
    bad = raw[:val + 84] + (99).to_bytes(4, "big") + raw[val + 88:]
    assert damaged(tmp_path, bad) == ("damaged SAS XPORT file: NAMESTR 2 of 3 (byte 780): variable VAL starts at "
                                      "byte 99 of the record, expected 2 (right after the variables before it)")
    bad = raw[:val + 4] + (12).to_bytes(2, "big") + raw[val + 6:]
    assert damaged(tmp_path, bad) == ("damaged SAS XPORT file: NAMESTR 2 of 3 (byte 780): numeric variable VAL "
                                      "has length 12, expected 2 to 8")
    bad = raw[:start + 8] + b"VAL     " + raw[start + 16:]
    assert damaged(tmp_path, bad) == ("damaged SAS XPORT file: variable name(s) VAL appear more than once in "
                                      "the NAMESTR records")


def test_data_that_is_not_padding_after_the_last_record(tmp_path, good):
    _, raw = good
    bad = raw[:-1] + b"Z"  # the padding after record 5 must be blank
    assert damaged(tmp_path, bad) == (
        "truncated SAS XPORT file: the data section (160 bytes from byte 1,200) ends in a partial record: "
        "expected 8 records of 22 bytes (176 bytes) padded with blanks to a multiple of 80, found 7 whole "
        "records of 22 bytes and 6 bytes of a partial record")


def test_second_member_is_refused(tmp_path, good):
    _, raw = good
    assert damaged(tmp_path, raw + raw[240:HEADER_BYTES] + raw[HEADER_BYTES:]) == (
        "this SAS XPORT file holds more than one dataset (another member header at byte 1,360); "
        "expected one dataset per file")


def v8_file(tmp_path, rows: int = 5):
    path = tmp_path / "v8.xpt"
    frame = pd.DataFrame({"LONGVARIABLENAME": np.arange(float(rows)), "TEXT": ["abc"] * rows})
    pyreadstat.write_xport(frame, str(path), file_format_version=8, table_name="LONGTABLE",
                           column_labels={"TEXT": "A label longer than forty characters, so in LABELV8"})
    return path, path.read_bytes()


def test_v8_observation_count_is_checked(tmp_path):
    path, raw = v8_file(tmp_path, rows=40)  # 11 bytes a record: 440 bytes, padded to 480
    assert check_xport(path).declared_observations == 40
    data = raw.index(b"OBSV8   HEADER RECORD!!!!!!!") + 60
    assert damaged(tmp_path, raw[:data + 400]) == (
        "truncated SAS XPORT file: the OBSV8 header declares 40 observations of 11 bytes (440 bytes), the data "
        "section (400 bytes from byte 1,200) holds 36 whole records of 11 bytes and 4 bytes of a partial record")
    bad = raw.replace(b"             40", b"             39")
    assert damaged(tmp_path, bad).startswith("damaged SAS XPORT file: the OBSV8 header declares 39 observations of "
                                             "11 bytes (429 bytes padded to a multiple of 80)")


def test_v8_label_section_cut(tmp_path):
    path, raw = v8_file(tmp_path)
    labels = raw.index(b"LABELV8 HEADER RECORD!!!!!!!") + 60
    message = damaged(tmp_path, raw[:labels + 3])
    assert message == "truncated SAS XPORT file: the LABELV8 section ends at byte 1,043 in entry 1 of 1"
    bad = raw[:labels] + (7).to_bytes(2, "big") + raw[labels + 2:]
    assert damaged(tmp_path, bad) == ("damaged SAS XPORT file: LABELV8 entry 1 (byte 1,040) names variable 7, "
                                      "expected 1 to 2")
