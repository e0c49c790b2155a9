"""Vendor transfers of the demo study: central lab, flow cytometry, randomization list.

Used only by `cdisc.demo.generator`; the layout is the contract in cdisc/demo/RAW_FORMAT.md.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc.demo.formatting import decimals, hhmm, iso_date

TPTS = np.array([-10, 0, 15, 30, 60, 90, 120])
CPEP_SHAPE = np.array([1.0, 1.0, 1.45, 2.1, 2.75, 2.85, 2.55])        # x fasting C-peptide
GLUC_RISE = np.array([0.0, 0.0, 1.6, 3.4, 4.8, 4.4, 3.3])               # mmol/L over fasting
MMTT_FOLDERS = ("D1", "M6", "M12", "M18", "M24")
HBA1C_CURVE = np.array([1.0, .97, .86, .86, .84, .83, .85, .88, .92, .96])
NG_PER_NMOL = 3.02
# TESTCODE: TESTNAME, SPECIMEN, UNIT, REFLOW, REFHIGH, LLOQ
TESTS = {
    "HBA1C": ("Hemoglobin A1c", "WHOLE BLOOD", "%", "4.0", "6.0", ""),
    "GLUF": ("Glucose, fasting", "PLASMA", "mmol/L", "3.9", "5.5", ""),
    "CREA": ("Creatinine", "SERUM", "umol/L", "", "", ""),
    "ALT": ("Alanine aminotransferase", "SERUM", "U/L", "7", "40", ""),
    "AST": ("Aspartate aminotransferase", "SERUM", "U/L", "10", "40", ""),
    "CPEP": ("C-peptide", "SERUM", "nmol/L", "0.26", "1.03", "0.02"),
    "GLUC": ("Glucose", "PLASMA", "mmol/L", "", "", ""),
}
TEST_RANK = {t: r for r, t in enumerate(TESTS)}
LAB_COLUMNS = ["STUDYID", "SUBJECT", "VISIT", "ACCESSION", "COLLDATE", "COLLTIME", "TPT_MIN",
               "TESTCODE", "TESTNAME", "SPECIMEN", "RESULT", "UNIT", "REFLOW", "REFHIGH", "LLOQ",
               "STATUS", "COMMENT", "BATCH", "TRANSFER"]
FLOW_COLUMNS = ["SUBJECT", "VISIT", "SAMPLEID", "SAMPLE_DATE", "SAMPLE_TIME", "POPULATION", "PARENT",
                "PCT_PARENT", "PANEL"]


def randomization_list(rng, subjects: int) -> pd.DataFrame:
    """Permuted blocks of 4 (A = ILT-101, B = placebo), two blocks more than needed."""
    n_blocks = subjects // 4 + 2
    codes = np.concatenate([rng.permutation(np.array(["A", "A", "B", "B"])) for _ in range(n_blocks)])
    width = max(3, len(str(len(codes))))
    return pd.DataFrame({
        "RANDNO": [f"R{k:0{width}d}" for k in range(1, len(codes) + 1)],
        "BLOCK": np.repeat(np.arange(1, n_blocks + 1), 4).astype(str),
        "TRTCODE": codes,
        "TRTLABEL": np.where(codes == "A", "ILT-101 1 MIU", "Placebo")}, dtype=object)


def _distinct(values, fmt) -> np.ndarray:
    codes, uniques = pd.factorize(np.asarray(values))
    return np.array([fmt(u) for u in uniques.tolist()], dtype=object)[codes]


def _transfer(dates) -> np.ndarray:
    """Quarterly transfers from October 2022: T01, T02, ..."""
    months = np.asarray(dates, dtype="datetime64[M]").astype(int) - np.datetime64("2022-10", "M").astype(int)
    return months // 3 + 1


def accession_numbers(visits: pd.DataFrame) -> np.ndarray:
    """Study-wide accession numbers 1..n, one per subject and visit, in order of date then subject."""
    order = np.lexsort((visits["subject"].to_numpy(dtype=str), visits["date"].to_numpy()))
    numbers = np.empty(len(visits), dtype=np.int64)
    numbers[order] = np.arange(1, len(visits) + 1)
    return numbers


def _lab_rows(visits: pd.DataFrame) -> pd.DataFrame:
    """One row per planned result (no random draw): routine chemistry at every visit, fasting
    C-peptide at screening, the MMTT samples."""
    vis = visits.reset_index(drop=True)
    vis["mmtt"] = vis["folder"].isin(MMTT_FOLDERS)
    vis["draw"] = vis["minutes"] + np.where(vis["mmtt"], 10, 15)
    routine = ["HBA1C", "GLUF", "CREA", "ALT", "AST"]
    r = vis.loc[np.repeat(vis.index, len(routine))].reset_index(drop=True)
    r["test"] = np.tile(routine, len(vis))
    r["tpt"] = -999
    r["minute"] = r["draw"]
    scr = vis[vis["v"] == 0].copy()
    scr["test"], scr["tpt"], scr["minute"] = "CPEP", -999, scr["draw"]
    m = vis[vis["mmtt"]]
    mm = m.loc[np.repeat(m.index, 2 * len(TPTS))].reset_index(drop=True)
    mm["test"] = np.tile(np.repeat(["CPEP", "GLUC"], len(TPTS)), len(m))
    mm["tpt"] = np.tile(np.tile(TPTS, 2), len(m))
    mm["minute"] = mm["minutes"] + 20 + mm["tpt"]
    return pd.concat([r, scr, mm], ignore_index=True)


def _lab_values(rng, s: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The result of each row (in the test's unit), drawn in a fixed order."""
    i, v, n = rows["i"].to_numpy(), rows["v"].to_numpy(), len(rows)
    test = rows["test"].to_numpy(dtype=str)
    treated = s["treated"].to_numpy()[i]
    planned = np.array([-14, 1, 63, 67, 88, 179, 270, 361, 536, 719])[v]
    remaining = np.exp(-s["k"].to_numpy()[i] * np.maximum(planned - 63, 0) / 30.44)
    tpt_pos = np.searchsorted(TPTS, np.maximum(rows["tpt"].to_numpy(), -10))
    value = np.zeros(n)
    hba1c = s["hba1c0"].to_numpy()[i] * HBA1C_CURVE[v] - .15 * (treated & (v >= 5)) + rng.normal(0, .15, n)
    value = np.where(test == "HBA1C", hba1c, value)
    value = np.where(test == "GLUF", np.clip(s["gluf0"].to_numpy()[i] + rng.normal(0, 1.2, n), 3.5, 16), value)
    crea_factor = np.select([v == 2, v == 3], [1.12, 1.08], 1.0)
    value = np.where(test == "CREA", s["crea0"].to_numpy()[i] * crea_factor + rng.normal(0, 4, n), value)
    value = np.where(test == "ALT", np.maximum(s["alt0"].to_numpy()[i] + rng.normal(0, 4, n), 6), value)
    value = np.where(test == "AST", np.maximum(s["ast0"].to_numpy()[i] + rng.normal(0, 3, n), 8), value)
    cpep = s["f0"].to_numpy()[i] * remaining * CPEP_SHAPE[tpt_pos] * rng.lognormal(0, .07, n)
    sf = s["screen_fail"].to_numpy()[i]
    cpep = np.where(v == 0, np.where(sf, rng.uniform(.03, .094, n), np.maximum(cpep, .10)), cpep)
    value = np.where(test == "CPEP", cpep, value)
    gluc = s["gluf0"].to_numpy()[i] + GLUC_RISE[tpt_pos] * (1.2 - .5 * remaining) + rng.normal(0, .4, n)
    return np.where(test == "GLUC", gluc, value)


