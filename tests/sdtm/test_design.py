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


def test_an_element_that_starts_on_a_disposition_event_is_not_invented_for_a_subject_without_it():
    # follow-up starts the day after a completed treatment; S2 withdrew during treatment: no follow-up
    design = {**DESIGN, "elements": DESIGN["elements"][:3] + [
        {"etcd": "FU", "element": "Follow-up", "epoch": "FOLLOW-UP", "testrl": "", "start":
            {"domain": "DS", "variable": "DSSTDTC", "where": "DSSCAT == 'STUDY TREATMENT' and DSDECOD == 'COMPLETED'",
             "pick": "first", "offset_days": 1}}]}
    dm = pd.DataFrame({"USUBJID": ["S1", "S2"], "ARMCD": ["A", "A"], "RFICDTC": ["2023-01-01", "2023-01-02"],
                       "RFPENDTC": ["2023-06-01", "2023-02-20"]})
    ex = pd.DataFrame({"USUBJID": ["S1", "S2"], "EXTRT": ["DRUG", "DRUG"], "EXSTDTC": ["2023-01-10", "2023-01-11"]})
    ds = pd.DataFrame({"USUBJID": ["S1", "S2"], "DSSCAT": ["STUDY TREATMENT"] * 2,
                       "DSDECOD": ["COMPLETED", "WITHDRAWAL BY SUBJECT"], "DSSTDTC": ["2023-03-01", "2023-02-20"]})
    se = derive_se("X", design, dm, {"EX": ex, "DS": ds})
    assert se[["USUBJID", "ETCD", "SESTDTC", "SEENDTC"]].values.tolist() == [
        ["S1", "SCRN", "2023-01-01", "2023-01-10"], ["S1", "TRT", "2023-01-10", "2023-03-02"],
        ["S1", "FU", "2023-03-02", "2023-06-01"],
        ["S2", "SCRN", "2023-01-02", "2023-01-11"], ["S2", "TRT", "2023-01-11", "2023-02-20"]]


def test_ts_values_from_the_data_and_the_parameters_of_a_data_cut():
    from sdtm.cut import DataCut
    from sdtm.design import complete_ts, derive_ts

    design = {"ts": [{"parmcd": "SSTDTC", "from": {"domain": "DM", "variable": "RFICDTC", "pick": "first"}},
                     {"parmcd": "SENDTC", "from": {"domain": "DM", "variable": "RFPENDTC", "pick": "last"}},
                     {"parmcd": "ACTSUB", "from": {"domain": "DS", "variable": "USUBJID",
                                                   "where": "DSDECOD == 'RANDOMIZED'", "pick": "count"}},
                     {"parmcd": "DTHDTC", "from": {"domain": "DM", "variable": "DTHDTC", "pick": "first"}},
                     {"parmcd": "TITLE", "val": "A trial"}]}
    dm = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "RFICDTC": ["2023-01-05", "2023-01-02", "2023-02-01"],
                       "RFPENDTC": ["2023-06-01", "2023-02-20T10:00", ""], "DTHDTC": ["", "", ""]})
    ds = pd.DataFrame({"USUBJID": ["S1", "S1", "S2"], "DSDECOD": ["RANDOMIZED", "COMPLETED", "RANDOMIZED"]})
    ts = derive_ts("X", design, None)
    assert list(ts["TSVAL"]) == ["", "", "", "", "A trial"]
    done = complete_ts(ts, "X", design, {"DM": dm, "DS": ds}, None)
    assert done[["TSPARMCD", "TSVAL", "TSVALNF"]].values.tolist() == [
        ["SSTDTC", "2023-01-02", ""], ["SENDTC", "2023-06-01", ""], ["ACTSUB", "2", ""], ["DTHDTC", "", "NI"],
        ["TITLE", "A trial", ""]]
    cut = complete_ts(ts, "X", design, {"DM": dm, "DS": ds}, None, DataCut(date="2023-06-30"))
    assert cut[["TSPARMCD", "TSSEQ", "TSVAL"]].values.tolist()[-2:] == [
        ["DCUTDTC", 1.0, "2023-06-30"], ["DCUTDESC", 1.0, "Data cut at 2023-06-30: data known up to that date"]]
    # an interventional study: the parameters FDA's TCG expects and the spec does not give, TSVALNF = NI
    interventional = {"ts": design["ts"] + [{"parmcd": "STYPE", "val": "INTERVENTIONAL"}]}
    full = complete_ts(derive_ts("X", interventional, None), "X", interventional, {"DM": dm, "DS": ds}, None)
    added = full.iloc[6:]
    assert added["TSPARMCD"].tolist()[:3] == ["ADAPT", "ADDON", "AGEMAX"] and "ACTSUB" not in set(added["TSPARMCD"])
    assert set(added["TSVAL"]) == {""} and set(added["TSVALNF"]) == {"NI"} and len(added) == 44
    per_subject = complete_ts(ts, "X", design, {"DM": dm, "DS": ds}, None,
                              DataCut(per_subject={"S1": "2023-05-01", "S2": "2023-04-01"}, description="Interim"))
    assert per_subject[["TSPARMCD", "TSVAL"]].values.tolist()[-2:] == [["DCUTDTC", "2023-05-01"],
                                                                       ["DCUTDESC", "Interim"]]
