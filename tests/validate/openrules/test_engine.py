"""Rules on small packages: scope, joins, operations, sensitivity, what a finding reports."""
from __future__ import annotations

from core_folder import write_core_folder
from validate.openrules.engine import run_rules
from validate.openrules.loader import parse_rule
from validate.package import load_package


def rule(check, tmp_path, **extra):
    data = {"Core": {"Id": "CORE-999999"}, "Check": check, "Executability": "Fully Executable",
            "Rule Type": "Record Data", "Sensitivity": "Record", "Outcome": {"Message": "--X is wrong"},
            "Authorities": [{"Organization": "CDISC", "Standards": [{"Name": "SDTMIG", "Version": "3.4",
                                                                     "References": []}]}]}
    data.update(extra)
    return parse_rule(data, tmp_path / "rule.yml")


def findings(result):
    return [(i.dataset, i.row, i.values) for i in result.issues]


def test_scope_by_class_and_domain_and_output_variables(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {
        "AE": {"DOMAIN": ["AE", "AE"], "USUBJID": ["S1", "S2"], "AETERM": ["X", "Y"], "AEOCCUR": ["N", "Y"]},
        "CM": {"DOMAIN": ["CM"], "USUBJID": ["S1"], "CMTRT": ["Z"], "CMOCCUR": ["N"]},
        "LB": {"DOMAIN": ["LB"], "USUBJID": ["S1"], "LBTESTCD": ["A"], "LBOCCUR": ["N"]}}))
    r = rule({"all": [{"name": "--OCCUR", "operator": "equal_to", "value": "N"}]}, tmp_path,
             Scope={"Classes": {"Include": ["EVENTS", "INTERVENTIONS"]}, "Domains": {"Exclude": ["CM"]}},
             Outcome={"Message": "--OCCUR is N", "Output Variables": ["--OCCUR", "--PRESP"]})
    result = run_rules([r], package)
    assert findings(result) == [("AE", 1, {"AEOCCUR": "N", "AEPRESP": "Not in dataset"})]
    assert result.issues[0].message == "AEOCCUR is N"


def test_a_rule_naming_an_absent_variable_is_skipped_with_the_reason(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {"AE": {"DOMAIN": ["AE"], "AETERM": ["X"]}}))
    result = run_rules([rule({"all": [{"name": "--SEV", "operator": "empty"}]}, tmp_path)], package)
    assert result.issues == [] and [(s.dataset, s.reason) for s in result.skips] == [("AE", "AESEV is not in the dataset")]


def test_dataset_sensitivity_reports_once_without_a_record(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {"LB": {"DOMAIN": ["LB", "LB"], "LBEXCLFL": ["Y", "N"]}}))
    r = rule({"all": [{"name": "--EXCLFL", "operator": "exists"}]}, tmp_path, Sensitivity="Dataset")
    assert findings(run_rules([r], package)) == [("LB", None, {"LBEXCLFL": "Y"})]


def test_match_dataset_joins_dm_and_keeps_the_record_numbers_of_the_dataset_checked(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {
        "DM": {"DOMAIN": ["DM", "DM"], "USUBJID": ["S1", "S2"], "RFSTDTC": ["2024-01-10", "2024-02-01"]},
        "MH": {"DOMAIN": ["MH"] * 3, "USUBJID": ["S9", "S2", "S1"],
               "MHSTDTC": ["2024-05-01", "2024-03-01", "2023-12-31"]}}))
    r = rule({"all": [{"name": "MHSTDTC", "operator": "date_greater_than_or_equal_to", "value": "RFSTDTC"}]},
             tmp_path, **{"Match Datasets": [{"Name": "DM", "Keys": ["USUBJID"]}],
                          "Outcome": {"Message": "m", "Output Variables": ["MHSTDTC", "RFSTDTC"]}})
    assert findings(run_rules([r], package)) == [("MH", 2, {"MHSTDTC": "2024-03-01", "RFSTDTC": "2024-02-01"})]


