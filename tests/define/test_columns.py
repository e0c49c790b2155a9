"""define.columns: a dataset read one column at a time (ColumnView), as the describing pass asks for it."""
from __future__ import annotations

import pandas as pd
import pytest

from define.columns import ColumnView, columns_of


def _view(frame: pd.DataFrame, reads: list) -> ColumnView:
    def read(names):
        reads.append(list(names))
        return frame[list(names)].copy()

    return ColumnView(list(frame.columns), len(frame), read)


FRAME = pd.DataFrame({"USUBJID": ["S1", "S1", "S2"], "PARAMCD": ["HGB", "ALT", "HGB"],
                      "PARAM": ["Hemoglobin", "ALT", "Hemoglobin"], "AVAL": [13.5, 31.0, None]})


def test_a_column_is_read_alone_when_asked_for():
    reads = []
    view = _view(FRAME, reads)
    assert (len(view), view.empty, list(view.columns)) == (3, False, ["USUBJID", "PARAMCD", "PARAM", "AVAL"])
    assert reads == []  # nothing read to answer those
    assert "AVAL" in view and "LBTEST" not in view
    pd.testing.assert_series_equal(view["AVAL"], FRAME["AVAL"])
    pd.testing.assert_frame_equal(view[["PARAM", "USUBJID"]], FRAME[["PARAM", "USUBJID"]])
    assert reads == [["AVAL"], ["PARAM", "USUBJID"]]
    assert list(view.index) == [0, 1, 2]


def test_an_unknown_column_is_a_key_error_read_nowhere():
    reads = []
    view = _view(FRAME, reads)
    with pytest.raises(KeyError):
        view["LBTEST"]
    with pytest.raises(KeyError):
        view[["USUBJID", "LBTEST"]]
    assert reads == []


def test_groupby_reads_only_the_grouping_columns():
    reads = []
    counts = _view(FRAME, reads).groupby(["PARAMCD", "PARAM"], sort=False).size()
    assert list(counts.items()) == [(("HGB", "Hemoglobin"), 2), (("ALT", "ALT"), 1)]
    assert reads == [["PARAMCD", "PARAM"]]


def test_empty_without_records_or_without_columns():
    assert ColumnView(["A"], 0, None).empty and ColumnView([], 5, None).empty


def test_columns_of_a_plain_mapping_is_the_frame_itself():
    data = {"ADLB": FRAME}
    assert columns_of(data, "ADLB") is FRAME

    class Lazy(dict):
        def columns_of(self, name):
            return ("view of", name)

    assert columns_of(Lazy(data), "ADLB") == ("view of", "ADLB")
