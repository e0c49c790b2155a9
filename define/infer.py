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
import pyarrow as pa
import pyarrow.compute as pc

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


def text_codes(series: pd.Series, drop_blank: bool = True) -> tuple[np.ndarray, pd.Series]:
    """A column as text, factorized: (each record's position among the distinct values, -1 = missing;
    the distinct values as a pyarrow-backed "string" Series in order of first appearance).

    Values read as ``series.astype("string")`` would show them; NA and "" are missing, and with
    ``drop_blank`` so is a value of blanks only (as in SAS). Text columns are factorized as they are
    (hashing the records once); other columns are turned into text first.
    """
    if isinstance(series.dtype, pd.StringDtype):  # Arrow text: factorized by pyarrow, the values stay Arrow
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        texts = pd.Series(uniques).astype("string")
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True) if series.dtype == object else (None, None)
        if uniques is not None and pd.api.types.infer_dtype(uniques, skipna=True) in ("string", "empty"):
            texts = pd.Series(np.asarray(uniques, dtype=object), dtype="string")
        else:  # numbers, dates or a mix: their text, as astype("string") writes it (1 and 1.0 differ)
            codes, uniques = pd.factorize(series.astype("string"), use_na_sentinel=True)
            texts = pd.Series(uniques).astype("string")
    codes = np.asarray(codes, dtype=np.int64)
    missing = (texts.str.strip() == "") if drop_blank else (texts == "")
    if missing.any():
        keep = ~missing.to_numpy(dtype=bool)
        remap = np.full(len(texts) + 1, -1, dtype=np.int64)  # remap[-1] = -1: missing stays missing
        remap[np.flatnonzero(keep)] = np.arange(int(keep.sum()))
        codes, texts = remap[codes], texts[keep].reset_index(drop=True)
    return codes, texts


class TextColumn:
    """A Char column (or a subset of its records) read once: the distinct present values and which
    record holds which, so that every attribute is worked out once per distinct value."""

    def __init__(self, codes: np.ndarray, texts: pd.Series, rows: np.ndarray | None = None):
        self.codes = codes  # per record: position in texts, -1 when missing
        self.texts = texts  # distinct present values, first appearance first ("string" dtype)
        self.rows = rows  # positions of these records in the whole column (None: all of them)
        self._ascii_lengths: np.ndarray | None = None

    @classmethod
    def of(cls, series: pd.Series, drop_blank: bool = True) -> "TextColumn":
        return cls(*text_codes(series, drop_blank))

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def present(self) -> int:
        """How many records hold a value."""
        return int((self.codes >= 0).sum())

    @property
    def values(self) -> list[str]:
        """The distinct present values, in order of first appearance."""
        return self.texts.astype(object).tolist()

    @property
    def ascii_lengths(self) -> np.ndarray:
        """The length of each distinct value once transliterated to ASCII (as the XPT writer stores it)."""
        if self._ascii_lengths is None:
            values = pa.array(self.texts)
            lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False).astype(np.int64)
            changed = ~pc.string_is_ascii(values).to_numpy(zero_copy_only=False).astype(bool)
            for i in np.flatnonzero(changed):  # only the distinct non-ASCII values go through Python
                lengths[i] = len(to_ascii(self.texts.iloc[i]))
            self._ascii_lengths = lengths
        return self._ascii_lengths

    def take(self, rows: np.ndarray) -> "TextColumn":
        """The records at ``rows`` (positions), with their own distinct values in order of first appearance."""
        codes = self.codes[rows]
        used = pd.unique(codes[codes >= 0])
        remap = np.full(len(self.texts) + 1, -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        taken = TextColumn(remap[codes], self.texts.iloc[used].reset_index(drop=True),
                           rows if self.rows is None else self.rows[rows])
        if self._ascii_lengths is not None:
            taken._ascii_lengths = self._ascii_lengths[used]
        return taken

    @classmethod
    def of_numbers(cls, numbers: np.ndarray) -> "TextColumn":
        """Numbers as codelist values (1.0 -> '1', 2.5 -> '2.5'), each distinct number formatted once."""
        codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
        texts = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in uniques]
        merged, distinct = pd.factorize(pd.Series(texts, dtype=object))  # -0.0 and 0.0 are both '0'
        remap = np.append(np.asarray(merged, dtype=np.int64), -1)
        return cls(remap[np.asarray(codes, dtype=np.int64)], pd.Series(np.asarray(distinct, dtype=object),
                                                                       dtype="string"))


