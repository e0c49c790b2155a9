"""Derived parameters (new rows): a parameter computed from others at the same visit, and the
area under the curve over time points (trapezoidal rule) with declared missing-point and
below-LLOQ rules."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from specs.errors import DataError, SpecError

from .checks import assert_data_frame, assert_one_of, assert_vars, name_of, resolve_where
from .imputation import stated_lloq

# ---------------------------------------------------------------- AUC


def _interpolate_single_gap(values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Rows with exactly one missing interior point get it on the line between its neighbours."""
    v = values.copy()
    missing = np.isnan(v)
    one_gap = missing.sum(axis=1) == 1
    for j in range(1, v.shape[1] - 1):  # loop over time points (columns), not records
        rows = one_gap & missing[:, j]
        w = (times[j] - times[j - 1]) / (times[j + 1] - times[j - 1])
        v[rows, j] = v[rows, j - 1] + w * (v[rows, j + 1] - v[rows, j - 1])
    return v


def compute_auc_matrix(times, values, missing: str = "none") -> np.ndarray:
    """AUC by the trapezoidal rule for each row of ``values`` (rows x time points).

    ``missing``: ``"none"`` (rule a, conservative): any missing point gives a missing AUC;
    ``"interpolate"`` (rule b): one missing interior point is bridged by a straight line between
    its neighbours (the same as linear interpolation); a missing first or last point, or more than
    one missing point, gives a missing AUC.
    """
    assert_one_of(missing, ("none", "interpolate"), "missing")
    t = np.asarray(times, dtype="float64")
    v = np.atleast_2d(np.asarray(values, dtype="float64"))
    if v.shape[1] != t.size or t.size < 2:
        raise SpecError([f"argument 'times': {t.size} time points for {v.shape[1]} values (need >= 2, equal)"])
    if np.any(np.diff(t) <= 0):
        raise SpecError([f"argument 'times': time points must increase, got {t.tolist()}"])
    if missing == "interpolate":
        v = _interpolate_single_gap(v, t)
    widths = np.diff(t)
    auc = ((v[:, 1:] + v[:, :-1]) / 2 * widths).sum(axis=1)
    auc[np.isnan(v).any(axis=1)] = np.nan
    return auc


def compute_auc(times, values, missing: str = "none") -> float:
    """AUC of one profile: 0.20, 0.45, 0.60, 0.70, 0.65, 0.55 at 0, 15, 30, 60, 90, 120 -> 70.5."""
    return float(compute_auc_matrix(times, [list(values)], missing)[0])


def resolve_blq(values: pd.Series, text: pd.Series, rule: str) -> pd.Series:
    """Values below the quantification limit (null value, text like "<0.02") resolved by ``rule``:
    ``"half"`` LLOQ/2, ``"lloq"`` LLOQ, ``"zero"`` 0, ``"missing"`` left missing."""
    assert_one_of(rule, ("half", "lloq", "zero", "missing"), "blq")
    values = pd.to_numeric(values, errors="coerce").astype("float64")
    missing = values.isna().to_numpy()
    lloq = np.full(len(values), np.nan)
    if missing.any():  # only a record without a value can be below the limit
        lloq[missing] = stated_lloq(text[missing])
    lloq = pd.Series(lloq, index=values.index)
    blq = values.isna() & lloq.notna()
    factor = {"half": 0.5, "lloq": 1.0, "zero": 0.0, "missing": np.nan}[rule]
    return values.where(~blq, lloq * factor)


def _with_columns(dataset: pd.DataFrame, names) -> pd.DataFrame:
    """``dataset`` with each of ``names`` it lacks added as an empty column."""
    missing = [n for n in dict.fromkeys(names) if n not in dataset.columns]
    if not missing:
        return dataset
    out = dataset.assign(**{n: pd.Series(pd.NA, index=dataset.index, dtype=object) for n in missing})
    out.attrs = dict(dataset.attrs)
    return out


