"""The CSV reader refuses what pandas would silently repair: repeated header names, short and long rows."""
import pytest

from sdtm.readers import read_csv_source
from specs.errors import RawDataError


def read(tmp_path, text):
    path = tmp_path / "form.csv"
    path.write_text(text, encoding="utf-8")
    return read_csv_source(path)


def failure(tmp_path, text) -> str:
    with pytest.raises(RawDataError) as caught:
        read(tmp_path, text)
    return str(caught.value).replace(str(tmp_path) + "/", "")


def test_a_repeated_header_name_is_an_error(tmp_path):
    assert "form.csv: line 1: column 'AETERM' appears twice in the header (columns 2 and 4)" in \
        failure(tmp_path, "Subject,AETERM,AESEV,AETERM\n01,Headache,Mild,Cefalea\n")
    # names are compared as the mapping sees them: stripped
    assert "column 'AETERM' appears twice" in failure(tmp_path, "Subject,AETERM, AETERM\n01,a,b\n")


def test_short_and_long_rows_are_errors_naming_line_and_column(tmp_path):
    message = failure(tmp_path, 'Subject,AETERM,AESEV,AESER\n01,Headache,Mild,No\n02,"Nausea,\nsevere"\n'
                                "03,Rash,Mild,No,extra\n")
    assert "form.csv: line 4: 2 values where the header has 4 columns: no value for AESEV, AESER" in message
    assert "form.csv: line 5: 5 values where the header has 4 columns: 'extra' after the last column AESER" in message


def test_a_long_first_row_is_not_taken_as_an_index(tmp_path):
    assert "line 2: 3 values where the header has 2 columns: 'c' after the last column B" in \
        failure(tmp_path, "A,B\na,b,c\nd,e,f\n")


def test_header_only_blank_lines_and_trailing_commas_read_cleanly(tmp_path):
    assert read(tmp_path, "Subject,AETERM\n").to_dict("list") == {"Subject": [], "AETERM": []}
    assert read(tmp_path, "A,B,\n1,2,\n\n3,4,\n").to_dict("list") == {"A": ["1", "3"], "B": ["2", "4"]}
    assert "form.csv: row 1: column 3 has no name in the header but holds 'x'" in failure(tmp_path, "A,B,\n1,2,x\n")
    assert "form.csv: empty file: not even a header" in failure(tmp_path, "")


def test_an_interrupted_pyarrow_read_is_not_taken_for_an_unreadable_file(tmp_path, monkeypatch):
    # ArrowCancelled is what pyarrow raises when Ctrl-C lands in read_csv: falling back to the other
    # reader would carry on as if nothing had happened
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    def cancelled(*args, **kwargs):
        raise pa.ArrowCancelled("Operation cancelled")

    monkeypatch.setattr(pa_csv, "read_csv", cancelled)
    path = tmp_path / "dm.csv"
    path.write_text("Subject,SEX\n01-001,Male\n", encoding="utf-8")
    with pytest.raises(pa.ArrowCancelled):
        read_csv_source(path)


# ------------------------------------------------------------------------- read a record batch at a time
def stream(tmp_path, data: bytes, batch_records=2, encoding="utf-8", **how) -> list:
    from sdtm.readers import stream_csv_source

    path = tmp_path / "form.csv"
    path.write_bytes(data)
    return list(stream_csv_source(path, encoding, batch_records, **how))


def test_a_file_read_in_batches_gives_the_frame_of_the_whole(tmp_path):
    import pandas as pd

    data = (b'\xef\xbb\xbfSubject,AETERM,\r\n 01 ,Headache,\r\n02,"Nausea,\r\nsevere",\r\n\r\n03,Rash ,\r\n'
            b'04,,\r\n05,x,\r\n')
    parts = stream(tmp_path, data)
    assert [len(p) for p in parts] == [2, 2, 1] and list(parts[1].index) == [0, 1]
    joined = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(joined, read_csv_source(tmp_path / "form.csv"))
    assert joined.to_dict("list") == {"Subject": ["01", "02", "03", "04", "05"],
                                      "AETERM": ["Headache", "Nausea,\r\nsevere", "Rash", "", "x"]}
    # pyarrow's own blocks of 40 bytes, not cut further: the same records
    assert pd.concat(stream(tmp_path, data, None, block_size=40), ignore_index=True).equals(joined)
    # cp1252, and a header without records: one frame without records
    assert stream(tmp_path, "A,B\né,2\n".encode("cp1252"), encoding="cp1252")[0].to_dict("list") == \
        {"A": ["é"], "B": ["2"]}
    assert [p.to_dict("list") for p in stream(tmp_path, b"A,B\n")] == [{"A": [], "B": []}]


def test_what_the_batches_cannot_take_as_it_is_is_left_to_the_whole_file_reader(tmp_path):
    # each after two good batches: the caller drops them and read_csv_source says where the file is wrong
    from sdtm.readers import NotStreamed

    good = b"A,B\n1,2\n3,4\n5,6\n7,8\n"
    for bad in (b"9,\xff\n", b"9,10,11\n", b"9\n"):  # not UTF-8, a long record, a short one
        with pytest.raises(NotStreamed):
            stream(tmp_path, good + bad)
    with pytest.raises(NotStreamed):  # a value in a column without a name
        stream(tmp_path, b"A,B,\n1,2,\n3,4,\n5,6,\n7,8,\n9,10,x\n")
    with pytest.raises(NotStreamed):  # lone CR line ends: before any batch
        stream(tmp_path, b"A,B\r1,2\r")
    with pytest.raises(NotStreamed):  # a CR at the very end
        stream(tmp_path, b"A,B\n1,2\r")
    # a header that is wrong is the whole reader's error at once
    with pytest.raises(RawDataError, match="column 'A' appears twice in the header"):
        stream(tmp_path, b"A,B,A\n1,2,3\n")
