"""Across datasets: subjects known to DM, visits, epochs and arms from trial design, SUPP-- parents, RF* vs EX."""
from __future__ import annotations

import numpy as np
import pandas as pd

from validate.values import as_text
from validate.registry import Context, concat, fail, prepare, rule
from validate.rules.common import numeric_key, row_groups, rows_in, split_groups, text_in


def _subject_datasets(context: Context):
    for name, df in context.package.sdtm().items():
        if name != "DM" and "USUBJID" in df.columns:
            yield name, df


@rule(id="SD0064", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG", fda_id="SD0064",
      message="USUBJID {value} is not in DM")
def subject_in_dm(context: Context) -> pd.DataFrame:
    """Every USUBJID of an SDTM dataset has a DM record."""
    dm = context.package.datasets.get("DM")
    if dm is None or "USUBJID" not in dm.columns:
        return None
    known = dm["USUBJID"].dropna().unique()
    return concat([fail(context.package, n, df["USUBJID"].notna().to_numpy() & ~text_in(df["USUBJID"], known), "USUBJID")
                   for n, df in _subject_datasets(context)])


def _visit_pairs(context: Context, name: str) -> pd.DataFrame | None:
    """The distinct (VISITNUM, VISIT) pairs of dataset ``name`` and their records (None without both), once."""
    key = ("visit_pairs", name)
    if key not in context.cache:
        package = context.package
        context.cache[key] = None
        if package.standard(name) == "SDTM" and {"VISITNUM", "VISIT"} <= set(package.columns(name)):
            df = package.datasets[name]
            tolerant = df[["VISITNUM", "VISIT"]].assign(VISITNUM=numeric_key(df["VISITNUM"]))
            context.cache[key] = tolerant.groupby(["VISITNUM", "VISIT"], sort=False).size().rename("n").reset_index()
    return context.cache[key]


@prepare("CV0301")
def _visit_pairs_by_unit(context: Context) -> None:
    for name in context.package.datasets:  # the unit in memory
        _visit_pairs(context, name)


def _usual(pairs: pd.DataFrame, by: str, other: str, tv: pd.DataFrame | None) -> pd.Series:
    """The accepted ``other`` for each ``by``: TV's when TV has it, else the most frequent across datasets."""
    counts = pairs.groupby([by, other], sort=False)["n"].sum().reset_index()
    if tv is not None and {by, other} <= set(tv.columns):
        planned = tv[[by, other]].dropna().drop_duplicates(by).assign(n=np.inf)
        counts = pd.concat([planned, counts], ignore_index=True)
    best = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates(by)
    return pd.Series(best[other].to_numpy(), index=best[by].to_numpy())


@rule(id="CV0301", columns=("VISITNUM", "VISIT"), severity="Error", standard="SDTMIG",
      message="VISIT '{value}' with VISITNUM {visitnum}: elsewhere VISITNUM {visitnum} is '{usual_visit}' "
              "and '{value}' is VISITNUM {usual_visitnum}")
def visit_one_to_one(context: Context) -> pd.DataFrame:
    """VISITNUM and VISIT map one-to-one across datasets (TV, else the most frequent pairing, is the reference)."""
    frames = [pairs for name in context.package.sdtm() if (pairs := _visit_pairs(context, name)) is not None]
    if not frames:
        return None
    pairs = pd.concat(frames, ignore_index=True).astype({"VISIT": object})
    tv = context.package.datasets.get("TV")
    if tv is not None and "VISITNUM" in tv.columns:
        tv = tv.assign(VISITNUM=numeric_key(tv["VISITNUM"]))
    visit_of = _usual(pairs, "VISITNUM", "VISIT", tv)
    visitnum_of = _usual(pairs, "VISIT", "VISITNUM", tv)
    out = []
    for name in context.package.sdtm():
        here = _visit_pairs(context, name)
        if here is None:
            continue
        visitnum, visit = here["VISITNUM"], here["VISIT"].astype(object)
        wrong = visitnum.notna() & visit.notna() & ((visitnum.map(visit_of).astype(object) != visit)
                                                    | (visit.map(visitnum_of) != visitnum))
        if not wrong.any():  # no pair of this dataset is wrong, so no record is: its records are not read again
            continue
        df = context.package.datasets[name]
        # judged once per distinct (VISITNUM, VISIT) pair, spread back over the records
        ids, first = row_groups([df["VISITNUM"], df["VISIT"]])
        visitnum = numeric_key(df["VISITNUM"].iloc[first]).reset_index(drop=True)
        visit = df["VISIT"].iloc[first].astype(object).reset_index(drop=True)
        usual_visit = visitnum.map(visit_of).astype(object)
        usual_num = visit.map(visitnum_of)
        both = visitnum.notna() & visit.notna()
        bad = (both & ((usual_visit != visit) | (usual_num != visitnum))).to_numpy(dtype=bool)
        out.append(fail(context.package, name, bad[ids], "VISIT", visitnum=df["VISITNUM"],
                        usual_visit=pd.Series(usual_visit.to_numpy()[ids], index=df.index),
                        usual_visitnum=pd.Series(usual_num.to_numpy()[ids], index=df.index)))
    return concat(out)


