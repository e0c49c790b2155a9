"""Collected dates and times to ISO 8601 (sdtm.dates): every format name, markers, partials, two-digit
years, ambiguity, hand-worked values and pinned messages."""
import pandas as pd
import pytest

from sdtm.dates import parse_datetime, study_day
from specs.vocabulary import DATE_FORMATS, TIME_FORMATS, date_format_problem


def read(values, formats, times=None, time_formats=("HH:MM", "HH:MM:SS"), cutoff_2000=68):
    return parse_datetime(pd.Series(values, dtype=object), None if times is None else pd.Series(times, dtype=object),
                          formats, time_formats, cutoff_2000)


def test_european_dates_with_unknown_parts_and_partials_without_markers():
    parsed = read(["15/06/2023", "UN/06/2023", "un/UNK/2023", "15/UN/2023", "", "06/2023", "2023", "1/6/2023"],
                  "DD/MM/YYYY")
    assert list(parsed.iso) == ["2023-06-15", "2023-06", "2023", "2023---15", "", "2023-06", "2023", "2023-06-01"]
    assert list(parsed.date_problem) == [""] * 8


@pytest.mark.parametrize("name, value, iso", [
    ("YYYY-MM-DD", "2020-09-15", "2020-09-15"),
    ("YYYY-MM-DD", "2020-09", "2020-09"),
    ("YYYYMMDD", "20200915", "2020-09-15"),
    ("YYYY/MM/DD", "2020/09/15", "2020-09-15"),
    ("MM/DD/YYYY", "9/15/2020", "2020-09-15"),
    ("MM/DD/YYYY", "09/2020", "2020-09"),
    ("DD-MM-YYYY", "15-09-2020", "2020-09-15"),
    ("MM-DD-YYYY", "09-15-2020", "2020-09-15"),
    ("DD.MM.YYYY", "15.09.2020", "2020-09-15"),
    ("DD/MM/YY", "15/09/20", "2020-09-15"),
    ("MM/DD/YY", "2/17/21", "2021-02-17"),
    ("DD-MON-YYYY", "4-Oct-2020", "2020-10-04"),
    ("DD-MON-YYYY", "UN-UNK-2019", "2019"),
    ("DD-MON-YYYY", "20-UNK-2019", "2019---20"),
    ("DD-MON-YYYY", "Sep-2020", "2020-09"),
    ("DD-MON-YYYY", "15-September-2020", "2020-09-15"),
    ("DD-MON-YY", "15-Sep-20", "2020-09-15"),
    ("DD MON YYYY", "15 sep 2020", "2020-09-15"),
    ("DD/MON/YYYY", "15/SEP/2020", "2020-09-15"),
    ("DDMONYYYY", "15SEP2020", "2020-09-15"),
    ("DATE9.", "01JAN1960", "1960-01-01"),
    ("ISO 8601", "2020-09-15T07:25:30", "2020-09-15T07:25:30"),
    ("ISO 8601", "2020-09-15T07:25", "2020-09-15T07:25"),
    ("ISO 8601", "2020", "2020"),
    ("DD-MON-YYYY HH:MM", "15-Sep-2020 7:25", "2020-09-15T07:25"),
    ("DD/MM/YYYY HH:MM:SS", "15/09/2020 07:25:30", "2020-09-15T07:25:30"),
    ("DD-MON-YYYY HH:MM AM/PM", "15-Sep-2020 7:25 PM", "2020-09-15T19:25"),
    ("DD-MON-YYYY HH:MM AM/PM", "15-Sep-2020 12:05 am", "2020-09-15T00:05"),
    ("DD-MON-YYYY HH:MM AM/PM", "15-Sep-2020 12:05 P.M.", "2020-09-15T12:05"),
])
def test_each_format_name(name, value, iso):
    parsed = read([value], name)
    assert (parsed.iso[0], parsed.date_problem[0]) == (iso, "")


