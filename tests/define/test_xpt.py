"""SAS XPORT v5 writer: IBM floats, layout, lengths, transliteration, errors, and pyreadstat reading it back."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from define.transliterate import to_ascii
from define.xpt import (XptVariable, ibm_bytes, ibm_to_ieee, ieee_to_ibm, parse_format, read_xpt,
                        write_xpt)
from specs.errors import DataError

HAND_PICKED = [0.0, 1.0, -1.0, 0.1, 1e-5, 123456.789, 1e30, np.nan]


def test_ibm_bytes_of_hand_worked_values():
    assert ibm_bytes(1.0) == bytes.fromhex("4110000000000000")
    assert ibm_bytes(-118.625) == bytes.fromhex("C276A00000000000")
    assert ibm_bytes(0.0) == bytes(8)
    assert ibm_bytes(-0.0) == bytes(8)
    assert ibm_bytes(np.nan) == b"." + bytes(7)
    assert ibm_bytes(0.5) == bytes.fromhex("4080000000000000")  # 0.5 = 0x0.8 * 16**0
    assert ibm_bytes(16.0) == bytes.fromhex("4210000000000000")


def test_ibm_round_trip_is_exact():
    values = np.array(HAND_PICKED + [-2.5, np.pi, 7e75, 1e-78, 2.0**-200])
    back = ibm_to_ieee(ieee_to_ibm(values))
    np.testing.assert_array_equal(back, values)  # NaN compares equal in assert_array_equal


def test_ibm_underflow_flushes_to_zero_and_overflow_is_refused():
    assert ibm_bytes(1e-300) == bytes(8)
    assert ibm_bytes(5e-324) == ibm_bytes(-5e-324) == bytes(8)  # IEEE subnormals
    assert ibm_bytes(2.0**-256) == bytes.fromhex("0110000000000000")  # 16**-64 = 0x0.1 * 16**-63
    # below 16**-64: denormalized, the exponent byte 0 and the fraction shifted a hex digit at a time
    assert ibm_bytes(2.0**-260) == bytes.fromhex("0010000000000000")
    assert ibm_bytes(-(2.0**-260)) == bytes.fromhex("8010000000000000")
    assert ibm_bytes(2.0**-312) == bytes.fromhex("0000000000000001")  # the last hex digit
    assert ibm_bytes(2.0**-313) == bytes(8)
    assert ibm_bytes(16.0**63 * (1 - 2.0**-53)) == bytes.fromhex("7FFFFFFFFFFFFFF8")  # the largest double that fits
    with pytest.raises(ValueError):
        ieee_to_ibm(np.array([1e76]))
    with pytest.raises(ValueError):
        ieee_to_ibm(np.array([np.inf]))


def test_parse_format():
    assert parse_format("DATE9.") == ("DATE", 9, 0)
    assert parse_format("8.2") == ("", 8, 2)
    assert parse_format("$CHAR20.") == ("$CHAR", 20, 0)
    assert parse_format("E8601DA10.") == ("E8601DA", 10, 0)
    assert parse_format("BEST.") == ("BEST", 0, 0)
    assert parse_format(None) == ("", 0, 0)
    with pytest.raises(ValueError):
        parse_format("DATE9")


AE = pd.DataFrame({
    "STUDYID": ["S1", "S1", "S1"],
    "AESEQ": [1, 2, 3],
    "AETERM": ["Headache", "", "Céphalées"],
    "ASTDT": [23000.0, np.nan, -1.0],
    "AVAL": HAND_PICKED[:3],
})
AE_VARS = [
    XptVariable("STUDYID", "Study Identifier", "Char"),
    XptVariable("AETERM", "Reported Term for the Adverse Event", "Char", 20),
    XptVariable("AESEQ", "Sequence Number", "Num"),
    XptVariable("ASTDT", "Analysis Start Date", "Num", format="DATE9."),
    XptVariable("AVAL", "Analysis Value", "Num", format="8.2"),
]


def write_ae(tmp_path, name="ae.xpt", **kwargs):
    return write_xpt(AE, tmp_path / name, dataset_name="AE", dataset_label="Adverse Events",
                     variables=AE_VARS, **kwargs)


def test_pyreadstat_reads_back_values_labels_lengths_formats(tmp_path):
    warnings = write_ae(tmp_path)
    assert warnings == ["AE.AETERM row 3: 'Céphalées' -> 'Cephalees'"]
    data, meta = pyreadstat.read_xport(str(tmp_path / "ae.xpt"), disable_datetime_conversion=True)
    assert meta.table_name == "AE"
    assert meta.file_label == "Adverse Events"
    assert meta.column_names == ["STUDYID", "AETERM", "AESEQ", "ASTDT", "AVAL"]  # the variables' order
    assert meta.column_labels == [v.label for v in AE_VARS]
    assert meta.variable_storage_width == {"STUDYID": 2, "AETERM": 20, "AESEQ": 8, "ASTDT": 8, "AVAL": 8}
    assert meta.original_variable_types["ASTDT"] in ("DATE9", "DATE9.")  # (pyreadstat 1.3.8 gives the dot)
    assert meta.original_variable_types["AVAL"] == "8.2"
    assert data["AETERM"].tolist() == ["Headache", "", "Cephalees"]
    assert data["AESEQ"].tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(data["ASTDT"].to_numpy(), [23000.0, np.nan, -1.0])
    np.testing.assert_array_equal(data["AVAL"].to_numpy(), [0.0, 1.0, -1.0])


def test_hand_picked_numbers_survive_pyreadstat(tmp_path):
    frame = pd.DataFrame({"X": HAND_PICKED})
    write_xpt(frame, tmp_path / "t.xpt", dataset_name="T", dataset_label="T",
              variables=[XptVariable("X", "x", "Num")])
    data, _ = pyreadstat.read_xport(str(tmp_path / "t.xpt"))
    np.testing.assert_array_equal(data["X"].to_numpy(), np.array(HAND_PICKED))


def test_read_xpt_returns_our_metadata(tmp_path):
    write_ae(tmp_path)
    data, meta = read_xpt(tmp_path / "ae.xpt")
    assert (meta.dataset_name, meta.dataset_label) == ("AE", "Adverse Events")
    assert meta.variables[0] == XptVariable("STUDYID", "Study Identifier", "Char", 2, None)
    assert meta.variables[1] == XptVariable("AETERM", "Reported Term for the Adverse Event", "Char", 20, None)
    assert meta.variables[3] == XptVariable("ASTDT", "Analysis Start Date", "Num", 8, "DATE9.")
    assert meta.variables[4].format == "8.2"
    assert data["ASTDT"].iloc[0] == 23000.0  # SAS dates stay day numbers
    assert data.attrs["encoding"] == "utf-8"


def test_rerun_is_byte_identical_and_header_date_is_ours(tmp_path):
    write_ae(tmp_path, "a/ae.xpt")
    write_ae(tmp_path, "b/ae.xpt")
    first, second = (tmp_path / "a/ae.xpt").read_bytes(), (tmp_path / "b/ae.xpt").read_bytes()
    assert first == second
    assert first.count(b"01JAN00:00:00:00") == 4  # library created/modified, member created/modified
    write_ae(tmp_path, "c/ae.xpt", created=datetime(2024, 3, 15, 10, 20, 30))
    assert (tmp_path / "c/ae.xpt").read_bytes().count(b"15MAR24:10:20:30") == 4


def test_layout_of_records(tmp_path):
    write_ae(tmp_path)
    raw = (tmp_path / "ae.xpt").read_bytes()
    assert len(raw) % 80 == 0
    assert raw[:80] == b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"0" * 30 + b"  "
    assert raw[80:120] == b"SAS     SAS     SASLIB  9.4     PYTHON  "
    assert b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000000500000000000000000000  " in raw
    namestr_start = raw.index(b"NAMESTR HEADER") - 20 + 80
    astdt = raw[namestr_start + 3 * 140: namestr_start + 4 * 140]
    assert astdt[:8] == bytes.fromhex("0001 0000 0008 0004")  # Num, hash 0, length 8, varnum 4
    assert astdt[8:16] == b"ASTDT   "
    assert astdt[56:64] == b"DATE    "
    assert astdt[64:68] == bytes.fromhex("0009 0000")  # width 9, decimals 0
    assert int.from_bytes(astdt[84:88], "big") == 2 + 20 + 8  # position in the observation
    obs = raw[raw.index(b"OBS     HEADER") - 20 + 80:]
    record = 2 + 20 + 8 * 3
    assert obs[:record] == (b"S1Headache            " + ibm_bytes(1) + ibm_bytes(23000) + ibm_bytes(0))
    assert obs[3 * record:] == b" " * (len(obs) - 3 * record)  # blank padding to 80


def test_char_length_is_longest_value_or_spec_length(tmp_path):
    frame = pd.DataFrame({"A": ["x", "abcd", None], "B": ["", "", ""], "C": ["a", "b", "c"]})
    variables = [XptVariable("A", "a", "Char"), XptVariable("B", "b", "Char"), XptVariable("C", "c", "Char", 7)]
    write_xpt(frame, tmp_path / "t.xpt", dataset_name="T", dataset_label="", variables=variables)
    data, meta = pyreadstat.read_xport(str(tmp_path / "t.xpt"))
    assert meta.variable_storage_width == {"A": 4, "B": 1, "C": 7}
    assert data["A"].tolist() == ["x", "abcd", ""]


def test_transliteration_lengthens_before_the_length_is_taken(tmp_path):
    frame = pd.DataFrame({"DSTERM": ["Œdème “sévère”", "ok"]})
    warnings = write_xpt(frame, tmp_path / "ds.xpt", dataset_name="DS", dataset_label="Disposition",
                         variables=[XptVariable("DSTERM", "Reported Term", "Char")])
    assert warnings == ["DS.DSTERM row 1: 'Œdème “sévère”' -> 'OEdeme \"severe\"'"]
    _, meta = pyreadstat.read_xport(str(tmp_path / "ds.xpt"))
    assert meta.variable_storage_width["DSTERM"] == len('OEdeme "severe"')


def test_to_ascii_special_cases():
    assert to_ascii("Réaction au site d'injection") == "Reaction au site d'injection"
    assert to_ascii("sœur, æther, Straße – l’été…") == "soeur, aether, Strasse - l'ete..."
    assert to_ascii("plain") == "plain"
    assert to_ascii("日本") == "??"


def test_over_long_value_is_an_error_naming_row_and_value(tmp_path):
    variables = [AE_VARS[0], XptVariable("AETERM", "Reported Term", "Char", 5), *AE_VARS[2:]]
    with pytest.raises(DataError) as caught:
        write_xpt(AE, tmp_path / "ae.xpt", dataset_name="AE", dataset_label="Adverse Events", variables=variables)
    path = tmp_path / "ae.xpt"
    assert str(caught.value) == (
        "2 data errors:\n"
        f"  {path}: AE.AETERM row 1: value 'Headache' is 8 characters, longer than the length 5\n"
        f"  {path}: AE.AETERM row 3: value 'Cephalees' is 9 characters, longer than the length 5")
    assert not (tmp_path / "ae.xpt").exists()
    assert list(tmp_path.iterdir()) == []  # no half-written file


def test_values_over_200_without_a_length_are_an_error(tmp_path):
    frame = pd.DataFrame({"COVAL": ["x" * 201]})
    with pytest.raises(DataError, match=r"CO.COVAL row 1: value 'x+' is 201 characters, longer than the length 200"):
        write_xpt(frame, tmp_path / "co.xpt", dataset_name="CO", dataset_label="Comments",
                  variables=[XptVariable("COVAL", "Comment", "Char")])


def test_metadata_errors_are_collected(tmp_path):
    frame = pd.DataFrame({"A": ["x"], "N": ["1.5x"], "EXTRA": ["?"]})
    variables = [XptVariable("A", "a" * 41, "Char"), XptVariable("N", "n", "Num"),
                 XptVariable("bad_nm", "b", "Char"), XptVariable("D", "d", "Num", format="DATE9")]
    with pytest.raises(DataError) as caught:
        write_xpt(frame, tmp_path / "t.xpt", dataset_name="T", dataset_label="T", variables=variables)
    message = str(caught.value)
    assert "T.bad_nm: variable name must be 1-8 uppercase letters or digits, starting with a letter" in message
    assert "T.D: 'DATE9' is not a SAS format such as DATE9. or 8.2" in message
    assert f"T.A label '{'a' * 41}' is longer than 40 characters (41)" in message
    assert "T: columns not in the variable list: EXTRA" in message
    assert "T: variables with no column in the dataset: bad_nm, D" in message


def test_text_in_a_num_column_is_an_error_but_numeric_text_is_fine(tmp_path):
    variables = [XptVariable("N", "n", "Num")]
    write_xpt(pd.DataFrame({"N": ["1.5", "", None]}), tmp_path / "t.xpt", dataset_name="T",
              dataset_label="T", variables=variables)
    data, _ = pyreadstat.read_xport(str(tmp_path / "t.xpt"))
    np.testing.assert_array_equal(data["N"].to_numpy(), [1.5, np.nan, np.nan])
    with pytest.raises(DataError, match=r"T.N row 2: value 'abc' is not a number"):
        write_xpt(pd.DataFrame({"N": ["1", "abc"]}), tmp_path / "t.xpt", dataset_name="T",
                  dataset_label="T", variables=variables)
    with pytest.raises(DataError, match=r"T.C: declared Char but the column holds int64 values"):
        write_xpt(pd.DataFrame({"C": [1, 2]}), tmp_path / "t.xpt", dataset_name="T",
                  dataset_label="T", variables=[XptVariable("C", "c", "Char")])


def test_file_name_other_than_the_dataset_name_is_warned(tmp_path):
    warnings = write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "DM.xpt", dataset_name="DM",
                         dataset_label="Demographics", variables=[XptVariable("A", "a", "Char")])
    assert warnings == ["DM: file name 'DM.xpt' is not 'dm.xpt'"]


def test_empty_dataset(tmp_path):
    frame = pd.DataFrame({"A": pd.Series([], dtype=str), "N": pd.Series([], dtype=float)})
    write_xpt(frame, tmp_path / "t.xpt", dataset_name="T", dataset_label="T",
              variables=[XptVariable("A", "a", "Char"), XptVariable("N", "n", "Num")])
    data, meta = pyreadstat.read_xport(str(tmp_path / "t.xpt"))
    assert len(data) == 0 and meta.variable_storage_width == {"A": 1, "N": 8}


def test_many_rows_are_vectorized(tmp_path):
    n = 200_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({f"C{i}": pd.Series(rng.choice(["alpha", "beta", "", "gamma delta"], n), dtype=str)
                          for i in range(5)} | {f"N{i}": rng.normal(size=n) for i in range(5)})
    variables = [XptVariable(c, c, "Char" if c.startswith("C") else "Num") for c in frame.columns]
    write_xpt(frame, tmp_path / "big.xpt", dataset_name="BIG", dataset_label="big", variables=variables)
    data, _ = pyreadstat.read_xport(str(tmp_path / "big.xpt"))
    assert len(data) == n
    np.testing.assert_array_equal(data["N3"].to_numpy(), frame["N3"].to_numpy())
    assert data["C2"].tolist() == frame["C2"].tolist()


def test_read_xpt_falls_back_to_cp1252(tmp_path):
    write_ae(tmp_path)
    path = tmp_path / "ae.xpt"
    path.write_bytes(path.read_bytes().replace(b"Cephalees", b"C\xe9phal\xe9es"))  # a cp1252 SAS session
    data, meta = read_xpt(path)
    assert data["AETERM"].tolist() == ["Headache", "", "Céphalées"]
    assert data.attrs["encoding"] == "cp1252"
    assert meta.variables[1].length == 20


def test_label_transliteration_is_warned(tmp_path):
    warnings = write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "t.xpt", dataset_name="T",
                         dataset_label="Événements", variables=[XptVariable("A", "Durée", "Char")])
    assert warnings == ["T dataset label: 'Événements' -> 'Evenements'", "T.A label: 'Durée' -> 'Duree'"]
    _, meta = pyreadstat.read_xport(str(tmp_path / "t.xpt"))
    assert (meta.file_label, meta.column_labels) == ("Evenements", ["Duree"])


def _in_parts(frames: list[pd.DataFrame]):
    """``write_xpt_parts``' tables: the frames as Arrow tables, all columns or those named that they have."""
    import pyarrow as pa

    tables = [pa.Table.from_pandas(frame, preserve_index=False) for frame in frames]
    return lambda columns: (t if columns is None else t.select([c for c in columns if c in t.column_names])
                            for t in tables)


