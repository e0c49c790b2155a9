import pandas as pd

from sdtm.numbers import number_text, parse_numbers, read_numbers


def test_only_numbers_in_the_declared_decimal_mark_are_numbers():
    text = pd.Series(["12", "-0.5", "1e-3", "1,500", "0,83", "abc", "", " 7 ", ".5", "1.", "inf", "nan"])
    number, invalid = parse_numbers(text)
    assert list(number[:3]) == [12.0, -0.5, 0.001]
    assert list(invalid) == [False, False, False, True, True, True, False, False, False, False, True, True]
    assert number[7] == 7.0 and number[8] == 0.5 and number[9] == 1.0


def test_a_decimal_comma_per_record():
    number, invalid = parse_numbers(pd.Series(["0,83", "0.83", "0,83"]), pd.Series([",", ",", "."]))
    assert number[0] == 0.83 and list(invalid) == [False, True, True]


def test_qualified_numbers_keep_their_qualifier_apart():
    qualifier, number, kind = read_numbers(pd.Series(["<0.02", ">= 5", "<", "<abc"]))
    assert list(qualifier[:2]) == ["<", ">="] and list(number[:2]) == [0.02, 5.0]
    assert list(kind) == ["qualified", "qualified", "text", "text"]


def test_number_text_writes_a_decimal_point():
    assert list(number_text(pd.Series(["0,830", "<0,02", "a,b", "12"]), ",")) == ["0.830", "<0.02", "a,b", "12"]
