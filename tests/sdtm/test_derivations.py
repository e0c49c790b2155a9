import numpy as np
import pandas as pd

from sdtm.derivations import age_in_years, derive_seq


def test_seq_follows_the_stated_order_within_subject():
    data = pd.DataFrame({"USUBJID": ["B", "A", "A", "B"], "LBDTC": ["2023-02", "2023-03", "2023-01", "2023-01"]})
    assert list(derive_seq(data, ["USUBJID"], ["LBDTC"])) == [2, 2, 1, 1]


def test_age_in_completed_years():
    ages = age_in_years(pd.Series(["2000-06-15", "2000-06-15", "2000"]),
                        pd.Series(["2023-06-14", "2023-06-15", "2023-06-15"]))
    assert list(ages[:2]) == [22, 23]
    assert pd.isna(ages[2])


def test_derive_seq_numbers_each_group_in_order_missing_subjects_one_group():

    data = pd.DataFrame({"USUBJID": np.array(["B", "A", None, "B", "A", np.nan], dtype=object),
                         "DAY": [2.0, 5.0, 1.0, 1.0, np.nan, 0.0]}, index=[10, 11, 12, 13, 14, 15])
    data["USUBJID"] = data["USUBJID"].astype(object)  # (mapped text: Python strings)
    seq = derive_seq(data, ["USUBJID"], ["DAY"])
    # A: day 5, then the missing day; B: day 1, day 2; no subject: day 0, day 1
    assert seq.tolist() == [2.0, 1.0, 2.0, 1.0, 2.0, 1.0] and seq.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert seq.dtype == float
    expected = data.sort_values(["USUBJID", "DAY"], kind="mergesort").groupby(["USUBJID"], sort=False,
                                                                              dropna=False).cumcount() + 1
    assert seq.tolist() == expected.reindex(data.index).astype(float).tolist()
