"""Derive-kind algorithms: variables computed from mapped variables and from other domains.

The functions in the first part are pure functions of data frames and series (tested by hand); the
registry at the end adapts each to the spec's arguments, taking the other domains it needs from the
``DeriveContext``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sdtm.dates import date_part, study_day
from sdtm.unique import on_unique
from specs.errors import Problem

QUALIFIED = re.compile(r"^\s*(<=|>=|<|>)\s*([0-9]*\.?[0-9]+)\s*$")


# ---------------------------------------------------------------- pure functions over frames
def derive_seq(dataset: pd.DataFrame, by_vars: list[str], order: list[str]) -> pd.Series:
    """1..n within by_vars following the order columns (a stable sort; ties keep record order)."""
    ordered = dataset.sort_values(list(by_vars) + list(order), kind="mergesort", na_position="last")
    seq = ordered.groupby(list(by_vars), sort=False, dropna=False).cumcount() + 1
    return seq.reindex(dataset.index).astype(float)


def convert_result(orres: pd.Series, orresu: pd.Series, testcd: pd.Series, standard_units: dict
                   ) -> tuple[pd.Series, pd.Series]:
    """(STRESC, STRESU), computed once per distinct (result, unit, test); see _convert_result."""
    stresc, stresu = on_unique(lambda r, u, t: _convert_result(r.fillna(""), u.fillna(""), t.fillna(""),
                                                               standard_units), orres, orresu, testcd)
    return stresc.astype(object), stresu.astype(object)


def _convert_result(orres: pd.Series, orresu: pd.Series, testcd: pd.Series, standard_units: dict
                    ) -> tuple[pd.Series, pd.Series]:
    """(STRESC, STRESU): the result in the test's standard unit, as text.

    A result in another unit is multiplied by the factor stated for that unit and rounded to the stated
    decimals ('<x'/'>x' keeps its qualifier and converts x); a result already in the standard unit, and
    any other text, is copied as reported. Tests without a standard unit keep their unit and value.
    """
    unit = testcd.map(lambda t: standard_units.get(t, {}).get("unit")).fillna(orresu).astype(object)
    factor = pd.Series(
        [standard_units.get(t, {}).get("factors", {}).get(u, 1.0) if u != standard_units.get(t, {}).get("unit")
         else 1.0 for t, u in zip(testcd, orresu)], index=orres.index, dtype=float)
    decimals = testcd.map(lambda t: standard_units.get(t, {}).get("decimals"))
    text = orres.fillna("").astype(str).str.strip()
    number = pd.to_numeric(text, errors="coerce")
    parts = text.str.extract(QUALIFIED)
    limit = pd.to_numeric(parts[1], errors="coerce")

    def fmt(values: pd.Series) -> pd.Series:
        out = []
        for value, places in zip(values, decimals):
            if pd.isna(value):
                out.append("")
            elif pd.notna(places):
                out.append(f"{round(float(value), int(places)):.{int(places)}f}")
            else:
                out.append(f"{float(value):.10g}")
        return pd.Series(out, index=values.index, dtype=object)

    converted = factor != 1.0
    as_number = fmt(number * factor)
    qualified = parts[0].fillna("") + fmt(limit * factor)
    stresc = as_number.where(number.notna(), qualified.where(limit.notna(), text))
    # a result already in its standard unit is copied as reported (precision and qualifier kept)
    stresc = stresc.where(converted, text).astype(object)
    return stresc, unit.where(text != "", "").astype(object)


def convert_limit(ornr: pd.Series, orresu: pd.Series, testcd: pd.Series, standard_units: dict) -> pd.Series:
    stresc, _ = convert_result(ornr, orresu, testcd, standard_units)
    return pd.to_numeric(stresc, errors="coerce").astype(float)


def numeric_result(stresc: pd.Series) -> pd.Series:
    """STRESN: the number in STRESC, null for '<0.02' and other text."""
    text = stresc.fillna("").astype(str).str.strip()
    plain = text.str.fullmatch(r"[-+]?([0-9]*\.?[0-9]+)([eE][-+]?[0-9]+)?")
    return pd.to_numeric(text.where(plain), errors="coerce").astype(float)


def reference_range_indicator(stresn: pd.Series, low: pd.Series, high: pd.Series) -> pd.Series:
    out = pd.Series("", index=stresn.index, dtype=object)
    has_range = low.notna() | high.notna()
    out = out.mask(stresn.notna() & has_range, "NORMAL")
    out = out.mask(stresn.notna() & low.notna() & (stresn < low), "LOW")
    out = out.mask(stresn.notna() & high.notna() & (stresn > high), "HIGH")
    return out


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
    stacked = stacked[stacked["DTC"].fillna("").astype(str) != ""]
    ordered = stacked.sort_values(["USUBJID", "DTC"], kind="mergesort")
    picked = ordered.drop_duplicates("USUBJID", keep="first" if pick == "first" else "last")
    return pd.Series(picked["DTC"].to_numpy(), index=picked["USUBJID"].to_numpy(), dtype=object)


def epoch_of(dataset: pd.DataFrame, dtc: str, se: pd.DataFrame) -> pd.Series:
    """EPOCH of each record: the SE element with SESTDTC <= date < SEENDTC (date parts; the subject's last
    element includes its end date). Null for partial dates and dates outside every element."""
    records = pd.DataFrame({"USUBJID": dataset["USUBJID"].values, "DATE": date_part(dataset[dtc]).values,
                            "ROW": np.arange(len(dataset))})
    elements = se[["USUBJID", "SESTDTC", "SEENDTC", "EPOCH", "TAETORD"]].copy()
    elements["START"], elements["END"] = date_part(elements["SESTDTC"]), date_part(elements["SEENDTC"])
    joined = records.dropna(subset=["DATE"]).merge(elements, on="USUBJID", how="inner")
    joined["LAST"] = joined.groupby("USUBJID")["TAETORD"].transform("max") == joined["TAETORD"]
    inside = (joined["DATE"] >= joined["START"]) & (
        (joined["DATE"] < joined["END"]) | (joined["LAST"] & (joined["DATE"] <= joined["END"]))
        | joined["END"].isna())
    hits = joined[inside].sort_values(["ROW", "TAETORD"]).drop_duplicates("ROW", keep="last")
    out = pd.Series("", index=range(len(dataset)), dtype=object)
    out.iloc[hits["ROW"].to_numpy()] = hits["EPOCH"].to_numpy()
    out.index = dataset.index
    return out


NO_RESULT = {"", "ND", "NOT DONE"}
SAME_DAY_RULES = ("listed", "before")


def _time_part(dtc: pd.Series) -> pd.Series:
    """'HH:MM' of an ISO 8601 date/time (seconds ignored), '' when the time is missing or partial."""
    time = dtc.fillna("").astype(str).str.extract(r"T(\d{2}:\d{2})", expand=False)
    return time.fillna("").astype(object)


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
    values = dataset[result].fillna("").astype(str).str.strip()
    has_result = ~values.isin(NO_RESULT)
    if stat:
        has_result &= dataset[stat].fillna("").astype(str) != "NOT DONE"
    ref = dataset["USUBJID"].map(reference).fillna("").astype(object)
    day, ref_day = date_part(dataset[dtc]), date_part(ref)
    time, ref_time = on_unique(_time_part, dataset[dtc]), on_unique(_time_part, ref)
    same = day.notna() & (day == ref_day)
    known_order = (time != "") & (ref_time != "") & (time != ref_time)
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
    before = (day < ref_day) | (same & known_order & (time < ref_time)) | (same & ~known_order & listed)
    candidates = dataset.loc[has_result & before.fillna(False), ["USUBJID", *by_vars, dtc]].copy()
    candidates["__ORDER"] = np.arange(len(candidates))
    candidates = candidates.sort_values([dtc, "__ORDER"], kind="mergesort")
    keep = candidates.groupby(["USUBJID", *by_vars], dropna=False).tail(1).index
    out = pd.Series("", index=dataset.index, dtype=object)
    out.loc[keep] = "Y"
    return out


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

    def other(self, name: str) -> pd.DataFrame:
        return self.domains[name]

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
    return data[args["testcd"]].map(mapping).fillna("").astype(object)


def _derive_stresc(data, args, ctx):
    stresc, _ = convert_result(data[args["orres"]], data[args["orresu"]], data[args["testcd"]], _units(ctx))
    return stresc


def _derive_stresu(data, args, ctx):
    placeholder = pd.Series("1", index=data.index, dtype=object)
    _, unit = convert_result(placeholder, data[args["orresu"]], data[args["testcd"]], _units(ctx))
    return unit.where(data[args["orresu"]].fillna("").astype(str) != "", "").astype(object)


def _derive_stnr(data, args, ctx):
    return convert_limit(data[args["ornr"]], data[args["orresu"]], data[args["testcd"]], _units(ctx))


def _derive_stresn(data, args, ctx):
    return numeric_result(data[args["stresc"]])


def _derive_nrind(data, args, ctx):
    return reference_range_indicator(data[args["stresn"]], data[args["lo"]], data[args["hi"]])


def _derive_rf_date(data, args, ctx):
    frames = []
    for source in args["sources"]:
        other = records_where(ctx.other(source["domain"]), source.get("where"))
        frames.append(pd.DataFrame({"USUBJID": other["USUBJID"].values, "DTC": other[source["variable"]].values}))
    picked = pick_date(frames, args["pick"])
    return data["USUBJID"].map(picked.astype(object)).astype(object).fillna("")


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
    return study_day(data[args["dtc"]], data["USUBJID"].map(_reference(ctx, "RFSTDTC")))


def _derive_epoch(data, args, ctx):
    return epoch_of(data, args["dtc"], ctx.other("SE"))


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
    "derive_rf_date": _derive_rf_date,
    "derive_exist_flag": _derive_exist_flag,
    "derive_age": _derive_age,
    "derive_study_day": _derive_study_day,
    "derive_epoch": _derive_epoch,
    "derive_blfl": _baseline("RFSTDTC"),
    "derive_lobxfl": _baseline("RFXSTDTC"),
    "derive_seq": _derive_seq,
}