def test_every_format_name_in_the_vocabulary_is_tested():
    tested = {"YYYY-MM-DD", "YYYYMMDD", "YYYY/MM/DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD-MM-YYYY", "MM-DD-YYYY",
              "DD.MM.YYYY", "DD/MM/YY", "MM/DD/YY", "DD-MON-YYYY", "DD-MON-YY", "DD MON YYYY", "DD/MON/YYYY",
              "DDMONYYYY", "DATE9.", "ISO 8601"}
    assert tested == set(DATE_FORMATS)
    assert set(TIME_FORMATS) == {"HH:MM", "HH:MM:SS", "HH:MM AM/PM", "HH:MM:SS AM/PM", "HHMM"}


def test_times_in_their_own_column():
    parsed = read(["16-May-15"] * 6 + ["UN-May-15", ""], "DD-MON-YY",
                  ["7:25", "07:25:30", "", "UN:UN", "25:00", "7:25 PM", "10:00", "10:00"],
                  ["HH:MM", "HH:MM:SS"])
    assert list(parsed.iso) == ["2015-05-16T07:25", "2015-05-16T07:25:30", "2015-05-16", "2015-05-16",
                                "2015-05-16", "2015-05-16", "2015-05", ""]
    assert list(parsed.time_problem) == ["", "", "", "", "is not a time in HH:MM (hour outside 0-23)",
                                         "is not a time in HH:MM, HH:MM:SS", "", ""]
    # a time collected with a partial date is left out, and counted for the run report
    assert list(parsed.time_dropped) == [False] * 6 + [True, False]


def test_twelve_hour_and_compact_times():
    parsed = read(["2020-09-15"] * 4, "YYYY-MM-DD", ["7:25 PM", "12:00 AM", "7:25:30 pm", "0725"],
                  ["HH:MM AM/PM", "HH:MM:SS AM/PM", "HHMM"])
    assert list(parsed.iso) == ["2020-09-15T19:25", "2020-09-15T00:00", "2020-09-15T19:25:30", "2020-09-15T07:25"]


def test_two_digit_years_follow_cutoff_2000_and_are_counted():
    # cutoff_2000 68 (the default, as sdtm.oak): 00-68 -> 20YY, 69-99 -> 19YY
    parsed = read(["15-Sep-68", "15-Sep-69", "15-Sep-2020"], ["DD-MON-YY", "DD-MON-YYYY"])
    assert list(parsed.iso) == ["2068-09-15", "1969-09-15", "2020-09-15"]
    assert list(parsed.two_digit_year) == [True, True, False]
    assert list(read(["15-Sep-30"], "DD-MON-YY", cutoff_2000=20).iso) == ["1930-09-15"]


def test_values_that_are_not_dates_say_why():
    parsed = read(["31/02/2023", "13/13/2023", "2023-06-15", "UN/UN/UNKN", "05/13/2023"], "DD/MM/YYYY")
    assert list(parsed.iso) == [""] * 5
    assert list(parsed.date_problem) == [
        "is not a date in DD/MM/YYYY (no such day in that month)",
        "is not a date in DD/MM/YYYY (month outside 1-12)",
        "is not a date in DD/MM/YYYY",
        "is not a date in DD/MM/YYYY (the year is unknown)",
        "is not a date in DD/MM/YYYY (month outside 1-12); it reads as MM/DD/YYYY: is the column's day/month "
        "order the other way round?",
    ]
    assert read(["15-SEX-2020"], "DD-MON-YYYY").date_problem[0] == \
        "is not a date in DD-MON-YYYY (no month of that name)"


def test_read_and_unread_values_mixed_only_the_unread_say_why():
    # the messages are worked out on the unread values alone: the read ones around them stay clean
    parsed = read(["15/06/2023", "05/13/2023", "", "16/06/2023"], ["DD/MM/YYYY", "YYYY-MM-DD"])
    assert list(parsed.iso) == ["2023-06-15", "", "", "2023-06-16"]
    assert list(parsed.date_problem) == [
        "", "is not a date in DD/MM/YYYY (month outside 1-12), YYYY-MM-DD; it reads as MM/DD/YYYY: is the "
        "column's day/month order the other way round?", "", ""]


