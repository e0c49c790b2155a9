"""Variables merged from another dataset (admiral's ``derive_vars_merged`` family)."""
from __future__ import annotations

import pandas as pd

from specs.errors import SpecError

from .checks import (assert_data_frame, assert_one_of, assert_unique_keys, assert_vars,
                     name_of, resolve_where)
from .keys import match_rows, take_rows


def _by_pairs(by_vars, arg: str = "by_vars") -> tuple[list[str], list[str]]:
    """``by_vars`` as (dataset names, dataset_add names); a dict maps dataset var -> add var."""
    if isinstance(by_vars, dict):
        return assert_vars(list(by_vars), arg), assert_vars(list(by_vars.values()), arg)
    names = assert_vars(by_vars, arg)
    return names, names


def _new_var_map(new_vars, dataset: pd.DataFrame, dataset_add: pd.DataFrame, add_keys: list[str]) -> dict:
    """``new_vars`` as {new name: dataset_add name}; None = every add variable not already present."""
    if new_vars is None:
        return {c: c for c in dataset_add.columns if c not in dataset.columns and c not in add_keys}
    if isinstance(new_vars, dict):
        return {assert_vars(k, "new_vars")[0]: assert_vars(v, "new_vars")[0] for k, v in new_vars.items()}
    return {v: v for v in assert_vars(new_vars, "new_vars")}


def _select_one(dataset_add: pd.DataFrame, keys: list[str], order, mode: str) -> pd.DataFrame:
    """One record per key: the first or last by ``order``; without ``order`` keys must be unique."""
    order = assert_vars(order, "order")
    assert_one_of(mode, ("first", "last"), "mode")
    if not order:
        assert_unique_keys(dataset_add, keys, "by_vars")
        return dataset_add
    ordered = dataset_add.sort_values(keys + order, kind="stable", na_position="first")
    return ordered.drop_duplicates(keys, keep=mode)


def _records(dataset_add: pd.DataFrame, where, arg: str, columns: list[str]) -> pd.DataFrame:
    """The records of ``dataset_add`` meeting ``where``, with only the ``columns`` a step reads (a
    filtered copy of all of LBA's variables to take HbA1c from it would be most of the work)."""
    mask = resolve_where(dataset_add, where, arg)
    add = dataset_add[list(dict.fromkeys(columns))]
    return add if mask.all() else add[mask.to_numpy()]


def _join(dataset: pd.DataFrame, add: pd.DataFrame, keys: list[str], add_keys: list[str],
          mapping: dict) -> pd.DataFrame:
    """Left join keeping ``dataset``'s rows, order and index; new columns renamed per ``mapping``.
    ``add`` has one record per key; only the new columns are built (``dataset``'s are not copied)."""
    clash = [n for n in mapping if n in dataset.columns]
    if clash:
        raise SpecError([f"argument 'new_vars': {n!r} is already a variable of {name_of(dataset)}" for n in clash])
    right = {}
    for left_name, add_name in zip(keys, add_keys):  # join text with text and numbers with numbers
        key = add[add_name]
        left_numeric = pd.api.types.is_numeric_dtype(dataset[left_name])
        if left_numeric != pd.api.types.is_numeric_dtype(key) or \
                (left_numeric and dataset[left_name].dtype.kind == "f" and key.dtype.kind != "f"):
            key = key.astype(dataset[left_name].dtype)
        right[left_name] = key
    positions = match_rows(dataset, pd.DataFrame(right, copy=False), keys, keys)
    out = dataset.copy(deep=False)  # copy-on-write: columns set below are new
    for new, old in mapping.items():
        out[new] = take_rows(add[old], positions, dataset.index)
    return out


def derive_vars_merged(dataset: pd.DataFrame, dataset_add: pd.DataFrame, by_vars, order=None,
                       new_vars=None, filter_add=None, mode: str = "last",
                       exist_flag: str | None = None) -> pd.DataFrame:
    """Add ``new_vars`` from the one record of ``dataset_add`` (after ``filter_add``) per ``by_vars``.

    With ``order`` the first or last record (``mode``) is taken; without it ``by_vars`` must identify
    one record of ``dataset_add``. ``exist_flag`` names a Y/N variable: was a record found.
    """
    keys, add_keys = _by_pairs(by_vars)
    assert_data_frame(dataset, "dataset", required_vars=keys)
    order_vars = assert_vars(order, "order")
    assert_data_frame(dataset_add, "dataset_add", required_vars=add_keys + order_vars)
    mapping = _new_var_map(new_vars, dataset, dataset_add, add_keys)
    assert_data_frame(dataset_add, "new_vars", required_vars=list(mapping.values()))
    add = _records(dataset_add, filter_add, "filter_add", add_keys + order_vars + list(mapping.values()))
    add = _select_one(add, add_keys, order, mode)
    if exist_flag:
        add = add.assign(__exists="Y")
        mapping = {**mapping, exist_flag: "__exists"}
    out = _join(dataset, add, keys, add_keys, mapping)
    if exist_flag:
        out[exist_flag] = out[exist_flag].fillna("N")
    return out