def seq_list(values: pd.Series, group) -> pd.Series:
    """Per group, its sequence numbers sorted and separated by spaces ("3 4 7"): the source records of
    a record derived from several (SRCSEQL). Each distinct number is formatted once; the texts of
    each group are joined by pyarrow (a list per group), not by a Python call per group."""
    numbers = pd.to_numeric(values, errors="coerce")
    keep = numbers.notna().to_numpy()
    frame = pd.DataFrame({"g": np.asarray(group)[keep], "n": numbers.to_numpy()[keep]}).sort_values(["g", "n"])
    g = frame["g"].to_numpy()
    groups, starts = np.unique(g, return_index=True)  # g is sorted: each group's first row
    codes, uniques = pd.factorize(frame["n"])
    texts = np.array([str(int(x)) if float(x).is_integer() else repr(float(x)) for x in uniques], dtype=object)
    items = pa.array(texts[codes] if len(texts) else [], type=pa.large_string())
    lists = pa.LargeListArray.from_arrays(pa.array(np.append(starts, len(g)), type=pa.int64()), items)
    joined = pc.binary_join(lists, pa.scalar(" ", pa.large_string())).to_numpy(zero_copy_only=False)
    return pd.Series(joined, index=pd.Index(groups, name="g"), name="t", dtype="str")


def derive_param_auc(dataset: pd.DataFrame, by_vars, parameter: str, set_values_to: dict,
                     time_points, time_var: str = "ATPTN", missing: str = "none", blq: str = "half",
                     where=None, keep_vars=(), analysis_var: str = "AVAL", text_var: str = "AVALC",
                     seq_var: str | None = "SRCSEQ", new_seq_list_var: str | None = None) -> pd.DataFrame:
    """Add one AUC record per ``by_vars`` group of ``parameter`` over ``time_points``.

    The rows of ``parameter`` meeting ``where`` at the declared time points are the profile
    (two rows at one time point raise DataError: select them first, e.g. with ANL01FL). Below-LLOQ
    results are resolved by ``blq``, missing points by ``missing`` (see ``compute_auc_matrix``).
    ``keep_vars`` are copied from the group's first record; ``new_seq_list_var`` lists the
    ``seq_var`` of the contributing records, so the AUC row traces back to its source rows.
    """
    by_vars, keep_vars = assert_vars(by_vars, "by_vars"), assert_vars(keep_vars, "keep_vars")
    if not isinstance(set_values_to, dict) or "PARAMCD" not in set_values_to:
        raise SpecError(["argument 'set_values_to' must give at least PARAMCD"])
    times = sorted(float(t) for t in time_points)
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    assert_data_frame(dataset, "time_var", required_vars=[time_var, "PARAMCD", analysis_var])
    assert_data_frame(dataset, "keep_vars", required_vars=keep_vars)
    tnum = pd.to_numeric(dataset[time_var], errors="coerce")
    rows = dataset[dataset["PARAMCD"].eq(parameter).fillna(False) & tnum.isin(times)
                   & resolve_where(dataset, where)]
    if rows.empty:  # no profile (e.g. an early data cut): no record added, the variables still exist
        return _with_columns(dataset, list(set_values_to) + [analysis_var]
                             + ([new_seq_list_var] if new_seq_list_var and seq_var else []))
    text = rows[text_var] if text_var in rows.columns else pd.Series(pd.NA, index=rows.index)
    value = resolve_blq(rows[analysis_var], text, blq)
    keyed = rows[by_vars].assign(__t=pd.to_numeric(rows[time_var]), __v=value)
    dup = keyed.duplicated(by_vars + ["__t"], keep=False)
    if dup.any():
        ex = keyed.loc[dup, by_vars + ["__t"]].head(2).to_dict("records")
        raise DataError([f"{name_of(dataset)}: {parameter} has {int(dup.sum())} records sharing a time point "
                         f"in {by_vars + [time_var]} (e.g. {ex}); select one first (e.g. ANL01FL)"])
    group = keyed.groupby(by_vars, dropna=False, sort=True).ngroup()
    wide = np.full((group.max() + 1, len(times)), np.nan)
    column = np.searchsorted(np.asarray(times), keyed["__t"].to_numpy())
    wide[group.to_numpy(), column] = keyed["__v"].to_numpy()
    auc = compute_auc_matrix(times, wide, missing)
    first = rows.assign(__g=group.to_numpy()).drop_duplicates("__g").set_index("__g").sort_index()
    new = first[by_vars + [v for v in keep_vars if v not in by_vars]].copy()
    for var, value_ in set_values_to.items():
        new[var] = value_
    new[analysis_var] = auc
    if new_seq_list_var and seq_var and seq_var in rows.columns:
        new[new_seq_list_var] = seq_list(rows[seq_var], group.to_numpy())
    out = pd.concat([dataset, new.reset_index(drop=True)], ignore_index=True)
    out.attrs = dict(dataset.attrs)
    return out


