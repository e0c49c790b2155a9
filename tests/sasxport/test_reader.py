"""The XPORT reader against pyreadstat and pandas.read_sas: same values, types and metadata, on files
from our writer and from pyreadstat (v5 and v8); special missing values, encodings, edge shapes."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from define.xpt import XptVariable, ibm_bytes, write_xpt
from sasxport import XportError, check_xport, read_xport


def pyreadstat_frame(path, **kwargs):
    return pyreadstat.read_xport(str(path), disable_datetime_conversion=True, **kwargs)


def pandas_frame(path, encoding="utf-8"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_sas(path, format="xport", encoding=encoding)


def assert_same_as_pyreadstat(path, **kwargs):
    ours = read_xport(path, **kwargs)
    theirs, meta = pyreadstat_frame(path, **kwargs)
    pd.testing.assert_frame_equal(ours.data, theirs, check_exact=True)
    assert [v.name for v in ours.variables] == meta.column_names
    assert [v.label for v in ours.variables] == [label or "" for label in meta.column_labels]
    assert {v.name: v.length for v in ours.variables} == meta.variable_storage_width
    assert {v.name: v.format for v in ours.variables} == {
        name: (fmt if fmt is None or "." in fmt else fmt + ".") for name, fmt in meta.original_variable_types.items()}
    assert (ours.name, ours.label) == (meta.table_name, meta.file_label or "")
    return ours


PANDAS_ZERO = 16.0 ** -65  # pandas.read_sas reads the IBM zero (8 zero bytes) as 16**-65, not 0


def assert_same_as_pandas(path, ours, encoding="utf-8"):
    theirs = pandas_frame(path, encoding).replace(PANDAS_ZERO, 0.0)
    assert list(theirs.columns) == list(ours.data.columns) and len(theirs) == len(ours.data)
    for var in ours.variables:  # pandas keeps text as object: values must match one for one
        if var.type == "Num":
            np.testing.assert_array_equal(ours.data[var.name].to_numpy(), theirs[var.name].to_numpy(dtype=float))
        else:
            assert ours.data[var.name].tolist() == theirs[var.name].tolist()


FRAME = pd.DataFrame({
    "STUDYID": ["S1"] * 6,
    "USUBJID": ["S1-001", "S1-002", "S1-003", "", "  lead", "S1-006"],
    "AESEQ": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    "AVAL": [0.1, -1e-5, 123456.789, np.nan, 1e30, -7.25],
    "ASTDT": [23000.0, np.nan, -1.0, 0.0, 21915.0, 1.0],
    "TERM": ["Headache", "x" * 40, "", "Nausea", "  ", "a b"],
})
VARIABLES = [XptVariable("STUDYID", "Study Identifier", "Char"), XptVariable("USUBJID", "Unique Subject Identifier", "Char"),
             XptVariable("AESEQ", "Sequence Number", "Num", format="8."), XptVariable("AVAL", "Analysis Value", "Num", format="8.2"),
             XptVariable("ASTDT", "Analysis Start Date", "Num", format="DATE9."),
             XptVariable("TERM", "Reported Term", "Char", 60, format="$CHAR60.")]


def test_our_writer_reads_back_as_pyreadstat_and_pandas_read_it(tmp_path):
    path = tmp_path / "ae.xpt"
    write_xpt(FRAME, path, dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES)
    ours = assert_same_as_pyreadstat(path)
    assert_same_as_pandas(path, ours)
    assert ours.version == 5 and ours.encoding == "utf-8" and ours.special_missing == {}
    assert ours.data["USUBJID"].tolist() == ["S1-001", "S1-002", "S1-003", "", "  lead", "S1-006"]
    assert ours.data["TERM"].tolist()[2:5] == ["", "Nausea", ""]  # trailing blanks go, leading stay
    assert ours.variables[4].format == "DATE9." and ours.variables[5].length == 60
    assert ours.created == "01JAN00:00:00:00"


@pytest.mark.parametrize("version", [5, 8])
def test_pyreadstat_files_v5_and_v8(tmp_path, version):
    path = tmp_path / "lb.xpt"
    # the last variable numeric: see test_pandas_miscounts_short_records_ending_in_blanks
    frame = FRAME.assign(TERM=["Céphalée", "x" * 60, "", "Nausée", "  ", "a b"])[
        ["STUDYID", "USUBJID", "TERM", "AESEQ", "AVAL", "ASTDT"]]
    labels = {"STUDYID": "Study", "TERM": "A term label that is longer than forty characters, for LABELV8"}
    if version == 5:
        labels["TERM"] = labels["TERM"][:40]
    pyreadstat.write_xport(frame, str(path), file_format_version=version, table_name="LB", file_label="Lab",
                           column_labels=labels, variable_format={"ASTDT": "DATE9.", "AVAL": "8.2"})
    ours = assert_same_as_pyreadstat(path)
    assert ours.version == version
    if version == 5:
        assert_same_as_pandas(path, ours)
        assert ours.data["TERM"].tolist()[0] == "Céphalée"
    else:
        assert ours.variables[2].label == labels["TERM"]


def test_pandas_miscounts_short_records_with_blank_words(tmp_path):
    """Records shorter than 80 bytes: pandas.read_sas counts every 8 blank bytes of the last 80 as
    padding, even inside the last record, and drops it; pyreadstat and we read every record."""
    path = tmp_path / "t.xpt"
    frame = pd.DataFrame({"C": ["x" * 32, "b", "a"], "N": [1.0, 2.0, 3.0]})  # 40-byte records
    pyreadstat.write_xport(frame, str(path), file_format_version=5)
    assert len(read_xport(path).data) == 3 == len(pyreadstat_frame(path)[0])
    assert len(pandas_frame(path)) == 2


def test_v8_long_names(tmp_path):
    path = tmp_path / "long.xpt"
    frame = pd.DataFrame({"A_VERY_LONG_VARIABLE_NAME_OF_32C": [1.0, 2.0], "SHORT": ["a", "b"]})
    pyreadstat.write_xport(frame, str(path), file_format_version=8, table_name="A_LONG_DATASET_NAME")
    ours = assert_same_as_pyreadstat(path)
    assert list(ours.data.columns) == ["A_VERY_LONG_VARIABLE_NAME_OF_32C", "SHORT"]
    assert ours.name == "A_LONG_DATASET_NAME"


def ae_with_special_missing_aval(path, codes: dict[int, bytes]):
    """FRAME written as AE, then AVAL of the given records (0-based) made SAS special missing values
    (.A is b"A"), which no writer here writes; the file's layout."""
    write_xpt(FRAME, path, dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES)
    layout = check_xport(path)
    aval = next(v.position for v in layout.variables if v.name == "AVAL")
    raw = bytearray(path.read_bytes())
    for row, code in codes.items():
        start = layout.data_offset + row * layout.record_length + aval
        raw[start:start + 8] = code + bytes(7)
    path.write_bytes(bytes(raw))
    return layout


