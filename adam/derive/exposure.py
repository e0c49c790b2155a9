"""Exposure: the doses the protocol plans up to a day (for compliance at a data cut), products of
variables (cumulative dose = daily dose x days), and parameters from a subject's variables (ADEX)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.errors import SpecError

from .checks import assert_data_frame, assert_vars, name_of


def compute_planned_days(schedule) -> np.ndarray:
    """The study days of a dosing schedule, sorted: ``schedule`` is a list of ``{first, last, every}``
    (every defaults to 1), e.g. daily D63-D67 then weekly D74-D361:
    ``[{first: 63, last: 67}, {first: 74, last: 361, every: 7}]`` -> 63..67, 74, 81, ..., 361 (47 days)."""
    if not isinstance(schedule, list) or not schedule:
        raise SpecError(["argument 'schedule' must be a non-empty list of {first, last, every}"])
    days, problems = [], []
    for i, part in enumerate(schedule):
        if not isinstance(part, dict) or not {"first", "last"} <= set(part):
            problems.append(f"argument 'schedule'[{i}]: needs 'first' and 'last' (study days)")
            continue
        first, last, every = part["first"], part["last"], part.get("every", 1)
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (first, last, every)) \
                or every < 1 or last < first or first == 0:
            problems.append(f"argument 'schedule'[{i}]: needs whole study days first <= last (no day 0) and "
                            f"every >= 1, got {part}")
            continue
        days.append(np.arange(first, last + 1, every))
    if problems:
        raise SpecError(problems)
    out = np.unique(np.concatenate(days))
    if len(out) != sum(len(d) for d in days):
        raise SpecError([f"argument 'schedule': parts overlap ({schedule})"])
    return out


def derive_var_planned_doses(dataset: pd.DataFrame, new_var: str, schedule, day_var: str | None = None) -> pd.DataFrame:
    """``new_var`` = the number of doses ``schedule`` plans on or before the study day ``day_var``
    (e.g. the study day of the data cut), or all of them when ``day_var`` is null or not given.

    Compliance at a cut then compares what was taken with what was planned by then, not with the
    whole study's plan."""
    assert_vars(new_var, "new_var")
    days = compute_planned_days(schedule)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    if day_var is None:
        out[new_var] = float(len(days))
        return out
    assert_data_frame(dataset, "day_var", required_vars=[day_var])
    day = pd.to_numeric(dataset[day_var], errors="coerce").to_numpy(dtype="float64")
    counted = np.searchsorted(days, np.nan_to_num(day, nan=np.inf), side="right").astype("float64")
    out[new_var] = np.where(np.isnan(day), float(len(days)), counted)
    return out


def derive_var_product(dataset: pd.DataFrame, new_var: str, factors, digits: int | None = None) -> pd.DataFrame:
    """``new_var`` = the product of ``factors`` (variables or numbers), e.g. EXDOSE x EXDUR, the dose
    of a constant-dosing interval; null when a factor is."""
    if not isinstance(factors, list) or len(factors) < 2:
        raise SpecError(["argument 'factors' must list at least two variables or numbers"])
    value = pd.Series(1.0, index=dataset.index)
    for f in factors:
        if isinstance(f, (int, float)) and not isinstance(f, bool):
            value = value * float(f)
        elif isinstance(f, str):
            assert_data_frame(dataset, "factors", required_vars=[f])
            value = value * pd.to_numeric(dataset[f], errors="coerce")
        else:
            raise SpecError([f"argument 'factors': {f!r} is neither a variable nor a number"])
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    out[new_var] = value.round(digits) if digits is not None else value.astype("float64")
    return out


def get_param_records(dataset: pd.DataFrame, by_vars, parameters: list[dict]) -> pd.DataFrame:
    """Parameter records from variables of one record per subject (e.g. ADSL's exposure summaries
    into ADEX): ``parameters`` is a list of ``{set_values_to: {PARAMCD, PARAM...}, vars: {AVAL: CSDAYS,
    ASTDT: CSSDT...}}``; each row of ``dataset`` gives one record per parameter with ``by_vars``, the
    constants and the copied variables. Returns only the new records."""
    by_vars = assert_vars(by_vars, "by_vars")
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    if not isinstance(parameters, list) or not parameters:
        raise SpecError(["argument 'parameters' must be a non-empty list of {set_values_to, vars}"])
    parts, problems = [], []
    for i, p in enumerate(parameters):
        values = p.get("set_values_to") if isinstance(p, dict) else None
        copies = p.get("vars") if isinstance(p, dict) else None
        if not isinstance(values, dict) or "PARAMCD" not in values or not isinstance(copies, dict) or not copies:
            problems.append(f"argument 'parameters'[{i}]: needs set_values_to (with PARAMCD) and vars")
            continue
        assert_data_frame(dataset, f"parameters[{i}].vars", required_vars=list(copies.values()))
        part = dataset[by_vars].copy()
        for new, src in copies.items():
            part[new] = dataset[src].to_numpy()
        for var, value in values.items():
            part[var] = value
        parts.append(part)
    if problems:
        raise SpecError(problems)
    out = pd.concat(parts, ignore_index=True)
    out.attrs = {"name": name_of(dataset)}
    return out
