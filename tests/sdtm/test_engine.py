"""Checks of the mapped records before anything is derived from them."""
import pandas as pd

from sdtm.engine import records_without_dm
from sdtm.prepare import locate


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
