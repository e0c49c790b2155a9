"""Expressions, functions, templates and the new condition forms, with hand-worked values."""
import pandas as pd
import pytest

from specs.conditions import ConditionError, parse_condition, parse_expression, parse_template
from specs.functions import FUNCTIONS


@pytest.fixture
def raw():
    return pd.DataFrame({
        "PATNUM": ["701-1015", "701-1016", "702-2001", ""],
        "IT.AETERM": ["headache ", "Nausea", "", "rash"],
        "AE Start Date": ["2023-06-15", "2023-06", "2023-07-01", ""],
        "2ND_DOSE": ["1.5", "2", "abc", ""],
        "TEMP_F": ["98.6", "100.4", "", "212"],
        "ROUTE": ["PO (Oral)", "IV", "po (oral)", "SC"],
    })


def values(text, frame, **kwargs):
    result, problems = parse_expression(text).evaluate(frame, **kwargs)
    return list(result), list(problems)


def test_site_and_subject_from_patnum(raw):
    assert values("split(PATNUM, '-', 1)", raw)[0] == ["701", "701", "702", ""]
    assert values("split(PATNUM, '-', -1)", raw)[0] == ["1015", "1016", "2001", ""]
    assert values("substr(PATNUM, 5)", raw)[0] == ["1015", "1016", "2001", ""]
    assert values("substr(PATNUM, 1, 3)", raw)[0] == ["701", "701", "702", ""]
    assert values("regex_extract(PATNUM, '^(\\d+)-')", raw)[0] == ["701", "701", "702", ""]


def test_quoted_column_names_and_text_functions(raw):
    assert values("upper(trim(`IT.AETERM`))", raw)[0] == ["HEADACHE", "NAUSEA", "", "RASH"]
    assert values("lower(`IT.AETERM`)", raw)[0] == ["headache ", "nausea", "", "rash"]
    assert values("pad_left(split(PATNUM, '-', 2), 6, '0')", raw)[0] == ["001015", "001016", "002001", ""]
    assert values("pad_right('AB', 4, '-')", raw)[0] == ["AB--"] * 4
    assert values("regex_replace(ROUTE, ' \\(.*\\)', '')", raw)[0] == ["PO", "IV", "po", "SC"]
    assert values("concat('CDISC01-', PATNUM)", raw)[0] == ["CDISC01-701-1015", "CDISC01-701-1016",
                                                            "CDISC01-702-2001", "CDISC01-"]
    assert values("coalesce(`IT.AETERM`, PATNUM, 'UNKNOWN')", raw)[0] == ["headache ", "Nausea", "702-2001", "rash"]


def test_arithmetic_rounding_and_numbers_that_are_not(raw):
    # (98.6 - 32) * 5 / 9 = 37.0; (100.4 - 32) * 5 / 9 = 38.0; (212 - 32) * 5 / 9 = 100.0
    result, problems = values("round((number(TEMP_F) - 32) * 5 / 9, 1)", raw)
    assert result[:2] == [37.0, 38.0] and pd.isna(result[2]) and result[3] == 100.0
    assert problems == ["", "", "", ""]
    result, problems = values("`2ND_DOSE` * 2", raw)
    assert result[:2] == [3.0, 4.0] and pd.isna(result[2]) and pd.isna(result[3])
    assert problems == ["", "", "'abc' is not a number", ""]
    assert values("round(2.675, 2)", raw.head(1))[0] == [2.68]  # half away from zero, not binary 2.67
    assert values("round(-0.5, 0)", raw.head(1))[0] == [-1.0]
    assert values("1 / (number(`2ND_DOSE`) - 2)", raw.head(2))[1] == ["", "division by zero in 1 / (number(`2ND_DOSE`) - 2)"]


def test_conditions_compare_columns_match_patterns_and_quote_names(raw):
    assert list(parse_condition("`IT.AETERM` matches '^[Hh]ead'").evaluate(raw)) == [True, False, False, False]
    assert list(parse_condition("ROUTE not matches '(?i)oral'").evaluate(raw)) == [False, True, False, True]
    assert list(parse_condition("upper(ROUTE) == 'PO (ORAL)'").evaluate(raw)) == [True, False, True, False]
    assert list(parse_condition("split(PATNUM, '-', 1) == substr(PATNUM, 1, 3)").evaluate(raw)) == \
        [True, True, True, False]  # empty equals nothing, not even empty
    assert list(parse_condition("number(TEMP_F) - 32 > 67").evaluate(raw)) == [False, True, False, True]