def _batches(test: np.ndarray, colldate: np.ndarray) -> np.ndarray:
    yyyymmdd = _distinct(colldate, lambda d: d.replace("-", ""))
    return np.select([test == "CPEP", test == "HBA1C"],
                     ["CP" + _distinct(colldate, lambda d: d[0:4] + d[5:7]), "HB" + yyyymmdd],
                     "CH" + yyyymmdd).astype(object)


def _missed_sample(s: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The planted missed MMTT time point (C-peptide and glucose), when its subject is in `s`."""
    if s.attrs.get("missed") is None:
        return np.zeros(len(rows), dtype=bool)
    return ((rows["subject"].to_numpy(dtype=object) == s.loc[s.attrs["missed"], "subject"])
            & (rows["vendor"].to_numpy(dtype=object) == "MONTH 6") & (rows["tpt"].to_numpy() == 60))


def ng_batch_candidates(rng, s: pd.DataFrame, visits: pd.DataFrame) -> tuple[set, set]:
    """C-peptide batches with an MMTT sample, and those that cannot be the ng/mL batch (a result below
    LLOQ or the missed sample): what `central_lab` would draw from `rng` for these subjects."""
    rows = _lab_rows(visits)
    value = _lab_values(rng, s, rows)
    test = rows["test"].to_numpy(dtype=str)
    batch = _batches(test, iso_date(rows["date"].to_numpy()))
    cp = test == "CPEP"
    bad = cp & ((np.round(value, 2) < .02) | _missed_sample(s, rows))
    return set(batch[cp & (rows["tpt"].to_numpy() != -999)]), set(batch[bad])


def central_lab(rng, s: pd.DataFrame, visits: pd.DataFrame, studyid: str, ng_batch: str | None = None) -> pd.DataFrame:
    """The lab transfer of the subjects of `s` (visits carry their study-wide `accession` number);
    `ng_batch`, the C-peptide batch reported in ng/mL, is drawn here when not given (one block)."""
    rows = _lab_rows(visits)
    value = _lab_values(rng, s, rows)
    i, n = rows["i"].to_numpy(), len(rows)
    test = rows["test"].to_numpy(dtype=str)
    result = np.empty(n, dtype=object)
    for places, tests in ((0, ("CREA", "ALT", "AST")), (1, ("HBA1C", "GLUF", "GLUC")), (2, ("CPEP",))):
        these = np.isin(test, tests)
        result[these] = decimals(value[these], places)
    result = np.where((test == "CPEP") & (np.round(value, 2) < .02), "<0.02", result)

    date = rows["date"].to_numpy()
    colldate = iso_date(date)
    batch = _batches(test, colldate)
    test_codes, test_names = pd.factorize(test)
    test_text = np.asarray(test_names, dtype=object)
    meta = {k: np.array([TESTS[t][p] for t in test_text], dtype=object)[test_codes]
            for p, k in enumerate(["TESTNAME", "SPECIMEN", "UNIT", "REFLOW", "REFHIGH", "LLOQ"])}
    male = s["male"].to_numpy()[i]
    meta["REFLOW"] = np.where(test == "CREA", np.where(male, "62", "44"), meta["REFLOW"])
    meta["REFHIGH"] = np.where(test == "CREA", np.where(male, "106", "80"), meta["REFHIGH"])
    subject = rows["subject"].to_numpy(dtype=object)
    visit = rows["vendor"].to_numpy(dtype=object)
    tpt = _distinct(rows["tpt"].to_numpy(), lambda k: "" if k == -999 else str(k))
    status = np.full(n, "", dtype=object)
    comment = np.full(n, "", dtype=object)
    colltime = hhmm(rows["minute"])
    unit, reflow, refhigh, lloq = meta["UNIT"], meta["REFLOW"], meta["REFHIGH"], meta["LLOQ"]

    # planted: one missed MMTT sample (C-peptide and glucose of that time point)
    missed = _missed_sample(s, rows)
    result[missed] = colltime[missed] = ""
    status[missed], comment[missed] = "NOT DONE", "Sample not collected"
    # planted: one C-peptide batch reported in ng/mL (no result below LLOQ and no missed sample in it)
    cp = test == "CPEP"
    if ng_batch is None:
        bad = set(batch[cp & ((result == "<0.02") | (status != ""))])
        eligible = sorted(set(batch[cp & (tpt != "")]) - bad)
        ng_batch = eligible[int(rng.integers(0, len(eligible)))]
    ng = cp & (batch == ng_batch)
    result[ng] = decimals(value[ng] * NG_PER_NMOL, 2)
    unit, reflow, refhigh, lloq = (np.where(ng, new, old).astype(object) for new, old in
                                   (("ng/mL", unit), ("0.78", reflow), ("3.11", refhigh), ("0.06", lloq)))
    accession = _distinct(rows["accession"].to_numpy(), lambda k: f"A{k:07d}")
    lab = pd.DataFrame({
        "STUDYID": studyid, "SUBJECT": subject, "VISIT": visit, "ACCESSION": accession,
        "COLLDATE": colldate, "COLLTIME": colltime, "TPT_MIN": tpt, "TESTCODE": test_text[test_codes],
        "TESTNAME": meta["TESTNAME"], "SPECIMEN": meta["SPECIMEN"], "RESULT": result, "UNIT": unit,
        "REFLOW": reflow, "REFHIGH": refhigh, "LLOQ": lloq, "STATUS": status, "COMMENT": comment,
        "BATCH": batch, "TRANSFER": _transfer(date)}, dtype=object)
    # planted: a record re-sent in the next transfer
    resent = lab.iloc[:0]
    if s.attrs.get("resent") is not None:
        resent = lab[(subject == s.loc[s.attrs["resent"], "subject"]) & (visit == "MONTH 3") & (test == "HBA1C")].copy()
        resent["TRANSFER"] += 1
    lab = pd.concat([lab, resent], ignore_index=True)

    rank = np.concatenate([rows["v"].to_numpy() * 100_000 + (rows["tpt"].to_numpy() + 1000) * 10
                           + pd.Series(test).map(TEST_RANK).to_numpy(),
                           np.zeros(len(resent), dtype=int)])
    rank[n:] = rank[resent.index.to_numpy()]
    order = np.lexsort((rank, lab["SUBJECT"].to_numpy(dtype=str), lab["TRANSFER"].to_numpy(dtype=int)))
    lab = lab.iloc[order].reset_index(drop=True)
    lab["TRANSFER"] = _distinct(lab["TRANSFER"].to_numpy(dtype=int), lambda k: f"T{k:02d}")
    return lab[LAB_COLUMNS]


def flow_cytometry(rng, s: pd.DataFrame, visits: pd.DataFrame, sample_offset: int = 0) -> pd.DataFrame:
    """Tregs as % of CD4+ at D1, D63 (before IL-2), D67 and later visits; sample numbers
    `sample_offset` + 1.. (the samples of earlier blocks come first)."""
    vis = visits[visits["v"] >= 1].reset_index(drop=True)
    i, v, n = vis["i"].to_numpy(), vis["v"].to_numpy(), len(vis)
    treated = s["treated"].to_numpy()[i]
    il2_effect = np.array([0, 0, 0, 4.5, 1.8, 1.8, 1.8, 1.8, .4, .1])[v]
    pct = (s["treg0"].to_numpy()[i] - .3 * (v == 2) + treated * il2_effect
           + np.where(treated & (v == 3), rng.normal(0, .8, n), 0) + rng.normal(0, .3, n) * (v > 1))
    draw = vis["minutes"].to_numpy() + np.where(vis["folder"].isin(MMTT_FOLDERS), 10, 15)
    return pd.DataFrame({
        "SUBJECT": vis["subject"].to_numpy(dtype=object), "VISIT": vis["vendor"].to_numpy(dtype=object),
        "SAMPLEID": [f"FC{k:07d}" for k in (sample_offset + rng.permutation(n) + 1).tolist()],
        "SAMPLE_DATE": iso_date(vis["date"]), "SAMPLE_TIME": hhmm(draw), "POPULATION": "CD4+CD25hiFOXP3+",
        "PARENT": "CD4+", "PCT_PARENT": decimals(pct, 2), "PANEL": "TREG-V1"}, dtype=object)