LB_PARTS = [pd.DataFrame({"USUBJID": pd.Series(["S-1", "S-1", None], dtype="str"),
                          "LBTEST": pd.Series(["Glucose", "", "Insulin"], dtype="str"),
                          "LBCOMM": [None, None, None],  # no value in any part: length 1, blanks
                          "LBSTRESN": [5.5, np.nan, -0.25], "LBDY": pd.Series([1, None, 3], dtype="Int64")}),
            pd.DataFrame({"USUBJID": pd.Series([], dtype="str"), "LBTEST": pd.Series([], dtype="str"),
                          "LBCOMM": pd.Series([], dtype=object), "LBSTRESN": pd.Series([], dtype=float),
                          "LBDY": pd.Series([], dtype="Int64")}),  # left out, as pandas.concat does
            pd.DataFrame({"USUBJID": pd.Series(["S-10000"] * 30, dtype="str"),  # longer here: the length of all
                          "LBTEST": pd.Series(["C-peptide"] * 29 + [None], dtype="str"),
                          "LBCOMM": [None] * 30, "LBSTRESN": np.r_[np.arange(29.0), np.nan],
                          "LBDY": pd.Series(range(30), dtype="Int64")})]
LB_VARIABLES = [XptVariable("USUBJID", "Subject", "Char"), XptVariable("LBTEST", "Test", "Char", 12),
                XptVariable("LBCOMM", "Comment", "Char"), XptVariable("LBSTRESN", "Result", "Num"),
                XptVariable("LBDY", "Day", "Num", None, "8.")]


