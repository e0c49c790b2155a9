"""Derive-kind algorithms: variables computed from mapped variables and from other domains.

The functions in the first part are pure functions of data frames and series (tested by hand); the
registry at the end adapts each to the spec's arguments, taking the other domains it needs from the
``DeriveContext``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from sdtm.dates import date_part, datetime_part, duration, iso_datetime, study_day
from sdtm.numbers import decimal_marks, number_text, parse_numbers, read_numbers
from sdtm.unique import factorize, key_ranks, map_text, on_unique, shared_text, sorted_positions, text_is, text_of
from specs.errors import Problem, RecordIssue
from specs.units import DOC, conversions
from specs.vocabulary import EPOCH_SAME_DAY

# ---------------------------------------------------------------- pure functions over frames
def derive_seq(dataset: pd.DataFrame, by_vars: list[str], order: list[str]) -> pd.Series:
    """1..n within by_vars following the order columns (a stable sort; ties keep record order)."""
    keys = list(by_vars) + list(order)
    ranks = key_ranks(dataset, keys, "last") if by_vars else None
    if ranks is None:
        ordered = dataset.sort_values(keys, kind="mergesort", na_position="last")
        seq = ordered.groupby(list(by_vars), sort=False, dropna=False).cumcount() + 1
        return seq.reindex(dataset.index).astype(float)
    # in the sorted order the records of a by-group are together: each numbered from where its run starts
    positions = np.lexsort(ranks[::-1])
    starts = np.zeros(len(dataset), dtype=bool)
    starts[:1] = True
    for rank in ranks[:len(by_vars)]:
        ordered = rank[positions]
        starts[1:] |= ordered[1:] != ordered[:-1]
    first = np.flatnonzero(starts)
    seq = np.empty(len(dataset), dtype=float)
    seq[positions] = np.arange(len(dataset)) - first[np.cumsum(starts) - 1] + 1
    return pd.Series(seq, index=dataset.index)


def convert_result(orres: pd.Series, orresu: pd.Series, testcd: pd.Series, standard_units: dict,
                   decimal=".") -> tuple[pd.Series, pd.Series, pd.Series]:
    """(STRESC, STRESU, problem), computed once per distinct (result, unit, test, decimal mark).

    problem is '' for a result that converts (or needs no conversion) and otherwise says why it cannot
    be standardized; see _convert_result.
    """
    marks = decimal if isinstance(decimal, pd.Series) else pd.Series(decimal, index=orres.index, dtype=object)
    stresc, stresu, problem = on_unique(
        lambda r, u, t, m: _convert_result(r.fillna(""), u.fillna(""), t.fillna(""), m, standard_units),
        orres, orresu, testcd, marks)
    return stresc.astype(object), stresu.astype(object), problem.astype(object)


def _round_text(values: pd.Series, places: pd.Series) -> pd.Series:
    """Numbers as text, rounded to the declared decimals halves away from zero (as SAS ROUND and the
    expression grammar's round(): 0.0005 to 3 decimals is 0.001, not the binary float's 0.000)."""
    out = []
    for value, digits in zip(values, places):
        if pd.isna(value):
            out.append("")
        elif pd.notna(digits):
            quantum = Decimal(1).scaleb(-int(digits))
            out.append(str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)))
        else:
            out.append(f"{float(value):.10g}")
    return pd.Series(out, index=values.index, dtype=object)


def _convert_numbers(number: pd.Series, testcd: pd.Series, orresu: pd.Series, standard_units: dict
                     ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(converted, known, problem) for each (test, unit) pair's conversion of the test's table."""
    converted = pd.Series(np.nan, index=number.index, dtype=float)
    known = pd.Series(False, index=number.index)
    problem = pd.Series("", index=number.index, dtype=object)
    pairs = pd.DataFrame({"t": testcd.astype(object), "u": orresu.astype(object)})
    for (test, unit), rows in pairs.groupby(["t", "u"], sort=False).groups.items():
        entry = standard_units.get(test)
        conversion = conversions(entry).get(unit) if isinstance(entry, dict) else None
        if conversion is None:
            continue
        values, why = conversion.apply(number.loc[rows])
        converted.loc[rows], known.loc[rows], problem.loc[rows] = values, True, why
    return converted, known, problem


