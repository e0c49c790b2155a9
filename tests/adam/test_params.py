"""Hand-worked AUC, computed parameters and IDAA1c."""
import math

import numpy as np
import pandas as pd
import pytest

from adam.derive import compute_auc, derive_param_auc, derive_param_computed, get_summary_records
from adam.derive.params import resolve_blq
from specs.errors import DataError, SpecError

TIMES = [0, 15, 30, 60, 90, 120]
VALUES = [0.20, 0.45, 0.60, 0.70, 0.65, 0.55]


def test_auc_worked_example():
    # 15*(0.20+0.45)/2 + 15*(0.45+0.60)/2 + 30*(0.60+0.70)/2 + 30*(0.70+0.65)/2 + 30*(0.65+0.55)/2
    # = 4.875 + 7.875 + 19.5 + 20.25 + 18 = 70.5
    assert compute_auc(TIMES, VALUES) == pytest.approx(70.5)
    assert compute_auc(TIMES, VALUES) / 120 == pytest.approx(0.5875)


def test_missing_point_rule_a_gives_missing():
    values = [0.20, 0.45, np.nan, 0.70, 0.65, 0.55]
    assert math.isnan(compute_auc(TIMES, values, missing="none"))


def test_missing_point_rule_b_joins_neighbours():
    # 30 min missing: the line from 15 (0.45) to 60 (0.70) over 45 min: 45*(0.45+0.70)/2 = 25.875
    # AUC = 4.875 + 25.875 + 20.25 + 18 = 69.0
    values = [0.20, 0.45, np.nan, 0.70, 0.65, 0.55]
    assert compute_auc(TIMES, values, missing="interpolate") == pytest.approx(69.0)


@pytest.mark.parametrize("values", [
    [np.nan, 0.45, 0.60, 0.70, 0.65, 0.55],       # time 0 is never interpolated
    [0.20, 0.45, 0.60, 0.70, 0.65, np.nan],       # nor 120
    [0.20, np.nan, np.nan, 0.70, 0.65, 0.55],     # nor consecutive gaps
    [0.20, np.nan, 0.60, np.nan, 0.65, 0.55],     # only one gap is bridged
])
def test_rule_b_refuses(values):
    assert math.isnan(compute_auc(TIMES, values, missing="interpolate"))


def test_blq_rules():
    values = pd.Series([np.nan, 0.3, np.nan])
    text = pd.Series(["<0.02", "0.3", None])
    assert resolve_blq(values, text, "half").tolist()[:2] == [0.01, 0.3]
    assert resolve_blq(values, text, "lloq").tolist()[0] == 0.02
    assert resolve_blq(values, text, "zero").tolist()[0] == 0.0
    assert math.isnan(resolve_blq(values, text, "missing").tolist()[0])
    assert math.isnan(resolve_blq(values, text, "half").tolist()[2])  # not done stays missing


def test_blq_only_where_the_value_is_missing():
    # a value wins over a "<x" text; the records keep their own index
    values = pd.Series([0.5, np.nan, np.nan], index=[7, 3, 5])
    text = pd.Series(["<0.02", "<0.04", "<0.04"], index=[7, 3, 5])
    out = resolve_blq(values, text, "half")
    assert out.index.tolist() == [7, 3, 5] and out.tolist() == [0.5, 0.02, 0.02]


def _mmtt(values, subject="S1", visit=179, seq0=10, text=None):
    n = len(values)
    return pd.DataFrame({
        "USUBJID": [subject] * n, "AVISITN": [visit] * n, "ADT": [23000.0] * n,
        "PARAMCD": ["CPEPTIDE"] * n, "ATPTN": TIMES[:n], "AVAL": values,
        "AVALC": text or [None if pd.isna(v) else str(v) for v in values],
        "SRCSEQ": [float(seq0 + i) for i in range(n)]})