def test_special_missing_values_are_nan_and_kept_by_kind(tmp_path):
    path = tmp_path / "ae.xpt"
    ae_with_special_missing_aval(path, {0: b"A", 2: b"_", 5: b"Z"})
    ours = read_xport(path)
    assert np.isnan(ours.data["AVAL"].to_numpy()[[0, 2, 3, 5]]).all()
    assert ours.special_missing["AVAL"].to_dict() == {0: ".A", 2: "._", 5: ".Z"}
    pd.testing.assert_frame_equal(ours.data, pyreadstat_frame(path)[0], check_exact=True)
    assert_same_as_pandas(path, ours)


def test_cp1252_text_is_read_as_cp1252_and_strict_utf8_is_refused(tmp_path):
    path = tmp_path / "ae.xpt"
    write_xpt(FRAME, path, dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES)
    path.write_bytes(path.read_bytes().replace(b"Nausea", b"Naus\xe9e").replace(b"Reported Term", b"Terme signal\xe9"))
    ours = read_xport(path)
    assert ours.encoding == "cp1252" and ours.data.attrs["encoding"] == "cp1252"
    assert ours.data["TERM"].tolist()[3] == "Nausée" and ours.variables[5].label == "Terme signalé"
    assert_same_as_pyreadstat(path, encoding="cp1252")
    with pytest.raises(XportError) as caught:
        read_xport(path, encoding="utf-8")
    assert caught.value.message == ("text that is not utf-8: a label: byte 0xE9 at offset 12 of "
                                    "b'Terme signal\\xe9'")


