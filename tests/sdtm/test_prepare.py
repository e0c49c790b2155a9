"""Record shaping before mapping: wide forms to one record per test, NOT DONE records."""
import pandas as pd

from sdtm.prepare import (UndeclaredValues, locate, melt_tests, repeated_key_problems, repeated_key_records,
                          repeated_source_keys, undeclared_values, unexpected_values)

# A wide vital-signs form: row 1 done (DIABP left empty), row 2 not done at all, row 3 done with no value.
VITALS = locate(pd.DataFrame({
    "PATNUM": ["375", "376", "377"],
    "ASMNTDN": ["0", "1", "0"],
    "SYS_BP": ["158", "", ""],
    "DIA_BP": ["", "", ""],
}), "vitals.csv", ["PATNUM"])
COLUMNS = {"SYS_BP": "SYSBP", "DIA_BP": "DIABP"}


def test_without_not_done_an_empty_test_gives_no_record_and_an_empty_row_is_listed():
    issues = []
    long = melt_tests(VITALS, {"columns": COLUMNS, "name": "TESTCD", "value": "RESULT"}, "VS", issues)
    assert list(zip(long["PATNUM"], long["TESTCD"], long["RESULT"])) == [("375", "SYSBP", "158")]
    assert [(i.key, i.reason) for i in issues] == [
        ("row 2 (PATNUM=376)", "no value in any test column"),
        ("row 3 (PATNUM=377)", "no value in any test column")]


def test_a_row_marked_not_done_gives_one_not_done_record_of_the_panel():
    issues, problems = [], []
    melt = {"columns": COLUMNS, "name": "TESTCD", "value": "RESULT",
            "not_done": {"status": "STAT", "when": "ASMNTDN == '1'", "all": "VSALL"}}
    long = melt_tests(VITALS, melt, "VS", issues, problems)
    assert list(zip(long["PATNUM"], long["TESTCD"], long["RESULT"], long["STAT"])) == [
        ("375", "SYSBP", "158", ""), ("376", "VSALL", "", "NOT DONE")]
    assert list(long["__key"]) == ["PATNUM=375, TESTCD=SYSBP", "PATNUM=376, TESTCD=VSALL"]
    assert [i.key for i in issues] == ["row 3 (PATNUM=377)"]  # done, but nothing recorded
    assert problems == []


def test_each_empty_test_of_a_done_row_is_a_not_done_record_of_that_test():
    issues = []
    melt = {"columns": COLUMNS, "name": "TESTCD", "value": "RESULT",
            "not_done": {"status": "STAT", "when": "ASMNTDN == '1'", "all": "VSALL", "each_empty": True}}
    long = melt_tests(VITALS, melt, "VS", issues)
    assert list(zip(long["PATNUM"], long["TESTCD"], long["RESULT"], long["STAT"])) == [
        ("375", "SYSBP", "158", ""), ("375", "DIABP", "", "NOT DONE"),
        ("376", "VSALL", "", "NOT DONE"),
        ("377", "SYSBP", "", "NOT DONE"), ("377", "DIABP", "", "NOT DONE")]
    assert issues == []


def test_a_value_on_a_row_marked_not_done_is_a_located_problem():
    frame = locate(pd.DataFrame({"PATNUM": ["376"], "ASMNTDN": ["1"], "SYS_BP": ["120"], "DIA_BP": [""]}),
                   "vitals.csv", ["PATNUM"])
    problems = []
    melt_tests(frame, {"columns": COLUMNS, "name": "TESTCD", "value": "RESULT",
                       "not_done": {"status": "STAT", "when": "ASMNTDN == '1'", "all": "VSALL"}},
               "VS", [], problems)
    assert [str(p) for p in problems] == [
        "vitals.csv row 1 (PATNUM=376): VS: column SYS_BP holds '120' on a row marked not done "
        "(ASMNTDN == '1')"]


def test_a_raw_record_whose_declared_key_repeats_another_is_a_located_problem():
    table = locate(pd.DataFrame({"Subject": ["01-001", "01-002", "01-001", "01-001"],
                                 "Folder": ["LOG", "LOG", "LOG", "LOG"],
                                 "RecordPosition": ["1", "1", "2", "1"]}), "edc/ae.csv",
                   ["Subject", "Folder", "RecordPosition"])
    problems = repeated_source_keys(table, ["Subject", "Folder", "RecordPosition"], "ae")
    assert [str(p) for p in problems] == [
        "edc/ae.csv row 4 (Subject=01-001, Folder=LOG, RecordPosition=1): source ae: a second record with "
        "Subject '01-001', Folder 'LOG', RecordPosition '1', the key of edc/ae.csv row 1; the keys of ae "
        "(Subject, Folder, RecordPosition) must identify one record"]
    assert repeated_source_keys(table.iloc[:3], ["Subject", "Folder", "RecordPosition"], "ae") == []


EX = locate(pd.DataFrame({"ID": ["1", "2", "3", "4"], "EXYN": ["Yes", "no", "No", "no"]}), "ex.csv", ["ID"])
EX_SPEC = {"from": "ex", "where": {"condition": "EXYN != 'No'", "reason": "not given"}, "variables": []}


