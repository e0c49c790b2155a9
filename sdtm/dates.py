"""ISO 8601 dates from collected dates and times, in the formats a spec names, and date arithmetic on ISO
8601 text. Whole columns; each distinct collected value is parsed once.

The format names are the vocabulary's (``specs.vocabulary.DATE_FORMATS``, ``TIME_FORMATS``). A column's
formats are tried in order and the first that reads a value gives its ISO 8601 form; a value that two
listed formats read differently (03/04/2020 in DD/MM/YYYY and MM/DD/YYYY) is ambiguous and reported, never
resolved by the order of the list. Unknown parts (UN, UNK, ...) are right-truncated ('UN/06/2023' ->
'2023-06'); a known day with an unknown month keeps the day after a hyphen ('15/UN/2023' -> '2023---15');
an unknown year makes the value unusable. A time joins only a complete date.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from sdtm.unique import on_unique, text_of
from specs.vocabulary import (CUTOFF_2000, DATE_FORMATS, DEFAULT_TIME_FORMATS, TIME_FORMATS, UNKNOWN_MARKERS,
                              split_datetime_format)

_MONTH_NAMES = ["JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
                "OCTOBER", "NOVEMBER", "DECEMBER"]
MONTHS = {**{m[:3]: i for i, m in enumerate(_MONTH_NAMES, 1)}, **{m: i for i, m in enumerate(_MONTH_NAMES, 1)},
          "SEPT": 9}
_MARKER = "|".join(re.escape(m) for m in sorted(UNKNOWN_MARKERS, key=len, reverse=True))
_DATE_TOKEN = re.compile(r"YYYY|YY|MON|MM|DD|.")
_TIME_TOKEN = re.compile(r"AM/PM|HH|MM|SS|.")
_DATE_PARTS = {
    "YYYY": rf"(?P<year>\d{{4}}|{_MARKER})",
    "YY": rf"(?P<yy>\d{{2}}|{_MARKER})",
    "MM": rf"(?P<month>\d{{1,2}}|{_MARKER})",
    "MON": rf"(?P<mon>[A-Z]{{3,9}}|{_MARKER})",
    "DD": rf"(?P<day>\d{{1,2}}|{_MARKER})",
}
_TIME_PARTS = {
    "HH": rf"(?P<hour>\d{{1,2}}|{_MARKER})",
    "MM": rf"(?P<minute>\d{{2}}|{_MARKER})",
    "SS": rf"(?P<second>\d{{2}}(?:\.\d+)?|{_MARKER})",
    "AM/PM": r"(?P<ampm>[AP]\.?M\.?)",
}
_ISO = (r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})(?:[T ](?P<hour>\d{2})(?::(?P<minute>\d{2})"
        r"(?::(?P<second>\d{2}(?:\.\d+)?))?)?)?)?)?")
_GROUPS = ["year", "yy", "month", "mon", "day", "hour", "minute", "second", "ampm"]


def _separator(token: str) -> str:
    return r"\s+" if token == " " else re.escape(token)


def _without(tokens: list[str], part: str) -> list[str]:
    """The format's tokens with one part and one separator next to it left out (DD/MM/YYYY -> MM/YYYY)."""
    at = tokens.index(part)
    if at + 1 < len(tokens) and tokens[at + 1] not in _DATE_PARTS:
        return tokens[:at] + tokens[at + 2:]
    if at > 0 and tokens[at - 1] not in _DATE_PARTS:
        return tokens[:at - 1] + tokens[at + 1:]
    return tokens[:at] + tokens[at + 1:]


