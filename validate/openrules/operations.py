"""Operations: values a rule derives before its check runs (``Operations:`` in rule.yml).

Each result is added to the frame under the operation's id: a column (one value per record: a count
per group, a study day, a date per subject), a constant (a list for the whole table: the distinct
values of TV.VISITNUM, the study's domains) or a grouped set (distinct values per group). Results come
from whole-column pandas work (group-bys and joins), never record by record.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from validate.openrules import dates, library
from validate.openrules.frame import (Const, EvalFrame, GroupedSet, MissingVariable, RuleDataError, group_ids,
                                      join_key, map_distinct)
from validate.openrules.library import LibraryGap

OPERATIONS: dict[str, callable] = {}


class OperationDomainMissing(Exception):
    """An operation reads a dataset the package does not have (CORE skips the rule for this dataset)."""


def operation(*names):
    def register(func):
        for name in names:
            OPERATIONS[name] = func
        return func

    return register


def _source(study, frame: EvalFrame, op: dict) -> tuple[pd.DataFrame, object]:
    """The dataset an operation reads: its ``domain`` (by DOMAIN or name), else the current one."""
    domain = op.get("domain")
    current = study.current
    if (not domain or domain in (frame.prefix, frame.domain, frame.name)
            or (domain.endswith("--") and current.name.startswith(domain[:-2]))):  # SUPP-- on a SUPP dataset
        return study.current_data, current
    found = study.find(domain)
    if found is None:
        raise OperationDomainMissing(f"operation {op.get('operator')} reads {domain}, which the package does not have")
    return study.datasets[found.name], found


def _target(frame: EvalFrame, op: dict, info) -> str | None:
    name = op.get("name")
    if isinstance(name, str) and name.startswith("--"):
        prefix = info.domain_cleaned if info is not None and info.domain_cleaned else frame.prefix
        return (prefix or "") + name[2:]
    return name


def _group_columns(frame: EvalFrame, data: pd.DataFrame, op: dict) -> list[str]:
    out = []
    for item in op.get("group") or []:
        if isinstance(item, str) and item in frame.values and isinstance(frame.values[item], Const):
            out.extend(v for v in frame.values[item].value if v not in out)
            continue
        name = frame.resolve(item)
        if name not in out:
            out.append(name)
    missing = [g for g in out if g not in data.columns]
    if missing:
        raise MissingVariable(missing[0])
    return out


def _filtered(data: pd.DataFrame, op: dict, frame: EvalFrame) -> pd.DataFrame:
    spec = op.get("filter") or {}
    mask = np.ones(len(data), dtype=bool)
    for column, wanted in spec.items():
        column = frame.resolve(column)
        if column not in data.columns:
            raise MissingVariable(column)
        values = data[column].astype(object)
        if isinstance(wanted, str) and wanted.endswith("&"):
            mask &= map_distinct(values, lambda v, p=wanted[:-1]: isinstance(v, str) and v.startswith(p), bool, False)
        else:
            mask &= (values == wanted).to_numpy(dtype=bool)
    return data[mask]


def _merge_back(frame: EvalFrame, keys: list[str], table: pd.DataFrame, value: str, op_id: str) -> None:
    """Attach a per-group result to the frame's records (left join on the group keys)."""
    missing = [k for k in keys if k not in frame.df.columns]
    if missing:
        raise MissingVariable(missing[0])
    left = pd.DataFrame({k: join_key(frame.df[k]) for k in keys})
    right = pd.DataFrame({**{k: join_key(table[k]) for k in keys}, op_id: table[value].to_numpy()})
    right = right.drop_duplicates(subset=keys)
    merged = left.merge(right, on=keys, how="left")
    frame.df[op_id] = merged[op_id].to_numpy()


@operation("distinct")
def distinct(study, frame: EvalFrame, op: dict) -> None:
    data, info = _source(study, frame, op)
    data = _filtered(data, op, frame)
    target = _target(frame, op, info)
    if op.get("value_is_reference"):  # names of variables that exist in the dataset each record points to
        frame.values[op["id"]] = Const(sorted(study.referenced_variables(data, target)))
        return
    if target not in data.columns:
        raise MissingVariable(target)
    groups = _group_columns(frame, data, op)
    if not groups:
        values = data[target].dropna().unique().tolist()
        frame.values[op["id"]] = Const(values)
        return
    table = data[groups + [target]].rename(columns={target: "value"}).dropna(subset=["value"]).drop_duplicates()
    frame.values[op["id"]] = GroupedSet(keys=groups, table=table.reset_index(drop=True))


