import pandas as pd
import pytest

from adam.derive import (derive_var_anl_flag, derive_var_compare_flag, derive_var_cond_flag,
                         derive_var_crit_flag, derive_vars_cat, derive_vars_visit_windows)
from specs.errors import SpecError

WINDOWS = [
    {"avisit": "DAY 63", "avisitn": 63, "target": 63, "low": 60, "high": 65},
    {"avisit": "DAY 67", "avisitn": 67, "target": 67, "low": 66, "high": 70},
    {"avisit": "MONTH 3", "avisitn": 88, "target": 88, "low": 75, "high": 134},
]


def test_windows_assign_and_leave_out():
    df = pd.DataFrame({"ADY": [60, 65, 66, 71, 88, None]})
    out = derive_vars_visit_windows(df, WINDOWS)
    assert out.AVISIT.tolist()[:3] == ["DAY 63", "DAY 63", "DAY 67"]
    assert pd.isna(out.AVISIT.iloc[3]) and pd.isna(out.AVISITN.iloc[5])
    assert out.AVISITN.tolist()[4] == 88 and out.AWLO.tolist()[4] == 75 and out.AWTARGET.tolist()[2] == 67


def test_overlapping_windows_refused():
    bad = WINDOWS + [{"avisit": "X", "avisitn": 1, "target": 70, "low": 70, "high": 72}]
    with pytest.raises(SpecError, match="'DAY 67' \\[66, 70\\] overlaps 'X'"):
        derive_vars_visit_windows(pd.DataFrame({"ADY": [1]}), bad)


def _two_in_window():
    # M3 target 88: days 80 and 96 are both 8 days away; day 120 is farther
    return pd.DataFrame({"USUBJID": "S1", "PARAMCD": "HBA1C", "ADY": [80, 96, 120], "AWTARGET": 88.0,
                         "AVISITN": 88.0, "AVAL": [7.0, 8.0, 9.0], "ADT": [1.0, 2.0, 3.0]})


@pytest.mark.parametrize("tie, flagged", [("later", [None, "Y", None]), ("earlier", ["Y", None, None])])
def test_two_records_in_one_window(tie, flagged):
    out = derive_var_anl_flag(_two_in_window(), ["USUBJID", "PARAMCD", "AVISITN"], tie=tie)
    assert [None if pd.isna(v) else v for v in out.ANL01FL] == flagged


@pytest.mark.parametrize("tie, flagged", [("later", [None, None, None, "Y", "Y"]),
                                         ("earlier", ["Y", None, None, "Y", None])])
def test_ties_on_the_same_day_keep_the_last_record(tie, flagged):
    # two windows interleaved; in M3 (target 88) days 80, 96, 96 are all 8 days away: "later" picks
    # day 96 and of its two records the last (row 4), "earlier" day 80; in DAY 63 both records are on
    # the target day, so the last one (row 3) whatever the tie rule
    df = pd.DataFrame({"USUBJID": "S1", "AVISITN": [88.0, 63.0, 88.0, 63.0, 88.0],
                       "ADY": [80, 63, 96, 63, 96], "AWTARGET": [88.0, 63.0, 88.0, 63.0, 88.0]})
    out = derive_var_anl_flag(df, ["USUBJID", "AVISITN"], tie=tie)
    assert [None if pd.isna(v) else v for v in out.ANL01FL] == flagged
    assert out.ANL01FL.dtype == "string"


def test_two_records_in_one_window_mean():
    out = derive_var_anl_flag(_two_in_window(), ["USUBJID", "PARAMCD", "AVISITN"], tie="mean")
    assert len(out) == 4
    avg = out[out.ANL01FL.eq("Y").fillna(False)]
    assert avg.AVAL.item() == 7.5 and avg.DTYPE.item() == "AVERAGE" and pd.isna(avg.ADT.item())


def test_closest_wins_and_no_window_not_flagged():
    df = pd.DataFrame({"USUBJID": "S1", "ADY": [85, 96, 300], "AWTARGET": [88.0, 88.0, None],
                       "AVISITN": [88.0, 88.0, None]})
    out = derive_var_anl_flag(df, ["USUBJID", "AVISITN"])
    assert out.ANL01FL.tolist()[0] == "Y" and out.ANL01FL.isna().tolist()[1:] == [True, True]


def test_cond_compare_cat_crit():
    df = pd.DataFrame({"AGE": [16, 30, None], "ADT": [5.0, 10.0, None], "TRTSDT": [10.0, 5.0, 5.0],
                       "PARAMCD": ["IDAA1C", "IDAA1C", "INSDOSE"], "AVAL": [8.4, 9.2, 0.4]})
    assert derive_var_cond_flag(df, "F", "AGE >= 18").F.tolist() == ["N", "Y", "N"]
    assert derive_var_compare_flag(df, "PRE", "ADT", "<=", "TRTSDT").PRE.tolist() == ["Y", "N", "N"]
    cat = derive_vars_cat(df, [{"where": "AGE < 18", "values": {"AGEGR1": "<18", "AGEGR1N": 1}},
                               {"where": "AGE >= 18", "values": {"AGEGR1": ">=18", "AGEGR1N": 2}}])
    assert cat.AGEGR1.tolist()[:2] == ["<18", ">=18"] and cat.AGEGR1N.tolist()[:2] == [1.0, 2.0]
    assert pd.isna(cat.AGEGR1.iloc[2])
    crit = derive_var_crit_flag(df, "AVAL <= 9", "IDAA1c <= 9", where="PARAMCD == 'IDAA1C'")
    assert crit.CRIT1FL.tolist()[:2] == ["Y", "N"] and pd.isna(crit.CRIT1FL.iloc[2])
    assert crit.CRIT1.tolist()[0] == "IDAA1c <= 9" and pd.isna(crit.CRIT1.iloc[2])
    with pytest.raises(SpecError, match="'op'"):
        derive_var_compare_flag(df, "X", "ADT", "=<", "TRTSDT")