def test_text_neither_utf8_nor_cp1252(tmp_path):
    path = tmp_path / "ae.xpt"
    write_xpt(FRAME, path, dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES)
    path.write_bytes(path.read_bytes().replace(b"Nausea", b"Naus\x81e"))  # 0x81 is undefined in cp1252
    with pytest.raises(XportError) as caught:
        read_xport(path)
    assert caught.value.message == ("text that is neither utf-8 nor cp1252: variable TERM row 4: byte 0x81 "
                                    "at offset 4 of b'Naus\\x81e'")
    # each encoding fails somewhere else: both places are named
    path.write_bytes(path.read_bytes().replace(b"Reported Term", b"Terme signal\xe9"))
    with pytest.raises(XportError) as caught:
        read_xport(path)
    assert caught.value.message == (
        "text that is neither utf-8 nor cp1252: as utf-8, a label: byte 0xE9 at offset 12 of b'Terme signal\\xe9'; "
        "as cp1252, variable TERM row 4: byte 0x81 at offset 4 of b'Naus\\x81e'")
    with pytest.raises(XportError, match="unknown text encoding 'no-such-codec'"):
        read_xport(path, encoding="no-such-codec")


@pytest.mark.parametrize("version", [5, 8])
def test_empty_dataset(tmp_path, version):
    path = tmp_path / "empty.xpt"
    frame = FRAME.iloc[:0]
    if version == 5:
        write_xpt(frame, path, dataset_name="AE", dataset_label="No records", variables=VARIABLES)
    else:
        pyreadstat.write_xport(frame, str(path), file_format_version=8, table_name="AE")
    ours = read_xport(path)
    assert ours.data.shape == (0, 6)
    assert list(ours.data.dtypes == "float64") == [False, False, True, True, True, False]
    pd.testing.assert_frame_equal(ours.data, pyreadstat_frame(path)[0], check_exact=True, check_index_type=False)


def test_no_variables(tmp_path):
    path = tmp_path / "none.xpt"
    write_xpt(pd.DataFrame(index=range(3)), path, dataset_name="NONE", dataset_label="", variables=[])
    ours = read_xport(path)
    assert ours.data.shape == (0, 0) and ours.variables == []
    path.write_bytes(path.read_bytes() + b"x" + b" " * 79)
    with pytest.raises(XportError, match="no variables, but 80 bytes of data after the OBS header"):
        read_xport(path)


def test_shortened_numbers(tmp_path):
    """A numeric variable stored in 4 bytes (SAS LENGTH 4) keeps the leading bytes of the IBM float."""
    path = tmp_path / "short.xpt"
    frame = pd.DataFrame({"N": [1.0, -118.625, np.nan, 3.0], "C": ["a", "b", "c", "d"]})
    write_xpt(frame, path, dataset_name="T", dataset_label="", variables=[
        XptVariable("N", "n", "Num"), XptVariable("C", "c", "Char")])
    raw = bytearray(path.read_bytes())
    start = 8 * 80  # the first NAMESTR
    raw[start + 4:start + 6] = (4).to_bytes(2, "big")  # N: length 4
    raw[start + 140 + 84:start + 140 + 88] = (4).to_bytes(4, "big")  # C: at byte 4 of the record
    data = check_xport(path).data_offset
    old = [bytes(raw[data + i * 9:data + i * 9 + 9]) for i in range(4)]  # N (8 bytes) then C (1 byte)
    body = b"".join(record[:4] + record[8:] for record in old)
    raw = bytes(raw[:data]) + body + b" " * (80 - len(body))
    path.write_bytes(raw)
    ours = read_xport(path)
    np.testing.assert_array_equal(ours.data["N"].to_numpy(), [1.0, -118.625, np.nan, 3.0])
    assert ours.variables[0].length == 4 and ours.data["C"].tolist() == ["a", "b", "c", "d"]
    assert_same_as_pandas(path, ours)