def test_a_value_no_condition_names_is_a_located_problem_not_a_pass():
    # 'no' != 'No': without the check, subjects 2 and 4 would be mapped as given an injection
    problems = unexpected_values(EX.assign(RAWSOURCE="ex"), EX_SPEC, {"ex": EX}, {}, "EX")
    assert [str(p) for p in problems] == [
        "ex.csv row 1 (ID=1): EX: EXYN is 'Yes', which no condition on EXYN names ('No' in where.condition), so "
        "the conditions would take it for any other value: declare the values EXYN may hold in study.yaml "
        "(sources.ex.values.EXYN; in the data: 'No', 'Yes', 'no')",
        "ex.csv row 2 (ID=2): EX: EXYN is 'no', which no condition on EXYN names ('No' in where.condition), so "
        "the conditions would take it for any other value: declare the values EXYN may hold in study.yaml "
        "(sources.ex.values.EXYN; in the data: 'No', 'Yes', 'no') (2 records; this is the first)"]
    # declared, the column is checked on the whole source instead
    assert unexpected_values(EX.assign(RAWSOURCE="ex"), EX_SPEC, {"ex": EX}, {"ex": {"EXYN": ["Yes", "No"]}}, "EX") == []


def test_a_value_outside_the_declared_values_is_a_located_problem():
    problems = undeclared_values(EX, {"EXYN": ["Yes", "No"]}, "ex")
    assert [str(p) for p in problems] == [
        "ex.csv row 2 (ID=2): source ex: EXYN is 'no', not one of the values declared for it (study.yaml "
        "sources.ex.values.EXYN: 'No', 'Yes') (2 records; this is the first)"]
    assert undeclared_values(EX, {"EXYN": ["Yes", "No", "no"]}, "ex") == []


def test_a_column_of_another_stacked_source_is_checked_only_on_its_records():
    # EXYN is a column of ex only: the records of ex_oral hold '' there, which no condition names
    oral = locate(pd.DataFrame({"ID": ["5"], "DOSE": ["10"]}), "ex_oral.csv", ["ID"])
    frame = pd.concat([EX.assign(RAWSOURCE="ex").iloc[[0, 2]], oral.assign(RAWSOURCE="ex_oral")]).fillna("")
    spec = dict(EX_SPEC, **{"from": ["ex", "ex_oral"]})
    assert unexpected_values(frame, spec, {"ex": EX, "ex_oral": oral}, {"ex": {"EXYN": ["Yes", "No"]}}, "EX") == []


def test_repeated_keys_found_part_by_part_give_the_problems_of_the_whole():
    # subjects 01 and 02 in two parts (each subject's records in one part, in file order); 3 repeats, 2 shown
    whole = locate(pd.DataFrame({"S": ["01", "02", "01", "02", "01", "02"], "V": ["a", "a", "a", "b", "a", "a"]}),
                   "lab.csv", ["S", "V"])
    parts = [whole.iloc[[0, 2, 4]].reset_index(drop=True), whole.iloc[[1, 3, 5]].reset_index(drop=True)]
    joined = repeated_key_problems([repeated_key_records(p, ["S", "V"], "lab", 2) for p in parts], "lab", 2)
    assert joined == repeated_source_keys(whole, ["S", "V"], "lab", 2)
    assert [str(p) for p in joined] == [
        "lab.csv row 3 (S=01, V=a): source lab: a second record with S '01', V 'a', the key of lab.csv row 1; the "
        "keys of lab (S, V) must identify one record",
        "lab.csv row 5 (S=01, V=a): source lab: a second record with S '01', V 'a', the key of lab.csv row 1; the "
        "keys of lab (S, V) must identify one record",
        "lab.csv: ... and 1 more records of lab with a repeated key"]
    assert repeated_key_problems([repeated_key_records(p.iloc[:1], ["S", "V"], "lab") for p in parts], "lab") == []


def test_undeclared_values_found_batch_by_batch_give_the_problems_of_the_whole():
    # 'no' in batches 1 and 2 (rows 2 and 3: counted over both, shown at its first record), 'yes' in batch 2
    found = UndeclaredValues({"EXYN": ["Yes", "No"]}, "ex")
    found.add(EX.iloc[:2])
    found.add(EX.iloc[2:].assign(EXYN=["no", "yes"]))
    assert [str(p) for p in found.problems()] == [
        "ex.csv row 2 (ID=2): source ex: EXYN is 'no', not one of the values declared for it (study.yaml "
        "sources.ex.values.EXYN: 'No', 'Yes') (2 records; this is the first)",
        "ex.csv row 4 (ID=4): source ex: EXYN is 'yes', not one of the values declared for it (study.yaml "
        "sources.ex.values.EXYN: 'No', 'Yes')"]
    assert [str(p) for p in found.problems(limit=1)][1] == "ex.csv: ... and 1 more values of EXYN outside its values"
