"""A domain's dataset in its final form: the spec's variables in its order and types, the spec's sort order,
SUPP-routed and internal columns dropped; the permissible variables no record has a value for left out."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from sdtm.numbers import parse_numbers
from sdtm.unique import factorize, on_unique, sorted_positions, text_of
from specs.model import DomainSpec


def empty_column(variable, index) -> pd.Series:
    """The column of a variable no record has a value for: missing numbers (Num), empty text (Char)."""
    if variable.type == "Num":
        return pd.Series(np.nan, index=index, dtype=float)
    return pd.Series("", index=index, dtype=object)


def as_type(values: pd.Series, variable) -> pd.Series:
    """``values`` in the variable's type: numbers for Num (text read strictly), text for Char."""
    if variable.type == "Num":
        if pd.api.types.is_numeric_dtype(values):
            return values.astype(float)
        number, _ = parse_numbers(text_of(values))  # strict: '1,5' is not 1.5
        return number.astype(float)
    if pd.api.types.is_numeric_dtype(values):  # a numeric result for a Char variable: 12.0 -> '12'
        return on_unique(lambda v: v.map(lambda x: "" if pd.isna(x) else
                                         (f"{int(x)}" if float(x).is_integer() else f"{x}")), values).astype(object)
    return text_of(values)


def left_out_note(name: str, empty: list[str]) -> str:
    return (f"{name}: permissible variable(s) without any value left out: {', '.join(empty)} "
            f"(SDTMIG 4.1.5; 'keep: true' in the spec keeps one)")


def without_variables(dspec: DomainSpec, names) -> DomainSpec:
    return replace(dspec, variables=[v for v in dspec.variables if v.name not in names])


def empty_permissible(data: pd.DataFrame, dspec: DomainSpec) -> list[str]:
    """The Permissible variables no record of a non-empty dataset has a value for, unless the spec keeps them
    (SDTMIG 4.1.5: a permissible variable is included when the study collected that item). An empty dataset
    keeps its whole structure."""
    if data.empty:
        return []
    out = []
    for variable in dspec.parent_variables:
        if variable.core != "Perm" or variable.keep or variable.name not in data:
            continue
        column = data[variable.name]
        if variable.type == "Num":
            blank = column.isna().all()
        else:
            blank = _all_blank(column)
        if blank:
            out.append(variable.name)
    return out


def _all_blank(column: pd.Series) -> bool:
    """Every value of a text column blank (missing, empty or spaces): not when its first value begins with a
    letter or digit (most columns with values), else each distinct value looked at once."""
    first = column.iloc[0]
    if isinstance(first, str) and first[:1].isalnum():
        return False
    return bool((pd.Series(np.asarray(factorize(text_of(column))[1], dtype=object)).str.strip() == "").all())


def finalize(data: pd.DataFrame, dspec: DomainSpec) -> pd.DataFrame:
    """Spec variable order and types, the spec's sort order, SUPP-routed and internal columns dropped."""
    return ordered_records(data, dspec).reset_index(drop=True)


def ordered_records(data: pd.DataFrame, dspec: DomainSpec) -> pd.DataFrame:
    """finalize, keeping the index of the records it was given (for their lineage)."""
    variables = dspec.parent_variables
    columns = {}  # (one frame made of them: not a column added at a time)
    for variable in variables:
        column = data[variable.name] if variable.name in data else empty_column(variable, data.index)
        columns[variable.name] = as_type(column, variable)
    out = pd.DataFrame(columns, index=data.index, copy=False)
    if dspec.sort:
        positions = sorted_positions(out, dspec.sort, "first")
        out = out.sort_values(dspec.sort, kind="mergesort", na_position="first") if positions is None else \
            out.iloc[positions]
    return out
