import numpy as np
import pandas as pd

from adam.derive.text import text_choice, text_select, text_where


def _plain(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


def test_choice_takes_each_record_from_the_distinct_values():
    out = text_choice(["LOW", "HIGH", None], [1, 0, 2, 1], pd.RangeIndex(10, 14))
    assert _plain(out) == ["HIGH", "LOW", None, "HIGH"]
    assert out.dtype == "string" and out.index.tolist() == [10, 11, 12, 13]


def test_choice_of_minus_one_is_the_last_value():
    # pandas.factorize codes a missing value -1: callers append None as the last value for it
    assert _plain(text_choice(["A", None], np.array([-1, 0]), pd.RangeIndex(2))) == [None, "A"]


def test_where_blank_false_value_is_missing():
    mask = np.array([True, False, True])
    assert _plain(text_where(mask, "Y", "N", pd.RangeIndex(3))) == ["Y", "N", "Y"]
    assert _plain(text_where(mask, "Y", None, pd.RangeIndex(3))) == ["Y", None, "Y"]
    assert _plain(text_where(mask, "Y", "", pd.RangeIndex(3))) == ["Y", None, "Y"]


def test_select_first_condition_met_wins():
    low = np.array([True, False, False, True])
    high = np.array([False, True, False, True])  # record 3 meets both: LOW, the first
    out = text_select([low, high], ["LOW", "HIGH"], "", pd.RangeIndex(4))
    assert _plain(out) == ["LOW", "HIGH", None, "LOW"]
