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


def test_sorted_positions_is_the_stable_sort_with_missing_values_first_or_last():
    from sdtm.unique import sorted_positions

    data = pd.DataFrame({"USUBJID": pd.Series(["S2", "S1", "S2", None, "S1"], dtype=object),
                         "DAY": [2.0, np.nan, 1.0, 1.0, 3.0],
                         "TEXT": pd.array(["b", "a", None, "a", "a"], dtype="str")})
    assert sorted_positions(data, ["USUBJID", "DAY"]).tolist() == [4, 1, 2, 0, 3]
    assert sorted_positions(data, ["USUBJID", "DAY"], "first").tolist() == [3, 1, 4, 2, 0]
    assert sorted_positions(data, ["TEXT"]).tolist() == [1, 3, 4, 0, 2]  # ties keep their order
    for keys in (["USUBJID", "DAY"], ["TEXT", "DAY"], ["DAY"]):
        for na in ("first", "last"):
            expected = data.sort_values(keys, kind="mergesort", na_position=na).index.tolist()
            assert sorted_positions(data, keys, na).tolist() == expected
    mixed = pd.DataFrame({"X": pd.Series(["a", 1], dtype=object)})
    assert sorted_positions(mixed, ["X"]) is None  # neither text nor numbers: the caller sorts with pandas


def test_factorize_of_long_object_columns_is_pandas_factorize():
    """Numbered by the objects' identity first: the same codes and distinct values as pd.factorize, whether
    the text is shared objects or not, missing values of every kind included (with and without -1)."""
    from sdtm.unique import factorize

    rng = np.random.default_rng(7)
    pool = np.array(["a", "b", "", None, np.nan, float("nan"), "c", 1, 1.0], dtype=object)
    shared = pool[rng.integers(0, len(pool), 10_000)]
    unshared = np.array(["".join(["x", str(i % 50)]) for i in range(10_000)], dtype=object)
    for values in (pd.Series(shared, dtype=object), shared, pd.Series(unshared, dtype=object),
                   pd.DataFrame({"a": shared, "b": shared[::-1]})["b"]):
        for sentinel in (True, False):
            codes, uniques = factorize(values, use_na_sentinel=sentinel)
            expected_codes, expected = pd.factorize(values, use_na_sentinel=sentinel)
            assert codes.tolist() == expected_codes.tolist()
            assert [None if pd.isna(v) else v for v in np.asarray(uniques, dtype=object)] == \
                [None if pd.isna(v) else v for v in np.asarray(expected, dtype=object)]


def test_factorize_of_arrow_text_numbers_it_in_arrow(monkeypatch):
    """A pyarrow text column (the raw tables, as read) is numbered by pandas in Arrow: never turned into a
    Python string per record first; the same codes and distinct values, missing values -1 or a value."""
    from pandas.core.arrays.string_arrow import ArrowStringArray

    from sdtm.unique import factorize

    values = pd.Series(["b", "a", None, "b"] * 2000, dtype="str")  # long enough for the identity route

    to_numpy = ArrowStringArray.to_numpy

    def refused(self, *args, **kwargs):
        assert len(self) < 10, "a Python string per record"
        return to_numpy(self, *args, **kwargs)

    monkeypatch.setattr(ArrowStringArray, "to_numpy", refused)
    codes, uniques = factorize(values)
    assert codes[:4].tolist() == [0, 1, -1, 0] and len(codes) == 8000
    assert list(np.asarray(uniques, dtype=object)) == ["b", "a"]
    codes, uniques = factorize(values, use_na_sentinel=False)
    assert codes[:4].tolist() == [0, 1, 2, 0] and len(uniques) == 3


def test_sorted_positions_of_long_object_text_is_the_stable_sort():
    # (5,000 records: the text numbered by its objects first, its distinct values then sorted)
    from sdtm.unique import sorted_positions

    rng = np.random.default_rng(3)
    pool = np.array(["S10", "S2", "S1", None, "", "é", "S1"], dtype=object)
    data = pd.DataFrame({"USUBJID": pd.Series(pool[rng.integers(0, len(pool), 5000)], dtype=object),
                         "SEQ": rng.integers(0, 4, 5000).astype(float)})
    for na in ("first", "last"):
        expected = data.sort_values(["USUBJID", "SEQ"], kind="mergesort", na_position=na).index.tolist()
        assert sorted_positions(data, ["USUBJID", "SEQ"], na).tolist() == expected
    small = pd.DataFrame({"X": pd.Series(["b", None, "a", "b"] * 1250, dtype=object)})
    assert sorted_positions(small, ["X"])[:3].tolist() == [2, 6, 10]  # 'a' rows in record order, then 'b', None


def test_taken_keeps_type_and_name():
    from sdtm.unique import taken

    text = pd.Series(["a", "b"], dtype=object, name="X")  # object text stays object (not pandas' str type)
    out = taken(text, np.array([1, 0, 1]), pd.Index([7, 8, 9]))
    assert out.dtype == object and out.name == "X" and out.tolist() == ["b", "a", "b"]
    assert out.index.tolist() == [7, 8, 9]
    days = taken(pd.Series([1.5, None], dtype="Float64"), np.array([1, 1]))
    assert str(days.dtype) == "Float64" and days.isna().all() and days.index.tolist() == [0, 1]


def test_text_is_compares_as_pandas_does():
    from sdtm.unique import text_is

    text = pd.Series(["", "NOT DONE", "x", "NOT DONE"], index=[4, 5, 6, 7], dtype=object, name="LBSTAT")
    out = text_is(text, "NOT DONE")
    assert out.tolist() == [False, True, False, True] and out.index.tolist() == [4, 5, 6, 7]
    assert out.dtype == bool and out.name == "LBSTAT"
    assert (~text_is(text, "")).tolist() == [False, True, True, True]
    missing = pd.Series([None, np.nan, "a"], dtype=object)  # a missing value equals nothing, as in pandas
    assert text_is(missing, "a").tolist() == [False, False, True] == (missing == "a").tolist()
    arrow = pd.Series(["a", None], dtype="str")  # not object: pandas' own comparison
    assert text_is(arrow, "a").tolist() == [True, False]


def test_key_ranks_number_each_key_by_its_sorted_distinct_values():
    from sdtm.unique import key_ranks

    data = pd.DataFrame({"USUBJID": pd.Series(["S2", None, "S1", "S2"], dtype=object), "DAY": [3.0, 1.0, np.nan, 1.0]})
    subjects, days = key_ranks(data, ["USUBJID", "DAY"])  # missing: after the last value
    assert subjects.tolist() == [1, 2, 0, 1] and days.tolist() == [1, 0, 2, 0]
    subjects, days = key_ranks(data, ["USUBJID", "DAY"], "first")
    assert subjects.tolist() == [1, -1, 0, 1] and days.tolist() == [1, 0, -1, 0]
    assert key_ranks(pd.DataFrame({"F": [True, False]}), ["F"]) is None