@rule(id="SD0065", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG", fda_id="SD0065",
      message="VISITNUM {value} is not a visit of the subject in SV (or of the study in TV)")
def visit_known(context: Context) -> pd.DataFrame:
    """Each subject's VISITNUM is in SV for that subject, or in TV when the package has no SV."""
    sv, tv = context.package.datasets.get("SV"), context.package.datasets.get("TV")
    frames = []
    for name, df in _subject_datasets(context):
        if name in ("SV", "TV") or "VISITNUM" not in df.columns:
            continue
        present = df["VISITNUM"].notna().to_numpy()
        if sv is not None and {"USUBJID", "VISITNUM"} <= set(sv.columns):
            bad = present & ~rows_in([df["USUBJID"], numeric_key(df["VISITNUM"])],
                                     [sv["USUBJID"], numeric_key(sv["VISITNUM"])])
        elif tv is not None and "VISITNUM" in tv.columns:
            bad = present & ~numeric_key(df["VISITNUM"]).isin(numeric_key(tv["VISITNUM"]).dropna().unique()).to_numpy()
        else:
            continue
        frames.append(fail(context.package, name, bad, "VISITNUM"))
    return concat(frames)


@rule(id="CV0302", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG",
      message="EPOCH '{value}' is not an epoch of TA")
def epoch_in_ta(context: Context) -> pd.DataFrame:
    """EPOCH values are epochs of the trial arms (TA)."""
    ta = context.package.datasets.get("TA")
    if ta is None or "EPOCH" not in ta.columns:
        return None
    epochs = ta["EPOCH"].dropna().unique()
    return concat([fail(context.package, n, df["EPOCH"].notna().to_numpy() & ~text_in(df["EPOCH"], epochs), "EPOCH")
                   for n, df in context.package.sdtm().items() if n != "TA" and "EPOCH" in df.columns])


@rule(id="CV0303", severity="Error", standard="SDTMIG",
      message="{variable} '{value}' is not an arm of TA")
def arm_in_ta(context: Context) -> pd.DataFrame:
    """DM ARMCD/ACTARMCD are TA arm codes (or null), and ARM/ACTARM match their code in TA."""
    dm, ta = context.package.datasets.get("DM"), context.package.datasets.get("TA")
    if dm is None or ta is None or "ARMCD" not in ta.columns:
        return None
    frames = []
    arms = ta[[c for c in ("ARMCD", "ARM") if c in ta.columns]].dropna().drop_duplicates("ARMCD")
    for code, label in (("ARMCD", "ARM"), ("ACTARMCD", "ACTARM")):
        if code not in dm.columns:
            continue
        frames.append(fail(context.package, "DM", dm[code].notna().to_numpy() & ~text_in(dm[code], arms["ARMCD"]), code))
        if label in dm.columns and "ARM" in arms.columns:
            expected = dm[code].map(dict(zip(arms["ARMCD"], arms["ARM"])))
            bad = expected.notna() & dm[label].notna() & (dm[label].astype(object) != expected.astype(object))
            frames.append(fail(context.package, "DM", bad.to_numpy(dtype=bool), label))
    return concat(frames)


@rule(id="CV0304", severity="Error", standard="SDTMIG",
      message="{variable} is null but ARMNRS gives no reason")
def armnrs_when_null_arm(context: Context) -> pd.DataFrame:
    """ARMCD/ACTARMCD are null only with ARMNRS, and ARMNRS is null when both are populated."""
    dm = context.package.datasets.get("DM")
    if dm is None or not {"ARMCD", "ACTARMCD"} & set(dm.columns):
        return None
    reason = dm["ARMNRS"].notna() if "ARMNRS" in dm.columns else pd.Series(False, index=dm.index)
    frames = [fail(context.package, "DM", dm[c].isna() & ~reason, c) for c in ("ARMCD", "ACTARMCD") if c in dm.columns]
    if "ARMNRS" in dm.columns and {"ARMCD", "ACTARMCD"} <= set(dm.columns):
        both = dm["ARMCD"].notna() & dm["ACTARMCD"].notna() & reason
        frames.append(fail(context.package, "DM", both, "ARMNRS",
                           message="ARMNRS = '" + dm["ARMNRS"].astype(object).fillna("") + "' although ARMCD and ACTARMCD are populated"))
    return concat(frames)


@rule(id="CV0305", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG",
      message="{dataset} record points to {rdomain} {idvar} = {value}, which is not there")
