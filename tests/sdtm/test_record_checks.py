"""Checks of the mapped records before anything is derived from them."""
import pandas as pd

from sdtm.prepare import locate
from sdtm.record_checks import duplicate_keys, records_without_dm


def test_a_record_of_a_subject_with_no_dm_record_is_a_located_problem():
    dm = pd.DataFrame({"USUBJID": ["S-01-001", "S-01-002"]})
    ds = locate(pd.DataFrame({"Subject": ["01-001", "01-002x", "01-00é"]}), "edc/ds.csv", ["Subject"])
    ds["USUBJID"] = "S-" + ds["Subject"]
    problems = records_without_dm(ds, dm, "DS")
    assert [str(p) for p in problems] == [
        "edc/ds.csv row 2 (Subject=01-002x): DS: USUBJID 'S-01-002x' has no DM record; every record must belong "
        "to a subject of DM (check the subject identifier)",
        "edc/ds.csv row 3 (Subject=01-00é): DS: USUBJID 'S-01-00é' has no DM record; every record must belong "
        "to a subject of DM (check the subject identifier)"]
    assert records_without_dm(ds.iloc[:1], dm, "DS") == []


def test_a_record_whose_domain_keys_repeat_an_earlier_one_names_both_and_counts_the_rest():
    ae = locate(pd.DataFrame({"Subject": ["1", "2", "1", "1", "2"], "Line": ["1", "1", "2", "3", "4"]}),
                "edc/ae.csv", ["Subject", "Line"])
    ae["USUBJID"] = "S-" + ae["Subject"]
    ae["AETERM"] = ["HEADACHE", "NAUSEA", "HEADACHE", "HEADACHE", "NAUSEA"]
    problems = duplicate_keys(ae, ["USUBJID", "AETERM"], "AE", limit=2)
    assert [str(p) for p in problems] == [
        "edc/ae.csv row 3 (Subject=1, Line=2): AE: a second record with USUBJID 'S-1', AETERM 'HEADACHE'; the "
        "keys of AE (USUBJID, AETERM) must identify one record (first: edc/ae.csv row 1 (Subject=1, Line=1))",
        "edc/ae.csv row 4 (Subject=1, Line=3): AE: a second record with USUBJID 'S-1', AETERM 'HEADACHE'; the "
        "keys of AE (USUBJID, AETERM) must identify one record (first: edc/ae.csv row 1 (Subject=1, Line=1))",
        "edc/ae.csv: ... and 1 more AE records with repeated keys"]
    assert duplicate_keys(ae, ["USUBJID", "Line"], "AE") == []
