"""What a raw column's values say (for ``cdisc spec draft``): its date or time format, the controlled
terms it holds, the tests of a wide findings form. Each distinct value is looked at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from sdtm.dates import format_patterns, read_dates, read_times
from specs.ct import Codelist
from specs.vocabulary import DATE_FORMATS, TIME_FORMATS

MAX_DISTINCT = 500  # distinct values looked at per column (enough to see its formats)
DATE_NAME = re.compile(r"(DAT|DATE|DT|DTC|DR|DAY)$|DATE", re.IGNORECASE)
TIME_NAME = re.compile(r"(TIM|TIME|TM)$", re.IGNORECASE)
# what any known date format could read (a cheap test before trying each format on a column)
_DATE_LIKE = re.compile(r"^(\d{1,4}|UN|UNK|UK|NK)[/\-. ]?([A-Za-z]{3,9}|\d{1,2}|UN|UNK|UK|NK)[/\-. ]?\d{2,4}"
                        r"|^\d{8}$|^[A-Za-z]{3,9}[-/ ]\d{4}$|^\d{4}(-\d{2})?$", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
# the same reading under two names: keep the first
SAME_FORMAT = {"DATE9.": "DDMONYYYY"}


def distinct(values: pd.Series) -> pd.Series:
    present = values[values.astype(str).str.strip() != ""].astype(str)
    return pd.Series(present.unique()[:MAX_DISTINCT], dtype=object)


@dataclass
class DateFormat:
    """The formats that read every value of a column; ambiguous when two read some value differently."""

    formats: list[str]
    ambiguous: list[str] = field(default_factory=list)  # the other formats, with an example
    unread: list[str] = field(default_factory=list)  # values no format reads


def detect_date_format(name: str, values: pd.Series) -> DateFormat | None:
    """The date format(s) of a column, or None when it does not hold dates."""
    values = distinct(values)
    if values.empty or values.str.match(_NUMBER).all() and not DATE_NAME.search(name):
        return None
    if values.str.match(_DATE_LIKE).mean() < 0.8:
        return None
    reads = {}
    upper = values.str.strip().str.upper()
    for fmt in DATE_FORMATS:
        if fmt in SAME_FORMAT:
            continue
        if not any(upper.str.fullmatch(p.pattern).any() for p in format_patterns(fmt)):
            continue  # no value has the format's shape: not worth reading
        iso, problem, _, _ = read_dates(values, [fmt])
        ok = problem == ""
        if ok.any():
            reads[fmt] = (ok, iso)
    if not reads:
        return None
    remaining = pd.Series(True, index=values.index)
    chosen: list[str] = []
    while remaining.any() and len(chosen) < 3:  # a column may mix a few formats (15-Sep-20, 15 Sep 2020)
        best = max(reads, key=lambda f: (reads[f][0] & remaining).sum())
        gain = (reads[best][0] & remaining).sum()
        if gain == 0:
            break
        chosen.append(best)
        remaining &= ~reads[best][0]
    read_share = 1 - remaining.sum() / len(values)
    if read_share < 0.8 and not DATE_NAME.search(name):
        return None
    first = chosen[0]
    ambiguous = []
    for fmt, (ok, iso) in reads.items():
        if fmt in chosen:
            continue
        covers = ok & reads[first][0]
        differs = covers & (iso != reads[first][1])
        if ok[reads[first][0]].all() and differs.any():
            example = values[differs].iloc[0]
            ambiguous.append(f"{fmt} (reads '{example}' as {iso[differs].iloc[0]}, {first} as "
                             f"{reads[first][1][differs].iloc[0]})")
    return DateFormat(chosen, ambiguous, list(values[remaining][:5]))


def detect_time_format(name: str, values: pd.Series) -> str | None:
    values = distinct(values)
    if values.empty or not (TIME_NAME.search(name) or values.str.contains(":").all()):
        return None
    for fmt in TIME_FORMATS:
        text, problem = read_times(values, [fmt])
        if (problem == "").all() and (text != "").any():
            return fmt
    text, problem = read_times(values, list(TIME_FORMATS))
    return "HH:MM" if TIME_NAME.search(name) and (problem == "").mean() > 0.8 else None


@dataclass
class TermMatch:
    """How a column's distinct values match a codelist."""

    codelist: str
    exact: list[str] = field(default_factory=list)
    case_insensitive: dict[str, str] = field(default_factory=dict)
    synonym: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.exact)} exact", f"{len(self.case_insensitive)} case-insensitive",
                 f"{len(self.synonym)} by synonym or decode", f"{len(self.unmatched)} unmatched"]
        return f"codelist {self.codelist}: " + ", ".join(parts)


def match_terms(values: pd.Series, codelist: Codelist) -> TermMatch:
    result = TermMatch(codelist.short)
    folded = {v.casefold(): v for v in codelist.terms}
    for value in distinct(values):
        if value in codelist.terms:
            result.exact.append(value)
        elif value.casefold() in folded:
            result.case_insensitive[value] = folded[value.casefold()]
        elif (term := codelist.lookup_synonym(value)) is not None:
            result.synonym[value] = term
        else:
            result.unmatched.append(value)
    return result


def wide_tests(columns, codelist: Codelist, normalize) -> dict[str, tuple[str, float, str]]:
    """Columns that are tests of a wide findings form: column -> (test code, confidence, reason)."""
    codes = set(codelist.terms)
    found = {}
    for column in columns:
        name = normalize(column)[0]
        bare = name.replace("_", "")
        if bare in codes:
            found[column] = (bare, 0.9, f"'{bare}' is a term of {codelist.short}")
            continue
        term = codelist.lookup_synonym(name.replace("_", " "))
        if term is not None:
            found[column] = (term, 0.8, f"'{name}' is the name or a synonym of {codelist.short} {term}")
            continue
        prefix = [c for c in codes if len(c) >= 4 and bare.startswith(c) and len(bare) - len(c) <= 2]
        if len(prefix) == 1:
            found[column] = (prefix[0], 0.6, f"'{name}' starts with the {codelist.short} term {prefix[0]}")
    return found


def is_numeric_column(values: pd.Series) -> bool:
    values = distinct(values)
    return not values.empty and values.str.match(_NUMBER).mean() >= 0.9
