"""Analysis dates from ISO 8601 text, with stated imputation of partial dates, and study days.

ADaM dates are numbers: days since 1960-01-01 (SAS dates), displayed with DATE9.

Imputation (admiral's ``highest_imputation`` / ``date_imputation``):
- ``highest_imputation``: ``"n"`` never impute (a partial date gives a null date), ``"D"`` impute a
  missing day only, ``"M"`` impute a missing month and day. A missing year is never imputed.
- ``date_imputation``: ``"first"`` (alias ``"lowest"``): month 01, day 01; ``"last"`` (alias
  ``"highest"``): month 12, last day of the month; ``"mid"``: June 30 when the month is missing,
  the 15th when only the day is missing.
- The flag (``*DTF``, ADaM CT C81223) is ``"M"`` when the month was imputed, ``"D"`` when only the
  day was, null otherwise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from specs.errors import DataError

from .checks import assert_data_frame, assert_one_of, assert_vars, name_of

SAS_EPOCH = pd.Timestamp("1960-01-01")
_ISO = r"^\s*(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?(?:[T ].*)?\s*$"
_ALIASES = {"lowest": "first", "highest": "last"}


def sas_date(dates) -> pd.Series:
    """Calendar dates (datetime64 Series) -> SAS day numbers (float, NaN when missing)."""
    dates = pd.to_datetime(pd.Series(dates))
    return ((dates - SAS_EPOCH).dt.days).astype("float64")


def sas_date_to_datetime(days) -> pd.Series:
    """SAS day numbers -> datetime64 (for display and tests)."""
    days = pd.to_numeric(pd.Series(days), errors="coerce")
    return SAS_EPOCH + pd.to_timedelta(days, unit="D")


def _month_length(year: pd.Series, month: pd.Series) -> np.ndarray:
    """Days in each month (NaN where the year or month is missing or the month is not 1-12)."""
    y, m = year.to_numpy(dtype="float64"), month.to_numpy(dtype="float64")
    ok = ~(np.isnan(y) | np.isnan(m)) & (m >= 1) & (m <= 12)
    months = np.where(ok, (y - 1970) * 12 + (m - 1), 0).astype("int64").astype("datetime64[M]")
    length = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype("int64")
    return np.where(ok, length.astype("float64"), np.nan)


def _sas_days(year: pd.Series, month: pd.Series, day: pd.Series) -> np.ndarray:
    """SAS day numbers from numeric parts (numpy's proleptic Gregorian calendar, years 0-9999);
    NaN where a part is missing or the date does not exist (2023-02-29, month 13, day 0)."""
    length = _month_length(year, month)
    d = day.to_numpy(dtype="float64")
    ok = ~np.isnan(length) & ~np.isnan(d) & (d >= 1) & (d <= np.nan_to_num(length))
    y, m = year.to_numpy(dtype="float64"), month.to_numpy(dtype="float64")
    months = np.where(ok, (y - 1970) * 12 + (m - 1), 0).astype("int64").astype("datetime64[M]")
    days = (months.astype("datetime64[D]") - np.datetime64("1960-01-01", "D")).astype("int64")
    return np.where(ok, days + np.where(ok, d, 1) - 1, np.nan)


def _iso_parts(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Year, month and day of ISO 8601 text as numbers (NaN: absent, or not a date): pyarrow's
    regular expression over the whole column (RE2, ASCII digits), not a Python match per value."""
    arrow = getattr(text.array, "_pa_array", None)
    if arrow is None:
        arrow = pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    found = pc.extract_regex(arrow, _ISO)
    parts = []
    for i in range(3):
        part = pc.struct_field(found, [i])  # null where the text is not a date at all
        part = pc.if_else(pc.equal(part, ""), pa.scalar(None, part.type), part)  # a part not written
        numbers = pc.cast(part, pa.float64()).to_numpy(zero_copy_only=False)
        parts.append(pd.Series(numbers, index=text.index, dtype="float64"))
    return parts[0], parts[1], parts[2]


def impute_dtc_dt(dtc: pd.Series, highest_imputation: str = "n",
                  date_imputation: str = "first") -> pd.DataFrame:
    """Parse ISO 8601 dates (the time part is ignored) and impute partial ones.

    Returns a frame with ``date`` (SAS day number) and ``flag`` (D/M/null), aligned to ``dtc``.
    Text that is not an ISO 8601 date, or a date that does not exist, raises DataError.
    """
    assert_one_of(highest_imputation, ("n", "D", "M"), "highest_imputation")
    date_imputation = _ALIASES.get(date_imputation, date_imputation)
    assert_one_of(date_imputation, ("first", "mid", "last"), "date_imputation")
    codes, uniques = pd.factorize(dtc, use_na_sentinel=False)
    if len(uniques) < len(dtc):  # dates repeat: impute each distinct value once, then spread
        distinct = pd.Series(uniques, name=dtc.name, dtype=object if uniques.dtype == object else None)
        distinct.attrs = dtc.attrs
        once = impute_dtc_dt(distinct, highest_imputation, date_imputation)
        flag = pd.Series(once["flag"].astype("string").array.take(codes), index=dtc.index, copy=False)
        return pd.DataFrame({"date": once["date"].to_numpy()[codes], "flag": flag}, index=dtc.index)
    text = dtc.astype("string")
    blank = text.isna() | text.str.strip().eq("")
    year, month, day = _iso_parts(text)
    unparsed = ~blank & year.isna()
    no_month = year.notna() & month.isna()
    no_day = month.notna() & day.isna()

    if date_imputation == "first":
        month_fill, day_fill_no_month = 1, 1
    elif date_imputation == "last":
        month_fill, day_fill_no_month = 12, None
    else:
        month_fill, day_fill_no_month = 6, 30
    allow_month = highest_imputation == "M"
    allow_day = highest_imputation in ("D", "M")
    m = month.where(~no_month, month_fill if allow_month else np.nan)
    if date_imputation == "first":
        day_fill = pd.Series(1.0, index=dtc.index)
    elif date_imputation == "last":
        day_fill = pd.Series(_month_length(year, m), index=dtc.index)
    else:
        day_fill = pd.Series(15.0, index=dtc.index).where(~no_month, day_fill_no_month)
    d = day.where(~(no_day | no_month), day_fill if allow_day else np.nan)
    if not allow_month:
        d = d.where(~no_month, np.nan)

    ok = year.notna() & m.notna() & d.notna()
    days = _sas_days(year, m, d)
    invalid = unparsed | (ok & np.isnan(days))
    if invalid.any():
        bad = dtc[invalid].head(5).tolist()
        raise DataError([f"{name_of(dtc.to_frame(), 'dates')}: {int(invalid.sum())} value(s) of "
                         f"{dtc.name or 'the date variable'} are not ISO 8601 dates, e.g. {bad}"])
    flag = pd.Series(pd.NA, index=dtc.index, dtype="string")
    flag[no_day & ok] = "D"
    flag[no_month & ok] = "M"
    return pd.DataFrame({"date": days, "flag": flag.to_numpy()}, index=dtc.index)


def _bounded(dataset: pd.DataFrame, source: pd.Series, imputed: pd.DataFrame, highest_imputation: str,
             min_dates, max_dates) -> pd.Series:
    """admiral's ``min_dates``/``max_dates``: an imputed date is moved up to a minimum date (or down
    to a maximum date) that lies among the dates the partial value could be, e.g. an adverse event
    started "2023-05" with treatment started 2023-05-17 starts 2023-05-17, not 2023-05-01."""
    date = imputed["date"].copy()
    if not min_dates and not max_dates:
        return date
    was_imputed = imputed["flag"].notna().to_numpy()
    lowest = impute_dtc_dt(source, highest_imputation, "first")["date"].to_numpy()
    highest = impute_dtc_dt(source, highest_imputation, "last")["date"].to_numpy()
    values = date.to_numpy(dtype="float64").copy()
    for arg, names, pick in (("min_dates", min_dates, np.fmax), ("max_dates", max_dates, np.fmin)):
        for name in assert_vars(names, arg):
            assert_data_frame(dataset, arg, required_vars=[name])
            bound = pd.to_numeric(dataset[name], errors="coerce").to_numpy(dtype="float64")
            with np.errstate(invalid="ignore"):
                possible = was_imputed & (bound >= lowest) & (bound <= highest)
            values = np.where(possible, pick(values, bound), values)
    return pd.Series(values, index=date.index)


def derive_vars_dt(dataset: pd.DataFrame, new_vars_prefix: str, dtc: str, highest_imputation: str = "n",
                   date_imputation: str = "first", flag_imputation: str = "auto", min_dates=None,
                   max_dates=None) -> pd.DataFrame:
    """Add ``<prefix>DT`` (SAS date) from the ISO 8601 variable ``dtc``, and ``<prefix>DTF``.

    ``flag_imputation``: ``"auto"`` adds the flag when imputation is allowed, ``"date"`` always,
    ``"none"`` never. ``min_dates``/``max_dates`` (date variables, e.g. TRTSDT; EOSDT, DCUTDT) keep an
    imputed date from falling before/after them when they are among the dates it could be.
    """
    assert_vars(new_vars_prefix, "new_vars_prefix")
    assert_data_frame(dataset, "dtc", required_vars=[dtc])
    assert_one_of(flag_imputation, ("auto", "date", "none"), "flag_imputation")
    source = dataset[dtc].rename(dtc)
    source.attrs = {"name": name_of(dataset)}
    try:
        imputed = impute_dtc_dt(source, highest_imputation, date_imputation)
    except DataError as exc:
        raise DataError([f"{name_of(dataset)}: variable {dtc!r}: " + p.message.split(": ", 1)[-1]
                         for p in exc.problems]) from None
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[f"{new_vars_prefix}DT"] = _bounded(dataset, source, imputed, highest_imputation, min_dates, max_dates)
    if flag_imputation == "date" or (flag_imputation == "auto" and highest_imputation != "n"):
        out[f"{new_vars_prefix}DTF"] = imputed["flag"]
    return out


def compute_dy(date, reference_date) -> pd.Series:
    """Study day with no day 0: date - reference + 1 on or after the reference, date - reference before."""
    diff = pd.to_numeric(pd.Series(date), errors="coerce").to_numpy() - \
        pd.to_numeric(pd.Series(reference_date), errors="coerce").to_numpy()
    return pd.Series(np.where(diff >= 0, diff + 1, diff), index=pd.Series(date).index)


def derive_vars_dy(dataset: pd.DataFrame, reference_date: str, source_vars) -> pd.DataFrame:
    """Add study days: ``ADT`` -> ``ADY`` (names ending DT become DY), or {new name: date variable}."""
    mapping = dict(source_vars) if isinstance(source_vars, dict) else \
        {(v[:-2] + "DY" if v.endswith("DT") else v + "DY"): v for v in assert_vars(source_vars, "source_vars")}
    assert_data_frame(dataset, "reference_date", required_vars=[reference_date])
    assert_data_frame(dataset, "source_vars", required_vars=list(mapping.values()))
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for new, src in mapping.items():
        out[new] = compute_dy(dataset[src], dataset[reference_date]).to_numpy()
    return out


def derive_var_duration(dataset: pd.DataFrame, new_var: str, start_date: str, end_date: str,
                        add_one: bool = True) -> pd.DataFrame:
    """``new_var`` = end - start (+ 1 when ``add_one``: both days count), in days; null if either is."""
    assert_data_frame(dataset, "start_date", required_vars=[start_date])
    assert_data_frame(dataset, "end_date", required_vars=[end_date])
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    dur = pd.to_numeric(dataset[end_date], errors="coerce") - pd.to_numeric(dataset[start_date], errors="coerce")
    out[new_var] = dur + (1 if add_one else 0)
    return out