def test_random_ibm_numbers_read_as_pyreadstat_and_pandas_read_them(tmp_path):
    """Random normalized IBM floats with all 56 fraction bits set at random: the lowest bits are
    truncated exactly as SAS's TS-140 conversion (and ReadStat) does."""
    rng = np.random.default_rng(7)
    n = 2000
    fraction = rng.integers(1 << 52, 1 << 56, n, dtype=np.uint64)
    exponent = rng.integers(1, 127, n, dtype=np.uint64)
    sign = rng.integers(0, 2, n, dtype=np.uint64)
    words = (sign << np.uint64(63)) | (exponent << np.uint64(56)) | fraction
    path = tmp_path / "r.xpt"
    write_xpt(pd.DataFrame({"X": np.zeros(n)}), path, dataset_name="R", dataset_label="",
              variables=[XptVariable("X", "x", "Num")])
    raw = path.read_bytes()
    data = raw.index(b"OBS     HEADER RECORD") + 60
    body = words.astype(">u8").tobytes()
    path.write_bytes(raw[:data] + body + b" " * (-len(body) % 80))
    ours = read_xport(path)
    np.testing.assert_array_equal(ours.data["X"].to_numpy(), pyreadstat_frame(path)[0]["X"].to_numpy())
    np.testing.assert_array_equal(ours.data["X"].to_numpy(), pandas_frame(path)["X"].to_numpy())


def test_missing_file(tmp_path):
    with pytest.raises(XportError, match="file not found"):
        read_xport(tmp_path / "nope.xpt")


def test_a_hash_collision_never_merges_two_values(tmp_path, monkeypatch):
    import sasxport.reader as reader

    monkeypatch.setattr(reader, "_MIX", np.uint64(0))  # the hash keeps only the last 8 bytes: collisions
    monkeypatch.setattr(reader, "ARROW_TEXT", False)  # ASCII text would not be hashed at all
    path = tmp_path / "c.xpt"
    values = ["AAAAAAAA-same-tail", "BBBBBBBB-same-tail", "AAAAAAAA-same-tail", "CCCCCCCC-other"]
    write_xpt(pd.DataFrame({"C": values}), path, dataset_name="C", dataset_label="",
              variables=[XptVariable("C", "c", "Char")])
    assert read_xport(path).data["C"].tolist() == values


@pytest.mark.parametrize("version", [5, 8])
def test_ascii_text_built_by_pyarrow_is_the_per_value_path_text(tmp_path, monkeypatch, version):
    """ASCII columns become pyarrow strings straight from the record bytes (trailing blanks and NULs
    trimmed); the per-distinct-value path gives the very same frame."""
    import sasxport.reader as reader

    path = tmp_path / "ae.xpt"
    if version == 5:
        write_xpt(FRAME, path, dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES)
    else:
        pyreadstat.write_xport(FRAME, str(path), file_format_version=8, table_name="AE")
    # NUL bytes inside a value and among its trailing blanks
    path.write_bytes(path.read_bytes().replace(b"Headache", b"Head\x00 \x00 ").replace(b"Nausea", b"Na\x00sea"))
    direct = read_xport(path).data
    assert direct["TERM"].tolist() == ["Head", "x" * 40, "", "Na\x00sea", "", "a b"]
    monkeypatch.setattr(reader, "ARROW_TEXT", False)
    pd.testing.assert_frame_equal(direct, read_xport(path).data, check_exact=True)


