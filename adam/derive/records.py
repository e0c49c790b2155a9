"""Record selection and plain assignments used between derivations."""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.errors import SpecError

from .checks import assert_data_frame, assert_vars, resolve_where, resolve_wheres
from .text import text_choice


def filter_records(dataset: pd.DataFrame, where) -> pd.DataFrame:
    """Keep the records meeting ``where``."""
    assert_data_frame(dataset)
    mask = resolve_where(dataset, where)
    return dataset.copy(deep=False) if mask.all() else dataset[mask].copy(deep=False)


def derive_vars_copy(dataset: pd.DataFrame, new_vars: dict, where=None) -> pd.DataFrame:
    """Copy variables under new names: ``{new: source}``; with ``where`` only on those records
    (other records keep the new variable's current value, or null)."""
    if not isinstance(new_vars, dict) or not new_vars:
        raise SpecError(["argument 'new_vars' must map new names to source variables"])
    assert_data_frame(dataset, "new_vars", required_vars=list(new_vars.values()))
    mask = resolve_where(dataset, where)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for new, src in new_vars.items():
        assert_vars(new, "new_vars")
        values = dataset[src]
        if mask.all():
            out[new] = values
        else:
            out[new] = values.where(mask, out[new]) if new in out.columns else values.where(mask)
    return out


def derive_vars_assigned(dataset: pd.DataFrame, set_values_to: dict, where=None) -> pd.DataFrame:
    """Set variables to constants (``{var: value}``), on the records meeting ``where``."""
    if not isinstance(set_values_to, dict) or not set_values_to:
        raise SpecError(["argument 'set_values_to' must map variables to values"])
    mask = resolve_where(dataset, where)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for var, value in set_values_to.items():
        assert_vars(var, "set_values_to")
        const = text_choice([value], np.zeros(len(out), dtype=np.intp), out.index) if isinstance(value, str) \
            else pd.Series([value] * len(out), index=out.index)
        base = out[var] if var in out.columns else pd.Series(pd.NA, index=out.index, dtype=const.dtype)
        out[var] = const.where(mask, base)
    return out


def derive_vars_cat(dataset: pd.DataFrame, definition: list[dict]) -> pd.DataFrame:
    """Categorise: ``definition`` is a list of ``{where, values: {var: value}}``; the first
    condition a record meets gives its values, records meeting none get nulls."""
    if not isinstance(definition, list) or not definition:
        raise SpecError(["argument 'definition' must be a non-empty list of {where, values}"])
    new_vars = list(dict.fromkeys(v for d in definition for v in d.get("values", {})))
    choice = np.full(len(dataset), len(definition), dtype=np.intp)  # the definition each record meets first
    taken = np.zeros(len(dataset), dtype=bool)
    for i, d in enumerate(definition):
        if "where" not in d or "values" not in d:
            raise SpecError([f"argument 'definition'[{i}]: needs 'where' and 'values'"])
    masks = resolve_wheres(dataset, [d["where"] for d in definition],
                           [f"definition[{i}].where" for i in range(len(definition))])
    for i, mask in enumerate(masks):
        hit = mask & ~taken
        choice[hit] = i
        taken |= hit
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for var in new_vars:  # each variable taken from its value per definition (the last slot: none met)
        table = [d["values"].get(var) for d in definition] + [None]
        given = [v for d in definition if var in d["values"] for v in [d["values"][var]]]
        if all(isinstance(v, str) for v in given):
            out[var] = pd.Series(pd.array(table, dtype="string").take(choice), index=dataset.index, copy=False)
        elif all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in given):
            numbers = np.array([np.nan if v is None else float(v) for v in table], dtype="float64")
            out[var] = pd.Series(numbers[choice], index=dataset.index)
        else:  # mixed values: as a nullable column set definition by definition
            out[var] = _assigned(dataset, definition, var, choice)
    return out


def _assigned(dataset: pd.DataFrame, definition: list[dict], var: str, choice: np.ndarray) -> pd.Series:
    kinds = {isinstance(d["values"].get(var), str) for d in definition if var in d["values"]}
    column = pd.Series(pd.NA, index=dataset.index, dtype="string" if kinds == {True} else "Float64")
    for i, d in enumerate(definition):
        if var in d["values"]:
            column[choice == i] = d["values"][var]
    return column.astype("float64") if column.dtype == "Float64" else column


def derive_vars_if_absent(dataset: pd.DataFrame, set_values_to: dict) -> pd.DataFrame:
    """Add the variables of ``set_values_to`` (``{var: value}``, null for ``None``) that the dataset
    lacks; a variable it has is left as it is. For a Permissible SDTM variable, or one a later
    version of the SDTM will carry (LBFAST, DSSCAT, EXOCCUR), so that conditions can name it and the
    derivation uses the data as soon as it is there."""
    if not isinstance(set_values_to, dict) or not set_values_to:
        raise SpecError(["argument 'set_values_to' must map variables to values (null for none)"])
    absent = {var: value for var, value in set_values_to.items() if assert_vars(var, "set_values_to")
              and var not in dataset.columns}
    if not absent:
        return dataset
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for var, value in absent.items():
        dtype = "float64" if isinstance(value, (int, float)) and not isinstance(value, bool) else "string"
        out[var] = pd.Series(value if value is not None else pd.NA, index=out.index, dtype=dtype)
    return out
