"""ADaM: ADSL one row per subject, subjects in ADSL, baseline, BASE/CHG/PCHG, PARAMCD-PARAM, ADY."""
from __future__ import annotations

import numpy as np
import pandas as pd

from validate.registry import Context, concat, fail, rule
from validate.rules.common import lookup, row_groups, study_day, text_in

POPULATION_FLAGS = ("SAFFL", "ITTFL", "FASFL", "PPROTFL", "COMPLFL", "RANDFL", "ENRLFL")


def _bds(context: Context):
    for name, df in context.package.adam().items():
        if name != "ADSL" and {"USUBJID", "PARAMCD"} <= set(df.columns):
            yield name, df


def _baseline_groups(df: pd.DataFrame) -> list[str]:
    """Subject, parameter and BASETYPE; and the analysis time point when the parameter has time points
    (e.g. each MMTT sample time has its own baseline)."""
    return ["USUBJID", "PARAMCD"] + [c for c in ("BASETYPE", "ATPTN") if c in df.columns]


def _num(df: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


@rule(id="CV0404", severity="Error", standard="ADaMIG", scope="ADaM",
      message="USUBJID {value} is on more than one ADSL record")
def adsl_one_row_per_subject(context: Context) -> pd.DataFrame:
    """ADSL has one record per subject."""
    adsl = context.package.datasets.get("ADSL")
    if adsl is None or "USUBJID" not in adsl.columns:
        return None
    return fail(context.package, "ADSL", adsl["USUBJID"].notna() & adsl.duplicated("USUBJID", keep=False), "USUBJID")


@rule(id="CV0405", per_dataset=True, by_range="records", severity="Error", standard="ADaMIG", scope="ADaM",
      message="USUBJID {value} is not in ADSL")
def subject_in_adsl(context: Context) -> pd.DataFrame:
    """Every USUBJID of an ADaM dataset is in ADSL."""
    adsl = context.package.datasets.get("ADSL")
    if adsl is None or "USUBJID" not in adsl.columns:
        return None
    known = adsl["USUBJID"].dropna().unique()
    return concat([fail(context.package, n, df["USUBJID"].notna().to_numpy() & ~text_in(df["USUBJID"], known), "USUBJID")
                   for n, df in context.package.adam().items() if n != "ADSL" and "USUBJID" in df.columns])


@rule(id="CV0406", severity="Error", standard="ADaMIG", scope="ADaM",
      message="{value} population flag {variable} must be Y or N")
def population_flags(context: Context) -> pd.DataFrame:
    """ADSL population flags (SAFFL, ITTFL...) are Y or N, never blank."""
    adsl = context.package.datasets.get("ADSL")
    if adsl is None:
        return None
    return concat([fail(context.package, "ADSL", ~text_in(adsl[f], ("Y", "N")), f)
                   for f in POPULATION_FLAGS if f in adsl.columns])


@rule(id="CV0407", per_dataset=True, by_range="records", severity="Error", standard="ADaMIG", scope="ADaM",
      message="more than one baseline record (ABLFL = Y) for {key}")
def one_baseline(context: Context) -> pd.DataFrame:
    """At most one ABLFL = 'Y' record per USUBJID, PARAMCD and BASETYPE."""
    frames = []
    for name, df in _bds(context):
        if "ABLFL" not in df.columns:
            continue
        flagged = (df["ABLFL"] == "Y").fillna(False).to_numpy(dtype=bool)
        ids, _first = row_groups([df[g] for g in _baseline_groups(df)])
        repeated = pd.Series(ids[flagged]).duplicated(keep=False).to_numpy()
        bad = np.zeros(len(df), dtype=bool)
        bad[np.flatnonzero(flagged)[repeated]] = True
        frames.append(fail(context.package, name, bad, "ABLFL"))
    return concat(frames)


def _baseline_aval(df: pd.DataFrame) -> np.ndarray:
    """AVAL of each record's baseline record (same USUBJID/PARAMCD/BASETYPE, ABLFL = Y); NaN when none."""
    ids, _first = row_groups([df[g] for g in _baseline_groups(df)])  # a null key is a value, as merge matches it
    flagged = np.flatnonzero((df["ABLFL"] == "Y").fillna(False).to_numpy(dtype=bool))
    base_of = np.full(int(ids.max(initial=-1)) + 1, np.nan)
    base_of[ids[flagged[::-1]]] = _num(df, "AVAL")[flagged[::-1]]  # assigned last to first: the first flagged wins
    return base_of[ids]


@rule(id="CV0408", per_dataset=True, by_range="records", severity="Error", standard="ADaMIG", scope="ADaM",
      message="BASE = {value} but the baseline record's AVAL is {expected}")
def base_is_baseline_aval(context: Context) -> pd.DataFrame:
    """BASE equals AVAL of the baseline record (ABLFL = Y) of the same subject, parameter and BASETYPE."""
    frames = []
    for name, df in _bds(context):
        if not {"BASE", "AVAL", "ABLFL"} <= set(df.columns):
            continue
        base, expected = _num(df, "BASE"), _baseline_aval(df)
        bad = ~np.isnan(base) & (np.isnan(expected) | ~np.isclose(base, np.nan_to_num(expected), rtol=1e-9, atol=1e-12))
        frames.append(fail(context.package, name, bad, "BASE",
                           expected=pd.Series(np.where(np.isnan(expected), np.nan, expected))))
    return concat(frames)


@rule(id="CV0409", per_dataset=True, by_range="dataset", reads=("USUBJID", "PARAMCD", "BASETYPE"),
      severity="Error", standard="ADaMIG", scope="ADaM",
      message="BASETYPE is null on a record of {paramcd} whose other records have one")
def basetype_complete(context: Context) -> pd.DataFrame:
    """When BASETYPE is used for a parameter it is populated on all its records."""
    frames = []
    for name, df in _bds(context):
        if "BASETYPE" not in df.columns:
            continue
        used = df.loc[df["BASETYPE"].notna(), "PARAMCD"].unique()
        bad = df["BASETYPE"].isna().to_numpy() & text_in(df["PARAMCD"], used)
        frames.append(fail(context.package, name, bad, "BASETYPE", paramcd=df["PARAMCD"]))
    return concat(frames)


@rule(id="CV0410", per_dataset=True, by_range="records", severity="Error", standard="ADaMIG", scope="ADaM",
      message="CHG = {value} but AVAL - BASE = {expected}")
def chg_is_aval_minus_base(context: Context) -> pd.DataFrame:
    """CHG = AVAL - BASE wherever CHG is populated."""
    frames = []
    for name, df in _bds(context):
        if not {"CHG", "AVAL", "BASE"} <= set(df.columns):
            continue
        chg, expected = _num(df, "CHG"), _num(df, "AVAL") - _num(df, "BASE")
        bad = ~np.isnan(chg) & (np.isnan(expected) | ~np.isclose(chg, np.nan_to_num(expected), rtol=1e-9, atol=1e-9))
        frames.append(fail(context.package, name, bad, "CHG", expected=pd.Series(expected)))
    return concat(frames)


@rule(id="CV0411", per_dataset=True, by_range="records", severity="Error", standard="ADaMIG", scope="ADaM",
      message="PCHG = {value} but 100 * (AVAL - BASE) / BASE = {expected}")
def pchg_consistent(context: Context) -> pd.DataFrame:
    """PCHG = 100 * (AVAL - BASE) / BASE wherever PCHG is populated (null when BASE is 0)."""
    frames = []
    for name, df in _bds(context):
        if not {"PCHG", "AVAL", "BASE"} <= set(df.columns):
            continue
        base = _num(df, "BASE")
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(base == 0, np.nan, 100 * (_num(df, "AVAL") - base) / base)
        pchg = _num(df, "PCHG")
        # producers round PCHG; accept a difference below the rounding of 2 decimals
        bad = ~np.isnan(pchg) & (np.isnan(expected) | (np.abs(pchg - np.nan_to_num(expected)) > 0.006))
        frames.append(fail(context.package, name, bad, "PCHG", expected=pd.Series(np.round(expected, 4))))
    return concat(frames)


@rule(id="CV0412", per_dataset=True, by_range="dataset", reads=("USUBJID", "PARAMCD", "PARAM"),
      severity="Error", standard="ADaMIG", scope="ADaM",
      message="PARAMCD {value} and PARAM are not one-to-one ({param})")
def paramcd_param(context: Context) -> pd.DataFrame:
    """PARAMCD and PARAM map one-to-one within a dataset."""
    frames = []
    for name, df in _bds(context):
        if "PARAM" not in df.columns:
            continue
        pairs = df[["PARAMCD", "PARAM"]].dropna().drop_duplicates()
        bad_cd = pairs.loc[pairs.duplicated("PARAMCD", keep=False) | pairs.duplicated("PARAM", keep=False), "PARAMCD"]
        frames.append(fail(context.package, name, text_in(df["PARAMCD"], bad_cd.unique()), "PARAMCD", param=df["PARAM"]))
    return concat(frames)


@rule(id="CV0413", per_dataset=True, by_range="records", severity="Error", standard="ADaMIG", scope="ADaM",
      message="ADY = {value} but ADT and TRTSDT give {expected}")
def ady_consistent(context: Context) -> pd.DataFrame:
    """ADY = ADT - TRTSDT (+1 on or after TRTSDT), never 0; TRTSDT from the dataset or ADSL."""
    adsl = context.package.datasets.get("ADSL")
    frames = []
    for name, df in context.package.adam().items():
        if not {"ADY", "ADT", "USUBJID"} <= set(df.columns):
            continue
        if "TRTSDT" in df.columns:
            anchor = _num(df, "TRTSDT")
        elif adsl is not None and {"USUBJID", "TRTSDT"} <= set(adsl.columns):
            reference = pd.Series(_num(adsl, "TRTSDT"), index=adsl["USUBJID"].astype(object))
            anchor = lookup(df["USUBJID"], reference[~reference.index.duplicated()])
        else:
            continue
        ady, expected = _num(df, "ADY"), study_day(_num(df, "ADT"), anchor)
        bad = ~np.isnan(ady) & ((ady == 0) | (~np.isnan(expected) & (ady != expected)))
        frames.append(fail(context.package, name, bad, "ADY", expected=pd.Series(expected)))
    return concat(frames)
