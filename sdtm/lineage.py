"""Where each SDTM record comes from: its raw file, data row and record key, one table for the run.

Built once per dataset from the location columns every raw record carries (sdtm.prepare.locate), on
whole columns: one row per mapped SDTM record with the dataset, its position in the dataset as written
(1-based), USUBJID and --SEQ (the keys ``cdisc explain`` looks a record up by) and FILE, ROW, KEY of the
raw record (for a melted form, KEY ends with the test the row's column gave). A record made of several
raw records (constant-dosing intervals) names the first. MELTED: 'RESULT=SYS_BP' for a melted value (the melt's value
column, the raw column it came from).
"""
from __future__ import annotations

import pandas as pd

COLUMNS = ["DATASET", "RECORD", "USUBJID", "SEQ", "FILE", "ROW", "KEY", "MELTED"]


def record_lineage(domains: dict[str, tuple], specs) -> pd.DataFrame:
    """``domains``: name -> (the dataset in its written order, index kept; the records before finalize,
    with their location columns; the shaped raw records, for the column a melted value came from)."""
    parts = []
    for name, (ordered, records, prepared) in domains.items():
        if "__file" not in records or not len(ordered):
            continue
        where = records.loc[ordered.index]
        melt = (specs[name].raw or {}).get("melt") if name in specs else None
        melted = ""
        if melt and prepared is not None and melt["name"] in prepared:
            column_of = {code: f"{melt['value']}={column}" for column, code in melt["columns"].items()}
            melted = prepared[melt["name"]].reindex(ordered.index).map(column_of).fillna("").to_numpy()
        seq = f"{name}SEQ"
        part = pd.DataFrame({
            "DATASET": name,
            "RECORD": range(1, len(ordered) + 1),
            "USUBJID": ordered["USUBJID"].reset_index(drop=True) if "USUBJID" in ordered else "",
            "SEQ": ordered[seq].to_numpy() if seq in ordered else float("nan"),
            "FILE": where["__file"].reset_index(drop=True),  # Series keep their type (no text conversion)
            "ROW": where["__row"].to_numpy(),
            "KEY": where["__key"].reset_index(drop=True),
            "MELTED": melted,
        })
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(parts, ignore_index=True)[COLUMNS]
