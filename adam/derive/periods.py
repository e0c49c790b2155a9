"""Periods (admiral's "Visit and Period Variables"): a period reference dataset with one record per
subject and period (APERIOD), its ADSL form (APxxSDT, TRTxxP...) and the period of each record.

- ``derive_var_period_end``: a period ends the day before the next one starts; the last one ends at
  a date of the subject (e.g. EOSDT), or stays open (null) while the subject is ongoing.
- ``derive_vars_period``: the reference records spread into ADSL, ``xx`` in a new name becoming the
  two-digit period number (``APxxSDT: APERSDT`` gives AP01SDT, AP02SDT...).
- ``create_period_dataset``: the reverse, ADSL period variables back to one record per period.
- ``derive_vars_joined``: variables of the reference record whose interval holds a record's date
  (APERIOD, TRTA of the period an adverse event started in); an open end holds every later date.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from specs.errors import DataError, SpecError

from .checks import assert_data_frame, assert_vars, name_of, resolve_where
from .keys import key_codes, take_rows

_XX = "xx"


def _as_frame(dataset_ref, arg: str) -> pd.DataFrame:
    """A data frame, or a list of records declared in the spec (a planned-treatment table)."""
    if isinstance(dataset_ref, list):
        frame = pd.DataFrame.from_records(dataset_ref)
        frame.attrs = {"name": f"the {arg} table of the spec"}
        return frame
    return assert_data_frame(dataset_ref, arg)


def _period_numbers(values: pd.Series, dataset: pd.DataFrame, period_var: str) -> np.ndarray:
    number = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & (number.isna() | (number % 1 != 0) | (number < 1) | (number > 99))
    if bad.any():
        raise DataError([f"{name_of(dataset, 'dataset_ref')}: {period_var} must be a whole number 1-99, got "
                         f"{values[bad].head(3).tolist()}"])
    return number.to_numpy()


def derive_var_period_end(dataset: pd.DataFrame, by_vars, order, new_var: str = "APEREDT",
                          end_var: str | None = None, offset: int = -1) -> pd.DataFrame:
    """``new_var`` = the next record's ``order`` date (within ``by_vars``) + ``offset`` days; the last
    record of each group takes ``end_var`` (e.g. EOSDT), or null without it (the period is ongoing).

    admiral's ``APEREDT = lead(APERSDT) - 1``: consecutive periods leave no gap and do not overlap."""
    by_vars, order = assert_vars(by_vars, "by_vars"), assert_vars(order, "order")
    if len(order) != 1:
        raise SpecError(["argument 'order' must name the one start date variable"])
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset, "order", required_vars=order)
    if end_var:
        assert_data_frame(dataset, "end_var", required_vars=[end_var])
    start = pd.to_numeric(dataset[order[0]], errors="coerce")
    ordered = dataset.assign(__start=start).sort_values(by_vars + ["__start"], kind="stable", na_position="last")
    following = ordered.groupby(by_vars, dropna=False, sort=False)["__start"].shift(-1)
    end = following + offset
    last = following.isna()
    if end_var:
        end[last] = pd.to_numeric(ordered.loc[last, end_var], errors="coerce")
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = end.reindex(dataset.index).astype("float64")
    return out


def _pattern(name: str) -> re.Pattern:
    head, tail = name.split(_XX, 1)
    return re.compile(rf"^{re.escape(head)}(\d\d){re.escape(tail)}$")