@lru_cache(maxsize=None)
def format_patterns(name: str) -> tuple[re.Pattern, ...]:
    """The regular expressions a format reads, the complete form first, then its partials without markers."""
    date_name, time_name = split_datetime_format(name)
    if date_name == "ISO 8601":
        return (re.compile(_ISO),)
    date_name = "DDMONYYYY" if date_name == "DATE9." else date_name
    tokens = _DATE_TOKEN.findall(date_name)
    time_regex = ""
    if time_name:
        time_regex = r"(?:\s+|T)" + "".join(_TIME_PARTS.get(t) or _separator(t) for t in _TIME_TOKEN.findall(time_name))
    variants = [tokens]
    if not time_name:  # partials without markers: no day; no day and no month (not for two-digit years)
        month = "MON" if "MON" in tokens else "MM"
        variants.append(_without(tokens, "DD"))
        if "YYYY" in tokens:
            variants.append(_without(variants[-1], month))
    return tuple(re.compile("".join(_DATE_PARTS.get(t) or _separator(t) for t in variant) + time_regex)
                 for variant in variants)


@lru_cache(maxsize=None)
def time_pattern(name: str) -> re.Pattern:
    return re.compile("".join(_TIME_PARTS.get(t) or _separator(t) for t in _TIME_TOKEN.findall(name)))


def _extract(values: pd.Series, patterns: tuple[re.Pattern, ...]) -> pd.DataFrame:
    """Named parts of each value under the first pattern that matches it whole (NaN where none does)."""
    out = pd.DataFrame(np.nan, index=values.index, columns=_GROUPS + ["matched"], dtype=object)
    out["matched"] = False
    left = values.index
    for pattern in patterns:
        if not len(left):
            break
        found = values.loc[left].str.extract("^(?:" + pattern.pattern + r")\Z")
        rows = found.index[found.notna().any(axis=1).to_numpy(dtype=bool)]
        for group in found.columns:
            out.loc[rows, group] = found.loc[rows, group]
        out.loc[rows, "matched"] = True
        left = left.difference(rows)
    return out


def _is_marker(part: pd.Series) -> pd.Series:
    return part.isin(UNKNOWN_MARKERS)


def _number(part: pd.Series) -> pd.Series:
    return pd.to_numeric(part.where(~_is_marker(part)), errors="coerce")


@dataclass
class _Read:
    """One format's reading of distinct values: matched shape, ISO text, problem ('' when none)."""

    matched: pd.Series
    iso: pd.Series
    problem: pd.Series
    two_digit: pd.Series
    time_dropped: pd.Series