def test_formats_are_tried_in_order():
    parsed = read(["15/09/2020", "2020-09-15", "15-Sep-20"], ["DD/MM/YYYY", "YYYY-MM-DD", "DD-MON-YY"])
    assert list(parsed.iso) == ["2020-09-15"] * 3
    assert list(parsed.date_problem) == [""] * 3


def test_a_value_two_listed_formats_read_differently_is_ambiguous_never_swapped():
    parsed = read(["03/04/2020", "13/04/2020", "14/04/2020", "04/13/2020"], ["DD/MM/YYYY", "MM/DD/YYYY"])
    assert list(parsed.iso) == ["", "2020-04-13", "2020-04-14", ""]
    assert parsed.date_problem[0] == ("reads as 2020-04-03 with DD/MM/YYYY but as 2020-03-04 with MM/DD/YYYY: a "
                                      "column has one day/month order; keep the one format that fits it")
    # a day/month order only some rows disprove: 04/13/2020 can only be US, 13/04/2020 only European
    assert parsed.date_problem[3] == ("reads only as MM/DD/YYYY while other values of the column read as "
                                      "DD/MM/YYYY (e.g. '13/04/2020'): a column has one day/month order")


def test_unknown_format_names_list_the_known_ones():
    assert date_format_problem("DD-MON-YYYY HH:MM") is None
    message = date_format_problem("DD/MMM/YYYY")
    assert message.startswith("unknown date format 'DD/MMM/YYYY' (known: YYYY-MM-DD, YYYYMMDD, ")
    assert message.endswith("see docs/spec-reference.md#date-and-time-formats)")


def test_study_day_has_no_day_zero():
    # RFSTDTC 2023-01-10: the day before is -1, the reference day itself is 1, the next day 2.
    dtc = pd.Series(["2023-01-08", "2023-01-09", "2023-01-10T09:30", "2023-01-11", "2023-03-13", "2023-01"])
    ref = pd.Series(["2023-01-10"] * 6)
    days = study_day(dtc, ref)
    assert list(days[:5]) == [-2, -1, 1, 2, 63]
    assert pd.isna(days[5])


def test_fullmatch_on_ascii_text_is_pythons():
    from sdtm.dates import fullmatch

    text = pd.Series(["2023-06-01", "2023-06-01T10:00", "2023-06", "", "2023-06-01\n"], index=[3, 4, 5, 6, 7],
                     dtype=object)
    held = fullmatch(text, r"\d{4}-\d{2}-\d{2}")
    assert held.tolist() == [True, False, False, False, False]  # the whole value; '$' before a newline is not
    assert held.index.tolist() == [3, 4, 5, 6, 7]


def test_fullmatch_beyond_ascii_reads_digits_as_python_does():
    from sdtm.dates import fullmatch

    # Arabic-Indic digits are digits to Python's re (not to RE2): the whole column is read by re
    text = pd.Series(["٢٠٢٣-06-01", "2023-06-01", "Céphalée"], dtype=object)
    assert fullmatch(text, r"\d{4}-\d{2}-\d{2}").tolist() == [True, True, False]


def test_date_part_reads_each_day_once_from_its_first_ten_characters():
    from sdtm.dates import date_part, datetime_part

    dtc = pd.Series(["2023-06-01T10:00", "2023-06-01", "2023-06", "", "2023-02-30", "2023-06-01T08:15:30"])
    assert date_part(dtc).dt.strftime("%Y-%m-%d").fillna("-").tolist() == \
        ["2023-06-01", "2023-06-01", "-", "-", "-", "2023-06-01"]
    assert datetime_part(dtc).dt.strftime("%H:%M:%S").fillna("-").tolist() == \
        ["10:00:00", "-", "-", "-", "-", "08:15:30"]
