"""A tiny hand-made SDTM (standard SDTMIG 3.4 names) for the ADaM builder tests.

S001 (CSA-IL2): randomized and first ciclosporin dose 2023-01-10 (day 1); ciclosporin D1-D31 and
D34-D62 (60 of 62 days); ILT-101 D63-D67 and weekly D74-D361 (47 of 47 injections); completed (D719).
S002 (CSA-PBO): ciclosporin D1-D62, placebo D63-D67 only (5 of 47), withdrew on D100. S003: screen
failure.
"""
import datetime as dt

import pandas as pd
import pytest

ANCHOR = dt.date(2023, 1, 10)


def day(d: int) -> str:
    """ISO date of study day d (no day 0)."""
    return (ANCHOR + dt.timedelta(days=d - 1 if d > 0 else d)).isoformat()


def _ex():
    rows = []
    for subj, spans, extrt, injections in [
        ("S001", [(1, 31), (34, 62)], "ILT-101", [63, 64, 65, 66, 67] + list(range(74, 362, 7))),
        ("S002", [(1, 62)], "PLACEBO", [63, 64, 65, 66, 67]),
    ]:
        for a, b in spans:
            rows.append((subj, "CICLOSPORIN", 7.0, "mg/kg/day", day(a), day(b)))
        for d in injections:
            rows.append((subj, extrt, 1.0 if extrt == "ILT-101" else 0.0, "10^6 IU", day(d), day(d)))
    ex = pd.DataFrame(rows, columns=["USUBJID", "EXTRT", "EXDOSE", "EXDOSU", "EXSTDTC", "EXENDTC"])
    ex["STUDYID"] = "NCT05153070"
    ex["EXSEQ"] = ex.groupby("USUBJID").cumcount() + 1.0
    return ex


def _lb():
    rows = []  # USUBJID, LBTESTCD, VISITNUM, VISIT, study day, TPT min, STRESN, STRESC, STAT, LO, HI
    for subj, d1 in [("S001", None), ("S002", None)]:
        rows += [(subj, "HBA1C", 1, "SCREENING", -14, None, 7.5, "7.5", None, 4.0, 6.0),
                 (subj, "HBA1C", 2, "DAY 1", 1, None, 7.2, "7.2", None, 4.0, 6.0)]
        rows += [(subj, "ALT", 2, "DAY 1", 1, None, 50.0, "50", None, 10.0, 40.0),
                 (subj, "ALT", 5, "MONTH 3", 88, None, 30.0, "30", None, 10.0, 40.0)]
    # two HbA1c of S001 in the MONTH 3 window (target 88): days 80 and 96, both 8 days away
    rows += [("S001", "HBA1C", 5.1, "UNSCHEDULED 5.1", 80, None, 7.0, "7.0", None, 4.0, 6.0),
             ("S001", "HBA1C", 5, "MONTH 3", 96, None, 6.8, "6.8", None, 4.0, 6.0),
             ("S002", "HBA1C", 5, "MONTH 3", 88, None, 7.4, "7.4", None, 4.0, 6.0)]
    mmtt = {("S001", 2, 1): [0.25, 0.30, 0.50, 0.70, 0.80, 0.70, 0.60],
            ("S001", 6, 179): [0.18, 0.20, 0.45, 0.60, 0.70, 0.65, 0.55],
            ("S002", 2, 1): [None, "<0.02", 0.40, 0.60, 0.70, 0.65, 0.55],
            ("S002", 6, 179): [0.10, 0.20, 0.45, "NOT DONE", 0.70, 0.65, 0.55]}
    for (subj, vnum, d), values in mmtt.items():
        for t, v in zip([-10, 0, 15, 30, 60, 90, 120], values):
            if v is None:
                continue
            stresn = v if isinstance(v, float) else None
            stresc = None if v == "NOT DONE" else (str(v) if isinstance(v, float) else v)
            stat = "NOT DONE" if v == "NOT DONE" else None
            rows.append((subj, "CPEPTIDE", vnum, "DAY 1" if d == 1 else "MONTH 6", d, t, stresn, stresc, stat,
                         None, None))
    lb = pd.DataFrame(rows, columns=["USUBJID", "LBTESTCD", "VISITNUM", "VISIT", "DY", "LBTPTNUM", "LBSTRESN",
                                     "LBSTRESC", "LBSTAT", "LBSTNRLO", "LBSTNRHI"])
    lb["STUDYID"] = "NCT05153070"
    lb["LBDTC"] = lb.DY.map(day)
    lb["LBTPT"] = lb.LBTPTNUM.map(lambda t: None if pd.isna(t) else f"{int(t)} MIN")
    lb["LBSEQ"] = lb.groupby("USUBJID").cumcount() + 1.0
    return lb.drop(columns="DY")


