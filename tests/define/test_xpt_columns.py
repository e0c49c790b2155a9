"""A dataset's columns as the XPT writer lays them out: the pyarrow, numpy and per-value paths give the same
bytes; which text pyarrow pads."""
from __future__ import annotations

import numpy as np
import pandas as pd

from define.xpt import XptVariable, read_xpt, write_xpt


def test_arrow_numpy_and_per_value_paths_write_the_same_bytes(tmp_path, monkeypatch):
    """pyarrow-backed ASCII text is padded by pyarrow, other ASCII text goes through numpy in one pass,
    and the per-distinct-value path (non-ASCII, non-text or too-long values) must give the very same
    bytes for the same values."""
    import pyarrow as pa

    import define.xpt as xpt
    import define.xpt_columns as columns

    n = 5001
    texts = (["x", None, "None", "nan", "", "  lead", "trail  ", np.nan] * n)[:n]
    two_chunks = pd.concat([pd.Series(["ab", None, "c"] * 10, dtype="str"),
                            pd.Series(["de"] * (n - 30), dtype="str")], ignore_index=True)
    frame = pd.DataFrame({
        "OBJ": pd.Series(texts, dtype=object),
        "STR": pd.Series(texts, dtype="str"),
        "ARROW": pd.Series(texts, dtype=pd.ArrowDtype(pa.string())),
        "ONE": pd.Series((["Y", None, "N"] * n)[:n], dtype=object),
        "LATE": ["a"] * (n - 2) + ["a much longer value than the sample saw", "b"],  # row n-1 is not sampled
        "FIXED": ["abc"] * n,  # every value as long as the column: no padding by pyarrow
        "SHORT": pd.Series((["abc", "d"] * n)[:n], dtype="str"),  # padded to the spec length 10
        "CHUNKS": two_chunks,  # stored as two pyarrow chunks
        "NONE": pd.Series([None] * n, dtype="str"),
    }).iloc[1:]  # a slice: pyarrow arrays that start at an offset
    assert pa.array(frame["CHUNKS"].array).num_chunks == 2
    variables = [XptVariable("OBJ", "o", "Char"), XptVariable("STR", "s", "Char"), XptVariable("ARROW", "a", "Char"),
                 XptVariable("ONE", "y", "Char"), XptVariable("LATE", "l", "Char"), XptVariable("FIXED", "f", "Char"),
                 XptVariable("SHORT", "f", "Char", 10), XptVariable("CHUNKS", "c", "Char"),
                 XptVariable("NONE", "n", "Char")]

    taken: dict[str, str] = {}  # column -> the path that laid it out

    def spy(name):
        original = getattr(columns, name)

        def path(series, var):
            result = original(series, var)
            if result is not None:
                taken[var.name] = name
            return result
        monkeypatch.setattr(columns, name, path)

    spy("_ascii_column")
    spy("_arrow_column")
    write_xpt(frame, tmp_path / "arrow.xpt", dataset_name="T", dataset_label="", variables=variables)
    # object text too, through pyarrow (define.xpt_columns._object_text)
    assert taken == {name: "_arrow_column" for name in frame.columns}
    monkeypatch.setattr(columns, "_arrow_column", lambda series, var: None)
    write_xpt(frame, tmp_path / "numpy.xpt", dataset_name="T", dataset_label="", variables=variables)
    monkeypatch.setattr(columns, "_ascii_column", lambda series, var: None)
    write_xpt(frame, tmp_path / "slow.xpt", dataset_name="T", dataset_label="", variables=variables)
    assert (tmp_path / "arrow.xpt").read_bytes() == (tmp_path / "slow.xpt").read_bytes()
    assert (tmp_path / "numpy.xpt").read_bytes() == (tmp_path / "slow.xpt").read_bytes()
    monkeypatch.undo()  # every path back
    monkeypatch.setattr(xpt, "CHUNK_BYTES", 1000)  # hundreds of chunks, assembled by two threads
    write_xpt(frame, tmp_path / "chunks.xpt", dataset_name="T", dataset_label="", variables=variables)
    assert (tmp_path / "chunks.xpt").read_bytes() == (tmp_path / "slow.xpt").read_bytes()
    data, meta = read_xpt(tmp_path / "arrow.xpt")
    assert data["OBJ"].tolist()[:7] == ["", "None", "nan", "", "  lead", "trail", ""]
    assert data["ARROW"].tolist() == data["OBJ"].tolist()
    assert [v.length for v in meta.variables] == [7, 7, 7, 1, 39, 3, 10, 2, 1]


def test_which_text_columns_pyarrow_pads(tmp_path):
    """pyarrow pads plain ASCII text that fits; anything else is left to the other paths."""
    import pyarrow as pa

    from define.xpt_columns import _ArrowText, _arrow_column

    def arrow(values, length=None, dtype="str"):
        return _arrow_column(pd.Series(values, dtype=dtype), XptVariable("A", "a", "Char", length))

    assert isinstance(arrow(["ab", None, "c"]), _ArrowText)
    assert arrow(["ab", None, "c"]).width == 2
    assert isinstance(arrow(["ab"], dtype=pd.ArrowDtype(pa.string())), _ArrowText)
    assert arrow(["Céphalées"]) is None  # not ASCII: transliterated per distinct value
    assert arrow(["a\x00"]) is None  # a NUL byte: numpy drops trailing NULs, as the other paths do
    assert arrow(["abcd"], length=3) is None  # too long: reported row by row
    assert arrow(["x" * 201]) is None
    assert arrow(["ab"], dtype=object) is None
    assert arrow(pd.Series([], dtype="str")) is None


def test_object_text_goes_to_pyarrow_only_when_every_value_is_text():
    """An object column of str and missing values becomes pyarrow text (missing -> null); anything else stays
    with the paths that report it (bytes, numbers, dates)."""
    import pyarrow as pa

    from define.xpt_columns import _object_text

    text = _object_text(pd.Series(["a", None, np.nan, pd.NA, "b"], dtype=object, index=[5, 6, 7, 8, 9]))
    assert pa.array(text.array).to_pylist() == ["a", None, None, None, "b"]
    assert text.index.tolist() == [5, 6, 7, 8, 9]
    assert _object_text(pd.Series([b"a", "b"], dtype=object)) is None
    assert _object_text(pd.Series(["a", 1], dtype=object)) is None
    assert _object_text(pd.Series(["a", pd.Timestamp("2024-01-01")], dtype=object)) is None
    assert _object_text(pd.Series([], dtype=object)) is None
