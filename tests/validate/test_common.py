"""The helpers rules share: per-distinct-value evaluation, byte lengths, ASCII."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from validate.rules.common import byte_lengths, factorize, not_ascii, per_unique

TEXT_TYPES = ["str", object, pd.StringDtype("python", na_value=np.nan)]


@pytest.mark.parametrize("dtype", TEXT_TYPES)
def test_byte_lengths_count_utf8_bytes_and_not_ascii_flags_accents(dtype):
    values = pd.Series(["abc", "\u00e9", "x\x7f", "\u65e5\u672c", None], dtype=dtype)
    assert byte_lengths(values)[:4].tolist() == [3.0, 2.0, 2.0, 6.0] and np.isnan(byte_lengths(values)[4])
    assert not_ascii(values).tolist() == [False, True, False, True, False]


def test_per_unique_gives_text_as_pyarrow_text_and_spreads_results_back():
    seen = []
    values = pd.Series(["b", "a", None, "b"], dtype="str")

    def upper(u):
        seen.append(u.dtype)
        return u.str.upper().to_numpy(dtype=object)

    assert per_unique(values, upper, fill=None).tolist() == ["B", "A", None, "B"]
    assert seen == [values.dtype]
    assert per_unique(pd.Series([2.0, np.nan, 2.0]), lambda u: u.to_numpy() * 2).tolist()[::2] == [4.0, 4.0]


def test_a_text_column_is_factorized_once_while_its_array_lives():
    values = pd.Series(["x", "y", "x"], dtype="str")
    first, second = factorize(values), factorize(values)
    assert first[0] is second[0] and first[0].tolist() == [0, 1, 0]
    assert factorize(values.copy())[0] is not first[0]


def test_duplicated_rows_equals_pandas_duplicated_with_missing_numbers_and_signed_zero():
    from validate.rules.common import duplicated_rows

    codes = np.array([0, 1, 0, 2, 0, -1, -1])
    numbers = np.array([1.0, np.nan, 1.0, -0.0, 1.5, np.nan, np.nan])
    expected = pd.DataFrame({"c": codes, "n": numbers}).duplicated(keep=False).tolist()
    assert duplicated_rows([codes, numbers]).tolist() == expected == [True, False, True, False, False, True, True]
    assert duplicated_rows([np.array([3])]).tolist() == [False]


@pytest.mark.parametrize("dtype", TEXT_TYPES)
def test_iso_dates_single_values_intervals_and_durations_and_their_date_parts(dtype):
    from validate.rules.common import date_days, iso_valid

    values = pd.Series(["2024-01-01", "2024-02-30", "2024-01-01T10:00", "2024---15", "2024-01-01/P2D", "P2D/2024-01-01",
                        "PT", "2024-01-", "2024-01-01T-:15", "2024-01-01T25:00", "x"], dtype=dtype)
    assert iso_valid(values).tolist() == [True, False, True, True, True, True, False, False, True, False, False]
    days = date_days(values)
    assert days[[0, 2]].tolist() == [23376.0, 23376.0] and np.isnan(days[[1, 3, 4, 5]]).all()


def test_row_groups_and_rows_in_treat_a_missing_value_as_a_value_of_its_own():
    from validate.rules.common import row_groups, rows_in

    text = pd.Series(["x", "y", "x", None], dtype="str")
    numbers = pd.Series([1.0, 1.0, 1.0, np.nan])
    ids, first = row_groups([text, numbers])
    assert ids.tolist() == [0, 1, 0, 2] and first.tolist() == [0, 1, 3]
    known = [pd.Series(["x", None], dtype="str"), pd.Series([1.0, np.nan])]
    assert rows_in([text, numbers], known).tolist() == [True, False, True, True]


def test_baseline_aval_is_the_first_flagged_record_of_the_group_and_missing_keys_group_together():
    from validate.rules.adam import _baseline_aval

    df = pd.DataFrame({"USUBJID": pd.Series(["a", "a", "a", "b", "b", None, None], dtype="str"),
                       "PARAMCD": pd.Series(["P"] * 7, dtype="str"),
                       "ABLFL": pd.Series(["Y", None, "Y", None, "Y", "Y", None], dtype="str"),
                       "AVAL": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    assert _baseline_aval(df).tolist() == [1.0, 1.0, 1.0, 5.0, 5.0, 6.0, 6.0]


def test_repeated_records_are_pandas_duplicated_whatever_the_columns():
    from validate.rules.common import repeated_records

    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame({
        "USUBJID": pd.array(rng.choice(["S1", "S2", None], n), dtype="str"),
        "X": rng.choice([0.0, -0.0, 1.5, np.nan], n),
        "TERM": pd.array(rng.choice(["a", "b", "", None], n), dtype="str"),
        "Y": rng.choice([1.0, 2.0], n),
        "CODE": pd.array(rng.choice(["p", "q"], n), dtype=object),
        "STUDYID": pd.array(["ST"] * n, dtype="str"),  # one value: cannot tell rows apart
        "NONE": pd.array([None] * n, dtype="str"),
        "NUMTEXT": pd.array(rng.choice(["1", "2"], n), dtype=object),  # text in a column not listed as text
    })
    text = {"USUBJID", "TERM", "CODE", "STUDYID", "NONE"}
    for columns in (["USUBJID", "X", "TERM", "Y", "CODE"], ["TERM"], ["X", "Y"], ["CODE", "USUBJID"],
                    ["STUDYID", "NONE", "TERM", "NUMTEXT"], ["STUDYID", "NONE"]):
        expected = df.duplicated(columns, keep=False).to_numpy()
        assert repeated_records(df, columns, text).tolist() == expected.tolist()
    assert not repeated_records(df.iloc[:1], ["X"], set()).any()


def test_the_usual_unit_of_a_test_is_the_most_frequent_and_the_first_seen_on_a_tie():
    from validate.rules.values import _usual_codes

    df = pd.DataFrame({"LBTESTCD": pd.array(["GLUC", "GLUC", "GLUC", "GLUC", "K", "K", None, None], dtype="str"),
                       "LBSTRESU": pd.array(["mmol/L", "mg/dL", "mg/dL", "mmol/L", None, "mmol/L", "g", "g"],
                                            dtype="str")})
    codes, best, uniques = _usual_codes(df, ["LBTESTCD"], "LBSTRESU")
    assert ((codes >= 0) & (codes != best)).tolist() == [False, True, True, False, False, False, False, False]
    assert [uniques[b] for b in best] == ["mmol/L"] * 6 + ["g", "g"]
    assert _usual_codes(df.assign(LBSTRESU=pd.array([None] * 8, dtype="str")), ["LBTESTCD"], "LBSTRESU") is None
    # the same as counting with pandas' groupby and merging back, on random data with nulls in the keys
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"T": pd.array(rng.choice(["A", "B", "C", None], 300), dtype="str"),
                       "S": pd.array(rng.choice(["x", None], 300), dtype="str"),
                       "U": pd.array(rng.choice(["u", "v", "w", None], 300), dtype="str")})
    counts = df.dropna(subset=["U"]).groupby(["T", "S", "U"], dropna=False, sort=False).size().rename("n").reset_index()
    usual = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates(["T", "S"]).drop(columns="n")
    merged = df.merge(usual.rename(columns={"U": "_usual"}), on=["T", "S"], how="left")
    codes, best, uniques = _usual_codes(df, ["T", "S"], "U")
    expected = (merged["U"].notna() & (merged["U"] != merged["_usual"])).to_numpy(dtype=bool)
    assert ((codes >= 0) & (codes != best)).tolist() == expected.tolist()
    shown = best >= 0
    assert np.asarray(uniques.take(best[shown]), dtype=object).tolist() == merged["_usual"][shown].tolist()


def test_row_groups_number_combinations_in_order_of_first_appearance_also_past_64_bits():
    from validate.rules.common import row_groups

    rng = np.random.default_rng(5)
    df = pd.DataFrame({f"C{i}": pd.array(rng.choice(["a", "b", None], 60), dtype="str") for i in range(45)})
    columns = [df[c] for c in df.columns]  # 3 values each: 3**45 combinations do not fit in 64 bits
    ids, first = row_groups(columns)
    assert ids.tolist() == df.groupby(list(df.columns), dropna=False, sort=False).ngroup().tolist()
    assert first.tolist() == [ids.tolist().index(i) for i in range(ids.max() + 1)]
    again, _ = row_groups([df[c] for c in df.columns])
    assert again is ids  # the same column arrays: computed once


def test_per_unique_gives_a_null_the_fill_value():
    values = pd.Series(["b", None, "a", None], dtype="str")
    assert per_unique(values, lambda u: (u == "a").to_numpy()).tolist() == [False, False, True, False]
    assert per_unique(values, lambda u: np.where(u == "a", 1.0, 2.0), fill=-1.0).tolist() == [2.0, -1.0, 1.0, -1.0]
    assert np.isnan(per_unique(pd.Series([None, None], dtype="str"), lambda u: np.ones(len(u)))).all()
    assert per_unique(pd.Series([], dtype="str"), lambda u: np.ones(len(u), dtype=bool)).tolist() == []