def _cp():
    rows = [("S001", 2, "DAY 1", 1, 5.0), ("S001", 3, "DAY 63", 63, 4.0), ("S001", 4, "DAY 67", 67, 6.0),
            ("S001", 5, "MONTH 3", 88, 5.5), ("S002", 2, "DAY 1", 1, 5.0), ("S002", 3, "DAY 63", 63, 5.0),
            ("S002", 4, "DAY 67", 67, 5.0)]
    cp = pd.DataFrame(rows, columns=["USUBJID", "VISITNUM", "VISIT", "DY", "CPSTRESN"])
    cp["STUDYID"], cp["CPTESTCD"] = "NCT05153070", "TLHRTLH"
    cp["CPSTRESC"] = cp.CPSTRESN.map(str)
    cp["CPDTC"] = cp.DY.map(day)
    cp["CPSEQ"] = cp.groupby("USUBJID").cumcount() + 1.0
    return cp.drop(columns="DY")


def _vs():
    rows = [("S001", "HEIGHT", 1, -14, 175.0), ("S001", "WEIGHT", 1, -14, 70.0), ("S001", "WEIGHT", 2, 1, 70.0),
            ("S001", "WEIGHT", 5, 88, 72.0), ("S002", "HEIGHT", 1, -14, 160.0), ("S002", "WEIGHT", 2, 1, 50.0),
            ("S002", "WEIGHT", 5, 88, 50.0), ("S003", "WEIGHT", 1, -14, 80.0)]
    vs = pd.DataFrame(rows, columns=["USUBJID", "VSTESTCD", "VISITNUM", "DY", "VSSTRESN"])
    vs["STUDYID"], vs["VSDTC"] = "NCT05153070", vs.DY.map(day)
    vs["VSSEQ"] = vs.groupby("USUBJID").cumcount() + 1.0
    return vs.drop(columns="DY")


def _cm():
    rows = [("S001", 2, d, 35.0) for d in (-3, -2, -1)] + [("S001", 5, d, 28.8) for d in (85, 86, 87)] \
        + [("S002", 2, d, 25.0) for d in (-3, -2, -1)] + [("S002", 5, 85, 20.0), ("S002", 5, 86, 30.0)]
    cm = pd.DataFrame(rows, columns=["USUBJID", "VISITNUM", "DY", "CMDOSTOT"])
    cm["STUDYID"], cm["CMTRT"], cm["CMDOSU"] = "NCT05153070", "INSULIN", "U"
    cm["CMSTDTC"] = cm.DY.map(day)
    cm["CMSEQ"] = cm.groupby("USUBJID").cumcount() + 1.0
    return cm.drop(columns="DY")


def _dm():
    dm = pd.DataFrame({
        "USUBJID": ["S001", "S002", "S003"], "SUBJID": ["001", "002", "003"], "SITEID": "01",
        "AGE": [17.0, 30.0, 25.0], "AGEU": "YEARS", "SEX": ["F", "M", "M"], "RACE": "WHITE",
        "ETHNIC": "NOT HISPANIC OR LATINO",
        "ARMCD": ["CSA-IL2", "CSA-PBO", None], "ARM": ["Ciclosporin then ILT-101", "Ciclosporin then placebo", None],
        "ACTARMCD": ["CSA-IL2", "CSA-PBO", None],
        "ACTARM": ["Ciclosporin then ILT-101", "Ciclosporin then placebo", None],
        "ARMNRS": [None, None, "SCREEN FAILURE"], "RFSTDTC": [day(1), day(1), None],
        "RFXSTDTC": [day(1), day(1), None], "RFICDTC": [day(-20), day(-20), day(-20)], "DTHFL": None})
    dm["STUDYID"] = "NCT05153070"
    return dm