def test_only_encodings_that_extend_ascii_read_ascii_text_directly():
    from sasxport.reader import _extends_ascii

    assert all(_extends_ascii(codec) for codec in ["utf-8", "cp1252", "latin-1", "ascii"])
    assert not any(_extends_ascii(codec) for codec in ["utf-16", "cp500", "no-such-codec"])


def test_records_read_in_blocks_give_the_frame_read_at_once(tmp_path, monkeypatch):
    """The reader decodes a few records at a time (bounded memory): a block boundary anywhere (inside a
    run of special missing values, before the one non-ASCII value of a column) changes nothing."""
    import sasxport.reader as reader

    frame = pd.concat([FRAME] * 5, ignore_index=True).assign(AESEQ=np.arange(1.0, 31.0))
    path = tmp_path / "ae.xpt"
    write_xpt(frame, path, dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES)
    layout = check_xport(path)
    aval = next(v.position for v in layout.variables if v.name == "AVAL")
    raw = bytearray(path.read_bytes())
    for row, code in ((1, b"A"), (13, b"_"), (29, b"Z")):
        start = layout.data_offset + row * layout.record_length + aval
        raw[start:start + 8] = code + bytes(7)
    last = layout.data_offset + 27 * layout.record_length  # 'Nausea' of record 28 only
    at = raw.index(b"Nausea", last)
    raw[at:at + 6] = "Nausée".encode("utf-8")[:6]
    path.write_bytes(bytes(raw))
    whole = read_xport(path)
    monkeypatch.setattr(reader, "BLOCK_BYTES", 4 * layout.record_length)  # 8 blocks of 4 records
    blocks = read_xport(path)
    assert blocks.data["TERM"].tolist()[27] == "Nausé" and whole.encoding == blocks.encoding == "utf-8"
    pd.testing.assert_frame_equal(blocks.data, whole.data, check_exact=True)
    assert blocks.special_missing["AVAL"].to_dict() == whole.special_missing["AVAL"].to_dict() == {
        1: ".A", 13: "._", 29: ".Z"}
    pd.testing.assert_frame_equal(blocks.data, pyreadstat_frame(path)[0], check_exact=True)


def test_chosen_columns_only(tmp_path):
    path = tmp_path / "ae.xpt"
    write_xpt(FRAME, path, dataset_name="AE", dataset_label="Adverse Events", variables=VARIABLES)
    some = read_xport(path, columns=["TERM", "AESEQ"])
    assert [v.name for v in some.variables] == list(some.data.columns) == ["AESEQ", "TERM"]
    pd.testing.assert_frame_equal(some.data, read_xport(path).data[["AESEQ", "TERM"]], check_exact=True)
    assert some.variables[1].label == "Reported Term"


def test_a_range_of_records_reads_as_those_rows_of_the_whole_file(tmp_path):
    path = tmp_path / "ae.xpt"
    layout = ae_with_special_missing_aval(path, {5: b"Z"})  # .Z on the 6th record
    whole = read_xport(path).data
    for first, last in ((0, 0), (0, 2), (2, 6), (5, len(whole)), (0, len(whole))):
        part = read_xport(path, rows=(first, last), layout=layout)
        expected = whole.iloc[first:last].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.data, expected, check_dtype=last > first)
        assert part.special_missing.get("AVAL", pd.Series(dtype=object)).to_dict() == (
            {5 - first: ".Z"} if first <= 5 < last else {})
    assert read_xport(path, rows=(1, 3), columns=["AVAL"]).data["AVAL"].tolist() == whole["AVAL"].iloc[1:3].tolist()
    with pytest.raises(ValueError):
        read_xport(path, rows=(3, len(whole) + 1))
