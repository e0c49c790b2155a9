"""Numbers read from text, strictly: a value is a number written with the source's decimal mark, or it
is not a number. Nothing is guessed: '1,500' is not 1.5 (nor 1500) unless the source declares a decimal
comma, '0,83' is not a number in a file with decimal points, and 'abc' never becomes a silent NaN: the
callers report what does not parse (with its record) or apply the spec's explicit ``on_invalid`` policy.

The decimal mark of a record comes from its source (``sources.<name>.decimal`` in study.yaml, '.' by
default), carried with the record in the internal column ``__decimal``.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sdtm.unique import on_unique

DECIMAL_MARKS = (".", ",")
DECIMAL_COLUMN = "__decimal"
_DIGITS = {mark: rf"[-+]?(?:\d+(?:{re.escape(mark)}\d*)?|{re.escape(mark)}\d+)(?:[eE][-+]?\d+)?"
           for mark in DECIMAL_MARKS}
_PLAIN = {mark: re.compile(rf"^{digits}$") for mark, digits in _DIGITS.items()}
_QUALIFIED = {mark: re.compile(rf"^(<=|>=|<|>)\s*({digits})$") for mark, digits in _DIGITS.items()}


def decimal_marks(frame: pd.DataFrame) -> pd.Series:
    """The decimal mark of each record ('.' when its source declares none)."""
    if DECIMAL_COLUMN in frame.columns:
        return frame[DECIMAL_COLUMN].fillna(".").astype(object)
    return pd.Series(".", index=frame.index, dtype=object)


def _marks(text: pd.Series, decimal) -> pd.Series:
    if isinstance(decimal, pd.Series):
        return decimal.reindex(text.index).fillna(".").astype(object)
    return pd.Series(decimal or ".", index=text.index, dtype=object)


def _parse_distinct(text: pd.Series, marks: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    qualifiers, numbers, kinds = [], [], []
    for value, mark in zip(text, marks):
        value = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
        if mark not in _PLAIN:
            raise ValueError(f"unknown decimal mark {mark!r} (one of: {', '.join(DECIMAL_MARKS)})")
        if value == "":
            qualifiers.append(""), numbers.append(np.nan), kinds.append("empty")
        elif _PLAIN[mark].match(value):
            qualifiers.append(""), numbers.append(float(value.replace(mark, "."))), kinds.append("number")
        elif found := _QUALIFIED[mark].match(value):
            qualifiers.append(found.group(1)), numbers.append(float(found.group(2).replace(mark, ".")))
            kinds.append("qualified")
        else:
            qualifiers.append(""), numbers.append(np.nan), kinds.append("text")
    index = text.index
    return (pd.Series(qualifiers, index=index, dtype=object), pd.Series(numbers, index=index, dtype=float),
            pd.Series(kinds, index=index, dtype=object))


def read_numbers(text: pd.Series, decimal=".") -> tuple[pd.Series, pd.Series, pd.Series]:
    """(qualifier, number, kind) of each value, worked out once per distinct (value, mark).

    kind is 'empty', 'number' (plain: '12', '-0.5', '1e-3'), 'qualified' ('<0.02', '>= 5': the qualifier
    apart, the number in number) or 'text' (anything else: number is NaN). ``decimal`` is a mark or a
    Series of marks, one per value.
    """
    if len(text) == 0:
        empty = pd.Series(dtype=object, index=text.index)
        return empty, pd.Series(dtype=float, index=text.index), empty
    return on_unique(_parse_distinct, text.astype(object), _marks(text, decimal))


def parse_numbers(text: pd.Series, decimal=".") -> tuple[pd.Series, pd.Series]:
    """(number, invalid): plain numbers only; invalid marks non-empty values that are not one. Worked out
    once per distinct (value, mark), as read_numbers."""
    if len(text) == 0:
        _, number, kind = read_numbers(text, decimal)
        return number.where(kind == "number"), (kind != "number") & (kind != "empty")
    return on_unique(_parse_plain, text.astype(object), _marks(text, decimal))


def _parse_plain(text: pd.Series, marks: pd.Series) -> tuple[pd.Series, pd.Series]:
    _, number, kind = _parse_distinct(text, marks)
    return number.where(kind == "number"), (kind != "number") & (kind != "empty")


def number_text(text: pd.Series, decimal=".") -> pd.Series:
    """Plain and qualified numbers written with a decimal point ('0,83' -> '0.83' for a decimal comma),
    digits otherwise as reported; other text unchanged."""
    marks = _marks(text, decimal)
    comma = (marks == ",") & text.astype(str).str.contains(",", regex=False)
    if not comma.any():
        return text
    _, _, kind = read_numbers(text, decimal)
    fix = comma & kind.isin(["number", "qualified"])
    return text.where(~fix, text.astype(str).str.replace(",", ".", regex=False)).astype(object)
