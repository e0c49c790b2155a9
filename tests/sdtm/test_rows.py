"""rows_where is frame[mask]: same columns, types and index; pyarrow text filtered by pyarrow."""
import numpy as np
import pandas as pd
import pytest

from sdtm.rows import rows_where


def frame():
    return pd.DataFrame({"TEXT": pd.array(["a", None, "c", "d"], dtype="str"),
                         "ROW": np.array([1, 2, 3, 4]),
                         "OBJ": pd.Series(["w", "x", "y", "z"], dtype=object),
                         "NUM": [1.5, np.nan, 2.0, 3.0]}, index=[10, 11, 12, 13])


def test_rows_where_is_the_boolean_selection():
    data = frame()
    for mask in ([True, True, False, True], np.array([False, True, True, False]),
                 pd.Series([True, False, False, True], index=data.index), [False] * 4):
        chosen = rows_where(data, mask)
        pd.testing.assert_frame_equal(chosen, data[np.asarray(mask, dtype=bool)])
        assert list(chosen.dtypes) == list(data.dtypes)
    assert rows_where(data, [True, True, False, True])["TEXT"].isna().tolist() == [False, True, False]


@pytest.mark.filterwarnings("ignore:Boolean Series key will be reindexed")
def test_a_mask_on_another_index_is_aligned_as_pandas_does():
    data = frame()
    mask = pd.Series([True, False, True, False], index=[13, 12, 11, 10])
    pd.testing.assert_frame_equal(rows_where(data, mask), data[mask])


def test_a_mask_of_another_length_is_refused():
    with pytest.raises(ValueError, match="a mask of 2 values for 4 rows"):
        rows_where(frame(), [True, False])


def test_a_mask_keeping_nearly_every_row_is_filtered_by_pyarrow_with_the_same_result():
    data = pd.concat([frame()] * 5, ignore_index=True)
    keep = np.ones(len(data), dtype=bool)
    keep[[1, 6]] = False
    chosen = rows_where(data, keep)
    pd.testing.assert_frame_equal(chosen, data[keep])
    assert chosen["TEXT"].isna().sum() == 4 and chosen.index.tolist() == [i for i in range(20) if i not in (1, 6)]