def _read_time(parts: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(ISO time text, problem) from hour/minute/second/ampm parts; '' where no time was given."""
    hour_text, minute_text, second_text = parts["hour"], parts["minute"], parts["second"]
    hour, minute = _number(hour_text), _number(minute_text)
    second = _number(second_text)
    ampm = text_of(parts["ampm"]).str.replace(".", "", regex=False)
    twelve = ampm != ""
    problem = pd.Series("", index=parts.index, dtype=object)
    problem = problem.mask(twelve & hour.notna() & ~hour.between(1, 12), "hour outside 1-12 with AM/PM")
    problem = problem.mask(~twelve & hour.notna() & ~hour.between(0, 23), "hour outside 0-23")
    problem = problem.mask(minute.notna() & ~minute.between(0, 59), "minute outside 0-59")
    problem = problem.mask(second.notna() & ((second < 0) | (second >= 60)), "second outside 0-59")
    hour = hour.where(~twelve, (hour % 12) + np.where(ampm == "PM", 12, 0))
    hh = hour.map(lambda h: "" if pd.isna(h) else f"{int(h):02d}")
    mm = minute.map(lambda m: "" if pd.isna(m) else f"{int(m):02d}")
    ss = second_text.where(second.notna(), "").fillna("").astype(str)
    text = hh.where(hh == "", hh + np.where(mm != "", ":" + mm, ""))
    text = text.where((mm == "") | (ss == ""), text + ":" + ss)
    return text.where(problem == "", "").astype(object), problem


def _read(values: pd.Series, name: str, cutoff_2000: int) -> _Read:
    parts = _extract(values, format_patterns(name))
    matched = parts["matched"].astype(bool)
    year_text, yy_text = parts["year"], parts["yy"]
    two_digit = yy_text.notna() & ~_is_marker(yy_text.fillna(""))
    yy = _number(yy_text)
    year = _number(year_text).fillna(yy + np.where(yy <= cutoff_2000, 2000, 1900))
    month = _number(parts["month"])
    mon_text = parts["mon"]
    month = month.fillna(mon_text.map(MONTHS))
    day = _number(parts["day"])
    problem = pd.Series("", index=values.index, dtype=object)
    bad_month_name = mon_text.notna() & ~_is_marker(mon_text.fillna("")) & ~mon_text.isin(list(MONTHS))
    problem = problem.mask(bad_month_name, "no month of that name")
    problem = problem.mask(month.notna() & ~month.between(1, 12), "month outside 1-12")
    problem = problem.mask(day.notna() & ~day.between(1, 31), "day outside 1-31")
    complete = year.notna() & month.notna() & day.notna()
    calendar = pd.to_datetime(pd.DataFrame({"year": year.where(complete), "month": month.where(complete),
                                            "day": day.where(complete)}), errors="coerce")
    problem = problem.mask((problem == "") & complete & calendar.isna(), "no such day in that month")
    problem = problem.mask((problem == "") & year.isna(), "the year is unknown")
    yyyy = year.map(lambda y: "" if pd.isna(y) else f"{int(y):04d}")
    mm = month.map(lambda m: "" if pd.isna(m) else f"{int(m):02d}")
    dd = day.map(lambda d: "" if pd.isna(d) else f"{int(d):02d}")
    iso = yyyy + np.where(mm != "", "-" + mm + np.where(dd != "", "-" + dd, ""), np.where(dd != "", "---" + dd, ""))
    time_text, time_problem = _read_time(parts)
    problem = problem.mask((problem == "") & (time_problem != ""), time_problem)
    with_time = complete & (time_text != "")
    iso = pd.Series(np.where(with_time, iso + "T" + time_text, iso), index=values.index, dtype=object)
    problem = problem.where(matched, "")
    return _Read(matched, iso.where(matched & (problem == ""), ""), problem, two_digit & matched,
                 matched & ~complete & (time_text != ""))


# Each distinct value is read once per process and format: dates and times repeat across the domains of a
# study and across its chunks of subjects (a worker maps several). Bounded: cleared when it grows past this.
_MEMO_LIMIT = 200_000
_DATE_READS: dict[tuple[str, int], dict[str, tuple]] = {}
_TIME_READS: dict[tuple[str, ...], dict[str, tuple]] = {}


def _memoized(memo: dict, text: pd.Series, read, fields: int) -> list[pd.Series]:
    """``read(values)`` (a tuple of ``fields`` Series aligned with its values) for each value of ``text``,
    from ``memo`` (value -> tuple of results), reading only the values it does not hold."""
    values = text.to_numpy(dtype=object)
    new = [v for v in dict.fromkeys(values) if v not in memo]
    if new:
        if len(memo) + len(new) > _MEMO_LIMIT:
            memo.clear()
            new = list(dict.fromkeys(values))
        memo.update(zip(new, zip(*(r.to_numpy() for r in read(pd.Series(new, dtype=object))))))
    rows = [memo[v] for v in values]
    columns = list(zip(*rows)) if rows else [()] * fields
    return [pd.Series(list(c), index=text.index, dtype=object) for c in columns]


def _read_once(text: pd.Series, name: str, cutoff_2000: int) -> _Read:
    """_read, each distinct value once per process (see _memoized)."""
    def read(values):
        found = _read(values, name, cutoff_2000)
        return found.matched, found.iso, found.problem, found.two_digit, found.time_dropped
    matched, iso, problem, two_digit, dropped = _memoized(_DATE_READS.setdefault((name, cutoff_2000), {}), text,
                                                          read, 5)
    return _Read(matched.astype(bool), iso, problem, two_digit.astype(bool), dropped.astype(bool))


def _swapped(name: str) -> str | None:
    """The format with day and month the other way round (DD/MM/YYYY <-> MM/DD/YYYY), if known."""
    date_name, time_name = split_datetime_format(name)
    tokens = _DATE_TOKEN.findall(date_name)
    if "DD" not in tokens or "MM" not in tokens:
        return None
    swapped = "".join({"DD": "MM", "MM": "DD"}.get(t, t) for t in tokens)
    swapped = swapped if time_name is None else f"{swapped} {time_name}"
    return swapped if split_datetime_format(swapped) else None


@dataclass
class ParsedDates:
    """Row-aligned result of reading a date column (and its time column)."""

    iso: pd.Series  # ISO 8601 text, '' when missing or unreadable
    date_problem: pd.Series  # '' or why the date was not read (the value is not repeated)
    time_problem: pd.Series  # '' or why the time was not read
    two_digit_year: pd.Series  # bool: the year was read from two digits with cutoff_2000
    time_dropped: pd.Series  # bool: a time was collected with a partial date


def read_dates(values: pd.Series, formats, cutoff_2000: int = CUTOFF_2000) -> tuple[pd.Series, ...]:
    """(iso, problem, two_digit, time_dropped) of distinct collected dates under formats tried in order."""
    formats = [formats] if isinstance(formats, str) else list(formats)
    text = text_of(values).str.strip().str.upper()
    present = text != ""
    reads = [_read_once(text, name, cutoff_2000) for name in formats]
    iso = pd.Series("", index=text.index, dtype=object)
    chosen = pd.Series("", index=text.index, dtype=object)
    two_digit = pd.Series(False, index=text.index)
    time_dropped = pd.Series(False, index=text.index)
    problem = pd.Series("", index=text.index, dtype=object)
    for name, read in zip(formats, reads):
        take = present & (chosen == "") & read.matched & (read.problem == "")
        iso, chosen = iso.mask(take, read.iso), chosen.mask(take, name)
        two_digit, time_dropped = two_digit | (take & read.two_digit), time_dropped | (take & read.time_dropped)
    for name, read in zip(formats, reads):  # a value another listed format reads differently is ambiguous
        other = present & (chosen != "") & (chosen != name) & read.matched & (read.problem == "") & \
            (read.iso != iso)
        message = "reads as " + iso + " with " + chosen + " but as " + read.iso + " with " + name + \
            ": a column has one day/month order; keep the one format that fits it"
        problem = problem.mask(other & (problem == ""), message)
    for name in formats:  # values read only in one order while others read only in the other
        sibling = _swapped(name)
        if sibling in formats and formats.index(sibling) > formats.index(name):
            first = present & (chosen == name) & (problem == "")
            later = present & (chosen == sibling) & (problem == "")
            if first.any() and later.any():
                example = text[first].iloc[0]
                problem = problem.mask(later, f"reads only as {sibling} while other values of the column read "
                                              f"as {name} (e.g. '{example}'): a column has one day/month order")
    unread = present & (chosen == "")
    if unread.any():  # the messages (and the other-order reads behind their hints) of unread values only
        problem = problem.mask(unread, _unread_message(text[unread], formats, reads, unread, cutoff_2000))
    iso = iso.where(problem == "", "")
    return iso, problem, two_digit & (problem == ""), time_dropped & (problem == "")


def _unread_message(text: pd.Series, formats: list[str], reads: list[_Read], unread: pd.Series,
                   cutoff_2000: int) -> pd.Series:
    """Why each of the unread ``text`` values is not a date: each format with its problem, and a hint when
    the value reads in the other day/month order."""
    message = pd.Series("is not a date in ", index=text.index, dtype=object)
    for position, (name, read) in enumerate(zip(formats, reads)):  # each format with why it did not read
        matched, problem = read.matched[unread], read.problem[unread]
        why = pd.Series(np.where(matched & (problem != ""), " (" + problem + ")", ""), index=text.index, dtype=object)
        message = message + ("" if position == 0 else ", ") + name + why
    for name in formats:
        sibling = _swapped(name)
        if sibling and sibling not in formats:
            fits = _read_once(text, sibling, cutoff_2000)
            hint = f"; it reads as {sibling}: is the column's day/month order the other way round?"
            message = message.mask(fits.matched & (fits.problem == ""), message + hint)
    return message


def read_times(values: pd.Series, formats=DEFAULT_TIME_FORMATS) -> tuple[pd.Series, pd.Series]:
    """(ISO time text, problem) of distinct collected times under formats tried in order."""
    formats = [formats] if isinstance(formats, str) else list(formats)
    text = text_of(values).str.strip().str.upper()
    memo = _TIME_READS.setdefault(tuple(formats), {})
    out, problem = _memoized(memo, text, lambda distinct: _read_times(distinct, formats), 2)
    return out, problem


def _read_times(text: pd.Series, formats: list[str]) -> tuple[pd.Series, pd.Series]:
    out = pd.Series("", index=text.index, dtype=object)
    problem = pd.Series("", index=text.index, dtype=object)
    done = text == ""
    for name in formats:
        parts = _extract(text.where(~done, "\0"), (time_pattern(name),))
        matched = parts["matched"].astype(bool) & ~done
        time_text, reason = _read_time(parts)
        unknown = matched & (time_text == "") & (reason == "")  # UN:UN: a time not known
        out = out.mask(matched & (reason == ""), time_text)
        problem = problem.mask(matched & (reason != "") & (problem == ""), name + " (" + reason + ")")
        done = done | (matched & (reason == "")) | unknown
    problem = problem.mask(~done & (problem == ""), f"is not a time in {', '.join(formats)}")
    problem = problem.where(~done, "")
    problem = problem.mask(problem.str.len().gt(0) & ~problem.str.startswith("is not"), "is not a time in " + problem)
    return out.where(problem == "", ""), problem


def parse_datetime(dates: pd.Series, times: pd.Series | None = None, formats="ISO 8601",
                   time_formats=DEFAULT_TIME_FORMATS, cutoff_2000: int = CUTOFF_2000) -> ParsedDates:
    """Collected dates (and times) -> ISO 8601, with the problems of each row (see the module doc)."""
    if times is None:
        iso, problem, two_digit, dropped = on_unique(lambda d: read_dates(d, formats, cutoff_2000), dates)
        time_problem = pd.Series("", index=dates.index, dtype=object)
    else:  # worked out per distinct (date, time) pair, each distinct date and time read once within
        iso, problem, time_problem, two_digit, dropped = on_unique(
            lambda d, t: _date_and_time(d, t, formats, time_formats, cutoff_2000), dates, times)
    return ParsedDates(iso.astype(object), problem.astype(object), time_problem.astype(object),
                       two_digit.astype(bool), dropped.astype(bool))


def _date_and_time(dates: pd.Series, times: pd.Series, formats, time_formats, cutoff_2000: int) -> tuple:
    iso, problem, two_digit, dropped = on_unique(lambda d: read_dates(d, formats, cutoff_2000), dates)
    time_text, time_problem = on_unique(lambda t: read_times(t, time_formats), times)
    complete = iso.str.len() == 10
    has_time = time_text != ""
    dropped = dropped | (has_time & (iso != "") & ~complete)
    return _joined(iso, time_text), problem, time_problem, two_digit, dropped


def _joined(iso: pd.Series, time_text: pd.Series) -> pd.Series:
    """'2023-06-01' and '08:30' -> '2023-06-01T08:30'; a partial date or no time: the date alone."""
    with_time = (time_text != "") & (iso.str.len() == 10)
    return pd.Series(np.where(with_time, iso + "T" + time_text, iso), index=iso.index, dtype=object)


def fullmatch(text: pd.Series, pattern: str) -> pd.Series:
    """``text.str.fullmatch(pattern)`` of an object column of str (as text_of gives it): on pyarrow's regular
    expressions (RE2, in C) when every value is ASCII, where RE2 and Python's re read the digit and word
    classes the same way; Python's re, one value at a time, otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(text.to_numpy(), type=pa.large_string())
    if not pc.all(pc.string_is_ascii(array)).as_py():
        return text.str.fullmatch(pattern).astype(bool)
    held = pc.match_substring_regex(array, f"^(?:{pattern})$").to_numpy(zero_copy_only=False)
    return pd.Series(held, index=text.index, dtype=bool)


def date_part(dtc: pd.Series) -> pd.Series:
    """The complete date of an ISO 8601 value as datetime64, NaT when the date is partial or missing."""
    def parse(dates: pd.Series) -> pd.Series:
        return pd.to_datetime(dates.where(fullmatch(dates, r"\d{4}-\d{2}-\d{2}")), format="%Y-%m-%d",
                              errors="coerce")
    # each distinct value's first ten characters, and those (the values of a day share them) read once
    return on_unique(lambda values: on_unique(parse, text_of(values).str[:10]), dtc).astype("datetime64[ns]")


def datetime_part(dtc: pd.Series) -> pd.Series:
    """The date and time (to the minute or second) of an ISO 8601 value as datetime64, NaT when the date is
    partial or the time missing or partial."""
    def parse(values: pd.Series) -> pd.Series:
        text = text_of(values)
        whole = fullmatch(text, r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
        return pd.to_datetime(text.where(whole), format="ISO8601", errors="coerce")
    return on_unique(parse, dtc).astype("datetime64[ns]")


def iso_datetime(moments: pd.Series) -> pd.Series:
    """datetime64 -> ISO 8601 text to the minute ('2023-01-05T09:55'), with seconds when there are some;
    '' for NaT. Each distinct moment formatted once."""
    return on_unique(_iso_datetime, moments)


def _iso_datetime(moments: pd.Series) -> pd.Series:
    minutes = moments.dt.strftime("%Y-%m-%dT%H:%M")
    seconds = moments.dt.strftime("%Y-%m-%dT%H:%M:%S")
    text = minutes.where(moments.dt.second.fillna(0) == 0, seconds)
    return text.where(moments.notna(), "").astype(object)


_DURATION = r"(?P<sign>-)?P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"


def duration(text: pd.Series) -> pd.Series:
    """ISO 8601 durations of days, hours, minutes and seconds ('-PT10M', 'PT1H30M', 'P1DT2H') as timedelta64;
    NaT for anything else (years and months have no fixed length)."""
    return on_unique(_durations, text).astype("timedelta64[ns]")


def _durations(text: pd.Series) -> pd.Series:
    parts = text_of(text).str.fullmatch(_DURATION)
    found = text_of(text).str.extract(f"^{_DURATION}$")
    # float even when there is no row (to_numeric keeps an empty text column as text)
    numbers = found[["d", "h", "m", "s"]].apply(pd.to_numeric, errors="coerce").astype(float)
    seconds = (numbers["d"].fillna(0) * 86400 + numbers["h"].fillna(0) * 3600 + numbers["m"].fillna(0) * 60
               + numbers["s"].fillna(0))
    seconds = seconds.where(found["sign"] != "-", -seconds)
    valid = parts & numbers.notna().any(axis=1) & (text_of(text) != "")
    return pd.to_timedelta(seconds.where(valid), unit="s")


def study_day(dtc: pd.Series, reference: pd.Series) -> pd.Series:
    """SDTM study day: date - ref + 1 on or after the reference date, date - ref before it. No day 0."""
    delta = (date_part(dtc) - date_part(reference)).dt.days
    return delta.where(delta < 0, delta + 1).astype("Float64")


__all__ = ["DATE_FORMATS", "TIME_FORMATS", "ParsedDates", "parse_datetime", "read_dates", "read_times",
           "date_part", "datetime_part", "duration", "iso_datetime", "study_day"]