def test_supp_qualifiers_are_pivoted_and_joined_on_idvar(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {
        "AE": {"DOMAIN": ["AE", "AE"], "USUBJID": ["S1", "S1"], "AESEQ": ["1", "2"], "AESMIE": ["N", "Y"]},
        "SUPPAE": {"RDOMAIN": ["AE", "AE"], "USUBJID": ["S1", "S1"], "IDVAR": ["AESEQ", "AESEQ"],
                   "IDVARVAL": ["1", "2"], "QNAM": ["AESOSP", "AESOSP"], "QVAL": ["x", "y"]}}, numeric=("AESEQ",)))
    r = rule({"all": [{"name": "AESOSP", "operator": "non_empty"},
                      {"name": "AESMIE", "operator": "not_equal_to", "value": "Y"}]}, tmp_path,
             **{"Match Datasets": [{"Name": "SUPPAE", "Keys": ["USUBJID"]}]})
    assert findings(run_rules([r], package)) == [("AE", 1, {"AESMIE": "N", "AESOSP": "x"})]


def test_child_records_are_matched_to_their_parent_record(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {
        "LB": {"DOMAIN": ["LB"], "USUBJID": ["S1"], "LBSEQ": ["320"]},
        "CO": {"DOMAIN": ["CO", "CO", "CO"], "RDOMAIN": ["LB", "LB", "LB"], "USUBJID": ["S1", "S1", "S1"],
               "IDVAR": ["LBSEQ", "LBSEQ", "NONSENSE"], "IDVARVAL": ["320", "299", "1"]}}, numeric=("LBSEQ",)))
    r = rule({"all": [{"name": "IDVARVAL", "operator": "not_equal_to", "value": "IDVAR", "value_is_reference": True,
                       "type_insensitive": True}]}, tmp_path,
             **{"Match Datasets": [{"Name": "CO", "Child": True, "Keys": ["USUBJID", "IDVAR", "IDVARVAL"]}],
                "Outcome": {"Message": "m", "Output Variables": ["IDVAR", "IDVARVAL"]}})
    assert [(d, r_) for d, r_, _ in findings(run_rules([r], package))] == [("CO", 2), ("CO", 3)]


def test_grouped_distinct_and_record_count_operations(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {
        "SV": {"DOMAIN": ["SV", "SV"], "USUBJID": ["S1", "S2"], "VISITNUM": ["1", "1"]},
        "LB": {"DOMAIN": ["LB"] * 3, "USUBJID": ["S1", "S1", "S2"], "VISITNUM": ["1", "2", "2"]}},
        numeric=("VISITNUM",)))
    r = rule({"all": [{"name": "VISITNUM", "operator": "is_not_contained_by", "value": "$sv"},
                      {"name": "$n", "operator": "greater_than", "value": 1}]}, tmp_path,
             Operations=[{"id": "$sv", "operator": "distinct", "domain": "SV", "name": "VISITNUM", "group": ["USUBJID"]},
                         {"id": "$n", "operator": "record_count", "group": ["USUBJID"]}],
             Scope={"Domains": {"Include": ["LB"]}},
             Outcome={"Message": "m", "Output Variables": ["VISITNUM", "$sv", "$n"]})
    assert findings(run_rules([r], package)) == [("LB", 2, {"$n": "2", "$sv": "['1']", "VISITNUM": "2"})]


def test_record_count_groups_records_whose_key_is_missing_together(tmp_path):
    # CORE-001034: the group's timing variables are empty on every record (text and numbers, all-empty columns);
    # the date is cut to its day by the operation's regex
    package = load_package(write_core_folder(tmp_path / "d", {
        "EG": {"DOMAIN": ["EG"] * 4, "USUBJID": ["S1"] * 4, "EGDTC": ["2022-01-14", "2022-01-14T07:00", "2022-01-14", "2022-01-15"],
               "EGTPT": ["PRE", "PRE", "", "PRE"], "EGELTM": ["", "", "", ""], "EGDY": ["", "", "", ""]}},
        numeric=("EGDY",)))
    r = rule({"all": [{"name": "$n", "operator": "greater_than", "value": 1}]}, tmp_path,
             Operations=[{"id": "$n", "operator": "record_count", "regex": r"^\d{4}-\d{2}-\d{2}",
                          "group": ["USUBJID", "EGDTC", "EGTPT", "EGELTM", "EGDY"]}],
             Scope={"Domains": {"Include": ["EG"]}}, Outcome={"Message": "m", "Output Variables": ["$n"]})
    assert findings(run_rules([r], package)) == [("EG", 1, {"$n": "2"}), ("EG", 2, {"$n": "2"})]