# ---------------------------------------------------------------- computed parameters


def _evaluate_formula(wide: pd.DataFrame, formula: dict, parameters: list[str]) -> pd.Series:
    kind = formula.get("type") if isinstance(formula, dict) else None
    assert_one_of(kind, ("linear", "ratio", "log"), "formula.type")

    def operand(x):
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            return float(x)
        if x not in parameters:
            raise SpecError([f"argument 'formula': {x!r} is not one of the parameters {parameters}"])
        return wide[x]

    if kind == "linear":
        terms = formula.get("terms") or {}
        if not terms:
            raise SpecError(["argument 'formula.terms' must give {PARAMCD: coefficient}"])
        result = pd.Series(float(formula.get("constant", 0.0)), index=wide.index)
        for code, coef in terms.items():
            result = result + float(coef) * operand(code)
        return result
    if kind == "log":  # natural log of (argument + offset): log(AUC mean + 1) for C-peptide
        argument = operand(formula.get("argument"))
        if not isinstance(argument, pd.Series):
            raise SpecError(["argument 'formula.argument' must be one of the parameters"])
        value = argument + float(formula.get("offset", 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(value.where(value > 0))
    num, den = operand(formula.get("numerator")), operand(formula.get("denominator"))
    den = den.replace(0, np.nan) if isinstance(den, pd.Series) else (np.nan if den == 0 else den)
    return float(formula.get("scale", 1.0)) * num / den


def derive_param_computed(dataset: pd.DataFrame, dataset_add=None, by_vars=("USUBJID",), parameters=(),
                          set_values_to: dict | None = None, formula: dict | None = None, where=None,
                          keep_from: str | None = None, keep_vars=(), analysis_var: str = "AVAL",
                          digits: int | None = None) -> pd.DataFrame:
    """Add a parameter computed from ``parameters`` of the same ``by_vars`` group (e.g. the same
    subject and visit). ``formula`` is ``{type: linear, terms: {PARAMCD: coef}, constant}``,
    ``{type: ratio, numerator, denominator, scale}`` or ``{type: log, argument, offset}`` (the
    natural log of argument + offset, null when that is not positive); operands are PARAMCDs or
    numbers.

    A record is added for each group holding a record of every parameter (the value is null if
    one of them is null). ``dataset_add`` holds source records that are not kept in the output.
    ``keep_vars`` (e.g. ADT) are copied from the ``keep_from`` parameter's record. ``digits`` rounds
    the result (so that 6.8 + 4 x 0.4 is exactly 8.4 when a criterion compares it with 9).
    """
    by_vars, parameters = assert_vars(by_vars, "by_vars"), assert_vars(parameters, "parameters")
    keep_vars = assert_vars(keep_vars, "keep_vars")
    if not parameters:
        raise SpecError(["argument 'parameters' must name at least one PARAMCD"])
    if not isinstance(set_values_to, dict) or "PARAMCD" not in set_values_to:
        raise SpecError(["argument 'set_values_to' must give at least PARAMCD"])
    if keep_vars and keep_from not in parameters:
        raise SpecError([f"argument 'keep_from': {keep_from!r} must be one of the parameters {parameters}"])
    sources = [dataset] + ([dataset_add] if dataset_add is not None else [])
    for i, src in enumerate(sources):
        arg = "dataset" if i == 0 else "dataset_add"
        assert_data_frame(src, arg, required_vars=by_vars + ["PARAMCD", analysis_var])
    # only the records of the parameters and the variables read here (not a copy of all of ADLB)
    needed = list(dict.fromkeys(by_vars + ["PARAMCD", analysis_var] + keep_vars))
    pool = pd.concat([s.loc[(resolve_where(s, where) & s["PARAMCD"].isin(parameters)).to_numpy(),
                            [c for c in needed if c in s.columns]] for s in sources], ignore_index=True)
    pool = pool[pool[by_vars].notna().all(axis=1)]
    dup = pool.duplicated(by_vars + ["PARAMCD"], keep=False)
    if dup.any():
        ex = pool.loc[dup, by_vars + ["PARAMCD"]].head(2).to_dict("records")
        raise DataError([f"{name_of(dataset)}: {int(dup.sum())} records share {by_vars + ['PARAMCD']} "
                         f"(e.g. {ex}); {set_values_to['PARAMCD']} needs one per parameter"])
    values = pd.to_numeric(pool[analysis_var], errors="coerce")
    wide = values.groupby([pool[v] for v in by_vars] + [pool["PARAMCD"]]).first().unstack("PARAMCD")
    present = pool.groupby(by_vars + ["PARAMCD"]).size().unstack("PARAMCD")
    complete = present.reindex(columns=parameters).notna().all(axis=1)
    wide = wide.reindex(columns=parameters)[complete.reindex(wide.index, fill_value=False)]
    if wide.empty:
        return _with_columns(dataset, list(set_values_to) + [analysis_var] + list(keep_vars))
    new = pd.DataFrame(index=wide.index)
    new[analysis_var] = _evaluate_formula(wide, formula or {}, parameters)
    if digits is not None:
        new[analysis_var] = new[analysis_var].round(digits)
    new = new.reset_index()
    for var, value in set_values_to.items():
        new[var] = value
    if keep_vars:
        assert_data_frame(pool, "keep_vars", required_vars=keep_vars)
        donor = pool[pool["PARAMCD"].eq(keep_from)][by_vars + [v for v in keep_vars if v not in by_vars]]
        new = new.merge(donor, on=by_vars, how="left")
    out = pd.concat([dataset, new], ignore_index=True)
    out.attrs = dict(dataset.attrs)
    return out


def get_summary_records(dataset: pd.DataFrame, by_vars, summaries: dict, set_values_to: dict | None = None,
                        where=None) -> pd.DataFrame:
    """One record per ``by_vars`` group: ``summaries`` is ``{new_var: {var, fun}}`` with ``fun`` one
    of mean, sum, min, max, count, first, last, or ``seqlist`` (the group's sequence numbers, e.g.
    CMSEQ, sorted and separated by spaces: the SRCSEQL of a record summarizing several), e.g. the mean
    daily insulin dose of the diary days before a visit. Returns only the new records."""
    by_vars = assert_vars(by_vars, "by_vars")
    assert_data_frame(dataset, "by_vars", required_vars=by_vars)
    if not isinstance(summaries, dict) or not summaries:
        raise SpecError(["argument 'summaries' must map new variables to {var, fun}"])
    rows = dataset[resolve_where(dataset, where)]
    grouped = rows.groupby(by_vars, dropna=False, sort=True)
    out = grouped.size().rename("__n").to_frame()
    for new, s in summaries.items():
        fun = s.get("fun") if isinstance(s, dict) else None
        assert_one_of(fun, ("mean", "sum", "min", "max", "count", "first", "last", "seqlist"), f"summaries.{new}.fun")
        if fun == "count":
            out[new] = out["__n"]
            continue
        assert_data_frame(rows, f"summaries.{new}.var", required_vars=[s.get("var")])
        if fun == "seqlist":
            group = rows.groupby(by_vars, dropna=False, sort=True).ngroup().to_numpy()
            listed = seq_list(rows[s["var"]], group)
            out[new] = listed.reindex(range(len(out))).to_numpy()
            continue
        col = rows[s["var"]]
        if fun not in ("first", "last"):
            col = pd.to_numeric(col, errors="coerce")
        out[new] = col.groupby([rows[v] for v in by_vars], dropna=False, sort=True).agg(fun)
    out = out.drop(columns="__n").reset_index()
    for var, value in (set_values_to or {}).items():
        out[var] = value
    out.attrs = {"name": name_of(dataset)}
    return out