@operation("record_count")
def record_count(study, frame: EvalFrame, op: dict) -> None:
    data, info = _source(study, frame, op)
    data = _filtered(data, op, frame)
    groups = _group_columns(frame, data, op)
    if not groups:
        frame.values[op["id"]] = Const(int(len(data)))
        return
    keyed = data[groups]
    if op.get("regex"):
        from validate.openrules.operators import _apply_regex
        keyed = _apply_regex(keyed, op["regex"])
        frame_keys = _apply_regex(frame.df[groups], op["regex"])
    else:
        frame_keys = frame.df[groups]
    # records per group of the source, looked up for each record of the frame (null keys group together)
    source_ids, frame_ids = group_ids(keyed, frame_keys)
    sizes = np.bincount(source_ids, minlength=int(max(source_ids.max(initial=-1), frame_ids.max(initial=-1))) + 1)
    counts = sizes[frame_ids].astype("float64")
    counts[counts == 0] = np.nan  # a group the source does not have: no count, as a left join gives
    frame.df[op["id"]] = counts


def _date_extreme(study, frame: EvalFrame, op: dict, pick: str) -> None:
    data, info = _source(study, frame, op)
    target = _target(frame, op, info)
    if target not in data.columns:
        raise MissingVariable(target)
    groups = _group_columns(frame, data, op)
    if not groups:
        instants = dates.instants(data[target])
        valid = ~np.isnan(instants)
        if not valid.any():
            frame.values[op["id"]] = Const("")
            return
        index = np.nanargmin(instants) if pick == "min" else np.nanargmax(instants)
        frame.values[op["id"]] = Const(str(data[target].iloc[index]))
        return
    # CORE takes the group's min/max of the text values (ISO 8601 sorts as text at equal precision)
    table = data[groups + [target]].dropna(subset=[target])
    table = table.assign(**{target: table[target].astype(str)})
    extreme = table.groupby(groups, sort=False)[target].agg(pick).reset_index()
    _merge_back(frame, groups, extreme, target, op["id"])


OPERATIONS["min_date"] = lambda s, f, o: _date_extreme(s, f, o, "min")
OPERATIONS["max_date"] = lambda s, f, o: _date_extreme(s, f, o, "max")


@operation("dy")
def dy(study, frame: EvalFrame, op: dict) -> None:
    target = frame.resolve(op.get("name"))
    for name in (target, "RFSTDTC"):
        if name not in frame.df.columns:
            raise MissingVariable(name)
    days = dates.calendar_days(frame.df[target]) - dates.calendar_days(frame.df["RFSTDTC"])
    frame.df[op["id"]] = np.where(days >= 0, days + 1, days)


@operation("study_domains")
def study_domains(study, frame: EvalFrame, op: dict) -> None:
    frame.values[op["id"]] = Const(sorted({(i.domain or "") for i in study.infos.values()}))


@operation("dataset_names")
def dataset_names(study, frame: EvalFrame, op: dict) -> None:
    frame.values[op["id"]] = Const([name.upper() for name in study.infos])


@operation("domain_label")
def domain_label(study, frame: EvalFrame, op: dict) -> None:
    label = library.domain_label(study.current.domain_cleaned or study.current.name)
    frame.values[op["id"]] = Const(label if label is not None else None)


@operation("domain_is_custom")
def domain_is_custom(study, frame: EvalFrame, op: dict) -> None:
    domain = study.current.domain_cleaned or study.current.unsplit_name
    frame.values[op["id"]] = Const(domain not in library.standard_domains())


@operation("variable_count")
def variable_count(study, frame: EvalFrame, op: dict) -> None:
    name = op.get("name") or ""
    seen, count = set(), 0
    for info in study.infos.values():
        if info.unsplit_name in seen:
            continue
        seen.add(info.unsplit_name)
        variable = name.replace("--", info.domain, 1) if info.domain else name
        count += variable in study.datasets[info.name].columns
    frame.values[op["id"]] = Const(count)


@operation("variable_exists")
def variable_exists(study, frame: EvalFrame, op: dict) -> None:
    name = frame.resolve(op.get("name"))
    frame.values[op["id"]] = Const(name in study.current_data.columns)


@operation("extract_metadata")
def extract_metadata(study, frame: EvalFrame, op: dict) -> None:
    info = study.current
    meta = {"dataset_name": info.name, "dataset_label": info.label, "dataset_location": info.filename,
            "dataset_size": study.file_size(info.name), "domain": info.domain, "is_ap": info.is_ap,
            "ap_suffix": info.ap_suffix}
    key = op.get("name")
    if key not in meta:
        raise RuleDataError(f"extract_metadata: unknown metadata {key!r}")
    frame.values[op["id"]] = Const(meta[key])


