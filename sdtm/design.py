"""Trial design domains (TS, TA, TE, TV, TI) from the spec's design, SE from the subjects' exposure,
and DM's actual-arm variables from SE."""
from __future__ import annotations

import numpy as np
import pandas as pd


from sdtm.dates import date_part
from sdtm.derivations import records_where
from sdtm.timing import pick_date
from sdtm.unique import text_of
from specs.ts_parameters import DEFAULT_NULL_FLAVOR, missing_expected


def derive_ta(studyid: str, design: dict) -> pd.DataFrame:
    elements = {e["etcd"]: e for e in design.get("elements", [])}
    rows = []
    for arm in design.get("arms", []):
        for order, etcd in enumerate(arm["elements"], start=1):
            rows.append({"STUDYID": studyid, "DOMAIN": "TA", "ARMCD": arm["armcd"], "ARM": arm["arm"],
                         "TAETORD": float(order), "ETCD": etcd, "ELEMENT": elements[etcd]["element"],
                         "TABRANCH": arm.get("branch", {}).get(etcd, ""),
                         "TATRANS": arm.get("transition", {}).get(etcd, ""), "EPOCH": elements[etcd]["epoch"]})
    return pd.DataFrame(rows)


def derive_te(studyid: str, design: dict) -> pd.DataFrame:
    return pd.DataFrame([{"STUDYID": studyid, "DOMAIN": "TE", "ETCD": e["etcd"], "ELEMENT": e["element"],
                          "TESTRL": e["testrl"], "TEENRL": e.get("teenrl", ""), "TEDUR": e.get("tedur", "")}
                         for e in design.get("elements", [])])


def derive_tv(studyid: str, design: dict) -> pd.DataFrame:
    return pd.DataFrame([{"STUDYID": studyid, "DOMAIN": "TV", "VISITNUM": float(v["visitnum"]),
                          "VISIT": v["visit"], "VISITDY": float(v.get("visitdy", "nan")), "ARMCD": v.get("armcd", ""),
                          "TVSTRL": v["tvstrl"], "TVENRL": v.get("tvenrl", "")}
                         for v in design.get("visits", [])])


def derive_ti(studyid: str, design: dict) -> pd.DataFrame:
    return pd.DataFrame([{"STUDYID": studyid, "DOMAIN": "TI", "IETESTCD": c["ietestcd"], "IETEST": c["ietest"],
                          "IECAT": c["iecat"], "TIVERS": c.get("tivers", "")} for c in design.get("ti", [])])


def _ts_names(ct) -> dict:
    if ct is None or not (ct.has("TSPARMCD") and ct.has("TSPARM")):
        return {}
    by_code = {t.code: v for v, t in ct.codelist("TSPARM").terms.items()}
    return {v: by_code.get(t.code, "") for v, t in ct.codelist("TSPARMCD").terms.items()}


def derive_ts(studyid: str, design: dict, ct) -> pd.DataFrame:
    """TS rows; TSPARM is the name paired with TSPARMCD in CT; TSSEQ numbers repeats of a parameter. A
    parameter whose value comes from the data (``from``) is left empty here and filled by complete_ts."""
    names = _ts_names(ct)
    rows, counts = [], {}
    for item in design.get("ts", []):
        code = item["parmcd"]
        counts[code] = counts.get(code, 0) + 1
        value = item.get("val", "")
        rows.append({"STUDYID": studyid, "DOMAIN": "TS", "TSSEQ": float(counts[code]), "TSPARMCD": code,
                     "TSPARM": names.get(code, ""), "TSVAL": "" if value is None else str(value),
                     "TSVALNF": item.get("valnf", ""), "TSVALCD": item.get("valcd", ""),
                     "TSVCDREF": item.get("vcdref", ""), "TSVCDVER": item.get("vcdver", "")})
    return pd.DataFrame(rows, columns=["STUDYID", "DOMAIN", "TSSEQ", "TSPARMCD", "TSPARM", "TSVAL", "TSVALNF",
                                       "TSVALCD", "TSVCDREF", "TSVCDVER"])