def derive_vars_period(dataset: pd.DataFrame, dataset_ref, by_vars=("STUDYID", "USUBJID"), new_vars=None,
                       periods=None, period_var: str = "APERIOD") -> pd.DataFrame:
    """ADSL period variables from a period reference: ``new_vars`` maps names holding ``xx`` to
    reference variables, e.g. ``{APxxSDT: APERSDT, TRTxxP: TRTP}``; each reference record gives the
    variables of its period (``xx`` = APERIOD, two digits).

    ``dataset_ref`` is a data frame or a list of records of the spec (e.g. the planned treatment of
    each arm and period, joined ``by_vars: [ARMCD]``). Two reference records for one key and period
    raise DataError. A period no record gives stays null for that subject. ``periods`` lists the
    design's period numbers: their variables exist even when no record has them yet (an early data
    cut), and a reference record of another period raises DataError; without it the periods are
    those of the reference records.
    """
    ref = _as_frame(dataset_ref, "dataset_ref")
    by_vars = assert_vars(by_vars, "by_vars")
    if not isinstance(new_vars, dict) or not new_vars:
        raise SpecError(["argument 'new_vars' must map period variables (with xx) to reference variables"])
    bad = [n for n in new_vars if _XX not in n]
    if bad:
        raise SpecError([f"argument 'new_vars': {n!r} has no 'xx' for the period number" for n in bad])
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(ref, "dataset_ref", required_vars=by_vars + [period_var] + list(new_vars.values()))
    ref = ref[ref[period_var].notna()]
    period = _period_numbers(ref[period_var], ref, period_var)
    keyed = ref[by_vars].assign(__p=period)
    dup = keyed.duplicated(keep=False)
    if dup.any():
        ex = keyed[dup].head(2).rename(columns={"__p": period_var}).to_dict("records")
        raise DataError([f"{name_of(ref, 'dataset_ref')}: {int(dup.sum())} records share {by_vars + [period_var]}, "
                         f"e.g. {ex}"])
    found = sorted({int(p) for p in period})
    if periods is not None:
        if not isinstance(periods, list) or not all(isinstance(p, int) and 1 <= p <= 99 for p in periods):
            raise SpecError([f"argument 'periods' must list period numbers 1-99, got {periods!r}"])
        unknown = sorted(set(found) - set(periods))
        if unknown:
            raise DataError([f"{name_of(ref, 'dataset_ref')}: {period_var} {unknown} not among the periods "
                             f"{periods} of the design"])
    periods = sorted(periods) if periods is not None else found
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    clash = [new.replace(_XX, f"{p:02d}") for p in periods for new in new_vars
             if new.replace(_XX, f"{p:02d}") in dataset.columns]
    if clash:
        raise SpecError([f"argument 'new_vars': {n!r} is already a variable of {name_of(dataset)}" for n in clash])
    for p in periods:  # one merge per period number, not per record
        rows = ref[period == p]
        names = {new.replace(_XX, f"{p:02d}"): src for new, src in new_vars.items()}
        right = rows[by_vars].copy()
        for new, src in names.items():
            right[new] = rows[src].to_numpy()
        for key in by_vars:  # join text with text and numbers with numbers
            if pd.api.types.is_numeric_dtype(out[key]) != pd.api.types.is_numeric_dtype(right[key]):
                right[key] = right[key].astype(out[key].dtype)
        merged = out[by_vars].merge(right, on=by_vars, how="left", sort=False)
        for new in names:
            out[new] = merged[new].to_numpy()
    return out


def create_period_dataset(dataset: pd.DataFrame, by_vars=("STUDYID", "USUBJID"), new_vars=None,
                          period_var: str = "APERIOD") -> pd.DataFrame:
    """One record per subject and period from ADSL period variables: ``new_vars`` maps reference
    names to ADSL names holding ``xx`` (``{APERSDT: APxxSDT, TRTA: TRTxxA}``). Periods are the
    numbers found in the dataset's variable names; a period whose variables are all null for a
    subject gives no record."""
    by_vars = assert_vars(by_vars, "by_vars")
    if not isinstance(new_vars, dict) or not new_vars:
        raise SpecError(["argument 'new_vars' must map reference variables to period variables (with xx)"])
    bad = [v for v in new_vars.values() if _XX not in v]
    if bad:
        raise SpecError([f"argument 'new_vars': {v!r} has no 'xx' for the period number" for v in bad])
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    numbers = sorted({int(m.group(1)) for v in new_vars.values() for c in dataset.columns
                      if (m := _pattern(v).match(c))})
    if not numbers:
        raise DataError([f"{name_of(dataset)}: no variable matches {', '.join(new_vars.values())}"])
    parts = []
    for p in numbers:
        part = dataset[by_vars].copy()
        part[period_var] = float(p)
        present = pd.Series(False, index=dataset.index)
        for new, pattern in new_vars.items():
            column = pattern.replace(_XX, f"{p:02d}")
            part[new] = dataset[column] if column in dataset.columns else pd.NA
            present |= part[new].notna()
        parts.append(part[present])
    out = pd.concat(parts, ignore_index=True).sort_values(by_vars + [period_var], kind="stable")
    out.attrs = {"name": name_of(dataset)}
    return out.reset_index(drop=True)


