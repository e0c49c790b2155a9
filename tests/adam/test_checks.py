import numpy as np
import pandas as pd
import pytest

from adam.derive.checks import resolve_where, resolve_wheres
from specs.errors import DataError, SpecError


def _lab():
    return pd.DataFrame({"LBTESTCD": pd.Series(["GLUC", "GLUC", "CPEP", "GLUC", None], dtype="string"),
                         "LBTPTNUM": [0.0, np.nan, 30.0, 30.0, 0.0],
                         "LBFAST": pd.Series(["Y", "Y", None, "N", "Y"], dtype="string")})


def test_wheres_as_one_by_one():
    wheres = ['LBTESTCD == "GLUC" and LBTPTNUM is not empty', 'LBFAST == "Y"', "LBTPTNUM > 10", None]
    args = ["a", "b", "c", "d"]
    masks = resolve_wheres(_lab(), wheres, args)
    assert [m.tolist() for m in masks] == [[True, False, False, True, False], [True, True, False, False, True],
                                           [False, False, True, True, False], [True] * 5]
    for mask, where, arg in zip(masks, wheres, args):
        assert mask.dtype == bool and mask.tolist() == resolve_where(_lab(), where, arg).tolist()


def test_wheres_name_the_argument_of_a_bad_condition():
    with pytest.raises(DataError, match="variable 'LBSTAT' used in argument 'definition\\[1\\].where' is missing"):
        resolve_wheres(_lab(), ['LBFAST == "Y"', 'LBSTAT == "NOT DONE"'], ["definition[0].where", "definition[1].where"])
    with pytest.raises(SpecError, match="argument 'x': cannot parse condition"):
        resolve_wheres(_lab(), ['LBFAST == "Y"', "LBFAST =="], ["w", "x"])


def test_wheres_on_no_records():
    masks = resolve_wheres(_lab().iloc[:0], ['LBFAST == "Y"', "LBTPTNUM > 10"], ["a", "b"])
    assert [m.tolist() for m in masks] == [[], []]
