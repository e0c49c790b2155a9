import pandas as pd
import pytest

from adam.derive import (derive_basetype_records, derive_var_ablfl, derive_var_anrind, derive_var_base,
                         derive_var_bnrind, derive_var_chg, derive_var_extreme_flag, derive_var_pchg)
from specs.errors import DataError

BY = ["USUBJID", "PARAMCD", "BASETYPE"]


def _tregs():
    # one subject, Tregs (% of CD4+) at D1, D63, D67, M3; first ciclosporin dose on day 1 (date 100),
    # first ILT-101 dose on day 63 (date 162) after the D63 sample
    return pd.DataFrame({"USUBJID": "S1", "PARAMCD": "TLHRTLH", "AVISITN": [1.0, 63.0, 67.0, 88.0],
                         "ADT": [100.0, 162.0, 166.0, 187.0], "AVAL": [5.0, 4.0, 6.0, 5.5],
                         "PRETRTFL": ["Y", "N", "N", "N"], "PREIL2FL": ["Y", "Y", "N", "N"]})


DEFINITIONS = [
    {"basetype": "PRE-TREATMENT", "where": "PRETRTFL == 'Y' and AVAL is not empty", "mode": "last"},
    {"basetype": "POST-CICLOSPORIN D63", "where": "AVISITN == 63 and PREIL2FL == 'Y'", "mode": "last"},
]


def _derived():
    df = derive_basetype_records(_tregs(), [{"basetype": "PRE-TREATMENT", "where": "PARAMCD == 'TLHRTLH'"},
                                            {"basetype": "POST-CICLOSPORIN D63", "where": "PARAMCD == 'TLHRTLH'"}])
    df = derive_var_ablfl(df, BY, ["ADT"], DEFINITIONS)
    df = derive_var_base(df, BY)
    df = derive_var_chg(df, BY, ["ADT"])
    return derive_var_pchg(df, BY, ["ADT"])


def test_two_baselines_and_d67_vs_d63():
    df = _derived()
    assert len(df) == 8
    d63 = df[df.BASETYPE == "POST-CICLOSPORIN D63"].set_index("AVISITN")
    pre = df[df.BASETYPE == "PRE-TREATMENT"].set_index("AVISITN")
    assert pre.ABLFL.eq("Y").fillna(False).tolist() == [True, False, False, False]
    assert d63.ABLFL.eq("Y").fillna(False).tolist() == [False, True, False, False]
    # primary endpoint: D67 (6.0 %) against D63 (4.0 %): CHG 2.0, PCHG 50 %
    assert d63.loc[67, "CHG"] == 2.0 and d63.loc[67, "PCHG"] == 50.0
    assert pre.loc[67, "CHG"] == 1.0 and pre.loc[67, "PCHG"] == 20.0


def test_chg_empty_on_baseline_and_pre_baseline():
    df = _derived()
    d63 = df[df.BASETYPE == "POST-CICLOSPORIN D63"].set_index("AVISITN")
    assert d63.loc[[1.0, 63.0], ["CHG", "PCHG"]].isna().all().all()   # D1 is pre-baseline, D63 baseline
    assert d63.loc[1.0, "BASE"] == 4.0                               # BASE is on every record
    pre = df[df.BASETYPE == "PRE-TREATMENT"].set_index("AVISITN")
    assert pre.loc[[1.0], ["CHG", "PCHG"]].isna().all().all()


def test_records_without_basetype_and_pchg_zero_base():
    df = pd.DataFrame({"USUBJID": "S1", "PARAMCD": "X", "ADT": [1.0, 2.0], "AVAL": [0.0, 3.0], "PRETRTFL": ["Y", "N"]})
    df = derive_var_ablfl(df, ["USUBJID", "PARAMCD"], ["ADT"], [{"where": "PRETRTFL == 'Y'"}])
    df = derive_var_pchg(derive_var_chg(derive_var_base(df, ["USUBJID", "PARAMCD"]), ["USUBJID", "PARAMCD"]),
                         ["USUBJID", "PARAMCD"])
    assert df.CHG.tolist()[1] == 3.0 and df.PCHG.isna().all()


def test_extreme_flag_first_last():
    df = pd.DataFrame({"USUBJID": ["A", "A", "B"], "ADT": [2.0, 1.0, 5.0]})
    assert derive_var_extreme_flag(df, ["USUBJID"], ["ADT"], "F", "last").F.tolist()[:1] == ["Y"]
    assert derive_var_extreme_flag(df, ["USUBJID"], ["ADT"], "F", "first").F.tolist()[1:] == ["Y", "Y"]


def test_two_baseline_records_rejected():
    df = pd.DataFrame({"USUBJID": "S1", "PARAMCD": "X", "AVAL": [1.0, 2.0], "ABLFL": ["Y", "Y"]})
    with pytest.raises(DataError, match="does not identify one record"):
        derive_var_base(df, ["USUBJID", "PARAMCD"])


def test_anrind_bnrind():
    df = pd.DataFrame({"USUBJID": "S1", "PARAMCD": "ALT", "AVAL": [5.0, 30.0, 60.0, None],
                       "ANRLO": [10.0, 10.0, 10.0, 10.0], "ANRHI": [40.0, 40.0, None, 40.0],
                       "ABLFL": ["Y", None, None, None]})
    out = derive_var_bnrind(derive_var_anrind(df), ["USUBJID", "PARAMCD"])
    assert out.ANRIND.tolist()[:3] == ["LOW", "NORMAL", "NORMAL"] and pd.isna(out.ANRIND.iloc[3])
    assert out.BNRIND.tolist() == ["LOW"] * 4


def test_pchg_rounded():
    # 3 -> 2: -33.333...% -> -33.33; 3 -> 4: 33.33; CHG itself is not rounded unless asked
    df = pd.DataFrame({"USUBJID": "S1", "PARAMCD": "X", "ADT": [1.0, 2.0, 3.0], "AVAL": [3.0, 2.0, 4.0],
                       "ABLFL": ["Y", None, None], "BASE": 3.0})
    out = derive_var_pchg(df, ["USUBJID", "PARAMCD"], ["ADT"], digits=2)
    assert out.PCHG.tolist()[1:] == [-33.33, 33.33]
    assert derive_var_chg(df.assign(AVAL=[3.0, 2.9, 3.1]), ["USUBJID", "PARAMCD"], digits=1).CHG.tolist()[1:] == [-0.1, 0.1]
