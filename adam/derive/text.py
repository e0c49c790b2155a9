"""Text columns built from their few distinct values.

A flag or a category has two or three values over hundreds of thousands of records: building it as
a numpy array of Python strings (``np.where(mask, "Y", "N")``) and converting that to pandas' text
type converts every record (~100 ms per 300,000 records); taking the records from an array of the
distinct values is a C gather (~2 ms).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def text_choice(values, choice, index) -> pd.Series:
    """A "string" column whose record i holds ``values[choice[i]]`` (None: missing)."""
    table = pd.array(list(values), dtype="string")
    return pd.Series(table.take(np.asarray(choice, dtype=np.intp)), index=index, copy=False)


def _blank_missing(values) -> list:
    return [None if v is None or v == "" else v for v in values]


def text_where(mask, true_value, false_value, index) -> pd.Series:
    """``true_value`` where ``mask``, ``false_value`` elsewhere, as a "string" column (None or "": missing)."""
    return text_choice(_blank_missing([false_value, true_value]), np.asarray(mask, dtype=bool).astype(np.intp), index)


def text_select(conditions, values, default, index) -> pd.Series:
    """``np.select`` for text: the value of the first condition each record meets, else ``default``
    (None or "": missing)."""
    choice = np.select([np.asarray(c, dtype=bool) for c in conditions], list(range(len(values))),
                       default=len(values))
    return text_choice(_blank_missing(list(values) + [default]), choice, index)
