"""A chunk's SDTM read back in memory as the XPT round trip gives it (cdisc.chunks.readback): compared with
the real write (define.xpt.write_xpt) and read (adam.build.read_sdtm_folder)."""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from adam.liveness import keep_only
from cdisc.chunks.readback import read_back, read_sdtm_chunk, written_and_read
from cdisc.chunks.spill import dataset_file, write_frame
from define.xpt import XptVariable
from specs.errors import DataError


def char(name, length=None):
    return XptVariable(name, f"{name} label", "Char", length)


def num(name, fmt=None):
    return XptVariable(name, f"{name} label", "Num", None, fmt)


def assert_same(read: pd.DataFrame, real: pd.DataFrame) -> None:
    """Same columns, types, index, attributes and values; numbers bit for bit (-0.0 is not 0.0 here)."""
    assert read is not None
    assert list(read.columns) == list(real.columns)
    assert read.dtypes.to_dict() == real.dtypes.to_dict()
    assert read.attrs == real.attrs
    pd.testing.assert_frame_equal(read, real, check_exact=True)
    for name in read.columns:
        if read[name].dtype == np.float64:
            assert np.array_equal(read[name].to_numpy().view(np.uint64), real[name].to_numpy().view(np.uint64)), name


def round_trip(frame, variables, tmp_path, name="AE", label="Adverse Events"):
    read = read_back(frame, name, label, variables)
    real = written_and_read(frame, name, label, variables, tmp_path / "xpt")
    assert_same(read, real)
    assert not list((tmp_path / "xpt").iterdir())  # (the file removed)
    return read


def test_text_as_the_file_gives_it_back(tmp_path):
    frame = pd.DataFrame({
        "AETERM": pd.Series(["Headache", "Nausea  ", "", None, "  leading", "tab\t", "   "], dtype="str"),
        "AEDECOD": pd.Series(["HEADACHE", "", np.nan, "NAUSEA ", "a  b", "x", None], dtype=object),
        "AESTDTC": pd.Series(["2021-03-04", "2021-03", "", None, "2021-03-04T10:30", "2021", "2021-03-04"],
                             dtype="str"),
    })
    read = round_trip(frame, [char("AETERM"), char("AEDECOD", 20), char("AESTDTC", 19)], tmp_path)
    # trailing blanks trimmed (not leading ones, not a tab), blank and missing text missing
    assert read["AETERM"].tolist() == ["Headache", "Nausea", pd.NA, pd.NA, "  leading", "tab\t", pd.NA]
    assert read["AEDECOD"].tolist() == ["HEADACHE", pd.NA, pd.NA, "NAUSEA", "a  b", "x", pd.NA]
    assert read["AESTDTC"].tolist()[:3] == ["2021-03-04", "2021-03", pd.NA]
    assert str(read["AETERM"].dtype) == "string"


