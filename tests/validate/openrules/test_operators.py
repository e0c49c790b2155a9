"""Check operators on hand-typed frames: CORE's semantics, nulls included."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from validate.openrules.frame import ROW, Const, EvalFrame, GroupedSet, MissingVariable
from validate.openrules.operators import OPERATORS, evaluate

NA = None


def frame(columns: dict, prefix: str = "AE", values: dict | None = None) -> EvalFrame:
    df = pd.DataFrame(columns)
    df[ROW] = np.arange(1, len(df) + 1)
    return EvalFrame(df=df, prefix=prefix, domain=prefix, name=prefix, values=values or {})


def check(f: EvalFrame, **condition) -> list[bool]:
    return evaluate(f, condition).tolist()


def test_equal_to_is_false_when_either_side_is_null_and_not_equal_to_true_when_one_side_is():
    f = frame({"A": ["Y", "N", NA, NA], "B": ["Y", "Y", "Y", NA]})
    assert check(f, name="A", operator="equal_to", value="B") == [True, False, False, False]
    assert check(f, name="A", operator="not_equal_to", value="B") == [False, True, True, False]
    assert check(f, name="A", operator="equal_to", value="Y") == [True, False, False, False]
    assert check(f, name="A", operator="not_equal_to", value="Y") == [False, True, True, True]


def test_value_names_a_variable_unless_literal_and_prefix_resolves():
    f = frame({"AECAT": ["X", "Y"], "AEDECOD": ["X", "Z"]})
    assert check(f, name="--CAT", operator="equal_to", value="--DECOD") == [True, False]
    assert check(f, name="--CAT", operator="equal_to", value="AEDECOD", value_is_literal=True) == [False, False]


def test_numbers_and_text_do_not_compare_equal_unless_type_insensitive():
    f = frame({"IDVARVAL": ["1", "02", "3.0"], "SEQ": [1.0, 2.0, 4.0]})
    assert check(f, name="IDVARVAL", operator="equal_to", value="SEQ") == [False, False, False]
    assert check(f, name="IDVARVAL", operator="equal_to", value="SEQ", type_insensitive=True) == [True, True, False]


def test_value_is_reference_compares_with_the_variable_each_record_names():
    f = frame({"IDVAR": ["AESEQ", "AELNKID"], "IDVARVAL": ["1", "L2"], "AESEQ": [1.0, 5.0], "AELNKID": ["L1", "L1"]})
    assert check(f, name="IDVARVAL", operator="not_equal_to", value="IDVAR", value_is_reference=True,
                 type_insensitive=True) == [False, True]


def test_case_insensitive_equality():
    f = frame({"DSTERM": ["Informed consent obtained", "INFORMED CONSENT", NA]})
    assert check(f, name="DSTERM", operator="equal_to_case_insensitive",
                 value="INFORMED CONSENT OBTAINED") == [True, False, False]


def test_numeric_comparisons_coerce_text_and_ignore_missing():
    f = frame({"V": ["5", "abc", NA, "0.5"]})
    assert check(f, name="V", operator="greater_than", value=1) == [True, False, False, False]
    assert check(f, name="V", operator="less_than_or_equal_to", value=0.5) == [False, False, False, True]


def test_empty_treats_missing_and_empty_text_as_empty_but_not_blanks():
    f = frame({"V": ["x", NA, "", " "]})
    assert check(f, name="V", operator="empty") == [False, True, True, False]
    assert check(f, name="V", operator="non_empty") == [True, False, False, True]


def test_exists_and_not_exists_test_the_variable_not_its_values():
    f = frame({"AEOCCUR": [NA, NA]})
    assert check(f, name="--OCCUR", operator="exists") == [True, True]
    assert check(f, name="--PRESP", operator="not_exists") == [True, True]


def test_is_contained_by_a_list_never_contains_a_missing_value():
    f = frame({"ARM": ["Screen Failure", "Drug A", NA]})
    assert check(f, name="ARM", operator="is_contained_by", value=["Screen Failure", "Not Assigned"]) == [
        True, False, False]
    assert check(f, name="ARM", operator="is_not_contained_by", value=["Screen Failure"]) == [False, True, True]


def test_is_contained_by_a_grouped_set_tests_each_record_against_its_group():
    sv = pd.DataFrame({"USUBJID": ["S1", "S1", "S2"], "value": [1.0, 2.0, 1.0]})
    f = frame({"USUBJID": ["S1", "S1", "S2", "S3"], "VISITNUM": [2.0, 3.0, 1.0, 1.0]},
              values={"$sv": GroupedSet(keys=["USUBJID"], table=sv)})
    assert check(f, name="VISITNUM", operator="is_not_contained_by", value="$sv") == [False, True, False, True]


def test_matches_regex_is_anchored_at_the_start_and_reads_whole_numbers_without_decimals():
    f = frame({"V": ["ABC12", "xABC", NA], "N": [12.0, 1.5, NA]})
    assert check(f, name="V", operator="matches_regex", value="ABC") == [True, False, False]
    assert check(f, name="V", operator="not_matches_regex", value="ABC") == [False, True, False]
    assert check(f, name="N", operator="matches_regex", value=r"^\d+$") == [True, False, False]


def test_prefix_and_suffix_operators():
    f = frame({"QNAM": ["RACE1", "RACEOTH", "AESOSP"]})
    assert check(f, name="QNAM", operator="suffix_matches_regex", suffix=1, value="^[0-9]") == [True, False, False]
    assert check(f, name="QNAM", operator="prefix_is_not_contained_by", prefix=2, value=["RA"]) == [
        False, False, True]


def test_longer_than_counts_characters_of_text():
    f = frame({"SETCD": ["SET1", "SETTOOLONG", NA]})
    assert check(f, name="SETCD", operator="longer_than", value=8) == [False, True, False]


def test_is_not_unique_set_counts_missing_as_a_value_and_ignores_absent_variables():
    f = frame({"USUBJID": ["S1", "S1", "S1", "S2"], "AESEQ": [1.0, 1.0, NA, 1.0]})
    assert check(f, name="--SEQ", operator="is_not_unique_set", value=["USUBJID", "AEABSENT"]) == [
        True, True, False, False]


def test_is_not_unique_set_on_pyarrow_text_treats_missing_as_one_value_and_never_as_empty_text():
    f = frame({"USUBJID": pd.Series(["S1", "S1", "S1", "S1"], dtype="str"),
               "T": pd.Series([NA, NA, "", "x"], dtype="str"), "D": [np.nan, np.nan, np.nan, np.nan]})
    assert check(f, name="USUBJID", operator="is_not_unique_set", value=["T", "D"]) == [True, True, False, False]


def test_group_ids_agree_across_tables_and_compare_numbers_with_text_as_keys():
    from validate.openrules.frame import group_ids

    left = pd.DataFrame({"K": pd.Series(["A", NA, "B"], dtype="str"), "N": [1.0, np.nan, 2.0]})
    right = pd.DataFrame({"K": pd.Series([NA, "A", "C"], dtype="str"), "N": ["", "1", "2"]}).replace({"": None})
    a, b = group_ids(left, right)
    assert a[0] == b[1] and a[1] == b[0] and len({*a, b[2]}) == 4


def test_is_not_unique_relationship_flags_both_sides_of_a_broken_pairing():
    f = frame({"VISIT": ["WEEK 1", "WEEK 1", "WEEK 2", "WEEK 3", NA],
               "VISITNUM": [1.0, 2.0, 3.0, 3.0, 4.0]})
    assert check(f, name="VISIT", operator="is_not_unique_relationship", value="VISITNUM") == [
        True, True, True, True, False]


def test_a_relationship_is_assessed_among_the_records_the_earlier_conditions_select():
    # CORE-000152: TSVAL 'PLACEBO' coded in TCNTRL and uncoded in COMPTRT is no break of the coded pairing
    f = frame({"TSPARMCD": ["TCNTRL", "COMPTRT", "ADDON", "HLTSUBJI", "RANDOM"],
               "TSVAL": ["PLACEBO", "PLACEBO", "N", "N", "N"],
               "TSVALCD": ["C49648", NA, "C49487", "C49487", "C49488"]}, prefix="TS")
    rule = {"all": [{"name": "TSVAL", "operator": "non_empty"}, {"name": "TSVALCD", "operator": "non_empty"},
                    {"name": "TSVAL", "operator": "is_not_unique_relationship", "value": "TSVALCD"}]}
    assert check(f, **rule) == [False, False, True, True, True]
    # without the conditions the null counts as a value, as CORE-000132's expected results want
    assert check(f, name="TSVAL", operator="is_not_unique_relationship", value="TSVALCD") == [
        True, True, True, True, True]


def test_present_on_multiple_rows_within_groups_records_without_a_subject_together():
    f = frame({"USUBJID": ["S1", "S1", "S2", NA, NA], "RELID": ["R1", "R1", "R1", "R9", "R9"]})
    assert check(f, name="RELID", operator="not_present_on_multiple_rows_within", within="USUBJID") == [
        False, False, True, False, False]


def test_date_comparisons_read_partial_dates_as_their_first_instant_and_skip_non_iso_values():
    f = frame({"S": ["2024-01-10", "2024-02", "2024-01-07T6:10", NA],
               "E": ["2024-01-09", "2024-01-31", "2024-01-01", "2024-01-01"]})
    assert check(f, name="S", operator="date_greater_than", value="E") == [True, True, False, False]


def test_complete_and_valid_dates_and_durations():
    f = frame({"D": ["2024-01-10", "2024-01-10T10:00", "2024-01", "2024-13-01", "2024---10", NA]})
    assert check(f, name="D", operator="is_complete_date") == [True, True, False, False, False, False]
    assert check(f, name="D", operator="invalid_date") == [False, False, False, True, False, False]
    g = frame({"DUR": ["P1D", "PT1H30M", "-P2D", "P1.5DT2H", "1D", NA]})
    assert check(g, name="DUR", operator="invalid_duration", negative=False) == [
        False, False, True, True, True, False]


def test_inconsistent_across_dataset_flags_every_record_of_a_disagreeing_group():
    f = frame({"LBTESTCD": ["GLUC", "GLUC", "GLUC", "ALB"], "LBSTRESU": ["mmol/L", "mmol/L", "mg/dL", "g/L"]},
              prefix="LB")
    assert check(f, name="--STRESU", operator="is_inconsistent_across_dataset", value="--TESTCD") == [
        True, True, True, False]


def test_target_is_not_sorted_by_flags_disorder_and_dates_another_date_refines():
    f = frame({"USUBJID": ["S1"] * 4 + ["S2"], "SMSEQ": [1.0, 2.0, 3.0, 4.0, NA],
               "SMSTDTC": ["2005-10", "2005-10-08", "2005-10-06", "2005-11", "2005-01-01"]}, prefix="SM")
    assert check(f, name="--SEQ", operator="target_is_not_sorted_by", within="USUBJID",
                 value=[{"name": "--STDTC", "sort_order": "asc"}]) == [True, True, True, False, False]


def test_next_record_and_last_record_operators():
    f = frame({"USUBJID": ["S1", "S1", "S1"], "SESEQ": [1.0, 2.0, 3.0],
               "SESTDTC": ["2024-01-01", "2024-01-05", "2024-01-09"], "SEENDTC": ["2024-01-05", "2024-01-08", NA]},
              prefix="SE")
    assert check(f, name="SEENDTC", operator="does_not_have_next_corresponding_record", value="SESTDTC",
                 within="USUBJID", ordering="SESEQ") == [False, True, False]
    assert check(f, name="SEENDTC", operator="empty_within_except_last_row", value="USUBJID",
                 ordering="SESTDTC") == [False, False, False]


def test_any_ignores_conditions_on_absent_variables_but_all_does_not():
    f = frame({"AEOCCUR": ["Y", "N"]})
    node = {"any": [{"name": "--PRESP", "operator": "not_equal_to", "value": "Y"},
                    {"name": "--OCCUR", "operator": "equal_to", "value": "Y"}]}
    assert evaluate(f, node).tolist() == [True, False]
    with pytest.raises(MissingVariable, match="AEPRESP"):
        evaluate(f, {"all": [{"name": "--PRESP", "operator": "equal_to", "value": "Y"}]})
    with pytest.raises(MissingVariable):
        evaluate(f, {"any": [{"name": "--PRESP", "operator": "equal_to", "value": "Y"}]})


def test_list_operations_shared_by_the_whole_table():
    f = frame({"variable_name": ["STUDYID", "DOMAIN"]},
              values={"$expected": Const(["STUDYID", "USUBJID"]), "$cols": Const(["A", "C"]),
                      "$order": Const(["A", "B", "C"])})
    assert check(f, name="variable_name", operator="not_contains_all", value=["$expected"]) == [True, True]
    assert check(f, name="$cols", operator="is_not_ordered_subset_of", value="$order") == [False, False]


def test_every_operator_the_published_rules_use_is_implemented():
    used = {"non_empty", "exists", "empty", "not_exists", "not_equal_to", "equal_to", "is_not_contained_by",
            "is_not_unique_set", "is_complete_date", "matches_regex", "longer_than", "is_not_unique_relationship",
            "not_matches_regex", "is_contained_by", "less_than", "less_than_or_equal_to", "is_incomplete_date",
            "equal_to_case_insensitive", "greater_than", "date_greater_than_or_equal_to", "date_greater_than",
            "date_less_than", "date_less_than_or_equal_to", "is_inconsistent_across_dataset",
            "not_prefix_matches_regex", "suffix_matches_regex", "contains", "date_equal_to", "not_contains_all",
            "prefix_is_not_contained_by", "greater_than_or_equal_to", "prefix_matches_regex", "ends_with",
            "invalid_duration", "starts_with", "not_suffix_matches_regex", "does_not_have_next_corresponding_record",
            "present_on_multiple_rows_within", "date_not_equal_to", "not_present_on_multiple_rows_within",
            "invalid_date", "empty_within_except_last_row", "target_is_not_sorted_by", "does_not_equal_string_part",
            "prefix_equal_to", "suffix_is_not_contained_by", "shares_no_elements_with", "is_unique_set",
            "prefix_not_equal_to", "not_equal_to_case_insensitive", "is_not_ordered_subset_of"}
    assert used <= set(OPERATORS)


def test_a_date_with_an_unknown_month_is_not_compared():
    f = frame({"S": ["2024---15", "2024-03"], "E": ["2024-01-01", "2024-03-01"]})
    assert check(f, name="S", operator="date_greater_than", value="E") == [False, False]
    assert check(f, name="S", operator="date_greater_than_or_equal_to", value="E") == [False, True]


def test_interval_precision_enumerated_columns_and_record_order():
    f = frame({"D": ["2003-12-01/2003-12-10", "2003-12-15T10:00/2003-12-15T10:30:15", "2003-12-01", NA]})
    assert check(f, name="D", operator="split_parts_have_unequal_length") == [False, True, False, False]
    g = frame({"TSVAL": ["a", NA, "c"], "TSVAL1": ["b", "x", NA], "TSVAL2": [NA, NA, "y"]}, prefix="TS")
    assert check(g, name="TSVAL", operator="inconsistent_enumerated_columns") == [False, True, True]
    h = frame({"USUBJID": ["S1", "S1", "S1", "S2"], "AESEQ": [1.0, 3.0, 2.0, 1.0]})
    assert check(h, name="--SEQ", operator="is_not_ordered_set", value="USUBJID") == [False, False, True, False]
    assert check(h, name="--SEQ", operator="is_not_ordered_by", order="asc") == [False, True, False, True]
