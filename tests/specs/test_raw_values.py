"""The values of raw columns that conditions decide by (specs.raw_values)."""
from pathlib import Path

from specs.conditions import parse_condition
from specs.loader import StudySpec
from specs.raw_values import check_condition_values, check_declared_values, compared_values, condition_values


def test_the_values_a_condition_names_for_each_column():
    literals, empties = compared_values(parse_condition(
        "EXYN != 'No' and (AESER == 'Yes' or REL in ('Related', 'Possibly related')) and 'Y' == FLAG "
        "and DOSE > 5 and VISIT == 1 and VISIT != 'UNS' and CODE not in ('X') and NOTE is empty "
        "and TERM matches '^A' and upper(SEV) == 'MILD'").root)
    # VISIT is compared with a number: a number comparison, not a set of values; SEV through a function
    assert literals == {"EXYN": {"No"}, "AESER": {"Yes"}, "REL": {"Related", "Possibly related"},
                        "FLAG": {"Y"}, "CODE": {"X"}}
    assert empties == {"NOTE"}


def test_a_domains_conditions_name_values_with_where_they_are():
    domain = {"from": "ex", "where": {"condition": "EXYN != 'No'", "reason": "not given"},
              "variables": [{"name": "EXOCCUR", "map": {"algorithm": "condition_add", "cases": [
                  {"when": "EXYN == 'Yes'", "then": {"algorithm": "hardcode_no_ct", "value": "Y"}},
                  {"when": "EXYN is empty", "then": {"algorithm": "hardcode_no_ct", "value": "N"}}]}}]}
    assert condition_values(domain) == {"EXYN": ({"No", "Yes", ""}, ["variables[0].map.cases[0].when",
                                                                     "where.condition"])}


def _spec(values, condition):
    return StudySpec(folder=Path("."), study={}, design={}, files={"sdtm": Path("spec/sdtm.yaml"),
                                                                    "study": Path("spec/study.yaml")},
                     sources={"ex": {"path": "ex.csv", "keys": ["ID"], "values": values}},
                     domains={"EX": {"from": "ex", "where": {"condition": condition, "reason": "r"}, "variables": []}})


def test_a_condition_naming_a_value_the_declaration_does_not_list_is_a_spec_error():
    problems = []
    check_condition_values(_spec({"EXYN": ["Yes", "No"]}, "EXYN != 'no'"), problems)
    assert [str(p) for p in problems] == [
        "spec/sdtm.yaml: domains.EX.where.condition: compares EXYN with 'no', which is not one of the values "
        "declared for it in study.yaml (sources.ex.values.EXYN: 'No', 'Yes'), so it never matches"]
    problems = []
    check_condition_values(_spec({"EXYN": ["Yes", "No"]}, "EXYN != 'No'"), problems)
    assert problems == []


def test_declared_values_must_be_text_as_the_file_writes_it():
    problems = []
    check_declared_values(_spec({"EXYN": [True, "No"]}, "EXYN != 'No'"), problems)  # YAML's unquoted Yes
    assert [str(p) for p in problems] == [
        "spec/study.yaml: sources.ex.values.EXYN[0]: True is not text: YAML reads Yes, No, On, Off, true and "
        "numbers unquoted as other types; quote each value as the file writes it (\"Yes\", \"01\")"]
