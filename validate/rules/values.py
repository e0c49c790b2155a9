"""Values within one dataset: ISO 8601 dates, start/end order, study days, --SEQ, units, results."""
from __future__ import annotations

import numpy as np
import pandas as pd

from validate.registry import Context, concat, fail, rule
from validate.rules.common import COMPLETE_PREFIX, iterated_groups, stacked, date_days, factorize, factorized, iso_valid, numeric, \
    per_unique, reference_days, lookup, row_groups, study_day

ISO_PRECISIONS = (4, 7, 10, 13, 16, 19)
START_END_PAIRS = {"DM": [("RFSTDTC", "RFENDTC"), ("RFXSTDTC", "RFXENDTC")]}


def _dtc_columns(context: Context, name: str) -> list[str]:
    meta = context.package.meta[name].variables
    return [c for c, v in meta.items() if c.endswith("DTC") and v.type == "Char"]


@rule(id="SD0003", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG", fda_id="SD0003",
      message="{variable} = '{value}' is not a valid ISO 8601 date/time")
def iso8601(context: Context) -> pd.DataFrame:
    """Every --DTC is ISO 8601 extended format (partial, missing parts as '-', intervals with '/')."""
    frames = []
    for name, df in context.package.sdtm().items():
        for variable in _dtc_columns(context, name):
            valid = per_unique(df[variable], iso_valid, codes_uniques=factorized(context, name, variable))
            frames.append(fail(context.package, name, df[variable].notna().to_numpy() & ~valid, variable))
    return concat(frames)


def _start_end_pairs(name: str, columns) -> list[tuple[str, str]]:
    pairs = list(START_END_PAIRS.get(name, []))
    prefix = name[:2]
    pairs.append((f"{prefix}STDTC", f"{prefix}ENDTC"))
    return [(a, b) for a, b in pairs if a in columns and b in columns]


def _text(series: pd.Series) -> pd.Series:
    """Text with missing as '' (pyarrow-backed text stays so: no Python string per value)."""
    if pd.api.types.is_string_dtype(series) and series.dtype != object:
        return series.fillna("")
    return series.astype(object).where(series.notna(), "").astype(str)


def start_after_end(start: pd.Series, end: pd.Series) -> np.ndarray:
    """True where both values are complete to some precision and start is later than end at their common precision."""
    complete = lambda u: u.astype(str).str.fullmatch(COMPLETE_PREFIX.pattern).to_numpy(dtype=bool)  # noqa: E731
    ok = per_unique(start, complete) & per_unique(end, complete)  # per distinct value; a missing one is not complete
    s, e = _text(start), _text(end)
    common = np.minimum(s.str.len().to_numpy(), e.str.len().to_numpy())
    out = np.zeros(len(s), dtype=bool)
    for i, p in enumerate(ISO_PRECISIONS):
        upper = ISO_PRECISIONS[i + 1] if i + 1 < len(ISO_PRECISIONS) else np.inf
        rows = ok & (common >= p) & (common < upper)
        if rows.any():
            out[rows] = (s[rows].str[:p] > e[rows].str[:p]).to_numpy(dtype=bool)
    return out


@rule(id="SD0013", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG", fda_id="SD0013",
      message="{variable} = {value} is after {end_variable} = {end}")
def start_not_after_end(context: Context) -> pd.DataFrame:
    """--STDTC is not after --ENDTC (and RFSTDTC/RFENDTC, RFXSTDTC/RFXENDTC in DM)."""
    frames = []
    for name, df in context.package.sdtm().items():
        for start, end in _start_end_pairs(name, df.columns):
            bad = start_after_end(df[start], df[end])
            frames.append(fail(context.package, name, bad, start, end_variable=end, end=df[end]))
    return concat(frames)


def _day_pairs(name: str, columns) -> list[tuple[str, str]]:
    p = name[:2]
    pairs = [(f"{p}DY", f"{p}DTC"), (f"{p}STDY", f"{p}STDTC"), (f"{p}ENDY", f"{p}ENDTC")]
    return [(dy, dtc) for dy, dtc in pairs if dy in columns]


@rule(id="CV0201", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG",
      message="{variable} is 0; study days have no day 0")
def no_day_zero(context: Context) -> pd.DataFrame:
    """--DY, --STDY, --ENDY are never 0."""
    frames = []
    for name, df in context.package.sdtm().items():
        for dy, _ in _day_pairs(name, df.columns):
            frames.append(fail(context.package, name, pd.to_numeric(df[dy], errors="coerce") == 0, dy))
    return concat(frames)


@rule(id="CV0202", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG",
      message="{variable} = {value} but {dtc} and DM.RFSTDTC give {expected}")
