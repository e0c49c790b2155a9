import pandas as pd
import pytest

from adam.derive import (derive_var_merged_exist_flag, derive_var_merged_summary, derive_var_obs_number,
                         derive_var_ratio, derive_var_bmi, derive_vars_merged, derive_vars_merged_lookup,
                         derive_vars_traceability)
from specs.errors import DataError, SpecError

ADSL = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"]})
EX = pd.DataFrame({"USUBJID": ["S1", "S1", "S2"], "EXTRT": ["CICLOSPORIN", "ILT-101", "CICLOSPORIN"],
                   "ASTDT": [10.0, 72.0, 11.0], "AENDT": [40.0, 72.0, 50.0]})


def test_merged_first_last_and_exist_flag():
    out = derive_vars_merged(ADSL, EX, ["USUBJID"], order=["ASTDT"], new_vars={"TRTSDT": "ASTDT"}, mode="first",
                             exist_flag="EXFL")
    assert out.TRTSDT.tolist()[:2] == [10.0, 11.0] and pd.isna(out.TRTSDT.iloc[2])
    assert out.EXFL.tolist() == ["Y", "Y", "N"]
    out = derive_vars_merged(ADSL, EX, ["USUBJID"], order=["ASTDT"], new_vars={"TR02SDT": "ASTDT"},
                             filter_add="EXTRT == 'ILT-101'")
    assert out.TR02SDT.tolist()[0] == 72.0 and out.TR02SDT.isna().tolist()[1:] == [True, True]


def test_merged_without_order_needs_unique_keys_and_named_variables():
    ex = EX.copy()
    ex.attrs["name"] = "EX"
    with pytest.raises(DataError, match="EX: argument 'by_vars'.*does not identify one record"):
        derive_vars_merged(ADSL, ex, ["USUBJID"], new_vars=["ASTDT"])
    with pytest.raises(DataError, match="EX: variable 'EXDOSE' required by argument 'new_vars' is missing"):
        derive_vars_merged(ADSL, ex, ["USUBJID"], order=["ASTDT"], new_vars=["EXDOSE"])
    with pytest.raises(SpecError, match="already a variable"):
        derive_vars_merged(ADSL, ex, ["USUBJID"], order=["ASTDT"], new_vars={"USUBJID": "EXTRT"})


def test_summary_exist_flag_lookup():
    out = derive_var_merged_summary(ADSL, EX, ["USUBJID"], "LASTDT", "AENDT", "max")
    assert out.LASTDT.tolist()[:2] == [72.0, 50.0]
    out = derive_var_merged_summary(ADSL, EX, ["USUBJID"], "NINJ", summary_fun="count", filter_add="EXTRT == 'ILT-101'")
    assert out.NINJ.tolist() == [1, 0, 0]
    out = derive_var_merged_exist_flag(ADSL, EX, ["USUBJID"], "SAFFL")
    assert out.SAFFL.tolist() == ["Y", "Y", "N"]
    params = [{"PARAMCD": "HBA1C", "PARAM": "HbA1c (%)", "PARAMN": 1}]
    lb = pd.DataFrame({"PARAMCD": ["HBA1C", "GLUC"]})
    lb.attrs["name"] = "ADLB"
    with pytest.raises(DataError, match="ADLB: 1 value.*PARAMCD=GLUC"):
        derive_vars_merged_lookup(lb, params, ["PARAMCD"])
    assert derive_vars_merged_lookup(lb.head(1), params, ["PARAMCD"]).PARAMN.tolist() == [1]


def test_traceability_and_aseq():
    df = pd.DataFrame({"USUBJID": ["S1", "S1", "S2"], "LBSEQ": [3, 1, 1], "ADT": [2.0, 1.0, 1.0]})
    out = derive_vars_traceability(df, "LB", "LBSTRESN", "LBSEQ")
    assert out.SRCDOM.tolist() == ["LB"] * 3 and out.SRCSEQ.tolist() == [3.0, 1.0, 1.0]
    out = derive_var_obs_number(out, ["USUBJID"], ["ADT"])  # numbered in ADT order, records left in place
    assert out[["USUBJID", "LBSEQ", "ASEQ"]].values.tolist() == [["S1", 3, 2.0], ["S1", 1, 1.0], ["S2", 1, 1.0]]
    tied = pd.DataFrame({"USUBJID": ["S2", "S1", "S1", "S1"], "ADT": [5.0, None, 7.0, 7.0]})
    assert derive_var_obs_number(tied, ["USUBJID"], ["ADT"]).ASEQ.tolist() == [1.0, 3.0, 1.0, 2.0]
    assert derive_var_obs_number(tied, [], ["ADT"]).ASEQ.tolist() == [1.0, 4.0, 2.0, 3.0]


def test_ratio_and_bmi():
    df = pd.DataFrame({"TAKEN": [60.0, 31.0], "WEIGHTBL": [70.0, 50.0], "HEIGHTBL": [175.0, 160.0]})
    assert derive_var_ratio(df, "CMP", "TAKEN", 62, 100, 1).CMP.tolist() == [96.8, 50.0]
    assert derive_var_bmi(df).BMIBL.tolist() == [22.9, 19.5]