def test_a_dataset_written_in_parts_has_the_bytes_of_the_whole(tmp_path):
    from define.xpt import write_xpt_parts

    how = dict(dataset_name="LB", dataset_label="Laboratory", variables=LB_VARIABLES, created=datetime(2024, 5, 1))
    whole = pd.concat([LB_PARTS[0], LB_PARTS[2]], ignore_index=True)
    write_xpt(whole, tmp_path / "lb.xpt", **how)
    seen = []
    notes, rows = write_xpt_parts(_in_parts(LB_PARTS), tmp_path / "parts" / "lb.xpt", each=seen.append, **how)
    written = (tmp_path / "parts" / "lb.xpt").read_bytes()
    assert written == (tmp_path / "lb.xpt").read_bytes()
    assert (notes, rows, [t.num_rows for t in seen]) == ([], 33, [3, 30])
    # USUBJID 7 (the second part's 'S-10000', decided before the first record), LBTEST 12 (the spec), LBCOMM 1
    data, meta = read_xpt(tmp_path / "parts" / "lb.xpt")
    assert [v.length for v in meta.variables] == [7, 12, 1, 8, 8]
    first = written.index(b"S-1    Glucose     ")  # the first record: 'S-1' padded to 7, 'Glucose' to 12
    assert written[first + 19:first + 20 + 16] == b" " + ibm_bytes(5.5) + ibm_bytes(1.0)
    missing = written.index(b"S-1                 ")  # the second: LBTEST '' and LBCOMM blank, numbers missing
    assert written[missing + 20:missing + 36] == b"." + bytes(7) + b"." + bytes(7)
    assert data["LBDY"].iloc[[0, 2, 32]].tolist() == [1.0, 3.0, 29.0] and np.isnan(data["LBDY"][1])
    assert data["LBTEST"].iloc[[31, 32]].tolist() == ["C-peptide", ""] and len(written) % 80 == 0


