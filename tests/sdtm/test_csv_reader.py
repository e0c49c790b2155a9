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
