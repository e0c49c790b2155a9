"""ISO 8601 dates from collected parts, and date arithmetic on ISO 8601 text. Whole columns only."""
from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm.unique import on_unique

UNKNOWN = {"UN", "UNK", "UK", "--", "NK"}
FORMATS = ("DD/MM/YYYY", "YYYY-MM-DD", "DD-MON-YYYY", "YYYYMMDD")
MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}


def _split_parts(dates: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Day, month and year texts of each value in the collected format (missing parts are '')."""
    text = dates.fillna("").astype(str).str.strip().str.upper()
    if fmt == "DD/MM/YYYY":
        parts = text.str.split("/", n=2, expand=True).reindex(columns=[0, 1, 2])
        return parts[0], parts[1], parts[2]
    if fmt == "YYYY-MM-DD":
        parts = text.str.split("-", n=2, expand=True).reindex(columns=[0, 1, 2])
        return parts[2], parts[1], parts[0]
    if fmt == "DD-MON-YYYY":
        parts = text.str.split("-", n=2, expand=True).reindex(columns=[0, 1, 2])
        month = parts[1].map(lambda m: f"{MONTHS[m]:02d}" if m in MONTHS else m)
        return parts[0], month, parts[2]
    if fmt == "YYYYMMDD":
        return text.str[6:8], text.str[4:6], text.str[0:4]
    raise ValueError(f"unknown date format '{fmt}' (known: {', '.join(FORMATS)})")


def iso_date(dates: pd.Series, fmt: str = "DD/MM/YYYY") -> tuple[pd.Series, pd.Series]:
    """Collected dates -> (ISO 8601 text, invalid mask).

    Unknown parts (UN, UNK) are right-truncated ('UN/06/2023' -> '2023-06'); a known day with an unknown
    month keeps the day after a hyphen ('15/UN/2023' -> '2023---15'). Empty input gives ''. A value that is
    no date (wrong shape, month 13, 31 February) is flagged invalid and gives ''.
    """
    text = dates.fillna("").astype(str).str.strip()
    present = text != ""
    day, month, year = (p.fillna("").str.strip() for p in _split_parts(text, fmt))
    unknown_day, unknown_month, unknown_year = day.isin(UNKNOWN), month.isin(UNKNOWN), year.isin(UNKNOWN)
    good_year = year.str.fullmatch(r"\d{4}") | unknown_year
    good_month = month.str.fullmatch(r"\d{1,2}") | unknown_month
    good_day = day.str.fullmatch(r"\d{1,2}") | unknown_day
    month_num = pd.to_numeric(month.where(~unknown_month), errors="coerce")
    day_num = pd.to_numeric(day.where(~unknown_day), errors="coerce")
    good_month &= unknown_month | month_num.between(1, 12)
    good_day &= unknown_day | day_num.between(1, 31)
    complete = present & ~unknown_day & ~unknown_month & ~unknown_year & good_year & good_month & good_day
    calendar = pd.to_datetime(
        year.where(complete) + "-" + month.str.zfill(2) + "-" + day.str.zfill(2), format="%Y-%m-%d",
        errors="coerce")
    valid = present & good_year & good_month & good_day & ~(complete & calendar.isna()) & ~unknown_year
    yyyy = year
    mm = month_num.map(lambda m: f"{int(m):02d}" if pd.notna(m) else "")
    dd = day_num.map(lambda d: f"{int(d):02d}" if pd.notna(d) else "")
    iso = pd.Series(np.where(mm != "", yyyy + "-" + mm, yyyy), index=text.index, dtype=object)
    iso = pd.Series(np.where(dd != "", np.where(mm != "", iso + "-" + dd, yyyy + "---" + dd), iso),
                    index=text.index, dtype=object)
    iso = iso.where(valid, "")
    invalid = present & ~valid
    return iso.astype(object), invalid


def iso_datetime(dates: pd.Series, times: pd.Series | None, fmt: str = "DD/MM/YYYY"
                 ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(ISO 8601 date/time, invalid date mask, invalid time mask). A time joins only a complete date."""
    if times is None:
        iso, bad_date = on_unique(lambda d: iso_date(d, fmt), dates)
        return iso, bad_date.astype(bool), pd.Series(False, index=iso.index)
    iso, bad_date, bad_time = on_unique(lambda d, t: _iso_datetime(d, t, fmt), dates, times)
    return iso, bad_date.astype(bool), bad_time.astype(bool)


def _iso_datetime(dates: pd.Series, times: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    iso, bad_date = iso_date(dates, fmt)
    time_text = times.fillna("").astype(str).str.strip()
    has_time = time_text != ""
    match = time_text.str.fullmatch(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?")
    bad_time = has_time & ~match
    complete = iso.str.len() == 10
    joined = iso + "T" + time_text
    iso = pd.Series(np.where(has_time & match & complete, joined, iso), index=iso.index, dtype=object)
    return iso, bad_date, bad_time


def date_part(dtc: pd.Series) -> pd.Series:
    """The complete date of an ISO 8601 value as datetime64, NaT when the date is partial or missing."""
    def parse(values: pd.Series) -> pd.Series:
        text = values.fillna("").astype(str).str[:10]
        return pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")), format="%Y-%m-%d",
                              errors="coerce")
    return on_unique(parse, dtc).astype("datetime64[ns]")


def study_day(dtc: pd.Series, reference: pd.Series) -> pd.Series:
    """SDTM study day: date - ref + 1 on or after the reference date, date - ref before it. No day 0."""
    delta = (date_part(dtc) - date_part(reference)).dt.days
    return delta.where(delta < 0, delta + 1).astype("Float64")
