"""The spec condition grammar: parsing, canonical text, vectorized evaluation, pinned errors."""
import numpy as np
import pandas as pd
import pytest

from specs.conditions import ConditionError, distinct_codes, parse_condition
from specs.errors import CdiscError


@pytest.fixture
def ae():
    # row 0: serious and hospitalised; 1: serious, blank hospitalisation; 2: not serious; 3: AESER missing
    return pd.DataFrame(
        {
            "AESER": ["Y", "Y", "N", None],
            "AESHOSP": ["Y", "", None, "Y"],
            "AGE": ["34", "unknown", None, "70"],
            "DOSE": [1.0, np.nan, 3.0, 0.5],
        },
        index=[10, 11, 12, 13],
    )


def test_serious_and_hospitalised_on_four_rows(ae):
    condition = parse_condition("AESER == 'Y' and AESHOSP is not empty")
    result = condition.evaluate(ae)
    assert result.tolist() == [True, False, False, False]
    assert result.index.tolist() == [10, 11, 12, 13]
    assert result.dtype == bool
    assert condition.columns == {"AESER", "AESHOSP"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("AESER != 'Y'", [False, False, True, True]),  # missing is not 'Y'
        ('AESER == "N"', [False, False, True, False]),
        ("AESHOSP is empty", [False, True, True, False]),  # "" and None are empty
        ("AESER in ('N', 'U')", [False, False, True, False]),
        ("AESER not in ('Y')", [False, False, True, True]),
        ("not AESER == 'Y'", [False, False, True, True]),
        ("AESER == 'Y' or AESHOSP == 'Y'", [True, True, False, True]),
        ("not (AESER == 'Y' or AESHOSP is empty)", [False, False, False, True]),
        # numbers coerce the column: "unknown" and None are never < or >=, always !=
        ("AGE >= 40", [False, False, False, True]),
        ("AGE < 40", [True, False, False, False]),
        ("AGE <= 34", [True, False, False, False]),
        ("AGE > 34", [False, False, False, True]),
        ("AGE != 34", [False, True, True, True]),
        ("AGE == 34.0", [True, False, False, False]),
        ("DOSE in (1, 3)", [True, False, True, False]),
        ("DOSE not in (1, 3)", [False, True, False, True]),
        ("DOSE < 1", [False, False, False, True]),
        ("DOSE is empty", [False, True, False, False]),
        # a quoted literal compares text (ISO dates order as text)
        ("AGE > '4'", [False, True, False, True]),
    ],
)
def test_operators(ae, text, expected):
    assert parse_condition(text).evaluate(ae).tolist() == expected


def test_and_binds_tighter_than_or():
    df = pd.DataFrame({"A": ["x", "x", "o"], "B": ["y", "o", "o"], "C": ["o", "o", "z"]})
    assert parse_condition("A == 'x' and B == 'y' or C == 'z'").evaluate(df).tolist() == [True, False, True]
    assert parse_condition("A == 'x' and (B == 'y' or C == 'z')").evaluate(df).tolist() == [True, False, False]


def test_blank_text_is_empty_and_matches_nothing():
    df = pd.DataFrame({"X": ["  ", "a"]})
    assert parse_condition("X is empty").evaluate(df).tolist() == [True, False]
    assert parse_condition("X == '  '").evaluate(df).tolist() == [False, False]


def test_keywords_are_case_insensitive_and_canonical_text_is_lowercase():
    condition = parse_condition("AESER=='Y'  AND NOT(AESHOSP IS EMPTY OR AGE IN (1,2,))")
    assert str(condition) == "AESER == 'Y' and not (AESHOSP is empty or AGE in (1, 2))"


@pytest.mark.parametrize(
    "text, canonical",
    [
        ('A == "it\'s"', 'A == "it\'s"'),
        ("A == 'x' or B == 'y' or C is not empty", "A == 'x' or B == 'y' or C is not empty"),
        ("(A == 'x' or B == 'y') and C == 1.5", "(A == 'x' or B == 'y') and C == 1.5"),
        ("((A == 'x'))", "A == 'x'"),
        ("A > -2", "A > -2"),
        ("not not A is empty", "not not A is empty"),
    ],
)
def test_canonical_text_round_trips(text, canonical):
    condition = parse_condition(text)
    assert str(condition) == canonical
    assert parse_condition(str(condition)) == condition


def test_empty_frame_gives_empty_series():
    df = pd.DataFrame({"A": pd.Series([], dtype="string")})
    result = parse_condition("A == 'x' or A is empty").evaluate(df)
    assert result.tolist() == [] and result.dtype == bool


