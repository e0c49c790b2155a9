"""The demo study's EDC forms: the visit schedule (folders), each form's items, and the tables of the EDC
export drawn from the subjects and visits of cdisc.demo.generator (cdisc/demo/RAW_FORMAT.md is the contract)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.demo import adverse_events as aes
from cdisc.demo.formatting import ddmmyyyy, decimals, hhmm, integers

SITE = "01"
# folder OID, folder name, planned study day, vendor visit label, date jitter (+- days)
VISITS = [("SCR", "Screening", -14, "SCREENING", 0), ("D1", "Day 1", 1, "DAY 1", 0),
          ("D63", "Day 63", 63, "DAY 63", 0), ("D67", "Day 67", 67, "DAY 67", 0),
          ("M3", "Month 3", 88, "MONTH 3", 3), ("M6", "Month 6", 179, "MONTH 6", 3),
          ("M9", "Month 9", 270, "MONTH 9", 3), ("M12", "Month 12", 361, "MONTH 12", 3),
          ("M18", "Month 18", 536, "MONTH 18", 3), ("M24", "Month 24", 719, "MONTH 24", 3)]
FOLDER_ORDER = [v[0] for v in VISITS] + ["LOG", "EOT", "EOS"]
FOLDER_RANK = {f: r for r, f in enumerate(FOLDER_ORDER)}
FORM_ITEMS = {
    "dm": ["BRTHDAT", "SEX", "ETHNIC", "RACE"],
    "ic": ["ICDAT", "ICVERS"],
    "rand": ["RANDDAT", "RANDNO"],
    "sv": ["VISDAT", "VISTIM"],
    "vs": ["VSDAT", "VSTIM", "VSPOS", "WEIGHT", "HEIGHT", "SYSBP", "DIABP", "PULSE", "TEMP"],
    "ex_csa": ["EXSTDAT", "EXENDAT", "EXDOSE", "EXDOSU", "EXROUTE", "EXDOSMG"],
    "ex_il2": ["EXDAT", "EXTIM", "EXKITNO", "EXYN", "EXREASND"],
    "ae": aes.AE_ITEMS,
    "insulin": ["CMDAT", "INSDOSE"],
    "ds": ["DSSTDAT", "DSDECOD", "DSTERM"],
}
IL2_DAYS = np.r_[63:68, 74:362:7]          # 5 daily then weekly injections, D63..D361
MISSED_INJECTION_REASONS = ("Oubli du patient", "Patient absent", "Flacon endommagé")
# planted partial AE start dates: unknown day (June 2023 if possible), then unknown day and month
PARTIAL_DATES = (("UN/{m}/{y}", "/06/2023"), ("UN/UN/{y}", "/2023"))


def shared_text(value, n: int):
    """`value` as an object array whose equal strings are one object (text columns of millions of rows
    stay pointers to a few strings); a plain string stays a scalar."""
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Series) and value.dtype == object:
        return value.to_numpy()
    if isinstance(value, np.ndarray) and value.dtype == object:
        return value
    codes, uniques = pd.factorize(np.asarray(value), use_na_sentinel=False)
    return np.asarray(uniques, dtype=object)[codes]


def edc_table(form: str, subject, folder, record_position, items: dict) -> pd.DataFrame:
    n = len(subject)
    subject, folder = shared_text(subject, n), shared_text(folder, n)
    position = np.broadcast_to(np.asarray(record_position).astype(int), (n,))
    columns = {"Subject": subject, "SiteNumber": SITE, "Folder": folder, "Form": form.upper(),
               "RecordPosition": integers(position)}
    for column in FORM_ITEMS[form]:
        columns[column] = shared_text(items.get(column, ""), n)
    rank = pd.Series(np.broadcast_to(folder, (n,))).map(FOLDER_RANK).to_numpy()
    order = np.lexsort((position, rank, np.broadcast_to(subject, (n,)).astype(str)))
    return pd.DataFrame({c: v if isinstance(v, str) else v[order] for c, v in columns.items()},
                        index=range(n), dtype=object)


def position_within(keys: np.ndarray) -> np.ndarray:
    """1..n within runs of equal consecutive keys (rows already sorted by key)."""
    keys = np.asarray(keys)
    starts = np.r_[True, keys[1:] != keys[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    return np.arange(len(keys)) - run_start + 1


def make_edc(stream, s: pd.DataFrame, visits: pd.DataFrame, block) -> dict:
    """The EDC forms of the subjects of `s`; `stream(table)` is the random generator of a table; `block` the
    generator.Block being drawn (its kit numbers, partial dates, and whether it is the last)."""
    rz = s[~s["screen_fail"]]
    t = {}
    t["dm"] = edc_table("dm", s["subject"], "SCR", 1, {
        "BRTHDAT": ddmmyyyy(s["birth"]), "SEX": np.where(s["male"], "Male", "Female"),
        "ETHNIC": s["ethnic"], "RACE": s["race"]})
    t["ic"] = edc_table("ic", s["subject"], "SCR", 1, {"ICDAT": ddmmyyyy(s["consent"]), "ICVERS": "2.0"})
    t["rand"] = edc_table("rand", rz["subject"], "D1", 1, {"RANDDAT": ddmmyyyy(rz["d1"]),
                                                            "RANDNO": rz["randno"]})
    t["sv"] = edc_table("sv", visits["subject"], visits["folder"], 1, {
        "VISDAT": ddmmyyyy(visits["date"]), "VISTIM": hhmm(visits["minutes"])})
    t["vs"] = _vitals(stream("vs"), s, visits)
    t["ex_csa"] = _ciclosporin(stream("ex_csa"), rz)
    t["ex_il2"] = _il2(stream("ex_il2"), s, visits, block.kit_width, block.kit_offset)
    t["ae"] = _adverse_events(stream("ae"), s, block.partial_dates, block.last)
    t["insulin"] = _insulin(stream("insulin"), s, visits)
    t["ds"] = _disposition(s, t["ex_il2"])
    return t


def _disposition(s, il2):
    """End of treatment (randomized subjects: the day of the last planned injection, or the withdrawal) and
    end of study."""
    reason = np.select([s["screen_fail"], s["withdrawn"]], ["Screen failure", "Withdrawal by subject"],
                       "Completed")
    term = np.select([s["screen_fail"], s["withdrawn"]],
                     ["Non éligible : peptide C à jeun < 0,1 nmol/L", "Retrait du consentement"],
                     "Fin d'étude")
    eos = edc_table("ds", s["subject"], "EOS", 1, {"DSSTDAT": ddmmyyyy(s["eos_date"]),
                                                   "DSDECOD": reason, "DSTERM": term})
    rz = s[~s["screen_fail"]]
    last = pd.to_datetime(il2["EXDAT"], format="%d/%m/%Y").groupby(il2["Subject"].to_numpy()).max()
    eot_date = np.where(rz["withdrawn"], rz["eos_date"].to_numpy(),
                        last.reindex(rz["subject"]).to_numpy(dtype="datetime64[D]"))
    eot = edc_table("ds", rz["subject"], "EOT", 1, {
        "DSSTDAT": ddmmyyyy(eot_date),
        "DSDECOD": np.where(rz["withdrawn"], "Withdrawal by subject", "Completed"),
        "DSTERM": np.where(rz["withdrawn"], "Retrait du consentement", "Fin de traitement")})
    both = pd.concat([eot, eos], ignore_index=True)
    order = both["Folder"].map({f: r for r, f in enumerate(FOLDER_ORDER)})
    return both.assign(__o=order).sort_values(["Subject", "__o"], kind="mergesort").drop(columns="__o").reset_index(drop=True)


def _vitals(rng, s, visits):
    n = len(visits)
    i, v = visits["i"].to_numpy(), visits["v"].to_numpy()
    months = np.maximum(visits["day"].to_numpy(), 0) / 30.44
    weight = s["weight0"].to_numpy()[i] * (1 + .004 * months) + rng.normal(0, .6, n)
    on_csa = (v == 2)                       # D63: end of ciclosporin, blood pressure a bit up
    temp = np.round(rng.normal(36.7, .25, n), 1)
    temp_text = np.where(rng.random(n) > .03, decimals(temp, 1), "")
    return edc_table("vs", visits["subject"], visits["folder"], 1, {
        "VSDAT": ddmmyyyy(visits["date"]), "VSTIM": hhmm(visits["minutes"] + 5 + rng.integers(0, 10, n)),
        "VSPOS": "Sitting", "WEIGHT": decimals(weight, 1),
        "HEIGHT": np.where(v == 0, integers(s["height"].to_numpy()[i]), ""),
        "SYSBP": integers(rng.normal(118, 9, n) + 6 * on_csa), "DIABP": integers(rng.normal(72, 7, n) + 4 * on_csa),
        "PULSE": integers(rng.normal(72, 9, n)), "TEMP": temp_text})


def _ciclosporin(rng, rz):
    """Constant-dosing intervals D1-D62; each missed day splits an interval."""
    n_missed = rng.choice(3, len(rz), p=[.6, .3, .1])
    gap_draws = rng.integers(2, 62, (len(rz), 2))
    rows = []
    for k, (subject, d1) in enumerate(zip(rz["subject"], rz["d1"].to_numpy())):
        missed = sorted(set(gap_draws[k, :n_missed[k]].tolist()))
        start = 1
        for m in missed + [63]:
            if m > start:
                rows.append((subject, d1 + np.timedelta64(start - 1, "D"), d1 + np.timedelta64(m - 2, "D")))
            start = m + 1
    frame = pd.DataFrame(rows, columns=["subject", "start", "end"])
    # the daily dose given, in mg: 7 mg/kg of the Day-1 weight in 25 mg capsules
    weight = rz.set_index("subject")["weight0"].reindex(frame["subject"]).to_numpy()
    daily_mg = np.round(7 * weight / 25) * 25
    return edc_table("ex_csa", frame["subject"], "LOG", position_within(frame["subject"].to_numpy()), {
        "EXSTDAT": ddmmyyyy(frame["start"]), "EXENDAT": ddmmyyyy(frame["end"]), "EXDOSE": "7",
        "EXDOSU": "mg/kg/day", "EXROUTE": "Oral", "EXDOSMG": integers(daily_mg)})


def il2_schedule(s, visits) -> tuple[np.ndarray, np.ndarray]:
    """Subject index and study day of each planned injection (no random draw)."""
    rz = s[~s["screen_fail"]]
    i = np.repeat(rz.index.to_numpy(), len(IL2_DAYS))
    day = np.tile(IL2_DAYS, len(rz))
    m12 = visits[visits["folder"] == "M12"].set_index("i")["day"]
    day = np.where(day == 361, m12.reindex(i).fillna(361).to_numpy(dtype=int), day)
    keep = day < s["last_day"].to_numpy()[i] + np.where(s["withdrawn"].to_numpy()[i], 0, 1)
    return i[keep], day[keep]


def kit_width(injections: int) -> int:
    return max(5, len(str(2 * injections)))


def _il2(rng, s, visits, width: int, kit_offset: int = 0):
    """Kit numbers: `K` + `width` digits, `kit_offset` + a permutation of this block's injections
    (so kits stay unique across blocks)."""
    i, day = il2_schedule(s, visits)
    n = len(i)
    date = s["d1"].to_numpy()[i] + (day - 1).astype("timedelta64[D]")
    at_visit = visits.set_index(["i", "day"])["minutes"]
    visit_minutes = at_visit.reindex(pd.MultiIndex.from_arrays([i, day])).to_numpy()
    minutes = np.where(np.isnan(visit_minutes), 450 + 5 * rng.integers(0, 30, n),
                       np.nan_to_num(visit_minutes) + 45 + 5 * rng.integers(0, 8, n))
    missed = (day > 67) & (rng.random(n) < .02)
    kits = 10 ** (width - 1) + kit_offset + rng.permutation(n)
    return edc_table("ex_il2", s["subject"].to_numpy()[i], "LOG", position_within(i), {
        "EXDAT": ddmmyyyy(date), "EXTIM": np.where(missed, "", hhmm(minutes)),
        "EXKITNO": "K" + kits.astype(str).astype(object),
        "EXYN": np.where(missed, "No", "Yes"),
        "EXREASND": np.where(missed, np.array(MISSED_INJECTION_REASONS)[rng.integers(0, 3, n)], "")})


def _adverse_events(rng, s, partial_dates: list, last_block: bool = True):
    """The AE log; `partial_dates` lists the planted partial start dates not planted yet (a block
    plants one on its first preferred event; the last block takes any event rather than none)."""
    rz = s[~s["screen_fail"]]
    idx = rz.index.to_numpy()
    last_inj = np.where(rz["withdrawn"], rz["last_day"] - 1, 361)
    position = {int(x): k for k, x in enumerate(idx)}
    planted = {case: position[s.attrs[case]] for case in ("sae", "ongoing") if s.attrs.get(case) is not None}
    events = aes.draw_events(rng, idx, rz["treated"].to_numpy(), rz["last_day"].to_numpy(), last_inj, planted)
    if not events:
        return edc_table("ae", np.array([], dtype=object), "LOG", np.array([], dtype=int), {})
    ev = pd.DataFrame(events)
    ev["i"] = idx[ev["i"].to_numpy()]
    ev["term_rank"] = ev["term"].map({k: r for r, k in enumerate(aes.TERM_KEYS)})
    ev = ev.sort_values(["i", "start", "term_rank"], kind="stable").reset_index(drop=True)
    d1 = s["d1"].to_numpy()[ev["i"]]
    start = d1 + (ev["start"].to_numpy() - 1).astype("timedelta64[D]")
    end = d1 + (np.minimum(ev["end"], 5000).to_numpy() - 1).astype("timedelta64[D]")
    start_text = pd.Series(ddmmyyyy(start))
    end_text = np.where(ev["ongoing"], "", ddmmyyyy(end))
    # planted partial start dates: unknown day (June 2023 if possible), then unknown day and month
    free = ~ev["serious"] & ~ev["ongoing"]
    for pattern, preferred in PARTIAL_DATES:
        if pattern not in partial_dates:
            continue
        pick = np.flatnonzero(free & start_text.str.endswith(preferred))
        pick = pick if len(pick) or not last_block else np.flatnonzero(free)
        if len(pick):
            j = pick[0]
            start_text.iloc[j] = pattern.format(m=start_text.iloc[j][3:5], y=start_text.iloc[j][6:])
            free.iloc[j] = False
            partial_dates.remove(pattern)
    serious = ev["serious"].to_numpy()
    items = {"AETERM": ev["AETERM"], "AESTDAT": start_text, "AEENDAT": end_text,
             "AEONGO": np.where(ev["ongoing"], "Yes", "No"), "AESEV": ev["AESEV"],
             "AESER": np.where(serious, "Yes", "No"), "AESHOSP": np.where(serious, "Yes", ""),
             "AEREL_CSA": ev["AEREL_CSA"], "AEREL_IL2": ev["AEREL_IL2"], "AEACN_IL2": ev["AEACN_IL2"],
             "AEOUT": ev["AEOUT"], **aes.coding_columns(ev["term"])}
    return edc_table("ae", s["subject"].to_numpy()[ev["i"]], "LOG", position_within(ev["i"].to_numpy()), items)


def insulin_per_kg(s, i, v):
    """U/kg/day: falls on ciclosporin, rises after; a little less rise on ILT-101."""
    curve = np.array([1.0, 1.0, .7, .7, .75, .8, .9, .95, 1.05, 1.15])
    treated = s["treated"].to_numpy()[i] & (v >= 5)
    return s["ins0"].to_numpy()[i] * curve[v] * np.where(treated, .92, 1.0)


def _insulin(rng, s, visits):
    vis = visits[visits["v"] > 0]
    i = np.repeat(vis["i"].to_numpy(), 3)
    v = np.repeat(vis["v"].to_numpy(), 3)
    back = np.tile([3, 2, 1], len(vis))
    date = np.repeat(vis["date"].to_numpy(), 3) - back.astype("timedelta64[D]")
    months = np.maximum(np.repeat(vis["day"].to_numpy(), 3), 0) / 30.44
    weight = s["weight0"].to_numpy()[i] * (1 + .004 * months)
    units = insulin_per_kg(s, i, v) * weight * rng.lognormal(0, .06, len(i))
    return edc_table("insulin", s["subject"].to_numpy()[i], np.repeat(vis["folder"].to_numpy(), 3),
                     np.tile([1, 2, 3], len(vis)), {"CMDAT": ddmmyyyy(date), "INSDOSE": integers(units)})
