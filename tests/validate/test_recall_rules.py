"""Rules for what reviewers' tools report (section 3 of issue 11): each with a frame that passes and one
that fails, typed by hand."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from validate.package import DatasetMeta, Package, VariableMeta
from validate.registry import run_rules

NA = np.nan


def frame(columns: dict) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    for col in df.columns:
        if df[col].dtype != "float64":
            df[col] = df[col].astype(object)
    return df


def package(**frames) -> Package:
    pkg = Package(root=Path("."))
    for name, df in frames.items():
        meta = DatasetMeta(name=name, label=name, path=Path(f"{name.lower()}.xpt"))
        for order, col in enumerate(df.columns, start=1):
            kind = "Num" if df[col].dtype == "float64" else "Char"
            meta.variables[col] = VariableMeta(col, col, kind, 8 if kind == "Num" else 20, "", order)
        pkg.datasets[name], pkg.meta[name] = df, meta
    return pkg


def check(rule_id: str, **frames) -> list[tuple]:
    found = run_rules(package(**frames), None, [rule_id])
    return [(r.dataset, r.variable, r.key, r.value) for r in found.itertuples()]


def messages(rule_id: str, **frames) -> list[str]:
    return run_rules(package(**frames), None, [rule_id])["message"].tolist()


def lb(**overrides) -> pd.DataFrame:
    base = {"STUDYID": ["S"] * 3, "DOMAIN": ["LB"] * 3, "USUBJID": ["S-1", "S-1", "S-2"], "LBSEQ": [1.0, 2.0, 1.0],
            "LBTESTCD": ["GLUC"] * 3, "LBORRES": ["5.2", "<0.02", None], "LBORRESU": ["mmol/L", "mmol/L", None],
            "LBSTRESC": ["5.2", "<0.02", None], "LBSTRESN": [5.2, NA, NA], "LBSTRESU": ["mmol/L", "mmol/L", None],
            "LBSTAT": [None, None, "NOT DONE"], "LBNRIND": ["NORMAL", None, None], "LBLOBXFL": ["Y", None, "Y"]}
    base.update(overrides)
    return frame(base)


def test_sd0026_original_unit_missing_for_numeric_result():
    assert check("SD0026", LB=lb()) == []
    assert check("SD0026", LB=lb(LBORRESU=["mmol/L", None, None])) == [("LB", "LBORRESU", "USUBJID=S-1, LBSEQ=2", "<0.02")]
    assert check("SD0026", LB=lb(LBORRES=["5.2", "POSITIVE", None], LBORRESU=["mmol/L", None, None])) == []


def test_sd0029_standard_unit_missing_for_numeric_standard_result():
    assert check("SD0029", LB=lb()) == []
    assert messages("SD0029", LB=lb(LBSTRESU=[None, "mmol/L", None])) == [
        "LBSTRESU is null while LBSTRESC = '5.2' is a numeric result (CG0425)"]


def test_sd0027_sd0030_not_done_records_carry_no_units():
    assert check("SD0027", LB=lb()) == [] and check("SD0030", LB=lb()) == []
    units = lb(LBORRESU=["mmol/L", "mmol/L", "mmol/L"], LBSTRESU=["mmol/L", "mmol/L", "mmol/L"])
    assert messages("SD0027", LB=units) == ["LBORRESU = 'mmol/L' but LBORRES is null (LBSTAT = NOT DONE)"]
    assert messages("SD0030", LB=units) == ["LBSTRESU = 'mmol/L' but LBSTRESC is null (LBSTAT = NOT DONE) (CG0426)"]


def test_cv0207_not_done_records_carry_no_ranges():
    assert check("CV0207", LB=lb()) == []
    assert check("CV0207", LB=lb(LBNRIND=["NORMAL", None, "NORMAL"])) == [("LB", "LBNRIND", "USUBJID=S-2, LBSEQ=1", "NORMAL")]


def ae(**overrides) -> pd.DataFrame:
    base = {"STUDYID": ["S"] * 3, "DOMAIN": ["AE"] * 3, "USUBJID": ["S-1", "S-1", "S-2"], "AESEQ": [1.0, 2.0, 1.0],
            "AETERM": ["Headache", "Nausea", "Rash"], "AESTDTC": ["2024-01-11", "2024-01", "2024-03-02"],
            "AEENDTC": ["2024-01-12", None, None], "AEENRTPT": [None, "ONGOING", None], "AEENTPT": [None, "2024-03-01", None],
            "EPOCH": ["TREATMENT", None, None]}
    base.update(overrides)
    return frame(base)


def test_sd0021_end_time_point_missing():
    assert check("SD0021", AE=ae()) == [("AE", "AEENDTC", "USUBJID=S-2, AESEQ=1", "")]
    assert check("SD0021", AE=ae(AEENRTPT=[None, "ONGOING", "ONGOING"])) == []
    assert messages("SD0021", AE=ae())[0] == "no end time point: AEENDTC, AEENRF, AEENRTPT and AEDUR are all null"


def ex_at_cut(**overrides) -> pd.DataFrame:
    # S-1 takes a daily drug from 2023-06-12, going on at the cut 2023-06-30; S-2 had one injection
    base = {"STUDYID": ["S"] * 2, "DOMAIN": ["EX"] * 2, "USUBJID": ["S-1", "S-2"], "EXSEQ": [1.0, 1.0],
            "EXTRT": ["CICLOSPORIN", "ILT-101"], "EXSTDTC": ["2023-06-12", "2023-06-26T08:55"],
            "EXENDTC": [None, "2023-06-26T08:55"], "EXENRTPT": ["ONGOING", None], "EXENTPT": ["2023-06-30", None]}
    base.update(overrides)
    return frame(base)


def ts_cut(date: str = "2023-06-30") -> pd.DataFrame:
    return frame({"STUDYID": ["S", "S"], "DOMAIN": ["TS", "TS"], "TSSEQ": [1.0, 1.0],
                  "TSPARMCD": ["STYPE", "DCUTDTC"], "TSVAL": ["INTERVENTIONAL", date]})


def test_sd0021_an_interval_going_on_at_a_data_cut_is_ongoing_relative_to_the_cut():
    # SDTMIG 4.4.7: no end date yet, EXENRTPT = ONGOING relative to EXENTPT = the cut date: an end time point
    assert check("SD0021", EX=ex_at_cut(), TS=ts_cut()) == []
    # without the relative timing variables the finding stays, and says what a cut's package should carry
    bare = ex_at_cut(EXENRTPT=[None, None], EXENTPT=[None, None])
    assert check("SD0021", EX=bare, TS=ts_cut()) == [("EX", "EXENDTC", "USUBJID=S-1, EXSEQ=1", "")]
    assert messages("SD0021", EX=bare, TS=ts_cut()) == [
        "no end time point: EXENDTC, EXENRF, EXENRTPT and EXDUR are all null (data cut 2023-06-30: a record "
        "going on at the cut has EXENRTPT = ONGOING and EXENTPT = '2023-06-30', SDTMIG 4.4.7)"]
    # outside a cut the message is the plain one
    assert messages("SD0021", EX=bare) == ["no end time point: EXENDTC, EXENRF, EXENRTPT and EXDUR are all null"]


def dm(**overrides) -> pd.DataFrame:
    base = {"STUDYID": ["S"] * 3, "DOMAIN": ["DM"] * 3, "USUBJID": ["S-1", "S-2", "S-3"],
            "ARMCD": ["A", "B", None], "ARM": ["Drug", "Placebo", None], "ACTARMCD": ["A", "B", None],
            "ACTARM": ["Drug", "Placebo", None]}
    base.update(overrides)
    return frame(base)


def test_sd2236_sd2237_actual_arm_differs_from_planned():
    assert check("SD2236", DM=dm()) == [] and check("SD2237", DM=dm()) == []
    other = dm(ACTARMCD=["A", "A", None], ACTARM=["Drug", "Drug", None])
    assert check("SD2236", DM=other) == [("DM", "ACTARMCD", "USUBJID=S-2", "A")]
    assert messages("SD2237", DM=other) == ["ACTARM = 'Drug' differs from ARM = 'Placebo' (FDAB025, CG0119)"]


def test_sd0006_treated_subject_without_baseline():
    labs = lb(USUBJID=["S-1", "S-1", "S-2"], LBLOBXFL=["Y", None, None], LBSTAT=[None] * 3)
    assert check("SD0006", DM=dm(), LB=labs) == [("LB", "LBLOBXFL", "USUBJID=S-2", "S-2")]
    assert messages("SD0006", DM=dm(), LB=labs) == ["subject S-2 has 1 LB record(s) and none flagged baseline (LBLOBXFL = Y)"]
    neither = labs.assign(USUBJID=["S-2", "S-1", "S-2"], LBLOBXFL=[None] * 3)  # most records first
    assert messages("SD0006", DM=dm(), LB=neither) == [
        "subject S-2 has 2 LB record(s) and none flagged baseline (LBLOBXFL = Y)",
        "subject S-1 has 1 LB record(s) and none flagged baseline (LBLOBXFL = Y)"]
    assert check("SD0006", DM=dm(), LB=labs.assign(LBLOBXFL=["Y", None, "Y"])) == []
    screen_failure = labs.assign(USUBJID=["S-1", "S-1", "S-3"])  # S-3 has no arm: not treated
    assert check("SD0006", DM=dm(), LB=screen_failure) == []


def test_sd1131_sd1372_standard_result_missing_on_baseline():
    assert check("SD1372", LB=lb()) == [("LB", "LBSTRESC", "USUBJID=S-2, LBSEQ=1", "")]
    assert check("SD1372", LB=lb(LBLOBXFL=["Y", None, None])) == []
    blfl = lb().rename(columns={"LBLOBXFL": "LBBLFL"})
    assert messages("SD1131", LB=blfl) == ["LBSTRESC is null on a baseline record (LBBLFL = Y) (FDAB026, FB2601)"]


def test_sd1076_sd0058_variables_the_ig_does_not_define():
    sv = frame({"STUDYID": ["S"], "DOMAIN": ["SV"], "USUBJID": ["S-1"], "VISITNUM": [1.0], "EPOCH": ["SCREENING"]})
    labs = lb().assign(LBENRTPT=["BEFORE", None, None], LBXYZ=["1", None, None])
    assert check("SD1076", SV=sv, LB=lb()) == [] and check("SD0058", SV=sv.drop(columns="EPOCH"), LB=lb()) == []
    assert check("SD1076", LB=labs) == [("LB", "LBENRTPT", "", "")]  # a Findings variable of the model, not in LB
    assert messages("SD0058", SV=sv, LB=labs) == [
        "SV.EPOCH: SDTMIG 3.4 does not define it for SV (Special-Purpose domain) (CG0013)",
        "LB.LBXYZ: SDTMIG 3.4 does not define it for LB (Findings domain) (CG0013)"]


def test_sd1339_epoch_null_although_the_date_is_inside_one_element():
    se = frame({"STUDYID": ["S"] * 3, "DOMAIN": ["SE"] * 3, "USUBJID": ["S-1", "S-1", "S-2"], "SESEQ": [1.0, 2.0, 1.0],
                "ETCD": ["SCRN", "TRT", "TRT"], "EPOCH": ["SCREENING", "TREATMENT", "TREATMENT"],
                "SESTDTC": ["2023-12-01", "2024-01-10", "2024-02-20"], "SEENDTC": ["2024-01-10", "2024-03-30", "2024-02-28"]})
    # S-1 AESEQ 2 starts '2024-01' (Jan 1-31): spans SCREENING and TREATMENT: no finding;
    # S-2 AESEQ 1 starts 2024-03-02, after the subject's last element: no finding
    assert check("SD1339", SE=se, AE=ae()) == []
    inside = ae(AESTDTC=["2024-01-11", "2024-02", "2024-02-25"])  # Feb 2024 is all TREATMENT for S-1
    assert messages("SD1339", SE=se, AE=inside) == [
        "EPOCH is null but AESTDTC = 2024-02 falls entirely in the subject's TREATMENT element(s) of SE (FDAB022)",
        "EPOCH is null but AESTDTC = 2024-02-25 falls entirely in the subject's TREATMENT element(s) of SE (FDAB022)"]


def test_sd1087_sd1091_se_without_study_days():
    se = frame({"STUDYID": ["S"], "DOMAIN": ["SE"], "USUBJID": ["S-1"], "SESEQ": [1.0], "ETCD": ["SCRN"],
                "SESTDTC": ["2024-01-01"], "SEENDTC": ["2024-01-09"]})
    assert messages("SD1087", SE=se) == ["SE has SESTDTC but no SESTDY (FDAB034)"]
    assert messages("SD1091", SE=se) == ["SE has SEENDTC but no SEENDY (FDAB034)"]
    assert check("SD1087", SE=se.assign(SESTDY=[-9.0])) == []
    ts = frame({"STUDYID": ["S"], "DOMAIN": ["TS"], "TSSEQ": [1.0], "TSPARMCD": ["SSTDTC"], "TSVAL": ["2024-01-01"],
                "TSDTC": ["2024-01-01"]})
    assert check("SD1083", TS=ts) == []  # TS has no study day in the IG


def ts(parameters: dict) -> pd.DataFrame:
    return frame({"STUDYID": "S", "DOMAIN": "TS", "TSSEQ": [1.0] * len(parameters), "TSPARMCD": list(parameters),
                  "TSVAL": list(parameters.values())})


def test_sd2223_sd1312_pharmacological_class_of_an_interventional_study():
    assert messages("SD2223", TS=ts({"STYPE": "INTERVENTIONAL", "INTTYPE": "DRUG"})) == [
        "TS has no PCLAS parameter although STYPE = INTERVENTIONAL and INTTYPE = 'DRUG' (CG0287)"]
    assert check("SD2223", TS=ts({"STYPE": "INTERVENTIONAL", "INTTYPE": "DEVICE"})) == []
    assert check("SD2223", TS=ts({"STYPE": "OBSERVATIONAL"})) == []
    assert check("SD2223", TS=ts({"STYPE": "INTERVENTIONAL", "PCLAS": "Calcineurin Inhibitor"})) == []
    assert check("SD1312", TS=ts({"STYPE": "INTERVENTIONAL", "PCLAS": None})) == [("TS", "TSVAL", "TSPARMCD=PCLAS, TSSEQ=1", "")]


def test_split_lb_is_one_domain_for_seq_and_supp_parents():
    lbch = lb().iloc[:2].reset_index(drop=True)
    lbhe = lb().iloc[2:].reset_index(drop=True).assign(USUBJID=["S-1"], LBSEQ=[2.0])  # S-1 LBSEQ 2 is also in LBCH
    assert check("SD0005", LBCH=lbch, LBHE=lbhe) == [("LBCH", "LBSEQ", "USUBJID=S-1, LBSEQ=2", "2"),
                                                    ("LBHE", "LBSEQ", "USUBJID=S-1, LBSEQ=2", "2")]
    assert check("SD0005", LBCH=lbch, LBHE=lbhe.assign(LBSEQ=[3.0])) == []
    supp = frame({"STUDYID": ["S"], "RDOMAIN": ["LB"], "USUBJID": ["S-1"], "IDVAR": ["LBSEQ"], "IDVARVAL": ["3"],
                  "QNAM": ["LBCLSIG"], "QLABEL": ["Clinically Significant"], "QVAL": ["Y"], "QORIG": ["CRF"]})
    lbhe = lbhe.assign(LBSEQ=[3.0])
    assert check("CV0305", LBCH=lbch, LBHE=lbhe, SUPPLBHE=supp) == []  # the parent is in LBHE
    assert check("CV0305", LBCH=lbch, LBHE=lbhe, SUPPLBHE=supp.assign(IDVARVAL=["4"])) == [
        ("SUPPLBHE", "IDVARVAL", "RDOMAIN=LB, USUBJID=S-1, IDVAR=LBSEQ, IDVARVAL=4, QNAM=LBCLSIG", "4")]


def test_scores_of_questionnaires_need_no_unit():
    qs = frame({"STUDYID": ["S"], "DOMAIN": ["QS"], "USUBJID": ["S-1"], "QSSEQ": [1.0], "QSTESTCD": ["NPTOT"],
                "QSORRES": ["12"], "QSORRESU": [None], "QSSTRESC": ["12"], "QSSTRESU": [None]})
    assert check("SD0026", QS=qs) == [] and check("SD0029", QS=qs) == []
    assert check("SD0026", QSNI=qs) == []  # a split part of QS too


def test_split_parts_share_one_length_the_longest_of_the_domain():
    lbch = frame({"STUDYID": ["S"], "USUBJID": ["S-1"], "LBSEQ": [1.0], "LBTESTCD": ["GLUC"], "LBORRES": ["5.5"]})
    lbhe = frame({"STUDYID": ["S"], "USUBJID": ["S-1"], "LBSEQ": [2.0], "LBTESTCD": ["HGB"], "LBORRES": ["13.25"]})
    pkg = package(LBCH=lbch, LBHE=lbhe)
    for name, longest in (("LBCH", {"STUDYID": 1, "USUBJID": 3, "LBTESTCD": 4}), ("LBHE", {"STUDYID": 1, "USUBJID": 3})):
        for variable, meta in pkg.meta[name].variables.items():
            if meta.type == "Char":
                meta.length = longest.get(variable, 5)
    # LBCH.LBORRES is 5 long for a longest value of 3 in LBCH, 5 in LBHE: right for the domain (no CV0106)
    assert [(r.dataset, r.variable) for r in run_rules(pkg, None, ["CV0106"]).itertuples()] == [("LBHE", "LBTESTCD")]
    # LBTESTCD: 4 in LBCH, 5 in LBHE (the parts of one domain differ)
    found = run_rules(pkg, None, ["CV0110"])
    assert [(r.dataset, r.variable, r.value) for r in found.itertuples()] == [("LBCH", "LBTESTCD", "4"),
                                                                            ("LBHE", "LBTESTCD", "5")]
    assert found["message"][0] == ("LBTESTCD has length 4 in LBCH but 5 (LBHE) in the other parts of the split "
                                   "domain LB: the parts of a split dataset share one length, the longest value "
                                   "of the domain")
    assert run_rules(package(LB=lbch), None, ["CV0110"]).empty  # not split


def test_visitnum_written_by_another_tool_compares_with_a_float_tolerance():
    sv = frame({"STUDYID": ["S"] * 2, "DOMAIN": ["SV"] * 2, "USUBJID": ["S-1"] * 2, "VISITNUM": [1.3, 2.0],
                "VISIT": ["WEEK 1.3", "WEEK 2"]})
    labs = lb().iloc[:2].assign(VISITNUM=[1.3000000000000003, 2.0000000000000004], VISIT=["WEEK 1.3", "WEEK 2"])
    assert check("SD0065", SV=sv, LB=labs) == [] and check("CV0301", SV=sv, LB=labs) == []
    assert check("SD0065", SV=sv, LB=labs.assign(VISITNUM=[1.31, 2.0])) == [("LB", "VISITNUM", "USUBJID=S-1, LBSEQ=1", "1.31")]


def test_an_incomplete_key_is_one_cause_with_a_count():
    labs = frame({"STUDYID": ["S"] * 4, "USUBJID": ["S-1"] * 4, "LBSEQ": [1.0, 2.0, 3.0, 4.0], "LBTESTCD": ["GLUC"] * 4})
    pkg = package(LB=labs)
    from validate.define_xml import DefineMeta, ItemGroupDef, ItemRefDef
    pkg.define = DefineMeta(Path("define.xml"), groups={"LB": ItemGroupDef("IG.LB", "LB", "Lab", "Tabulation", False, [
        ItemRefDef(v, f"IT.{v}", i, True, i) for i, v in enumerate(["STUDYID", "USUBJID", "LBTESTCD"], start=1)])})
    found = run_rules(pkg, None, ["CV0108"])
    assert found[["dataset", "variable", "count"]].values.tolist() == [["LB", "LBTESTCD", 4]]
    assert found["message"][0].startswith("key (STUDYID, USUBJID, LBTESTCD) does not identify one record: 4 records")