def test_unknown_column_is_named():
    df = pd.DataFrame({"AESER": ["Y"]})
    with pytest.raises(ConditionError) as caught:
        parse_condition("AESER == 'Y' and AESHOSP is not empty").evaluate(df)
    assert str(caught.value) == (
        "column 'AESHOSP' not in the data, in condition: AESER == 'Y' and AESHOSP is not empty"
    )
    assert not isinstance(caught.value, KeyError)


@pytest.mark.parametrize(
    "text, message",
    [
        ("AESER = 'Y'", "unexpected '=' at position 6 in: AESER = 'Y' (use == to compare)"),
        ("AESER == 'Y' xx", "unexpected 'xx' at position 13 in: AESER == 'Y' xx (expected 'and', 'or' or the end)"),
        ("AESER == 'Y", "unterminated string starting at position 9 in: AESER == 'Y"),
        ("AESER ==", "unexpected end of condition at position 8 in: AESER == (expected a column name, a quoted "
                     "text, a number or a function)"),
        ("(A == 1", "unexpected end of condition at position 7 in: (A == 1 (expected ')')"),
        ("A in 1", "unexpected '1' at position 5 in: A in 1 (expected '(')"),
        ("A is not", "unexpected end of condition at position 8 in: A is not (expected 'empty')"),
        ("A in (B)", "unexpected 'B' at position 6 in: A in (B) (expected a quoted text or a number)"),
        ("A", "a condition is expected at position 0 in: A ('A' is a value: compare it, e.g. A == 'Y', or test "
              "it with is empty)"),
        ("A == 'x' + 1 and B", "a condition is expected at position 0 in: A == 'x' + 1 and B ('B' is a value: "
                               "compare it, e.g. B == 'Y', or test it with is empty)"),
        ("upper(A == 'x') == 'X'", "a value is expected at position 6 in: upper(A == 'x') == 'X' ('A == 'x'' is a "
                                   "condition)"),
        ("2ND_DOSE == 'Y'", "unexpected '2ND_DOSE' at position 0 in: 2ND_DOSE == 'Y' (put a column name with "
                            "spaces, dots or a leading digit in backticks: `AE Start Date`, `IT.AETERM`)"),
        ("IT.`AE TERM` == 'x'", "unexpected '`AE TERM`' at position 3 in: IT.`AE TERM` == 'x' (expected a "
                                "variable name after 'IT.' (put a column name with spaces, dots or a leading "
                                "digit in backticks: `AE Start Date`, `IT.AETERM`))"),
        ("`AE Term == 'x'", "unterminated name starting at position 0 in: `AE Term == 'x'"),
        ("A matches '('", "not a regular expression at position 10 in: A matches '(' (missing ), unterminated "
                          "subpattern at position 0)"),
        ("split(A, '-') == 'x'", "split() takes 3 argument(s), not 2, at position 0 in: split(A, '-') == 'x'"),
        ("substr(A, '1') == 'x'", "substr(): argument 2 must be a whole number, at position 10 in: "
                                  "substr(A, '1') == 'x'"),
        ("date(A, 'middle') > '2020'", "date(): argument 2 must be 'first' or 'last', at position 8 in: "
                                       "date(A, 'middle') > '2020'"),
        ("A == 1 @", "unexpected '@' at position 7 in: A == 1 @"),
        ("   ", "empty condition: '   '"),
    ],
)
def test_syntax_errors_are_pinned(text, message):
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, CdiscError)


def test_never_evaluates_python():
    # text that eval() would run is just a syntax error here
    with pytest.raises(ConditionError, match="unknown function '__import__' at position 0 in: "):
        parse_condition("__import__('os').system('true')")
    with pytest.raises(ConditionError, match="unexpected '\\)' at position 6"):
        parse_condition("A == ().__class__")


def test_numbers_as_text_and_blank_text_on_whole_columns():
    from specs.functions import NUMBER, TEXT, Value, _blank, as_text

    numbers = pd.Series([12.0, 2.5, np.nan, -0.0, 1e20, np.inf, 0.1 + 0.2, -3.0])
    assert as_text(Value(NUMBER, numbers)).tolist() == [
        "12", "2.5", None, "0", "100000000000000000000", "inf", "0.30000000000000004", "-3"]
    text = pd.Series([" ", "\u00a0\t", "a", None, np.nan, " x ", "", 1.0], dtype=object)
    assert _blank(text).tolist() == [True, True, False, True, True, False, True, False]
    assert as_text(Value(TEXT, text)).tolist() == [None, None, "a", None, None, " x ", None, 1.0]
    frame = pd.DataFrame({"AVAL": [1.0, np.nan, 0.0], "AVALC": ["1", " ", None]})
    assert parse_condition("AVAL is not empty or AVALC is not empty").evaluate(frame).tolist() == [True, False, True]


