"""What reviewers' tools report and the toolkit did not check: units, end time points, arms, baselines,
variables the IG does not define for a domain, EPOCH, study-day variables, TS parameters.

Ids are Pinnacle 21's where the check is one of theirs (with the CDISC conformance rule and CORE id
where there is one); severities are Pinnacle 21's (these are all Warnings there).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from validate.registry import Context, NotChecked, concat, dataset_finding, fail, rule
from validate.rules.common import date_days, numeric, per_unique
from validate.rules.terms import _qualified_number
from validate.standards import GENERAL_CLASSES, class_variables, domain_class, sdtmig_variables

NOT_TREATED_ARMS = ("SCRNFAIL", "NOTASSGN", "NOTTRT")
BASELINE_DOMAINS = ("EG", "LB", "MB", "MS", "PC", "VS")
# Questionnaires, ratings and scales (QS, FT, RS) report scores, which have no unit: on the CDISC pilot, SD0026
# and SD0029 flagged 180,000 QS records that Pinnacle 21 does not.
SCORE_DOMAINS = ("QS", "FT", "RS")
RANGE_SUFFIXES = ("ORNRLO", "ORNRHI", "STNRLO", "STNRHI", "STNRC", "NRIND")


def _columns(context: Context, name: str, *suffixes: str) -> list[str] | None:
    """The --variables ``suffixes`` of dataset ``name`` with its prefix, or None when one is absent."""
    prefix = context.package.prefix(name)
    names = [f"{prefix}{s}" for s in suffixes]
    return names if all(n in context.package.datasets[name].columns for n in names) else None


def _is_number(series: pd.Series) -> np.ndarray:
    """A numeric result as reported: '5.2', '<0.02', '>= 100'."""
    return ~np.isnan(numeric(series)) | _qualified_number(series)


@rule(id="SD0026", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD0026",
      message="{variable} is null while {result} = '{value}' is a numeric result")
def orresu_when_orres(context: Context) -> pd.DataFrame:
    """--ORRESU is populated when --ORRES holds a numeric result."""
    frames = []
    for name, df in context.package.sdtm().items():
        if context.package.domain(name) in SCORE_DOMAINS:
            continue
        cols = _columns(context, name, "ORRES", "ORRESU")
        if cols:
            result, unit = cols
            bad = df[result].notna().to_numpy() & df[unit].isna().to_numpy() & _is_number(df[result])
            frames.append(fail(context.package, name, bad, unit, values=df[result], result=result))
    return concat(frames)


@rule(id="SD0029", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD0029",
      message="{variable} is null while {result} = '{value}' is a numeric result (CG0425)")
def stresu_when_stresc(context: Context) -> pd.DataFrame:
    """--STRESU is populated when --STRESC holds a numeric result."""
    frames = []
    for name, df in context.package.sdtm().items():
        if context.package.domain(name) in SCORE_DOMAINS:
            continue
        cols = _columns(context, name, "STRESC", "STRESU")
        if cols:
            result, unit = cols
            bad = df[result].notna().to_numpy() & df[unit].isna().to_numpy() & _is_number(df[result])
            frames.append(fail(context.package, name, bad, unit, values=df[result], result=result))
    return concat(frames)


def _unit_without_result(context: Context, result_suffix: str, unit_suffix: str) -> pd.DataFrame:
    frames = []
    for name, df in context.package.sdtm().items():
        cols = _columns(context, name, result_suffix, unit_suffix)
        if cols:
            result, unit = cols
            stat = f"{context.package.prefix(name)}STAT"
            bad = df[unit].notna().to_numpy() & df[result].isna().to_numpy()
            status = pd.Series("", index=df.index, dtype=object)  # the text only for the failing records
            rows = np.flatnonzero(bad)
            if stat in df.columns and len(rows):
                values = df[stat].iloc[rows]
                status.iloc[rows] = np.where(values.notna(), " (" + stat + " = " + values.astype(object).fillna("").astype(str)
                                             + ")", "")
            frames.append(fail(context.package, name, bad, unit, result=result, status=status))
    return concat(frames)


@rule(id="SD0027", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD0027",
      message="{variable} = '{value}' but {result} is null{status}")
def orres_when_orresu(context: Context) -> pd.DataFrame:
    """--ORRES is populated when --ORRESU is: a test not done carries no unit."""
    return _unit_without_result(context, "ORRES", "ORRESU")


@rule(id="SD0030", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD0030", core_id="CORE-000133",
      message="{variable} = '{value}' but {result} is null{status} (CG0426)")
def stresc_when_stresu(context: Context) -> pd.DataFrame:
    """--STRESC is populated when --STRESU is: a test not done carries no standard unit."""
    return _unit_without_result(context, "STRESC", "STRESU")


@rule(id="CV0207", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG",
      message="{variable} = '{value}' on a record with {stat} = NOT DONE")
def not_done_without_ranges(context: Context) -> pd.DataFrame:
    """A test not done (--STAT = NOT DONE) carries no reference range and no reference range indicator."""
    frames = []
    for name, df in context.package.sdtm().items():
        stat = f"{context.package.prefix(name)}STAT"
        if stat not in df.columns:
            continue
        not_done = (df[stat] == "NOT DONE").fillna(False).to_numpy(dtype=bool)
        for suffix in RANGE_SUFFIXES:
            variable = f"{context.package.prefix(name)}{suffix}"
            if variable in df.columns:
                frames.append(fail(context.package, name, not_done & df[variable].notna().to_numpy(), variable, stat=stat))
    return concat(frames)


def _cut_date(context: Context) -> str:
    """TS DCUTDTC when the package is a data cut ('' otherwise)."""
    ts = context.package.datasets.get("TS")
    if ts is None or not {"TSPARMCD", "TSVAL"} <= set(ts.columns):
        return ""
    values = ts.loc[ts["TSPARMCD"] == "DCUTDTC", "TSVAL"].dropna().astype(str)
    return values.iloc[0] if len(values) else ""


@rule(id="SD0021", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD0021",
      message="no end time point: {variable}, {prefix}ENRF, {prefix}ENRTPT and {prefix}DUR are all null{hint}")
def end_time_point(context: Context) -> pd.DataFrame:
    """An event or intervention that occurred has an end time point: --ENDTC, --ENRF, --ENRTPT or --DUR
    (FDAB038); records with --OCCUR = N or a --STAT are exempt. In a data cut's package (TS DCUTDTC) a
    record going on at the cut meets it with --ENRTPT = ONGOING and --ENTPT = the cut date (SDTMIG 4.4.7):
    the message says so, since that is the usual cause there."""
    frames = []
    version = context.version("SDTMIG") or "3.4"
    cut = _cut_date(context)
    for name, df in context.package.sdtm().items():
        prefix = context.package.prefix(name)
        cls = domain_class(context.package.domain(name), version)
        end = f"{prefix}ENDTC"
        if cls not in ("Events", "Interventions") or end not in df.columns:
            continue
        has_end = np.zeros(len(df), dtype=bool)
        for variable in (end, f"{prefix}ENRF", f"{prefix}ENRTPT", f"{prefix}DUR"):
            if variable in df.columns:
                has_end |= df[variable].notna().to_numpy()
        exempt = np.zeros(len(df), dtype=bool)
        if f"{prefix}OCCUR" in df.columns:
            exempt |= (df[f"{prefix}OCCUR"] == "N").fillna(False).to_numpy(dtype=bool)
        if f"{prefix}STAT" in df.columns:
            exempt |= df[f"{prefix}STAT"].notna().to_numpy()
        hint = (f" (data cut {cut}: a record going on at the cut has {prefix}ENRTPT = ONGOING and {prefix}ENTPT = "
                f"'{cut}', SDTMIG 4.4.7)") if cut else ""
        frames.append(fail(context.package, name, ~has_end & ~exempt, end, prefix=prefix, hint=hint))
    return concat(frames)


@rule(id="SD2236", severity="Warning", standard="SDTMIG", fda_id="SD2236",
      message="ACTARMCD = '{value}' differs from ARMCD = '{planned}' (FDAB025, CG0127)")
def actarmcd_is_armcd(context: Context) -> pd.DataFrame:
    """The actual arm code equals the planned one (a difference is reported for the reviewer to see)."""
    dm = context.package.datasets.get("DM")
    if dm is None or not {"ARMCD", "ACTARMCD"} <= set(dm.columns):
        raise NotChecked("DM has no ARMCD and ACTARMCD")
    bad = dm["ARMCD"].notna() & dm["ACTARMCD"].notna() & (dm["ARMCD"].astype(object) != dm["ACTARMCD"].astype(object))
    return fail(context.package, "DM", bad.to_numpy(dtype=bool), "ACTARMCD", planned=dm["ARMCD"])


@rule(id="SD2237", severity="Warning", standard="SDTMIG", fda_id="SD2237",
      message="ACTARM = '{value}' differs from ARM = '{planned}' (FDAB025, CG0119)")
def actarm_is_arm(context: Context) -> pd.DataFrame:
    """The actual arm equals the planned one."""
    dm = context.package.datasets.get("DM")
    if dm is None or not {"ARM", "ACTARM"} <= set(dm.columns):
        raise NotChecked("DM has no ARM and ACTARM")
    bad = dm["ARM"].notna() & dm["ACTARM"].notna() & (dm["ARM"].astype(object) != dm["ACTARM"].astype(object))
    return fail(context.package, "DM", bad.to_numpy(dtype=bool), "ACTARM", planned=dm["ARM"])


def _treated_subjects(context: Context) -> np.ndarray | None:
    dm = context.package.datasets.get("DM")
    if dm is None or "USUBJID" not in dm.columns:
        return None
    treated = pd.Series(True, index=dm.index)
    for arm in ("ARMCD", "ACTARMCD"):
        if arm in dm.columns:
            treated &= dm[arm].notna() & ~dm[arm].isin(NOT_TREATED_ARMS)
    return dm.loc[treated, "USUBJID"].dropna().astype(object).unique()


def _baseline_flag(context: Context, name: str) -> str | None:
    """--LOBXFL when the dataset has it (SDTMIG 3.3 on), else --BLFL."""
    df = context.package.datasets[name]
    prefix = context.package.prefix(name)
    for suffix in ("LOBXFL", "BLFL"):
        if f"{prefix}{suffix}" in df.columns:
            return f"{prefix}{suffix}"
    return None


def _merge_subjects(found: list[pd.DataFrame]) -> pd.DataFrame:
    """The ranges' subjects without a baseline, most records first as value_counts gives them (a tie in order
    of first appearance, which the ranges keep: each subject is in one range, the ranges in record order)."""
    table = concat(found)
    if not len(table):
        return table
    order = np.argsort(-table["records"].astype("int64").to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)


@rule(id="SD0006", per_dataset=True, by_range="merge", merge=_merge_subjects, severity="Warning", standard="SDTMIG",
      fda_id="SD0006",
      message="subject {value} has {records} {dataset} record(s) and none flagged baseline ({variable} = Y)")
def baseline_for_subject(context: Context) -> pd.DataFrame:
    """Every treated subject with EG, LB, MB, MS, PC or VS records has a baseline record there (TCG 4.1.4.1);
    subjects not treated (ARMCD/ACTARMCD null, SCRNFAIL, NOTASSGN, NOTTRT) are exempt."""
    treated = _treated_subjects(context)
    if treated is None:
        raise NotChecked("no DM to tell treated subjects")
    frames = []
    for name, df in context.package.sdtm().items():
        if context.package.domain(name) not in BASELINE_DOMAINS or "USUBJID" not in df.columns:
            continue
        flag = _baseline_flag(context, name)
        if flag is None:
            context.note("SD0006", f"{name} has neither --LOBXFL nor --BLFL: not checked")
            continue
        subjects = df["USUBJID"]
        counts = subjects[subjects.isin(treated)].value_counts()
        flagged = subjects[(df[flag] == "Y").fillna(False).to_numpy(dtype=bool)].dropna().unique()
        missing = counts[~counts.index.isin(flagged)]  # one finding per subject, as dataset_finding gives it
        values = pd.Series(missing.index, dtype=object)
        frames.append(pd.DataFrame({
            "dataset": name, "variable": flag, "row": pd.Series(pd.NA, index=values.index, dtype=object),
            "key": "USUBJID=" + values, "value": values, "records": pd.Series(missing.to_numpy(), dtype=object).astype(str)}))
    return concat(frames)


@rule(id="SD1131", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD1131", core_id="CORE-000643",
      message="{variable} is null on a baseline record ({flag} = Y) (FDAB026, FB2601)")
def stresc_on_blfl(context: Context) -> pd.DataFrame:
    """Baseline records (--BLFL = Y) have a standard result (--STRESC)."""
    return _stresc_on_flag(context, "BLFL")


@rule(id="SD1372", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD1372", core_id="CORE-000105",
      message="{variable} is null on a baseline record ({flag} = Y) (CG0569)")
def stresc_on_lobxfl(context: Context) -> pd.DataFrame:
    """Last observations before exposure (--LOBXFL = Y) have a standard result (--STRESC)."""
    return _stresc_on_flag(context, "LOBXFL")


def _stresc_on_flag(context: Context, suffix: str) -> pd.DataFrame:
    frames = []
    for name, df in context.package.sdtm().items():
        cols = _columns(context, name, suffix, "STRESC")
        if cols:
            flag, stresc = cols
            bad = (df[flag] == "Y").fillna(False).to_numpy(dtype=bool) & df[stresc].isna().to_numpy()
            frames.append(fail(context.package, name, bad, stresc, flag=flag))
    return concat(frames)


@rule(id="SD1076", per_dataset=True, by_range="variables", severity="Warning", standard="SDTMIG", fda_id="SD1076", needs=("sdtmig",),
      message="{dataset}.{variable} is a variable of the SDTM model for the {cls} class that {ig} does not list for {domain}")
def model_permissible_added(context: Context) -> pd.DataFrame:
    """A variable of a general-class domain that the IG does not define for that domain but the model allows
    for its class (model permissible variable added)."""
    return _not_in_ig(context)[0]


@rule(id="SD0058", per_dataset=True, by_range="variables", severity="Warning", standard="SDTMIG", fda_id="SD0058", core_id="CORE-000550",
      needs=("sdtmig",),
      message="{dataset}.{variable}: {ig} does not define it for {domain} ({cls} domain) (CG0013)")
def variable_not_in_ig(context: Context) -> pd.DataFrame:
    """A variable of a standard domain that neither the IG domain nor (for general-class domains) any
    domain of its class uses. Graded Warning: the class lists come from the IG's domains, not from the
    SDTM model tables, so the model may allow a variable no IG domain shows."""
    return _not_in_ig(context)[1]


def _not_in_ig(context: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    key = ("not_in_ig", tuple(context.package.datasets))  # the package, or the unit a rule is shown
    if key in context.cache:
        return context.cache[key]
    version = context.version("SDTMIG")
    by_class = class_variables(version)
    permissible, foreign = [], []
    for name, df in context.package.sdtm().items():
        domain = context.package.domain(name)
        ig = sdtmig_variables(domain, version)
        if not len(ig):  # custom domain (X-, Y-, Z-) or one this version does not have: nothing to compare
            continue
        cls = ig["class"].iloc[0]
        defined = set(ig["name"])
        prefix = context.package.prefix(name) if domain != "SUPPQUAL" else ""
        allowed = set(by_class.get(cls, ())) | (set(by_class.get("Findings", ())) if cls == "Findings About" else set())
        for variable in df.columns:
            if variable in defined:
                continue
            generic = "--" + variable[2:] if prefix and variable.startswith(prefix) else variable
            info = dict(cls=cls, domain=domain, ig=f"SDTMIG {version}")
            if cls in GENERAL_CLASSES and generic in allowed:
                permissible.append(dataset_finding(name, variable, **info))
            else:
                foreign.append(dataset_finding(name, variable, **info))
    context.cache[key] = (concat(permissible), concat(foreign))
    return context.cache[key]


def _date_bounds(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (days since 1960) a complete or partial ISO date can be: '2023-05' -> May 1..31."""
    def convert(values: pd.Series) -> np.ndarray:
        text = values.astype(str).str.extract(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", expand=True)
        year = pd.to_numeric(text[0], errors="coerce")
        month = pd.to_numeric(text[1], errors="coerce")
        day = pd.to_numeric(text[2], errors="coerce")
        start = pd.to_datetime(pd.DataFrame({"year": year, "month": month.fillna(1), "day": day.where(month.notna()).fillna(1)}),
                               errors="coerce")
        end_month = pd.to_datetime(pd.DataFrame({"year": year, "month": month.fillna(12), "day": 1}), errors="coerce")
        end = end_month + pd.offsets.MonthEnd(0)
        end = end.where(day.isna() | month.isna(), start)
        epoch = pd.Timestamp("1960-01-01")
        return np.stack([(start - epoch).dt.days.to_numpy(dtype="float64", na_value=np.nan),
                         (end - epoch).dt.days.to_numpy(dtype="float64", na_value=np.nan)], axis=1)

    codes, uniques = pd.factorize(series)
    out = np.full((len(series), 2), np.nan)
    if len(uniques):
        bounds = convert(pd.Series(uniques, dtype=object))
        valid = codes >= 0
        out[valid] = bounds[codes[valid]]
    return out[:, 0], out[:, 1]


@rule(id="SD1339", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD1339",
      message="EPOCH is null but {date} = {value} falls entirely in the subject's {expected} element(s) of SE (FDAB022)")
def epoch_when_date_in_one_element(context: Context) -> pd.DataFrame:
    """EPOCH is populated when the record's start or collection date (even partial) lies within the
    elements of a single epoch in SE for that subject."""
    se = context.package.datasets.get("SE")
    if se is None or not {"USUBJID", "SESTDTC", "EPOCH"} <= set(se.columns):
        raise NotChecked("no SE with USUBJID, SESTDTC and EPOCH")
    start = date_days(se["SESTDTC"])
    end = date_days(se["SEENDTC"]) if "SEENDTC" in se.columns else np.full(len(se), np.nan)
    elements = pd.DataFrame({"USUBJID": se["USUBJID"].astype(object).to_numpy(), "st": start,
                             "en": np.where(np.isnan(end), np.inf, end), "epoch": se["EPOCH"].astype(object).to_numpy()})
    elements = elements.dropna(subset=["st", "epoch"])
    frames = []
    for name, df in context.package.sdtm().items():
        prefix = context.package.prefix(name)
        date = next((c for c in (f"{prefix}STDTC", f"{prefix}DTC") if c in df.columns), None)
        if name == "SE" or "EPOCH" not in df.columns or date is None or "USUBJID" not in df.columns:
            continue
        candidates = np.flatnonzero(df["EPOCH"].isna().to_numpy() & df[date].notna().to_numpy())
        if not len(candidates):
            continue
        lo, hi = _date_bounds(df[date].iloc[candidates])
        records = pd.DataFrame({"pos": candidates, "USUBJID": df["USUBJID"].iloc[candidates].astype(object).to_numpy(),
                                "lo": lo, "hi": hi}).dropna(subset=["lo"])
        joined = records.merge(elements, on="USUBJID")
        overlapping = joined[(joined["st"] <= joined["hi"]) & (joined["en"] >= joined["lo"])]
        inside = joined[(joined["st"] <= joined["lo"]) & (joined["en"] >= joined["hi"])]
        epochs = overlapping.groupby("pos")["epoch"].nunique()
        one = epochs[epochs == 1].index.intersection(inside["pos"].unique())
        bad = np.zeros(len(df), dtype=bool)
        bad[one.to_numpy(dtype=np.int64)] = True
        expected = pd.Series(overlapping.drop_duplicates("pos").set_index("pos")["epoch"]).reindex(range(len(df)))
        frames.append(fail(context.package, name, bad, date, date=date, expected=expected.reset_index(drop=True)))
    return concat(frames)


STUDY_DAYS = (("DTC", "DY", "SD1083"), ("STDTC", "STDY", "SD1087"), ("ENDTC", "ENDY", "SD1091"))


def _missing_day_variable(context: Context, rule_id: str) -> pd.DataFrame:
    dtc_suffix, dy_suffix = next((d, y) for d, y, r in STUDY_DAYS if r == rule_id)
    version = context.version("SDTMIG") or "3.4"
    frames = []
    for name, df in context.package.sdtm().items():
        prefix = context.package.prefix(name)
        dtc, dy = f"{prefix}{dtc_suffix}", f"{prefix}{dy_suffix}"
        if dtc not in df.columns or dy in df.columns:
            continue
        ig = sdtmig_variables(context.package.domain(name), version)
        if len(ig) and dy not in set(ig["name"]):
            continue  # the IG has no study day for this date (TS, RELREC...)
        frames.append(dataset_finding(name, dy, "", dtc=dtc))
    return concat(frames)


@rule(id="SD1083", per_dataset=True, by_range="variables", severity="Warning", standard="SDTMIG", fda_id="SD1083",
      message="{dataset} has {dtc} but no {variable} (FDAB016)")
def dy_variable_present(context: Context) -> pd.DataFrame:
    """A dataset with --DTC has --DY."""
    return _missing_day_variable(context, "SD1083")


@rule(id="SD1087", per_dataset=True, by_range="variables", severity="Warning", standard="SDTMIG", fda_id="SD1087",
      message="{dataset} has {dtc} but no {variable} (FDAB034)")
def stdy_variable_present(context: Context) -> pd.DataFrame:
    """A dataset with --STDTC has --STDY (SE: SESTDY)."""
    return _missing_day_variable(context, "SD1087")


@rule(id="SD1091", per_dataset=True, by_range="variables", severity="Warning", standard="SDTMIG", fda_id="SD1091",
      message="{dataset} has {dtc} but no {variable} (FDAB034)")
def endy_variable_present(context: Context) -> pd.DataFrame:
    """A dataset with --ENDTC has --ENDY (SE: SEENDY)."""
    return _missing_day_variable(context, "SD1091")


PHARMACOLOGIC_TYPES = ("DRUG", "BIOLOGIC", "GENETIC", "COMBINATION PRODUCT")


def _ts_parameters(context: Context) -> pd.DataFrame:
    ts = context.package.datasets.get("TS")
    if ts is None or not {"TSPARMCD", "TSVAL"} <= set(ts.columns):
        raise NotChecked("no TS with TSPARMCD and TSVAL")
    return ts


@rule(id="SD2223", severity="Warning", standard="SDTMIG", fda_id="SD2223",
      message="TS has no PCLAS parameter although STYPE = INTERVENTIONAL and INTTYPE = '{value}' (CG0287)")
def pclas_present(context: Context) -> pd.DataFrame:
    """An interventional study of a drug or biologic has the Pharmacological Class parameter (PCLAS) in TS."""
    ts = _ts_parameters(context)
    values = ts.groupby("TSPARMCD")["TSVAL"].agg(lambda v: set(v.dropna().astype(str)))
    if "INTERVENTIONAL" not in values.get("STYPE", set()) or "PCLAS" in values.index:
        return None
    types = values.get("INTTYPE", set())
    if types and not types & set(PHARMACOLOGIC_TYPES):
        return None
    return dataset_finding("TS", "TSPARMCD", ", ".join(sorted(types)) or "(none)")


@rule(id="SD1312", severity="Warning", standard="SDTMIG", fda_id="SD1312",
      message="TSVAL is null for PCLAS although STYPE = INTERVENTIONAL (CG0279)")
def pclas_value(context: Context) -> pd.DataFrame:
    """When the study is interventional, the PCLAS parameter has a value (or TSVALNF)."""
    ts = _ts_parameters(context)
    if not (ts["TSPARMCD"].eq("STYPE") & ts["TSVAL"].eq("INTERVENTIONAL")).any():
        return None
    nullflavor = ts["TSVALNF"].notna() if "TSVALNF" in ts.columns else pd.Series(False, index=ts.index)
    bad = ts["TSPARMCD"].eq("PCLAS") & ts["TSVAL"].isna() & ~nullflavor
    return fail(context.package, "TS", bad.to_numpy(dtype=bool), "TSVAL")
