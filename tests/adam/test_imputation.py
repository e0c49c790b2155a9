import math

import numpy as np
import pandas as pd

from adam.derive.imputation import stated_lloq


def test_stated_lloq_reads_below_limit_texts_only():
    text = pd.Series(["<0.02", " < = 5 ", "0.3", None, "<0.02", "<.5", "<x", "<=1.25"], dtype="string")
    got = stated_lloq(text)
    assert got.dtype == np.float64
    assert [None if math.isnan(v) else v for v in got] == [0.02, 5.0, None, None, 0.02, 0.5, None, 1.25]


def test_stated_lloq_of_no_records():
    assert stated_lloq(pd.Series([], dtype="string")).tolist() == []