@pytest.fixture
def lab():
    # pyarrow text (as raw tables and XPT reads hold it): row 1 blank, row 2 missing, row 3 'CPEP ' (a blank after)
    return pd.DataFrame(
        {
            "TESTCD": pd.array(["GLUF", "  ", None, "CPEP ", "CPEP"], dtype="string[pyarrow]"),
            "TPT": pd.array(["-10", "", "0", None, "30"], dtype="str"),
            "AVAL": [1.5, np.nan, 0.0, -2.0, 30.0],
        },
        index=[5, 6, 7, 8, 9],
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("TESTCD == 'CPEP'", [False, False, False, False, True]),  # 'CPEP ' is not 'CPEP'
        ("'CPEP' == TESTCD", [False, False, False, False, True]),
        ("TESTCD != 'CPEP'", [True, True, True, True, False]),  # blank and missing are not 'CPEP'
        ("TESTCD in ('GLUF', 'CPEP')", [True, False, False, False, True]),
        ("TESTCD not in ('GLUF', 'CPEP')", [False, True, True, True, False]),
        ("TPT is empty", [False, True, False, True, False]),
        ("TESTCD is not empty", [True, False, False, True, True]),
        ("AVAL > 0", [True, False, False, False, True]),  # missing is ordered against nothing
        ("0 < AVAL", [True, False, False, False, True]),
        ("AVAL != 0", [True, True, False, True, True]),
        ("AVAL <= 1.5", [True, False, True, True, False]),
        ("TESTCD == 'GLUF' or (TESTCD == 'CPEP' and TPT is empty) or TPT in ('-10', '0')",
         [True, False, True, False, False]),
        ("not (TESTCD == 'GLUF')", [False, True, True, True, True]),
    ],
)
def test_a_column_against_literals_is_evaluated_on_the_column(lab, text, expected):
    # on the column itself (pyarrow's kernels), the same as on the distinct rows
    condition = parse_condition(text)
    assert condition.on_columns(lab) is not None
    result = condition.evaluate(lab)
    assert result.tolist() == expected
    assert result.index.tolist() == [5, 6, 7, 8, 9]
    distinct = condition.evaluate(lab.astype({"TESTCD": object, "TPT": object}))  # (object text: distinct rows)
    assert distinct.tolist() == expected


@pytest.mark.parametrize("text", ["TESTCD == ' '", "TESTCD == ''", "TESTCD in ('GLUF', 1)", "AVAL == 'x'",
                                  "TESTCD < 'Z'", "upper(TESTCD) == 'GLUF'", "TESTCD == TPT", "TESTCD == 1"])
def test_other_shapes_are_evaluated_on_the_distinct_rows(lab, text):
    assert parse_condition(text).on_columns(lab) is None


def test_a_missing_column_is_still_named_when_evaluated_on_the_column(lab):
    with pytest.raises(ConditionError, match="column 'LBTEST' not in the data"):
        parse_condition("LBTEST == 'X'").evaluate(lab)


def test_distinct_codes_number_each_distinct_row_in_order_of_first_appearance():
    frame = pd.DataFrame({"A": ["x", "y", "x", "x", None], "B": ["1", "1", "1", "2", "1"], "C": [9, 8, 7, 6, 5]},
                         index=[5, 6, 7, 8, 9])
    codes, distinct = distinct_codes(frame, ["A", "B"])
    assert codes.tolist() == [0, 1, 0, 2, 3]  # (x,1) (y,1) (x,1) (x,2) (None,1): a missing value is a value
    assert distinct["A"].tolist()[:3] == ["x", "y", "x"] and pd.isna(distinct["A"][3])
    assert distinct["B"].tolist() == ["1", "1", "2", "1"]
    assert distinct.index.tolist() == [0, 1, 2, 3]


def test_distinct_codes_of_no_columns_is_one_combination():
    codes, distinct = distinct_codes(pd.DataFrame({"A": ["x", "y"]}), [])
    assert codes.tolist() == [0, 0] and len(distinct) == 1
    codes, distinct = distinct_codes(pd.DataFrame({"A": []}), [])
    assert codes.tolist() == [] and len(distinct) == 0