def test_parts_the_whole_frame_writer_must_write_are_refused_with_nothing_written(tmp_path):
    from define.xpt import NotInParts, write_xpt_parts

    how = dict(dataset_name="LB", dataset_label="Laboratory", variables=LB_VARIABLES, created=datetime(2024, 5, 1))
    refused = [[LB_PARTS[0], LB_PARTS[2].astype({"LBSTRESN": str})],  # a column of another type
               [LB_PARTS[0], LB_PARTS[2].assign(LBTEST="Glucosé")],  # a value to transliterate, in a later part
               [LB_PARTS[0], LB_PARTS[2].assign(LBTEST="C-peptide, fasting")],  # longer than the spec's 12
               [LB_PARTS[0].assign(USUBJID="S" * 201)],  # longer than XPT allows
               [LB_PARTS[0].assign(LBSTRESN=np.inf)],  # no IBM float holds it
               [LB_PARTS[0].assign(LBDY=pd.Timestamp("2024-01-01"))],  # a date: the whole-frame writer refuses
               [LB_PARTS[0].drop(columns="LBCOMM")],  # a variable with no column
               [LB_PARTS[1]]]  # no record
    for parts in refused:
        seen = []
        with pytest.raises(NotInParts):
            write_xpt_parts(_in_parts(parts), tmp_path / "no" / "lb.xpt", each=seen.append, **how)
        assert not list((tmp_path / "no").glob("*")), parts
