"""A domain's dataset in its final form: the permissible variables without any value found."""
import numpy as np
import pandas as pd

from sdtm.finalize import _all_blank


def test_all_blank_text_column():
    assert _all_blank(pd.Series(["", "  ", None, np.nan], dtype=object))
    assert not _all_blank(pd.Series(["NOT DONE", ""], dtype=object))  # (its first value: no further look)
    assert not _all_blank(pd.Series(["", " ", "x"], dtype=object))
    assert not _all_blank(pd.Series([" (", ""], dtype=object))
    assert _all_blank(pd.Series(["", None], dtype="str"))
