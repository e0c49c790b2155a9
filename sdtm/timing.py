"""Timing derivations over a domain's dates: the first or last date per subject, EPOCH from the subject's
elements, the reference time of a timepoint, and the baseline flag (last observation before the reference)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm.dates import date_part, datetime_part, duration, iso_datetime
from sdtm.unique import factorize, map_text, on_unique, shared_text, sorted_positions, text_is, text_of
from specs.vocabulary import EPOCH_SAME_DAY


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
