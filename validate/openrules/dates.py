"""ISO 8601 tests the open rules use, with CORE's semantics, evaluated once per distinct value.

- complete date: ``datetime.fromisoformat`` accepts it (a full calendar date, time optional);
- valid date: the SDTM ISO 8601 pattern (partial dates, ``-`` for unknown parts, intervals) that also
  parses where it has no unknown part;
- date comparison: both values valid ISO 8601, parsed with missing parts defaulting to January 1st 00:00 (as CORE's
  ``dateutil.parser.parse(default=1970-01-01)`` does), compared as UTC instants; a missing value
  compares false;
- duration: ISO 8601 ``PnYnMnDTnHnMnS`` / ``PnW``, optionally negative.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from dateutil import parser as date_parser

DATE_PATTERN = re.compile(
    r"^((-?[0-9]{4}|-)(-(1[0-2]|0[1-9]|-)(-(3[01]|0[1-9]|[12][0-9]|-)"
    r"(T(2[0-3]|[01][0-9]|-)(:([0-5][0-9]|-)((:([0-5][0-9]|-))?(\.[0-9]+)?"
    r"((Z|[+-](:2[0-3]|[01][0-9]):[0-5][0-9]))?)?)?)?)?)?)(\/((-?[0-9]{4}|-)"
    r"(-(1[0-2]|0[1-9]|-)(-(3[01]|0[1-9]|[12][0-9]|-)(T(2[0-3]|[01][0-9]|-)"
    r"(:([0-5][0-9]|-)((:([0-5][0-9]|-))?(\.[0-9]+)?((Z|[+-](:2[0-3]|[01][0-9])"
    r":[0-5][0-9]))?)?)?)?)?)?))?$"
)
DURATION = r"P(?!$)(?:(?:(\d+(?:[.,]\d*)?Y)?[,]?(\d+(?:[.,]\d*)?M)?[,]?(\d+(?:[.,]\d*)?D)?[,]?" \
           r"(T(?=\d)(?:(\d+(?:[.,]\d*)?H)?[,]?(\d+(?:[.,]\d*)?M)?[,]?(\d+(?:[.,]\d*)?S)?)?)?)|(\d+(?:[.,]\d*)?W))$"
DURATION_POSITIVE = re.compile(rf"^{DURATION}")
DURATION_SIGNED = re.compile(rf"^-?{DURATION}")
UNCERTAIN = ("/", "--", "-:")
DEFAULT = datetime(1970, 1, 1)


def per_distinct(series: pd.Series, func, dtype, fill) -> np.ndarray:
    """``func`` of every distinct non-null value, spread back over the rows (``fill`` for nulls)."""
    codes, uniques = pd.factorize(series)
    values = np.array([func(u) for u in uniques], dtype=dtype) if len(uniques) else np.array([], dtype=dtype)
    out = np.full(len(series), fill, dtype=dtype)
    valid = codes >= 0
    out[valid] = values[codes[valid]]
    return out


def _complete(value) -> bool:
    text = str(value)
    try:
        datetime.fromisoformat(text)
        return True
    except ValueError:
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
            return True
        except ValueError:
            return False


def is_complete_date(series: pd.Series) -> np.ndarray:
    return per_distinct(series, _complete, bool, False)


def _valid(value) -> bool:
    text = str(value)
    try:
        date_parser.isoparse(text)
    except (ValueError, OverflowError):
        if any(part in text for part in UNCERTAIN):
            return DATE_PATTERN.match(text) is not None
        return False
    return DATE_PATTERN.match(text) is not None


def is_valid_date(series: pd.Series) -> np.ndarray:
    return per_distinct(series, _valid, bool, False)


def _valid_duration(value, negative_allowed: bool) -> bool:
    match = (DURATION_SIGNED if negative_allowed else DURATION_POSITIVE).match(str(value))
    if not match:
        return False
    years, months, days, time_part, hours, minutes, seconds, weeks = match.groups()
    if time_part and not any([hours, minutes, seconds]):
        return False
    parts = [c for c in (years, months, weeks, days, hours, minutes, seconds) if c is not None]
    decimals = [i for i, c in enumerate(parts) if "." in c or "," in c]
    return not decimals or decimals == [len(parts) - 1]


def is_valid_duration(series: pd.Series, negative_allowed: bool) -> np.ndarray:
    return per_distinct(series, lambda v: _valid_duration(v, negative_allowed), bool, False)


def _instant(value) -> float:
    """Seconds since the epoch (UTC) of an ISO 8601 date as dateutil reads it; NaN when it is not ISO 8601
    ('2019-01-07T6:10' is not compared, as CORE does not compare it)."""
    if not _valid(value):
        return np.nan
    try:
        parsed = date_parser.parse(str(value), default=DEFAULT)
    except (ValueError, OverflowError, TypeError):
        return np.nan
    if parsed.tzinfo is None or parsed.tzinfo.utcoffset(parsed) is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _instants_of(uniques: pd.Series) -> np.ndarray:
    """Instants of distinct values: pandas' ISO 8601 parser for the common forms (whole column at once),
    dateutil for the rest (partial dates with unknown middle parts)."""
    valid = np.array([_valid(v) for v in uniques], dtype=bool)
    parsed = pd.to_datetime(uniques.where(valid, None), format="ISO8601", errors="coerce", utc=True)
    out = np.array((parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds(), dtype="float64")
    rest = np.flatnonzero(valid & np.isnan(out))
    for i in rest:
        out[i] = _instant(uniques.iloc[i])
    return out


def instants(values) -> np.ndarray:
    """Comparable instants of a column (NaN for missing or unreadable values) or of one literal."""
    if isinstance(values, pd.Series):
        codes, uniques = pd.factorize(values)
        out = np.full(len(values), np.nan)
        if len(uniques):
            mapped = _instants_of(pd.Series(uniques, dtype=object).astype(str))
            out[codes >= 0] = mapped[codes[codes >= 0]]
        return out
    if values is None or (isinstance(values, float) and np.isnan(values)) or str(values).strip() == "":
        return np.array(np.nan)
    return np.array(_instant(values))


def _calendar_days(value) -> float:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return np.nan
    return float(parsed.date().toordinal())


def calendar_days(series: pd.Series) -> np.ndarray:
    """Day number of complete dates (time ignored), NaN otherwise: what --DY is computed from."""
    return per_distinct(series, _calendar_days, "float64", np.nan)