def test_derive_param_auc_adds_one_row_per_visit_with_sources():
    data = pd.concat([_mmtt(VALUES), _mmtt([0.1] * 6, visit=361, seq0=20)], ignore_index=True)
    out = derive_param_auc(data, ["USUBJID", "AVISITN"], "CPEPTIDE",
                           {"PARAMCD": "CPAUC", "PARAM": "C-peptide AUC 0-120 min (nmol/L*min)"},
                           TIMES, keep_vars=["ADT"], new_seq_list_var="SRCSEQL")
    auc = out[out.PARAMCD == "CPAUC"].set_index("AVISITN")
    assert auc.loc[179, "AVAL"] == pytest.approx(70.5)
    assert auc.loc[361, "AVAL"] == pytest.approx(12.0)
    assert auc.loc[179, "SRCSEQL"] == "10 11 12 13 14 15"
    assert auc.loc[179, "ADT"] == 23000.0
    assert len(out) == 14


def test_derive_param_auc_blq_half_lloq():
    values = [np.nan, 0.45, 0.60, 0.70, 0.65, 0.55]
    data = _mmtt(values, text=["<0.40", "0.45", "0.6", "0.7", "0.65", "0.55"])
    out = derive_param_auc(data, ["USUBJID", "AVISITN"], "CPEPTIDE", {"PARAMCD": "CPAUC"}, TIMES, blq="half")
    # time 0 becomes 0.20: the worked example again
    assert out.loc[out.PARAMCD == "CPAUC", "AVAL"].item() == pytest.approx(70.5)


def test_derive_param_auc_missing_time_point_row_absent():
    data = _mmtt(VALUES).drop(index=2)  # 30 min not drawn at all
    a = derive_param_auc(data, ["USUBJID"], "CPEPTIDE", {"PARAMCD": "CPAUC"}, TIMES, missing="none")
    b = derive_param_auc(data, ["USUBJID"], "CPEPTIDE", {"PARAMCD": "CPAUC"}, TIMES, missing="interpolate")
    assert math.isnan(a.loc[a.PARAMCD == "CPAUC", "AVAL"].item())
    assert b.loc[b.PARAMCD == "CPAUC", "AVAL"].item() == pytest.approx(69.0)


def test_derive_param_auc_two_records_at_one_time_point():
    data = pd.concat([_mmtt(VALUES), _mmtt(VALUES).head(1)], ignore_index=True)
    with pytest.raises(DataError, match="sharing a time point"):
        derive_param_auc(data, ["USUBJID", "AVISITN"], "CPEPTIDE", {"PARAMCD": "CPAUC"}, TIMES)


def test_idaa1c_worked_example():
    data = pd.DataFrame({"USUBJID": ["S1", "S1", "S2"], "AVISITN": [88, 88, 88],
                         "PARAMCD": ["HBA1C", "INSDOSE", "HBA1C"], "AVAL": [6.8, 0.40, 7.0],
                         "ADT": [100.0, 99.0, 100.0]})
    out = derive_param_computed(data, by_vars=["USUBJID", "AVISITN"], parameters=["HBA1C", "INSDOSE"],
                                set_values_to={"PARAMCD": "IDAA1C"},
                                formula={"type": "linear", "terms": {"HBA1C": 1, "INSDOSE": 4}},
                                keep_from="HBA1C", keep_vars=["ADT"])
    new = out[out.PARAMCD == "IDAA1C"]
    assert len(new) == 1  # S2 has no insulin record: no IDAA1c
    assert new.AVAL.item() == pytest.approx(8.4)
    assert new.ADT.item() == 100.0


def test_ratio_from_dataset_add_and_unknown_operand():
    add = pd.DataFrame({"USUBJID": ["S1", "S1"], "VISITNUM": [5, 5], "PARAMCD": ["INSTOT", "WEIGHT"],
                        "AVAL": [24.0, 60.0]})
    base = pd.DataFrame({"USUBJID": [], "VISITNUM": [], "PARAMCD": [], "AVAL": []})
    out = derive_param_computed(base, add, ["USUBJID", "VISITNUM"], ["INSTOT", "WEIGHT"], {"PARAMCD": "INSDOSE"},
                                {"type": "ratio", "numerator": "INSTOT", "denominator": "WEIGHT"})
    assert out.AVAL.tolist() == [pytest.approx(0.4)] and out.PARAMCD.tolist() == ["INSDOSE"]
    with pytest.raises(SpecError, match="'HBA1C' is not one of the parameters"):
        derive_param_computed(base, add, ["USUBJID", "VISITNUM"], ["INSTOT", "WEIGHT"], {"PARAMCD": "X"},
                              {"type": "ratio", "numerator": "HBA1C", "denominator": "WEIGHT"})


