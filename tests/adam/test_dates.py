import math

import pandas as pd
import pytest

from adam.derive import compute_dy, derive_vars_dt, derive_vars_dy, derive_var_duration, impute_dtc_dt, sas_date
from specs.errors import DataError, SpecError


def test_sas_day_numbers():
    assert sas_date(["1960-01-01", "1960-01-02", "1959-12-31", "2023-01-01"]).tolist() == [0, 1, -1, 23011]


@pytest.mark.parametrize("imputation, expected", [
    ("first", ["2023-05-17", "2023-05-01", "2023-01-01"]),
    ("lowest", ["2023-05-17", "2023-05-01", "2023-01-01"]),
    ("mid", ["2023-05-17", "2023-05-15", "2023-06-30"]),
    ("last", ["2023-05-17", "2023-05-31", "2023-12-31"]),
    ("highest", ["2023-05-17", "2023-05-31", "2023-12-31"]),
])
def test_partial_dates_imputed_with_flags(imputation, expected):
    out = impute_dtc_dt(pd.Series(["2023-05-17T08:30", "2023-05", "2023"]), "M", imputation)
    assert out.date.tolist() == sas_date(expected).tolist()
    assert out.flag.tolist()[1:] == ["D", "M"] and pd.isna(out.flag.iloc[0])


def test_leap_february_last_day():
    assert impute_dtc_dt(pd.Series(["2024-02"]), "D", "last").date.tolist() == sas_date(["2024-02-29"]).tolist()


def test_imputation_limits():
    out = impute_dtc_dt(pd.Series(["2023-05", "2023", ""]), "D", "first")
    assert out.date.tolist()[0] == sas_date(["2023-05-01"]).item()
    assert math.isnan(out.date.iloc[1]) and math.isnan(out.date.iloc[2])  # month not imputed with "D"
    assert math.isnan(impute_dtc_dt(pd.Series(["2023-05"]), "n").date.item())


def test_bad_dates_named():
    with pytest.raises(DataError, match=r"LB: variable 'LBDTC'.*'2023-02-30'"):
        lb = pd.DataFrame({"LBDTC": ["2023-02-28", "2023-02-30"]})
        lb.attrs["name"] = "LB"
        derive_vars_dt(lb, "A", "LBDTC")
    with pytest.raises(SpecError, match="date_imputation"):
        impute_dtc_dt(pd.Series(["2023"]), "M", "middle")


def test_derive_vars_dt_and_missing_variable():
    df = pd.DataFrame({"EXSTDTC": ["2023-01-01", "2023-01"]})
    out = derive_vars_dt(df, "AST", "EXSTDTC", highest_imputation="D")
    assert out.ASTDT.tolist() == [23011.0, 23011.0] and out.ASTDTF.tolist()[1] == "D"
    assert "ASTDTF" not in derive_vars_dt(df.head(1), "AST", "EXSTDTC").columns
    df.attrs["name"] = "EX"
    with pytest.raises(DataError, match="EX: variable 'EXENDTC' required by argument 'dtc' is missing"):
        derive_vars_dt(df, "AEN", "EXENDTC")


def test_no_day_zero_around_anchor():
    anchor = 23011.0
    dates = [anchor - 2, anchor - 1, anchor, anchor + 1, anchor + 62]
    assert compute_dy(dates, [anchor] * 5).tolist() == [-2, -1, 1, 2, 63]
    df = pd.DataFrame({"ADT": dates, "TRTSDT": anchor})
    assert derive_vars_dy(df, "TRTSDT", ["ADT"]).ADY.tolist() == [-2, -1, 1, 2, 63]
    assert derive_vars_dy(df, "TRTSDT", {"ASTDY": "ADT"}).ASTDY.tolist()[2] == 1


def test_duration_counts_both_days():
    df = pd.DataFrame({"S": [10.0, 20.0, None], "E": [19.0, 20.0, 5.0]})
    assert derive_var_duration(df, "D", "S", "E").D.tolist()[:2] == [10.0, 1.0]