def _convert_result(orres: pd.Series, orresu: pd.Series, testcd: pd.Series, marks: pd.Series,
                    standard_units: dict) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(STRESC, STRESU, problem): the result in the test's standard unit, as text.

    A test with a standard unit (``standard_units``) is quantitative, and so is any result reported with a
    unit (a unit measures a number): its result must be a number or a qualified number ('<0.02') written
    with the record's decimal mark. In the standard unit it is copied as
    reported (precision and qualifier kept, a decimal comma written as a point); in a unit of the test's
    conversion table (``specs.units``: factor, offset, formula or molar mass) it is converted and rounded
    to the stated decimals ('<x' converts x). A result with no unit, a unit with no conversion, or text
    that is not a number is a problem, never copied under the standard unit.
    Tests without a standard unit keep their result (decimal point normalized) and their unit.
    """
    entries = testcd.map(lambda t: standard_units.get(t))
    standard = entries.map(lambda e: e.get("unit") if isinstance(e, dict) else None)
    has_standard = standard.notna()
    text = orres.astype(str).str.strip()
    present = text != ""
    qualifier, number, kind = read_numbers(text, marks)
    same_unit = orresu == standard.fillna("\x00")
    number_in_standard, known, formula_problem = _convert_numbers(number, testcd, orresu, standard_units)
    decimals = entries.map(lambda e: e.get("decimals") if isinstance(e, dict) else None)
    convert = has_standard & ~same_unit & known
    converted = qualifier + _round_text(number_in_standard, decimals)
    cannot = has_standard & ~same_unit & ~known  # no value rather than a value in the wrong unit
    stresc = number_text(text, marks).where(~convert, converted).where(present & ~cannot, "")
    stresu = standard.where(has_standard, orresu).where(present, "").astype(object)

    problem = pd.Series("", index=orres.index, dtype=object)
    quantitative = (has_standard | (orresu.astype(str) != "")) & present
    not_number = quantitative & kind.eq("text")
    problem = problem.mask(not_number, "is not a number" + pd.Series(
        np.where(marks == ",", " (decimal comma)", ""), index=orres.index))
    failed = quantitative & convert & kind.ne("text") & (formula_problem != "")
    problem = problem.mask(failed, "cannot be converted from " + orresu + ": " + formula_problem)
    no_factor = quantitative & has_standard & ~same_unit & ~known & (orresu != "")
    unit_text = "is in " + orresu + ", which " + no_factor_text(orresu, testcd, standard.fillna(""))
    problem = problem.mask(no_factor, unit_text.where(~not_number, problem + "; it " + unit_text))
    no_unit = quantitative & (orresu == "")
    problem = problem.mask(no_unit, "has no unit (the standard unit of " + testcd + " is " +
                           standard.fillna("") + ")")
    return stresc.astype(object), stresu, problem


def no_factor_text(unit: pd.Series, testcd: pd.Series, standard: pd.Series) -> pd.Series:
    return ("has no conversion to the standard unit " + standard + " of " + testcd + " (add '" + unit +
            "' to standard_units." + testcd + ".factors or .conversions; " + DOC + ")")


def convert_limit(ornr: pd.Series, orresu: pd.Series, testcd: pd.Series, standard_units: dict,
                  decimal=".") -> tuple[pd.Series, pd.Series]:
    """(STNR, problem): a reference range limit in the standard unit, as a number."""
    stresc, _, problem = convert_result(ornr, orresu, testcd, standard_units, decimal)
    number, invalid = parse_numbers(stresc)
    problem = problem.mask(text_is(problem, "") & invalid, "is not a number")
    return number.astype(float), problem


def numeric_result(stresc: pd.Series) -> pd.Series:
    """STRESN: the number in STRESC, null for '<0.02' and other text."""
    number, _ = parse_numbers(text_of(stresc))
    return number.astype(float)


def reference_range_indicator(stresn: pd.Series, low: pd.Series, high: pd.Series,
                              stresc: pd.Series | None = None) -> pd.Series:
    """NORMAL, LOW or HIGH against the range; '' without a result or a range.

    With ``stresc``, a result reported beyond a limit of quantitation has a position too when the range
    decides it: '<0.02' (below 0.02) is LOW for a lower limit of 0.02 or more, '<=0.02' for one above 0.02;
    '>500' is HIGH for an upper limit of 500 or less, '>=500' for one below 500. Otherwise it stays ''.
    """
    out = pd.Series("", index=stresn.index, dtype=object)
    has_range = low.notna() | high.notna()
    out = out.mask(stresn.notna() & has_range, "NORMAL")
    out = out.mask(stresn.notna() & low.notna() & (stresn < low), "LOW")
    out = out.mask(stresn.notna() & high.notna() & (stresn > high), "HIGH")
    if stresc is not None:
        qualifier, bound, kind = read_numbers(text_of(stresc))
        qualified = stresn.isna() & text_is(kind, "qualified")
        below = qualified & low.notna() & ((text_is(qualifier, "<") & (bound <= low)) |
                                           (text_is(qualifier, "<=") & (bound < low)))
        above = qualified & high.notna() & ((text_is(qualifier, ">") & (bound >= high)) |
                                            (text_is(qualifier, ">=") & (bound > high)))
        out = out.mask(below, "LOW").mask(above, "HIGH")
    return shared_text(out)


def age_in_years(birth: pd.Series, reference: pd.Series) -> pd.Series:
    """Completed years between two ISO dates; null if either is partial."""
    born, ref = date_part(birth), date_part(reference)
    years = ref.dt.year - born.dt.year
    before_birthday = (ref.dt.month < born.dt.month) | ((ref.dt.month == born.dt.month) & (ref.dt.day < born.dt.day))
    return (years - before_birthday.astype(int)).where(born.notna() & ref.notna()).astype(float)


def records_where(frame: pd.DataFrame, where: str | None) -> pd.DataFrame:
    """The records of frame that meet a spec condition (all of them without one)."""
    if not where:
        return frame
    from specs.conditions import parse_condition

    return frame[parse_condition(where).evaluate(frame).to_numpy(dtype=bool)]


def pick_date(frames: list[pd.DataFrame], pick: str) -> pd.Series:
    """Per USUBJID, the first or last ISO date/time among frames of (USUBJID, DTC).

    ISO 8601 text sorts chronologically for values of the same precision; comparison uses the text, so a
    complete date sorts after its own partial form ('2023-06' < '2023-06-15').
    """
    stacked = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["USUBJID", "DTC"])
    stacked = stacked[~text_is(text_of(stacked["DTC"]), "")]
    fast = _first_or_last(stacked["USUBJID"], stacked["DTC"], pick)
    if fast is not None:
        return fast
    positions = sorted_positions(stacked, ["USUBJID", "DTC"])
    ordered = stacked.sort_values(["USUBJID", "DTC"], kind="mergesort") if positions is None else \
        stacked.iloc[positions]
    picked = ordered.drop_duplicates("USUBJID", keep="first" if pick == "first" else "last")
    return pd.Series(picked["DTC"].to_numpy(), index=picked["USUBJID"].to_numpy(), dtype=object)


def _sorted_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(rank of each value among the sorted distinct values, -1 when missing; the sorted distinct values) of
    a text column, None when it holds anything but text."""
    if not pd.api.types.is_string_dtype(column.dtype) or (
            column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty")):
        return None
    codes, uniques = factorize(column)
    uniques = np.asarray(uniques, dtype=object)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.where(codes < 0, -1, rank[np.maximum(codes, 0)] if len(rank) else codes), uniques[order]


def _first_or_last(subject: pd.Series, dtc: pd.Series, pick: str) -> pd.Series | None:
    """pick_date on text: each subject's smallest or largest date text, worked out on ranks among the
    distinct values (not a sort of every record), subjects in sorted order; None when it cannot be."""
    subjects, dates = _sorted_codes(subject), _sorted_codes(dtc)
    if subjects is None or dates is None:
        return None
    (who, subject_values), (when, date_values) = subjects, dates
    if (who < 0).any():  # a record without a subject: as pandas sorts and drops them (kinds of missing apart)
        return None
    grouped = pd.Series(when).groupby(who, sort=True)
    chosen = grouped.min() if pick == "first" else grouped.max()
    return pd.Series(date_values[chosen.to_numpy()], index=subject_values[chosen.index.to_numpy()], dtype=object)


def _day_bounds(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last calendar day an ISO 8601 value can be (datetime64; NaT when unknown):
    '2023-06' -> 2023-06-01 .. 2023-06-30, '2023-06-15T10:00' -> 2023-06-15 .. 2023-06-15."""
    def parse(values: pd.Series) -> pd.DataFrame:
        text = text_of(values)
        found = text.str.extract(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", expand=True)
        year, month, day = found[0], found[1], found[2]
        first = (year + "-" + month.fillna("01") + "-" + day.fillna("01")).where(year.notna())
        lo = pd.to_datetime(first, format="%Y-%m-%d", errors="coerce")
        month_end = (pd.to_datetime((year + "-" + month.fillna("12") + "-01").where(year.notna()), format="%Y-%m-%d",
                                    errors="coerce") + pd.offsets.MonthEnd(0))
        hi = lo.where(day.notna(), month_end)
        return lo, hi

    # the pattern reads at most the first 10 characters: once per distinct date, not per date and time
    lo, hi = on_unique(lambda values: on_unique(parse, text_of(values).str[:10]), dtc)
    return lo.astype("datetime64[ns]"), hi.astype("datetime64[ns]")


def epoch_of(dataset: pd.DataFrame, dtc: str, se: pd.DataFrame, same_day: str = "later") -> pd.Series:
    """EPOCH of each record: the SE element with SESTDTC <= --DTC < SEENDTC (the subject's last element
    includes its end date), compared to the minute when both sides have a time, otherwise by date.

    On the day an element starts, a record or an element start without a time cannot be ordered:
    ``same_day`` says where such a record goes: 'later' (the element that starts that day, as SE's
    SESTDTC <= --DTC reads), 'earlier' (the element that ends that day, e.g. pre-dose assessments) or
    'null' (no EPOCH: not imputed). A partial date ('2023-06') gets the epoch of the one element that
    holds all of its days, none when it spans a transition. Null outside every element (on the first
    element's first day there is no earlier element: a record of that day is in it).
    """
    if same_day not in EPOCH_SAME_DAY:
        raise ValueError(f"same_day must be one of {', '.join(EPOCH_SAME_DAY)}, not '{same_day}'")
    elements = se[["USUBJID", "SESTDTC", "SEENDTC", "EPOCH", "TAETORD"]].copy()
    elements["START"], elements["END"] = date_part(elements["SESTDTC"]), date_part(elements["SEENDTC"])
    elements["START_AT"], elements["END_AT"] = datetime_part(elements["SESTDTC"]), datetime_part(elements["SEENDTC"])
    # each subject's last and first elements: worked out on SE, not on every record joined to it
    elements["LAST"] = elements.groupby("USUBJID")["TAETORD"].transform("max") == elements["TAETORD"]
    elements["FIRST"] = elements.groupby("USUBJID")["START"].transform("min") == elements["START"]
    # the epoch is a function of (subject, date): worked out once per distinct pair (the tests of a visit
    # share their date), then spread back to the records
    return on_unique(lambda subject, when: _epoch_of_distinct(subject, when, elements, same_day),
                     dataset["USUBJID"], dataset[dtc])


def _epoch_of_distinct(subject: pd.Series, when: pd.Series, elements: pd.DataFrame, same_day: str) -> pd.Series:
    lo, hi = _day_bounds(when)
    lo, hi = lo.to_numpy(dtype="datetime64[ns]"), hi.to_numpy(dtype="datetime64[ns]")
    at = datetime_part(when).to_numpy(dtype="datetime64[ns]")
    # each subject's elements in TAETORD order (ties in SE's order) as slots 0, 1, ...: a record is compared
    # with its subject's k-th element for each k (a subject has a few), not joined to every element; the last
    # slot that holds it gives the epoch (the latest element by TAETORD)
    owners = pd.Index(elements["USUBJID"].to_numpy(dtype=object))
    owner_codes = pd.factorize(owners)[0] if len(owners) else np.zeros(0, dtype=np.intp)
    taetord = elements["TAETORD"].to_numpy(dtype=float, na_value=np.nan)
    ranked = np.lexsort((taetord, owner_codes))
    distinct_owners = owners[ranked].unique() if len(owners) else owners
    sorted_codes = owner_codes[ranked]
    slot = np.arange(len(ranked)) - np.searchsorted(sorted_codes, sorted_codes, side="left")
    table = np.full((len(distinct_owners) + 1, (int(slot.max()) + 1) if len(slot) else 0), -1, dtype=np.intp)
    table[pd.Index(distinct_owners).get_indexer(owners[ranked]), slot] = ranked
    who = pd.Index(distinct_owners).get_indexer(subject.to_numpy(dtype=object))  # -1: no element (the last row)
    start, end = (elements[c].to_numpy(dtype="datetime64[ns]") for c in ("START", "END"))
    start_at, end_at = (elements[c].to_numpy(dtype="datetime64[ns]") for c in ("START_AT", "END_AT"))
    first, last = elements["FIRST"].to_numpy(dtype=bool), elements["LAST"].to_numpy(dtype=bool)
    later, earlier = same_day == "later", same_day == "earlier"
    dated, timed = ~np.isnat(lo), ~np.isnat(at)
    chosen = np.full(len(subject), -1, dtype=np.intp)
    for k in range(table.shape[1]):
        element = table[who, k]
        held = dated & (element >= 0)
        e = np.where(held, element, 0)
        timed_start = timed & ~np.isnat(start_at[e])
        on_start_day = lo == start[e]
        # on the first element's first day no element ends: nothing to tell apart, whatever the rule
        after_start = (lo > start[e]) | (on_start_day & (
            (timed_start & (at >= start_at[e])) | (~timed_start & (later | first[e]))))
        timed_end = timed & ~np.isnat(end_at[e])
        on_end_day = hi == end[e]
        before_end = np.isnat(end[e]) | (hi < end[e]) | (last[e] & on_end_day) | (
            on_end_day & ((timed_end & (at < end_at[e])) | (~timed_end & earlier)))
        chosen = np.where(held & after_start & before_end, element, chosen)
    epochs = np.append(text_of(elements["EPOCH"]).to_numpy(dtype=object), "")
    return pd.Series(epochs[chosen], index=subject.index, dtype=object)


def reference_time(dataset: pd.DataFrame, dtc: str, eltm: str, by_vars: list[str]) -> tuple[pd.Series, pd.Series]:
    """(--RFTDTC, conflicting): the date/time of the reference time point (the meal of a meal test) of each
    record with a planned elapsed time, shared by the records of a subject with the same ``by_vars``.

    Each record with a complete date/time and an elapsed time gives its reference: --DTC minus --ELTM
    (a sample at 10:05 at PT15M: 09:50; one at 09:40 at -PT10M: 09:50). The records of a group take the
    reference they agree on, those without a time too (a sample not drawn). A group whose records give
    different references is left empty, its records flagged in ``conflicting``.
    """
    moment = datetime_part(dataset[dtc])
    elapsed = duration(dataset[eltm])
    key = pd.DataFrame({column: text_of(dataset[column]) for column in ["USUBJID", *by_vars]}, index=dataset.index)
    planned = elapsed.notna()
    for column in key.columns:
        planned &= ~text_is(key[column], "")
    given = (moment - elapsed).where(planned)
    frame = key.assign(__REF=given)
    per_group = frame[given.notna()].groupby([*key.columns], sort=False)["__REF"].agg(["min", "max"])
    agreed = per_group[per_group["min"] == per_group["max"]]["min"]
    disagree = per_group.index[per_group["min"] != per_group["max"]]
    index = pd.MultiIndex.from_frame(key)
    found = pd.Series(agreed.reindex(index).to_numpy(), index=dataset.index)
    found = found.where(planned)
    conflicting = pd.Series(index.isin(disagree), index=dataset.index) & planned
    return shared_text(iso_datetime(pd.to_datetime(found))), conflicting


NO_RESULT = {"", "ND", "NOT DONE"}
SAME_DAY_RULES = ("listed", "before")


def _time_part(dtc: pd.Series) -> pd.Series:
    """'HH:MM' of an ISO 8601 date/time (seconds ignored), '' when the time is missing or partial."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = text_of(dtc)
    array = pa.array(text.to_numpy(), type=pa.large_string())
    if not pc.all(pc.string_is_ascii(array)).as_py():  # (RE2 reads \d as Python's re on ASCII only)
        return text.str.extract(r"T(\d{2}:\d{2})", expand=False).fillna("").astype(object)
    found = pc.extract_regex(array, r"T(?P<time>\d{2}:\d{2})").field("time")
    return pd.Series(pc.fill_null(found, "").to_numpy(zero_copy_only=False), index=text.index, dtype=object)


def baseline_flag(dataset: pd.DataFrame, by_vars: list[str], dtc: str, result: str, reference: pd.Series, *,
                  stat: str | None = None, visits=(), tpt: str | None = None, timepoints=(),
                  same_day: str = "listed") -> pd.Series:
    """--BLFL / --LOBXFL, as sdtm.oak's derive_blfl: 'Y' on the last record with a result per USUBJID and
    by_vars that comes before the subject's reference date/time (``reference``: USUBJID -> ISO 8601).

    A record has a result when ``result`` is not empty, 'ND' or 'NOT DONE' and ``stat`` is not NOT DONE.
    It comes before the reference when its date is earlier, or on the same date when both times are known
    and its time is earlier (hours and minutes). On the same date with a time missing or equal, the order is
    unknown: the record counts when its VISIT is one of ``visits`` and/or its ``tpt`` one of ``timepoints``
    (both when both are given), or with ``same_day='before'`` always. Partial dates never count. The last is
    the latest ``dtc``; of records tied there, the last in record order (sdtm.oak flags all of them).
    """
    if same_day not in SAME_DAY_RULES:
        raise ValueError(f"same_day must be one of {', '.join(SAME_DAY_RULES)}, not '{same_day}'")
    has_result = on_unique(lambda values: ~text_of(values).str.strip().isin(NO_RESULT), dataset[result])
    if stat:
        has_result &= text_of(dataset[stat]) != "NOT DONE"
    earlier, timed_earlier, same_untold = on_unique(lambda subject, when: _before_reference(subject, when, reference),
                                                    dataset["USUBJID"], dataset[dtc])
    if same_day == "before":
        listed = pd.Series(True, index=dataset.index)
    else:
        in_visits = dataset["VISIT"].isin(list(visits)) if visits else None
        in_tpts = dataset[tpt].isin(list(timepoints)) if timepoints else None
        if in_visits is not None and in_tpts is not None:
            listed = in_visits & in_tpts
        else:
            listed = in_visits if in_visits is not None else in_tpts
        if listed is None:
            listed = pd.Series(False, index=dataset.index)
    before = earlier | timed_earlier | (same_untold & listed)
    candidates = dataset.loc[has_result & before.fillna(False), ["USUBJID", *by_vars, dtc]].copy()
    candidates["__ORDER"] = np.arange(len(candidates))
    candidates = candidates.sort_values([dtc, "__ORDER"], kind="mergesort")
    keep = candidates.groupby(["USUBJID", *by_vars], dropna=False).tail(1).index
    out = pd.Series("", index=dataset.index, dtype=object)
    out.loc[keep] = "Y"
    return out


def _before_reference(subject: pd.Series, dtc: pd.Series, reference: pd.Series) -> tuple[pd.Series, ...]:
    """(date earlier than the subject's reference date, same date and an earlier time, same date and the
    order not known from the times), once per distinct (subject, date/time)."""
    ref = map_text(subject, reference)
    day, ref_day = date_part(dtc), date_part(ref)
    time, ref_time = on_unique(_time_part, dtc), on_unique(_time_part, ref)
    same = day.notna() & (day == ref_day)
    known_order = (time != "") & (ref_time != "") & (time != ref_time)
    return day < ref_day, same & known_order & (time < ref_time), same & ~known_order


# ---------------------------------------------------------------- the registry adapters
@dataclass
class DeriveContext:
    domain: str
    variable: str
    domains: dict[str, pd.DataFrame]
    domain_spec: dict
    ct: object
    design: dict
    problems: list[Problem] = field(default_factory=list)
    warnings: list[RecordIssue] = field(default_factory=list)
    records: pd.DataFrame | None = None  # the domain's raw records (index as the domain's), when mapped

    def other(self, name: str) -> pd.DataFrame:
        return self.domains[name]

    def raw_column(self, variable: str) -> str:
        """' (raw column X)' when the variable is a copy of one raw column, for messages."""
        for item in self.domain_spec["variables"]:
            if item["name"] == variable and isinstance((item.get("map") or {}).get("source"), str):
                return f" (raw column {item['map']['source']})"
        return ""

    def report(self, data: pd.DataFrame, mask: pd.Series, messages, warning: str | None = None,
               limit: int = 20) -> None:
        """One located problem per record in mask (file, row, key, then the message); with ``warning``
        (the policy applied), a warning listed in the run report instead. ``messages``: a Series of the
        records' messages, or a function of the index of the records in mask that makes theirs (so that
        messages are written for the bad records only)."""
        bad = mask.fillna(False).astype(bool).to_numpy()
        if not bad.any():
            return
        where = data.loc[bad, ["__file", "__row", "__key"]] if "__file" in data else \
            pd.DataFrame({"__file": self.domain, "__row": np.arange(1, len(data) + 1)[bad],
                          "__key": data.loc[bad, "USUBJID"] if "USUBJID" in data else ""})
        texts = pd.Series(messages(data.index[bad]).to_numpy()) if callable(messages) else messages[bad]
        if warning is not None:
            for (file, row, key), text in zip(where.itertuples(index=False, name=None), texts):
                self.warnings.append(RecordIssue(source=file, key=f"row {row} ({key})", domain=self.domain,
                                                 reason=f"{self.domain}.{self.variable}: {warning}",
                                                 extra={"detail": text}))
            return
        for (file, row, key), text in zip(where.head(limit).itertuples(index=False, name=None), texts.head(limit)):
            self.problems.append(Problem(f"{file} row {row} ({key})", f"{self.domain}.{self.variable} {text}"))
        if len(texts) > limit:
            self.problems.append(Problem(str(where["__file"].iloc[0]), f"... and {len(texts) - limit} more records "
                                                                       f"of {self.domain}.{self.variable}"))

    def codelist_of(self, variable: str) -> str | None:
        for item in self.domain_spec["variables"]:
            if item["name"] == variable:
                return item.get("codelist")
        return None


def _units(ctx) -> dict:
    return ctx.domain_spec.get("standard_units", {})


def _derive_test_name(data, args, ctx):
    """--TEST from --TESTCD: the paired codelists share each term's NCI C-code."""
    testcd_codelist = ctx.codelist_of(args["testcd"])
    names = ctx.ct.codelist(args.get("codelist") or ctx.codelist_of(ctx.variable))
    codes = ctx.ct.codelist(testcd_codelist)
    by_code = {term.code: value for value, term in names.terms.items()}
    mapping = {value: by_code.get(term.code, "") for value, term in codes.terms.items()}
    return map_text(data[args["testcd"]], mapping)


def _value_messages(data: pd.DataFrame, column: str, problem: pd.Series, ctx) -> pd.Series:
    return "from " + column + ctx.raw_column(column) + ": '" + data[column].astype(str) + "' " + problem


def _only_not_a_number(problem: pd.Series) -> pd.Series:
    """The records whose one problem is a result that is not a number (tested once per distinct problem)."""
    return on_unique(lambda p: p.str.startswith("is not a number") & ~p.str.contains("; it ", regex=False), problem)


def _derive_stresc(data, args, ctx):
    """Standard results; a result that cannot be standardized stops the run, unless ``on_invalid: text``
    keeps a non-numeric result reported in the standard unit as text (listed as a warning)."""
    stresc, _, problem = convert_result(data[args["orres"]], data[args["orresu"]], data[args["testcd"]],
                                        _units(ctx), decimal_marks(data))
    if args.get("on_invalid") == "text":
        kept = _only_not_a_number(problem)
        ctx.report(data, kept, lambda rows: _value_messages(data.loc[rows], args["orres"], problem.loc[rows], ctx),
                   warning="not a number, kept as text (on_invalid: text)")
        problem = problem.where(~kept, "")
    ctx.report(data, ~text_is(problem, ""), lambda rows: _value_messages(data.loc[rows], args["orres"],
                                                                         problem.loc[rows], ctx))
    return stresc


def _derive_stresu(data, args, ctx):
    """The standard unit; a unit with no conversion to it stops the run (never a value labelled with a unit
    it was not converted to)."""
    placeholder = pd.Series("1", index=data.index, dtype=object)
    _, unit, problem = convert_result(placeholder, data[args["orresu"]], data[args["testcd"]], _units(ctx))
    present = ~text_is(text_of(data[args["orresu"]]), "")

    def messages(rows):
        orresu, testcd = text_of(data.loc[rows, args["orresu"]]), text_of(data.loc[rows, args["testcd"]])
        return "from " + args["orresu"] + ctx.raw_column(args["orresu"]) + ": '" + orresu + "' " + \
            no_factor_text(orresu, testcd, unit.loc[rows])

    ctx.report(data, present & on_unique(lambda p: p.str.startswith("is in "), problem), messages)
    return unit.where(present, "").astype(object)


def _derive_stnr(data, args, ctx):
    """A range limit in the standard unit; a limit that is not a number stops the run, unless
    ``on_invalid: missing`` leaves it empty (listed as a warning)."""
    if args.get("source"):  # a limit the raw record gives (the LLOQ) that no variable holds as collected
        limit = text_of(ctx.records.loc[data.index, args["source"]])  # the one column, not the whole record
        said = "from raw column " + args["source"]
    else:
        limit = data[args["ornr"]]
        said = "from " + args["ornr"] + ctx.raw_column(args["ornr"])
    number, problem = convert_limit(limit, data[args["orresu"]], data[args["testcd"]], _units(ctx),
                                    decimal_marks(data))

    def messages(rows):
        return said + ": '" + text_of(limit.loc[rows]) + "' " + problem.loc[rows]

    if args.get("on_invalid") == "missing":
        left = _only_not_a_number(problem)
        ctx.report(data, left, messages, warning="not a number, left empty (on_invalid: missing)")
        problem = problem.where(~left, "")
    ctx.report(data, ~text_is(problem, ""), messages)
    return number


def _derive_rftdtc(data, args, ctx):
    """--RFTDTC from --DTC and --ELTM; records of one group giving different references stop the run."""
    by = list(args.get("by") or [])
    values, conflicting = reference_time(data, args["dtc"], args["eltm"], by)
    ctx.report(data, conflicting, lambda rows: "cannot be derived: the records of this subject with the same " +
               ", ".join(by) + f" give different reference times ({args['dtc']} - {args['eltm']} = '" +
               iso_datetime(datetime_part(data.loc[rows, args["dtc"]]) - duration(data.loc[rows, args["eltm"]])) +
               "')")
    return values


def _derive_stresn(data, args, ctx):
    return numeric_result(data[args["stresc"]])


def _derive_nrind(data, args, ctx):
    return reference_range_indicator(data[args["stresn"]], data[args["lo"]], data[args["hi"]],
                                     data[args["stresc"]] if args.get("stresc") else None)


def _derive_rf_date(data, args, ctx):
    frames = []
    for source in args["sources"]:
        other = records_where(ctx.other(source["domain"]), source.get("where"))
        frames.append(pd.DataFrame({"USUBJID": other["USUBJID"].values, "DTC": other[source["variable"]].values}))
    picked = pick_date(frames, args["pick"])
    return map_text(data["USUBJID"], picked)


def _derive_exist_flag(data, args, ctx):
    subjects = set()
    for source in args["sources"]:
        subjects |= set(records_where(ctx.other(source["domain"]), source.get("where"))["USUBJID"])
    return pd.Series(np.where(data["USUBJID"].isin(subjects), "Y", ""), index=data.index, dtype=object)


def _derive_age(data, args, ctx):
    return age_in_years(data[args["birth"]], data[args["ref"]])


def _reference(ctx, variable: str) -> pd.Series:
    dm = ctx.other("DM")
    return pd.Series(dm[variable].values, index=dm["USUBJID"].values)


def _derive_study_day(data, args, ctx):
    return study_day(data[args["dtc"]], map_text(data["USUBJID"], _reference(ctx, "RFSTDTC")))


def _derive_epoch(data, args, ctx):
    return epoch_of(data, args["dtc"], ctx.other("SE"), args.get("same_day", "later"))


def _baseline(default_reference: str):
    def derive(data, args, ctx):
        return baseline_flag(data, list(args["by"]), args["dtc"], args["result"],
                             _reference(ctx, args.get("reference", default_reference)), stat=args.get("stat"),
                             visits=args.get("visits") or (), tpt=args.get("tpt"),
                             timepoints=args.get("timepoints") or (), same_day=args.get("same_day", "listed"))
    return derive


def _derive_seq(data, args, ctx):
    return derive_seq(data, args.get("by") or ["USUBJID"], args["order"])


DERIVE_ALGORITHMS = {
    "derive_test_name": _derive_test_name,
    "derive_stresc": _derive_stresc,
    "derive_stresu": _derive_stresu,
    "derive_stnr": _derive_stnr,
    "derive_stresn": _derive_stresn,
    "derive_nrind": _derive_nrind,
    "derive_rftdtc": _derive_rftdtc,
    "derive_rf_date": _derive_rf_date,
    "derive_exist_flag": _derive_exist_flag,
    "derive_age": _derive_age,
    "derive_study_day": _derive_study_day,
    "derive_epoch": _derive_epoch,
    "derive_blfl": _baseline("RFSTDTC"),
    "derive_lobxfl": _baseline("RFXSTDTC"),
    "derive_seq": _derive_seq,
}
