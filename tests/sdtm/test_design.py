import pandas as pd

from sdtm.design import actual_arm, derive_se

DESIGN = {
    "arms": [{"armcd": "A", "arm": "Drug", "elements": ["SCRN", "TRT", "FU"]},
             {"armcd": "P", "arm": "Placebo", "elements": ["SCRN", "PBO", "FU"]}],
    "elements": [
        {"etcd": "SCRN", "element": "Screening", "epoch": "SCREENING", "testrl": "", "start":
            {"domain": "DM", "variable": "RFICDTC", "pick": "first"}},
        {"etcd": "TRT", "element": "Drug", "epoch": "TREATMENT", "testrl": "", "start":
            {"domain": "EX", "variable": "EXSTDTC", "where": "EXTRT == 'DRUG'", "pick": "first"}},
        {"etcd": "PBO", "element": "Placebo", "epoch": "TREATMENT", "testrl": "", "start":
            {"domain": "EX", "variable": "EXSTDTC", "where": "EXTRT == 'PLACEBO'", "pick": "first"}},
        {"etcd": "FU", "element": "Follow-up", "epoch": "FOLLOW-UP", "testrl": "", "start":
            {"domain": "EX", "variable": "EXSTDTC", "pick": "last", "offset_days": 1}},
    ],
}


def test_subject_elements_and_actual_arms():
    dm = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4"], "ARMCD": ["A", "P", "", "A"],
                       "RFICDTC": ["2023-01-01", "2023-01-02", "2023-01-03", "2023-01-04"],
                       "RFPENDTC": ["2023-03-01", "2023-03-02", "2023-01-03", "2023-03-04"]})
    ex = pd.DataFrame({"USUBJID": ["S1", "S1", "S2"], "EXTRT": ["DRUG", "DRUG", "DRUG"],
                       "EXSTDTC": ["2023-01-10", "2023-02-01T08:00", "2023-01-11"]})
    se = derive_se("X", DESIGN, dm, {"EX": ex})
    s1 = se[se["USUBJID"] == "S1"]
    assert list(s1["ETCD"]) == ["SCRN", "TRT", "FU"]
    assert list(s1["SESTDTC"]) == ["2023-01-01", "2023-01-10", "2023-02-02"]
    assert list(s1["SEENDTC"]) == ["2023-01-10", "2023-02-02", "2023-03-01"]
    assert list(se[se["USUBJID"] == "S3"]["ETCD"]) == ["SCRN"]
    arms = actual_arm(dm, se, DESIGN)
    # S1 as planned; S2 planned placebo but given the drug; S3 never randomized; S4 randomized, not treated
    assert list(arms["ACTARMCD"]) == ["A", "A", "", ""]
    assert list(arms["ARMNRS"]) == ["", "", "SCREEN FAILURE", "ASSIGNED, NOT TREATED"]
    assert list(arms["ACTARM"]) == ["Drug", "Drug", "", ""]


def test_an_element_starts_at_the_date_and_time_of_the_event_that_starts_it():
    dm = pd.DataFrame({"USUBJID": ["S1"], "ARMCD": ["A"], "RFICDTC": ["2023-01-01"], "RFPENDTC": ["2023-03-01"]})
    ex = pd.DataFrame({"USUBJID": ["S1", "S1"], "EXTRT": ["DRUG", "DRUG"],
                       "EXSTDTC": ["2023-01-10T09:55", "2023-02-01T08:00"]})
    se = derive_se("X", DESIGN, dm, {"EX": ex})
    assert list(se["SESTDTC"]) == ["2023-01-01", "2023-01-10T09:55", "2023-02-02"]
    assert list(se["SEENDTC"]) == ["2023-01-10T09:55", "2023-02-02", "2023-03-01"]