def derive_vars_merged_lookup(dataset: pd.DataFrame, dataset_add, by_vars, new_vars=None,
                              check_type: str = "error") -> pd.DataFrame:
    """Add variables from a lookup table (a data frame or a list of records declared in the spec).

    ``check_type="error"`` raises when a key of ``dataset`` has no row in the table.
    """
    if isinstance(dataset_add, list):
        dataset_add = pd.DataFrame.from_records(dataset_add)
    keys, add_keys = _by_pairs(by_vars)
    assert_data_frame(dataset, "dataset", required_vars=keys)
    assert_data_frame(dataset_add, "dataset_add", required_vars=add_keys)
    assert_one_of(check_type, ("error", "none"), "check_type")
    out = derive_vars_merged(dataset, dataset_add, dict(zip(keys, add_keys)), new_vars=new_vars,
                             exist_flag="__found")
    if check_type == "error":
        missing = out.loc[out["__found"].eq("N"), keys].drop_duplicates()
        if len(missing):
            from specs.errors import DataError

            vals = "; ".join(", ".join(f"{k}={v}" for k, v in r.items()) for r in missing.head(5).to_dict("records"))
            raise DataError([f"{name_of(dataset)}: {len(missing)} value(s) of {keys} have no row in the "
                             f"lookup table: {vals}"])
    return out.drop(columns="__found")


_SUMMARY = ("sum", "mean", "min", "max", "count", "first", "last", "median")


def derive_var_merged_summary(dataset: pd.DataFrame, dataset_add: pd.DataFrame, by_vars,
                              new_var: str, analysis_var: str | None = None, summary_fun: str = "sum",
                              filter_add=None) -> pd.DataFrame:
    """Add ``new_var`` = ``summary_fun`` of ``analysis_var`` over the ``dataset_add`` records per key.

    ``count`` counts records (no ``analysis_var`` needed); subjects without records get null,
    except ``count`` which gives 0.
    """
    keys, add_keys = _by_pairs(by_vars)
    assert_one_of(summary_fun, _SUMMARY, "summary_fun")
    needed = add_keys + ([analysis_var] if analysis_var else [])
    if summary_fun != "count" and not analysis_var:
        raise SpecError([f"argument 'analysis_var' is required with summary_fun={summary_fun!r}"])
    assert_data_frame(dataset, "dataset", required_vars=keys)
    assert_data_frame(dataset_add, "dataset_add", required_vars=needed)
    add = _records(dataset_add, filter_add, "filter_add", needed)
    grouped = add.groupby(add_keys, dropna=False, sort=False)
    if summary_fun == "count":
        summary = grouped.size().rename(new_var).reset_index()
    else:
        values = pd.to_numeric(add[analysis_var], errors="coerce") if summary_fun not in ("first", "last") \
            else add[analysis_var]
        summary = values.groupby([add[k] for k in add_keys], dropna=False, sort=False).agg(summary_fun)
        summary = summary.rename(new_var).reset_index()
    out = derive_vars_merged(dataset, summary, dict(zip(keys, add_keys)), new_vars=[new_var])
    if summary_fun == "count":
        out[new_var] = out[new_var].fillna(0).astype("int64")
    return out


def derive_var_merged_exist_flag(dataset: pd.DataFrame, dataset_add: pd.DataFrame, by_vars,
                                 new_var: str, condition=None, true_value: str = "Y",
                                 false_value: str | None = "N") -> pd.DataFrame:
    """``new_var`` = ``true_value`` if ``dataset_add`` has a record meeting ``condition`` for the key."""
    keys, add_keys = _by_pairs(by_vars)
    assert_data_frame(dataset, "dataset", required_vars=keys)
    assert_data_frame(dataset_add, "dataset_add", required_vars=add_keys)
    add = _records(dataset_add, condition, "condition", add_keys).drop_duplicates()
    out = derive_vars_merged(dataset, add, dict(zip(keys, add_keys)), new_vars={}, exist_flag="__hit")
    flag = pd.Series(false_value, index=out.index, dtype="object")
    flag[out["__hit"].eq("Y")] = true_value
    out[new_var] = flag
    return out.drop(columns="__hit")
