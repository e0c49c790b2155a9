"""distinct_rows numbers each distinct combination by its first row, a missing value being one value."""
import numpy as np
import pandas as pd

from sdtm.unique import distinct_rows, on_unique


def test_one_column_numbered_by_first_row_missing_values_included():
    codes, first = distinct_rows(pd.Series(["b", None, "a", "b", np.nan, "a"], dtype=object))
    assert codes.tolist() == [0, 1, 2, 0, 1, 2]
    assert first.tolist() == [0, 1, 2]
    codes, first = distinct_rows(pd.Series([2.0, 1.0, np.nan, 1.0]))
    assert codes.tolist() == [0, 1, 2, 1] and first.tolist() == [0, 1, 2]
    codes, first = distinct_rows(pd.array([None, "x", None], dtype="str"))
    assert codes.tolist() == [0, 1, 0] and first.tolist() == [0, 1]
    codes, first = distinct_rows(pd.Series([], dtype=object))
    assert codes.tolist() == [] and first.tolist() == []


def test_several_columns_numbered_by_first_row():
    codes, first = distinct_rows(pd.Series(["a", "a", "b", "a"]), pd.Series([1, 2, 1, 1]))
    assert codes.tolist() == [0, 1, 2, 0] and first.tolist() == [0, 1, 2]


def test_on_unique_calls_once_per_distinct_value_in_first_row_order():
    seen = []

    def upper(values):
        seen.append(values.tolist())
        return values.str.upper()

    out = on_unique(upper, pd.Series(["b", "a", "b"], index=[7, 8, 9], dtype=object))
    assert seen == [["b", "a"]]
    assert out.tolist() == ["B", "A", "B"] and out.index.tolist() == [7, 8, 9]