def supp_parent_exists(context: Context) -> pd.DataFrame:
    """Each SUPP-- record points to an existing parent record (RDOMAIN, USUBJID, IDVAR, IDVARVAL)."""
    package = context.package
    frames = []
    for name, supp in package.sdtm().items():
        if package.domain(name) != "SUPPQUAL" or not {"RDOMAIN", "USUBJID"} <= set(supp.columns):
            continue
        idvar = supp["IDVAR"] if "IDVAR" in supp.columns else pd.Series(pd.NA, index=supp.index, dtype=object)
        idvarval = supp["IDVARVAL"] if "IDVARVAL" in supp.columns else pd.Series(pd.NA, index=supp.index, dtype=object)
        bad = np.zeros(len(supp), dtype=bool)
        groups = supp.assign(_idvar=idvar.astype(object).fillna("")).groupby(["RDOMAIN", "_idvar"], sort=False).indices
        for (rdomain, var), rows in groups.items():
            # the parent domain may be split (LBCH, LBHE): its records are read as one
            names = [n for n in split_groups(context).get(rdomain, [])
                     if "USUBJID" in package.columns(n) and (not var or var in package.columns(n))]
            if not names:
                bad[rows] = True
                continue
            parent = pd.concat([_columns_of(package, n, ["USUBJID"] + ([var] if var else [])) for n in names],
                               ignore_index=True)
            subjects = supp["USUBJID"].iloc[rows].astype(object)
            if not var:
                bad[rows] = ~subjects.isin(parent["USUBJID"].dropna().unique()).to_numpy()
                continue
            known = pd.MultiIndex.from_arrays([parent["USUBJID"].astype(object), as_text(parent[var])])
            here = pd.MultiIndex.from_arrays([subjects, idvarval.iloc[rows].astype(object).fillna("").str.strip()])
            bad[rows] = ~here.isin(known)
        frames.append(fail(package, name, bad, "IDVARVAL", rdomain=supp["RDOMAIN"], idvar=idvar))
    return concat(frames)


def _columns_of(package, name: str, columns: list[str]) -> pd.DataFrame:
    """``columns`` of dataset ``name``; of a package read from files, only those are read (the parent of a
    SUPP-- dataset may be LB, read in ranges)."""
    read = getattr(package.datasets, "columns_of", None)
    return read(name, set(columns))[columns] if read is not None else package.datasets[name][columns]


@prepare("CV0306")
def _ex_bounds_by_unit(context: Context) -> None:
    if "EX" in list(context.package.datasets):  # EX is the unit in memory
        _ex_bounds(context)


def _ex_bounds(context: Context) -> tuple[pd.Series, pd.Series] | None:
    """Each subject's first and last exposure date (date part) in EX, once."""
    if "ex_bounds" not in context.cache:
        context.cache["ex_bounds"] = _first_last_exposure(context)
    return context.cache["ex_bounds"]


def _first_last_exposure(context: Context) -> tuple[pd.Series, pd.Series] | None:
    ex = context.package.datasets.get("EX")
    if ex is None or not {"USUBJID", "EXSTDTC"} <= set(ex.columns):
        return None
    start = ex["EXSTDTC"].astype(object)
    end = ex["EXENDTC"].astype(object).fillna(start) if "EXENDTC" in ex.columns else start
    first = pd.Series(start.to_numpy(), index=ex["USUBJID"].astype(object)).dropna()
    last = pd.Series(end.to_numpy(), index=ex["USUBJID"].astype(object)).dropna()
    # ISO 8601 sorts as text at equal precision; compare on the date part
    return first.str[:10].groupby(level=0).min(), last.str[:10].groupby(level=0).max()


@rule(id="CV0306", columns=("USUBJID", "EXSTDTC", "EXENDTC", "RFXSTDTC", "RFXENDTC"), severity="Error", standard="SDTMIG",
      message="{variable} = '{value}' but EX gives {expected}")
def rf_dates_match_ex(context: Context) -> pd.DataFrame:
    """DM.RFXSTDTC is the first EXSTDTC and DM.RFXENDTC the last EXENDTC (date part) of the subject."""
    dm = context.package.datasets.get("DM")
    bounds = _ex_bounds(context)
    if dm is None or bounds is None or "USUBJID" not in dm.columns:
        return None
    frames = []
    subjects = dm["USUBJID"].astype(object)
    for variable, bound in zip(("RFXSTDTC", "RFXENDTC"), bounds):
        if variable not in dm.columns:
            continue
        expected = subjects.map(bound)
        actual = dm[variable].astype(object).str[:10]
        bad = expected.notna() & (actual.isna() | (actual != expected))
        frames.append(fail(context.package, "DM", bad.to_numpy(dtype=bool), variable, expected=expected))
    return concat(frames)