def test_dates_compare_as_spans_of_days(raw):
    # '2023-06' spans 2023-06-01..2023-06-30: neither surely on/after nor surely before 2023-06-15
    frame = pd.DataFrame({"START": ["2023-06-15", "2023-06", "2023-07", "2023", "", "2023-06-14T23:59"],
                          "REF": ["2023-06-15T08:00"] * 6})
    on_or_after = parse_condition("date(START) >= date(REF)").evaluate(frame)
    before = parse_condition("date(START) < date(REF)").evaluate(frame)
    assert list(on_or_after) == [True, False, True, False, False, False]
    assert list(before) == [False, False, False, False, False, True]
    assert list(parse_condition("date(START, 'last') >= date(REF)").evaluate(frame)) == \
        [True, True, True, True, False, False]  # possibly on or after
    assert list(parse_condition("date(START) != '2023-06-15'").evaluate(frame)) == \
        [False, False, True, False, False, True]
    assert list(parse_condition("date(START) == '2023-06-15'").evaluate(frame)) == \
        [True, False, False, False, False, False]
    assert list(parse_condition("date(START) is empty").evaluate(frame)) == [False] * 4 + [True, False]


def test_templates_read_expressions_and_escape_braces(raw):
    template = parse_template("{split(PATNUM, '-', 1)}/{upper(`IT.AETERM`)} {{x}}")
    result, _ = template.evaluate(raw)
    assert list(result) == ["701/HEADACHE  {x}", "701/NAUSEA {x}", "", ""]  # an empty field empties the value
    assert template.columns == {"PATNUM", "IT.AETERM"}
    assert str(template) == "{split(PATNUM, '-', 1)}/{upper(`IT.AETERM`)} {{x}}"
    with pytest.raises(ConditionError) as error:
        parse_template("{IT AETERM}")
    assert str(error.value) == ("unexpected 'AETERM' at position 3 in: IT AETERM (expected an operator or the end) "
                                "(in the field at position 0 of template: {IT AETERM})")
    with pytest.raises(ConditionError, match="unclosed '{' at position 4 in template: ABC-{PATNUM"):
        parse_template("ABC-{PATNUM")


def test_references_are_listed_for_the_spec_checks():
    expression = parse_expression("coalesce(`AE Term`, lookup(ROUTE, 'routes'), AE.AETERM, DM.ARM)")
    assert expression.columns == {"AE Term", "ROUTE"}
    assert expression.variables == {"AE.AETERM", "DM.ARM"}
    assert expression.tables == {"routes"}
    with pytest.raises(ConditionError) as error:
        expression.evaluate(pd.DataFrame({"AE Term": ["x"], "ROUTE": ["y"]}))
    assert str(error.value).startswith("AE.AETERM, DM.ARM not available here, in expression: ")


def test_canonical_text_round_trips():
    for text, canonical in [("A+B*2", "A + B * 2"), ("(A+B)*2", "(A + B) * 2"), ("A-(B-C)", "A - (B - C)"),
                            ("-(A+1)", "-(A + 1)"), ("`in` == 'x'", "`in` == 'x'"), ("`a b`is not empty",
                                                                                      "`a b` is not empty"),
                            ("DM.RFXSTDTC<=AE.AESTDTC", "DM.RFXSTDTC <= AE.AESTDTC")]:
        parsed = parse_condition(text) if "=" in text or "empty" in text else parse_expression(text)
        assert str(parsed) == canonical
        assert (parse_condition if "=" in text or "empty" in text else parse_expression)(str(parsed)) == parsed


def test_every_function_has_a_worked_example():
    assert sorted(FUNCTIONS) == ["coalesce", "concat", "date", "lookup", "lower", "number", "pad_left", "pad_right",
                                 "regex_extract", "regex_replace", "round", "split", "substr", "trim", "upper"]
    assert all(f.doc and f.example for f in FUNCTIONS.values())


def test_numbers_are_read_strictly_in_the_records_decimal_mark():
    frame = pd.DataFrame({"DOSE": ["0,83", "1,500", "1.5", "inf"], "__decimal": [",", ",", ".", "."]})
    result, problems = parse_expression("number(DOSE) * 2").evaluate(frame)
    assert list(result[:3]) == [1.66, 3.0, 3.0] and pd.isna(result[3])
    assert list(problems) == ["", "", "", "'inf' is not a number"]
    assert list(parse_condition("DOSE > 1").evaluate(frame)) == [False, True, True, False]