def test_numbers_as_ibm_floats_give_them_back(tmp_path):
    frame = pd.DataFrame({
        "AVAL": [1.3000000000000003, 0.1, -0.0, np.nan, 1e-80, 5e-324, 1e70, -2.5],
        "AESEQ": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],  # integers stored as float
        "N": pd.array([1, None, 3, 4, 5, 6, 7, 2 ** 53 + 1], dtype="Int64"),
        "I": np.array([1, 2, 3, 4, 5, 6, 7, -(2 ** 60) - 1], dtype=np.int64),
        "FL": [True, False, True, True, False, False, True, False],
        "TRTSDT": [22345.0, np.nan, 0.0, -3653.0, 1.0, 2.5, 0.0, 0.0],  # SAS dates (days since 1960)
        "TEXTNUM": pd.Series(["1.5", "", None, "2", "-3e2", "  7 ", "0", "8"], dtype=object),
    })
    variables = [num("AVAL"), num("AESEQ"), num("N"), num("I"), num("FL"), num("TRTSDT", "DATE9."), num("TEXTNUM")]
    read = round_trip(frame, variables, tmp_path)
    aval = read["AVAL"].to_numpy()
    assert aval[0] == 1.3000000000000003 and aval[1] == 0.1 and aval[7] == -2.5 and aval[6] == 1e70
    assert aval[2] == 0.0 and not np.signbit(aval[2])  # IBM has no negative zero
    assert np.isnan(aval[3]) and aval[5] == 0.0  # an IEEE subnormal is far below the IBM range
    assert aval[4] != 1e-80 and abs(aval[4] - 1e-80) < 1e-94  # below 16**-64: denormalized, bits lost
    assert read["AESEQ"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert np.isnan(read["N"][1]) and read["N"][7] == 2.0 ** 53  # (float64 holds no 2**53 + 1)
    assert read["I"][7] == -(2.0 ** 60) and read["FL"].tolist()[:2] == [1.0, 0.0]
    assert read["TRTSDT"][0] == 22345.0 and np.isnan(read["TRTSDT"][1])
    assert read["TEXTNUM"][0] == 1.5 and np.isnan(read["TEXTNUM"][1]) and np.isnan(read["TEXTNUM"][2])  # blank
    assert read["TEXTNUM"][4] == -300.0 and read["TEXTNUM"][5] == 7.0


def test_the_variables_come_in_the_file_order_whatever_the_frame_order(tmp_path):
    frame = pd.DataFrame({"AVAL": [2.0, 3.0], "USUBJID": pd.Series(["S1", "S2"], dtype="str")})
    read = round_trip(frame, [char("USUBJID"), num("AVAL")], tmp_path)
    assert list(read.columns) == ["USUBJID", "AVAL"] and read.index.equals(pd.RangeIndex(2))


def test_a_frame_holding_some_of_the_variables_reads_as_those_of_the_whole(tmp_path):
    whole = pd.DataFrame({"USUBJID": pd.Series(["S1 ", "S2"], dtype="str"), "AETERM": ["x", "y"],
                          "AVAL": [1.5, np.nan]})
    variables = [char("USUBJID"), char("AETERM"), num("AVAL")]
    real = written_and_read(whole, "AE", "Adverse Events", variables, tmp_path)
    read = read_back(whole[["AVAL", "USUBJID"]], "AE", "Adverse Events", variables, columns=list(whole.columns))
    assert_same(read, real[["USUBJID", "AVAL"]])
    # the writer's checks of the metadata see every column: one not in the variables, and it is not certain
    assert read_back(whole[["USUBJID"]], "AE", "Adverse Events", variables, columns=["USUBJID", "AETERM", "AVAL",
                                                                                    "EXTRA"]) is None


@pytest.mark.parametrize("frame, variables", [
    (pd.DataFrame({"AETERM": ["Céphalées", "x"]}), [char("AETERM")]),  # transliterated
    (pd.DataFrame({"AETERM": pd.Series(["ok", "\u00e9"], dtype="str")}), [char("AETERM")]),
    (pd.DataFrame({"AETERM": ["a\x00b", "x"]}), [char("AETERM")]),  # a NUL byte
    (pd.DataFrame({"AETERM": ["toolong", "x"]}), [char("AETERM", 3)]),  # refused
    (pd.DataFrame({"AETERM": [1, 2]}), [char("AETERM")]),  # numbers in a Char column: refused
    (pd.DataFrame({"AETERM": pd.Series([1, "a"], dtype=object)}), [char("AETERM")]),  # not text: refused
    (pd.DataFrame({"AVAL": ["1", "abc"]}), [num("AVAL")]),  # not a number: refused
    (pd.DataFrame({"AVAL": [1.0, np.inf]}), [num("AVAL")]),  # no IBM float holds it: refused
    (pd.DataFrame({"AVAL": [1.0, 16.0 ** 63]}), [num("AVAL")]),
    (pd.DataFrame({"ADT": pd.to_datetime(["2021-01-01", "2021-01-02"])}), [num("ADT")]),  # refused
    (pd.DataFrame({"AVAL": pd.Series([], dtype=float)}), [num("AVAL")]),  # no record: the reader's own types
    (pd.DataFrame({"AVAL": [1.0], "EXTRA": [2.0]}), [num("AVAL")]),  # a column not in the variables: refused
    (pd.DataFrame({"AVAL": [1.0]}), [XptVariable("AVAL", "x" * 41, "Num")]),  # label too long: refused
])
def test_what_the_emulation_is_not_sure_of_is_written_and_read(tmp_path, frame, variables):
    assert read_back(frame, "AE", "Adverse Events", variables) is None
    try:
        written_and_read(frame, "AE", "Adverse Events", variables, tmp_path)
    except DataError:
        pass  # (the real write refuses it: the chunk says so as before)


def test_labels_written_as_ascii_read_the_same(tmp_path):
    # (the labels are transliterated, noted, not refused: the values and the encoding are the same)
    round_trip(pd.DataFrame({"AVAL": [1.0]}), [XptVariable("AVAL", "Analysis Value \u2013 1", "Num")], tmp_path,
               label="Événements indésirables")


def _old_way(task, folder: Path) -> dict:
    """What the chunk read before: every dataset written, the folder read back."""
    from adam.build import read_sdtm_folder
    from cdisc.chunks.spill import read_frame
    from define.xpt import write_xpt

    for name, (label, variables) in task.xpt.items():
        path = task.once[name] if name in task.once else dataset_file(task.work, "sdtm", name, task.index)
        frame = read_frame(path).drop(columns=[] if name in task.once else task.drop.get(name, []))
        write_xpt(frame, folder / f"{name.lower()}.xpt", dataset_name=name, dataset_label=label,
                  variables=variables, created=None)
    return read_sdtm_folder(folder)


def test_a_chunk_reads_what_the_files_would_hold_of_the_variables_adam_reads(tmp_path):
    work = tmp_path / "work"
    dm = pd.DataFrame({"STUDYID": ["S"] * 3, "USUBJID": pd.Series(["S-1", "S-2", "S-3"], dtype="str"),
                       "AGE": [31.0, np.nan, 45.0], "RFSTDTC": ["2021-01-02", "", None], "DMXX": [None] * 3})
    ae = pd.DataFrame({"USUBJID": ["S-1", "S-1"], "AESEQ": [1.0, 2.0], "AETERM": ["Céphalées ", "Nausea"]})
    sv = pd.DataFrame({"USUBJID": ["S-1"], "VISITNUM": [1.0]})
    ts = pd.DataFrame({"TSPARMCD": ["AGEMIN", "TITLE"], "TSVAL": ["18", "Trial  "]})
    write_frame(dm, dataset_file(work, "sdtm", "DM", 0))
    write_frame(ae, dataset_file(work, "sdtm", "AE", 0))
    write_frame(sv, dataset_file(work, "sdtm", "SV", 0))
    write_frame(ts, work / "joined" / "TS.arrow")
    xpt = {"TS": ("Trial Summary", [char("TSPARMCD"), char("TSVAL")]),
           "DM": ("Demographics", [char("STUDYID"), char("USUBJID"), num("AGE"), char("RFSTDTC")]),
           "SV": ("Subject Visits", [char("USUBJID"), num("VISITNUM")]),
           "AE": ("Adverse Events", [char("USUBJID"), num("AESEQ"), char("AETERM")])}
    task = SimpleNamespace(work=work, index=0, xpt=xpt, once={"TS": work / "joined" / "TS.arrow"},
                           drop={"DM": ["DMXX"]})
    needed = {"DM": {"USUBJID", "AGE", "RFSTDTC", "ARM"}, "AE": None, "SV": set(), "TS": {"TSVAL", "TSPARMCD"}}
    read = read_sdtm_chunk(task, needed.get)
    folder = tmp_path / "old"
    folder.mkdir()
    old = _old_way(task, folder)
    assert list(read) == list(old) == ["AE", "DM", "SV", "TS"]  # (read_sdtm_folder's order: by file name)
    for name, frame in old.items():
        kept = keep_only(frame, needed[name])  # what build_adam keeps of it before its first step
        assert_same(read[name], kept)
    assert read["DM"]["RFSTDTC"].tolist() == ["2021-01-02", pd.NA, pd.NA] and read["SV"].shape == (1, 0)
    assert read["AE"]["AETERM"].tolist() == ["Cephalees", "Nausea"]  # (written and read: transliterated)
    assert not (work / "xpt" / "00000").exists()


def test_a_chunk_whose_dataset_the_writer_refuses_fails_as_before(tmp_path):
    work = tmp_path / "work"
    write_frame(pd.DataFrame({"USUBJID": ["S-1"], "AGE": ["old"]}), dataset_file(work, "sdtm", "DM", 0))
    task = SimpleNamespace(work=work, index=0, xpt={"DM": ("Demographics", [char("USUBJID"), num("AGE")])},
                           once={}, drop={})
    with pytest.raises(DataError, match="DM.AGE row 1: value 'old' is not a number"):
        read_sdtm_chunk(task, lambda name: None)
