import pandas as pd

from sdtm.dates import iso_date, iso_datetime, study_day


def test_collected_dates_become_iso_8601_with_unknown_parts_left_out():
    raw = pd.Series(["15/06/2023", "UN/06/2023", "UN/UN/2023", "15/UN/2023", "", "31/02/2023", "2023-06-15"])
    iso, invalid = iso_date(raw, "DD/MM/YYYY")
    assert list(iso) == ["2023-06-15", "2023-06", "2023", "2023---15", "", "", ""]
    assert list(invalid) == [False, False, False, False, False, True, True]


def test_vendor_dates_and_times():
    iso, bad_date, bad_time = iso_datetime(pd.Series(["2023-01-09", "2023-01-09", "2023-01"]),
                                           pd.Series(["08:05", "25:00", "08:00"]), "YYYY-MM-DD")
    assert list(iso) == ["2023-01-09T08:05", "2023-01-09", ""]
    assert list(bad_time) == [False, True, False]
    assert list(bad_date) == [False, False, True]


def test_study_day_has_no_day_zero():
    # RFSTDTC 2023-01-10: the day before is -1, the reference day itself is 1, the next day 2.
    dtc = pd.Series(["2023-01-08", "2023-01-09", "2023-01-10T09:30", "2023-01-11", "2023-03-13", "2023-01"])
    ref = pd.Series(["2023-01-10"] * 6)
    days = study_day(dtc, ref)
    assert list(days[:5]) == [-2, -1, 1, 2, 63]
    assert pd.isna(days[5])