class DistinctText(TextColumn):
    """A Char column's distinct present values (first appearance first) and how many records hold one, counted
    by pyarrow without placing each record: what a variable's define.xml attributes need. Each record's position
    among the values (``codes``) is worked out only if asked for (a codelist decoded from another variable)."""

    def __init__(self, series: pd.Series, texts: pd.Series, present: int, drop_blank: bool):
        self._series, self._present, self._drop_blank = series, present, drop_blank
        self._codes: np.ndarray | None = None
        self.texts, self.rows, self._ascii_lengths = texts, None, None

    @classmethod
    def of(cls, series: pd.Series, drop_blank: bool = True) -> TextColumn:
        """The distinct values of an Arrow-backed text column; a ``TextColumn`` for a column of any other kind."""
        if not (isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow"):
            return TextColumn.of(series, drop_blank)
        counted = pc.value_counts(series.array.__arrow_array__())  # (first appearance first, as factorize)
        values, counts = counted.field("values"), counted.field("counts").to_numpy(zero_copy_only=False)
        valid = values.is_valid().to_numpy(zero_copy_only=False)
        uniques = pd.Series(pd.array(values.filter(values.is_valid()), dtype=series.dtype)).astype("string")
        missing = ((uniques.str.strip() == "") if drop_blank else (uniques == "")).to_numpy(dtype=bool)
        keep = ~missing
        texts = uniques[keep].reset_index(drop=True)
        return cls(series, texts, int(counts[valid][keep].sum()), drop_blank)

    @property
    def codes(self) -> np.ndarray:
        if self._codes is None:
            self._codes, texts = text_codes(self._series, self._drop_blank)
            assert len(texts) == len(self.texts)  # (the same values in the same order: one hash of the column)
        return self._codes

    def __len__(self) -> int:
        return len(self._series)

    @property
    def present(self) -> int:
        return self._present


def numbers(series: pd.Series) -> np.ndarray:
    """A Num column as float64 (a value that is not a number is missing)."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def iso_type(name: str, values) -> str | None:
    """The ISO 8601 DataType of a --DTC / --DUR / --ELTM variable whose values all fit one, else None."""
    if name.endswith("DTC"):
        candidates = DATE_ORDER
    elif name.endswith(("DUR", "ELTM")):
        candidates = ("durationDatetime",)
    else:
        return None
    distinct = values.texts if isinstance(values, TextColumn) else pd.Series(pd.unique(values), dtype=str)
    if distinct.empty:
        return candidates[0]
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
    x = pd.unique(x[~np.isnan(x)])  # each distinct number once: the widths and decimals are maxima
    if x.size == 0:
        return Attributes("integer", 1)
    places = int(decimals(x).max())
    whole = np.floor(np.abs(np.round(x, places)))
    int_digits = np.where(whole >= 1, np.floor(np.log10(np.maximum(whole, 1))) + 1, 1).astype(int)
    width = int((int_digits + (x < 0)).max())
    if places == 0:
        return Attributes("integer", width)
    return Attributes("float", width + 1 + places, places)


def text_number_attributes(values) -> Attributes | None:
    """Attributes of text values that are all numbers as written ('11.0' keeps its decimal), else None."""
    distinct = as_text(values).texts.str.strip()
    if distinct.empty or not distinct.str.fullmatch(NUMBER.pattern).all():
        return None
    places = distinct.str.partition(".")[2].str.len()
    length = int(distinct.str.len().max())
    if int(places.max()) == 0 and not distinct.str.contains(".", regex=False).any():
        return Attributes("integer", length)
    return Attributes("float", length, int(places.max()))


def as_text(values) -> TextColumn:
    return values if isinstance(values, TextColumn) else TextColumn.of(values)


def longest(values: TextColumn) -> int:
    """The longest value once transliterated to ASCII (0 when there is none)."""
    return int(values.ascii_lengths.max()) if len(values.texts) else 0


def char_attributes(name: str, values, declared: int | None = None) -> tuple[Attributes, int]:
    """(Define attributes, XPT length) of a Char column (a Series or its ``TextColumn``); the XPT length is
    the declared one or the longest value."""
    values = as_text(values)
    xpt_length = declared if declared is not None else max(1, longest(values))
    kind = iso_type(name, values)
    if kind is not None:
        return Attributes(kind), xpt_length
    return Attributes("text", xpt_length), xpt_length


def value_attributes(sas_type: str, values) -> Attributes:
    """Attributes of the values of one value-level subset (numbers written as text count as numbers):
    Num values as numbers (an array or Series), Char values as a Series or ``TextColumn``."""
    if sas_type == "Num":
        return numeric_attributes(values if isinstance(values, np.ndarray) else numbers(values))
    values = as_text(values)
    as_number = text_number_attributes(values)
    if as_number is not None:
        return as_number
    return Attributes("text", max(1, longest(values)))


def repeating(data: pd.DataFrame) -> bool:
    """More than one record per subject (datasets without USUBJID, such as trial design, do not repeat)."""
    if "USUBJID" not in data.columns:
        return False
    return bool(data["USUBJID"].duplicated().any())
