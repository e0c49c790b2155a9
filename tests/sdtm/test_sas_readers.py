"""SAS raw files (sdtm.sas_readers): XPORT and SAS7BDAT files as text, whole or a range of records at a time."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from define.xpt import XptVariable, ibm_bytes, write_xpt
from sdtm.readers import read_source
from sdtm.sas_readers import read_xpt_source
from specs.errors import RawDataError


def write_lab_xpt(path):
    frame = pd.DataFrame({"USUBJID": ["01-001", "01-002", "01-003"], "AETERM": ["Cafe  ", "", "x"],
                          "LBORRES": [12.0, 0.5, np.nan], "LBDT": [23000.0, np.nan, 0.0]})
    write_xpt(frame, path, dataset_name="LAB", dataset_label="Lab", variables=[
        XptVariable("USUBJID", "Subject", "Char"), XptVariable("AETERM", "Term", "Char"),
        XptVariable("LBORRES", "Result", "Num"), XptVariable("LBDT", "Date", "Num", format="DATE9.")])


def test_xpt_source_is_text(tmp_path):
    write_lab_xpt(tmp_path / "lab.xpt")
    frame = read_source(tmp_path / "lab.xpt")
    assert frame.to_dict("list") == {
        "USUBJID": ["01-001", "01-002", "01-003"], "AETERM": ["Cafe", "", "x"],
        "LBORRES": ["12", "0.5", ""], "LBDT": ["2022-12-21", "", "1960-01-01"]}
    assert frame.attrs["encoding"] == "utf-8"


def test_xpt_source_falls_back_to_cp1252(tmp_path, caplog):
    path = tmp_path / "lab.xpt"
    write_lab_xpt(path)
    path.write_bytes(path.read_bytes().replace(b"Cafe", b"Caf\xe9"))  # as a cp1252 SAS session writes it
    with caplog.at_level(logging.WARNING, logger="sdtm.sas_readers"):
        frame = read_xpt_source(path)
    assert frame["AETERM"].tolist() == ["Café", "", "x"]
    assert frame.attrs["encoding"] == "cp1252"
    assert f"{path}: text is not utf-8, read as cp1252" in caplog.text
    with pytest.raises(RawDataError, match=r"lab.xpt: text that is not utf-8: variable AETERM row 1: "
                                           r"byte 0xE9 at offset 3 of b'Caf\\xe9'"):
        read_xpt_source(path, encoding="utf-8")  # strict: no silent cut at the cp1252 byte
    assert read_xpt_source(path, encoding="cp1252")["AETERM"].tolist() == ["Café", "", "x"]


def test_truncated_xpt_source_is_refused(tmp_path):
    path = tmp_path / "lab.xpt"
    write_lab_xpt(path)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(RawDataError) as caught:
        read_xpt_source(path)
    assert str(caught.value) == (
        f"1 raw data error:\n  {path}: truncated or damaged SAS XPORT file: 1,410 bytes is not a multiple of 80 "
        f"(an XPORT file is made of 80-byte records); the data section (130 bytes from byte 1,280) holds 4 whole "
        f"records of 28 bytes and 18 bytes of a partial record")


def test_xpt_source_v8_and_special_missing_values(tmp_path):
    import pyreadstat

    path = tmp_path / "vendor.xpt"
    frame = pd.DataFrame({"SubjectNumber": ["01-001", "01-002", "01-003"], "Result": [1.5, 99.0, np.nan],
                          "CollectionDateTime": [1_900_000_000.0, np.nan, 0.5], "CollectionTime": [3600.0, 0.0, 59.0]})
    pyreadstat.write_xport(frame, str(path), file_format_version=8, table_name="VENDOR",
                           variable_format={"CollectionDateTime": "E8601DT19.", "CollectionTime": "TIME8."})
    raw = path.read_bytes()
    special = raw.index(ibm_bytes(99.0))
    path.write_bytes(raw[:special] + b"A" + bytes(7) + raw[special + 8:])  # Result of 01-002 is .A
    assert read_xpt_source(path).to_dict("list") == {
        "SubjectNumber": ["01-001", "01-002", "01-003"], "Result": ["1.5", ".A", ""],
        "CollectionDateTime": ["2020-03-16T17:46:40", "", "1960-01-01T00:00:00.500000"],
        "CollectionTime": ["01:00:00", "00:00:00", "00:00:59"]}


def test_garbage_xpt_is_a_raw_data_error(tmp_path):
    (tmp_path / "x.xpt").write_bytes(b"not an xport file" * 10)
    with pytest.raises(RawDataError, match=r"x.xpt: not a SAS XPORT file: the first record should be the "
                                           r"library header 'HEADER RECORD\*+LIBRARY HEADER RECORD!+', "
                                           r"found 'not an xport file"):
        read_xpt_source(tmp_path / "x.xpt")


# A real SAS7BDAT file (64-bit, little-endian, 4 pages of 4,096 bytes, 300 rows): pyreadstat cannot
# write SAS7BDAT and no package ships one, so it was made with ReadStat 1.1.8 (Debian's readstat) from a
# pyreadstat-written .sav: `readstat lab.sav lab.sas7bdat`.
SAS7BDAT = Path(__file__).parent / "data" / "lab.sas7bdat"


def test_sas7bdat_real_file():
    frame = read_source(SAS7BDAT)
    assert frame.shape == (300, 4) and frame.attrs["encoding"] == "UTF-8"
    assert frame.iloc[:6].to_dict("list") == {
        "SUBJID": ["01-000", "01-001", "01-002", "01-003", "01-004", "01-005"],
        "VISIT": ["SCREENING", "WEEK 4", "SCREENING", "WEEK 4", "SCREENING", "Visite prévue"],
        "LBORRES": ["0.00", "2.33", "4.67", "7.00", "9.33", "11.67"],
        "LBVAL": ["0", "0.25", "0.5", "", "1", "1.25"]}


@pytest.mark.parametrize("size", [24476, 20480, 12000, 8192, 300])
def test_truncated_sas7bdat_says_what_is_missing(tmp_path, size):
    path = tmp_path / "lab.sas7bdat"
    path.write_bytes(SAS7BDAT.read_bytes()[:size])
    if size < 216:
        message = f"lab.sas7bdat: not a SAS7BDAT file (no SAS7BDAT header in its first {size} of {size} bytes)"
    else:
        message = (f"lab.sas7bdat: truncated SAS7BDAT file: the header declares 8,192 bytes of header and 4 pages "
                   f"of 4,096 bytes (24,576 bytes), found {size:,} bytes")
    with pytest.raises(RawDataError, match=re.escape(message)):
        read_source(path)


def test_sas7bdat_rows_read_against_the_declared_count(tmp_path, monkeypatch):
    import pyreadstat

    real = pyreadstat.read_sas7bdat

    def short_read(path, encoding=None):  # as a reader that stops early would do
        frame, meta = real(path, encoding=encoding)
        return frame.iloc[:250], meta

    monkeypatch.setattr(pyreadstat, "read_sas7bdat", short_read)
    with pytest.raises(RawDataError, match=r"lab.sas7bdat: damaged SAS7BDAT file: the header declares 300 rows, "
                                           r"250 were read"):
        read_source(SAS7BDAT)


def test_sas7bdat_source_conversion_and_fallback(tmp_path, monkeypatch):
    import datetime as dt

    import pyreadstat

    calls = []

    def fake_read(path, encoding=None):
        calls.append(encoding)
        if encoding is None:
            raise pyreadstat.ReadstatError("Unable to convert string to the requested encoding")
        return pd.DataFrame({"A": [" x ", None], "N": [12.0, np.nan], "D": [dt.date(2023, 6, 1), None]}), None

    monkeypatch.setattr(pyreadstat, "read_sas7bdat", fake_read)
    path = tmp_path / "raw.sas7bdat"
    path.write_bytes(SAS7BDAT.read_bytes())  # a real header, so that the size check passes
    frame = read_source(path)
    assert calls == [None, "cp1252"]
    assert frame.to_dict("list") == {"A": ["x", ""], "N": ["12", ""], "D": ["2023-06-01", ""]}
    assert frame.attrs["encoding"] == "cp1252"


# ------------------------------------------------------------------------- SAS files a range of records at a time
def test_xpt_source_read_in_batches_gives_the_frame_of_the_whole(tmp_path):
    from sdtm.readers import stream_source

    path = tmp_path / "vendor.xpt"
    frame = pd.DataFrame({"SUBJ": ["01", " 02", "03", "04", "05"], "Result": [1.5, 99.0, np.nan, 12.0, 0.25],
                          "DT": [1_900_000_000.0, np.nan, 0.5, 3600.0, 60.0]})
    import pyreadstat

    pyreadstat.write_xport(frame, str(path), file_format_version=8, table_name="VENDOR",
                           variable_format={"DT": "E8601DT19."})
    raw = path.read_bytes()
    special = raw.index(ibm_bytes(99.0))
    path.write_bytes(raw[:special] + b"A" + bytes(7) + raw[special + 8:])  # Result of 02 (batch 1, row 2) is .A
    parts = list(stream_source(path, None, 2))
    assert [len(p) for p in parts] == [2, 2, 1] and list(parts[1].index) == [0, 1]
    joined = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(joined, read_xpt_source(path))
    assert joined.to_dict("list") == {"SUBJ": ["01", "02", "03", "04", "05"], "Result": ["1.5", ".A", "", "12", "0.25"],
                                      "DT": ["2020-03-16T17:46:40", "", "1960-01-01T00:00:00.500000",
                                             "1960-01-01T01:00:00", "1960-01-01T00:01:00"]}
    # a dataset without records: one frame without records
    empty = tmp_path / "empty.xpt"
    pyreadstat.write_xport(frame.iloc[:0], str(empty), file_format_version=8, table_name="EMPTY")
    assert [p.to_dict("list") for p in stream_source(empty, None, 2)] == [{"SUBJ": [], "Result": [], "DT": []}]


def test_xpt_batches_leave_what_they_cannot_take_to_the_whole_reader(tmp_path, caplog):
    from sdtm.readers import NotStreamed, stream_source

    path = tmp_path / "lab.xpt"
    write_lab_xpt(path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-30])  # truncated: before any record (read_xpt_source says what is wrong)
    with pytest.raises(NotStreamed, match="truncated or damaged SAS XPORT file") as caught:
        next(stream_source(path, None, 2))
    assert caught.value.encoding is None
    # cp1252 text in the second batch: the first was read as UTF-8, the whole reader's fallback is named
    path.write_bytes(whole.replace(b"x" + b" " * 5, b"\xe9" + b" " * 5))
    parts = stream_source(path, None, 2)
    assert next(parts)["AETERM"].tolist() == ["Cafe", ""]
    with pytest.raises(NotStreamed, match=r"text that is not utf-8: variable AETERM row 1: byte 0xE9") as caught:
        next(parts)
    assert caught.value.encoding == "cp1252"
    with caplog.at_level(logging.WARNING, logger="sdtm.sas_readers"):
        assert pd.concat(stream_source(path, "cp1252", 2), ignore_index=True)["AETERM"].tolist() == ["Cafe", "", "é"]
    assert f"{path}: text is not utf-8, read as cp1252" in caplog.text
    with pytest.raises(NotStreamed) as caught:  # a named encoding is not changed
        list(stream_source(path, "utf-8", 2))
    assert caught.value.encoding is None


def test_sas7bdat_read_in_batches_gives_the_frame_of_the_whole(tmp_path):
    from sdtm.readers import stream_source

    parts = list(stream_source(SAS7BDAT, None, 7))  # 300 records: 42 of 7 and one of 6
    assert [len(p) for p in parts] == [7] * 42 + [6] and parts[-1].attrs["encoding"] == "UTF-8"
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), read_source(SAS7BDAT))
    assert [len(p) for p in stream_source(SAS7BDAT, None, 100)] == [100, 100, 100]  # the last, empty range not yielded
    path = tmp_path / "lab.sas7bdat"
    path.write_bytes(SAS7BDAT.read_bytes()[:20480])
    with pytest.raises(RawDataError, match=re.escape(
            "lab.sas7bdat: truncated SAS7BDAT file: the header declares 8,192 bytes of header and 4 pages of 4,096 "
            "bytes (24,576 bytes), found 20,480 bytes")):
        next(stream_source(path, None, 7))  # before any record


def test_sas7bdat_batches_count_the_records_against_the_declared_rows(monkeypatch):
    import pyreadstat

    from sdtm.readers import NotStreamed, stream_source

    real = pyreadstat.read_sas7bdat

    def short_read(path, encoding=None, metadataonly=False, row_offset=0, row_limit=0):  # stops at record 250
        frame, meta = real(path, encoding=encoding, metadataonly=metadataonly, row_offset=row_offset,
                           row_limit=row_limit)
        return frame.iloc[:max(0, 250 - row_offset)], meta

    monkeypatch.setattr(pyreadstat, "read_sas7bdat", short_read)
    parts = stream_source(SAS7BDAT, None, 100)
    assert [len(next(parts)) for _ in range(3)] == [100, 100, 50]
    with pytest.raises(RawDataError, match=r"lab.sas7bdat: damaged SAS7BDAT file: the header declares 300 rows, "
                                           r"250 were read"):
        next(parts)

    def refused(path, encoding=None, metadataonly=False, row_offset=0, row_limit=0):
        if row_offset >= 200:
            raise pyreadstat.ReadstatError("Unable to convert string to the requested encoding")
        return real(path, encoding=encoding, metadataonly=metadataonly, row_offset=row_offset, row_limit=row_limit)

    monkeypatch.setattr(pyreadstat, "read_sas7bdat", refused)
    parts = stream_source(SAS7BDAT, None, 100)
    assert [len(next(parts)) for _ in range(2)] == [100, 100]
    with pytest.raises(NotStreamed, match="Unable to convert string"):  # the whole reader tries cp1252
        next(parts)
