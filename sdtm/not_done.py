"""Findings records not done (--STAT = NOT DONE) carry no result, unit, range or limit (SDTMIG 4.5.1.3).

Vendors often send the test's unit and reference range on a row whose sample was never taken, and a wide
form gives every test its unit; on a NOT DONE record these describe a result that does not exist. They are
left empty, the records concerned counted in a run note; a result on a NOT DONE record contradicts it and
is a located error.
"""
from __future__ import annotations

import pandas as pd

from sdtm.unique import on_unique, text_is, text_of

NOT_DONE = "NOT DONE"
# the qualifiers of a result: gone with the result
RESULT_QUALIFIERS = ("ORRESU", "ORNRLO", "ORNRHI", "STRESU", "STNRLO", "STNRHI", "STNRC", "STREFC", "NRIND",
                     "LLOQ", "ULOQ")
RESULTS = ("ORRES", "STRESC", "STRESN")


def _empty(values: pd.Series) -> pd.Series:
    return on_unique(lambda v: v.isna() | (text_of(v).str.strip() == ""), values)


def clear_not_done(data: pd.DataFrame, prefix: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """(data with the result qualifiers of NOT DONE records emptied, the records changed, the NOT DONE
    records that hold a result). Nothing changes without a ``{prefix}STAT`` column."""
    status = f"{prefix}STAT"
    none = pd.Series(False, index=data.index)
    if status not in data:
        return data, none, none
    not_done = text_is(text_of(data[status]), NOT_DONE)
    if not not_done.any():
        return data, none, none
    holding = none.copy()
    for suffix in RESULTS:
        if f"{prefix}{suffix}" in data:
            holding |= not_done & ~_empty(data[f"{prefix}{suffix}"])
    out = data.copy()
    changed = none.copy()
    for suffix in RESULT_QUALIFIERS:
        column = f"{prefix}{suffix}"
        if column not in out:
            continue
        filled = not_done & ~_empty(out[column])
        if filled.any():
            changed |= filled
            empty = float("nan") if pd.api.types.is_numeric_dtype(out[column]) else ""
            out[column] = out[column].mask(filled, empty)
    return out, changed, holding