def test_domain_presence_is_checked_once_for_the_study(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {"PP": {"DOMAIN": ["PP"]}, "AE": {"DOMAIN": ["AE"]}}))
    r = rule({"all": [{"name": "PP", "operator": "exists"}, {"name": "PC", "operator": "not_exists"}]}, tmp_path,
             **{"Rule Type": "Domain Presence Check", "Sensitivity": "Dataset"})
    assert findings(run_rules([r], package)) == [("STUDY", None, {"PC": "Not in dataset", "PP": "pp.csv"})]


def test_variable_metadata_check(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {"AE": {"DOMAIN": ["AE"], "AETERMXXX": ["X"]}}))
    r = rule({"all": [{"name": "variable_name", "operator": "longer_than", "value": 8}]}, tmp_path,
             **{"Rule Type": "Variable Metadata Check"})
    assert findings(run_rules([r], package)) == [("AE", 2, {"variable_name": "AETERMXXX"})]


def test_aggregates_lists_and_library_operations(tmp_path):
    package = load_package(write_core_folder(tmp_path / "d", {
        "DM": {"DOMAIN": ["DM", "DM"], "USUBJID": ["S1", "S2"], "AGE": ["30", "50"]},
        "AE": {"DOMAIN": ["AE"], "USUBJID": ["S1"], "AETERM": ["X"], "AESEV": ["MILD"]}}, numeric=("AGE",)))
    r = rule({"all": [{"name": "$max_age", "operator": "greater_than", "value": 40},
                      {"name": "$missing", "operator": "contains_all", "value": ["AESEQ"]}]}, tmp_path,
             Operations=[{"id": "$max_age", "operator": "max", "domain": "DM", "name": "AGE"},
                         {"id": "$req", "operator": "required_variables"},
                         {"id": "$cols", "operator": "get_column_order_from_dataset"},
                         {"id": "$missing", "operator": "minus", "name": "$req", "subtract": "$cols"}],
             Scope={"Domains": {"Include": ["AE"]}}, Sensitivity="Dataset",
             Outcome={"Message": "m", "Output Variables": ["$max_age", "$missing"]})
    assert findings(run_rules([r], package)) == [
        ("AE", None, {"$max_age": "50", "$missing": "['STUDYID', 'AESEQ', 'AEDECOD']"})]


def test_variable_metadata_against_define_xml_and_the_library(tmp_path):
    from validate_study import clean_frames, write_define, write_package

    frames = {"DM": clean_frames()["DM"]}
    folder = write_package(tmp_path / "pkg", frames, labels={("DM", "SEX"): "Gender"})
    write_define(folder / "define.xml", frames)
    package = load_package(folder)
    against_define = rule({"all": [{"name": "variable_label", "operator": "not_equal_to"}]}, tmp_path,
                          **{"Rule Type": "Variable Metadata Check against Define XML",
                             "Outcome": {"Message": "m", "Output Variables": ["variable_name", "variable_label",
                                                                             "define_variable_label"]}})
    got = findings(run_rules([against_define], package))
    assert [v["variable_name"] for _, _, v in got] == ["SEX"] and got[0][2]["variable_label"] == "Gender"
    against_library = rule({"all": [{"name": "variable_label", "operator": "not_equal_to",
                                     "value": "library_variable_label"}]}, tmp_path,
                           **{"Rule Type": "Variable Metadata Check against Library Metadata",
                              "Outcome": {"Message": "m", "Output Variables": ["variable_name", "library_variable_label"]}})
    got = findings(run_rules([against_library], package))
    assert got == [("DM", 16, {"library_variable_label": "Sex", "variable_name": "SEX"})]