def complete_ts(ts: pd.DataFrame, studyid: str, design: dict, datasets: dict[str, pd.DataFrame], ct,
                cut=None) -> pd.DataFrame:
    """TS values taken from the data (``from: {domain, variable, pick, where}``: the first or last value of
    all subjects, e.g. SSTDTC = the earliest informed consent, or with pick: count the number of distinct
    values, e.g. ACTSUB = the randomized subjects), TSVALNF = NI when the data have none; the parameters
    expected in the TS of an interventional study that the spec does not give, with TSVALNF = NI
    (specs.ts_parameters); with a data cut, DCUTDTC (the cut date; the latest one of a per-subject cut)
    and DCUTDESC."""
    ts = ts.copy()
    items = design.get("ts", [])
    for position, item in enumerate(items):
        rule = item.get("from")
        if not rule:
            continue
        source = records_where(datasets[rule["domain"]], rule.get("where"))
        values = source[rule["variable"]].fillna("").astype(str)
        values = values[values != ""].sort_values(kind="mergesort")
        if rule["pick"] == "count":  # how many distinct values (subjects: variable USUBJID)
            picked = str(values.nunique())
        else:
            picked = "" if values.empty else (values.iloc[0] if rule["pick"] == "first" else values.iloc[-1])
        ts.loc[ts.index[position], "TSVAL"] = picked
        ts.loc[ts.index[position], "TSVALNF"] = "" if picked else "NI"
    stype = ts.loc[ts["TSPARMCD"] == "STYPE", "TSVAL"]
    missing = missing_expected(ts["TSPARMCD"], stype.iloc[0] if len(stype) else None)
    if missing:  # expected but not given by the spec: no value, a null flavor (SDTMIG 7.4.2.1)
        names = _ts_names(ct)
        ts = pd.concat([ts, pd.DataFrame([{"STUDYID": studyid, "DOMAIN": "TS", "TSSEQ": 1.0, "TSPARMCD": code,
                                           "TSPARM": names.get(code, ""), "TSVAL": "",
                                           "TSVALNF": DEFAULT_NULL_FLAVOR, "TSVALCD": "", "TSVCDREF": "",
                                           "TSVCDVER": ""} for code in missing])], ignore_index=True)
    if cut is not None:
        dates = [cut.date] if cut.date else []
        dates += list((cut.per_subject or {}).values())
        description = cut.description or f"Data cut at {max(dates)}: data known up to that date"
        names = _ts_names(ct)
        extra = pd.DataFrame([{"STUDYID": studyid, "DOMAIN": "TS", "TSSEQ": 1.0, "TSPARMCD": code,
                               "TSPARM": names.get(code, ""), "TSVAL": value, "TSVALNF": "", "TSVALCD": "",
                               "TSVCDREF": "", "TSVCDVER": ""}
                              for code, value in (("DCUTDTC", max(dates)), ("DCUTDESC", description))])
        ts = pd.concat([ts[~ts["TSPARMCD"].isin(["DCUTDTC", "DCUTDESC"])], extra], ignore_index=True)
    return ts


def _shift(dtc: pd.Series, days: int) -> pd.Series:
    if not days:
        return dtc
    shifted = (date_part(dtc) + pd.Timedelta(days=days)).dt.strftime("%Y-%m-%d")
    return shifted.fillna("").astype(object)


def _text(values: pd.Series) -> pd.Series:
    """Text with '' for missing, of object dtype even when empty or all missing (so .str always applies)."""
    return text_of(values)