def test_summary_records_mean_of_diary_days():
    cm = pd.DataFrame({"USUBJID": ["S1"] * 3 + ["S2"], "VISITNUM": [5, 5, 5, 5],
                       "CMDOSE": [20, 22, 27, 30], "ADT": [1.0, 2.0, 3.0, 3.0]})
    out = get_summary_records(cm, ["USUBJID", "VISITNUM"],
                              {"AVAL": {"var": "CMDOSE", "fun": "mean"}, "ADT": {"var": "ADT", "fun": "max"},
                               "NDAYS": {"fun": "count"}}, {"PARAMCD": "INSTOT"})
    assert out.AVAL.tolist() == [23.0, 30.0] and out.ADT.tolist() == [3.0, 3.0] and out.NDAYS.tolist() == [3, 1]


def test_blq_imputed_with_dtype():
    from adam.derive import derive_vars_blq

    df = pd.DataFrame({"AVAL": [np.nan, 0.3, np.nan, np.nan, np.nan], "AVALC": ["<0.02", "0.3", "<0.02", None, "<0.02"],
                       "LLOQ": [None, None, 0.03, None, None], "PARAMCD": ["C", "C", "C", "C", "X"]})
    out = derive_vars_blq(df, "half", lloq_var="LLOQ", where="PARAMCD == 'C'")
    # "<0.02" -> 0.01; the LLOQ variable wins over the text (0.03 -> 0.015); not done stays missing;
    # a record outside `where` is left alone
    assert out.AVAL.tolist()[:3] == [0.01, 0.3, 0.015] and out.AVAL.isna().tolist()[3:] == [True, True]
    assert [None if pd.isna(v) else v for v in out.DTYPE] == ["HALFLLOQ", None, "HALFLLOQ", None, None]
    assert derive_vars_blq(df, "lloq").AVAL.tolist()[0] == 0.02 and derive_vars_blq(df, "lloq").DTYPE[0] == "LLOQ"
    with pytest.raises(SpecError, match="'rule'"):
        derive_vars_blq(df, "zero")


def test_log_of_auc_mean_plus_one():
    data = pd.DataFrame({"USUBJID": ["S1", "S2"], "AVISITN": [1, 1], "PARAMCD": ["CPAUCM", "CPAUCM"],
                         "AVAL": [0.5875, np.nan]})
    out = derive_param_computed(data, by_vars=["USUBJID", "AVISITN"], parameters=["CPAUCM"],
                                set_values_to={"PARAMCD": "LCPAUCM"},
                                formula={"type": "log", "argument": "CPAUCM", "offset": 1})
    new = out[out.PARAMCD == "LCPAUCM"].AVAL.tolist()
    assert new[0] == pytest.approx(0.462160, abs=1e-6) and math.isnan(new[1])  # ln(1.5875)
    with pytest.raises(SpecError, match="'formula.argument' must be one of the parameters"):
        derive_param_computed(data, by_vars=["USUBJID"], parameters=["CPAUCM"], set_values_to={"PARAMCD": "L"},
                              formula={"type": "log", "argument": 2})


def test_seq_list_joins_each_groups_sorted_numbers():
    from adam.derive.params import seq_list

    out = seq_list(pd.Series([3, 1, 2.5, np.nan, 7, 10, 2]), np.array([1, 1, 0, 0, 3, 1, 5]))
    assert out.to_dict() == {0: "2.5", 1: "1 3 10", 3: "7", 5: "2"}  # group 0's NaN is left out
    assert seq_list(pd.Series([np.nan]), np.array([0])).empty