def _ds():
    return pd.DataFrame({"STUDYID": "NCT05153070", "USUBJID": ["S001", "S001", "S002", "S002", "S003"],
                         "DSCAT": ["PROTOCOL MILESTONE", "DISPOSITION EVENT"] * 2 + ["DISPOSITION EVENT"],
                         "DSDECOD": ["RANDOMIZED", "COMPLETED", "RANDOMIZED", "WITHDRAWAL BY SUBJECT",
                                     "SCREEN FAILURE"],
                         "DSSTDTC": [day(1), day(719), day(1), day(100), day(-10)],
                         "DSSEQ": [1.0, 2.0, 1.0, 2.0, 1.0]})


def _ae():
    # S001 (first dose day 1, last dose day 361, so treatment-emergent up to day 391):
    #  1 before treatment; 2 started before, ended during; 3 partial start in the first dose's month;
    #  4 on the first injection day; 5 within 30 days after the last dose, partial end; 6 after that
    # S002 (end of study day 100): 1 start known only to the year, end partial in the month of EOS
    # S003: a screen failure's event
    rows = [("S001", 1, "Nausea", "Nausea", "Gastrointestinal disorders", "MILD", day(-5), day(-2)),
            ("S001", 2, "Rhume", "Nasopharyngitis", "Infections and infestations", "MILD", day(-3), day(10)),
            ("S001", 3, "Maux de tete", "Headache", "Nervous system disorders", "MILD", "2023-01", day(11)),
            ("S001", 4, "Reaction", "Injection site reaction", "General disorders", "MODERATE", day(63), day(64)),
            ("S001", 5, "Cephalee", "Headache", "Nervous system disorders", "SEVERE", day(380), "2024-02"),
            ("S001", 6, "Fievre", "Pyrexia", "General disorders", "MILD", day(400), day(401)),
            ("S002", 1, "Fatigue", "Fatigue", "General disorders", "MODERATE", "2023", "2023-04"),
            ("S003", 1, "Fatigue", "Fatigue", "General disorders", "MILD", day(-12), day(-11))]
    ae = pd.DataFrame(rows, columns=["USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AESEV", "AESTDTC",
                                     "AEENDTC"])
    ae["STUDYID"], ae["AESEQ"] = "NCT05153070", ae["AESEQ"].astype(float)
    ae["AESER"], ae["AEREL"], ae["AEACN"], ae["AEOUT"] = "N", "NOT RELATED", "DOSE NOT CHANGED", "RECOVERED/RESOLVED"
    for v in ("AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE", "EPOCH", "AEENRTPT"):
        ae[v] = None
    ae.loc[ae.USUBJID.eq("S001") & ae.AESEQ.eq(4), ["AEREL", "AESER", "AESHOSP"]] = ["RELATED", "Y", "Y"]
    return ae


def _suppae():
    rows = [("S001", "3", "AERELCSA", "POSSIBLY RELATED"), ("S001", "3", "AERELIL2", "NOT RELATED"),
            ("S001", "4", "AERELCSA", "UNLIKELY RELATED"), ("S001", "4", "AERELIL2", "RELATED"),
            ("S002", "1", "AERELCSA", "NOT RELATED"), ("S003", "1", "AERELCSA", "NOT RELATED")]
    supp = pd.DataFrame(rows, columns=["USUBJID", "IDVARVAL", "QNAM", "QVAL"])
    supp["STUDYID"], supp["RDOMAIN"], supp["IDVAR"] = "NCT05153070", "AE", "AESEQ"
    return supp


def make_sdtm() -> dict[str, pd.DataFrame]:
    return {"DM": _dm(), "EX": _ex(), "LB": _lb(), "CP": _cp(), "VS": _vs(), "CM": _cm(), "DS": _ds(),
            "AE": _ae(), "SUPPAE": _suppae()}


@pytest.fixture
def sdtm():
    return make_sdtm()


@pytest.fixture(scope="module")
def adam_built():
    from adam.build import build_adam

    return build_adam(make_sdtm())