def derive_se(studyid: str, design: dict, dm: pd.DataFrame, domains: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per subject per element reached: each element starts at the date and time its rule gives
    (as precise as the event that starts it: the first injection at 2022-12-19T09:55; a date only when
    shifted by offset_days); it ends where the next reached element starts; the last ends at DM.RFPENDTC.
    TAETORD and EPOCH come from the subject's arm in TA (ARMCD, or the first arm holding the element when
    the subject has no arm)."""
    rows = []
    for order, element in enumerate(design.get("elements", [])):
        rule = element["start"]
        source = records_where(dm if rule["domain"] == "DM" else domains[rule["domain"]], rule.get("where"))
        dates = source[["USUBJID", rule["variable"]]].rename(columns={rule["variable"]: "DTC"})
        picked = pick_date([dates], rule["pick"])
        start = _shift(picked, rule.get("offset_days", 0))
        rows.append(pd.DataFrame({"USUBJID": start.index, "SESTDTC": start.values, "ETCD": element["etcd"],
                                  "ELEMENT": element["element"], "EPOCH": element["epoch"],
                                  "__DESIGN_ORDER": order}))
    se = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["USUBJID", "SESTDTC", "ETCD", "ELEMENT", "EPOCH", "__DESIGN_ORDER"])
    end_of_participation = pd.Series(dm["RFPENDTC"].values, index=dm["USUBJID"].values)
    # a start after the end of participation never happened (e.g. follow-up of a subject who left)
    end = _text(se["USUBJID"].map(end_of_participation)).str[:10]
    se = se[se["SESTDTC"].str[:10] <= end.mask(end == "", "9999")]
    se = se.sort_values(["USUBJID", "SESTDTC", "__DESIGN_ORDER"], kind="mergesort").reset_index(drop=True)
    next_start = se.groupby("USUBJID")["SESTDTC"].shift(-1)
    se["SEENDTC"] = _text(next_start).mask(next_start.isna(), _text(se["USUBJID"].map(end_of_participation)))
    armcd = se["USUBJID"].map(pd.Series(dm["ARMCD"].values, index=dm["USUBJID"].values)).fillna("")
    ta = pd.DataFrame([{"ARMCD": a["armcd"], "ETCD": etcd, "TAETORD": float(i)}
                       for a in design.get("arms", []) for i, etcd in enumerate(a["elements"], start=1)],
                      columns=["ARMCD", "ETCD", "TAETORD"])
    in_arm = pd.DataFrame({"ARMCD": armcd.to_numpy(), "ETCD": se["ETCD"].to_numpy()}).merge(
        ta, on=["ARMCD", "ETCD"], how="left")["TAETORD"]
    any_arm = se["ETCD"].map(ta.drop_duplicates("ETCD").set_index("ETCD")["TAETORD"])
    se["TAETORD"] = in_arm.fillna(pd.Series(any_arm.to_numpy())).to_numpy()
    se["STUDYID"], se["DOMAIN"] = studyid, "SE"
    se["SESEQ"] = (se.groupby("USUBJID").cumcount() + 1).astype(float)
    se["SEUPDES"] = ""
    return se.drop(columns="__DESIGN_ORDER")


def actual_arm(dm: pd.DataFrame, se: pd.DataFrame, design: dict, sequences: str = "prefix") -> pd.DataFrame:
    """ACTARMCD/ACTARM from the elements each subject went through, and ARMNRS/ACTARMUD.

    A treated subject whose element sequence is an arm's sequence, or (``sequences='prefix'``) its leading
    part (one who left early), or (``sequences='listed'``) one of the sequences the arm lists
    (``arms[].sequences``), gets that arm (the planned one when several match); never randomized: SCREEN FAILURE;
    randomized without exposure: ASSIGNED, NOT TREATED; a sequence matching no arm: UNPLANNED TREATMENT,
    described in ACTARMUD.
    """
    arms = design.get("arms", [])
    treated_elements = [e["etcd"] for e in design.get("elements", []) if e["start"]["domain"] != "DM"]
    ordered = se.sort_values(["USUBJID", "SESEQ"], kind="mergesort")
    sequence = (text_of(ordered["ETCD"]) + ">").groupby(ordered["USUBJID"]).sum().str[:-1]  # no Python per subject
    treated = ordered[ordered["ETCD"].isin(treated_elements)].groupby("USUBJID").size() > 0
    subject_sequence = text_of(dm["USUBJID"].map(sequence))
    is_treated = dm["USUBJID"].map(treated).fillna(False).astype(bool)
    planned = text_of(dm["ARMCD"])
    matched_cd = pd.Series("", index=dm.index, dtype=object)
    for arm in arms:  # the first arm in design order that fits, or the planned arm when it fits too
        elements = arm["elements"]
        prefixes = {">".join(elements[:k]) for k in range(2, len(elements) + 1)} if sequences == "prefix" else \
            {">".join(elements)} | {">".join(listed) for listed in arm.get("sequences") or []}
        fits = subject_sequence.isin(prefixes)
        matched_cd = matched_cd.mask(fits & ((matched_cd == "") | (planned == arm["armcd"])), arm["armcd"])
    matched_cd = matched_cd.where(is_treated & (planned != ""), "")
    arm_names = {a["armcd"]: a["arm"] for a in arms}
    result = pd.DataFrame(index=dm.index)
    result["ACTARMCD"] = matched_cd
    result["ACTARM"] = matched_cd.map(arm_names).fillna("")
    unplanned = is_treated & (matched_cd == "")
    result["ARMNRS"] = np.select(
        [(planned == "") & ~is_treated, (planned != "") & ~is_treated, unplanned],
        ["SCREEN FAILURE", "ASSIGNED, NOT TREATED", "UNPLANNED TREATMENT"], default="")
    result["ACTARMUD"] = subject_sequence.str.replace(">", " -> ").where(unplanned, "")
    return result.astype(object)
