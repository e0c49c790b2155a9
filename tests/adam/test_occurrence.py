"""Treatment-emergent flag (admiral's cases), supplemental qualifiers, imputation bounds, desc() order."""
import numpy as np
import pandas as pd
import pytest

from adam.derive import (derive_var_extreme_flag, derive_var_trtemfl, derive_vars_dt, derive_vars_supp, sas_date)
from specs.errors import DataError, SpecError

T0, T1 = 100.0, 200.0  # treatment from day 100 to day 200 (SAS day numbers)


def _events():
    return pd.DataFrame({
        #            before  started before  on T0   during  T1+10  T1+11  no start  no start, ended before
        "ASTDT": [90.0, 95.0, 100.0, 150.0, 210.0, 211.0, np.nan, np.nan],
        "AENDT": [95.0, 120.0, 101.0, 151.0, 212.0, 212.0, 130.0, 99.0],
        "AEITOXGR": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        "AETOXGR": [3.0, 3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        "TRTSDT": T0, "TRTEDT": T1})


def _flags(df, var="TRTEMFL"):
    return [None if pd.isna(v) else v for v in df[var]]


def test_trtemfl_cases():
    out = derive_var_trtemfl(_events())
    assert _flags(out) == [None, None, "Y", "Y", "Y", "Y", "Y", None]
    windowed = derive_var_trtemfl(_events(), trt_end_date="TRTEDT", end_window=10)
    assert _flags(windowed) == [None, None, "Y", "Y", "Y", None, "Y", None]  # day 211 > 200 + 10
    # worsened: started before treatment, grade 1 -> 3 while it lasted into treatment
    worse = derive_var_trtemfl(_events(), initial_intensity="AEITOXGR", intensity="AETOXGR")
    assert _flags(worse)[:2] == [None, "Y"]  # the first ended before treatment started
    untreated = derive_var_trtemfl(_events().assign(TRTSDT=np.nan))
    assert set(_flags(untreated)) == {None}


def test_trtemfl_argument_errors():
    with pytest.raises(SpecError, match="'end_window' needs 'trt_end_date'"):
        derive_var_trtemfl(_events(), end_window=30)
    with pytest.raises(SpecError, match="give both or neither"):
        derive_var_trtemfl(_events(), intensity="AETOXGR")
    with pytest.raises(SpecError, match="must hold numbers"):
        derive_var_trtemfl(_events().assign(AETOXGR="SEVERE"), initial_intensity="AEITOXGR", intensity="AETOXGR")


def test_supp_qualifiers_become_variables():
    ae = pd.DataFrame({"STUDYID": "X", "USUBJID": ["S1", "S1", "S2"], "AESEQ": [1.0, 2.0, 1.0]})
    supp = pd.DataFrame({"STUDYID": "X", "USUBJID": ["S1", "S1", "S2", "S9"], "IDVAR": "AESEQ",
                         "IDVARVAL": ["2", " 1", "1", "1"], "QNAM": ["AERELCSA", "AERELCSA", "AERELIL2", "AERELCSA"],
                         "QVAL": ["RELATED", "NOT RELATED", "POSSIBLY RELATED", "RELATED"]})
    out = derive_vars_supp(ae, supp)
    assert _flags(out, "AERELCSA") == ["NOT RELATED", "RELATED", None]
    assert _flags(out, "AERELIL2") == [None, None, "POSSIBLY RELATED"]
    assert list(derive_vars_supp(ae, supp, qnams=["AERELIL2"]).columns) == list(ae.columns) + ["AERELIL2"]
    with pytest.raises(DataError, match="give one qualifier twice"):
        derive_vars_supp(ae, pd.concat([supp, supp.head(1)]))
    with pytest.raises(DataError, match="IDVAR 'AEGRPID' is not a variable"):
        derive_vars_supp(ae, supp.assign(IDVAR="AEGRPID"))


def test_imputed_dates_kept_between_bounds():
    # start "2023-05": first possible day 2023-05-01, but treatment started 2023-05-17 -> 2023-05-17;
    # "2023-04" is before it; a complete date is never moved; end "2023-06" stops at the cut 2023-06-20
    df = pd.DataFrame({"AESTDTC": ["2023-05", "2023-04", "2023-05-03"], "AEENDTC": ["2023-06", "2023-07", None],
                       "TRTSDT": sas_date(["2023-05-17"] * 3), "DCUTDT": sas_date(["2023-06-20"] * 3)})
    out = derive_vars_dt(df, "AST", "AESTDTC", highest_imputation="M", min_dates=["TRTSDT"])
    assert out.ASTDT.tolist() == sas_date(["2023-05-17", "2023-04-01", "2023-05-03"]).tolist()
    assert _flags(out, "ASTDTF") == ["D", "D", None]
    end = derive_vars_dt(df, "AEN", "AEENDTC", highest_imputation="M", date_imputation="last", max_dates=["DCUTDT"])
    assert end.AENDT.tolist()[:2] == sas_date(["2023-06-20", "2023-07-31"]).tolist()


def test_extreme_flag_descending_order():
    ae = pd.DataFrame({"USUBJID": "S1", "ASEVN": [1.0, 3.0, 3.0, np.nan], "ASTDT": [1.0, 5.0, 2.0, 0.0]})
    out = derive_var_extreme_flag(ae, ["USUBJID"], ["desc(ASEVN)", "ASTDT"], "AOCCIFL", mode="first")
    assert _flags(out, "AOCCIFL") == [None, None, "Y", None]  # most severe, then earliest; unknown not chosen