def derive_vars_joined(dataset: pd.DataFrame, dataset_add, by_vars, new_vars=None, join_var: str = "ADT",
                       start_var: str = "APERSDT", end_var: str = "APEREDT", filter_add=None) -> pd.DataFrame:
    """Add ``new_vars`` of the ``dataset_add`` record (same ``by_vars``) whose interval
    ``[start_var, end_var]`` holds ``join_var`` (bounds included; a null end is open: the period is
    ongoing). Records without a date, or outside every interval, get nulls. Overlapping intervals
    holding one date raise DataError (the periods of a subject must not overlap).

    admiral's ``derive_vars_joined(filter_join = APERSDT <= ADT & ADT <= APEREDT)``."""
    add = _as_frame(dataset_add, "dataset_add")
    by_vars = assert_vars(by_vars, "by_vars")
    mapping = ({k: v for k, v in new_vars.items()} if isinstance(new_vars, dict)
               else {v: v for v in assert_vars(new_vars, "new_vars")})
    if not mapping:
        raise SpecError(["argument 'new_vars' must name the variables to add"])
    assert_data_frame(dataset, "by_vars", required_vars=by_vars + [join_var])
    assert_data_frame(add, "dataset_add", required_vars=by_vars + [start_var, end_var] + list(mapping.values()))
    clash = [n for n in mapping if n in dataset.columns]
    if clash:
        raise SpecError([f"argument 'new_vars': {n!r} is already a variable of {name_of(dataset)}" for n in clash])
    add = add[resolve_where(add, filter_add, "filter_add")]
    right = add[by_vars].copy()
    for key in by_vars:  # join text with text and numbers with numbers
        if pd.api.types.is_numeric_dtype(dataset[key]) != pd.api.types.is_numeric_dtype(right[key]):
            right[key] = right[key].astype(dataset[key].dtype)
    # each record against the few intervals of its key: the intervals sorted by key, then one pass
    # per interval slot (a subject has a handful of periods), never a record x interval merge
    lkey, rkey, valid = key_codes(dataset, right, by_vars, by_vars)
    rkey = np.where(valid, rkey, -1)
    start = pd.to_numeric(add[start_var], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    end = pd.to_numeric(add[end_var], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    date = pd.to_numeric(dataset[join_var], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    by_key = np.argsort(rkey, kind="stable")
    sorted_keys = rkey[by_key]
    first = np.searchsorted(sorted_keys, lkey, side="left")
    count = np.searchsorted(sorted_keys, lkey, side="right") - first
    chosen = np.full(len(dataset), -1, dtype=np.int64)
    hits = np.zeros(len(dataset), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for slot in range(int(count.max(initial=0))):
            has = np.flatnonzero(count > slot)
            row = by_key[first[has] + slot]
            inside = (start[row] <= date[has]) & (np.isnan(end[row]) | (date[has] <= end[row]))
            hits[has[inside]] += 1
            chosen[has[inside]] = row[inside]
    twice = np.flatnonzero(hits > 1)
    if len(twice):
        rows = dataset.iloc[twice[:2]]
        raise DataError([f"{name_of(add, 'dataset_add')}: intervals [{start_var}, {end_var}] overlap at "
                         f"{join_var} of {name_of(dataset)} records {rows[by_vars + [join_var]].to_dict('records')}"])
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for new, src in mapping.items():
        values = take_rows(add[src], chosen, dataset.index)
        # text stays pyarrow text ("str", as numpy's object text would become); others as numpy gives them
        out[new] = values.astype("str") if isinstance(values.dtype, pd.StringDtype) else values.to_numpy()
    return out
