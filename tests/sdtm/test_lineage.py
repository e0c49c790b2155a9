"""sdtm.lineage: each written SDTM record's raw file, row and key, in the dataset's written order."""
import pandas as pd

from sdtm.lineage import record_lineage
from specs.model import domain_spec


def test_records_get_their_raw_rows_in_written_order_and_a_melted_value_its_column():
    records = pd.DataFrame({"USUBJID": ["S-2", "S-1", "S-1"], "VSSEQ": [1.0, 2.0, 1.0],
                            "__file": "vs.csv", "__row": [1, 2, 2],
                            "__key": ["Subject=2, TESTCD=SYSBP", "Subject=1, TESTCD=PULSE", "Subject=1, TESTCD=SYSBP"]},
                           index=[10, 11, 12])
    prepared = pd.DataFrame({"TESTCD": ["SYSBP", "PULSE", "SYSBP"]}, index=[10, 11, 12])
    ordered = records.loc[[12, 11, 10], ["USUBJID", "VSSEQ"]]  # sorted by USUBJID, VSSEQ
    spec = domain_spec("VS", {"label": "Vital Signs", "variables": [],
                              "melt": {"columns": {"SYS_BP": "SYSBP", "PULSE": "PULSE"}, "name": "TESTCD",
                                       "value": "RESULT"}})
    table = record_lineage({"VS": (ordered, records, prepared)}, {"VS": spec})
    assert table.to_dict("records") == [
        {"DATASET": "VS", "RECORD": 1, "USUBJID": "S-1", "SEQ": 1.0, "FILE": "vs.csv", "ROW": 2,
         "KEY": "Subject=1, TESTCD=SYSBP", "MELTED": "RESULT=SYS_BP"},
        {"DATASET": "VS", "RECORD": 2, "USUBJID": "S-1", "SEQ": 2.0, "FILE": "vs.csv", "ROW": 2,
         "KEY": "Subject=1, TESTCD=PULSE", "MELTED": "RESULT=PULSE"},
        {"DATASET": "VS", "RECORD": 3, "USUBJID": "S-2", "SEQ": 1.0, "FILE": "vs.csv", "ROW": 1,
         "KEY": "Subject=2, TESTCD=SYSBP", "MELTED": "RESULT=SYS_BP"}]
    assert record_lineage({}, {}).columns.tolist() == ["DATASET", "RECORD", "USUBJID", "SEQ", "FILE", "ROW", "KEY",
                                                       "MELTED"]
