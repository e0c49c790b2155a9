"""Planned doses up to a day, products, parameters from subject-level variables."""
import numpy as np
import pandas as pd
import pytest

from adam.derive import (compute_planned_days, derive_var_planned_doses, derive_var_product, derive_vars_if_absent,
                         get_param_records)
from specs.errors import SpecError

INJECTIONS = [{"first": 63, "last": 67}, {"first": 74, "last": 361, "every": 7}]


def test_schedule_days():
    days = compute_planned_days(INJECTIONS)
    assert len(days) == 47 and days[:7].tolist() == [63, 64, 65, 66, 67, 74, 81] and days[-1] == 361
    with pytest.raises(SpecError, match="overlap"):
        compute_planned_days([{"first": 1, "last": 10}, {"first": 10, "last": 12}])
    with pytest.raises(SpecError, match=r"schedule'\[0\]: needs whole study days"):
        compute_planned_days([{"first": 5, "last": 1}])


def test_planned_doses_up_to_the_cut_day():
    # cut on day 30: no injection planned; day 67: the 5 daily ones; day 100: + 74, 81, 88, 95; no cut: all 47
    df = pd.DataFrame({"DCUTDY": [30.0, 67.0, 100.0, None, -3.0]})
    out = derive_var_planned_doses(df, "ILPLAN", INJECTIONS, "DCUTDY")
    assert out.ILPLAN.tolist() == [0.0, 5.0, 9.0, 47.0, 0.0]
    assert derive_var_planned_doses(df, "CSPLAN", [{"first": 1, "last": 62}], "DCUTDY").CSPLAN.tolist() == \
        [30.0, 62.0, 62.0, 62.0, 0.0]
    assert derive_var_planned_doses(df, "N", INJECTIONS).N.tolist() == [47.0] * 5


def test_product_and_params_from_variables():
    ex = pd.DataFrame({"EXDOSE": [7.0, 7.0, None], "EXDUR": [31.0, 29.0, 1.0]})
    assert derive_var_product(ex, "DOSE", ["EXDOSE", "EXDUR"]).DOSE.tolist()[:2] == [217.0, 203.0]
    assert np.isnan(derive_var_product(ex, "DOSE", ["EXDOSE", "EXDUR"]).DOSE.iloc[2])
    adsl = pd.DataFrame({"USUBJID": ["S1", "S2"], "CSDAYS": [60.0, 62.0], "CSCMP": [96.8, 100.0]})
    out = get_param_records(adsl, ["USUBJID"], [
        {"set_values_to": {"PARAMCD": "CSNDAY", "PARAMN": 1}, "vars": {"AVAL": "CSDAYS"}},
        {"set_values_to": {"PARAMCD": "CSCMPL", "PARAMN": 2}, "vars": {"AVAL": "CSCMP"}}])
    assert out[["USUBJID", "PARAMCD", "AVAL"]].values.tolist() == [
        ["S1", "CSNDAY", 60.0], ["S2", "CSNDAY", 62.0], ["S1", "CSCMPL", 96.8], ["S2", "CSCMPL", 100.0]]
    with pytest.raises(SpecError, match=r"parameters'\[0\]: needs set_values_to"):
        get_param_records(adsl, ["USUBJID"], [{"vars": {"AVAL": "CSDAYS"}}])


def test_vars_if_absent():
    ds = pd.DataFrame({"DSDECOD": ["COMPLETED"], "DSSCAT": ["STUDY TREATMENT"]})
    out = derive_vars_if_absent(ds, {"DSSCAT": None, "EXOCCUR": None, "LBLLOQ": None})
    assert out.DSSCAT.tolist() == ["STUDY TREATMENT"]  # present: kept
    assert out.EXOCCUR.isna().all() and out.LBLLOQ.isna().all()
