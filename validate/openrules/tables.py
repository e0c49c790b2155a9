"""The table each rule type checks (CORE's dataset builders): a dataset's records, its variables' metadata,
its own metadata, one row per variable value, the study's datasets, and define.xml or library metadata
beside them. Names follow docs/rule types: variable_name, define_variable_label, library_variable_core...
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from validate.openrules import library
from validate.openrules.frame import ROW, Const, EvalFrame, RuleDataError
from validate.openrules.library import LibraryGap
from validate.openrules.scope import DatasetInfo


def record_table(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy()
    out[ROW] = np.arange(1, len(out) + 1)
    return out


def variable_table(study, name: str, emptiness: bool = False) -> pd.DataFrame:
    """One row per variable: name, order, label, length, type, format (and, when asked, whether it has
    empty values or is empty: a scan of the data)."""
    meta = study.package.meta.get(name)
    data = study.datasets[name]
    rows = []
    for order, column in enumerate(data.columns, start=1):
        v = meta.variables.get(column) if meta is not None else None
        rows.append({"variable_name": column, "variable_order_number": order,
                     "variable_label": v.label if v else None, "variable_size": v.length if v else None,
                     "variable_data_type": v.type if v else None, "variable_format": v.format if v else None})
    table = pd.DataFrame(rows, columns=["variable_name", "variable_order_number", "variable_label", "variable_size",
                                        "variable_data_type", "variable_format"])
    if emptiness:
        empty = data.isna()
        table["variable_has_empty_values"] = empty.any().to_numpy()
        table["variable_is_empty"] = empty.all().to_numpy()
    table[ROW] = np.arange(1, len(table) + 1)
    return table


def dataset_table(study, info: DatasetInfo) -> pd.DataFrame:
    return pd.DataFrame({"dataset_name": [info.name], "dataset_label": [info.label],
                         "dataset_location": [info.filename], "dataset_size": [study.file_size(info.name)],
                         "dataset_domain": [info.domain], ROW: [1]})


def presence_table(study) -> pd.DataFrame:
    row = {}
    for name, info in study.infos.items():
        row.setdefault(info.domain or name, info.filename)
        row.setdefault(name, info.filename)
    table = pd.DataFrame([row])
    table[ROW] = 1
    return table


def value_frames(study, info: DatasetInfo, with_dataset: bool, lengths: bool = True):
    """One frame per variable (long format, a variable at a time, so a dataset is never multiplied by its
    width): the variable's values and record numbers as columns, its metadata (name, label, type...) as
    constants, so a condition on them is tested once per variable."""
    data = study.datasets[info.name]
    meta = study.package.meta.get(info.name)
    n = len(data)
    rows = np.arange(1, n + 1)
    dataset = dataset_table(study, info).iloc[0].drop(ROW).to_dict() if with_dataset else {}
    for order, column in enumerate(data.columns, start=1):
        v = meta.variables.get(column) if meta is not None else None
        values = data[column]
        table = pd.DataFrame({"row_number": rows, "variable_value": values.reset_index(drop=True), ROW: rows})
        if lengths and not pd.api.types.is_numeric_dtype(values):
            table["variable_value_length"] = values.str.len().to_numpy(dtype="float64", na_value=np.nan)
        constants = {"variable_name": column, "variable_order_number": order,
                     "variable_label": v.label if v else None, "variable_size": v.length if v else None,
                     "variable_data_type": v.type if v else None, "variable_format": v.format if v else None,
                     **dataset}
        yield EvalFrame(df=table, prefix=info.domain_cleaned, domain=info.domain, name=info.name,
                        values={k: Const(value) for k, value in constants.items()}, cache=study.null_cache)


def _define_group(study, info: DatasetInfo):
    define = study.package.define
    if define is None:
        raise LibraryGap("the rule checks define.xml and the package has none")
    group = define.groups.get(info.name) or define.groups.get(info.unsplit_name)
    if group is None:
        raise RuleDataError(f"define.xml does not describe {info.name}")
    return define, group


def define_variable_columns(study, info: DatasetInfo) -> pd.DataFrame:
    """One row per variable define.xml declares for the dataset (define_variable_* columns)."""
    define, group = _define_group(study, info)
    rows = []
    for order, ref in enumerate(group.items, start=1):
        item = define.items.get(ref.item_oid)
        codelist = define.codelists.get(item.codelist_oid) if item is not None and item.codelist_oid else None
        origin = (item.origin or "") if item is not None else ""
        rows.append({
            "define_variable_name": ref.name, "define_variable_label": item.label if item else None,
            "define_variable_data_type": item.data_type if item else None,
            "define_variable_role": ref.role, "define_variable_size": item.length if item else None,
            "define_variable_length": item.length if item else None,
            "define_variable_format": item.display_format if item else None,
            "define_variable_origin_type": origin or None,
            "define_variable_is_collected": origin in ("Collected", "CRF"),
            "define_variable_order_number": ref.order if ref.order is not None else order,
            "define_variable_mandatory": "Yes" if ref.mandatory else "No",
            "define_variable_has_comment": bool(item is not None and item.comment_oid),
            "define_variable_has_codelist": codelist is not None,
            "define_variable_ccode": codelist.code if codelist is not None else None,
            "define_variable_codelist_coded_values": list(codelist.terms) if codelist is not None else [],
            "define_variable_codelist_coded_codes": [c for c in codelist.terms.values() if c]
            if codelist is not None else [],
        })
    return pd.DataFrame(rows, columns=DEFINE_VARIABLE_COLUMNS)


DEFINE_VARIABLE_COLUMNS = [
    "define_variable_name", "define_variable_label", "define_variable_data_type", "define_variable_role",
    "define_variable_size", "define_variable_length", "define_variable_format", "define_variable_origin_type",
    "define_variable_is_collected", "define_variable_order_number", "define_variable_mandatory",
    "define_variable_has_comment", "define_variable_has_codelist", "define_variable_ccode",
    "define_variable_codelist_coded_values", "define_variable_codelist_coded_codes"]


def library_variable_columns(info: DatasetInfo) -> pd.DataFrame:
    """The IG's variables of the dataset's domain (library_variable_* columns)."""
    table = library.domain_variables(info.domain_cleaned or (info.unsplit_name if not info.is_supp else info.name))
    return pd.DataFrame({"library_variable_name": table["name"].to_numpy(), "library_variable_label": table["label"].to_numpy(),
                         "library_variable_data_type": table["type"].to_numpy(), "library_variable_core": table["core"].to_numpy(),
                         "library_variable_role": table["role"].to_numpy(),
                         "library_variable_order_number": table["order"].to_numpy(),
                         "library_variable_ccode": table["ccode"].to_numpy()})


def define_dataset_columns(study, info: DatasetInfo) -> dict:
    define, group = _define_group(study, info)
    keys = group.keys
    return {"define_dataset_name": group.name, "define_dataset_label": group.label,
            "define_dataset_location": getattr(group, "location", None), "define_dataset_domain": group.domain,
            "define_dataset_class": group.dataset_class, "define_dataset_structure": group.structure,
            "define_dataset_is_non_standard": None, "define_dataset_has_no_data": group.has_no_data,
            "define_dataset_key_sequence": keys, "define_dataset_variables": [ref.name for ref in group.items]}


def _numbered(table: pd.DataFrame) -> pd.DataFrame:
    table = table.reset_index(drop=True)
    table[ROW] = np.arange(1, len(table) + 1)
    return table


def define_item_table(study, info: DatasetInfo, with_library: bool) -> pd.DataFrame:
    table = define_variable_columns(study, info)
    if with_library:
        table = table.merge(library_variable_columns(info), left_on="define_variable_name",
                            right_on="library_variable_name", how="left")
    return _numbered(table)


def variable_table_with(study, info: DatasetInfo, define: bool, library_metadata: bool) -> pd.DataFrame:
    """The variables' metadata beside define.xml's and/or the library's, matched by name."""
    table = variable_table(study, info.name, emptiness=True).drop(columns=[ROW])
    if define:
        table = table.merge(define_variable_columns(study, info), left_on="variable_name",
                            right_on="define_variable_name", how="left")
    if library_metadata:
        table = table.merge(library_variable_columns(info), left_on="variable_name",
                            right_on="library_variable_name", how="left")
    return _numbered(table)


def dataset_table_with_define(study, info: DatasetInfo) -> pd.DataFrame:
    table = dataset_table(study, info)
    for key, value in define_dataset_columns(study, info).items():
        table[key] = [value]
    return table


def define_group_table(study, info: DatasetInfo) -> pd.DataFrame:
    return _numbered(pd.DataFrame([define_dataset_columns(study, info)]))


def presence_table_with_define(study) -> pd.DataFrame:
    """One row per dataset define.xml declares: its file if the package has it, and define.xml's metadata."""
    define = study.package.define
    if define is None:
        raise LibraryGap("the rule checks define.xml and the package has none")
    rows = []
    for name, group in define.groups.items():
        info = study.infos.get(name)
        rows.append({"domain": info.domain if info else None, "filename": info.filename if info else None,
                     "define_dataset_name": name, "define_dataset_label": group.label,
                     "define_dataset_domain": group.domain, "define_dataset_class": group.dataset_class,
                     "define_dataset_structure": group.structure, "define_dataset_has_no_data": group.has_no_data,
                     "define_dataset_key_sequence": group.keys,
                     "define_dataset_variables": [ref.name for ref in group.items]})
    return _numbered(pd.DataFrame(rows))
