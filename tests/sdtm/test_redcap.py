"""REDCap exports read one instrument at a time through the data dictionary (sdtm/redcap.py)."""
from __future__ import annotations

import pandas as pd
import pytest

from sdtm.redcap import checkbox_column, parse_choices, read_dictionary, read_form, rows_of_form
from specs.errors import RawDataError

COLUMNS = ["Variable / Field Name", "Form Name", "Field Type", "Field Label",
           "Choices, Calculations, OR Slider Labels", "Text Validation Type OR Show Slider Number"]
FIELDS = [["record_id", "enrollment", "text", "Record ID", "", ""],
          ["intro", "enrollment", "descriptive", "Fill in at screening", "", ""],
          ["sex", "enrollment", "radio", "Sex", "1, Male | 2, Female", ""],
          ["race", "enrollment", "checkbox", "Race", "1, Asian | 2, White | 3, Other", ""],
          ["dob", "enrollment", "text", "Date of birth", "", "date_mdy"],
          ["ae_term", "adverse_events", "text", "Adverse event", "", ""],
          ["ae_serious", "adverse_events", "yesno", "Serious?", "", ""]]
HEADER = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", "sex",
          "race___1", "race___2", "race___3", "dob", "enrollment_complete", "ae_term", "ae_serious",
          "adverse_events_complete"]
ROWS = [["1", "screening_arm_1", "", "", "2", "1", "1", "0", "8/13/1965", "2", "", "", ""],
        ["1", "week_2_arm_1", "", "", "", "0", "0", "0", "", "", "", "", ""],
        ["1", "logs_arm_1", "adverse_events", "1", "", "", "", "", "", "", "Headache", "0", "2"],
        ["1", "logs_arm_1", "adverse_events", "2", "", "", "", "", "", "", "Nausea", "1", "1"],
        ["2", "screening_arm_1", "", "", "1", "0", "1", "0", "1/2/1990", "1", "", "", ""]]


def dictionary(rows=FIELDS):
    return read_dictionary(pd.DataFrame(rows, columns=COLUMNS), "dd.csv")


def records(rows=ROWS, header=HEADER):
    return pd.DataFrame(rows, columns=header)


def test_choices_are_read_from_the_dictionary_text():
    assert parse_choices("1, Male | 2, Female") == {"1": "Male", "2": "Female"}
    assert parse_choices(" 9 , Not reported, or refused |") == {"9": "Not reported, or refused"}
    assert parse_choices("Male | Female") is None
    assert checkbox_column("race", "1") == "race___1"
    assert checkbox_column("symptom", "Ab-1") == "symptom___ab_1"


def test_the_dictionary_gives_fields_forms_and_columns():
    dd = dictionary()
    assert dd.record_id == "record_id"
    assert dd.forms() == ["enrollment", "adverse_events"]
    assert list(dd.columns_of("enrollment")) == ["sex", "race___1", "race___2", "race___3", "dob"]
    assert dd.fields["ae_serious"].choices == {"1": "Yes", "0": "No"}


def test_a_bad_dictionary_is_named_by_row_and_column():
    rows = FIELDS + [["sex", "enrollment", "radio", "Sex again", "1, M", ""],
                     ["ethnic", "enrollment", "dropdown", "Ethnicity", "Hispanic | Not Hispanic", ""]]
    with pytest.raises(RawDataError) as raised:
        dictionary(rows)
    assert [str(p) for p in raised.value.problems] == [
        "dd.csv row 8: column 'Variable / Field Name': field 'sex' is listed twice",
        "dd.csv row 9: column 'Choices, Calculations, OR Slider Labels': 'Hispanic | Not Hispanic' is not a list "
        "of choices ('1, Male | 2, Female')"]
    with pytest.raises(RawDataError, match="not a REDCap data dictionary: no column 'Field Type'"):
        read_dictionary(pd.DataFrame(FIELDS, columns=COLUMNS).drop(columns="Field Type"), "dd.csv")


def test_rows_of_a_form_are_its_instances_and_the_event_rows_holding_its_data():
    dd = dictionary()
    # row 2 has only unchecked boxes: no data of enrollment
    assert rows_of_form(records(), dd, "enrollment").tolist() == [True, False, False, False, True]
    assert rows_of_form(records(), dd, "adverse_events").tolist() == [False, False, True, True, False]


def test_an_instrument_is_decoded_with_its_checked_labels_and_keeps_its_lines():
    table = read_form(records(), dictionary(), "enrollment", "data.csv")
    assert list(table.columns) == ["record_id", "redcap_event_name", "redcap_repeat_instrument",
                                   "redcap_repeat_instance", "sex", "race___1", "race___2", "race___3", "race",
                                   "dob", "enrollment_complete"]
    assert table["sex"].tolist() == ["Female", "Male"]
    assert table["race"].tolist() == ["Asian | White", "White"]
    assert table["race___1"].tolist() == ["1", "0"]  # the 0/1 columns stay as exported
    assert table["dob"].tolist() == ["8/13/1965", "1/2/1990"]  # dates are the mapping's to read
    assert table["enrollment_complete"].tolist() == ["Complete", "Unverified"]
    assert table.attrs["rows"].tolist() == [1, 5]
    ae = read_form(records(), dictionary(), "adverse_events", "data.csv")
    assert ae["ae_serious"].tolist() == ["No", "Yes"]
    assert ae["redcap_repeat_instance"].tolist() == ["1", "2"]
    assert ae.attrs["rows"].tolist() == [3, 4]


def test_fields_listed_in_codes_keep_their_codes():
    table = read_form(records(), dictionary(), "enrollment", "data.csv", codes=("sex", "race"))
    assert table["sex"].tolist() == ["2", "1"]
    assert table["race"].tolist() == ["1 | 2", "2"]
    with pytest.raises(RawDataError, match=r"redcap.codes: ae_term not a field of instrument 'enrollment'"):
        read_form(records(), dictionary(), "enrollment", "data.csv", codes=("ae_term",))


def test_a_code_the_dictionary_does_not_declare_is_located():
    rows = [list(r) for r in ROWS]
    rows[4][4] = "3"
    rows[0][7] = "x"
    with pytest.raises(RawDataError) as raised:
        read_form(records(rows), dictionary(), "enrollment", "data.csv")
    assert [str(p) for p in raised.value.problems] == [
        "data.csv row 5 (record_id=2, redcap_event_name=screening_arm_1): column sex: '3' is not a code of the "
        "data dictionary (1 Male, 2 Female)",
        "data.csv row 1 (record_id=1, redcap_event_name=screening_arm_1): column race___3: 'x' is not a code of "
        "the data dictionary (0 unchecked, 1 checked)"]


def test_a_column_or_an_instrument_the_dictionary_does_not_have_is_an_error():
    header = HEADER[:-1] + ["ae_grade"]
    with pytest.raises(RawDataError, match=r"data.csv: column 'ae_grade' is not a field of the data dictionary dd.csv"):
        read_form(records(header=header), dictionary(), "enrollment", "data.csv")
    with pytest.raises(RawDataError, match=r"no instrument 'vitals' in the data dictionary dd.csv "
                                           r"\(instruments: enrollment, adverse_events\)"):
        read_form(records(), dictionary(), "vitals", "data.csv")
