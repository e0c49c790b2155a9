"""Interventions records: exposure as collected (EC) taken into EX, and constant-dosing intervals.

A domain may take its records from an earlier domain (``from_domain: EC``): each record brings that
domain's variables and the raw columns it was mapped from, so that EX is mapped from EC like any domain
from its raw source (a ``where`` leaves out the doses not given, ECOCCUR = N, which stay in EC).
``intervals`` then merges consecutive records of the same treatment, dose, unit, frequency and route into
one constant-dosing interval.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


from sdtm.dates import date_part
from sdtm.readers import frame_to_text
from sdtm.unique import text_of

LOCATION = ["__file", "__row", "__key"]


def records_of_domain(records: pd.DataFrame, mapped: pd.DataFrame) -> pd.DataFrame:
    """An earlier domain's records as raw text for the next domain: its raw columns, overridden by its
    mapped variables of the same name (numbers as text without a spurious '.0'), and their locations."""
    variables = [c for c in mapped.columns if c not in LOCATION]
    text = frame_to_text(mapped[variables].reset_index(drop=True))
    text.index = mapped.index
    base = records.loc[mapped.index].drop(columns=[c for c in variables if c in records.columns])
    return pd.concat([base, text], axis=1)[[*[c for c in base.columns if c not in LOCATION], *variables,
                                            *LOCATION]]


def constant_dosing_intervals(data: pd.DataFrame, by_vars: list[str], start: str, end: str
                              ) -> pd.DataFrame:
    """Merge each subject's consecutive records with the same ``by_vars`` into constant-dosing intervals.

    Records are taken in order of their start date; a record joins the interval before it when it starts
    on or before the day after the latest end so far (a missing end is the start day: one administration).
    The interval keeps the first record's values, the first start and the latest end (the latest start when
    its records have no end). A record with a partial or missing start date stands alone. The result keeps
    the order of each interval's first record.
    """
    if data.empty:
        return data
    keys = ["USUBJID", *by_vars]
    work = pd.DataFrame({"__ROW": np.arange(len(data))}, index=data.index)
    work["__START"] = date_part(data[start])
    ends = date_part(data[end]) if end in data else pd.Series(pd.NaT, index=data.index)
    work["__END"] = ends.fillna(work["__START"])
    work["__GROUP"] = data.groupby(keys, dropna=False, sort=False).ngroup().to_numpy()
    work = work.sort_values(["__GROUP", "__START", "__ROW"], kind="mergesort", na_position="last")
    latest = work.groupby("__GROUP", sort=False)["__END"].cummax()
    previous_latest = latest.groupby(work["__GROUP"], sort=False).shift()
    previous_start = work.groupby("__GROUP", sort=False)["__START"].shift()
    new_group = work["__GROUP"] != work["__GROUP"].shift()
    new_interval = (new_group | work["__START"].isna() | previous_start.isna() | previous_latest.isna()
                    | (work["__START"] > previous_latest + pd.Timedelta(days=1)))
    work["__INTERVAL"] = new_interval.cumsum()
    first = work.drop_duplicates("__INTERVAL", keep="first")
    last_end = work.sort_values(["__INTERVAL", "__END", "__ROW"], kind="mergesort").drop_duplicates(
        "__INTERVAL", keep="last")
    sizes = work.groupby("__INTERVAL").size()
    out = data.loc[first.index].copy()
    end_rows = pd.Series(last_end.index, index=last_end["__INTERVAL"].to_numpy())
    chosen = end_rows.reindex(first["__INTERVAL"].to_numpy()).to_numpy()
    end_text = data.loc[chosen, end].to_numpy() if end in data else np.full(len(chosen), "", dtype=object)
    start_text = data.loc[chosen, start].to_numpy()
    merged = sizes.reindex(first["__INTERVAL"].to_numpy()).to_numpy() > 1
    no_end = text_of(pd.Series(end_text)).to_numpy() == ""
    if end in out:
        out[end] = np.where(merged & no_end, start_text, np.where(merged, end_text, out[end].to_numpy()))
    return out.loc[out.index[np.argsort(first["__ROW"].to_numpy(), kind="stable")]]
