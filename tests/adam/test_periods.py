"""Periods: the reference dataset, its ADSL form, and the period of a record (hand-worked dates)."""
import pandas as pd
import pytest

from adam.derive import create_period_dataset, derive_var_period_end, derive_vars_joined, derive_vars_period
from specs.errors import DataError, SpecError

# S1: run-in from day 100, randomized drug from day 162, end of study day 820; S2: ongoing in period 1
REF = pd.DataFrame({"STUDYID": "X", "USUBJID": ["S1", "S1", "S2"], "APERIOD": [1.0, 2.0, 1.0],
                    "APERSDT": [100.0, 162.0, 200.0], "TRTA": ["CSA", "IL2", "CSA"], "EOSDT": [820.0, 820.0, None]})
PLANNED = [{"ARMCD": "A", "APERIOD": 1, "TRTP": "CSA"}, {"ARMCD": "A", "APERIOD": 2, "TRTP": "IL2"},
           {"ARMCD": "B", "APERIOD": 1, "TRTP": "CSA"}, {"ARMCD": "B", "APERIOD": 2, "TRTP": "PBO"}]


def _ref():
    return derive_var_period_end(REF, ["USUBJID"], ["APERSDT"], "APEREDT", end_var="EOSDT")


def test_period_ends_the_day_before_the_next_starts():
    ref = _ref()
    assert ref.APEREDT.tolist()[:2] == [161.0, 820.0]  # day before 162; the last ends at EOSDT
    assert pd.isna(ref.APEREDT.iloc[2])                   # ongoing: open
    shuffled = derive_var_period_end(REF.iloc[[1, 2, 0]], ["USUBJID"], ["APERSDT"], "APEREDT")
    assert shuffled.loc[0, "APEREDT"] == 161.0 and pd.isna(shuffled.loc[1, "APEREDT"])  # input order kept


def test_adsl_period_variables():
    adsl = pd.DataFrame({"STUDYID": "X", "USUBJID": ["S1", "S2", "S3"], "ARMCD": ["A", "B", "A"]})
    out = derive_vars_period(adsl, _ref(), new_vars={"APxxSDT": "APERSDT", "APxxEDT": "APEREDT", "TRTxxA": "TRTA"},
                             periods=[1, 2])
    assert out.AP01SDT.tolist()[:2] == [100.0, 200.0] and out.AP02SDT.tolist()[0] == 162.0
    assert out.AP01EDT.tolist()[0] == 161.0 and out.TRT02A.tolist()[0] == "IL2"
    assert out[["AP02SDT", "TRT02A"]].iloc[1:].isna().all().all()  # S2 not yet in period 2, S3 no dose
    planned = derive_vars_period(adsl, PLANNED, by_vars=["ARMCD"], new_vars={"TRTxxP": "TRTP"})
    assert planned.TRT01P.tolist() == ["CSA"] * 3 and planned.TRT02P.tolist() == ["IL2", "PBO", "IL2"]


def test_adsl_period_variables_exist_before_any_record_has_the_period():
    early = _ref()[lambda d: d.APERIOD == 1]
    out = derive_vars_period(pd.DataFrame({"STUDYID": ["X"], "USUBJID": ["S1"]}), early,
                             new_vars={"APxxSDT": "APERSDT"}, periods=[1, 2])
    assert out.AP01SDT.item() == 100.0 and pd.isna(out.AP02SDT.item())
    with pytest.raises(DataError, match=r"APERIOD \[2\] not among the periods \[1\]"):
        derive_vars_period(pd.DataFrame({"STUDYID": ["X"], "USUBJID": ["S1"]}), _ref(),
                           new_vars={"APxxSDT": "APERSDT"}, periods=[1])


def test_adsl_period_errors():
    adsl = pd.DataFrame({"STUDYID": ["X"], "USUBJID": ["S1"]})
    with pytest.raises(SpecError, match="'APSDT' has no 'xx'"):
        derive_vars_period(adsl, _ref(), new_vars={"APSDT": "APERSDT"})
    with pytest.raises(DataError, match=r"2 records share \['STUDYID', 'USUBJID', 'APERIOD'\]"):
        derive_vars_period(adsl, pd.concat([_ref(), _ref().head(1)]), new_vars={"APxxSDT": "APERSDT"})


def test_create_period_dataset_reverses_adsl():
    adsl = pd.DataFrame({"STUDYID": "X", "USUBJID": ["S1", "S2"], "AP01SDT": [100.0, 200.0],
                         "AP02SDT": [162.0, None], "TRT01A": ["CSA", "CSA"], "TRT02A": ["IL2", None]})
    ref = create_period_dataset(adsl, new_vars={"APERSDT": "APxxSDT", "TRTA": "TRTxxA"})
    assert ref[["USUBJID", "APERIOD", "APERSDT", "TRTA"]].values.tolist() == [
        ["S1", 1.0, 100.0, "CSA"], ["S1", 2.0, 162.0, "IL2"], ["S2", 1.0, 200.0, "CSA"]]


def test_record_gets_the_period_holding_its_date():
    ae = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S1", "S2", "S2"],
                       "ASTDT": [90.0, 161.0, 162.0, 900.0, 5000.0, None]})
    out = derive_vars_joined(ae, _ref(), ["USUBJID"], ["APERIOD", "TRTA"], join_var="ASTDT")
    assert out.APERIOD.tolist()[1:3] == [1.0, 2.0] and out.TRTA.tolist()[1:3] == ["CSA", "IL2"]
    assert pd.isna(out.APERIOD.iloc[0]) and pd.isna(out.APERIOD.iloc[3])  # before the first dose, after EOS
    assert out.APERIOD.iloc[4] == 1.0 and pd.isna(out.APERIOD.iloc[5])    # open period; no date


def test_overlapping_periods_refused():
    ref = _ref().assign(APEREDT=[170.0, 820.0, None])
    with pytest.raises(DataError, match="overlap"):
        derive_vars_joined(pd.DataFrame({"USUBJID": ["S1"], "ADT": [165.0]}), ref, ["USUBJID"], ["APERIOD"])
