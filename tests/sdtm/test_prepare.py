"""Record shaping before mapping: wide forms to one record per test, NOT DONE records."""
import pandas as pd

from sdtm.prepare import locate, melt_tests, repeated_source_keys

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