@operation("get_column_order_from_dataset")
def column_order_from_dataset(study, frame: EvalFrame, op: dict) -> None:
    frame.values[op["id"]] = Const(list(study.current_data.columns))


@operation("required_variables")
def required_variables(study, frame: EvalFrame, op: dict) -> None:
    frame.values[op["id"]] = Const(library.variables_with_core(study.current.domain_cleaned or study.current.name, "Req"))


@operation("expected_variables")
def expected_variables(study, frame: EvalFrame, op: dict) -> None:
    frame.values[op["id"]] = Const(library.variables_with_core(study.current.domain_cleaned or study.current.name, "Exp"))


@operation("get_dataset_filtered_variables")
def dataset_filtered_variables(study, frame: EvalFrame, op: dict) -> None:
    key, wanted = op.get("key_name"), op.get("key_value")
    if key != "role":
        raise LibraryGap(f"get_dataset_filtered_variables by {key!r}: only 'role' is available")
    roles = library.variable_roles(study.current.domain_cleaned)
    if not roles:
        raise LibraryGap(f"{study.current.name}: variable roles of a custom domain come from the SDTM model, "
                         "which is not shipped")
    frame.values[op["id"]] = Const([c for c in study.current_data.columns if roles.get(c) == wanted])


@operation("codelist_terms")
def codelist_terms(study, frame: EvalFrame, op: dict) -> None:
    ct = study.terminology
    if ct is None:
        raise LibraryGap("codelist_terms needs controlled terminology and none is loaded")
    wanted = {str(c) for c in op.get("codelists") or []}
    level, returntype = op.get("level", "term"), op.get("returntype", "value")
    found = [cl for cl in ct.by_code.values() if cl.short in wanted or cl.code in wanted]
    if len(found) < len(wanted):
        raise LibraryGap(f"codelist_terms: {sorted(wanted - {cl.short for cl in found})} not in the loaded CT")
    out = []
    for cl in found:
        if level == "codelist":
            out.append(cl.code if returntype == "code" else cl.short)
        else:
            out.extend(cl.terms.values() if returntype == "code" else cl.terms.keys())
    frame.values[op["id"]] = Const(out)


def _model_gap(study, frame, op):
    raise LibraryGap(f"{op.get('operator')} needs the SDTM v2.0 model's class variables, which are not shipped")


for _name in ("get_model_column_order", "get_parent_model_column_order", "get_model_filtered_variables"):
    OPERATIONS[_name] = _model_gap


@operation("get_column_order_from_library")
def column_order_from_library(study, frame: EvalFrame, op: dict) -> None:
    raise LibraryGap("get_column_order_from_library needs the SDTM v2.0 model's class variables "
                     "(CORE merges them with the IG's), which are not shipped")


@operation("map")
def map_values(study, frame: EvalFrame, op: dict) -> None:
    out = np.full(frame.n, None, dtype=object)
    assigned = np.zeros(frame.n, dtype=bool)
    for entry in op.get("map") or []:
        mask = ~assigned
        for column, wanted in entry.items():
            if column == "output":
                continue
            mask &= (frame.column(column).astype(object) == wanted).to_numpy(dtype=bool)
        out[mask] = entry.get("output")
        assigned |= mask
    frame.df[op["id"]] = out


def _aggregate(study, frame: EvalFrame, op: dict, how: str) -> None:
    data, info = _source(study, frame, op)
    target = _target(frame, op, info)
    if target not in data.columns:
        raise MissingVariable(target)
    numbers = pd.to_numeric(data[target], errors="coerce")
    groups = _group_columns(frame, data, op)
    if not groups:
        value = getattr(numbers, how)()
        frame.values[op["id"]] = Const(None if pd.isna(value) else float(value))
        return
    table = data[groups].assign(_v=numbers.to_numpy()).groupby(groups, sort=False)["_v"].agg(how).reset_index()
    _merge_back(frame, groups, table, "_v", op["id"])


OPERATIONS["min"] = lambda s, f, o: _aggregate(s, f, o, "min")
OPERATIONS["max"] = lambda s, f, o: _aggregate(s, f, o, "max")
OPERATIONS["mean"] = lambda s, f, o: _aggregate(s, f, o, "mean")


def _const_list(frame: EvalFrame, name) -> list:
    value = frame.values.get(name)
    if value is None:
        return []
    if not isinstance(value, Const) or not isinstance(value.value, (list, tuple, set)):
        raise RuleDataError(f"{name} is not a list")
    return list(value.value)