def study_day_consistent(context: Context) -> pd.DataFrame:
    """--DY equals the study day of --DTC relative to DM.RFSTDTC (day 1 = RFSTDTC, no day 0)."""
    frames = []
    reference = reference_days(context)
    for name, df in context.package.sdtm().items():
        if "USUBJID" not in df.columns or not len(reference):
            continue
        ref = lookup(df["USUBJID"], reference)
        for dy, dtc in _day_pairs(name, df.columns):
            if dtc not in df.columns:
                continue
            expected = study_day(date_days(df[dtc]), ref)
            actual = pd.to_numeric(df[dy], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            bad = ~np.isnan(actual) & ~np.isnan(expected) & (actual != expected) & (actual != 0)
            frames.append(fail(context.package, name, bad, dy, dtc=dtc, expected=pd.Series(expected)))
    return concat(frames)


@rule(id="SD0005", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG", fda_id="SD0005",
      message="{variable} = {value} is used more than once for the subject")
def seq_unique(context: Context) -> pd.DataFrame:
    """--SEQ is unique within USUBJID, across the split datasets of a domain (LBCH, LBHE) too."""
    frames = []
    for names in iterated_groups(context):
        names = [n for n in names if {f"{context.package.prefix(n)}SEQ", "USUBJID"} <= set(context.package.columns(n))]
        if not names or context.package.domain(names[0]) == "SUPPQUAL":
            continue
        seq = f"{context.package.prefix(names[0])}SEQ"
        both = stacked(context, names, ["USUBJID", seq])
        repeated = (both[seq].notna() & both.duplicated(["USUBJID", seq], keep=False)).to_numpy()
        for name in names:
            rows = both.loc[repeated & (both["_dataset"] == name).to_numpy(), "_row"].to_numpy()
            mask = np.zeros(len(context.package.datasets[name]), dtype=bool)
            mask[rows] = True
            frames.append(fail(context.package, name, mask, seq))
    return concat(frames)


def _findings_columns(context: Context, name: str, *suffixes: str) -> list[str] | None:
    p = context.package.prefix(name)
    names = [f"{p}{s}" for s in suffixes]
    return names if all(n in context.package.datasets[name].columns for n in names) else None


@rule(id="CV0203", per_dataset=True, by_range="dataset", reads=("--TESTCD", "--STRESU", "--CAT", "--SPEC"),
      severity="Warning", standard="SDTMIG",
      message="{variable} = {value} differs from {usual}, the unit of most {test} records")
def units_consistent(context: Context) -> pd.DataFrame:
    """One standard unit per test (per --TESTCD, --CAT, --SPEC)."""
    frames = []
    for name, df in context.package.sdtm().items():
        cols = _findings_columns(context, name, "TESTCD", "STRESU")
        if cols is None:
            continue
        test, unit = cols
        p = context.package.prefix(name)
        group = [test] + [c for c in (f"{p}CAT", f"{p}SPEC") if c in df.columns]
        usual = _usual_codes(df, group, unit)
        if usual is None:
            continue
        codes, best, uniques = usual
        bad = (codes >= 0) & (codes != best)
        frames.append(fail(context.package, name, bad, unit, usual=pd.Series(uniques.take(np.maximum(best, 0))),
                           test=df[test]))
    return concat(frames)


def _usual_codes(df: pd.DataFrame, group: list[str], unit: str):
    """Per record: the code of its unit, and the code of the unit most records of its group have (the one
    seen first on a tie; -1 when no record of the group has one), with the distinct units; None without
    any. Counted on the shared factorizations of the columns, not on the text."""
    codes, uniques = factorize(df[unit])
    if len(uniques) == 0:
        return None
    groups, _ = row_groups([df[c] for c in group])
    valid = codes >= 0
    pair_codes, pairs = pd.factorize(groups[valid] * len(uniques) + codes[valid])  # in order of first appearance
    counts = np.bincount(pair_codes, minlength=len(pairs))
    order = np.lexsort((np.arange(len(pairs)), -counts))  # most records first, then first seen
    pair_group, pair_unit = pairs[order] // len(uniques), pairs[order] % len(uniques)
    chosen, first = np.unique(pair_group, return_index=True)
    best = np.full(int(groups.max(initial=-1)) + 1, -1, dtype=np.int64)
    best[chosen] = pair_unit[first]
    return codes, best[groups], uniques


@rule(id="CV0204", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG",
      message="{variable} = {value} but {stresc} = '{text}'")
def stresn_matches_stresc(context: Context) -> pd.DataFrame:
    """--STRESN is the numeric value of --STRESC, and null when --STRESC is not a number."""
    frames = []
    for name, df in context.package.sdtm().items():
        cols = _findings_columns(context, name, "STRESC", "STRESN")
        if cols is None:
            continue
        stresc, stresn = cols
        expected = numeric(df[stresc])
        actual = pd.to_numeric(df[stresn], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        both = ~np.isnan(expected) & ~np.isnan(actual)
        close = np.isclose(np.nan_to_num(actual), np.nan_to_num(expected), rtol=1e-9, atol=1e-12)
        bad = (np.isnan(expected) != np.isnan(actual)) | (both & ~close)
        frames.append(fail(context.package, name, bad, stresn, stresc=stresc, text=df[stresc]))
    return concat(frames)


@rule(id="CV0205", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG",
      message="{variable} is null while {orres} = '{value}'")
def stresc_when_orres(context: Context) -> pd.DataFrame:
    """--STRESC is populated whenever --ORRES is."""
    frames = []
    for name, df in context.package.sdtm().items():
        cols = _findings_columns(context, name, "ORRES", "STRESC")
        if cols is None:
            continue
        orres, stresc = cols
        frames.append(fail(context.package, name, df[orres].notna() & df[stresc].isna(), stresc,
                           values=df[orres], orres=orres))
    return concat(frames)
