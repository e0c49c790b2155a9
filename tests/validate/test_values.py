"""Values as the rules hold them: blank text is missing."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from validate.values import blank_to_na

TEXT_TYPES = ["str", object, pd.StringDtype("python", na_value=np.nan)]


@pytest.mark.parametrize("dtype", TEXT_TYPES)
def test_blank_or_white_space_text_becomes_missing_and_other_text_stays(dtype):
    df = pd.DataFrame({"A": pd.Series(["a", "", " ", None, "\t", " b", "\u00a0"], dtype=dtype), "N": [1.0] * 7})
    out = blank_to_na(df, ["A"])
    assert out["A"].isna().tolist() == [False, True, True, True, True, False, True]
    assert out["A"].dropna().tolist() == ["a", " b"]