@operation("minus")
def minus(study, frame: EvalFrame, op: dict) -> None:
    """Items of the ``name`` list not in the ``subtract`` list, in the first list's order."""
    drop = set(_const_list(frame, op.get("subtract")))
    frame.values[op["id"]] = Const([v for v in _const_list(frame, op.get("name")) if v not in drop])


@operation("split_by")
def split_by(study, frame: EvalFrame, op: dict) -> None:
    column = frame.column(op.get("name"))
    delimiter = str(op.get("delimiter", ";"))
    frame.df[op["id"]] = map_distinct(column, lambda v: [part.strip() for part in str(v).split(delimiter)])


@operation("variable_is_null")
def variable_is_null(study, frame: EvalFrame, op: dict) -> None:
    data = study.current_data if op.get("source") == "submission" else frame.df
    name = frame.resolve(op.get("name"))
    frame.values[op["id"]] = Const(name not in data.columns or bool(data[name].isna().all()))


@operation("permissible_variables")
def permissible_variables(study, frame: EvalFrame, op: dict) -> None:
    frame.values[op["id"]] = Const(library.variables_with_core(study.current.domain_cleaned or study.current.name, "Perm"))


@operation("required_expected_variables")
def required_expected_variables(study, frame: EvalFrame, op: dict) -> None:
    table = library.domain_variables(study.current.domain_cleaned or study.current.name)
    if table.empty:
        raise LibraryGap(f"{study.current.name} is not an SDTMIG 3.4 domain")
    frame.values[op["id"]] = Const(table.loc[table["core"].isin(["Req", "Exp"]), "name"].tolist())


@operation("standard_domains")
def standard_domains(study, frame: EvalFrame, op: dict) -> None:
    frame.values[op["id"]] = Const(sorted(library.standard_domains()))


@operation("get_library_class_domains")
def library_class_domains(study, frame: EvalFrame, op: dict) -> None:
    wanted = op.get("domain_class")
    table = library.sdtmig_datasets()
    classes = table["class"].map(library.CLASS_NAMES)
    rows = table if not wanted else table[classes == str(wanted).upper()]
    frame.values[op["id"]] = Const([d for d in rows["domain"] if d != "SUPPQUAL"])


@operation("variable_names")
def variable_names(study, frame: EvalFrame, op: dict) -> None:
    frame.values[op["id"]] = Const(sorted(set(library.sdtmig_variables()["name"])))


@operation("related_domain_is_custom")
def related_domain_is_custom(study, frame: EvalFrame, op: dict) -> None:
    info = study.current
    related = info.rdomain if info.is_supp else (info.domain_cleaned if info.is_ap else None)
    related = related[2:] if related and related.startswith("AP") and len(related) == 4 else related
    frame.values[op["id"]] = Const(bool(related) and related not in library.standard_domains())


@operation("codelist_extensible")
def codelist_extensible(study, frame: EvalFrame, op: dict) -> None:
    ct = study.terminology
    wanted = str(op.get("codelist") or "")
    found = [cl for cl in (ct.by_code.values() if ct is not None else []) if wanted in (cl.short, cl.code)]
    if not found:
        raise LibraryGap(f"codelist_extensible: {wanted} is not in the loaded CT")
    frame.values[op["id"]] = Const(bool(found[0].extensible))


def _referenced_metadata(study, frame: EvalFrame, op: dict, by: str) -> None:
    """Library metadata of the variable each record names (QNAM) or labels (QLABEL), as columns ``<id>_name``..."""
    info = study.current
    domain = info.rdomain if info.is_supp else (info.domain_cleaned or info.name)
    table = library.domain_variables(domain)
    keys = frame.column(op.get("name")).astype(object)
    lookup = table.drop_duplicates(subset=[by]).set_index(by)
    for field, column in (("name", "name"), ("role", "role"), ("ordinal", "order"), ("core", "core"),
                          ("label", "label")):
        mapping = lookup[column] if column != by else pd.Series(lookup.index, index=lookup.index)
        frame.df[f"{op['id']}_{field}"] = keys.map(mapping).to_numpy()


OPERATIONS["name_referenced_variable_metadata"] = lambda s, f, o: _referenced_metadata(s, f, o, "name")
OPERATIONS["label_referenced_variable_metadata"] = lambda s, f, o: _referenced_metadata(s, f, o, "label")


def run_operations(study, frame: EvalFrame, operations: list) -> None:
    for op in operations:
        func = OPERATIONS.get(op.get("operator"))
        if func is None:
            raise UnsupportedOperation(op.get("operator"))
        func(study, frame, op)


class UnsupportedOperation(Exception):
    def __init__(self, name):
        super().__init__(f"operation {name!r} is not supported")
        self.name = name

