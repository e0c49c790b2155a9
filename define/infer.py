"""Define-XML attributes read from the data written: DataType, Length, SignificantDigits.

Char lengths are counted on the ASCII text the XPT writer stores (``define.transliterate``), so the
Define ``Length`` always equals the XPT length. ISO 8601 variables get a date/time DataType chosen from
their values and no Length. Numbers are ``integer`` when every value is whole, else ``float`` with the
width and decimals of a SAS ``w.d`` format that shows every value (Length = w, SignificantDigits = d).
Work is per distinct value or per whole column; no per-row Python loops.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from define.transliterate import to_ascii

MAX_DECIMALS = 12

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
ISO_PATTERNS = {
    "date": re.compile(rf"{_DATE}"),
    "datetime": re.compile(rf"{_DATE}T{_TIME}"),
    "time": re.compile(rf"T?{_TIME}"),
    "partialDate": re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?"),
    "partialDatetime": re.compile(r"\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?)?)?"),
    "incompleteDatetime": re.compile(r"(?:\d{4}|-)-(?:\d{2}|-)-(?:\d{2}|-)(?:T(?:\d{2}|-)(?::(?:\d{2}|-)(?::(?:\d{2}|-))?)?)?"),
    "durationDatetime": re.compile(r"-?P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?"),
}
# Most specific first: the first type every value fits is the DataType.
DATE_ORDER = ("date", "datetime", "partialDate", "partialDatetime", "incompleteDatetime")
ISO_TYPES = set(ISO_PATTERNS)
NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")


@dataclass(frozen=True)
class Attributes:
    data_type: str
    length: int | None = None
    significant_digits: int | None = None


def text_values(series: pd.Series) -> pd.Series:
    """The non-missing values of a Char column as str ("" and NA are missing, as in SAS)."""
    text = series.astype("string").fillna("")
    return text[text.str.strip() != ""].astype(str)


def ascii_length(values: pd.Series) -> int:
    """The longest value once transliterated to ASCII (0 when there is none)."""
    distinct = pd.unique(values)
    return max((len(to_ascii(v)) for v in distinct), default=0)


def iso_type(name: str, values: pd.Series) -> str | None:
    """The ISO 8601 DataType of a --DTC / --DUR / --ELTM variable whose values all fit one, else None."""
    if name.endswith("DTC"):
        candidates = DATE_ORDER
    elif name.endswith(("DUR", "ELTM")):
        candidates = ("durationDatetime",)
    else:
        return None
    if values.empty:
        return candidates[0]
    distinct = pd.Series(pd.unique(values), dtype=str)
    for kind in candidates:
        if distinct.str.fullmatch(ISO_PATTERNS[kind].pattern).all():
            return kind
    if name.endswith("DTC"):  # full dates mixed with partial date-times, or with missing middle parts
        fits = distinct.str.fullmatch(ISO_PATTERNS["partialDatetime"].pattern) | \
            distinct.str.fullmatch(ISO_PATTERNS["incompleteDatetime"].pattern)
        if fits.all():
            return "incompleteDatetime"
    return None


def decimals(values: np.ndarray) -> np.ndarray:
    """Decimal places each value needs (up to MAX_DECIMALS), vectorized over the column."""
    values = np.asarray(values, dtype=np.float64)
    needed = np.full(values.shape, MAX_DECIMALS, dtype=np.int64)
    todo = np.ones(values.shape, dtype=bool)
    tolerance = np.abs(values) * 1e-12 + 1e-12
    for places in range(MAX_DECIMALS + 1):
        fits = todo & (np.abs(np.round(values, places) - values) <= tolerance)
        needed[fits] = places
        todo &= ~fits
        if not todo.any():
            break
    return needed


def numeric_attributes(values) -> Attributes:
    """integer (Length = widest number of characters, sign included) or float (Length = w, SignificantDigits = d)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return Attributes("integer", 1)
    places = int(decimals(x).max())
    whole = np.floor(np.abs(np.round(x, places)))
    int_digits = np.where(whole >= 1, np.floor(np.log10(np.maximum(whole, 1))) + 1, 1).astype(int)
    width = int((int_digits + (x < 0)).max())
    if places == 0:
        return Attributes("integer", width)
    return Attributes("float", width + 1 + places, places)


def text_number_attributes(values: pd.Series) -> Attributes | None:
    """Attributes of text values that are all numbers as written ('11.0' keeps its decimal), else None."""
    distinct = pd.Series(pd.unique(values), dtype=str).str.strip()
    if distinct.empty or not distinct.str.fullmatch(NUMBER.pattern).all():
        return None
    places = distinct.str.partition(".")[2].str.len()
    length = int(distinct.str.len().max())
    if int(places.max()) == 0 and not distinct.str.contains(".", regex=False).any():
        return Attributes("integer", length)
    return Attributes("float", length, int(places.max()))


def char_attributes(name: str, series: pd.Series, declared: int | None = None) -> tuple[Attributes, int]:
    """(Define attributes, XPT length) of a Char column; the XPT length is the declared one or the longest value."""
    values = text_values(series)
    longest = ascii_length(values)
    xpt_length = declared if declared is not None else max(1, longest)
    kind = iso_type(name, values)
    if kind is not None:
        return Attributes(kind), xpt_length
    return Attributes("text", xpt_length), xpt_length


def value_attributes(sas_type: str, series: pd.Series) -> Attributes:
    """Attributes of the values of one value-level subset (numbers written as text count as numbers)."""
    if sas_type == "Num":
        return numeric_attributes(pd.to_numeric(series, errors="coerce"))
    values = text_values(series)
    as_number = text_number_attributes(values)
    if as_number is not None:
        return as_number
    return Attributes("text", max(1, ascii_length(values)))


def repeating(data: pd.DataFrame) -> bool:
    """More than one record per subject (datasets without USUBJID, such as trial design, do not repeat)."""
    if "USUBJID" not in data.columns:
        return False
    return bool(data["USUBJID"].duplicated().any())
