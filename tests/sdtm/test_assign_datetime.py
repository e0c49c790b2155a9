"""assign_datetime on a located raw frame: values, located messages, run-report notes."""
import pandas as pd

from sdtm.algorithms import MapContext, assign_datetime
from sdtm.prepare import locate


def raw_frame(**columns) -> pd.DataFrame:
    return locate(pd.DataFrame(columns, dtype=object), "ae.csv", ["PATNUM"])


def context() -> MapContext:
    return MapContext("STUDY1", "AE", "AESTDTC", None, None, [], [])


def test_dates_and_times_with_a_list_of_formats():
    raw = raw_frame(PATNUM=["701", "702", "703"], AESTDAT=["15-Sep-20", "2020-09-16", "17/09/2020"],
                    AESTTIM=["7:25", "", "19:05:00"])
    ctx = context()
    iso = assign_datetime(raw, {"date": "AESTDAT", "time": "AESTTIM",
                                "format": ["DD-MON-YY", "YYYY-MM-DD", "DD/MM/YYYY"]}, ctx)
    assert list(iso) == ["2020-09-15T07:25", "2020-09-16", "2020-09-17T19:05:00"]
    assert ctx.problems == []
    assert ctx.notes == ["AE.AESTDTC from column AESTDAT: 1 value(s) with a two-digit year read with cutoff_2000 "
                         "68 (00-68 -> 20YY, 69-99 -> 19YY)"]


def test_bad_dates_and_times_are_located_one_by_one():
    raw = raw_frame(PATNUM=["701", "702", "703"], AESTDAT=["03/04/2020", "31/02/2020", "14/04/2020"],
                    AESTTIM=["", "", "7h25"])
    ctx = context()
    iso = assign_datetime(raw, {"date": "AESTDAT", "time": "AESTTIM", "format": ["DD/MM/YYYY", "MM/DD/YYYY"]}, ctx)
    assert list(iso) == ["", "", "2020-04-14"]
    assert [str(p) for p in ctx.problems] == [
        "ae.csv row 1 (PATNUM=701): AE.AESTDTC from column AESTDAT: '03/04/2020' reads as 2020-04-03 with "
        "DD/MM/YYYY but as 2020-03-04 with MM/DD/YYYY: a column has one day/month order; keep the one format "
        "that fits it",
        "ae.csv row 2 (PATNUM=702): AE.AESTDTC from column AESTDAT: '31/02/2020' is not a date in DD/MM/YYYY "
        "(no such day in that month), MM/DD/YYYY (month outside 1-12)",
        "ae.csv row 3 (PATNUM=703): AE.AESTDTC from column AESTTIM: '7h25' is not a time in HH:MM, HH:MM:SS",
    ]


def test_a_time_with_a_partial_date_is_left_out_with_a_note():
    raw = raw_frame(PATNUM=["701"], AESTDAT=["UN-SEP-2020"], AESTTIM=["07:00"])
    ctx = context()
    assert list(assign_datetime(raw, {"date": "AESTDAT", "time": "AESTTIM", "format": "DD-MON-YYYY"}, ctx)) == \
        ["2020-09"]
    assert ctx.notes == ["AE.AESTDTC from column AESTDAT: 1 time(s) collected with a partial date left out (a time "
                         "joins only a complete date)"]
