"""Run open rules on a package: pick the datasets each rule's scope selects, build the table its rule
type checks, join and derive what it asks for, evaluate the check, and report the flagged records.

A rule that cannot run on a dataset (a variable it needs is absent, a dataset an operation reads is
missing, library metadata is not shipped) is not a finding: it is listed in the skips with the reason,
as CORE lists execution errors and absent-variable skips.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from validate.openrules import library
from validate.openrules.frame import ROW, Const, EvalFrame, GroupedSet, MissingVariable, RuleDataError
from validate.openrules.library import LibraryGap
from validate.openrules.loader import OpenRule
from validate.openrules.merge import apply_matches, referenced_names
from validate.openrules.operations import OperationDomainMissing, UnsupportedOperation, run_operations
from validate.openrules.operators import UnsupportedOperator, evaluate, is_null_value
from validate.openrules.scope import DatasetInfo, applies, dataset_class, dataset_info

STUDY = "STUDY"  # the dataset name CORE reports for study-level (domain presence) findings


@dataclass
class Issue:
    """One flagged record (or dataset, ``row`` None) with the values of the rule's output variables."""

    rule: OpenRule
    dataset: str
    row: int | None
    values: dict  # variable -> value (display text; 'Not in dataset' when absent)
    message: str


@dataclass
class Skip:
    rule: OpenRule
    dataset: str
    reason: str
    kind: str  # 'missing variable', 'unsupported', 'library', 'data', 'domain missing'


@dataclass
class RunResult:
    issues: list[Issue] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    checked: list[tuple[str, str]] = field(default_factory=list)  # (rule id, dataset) pairs evaluated
    seconds: dict = field(default_factory=dict)  # rule id -> time spent


class Study:
    """The package as the rules see it: datasets with their CORE metadata, looked up by domain."""

    def __init__(self, package, terminology=None):
        self.package = package
        self.datasets: dict[str, pd.DataFrame] = package.datasets
        self.terminology = terminology
        self.infos: dict[str, DatasetInfo] = {}
        for name, df in package.datasets.items():
            meta = package.meta.get(name)
            path = getattr(meta, "path", None)
            self.infos[name] = dataset_info(name, df, path.name if path is not None else name.lower(),
                                            getattr(meta, "label", "") or "")
        self.classes = {name: dataset_class(info, self.datasets[name]) for name, info in self.infos.items()}
        self.current: DatasetInfo | None = None
        self.current_data: pd.DataFrame | None = None
        self.cache: dict = {}  # tables and joins several rules share, built once (rules get shallow copies)
        self.null_cache: dict = {}  # null masks of their columns

    def table(self, key, build):
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key].copy(deep=False)

    def find(self, domain: str) -> DatasetInfo | None:
        """The dataset of a domain (its DOMAIN value), else the dataset of that name."""
        for info in self.infos.values():
            if info.domain == domain and not info.is_split:
                return info
        for info in self.infos.values():
            if info.domain == domain:
                return info
        return self.infos.get(domain)

    def file_size(self, name: str) -> int | None:
        meta = self.package.meta.get(name)
        path = getattr(meta, "path", None)
        try:
            return path.stat().st_size if path is not None else None
        except OSError:
            return None

    def referenced_variables(self, data: pd.DataFrame, column: str) -> set:
        """Values of ``column`` (IDVAR) that are variables of the dataset each record's RDOMAIN names."""
        if column not in data.columns or "RDOMAIN" not in data.columns:
            raise MissingVariable(column if column not in data.columns else "RDOMAIN")
        out = set()
        for rdomain, name in data[["RDOMAIN", column]].dropna().drop_duplicates().itertuples(index=False):
            found = self.find(str(rdomain))
            if found is not None and name in self.datasets[found.name].columns:
                out.add(name)
        return out


# ----------------------------------------------------------------------------------- rule-type tables
def _record_table(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy()
    out[ROW] = np.arange(1, len(out) + 1)
    return out


def _variable_table(study: Study, name: str) -> pd.DataFrame:
    meta = study.package.meta.get(name)
    data = study.datasets[name]
    rows = []
    for order, column in enumerate(data.columns, start=1):
        v = meta.variables.get(column) if meta is not None else None
        series = data[column]
        empty = series.isna()
        rows.append({"variable_name": column, "variable_order_number": order,
                     "variable_label": v.label if v else None, "variable_size": v.length if v else None,
                     "variable_data_type": v.type if v else None, "variable_format": v.format if v else None,
                     "variable_has_empty_values": bool(empty.any()), "variable_is_empty": bool(empty.all())})
    table = pd.DataFrame(rows, columns=["variable_name", "variable_order_number", "variable_label", "variable_size",
                                        "variable_data_type", "variable_format", "variable_has_empty_values",
                                        "variable_is_empty"])
    table[ROW] = np.arange(1, len(table) + 1)
    return table


def _dataset_table(study: Study, info: DatasetInfo) -> pd.DataFrame:
    return pd.DataFrame({"dataset_name": [info.name], "dataset_label": [info.label],
                         "dataset_location": [info.filename], "dataset_size": [study.file_size(info.name)],
                         "dataset_domain": [info.domain], ROW: [1]})


def _presence_table(study: Study) -> pd.DataFrame:
    row = {}
    for name, info in study.infos.items():
        row.setdefault(info.domain or name, info.filename)
        row.setdefault(name, info.filename)
    table = pd.DataFrame([row])
    table[ROW] = 1
    return table


def _value_frames(study: Study, info: DatasetInfo, with_dataset: bool, lengths: bool = True):
    """One frame per variable (long format, a variable at a time, so a dataset is never multiplied by its
    width): the variable's values and record numbers as columns, its metadata (name, label, type...) as
    constants, so a condition on them is tested once per variable."""
    data = study.datasets[info.name]
    meta = study.package.meta.get(info.name)
    n = len(data)
    rows = np.arange(1, n + 1)
    dataset = _dataset_table(study, info).iloc[0].drop(ROW).to_dict() if with_dataset else {}
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


def _define_item_table(study: Study, info: DatasetInfo) -> pd.DataFrame:
    define = study.package.define
    if define is None:
        raise LibraryGap("the rule checks define.xml and the package has none")
    group = define.groups.get(info.name) or define.groups.get(info.unsplit_name)
    if group is None:
        raise RuleDataError(f"define.xml does not describe {info.name}")
    rows = []
    for order, ref in enumerate(group.items, start=1):
        item = define.items.get(ref.item_oid)
        codelist = define.codelists.get(item.codelist_oid) if item is not None and item.codelist_oid else None
        rows.append({
            "define_variable_name": ref.name, "define_variable_label": item.label if item else None,
            "define_variable_data_type": item.data_type if item else None,
            "define_variable_size": item.length if item else None,
            "define_variable_order_number": ref.order if ref.order is not None else order,
            "define_variable_mandatory": "Yes" if ref.mandatory else "No",
            "define_variable_has_codelist": codelist is not None,
            "define_variable_ccode": codelist.code if codelist is not None else None,
            "define_variable_codelist_coded_values": list(codelist.terms) if codelist is not None else [],
            "define_variable_codelist_coded_codes": [c for c in codelist.terms.values() if c]
            if codelist is not None else [],
        })
    table = pd.DataFrame(rows)
    lib = library.domain_variables(info.domain_cleaned)
    lib = lib.rename(columns={"name": "define_variable_name", "label": "library_variable_label",
                              "type": "library_variable_data_type", "core": "library_variable_core",
                              "role": "library_variable_role", "order": "library_variable_order_number"})
    if not table.empty:
        table = table.merge(lib.drop(columns=["domain", "class"]), on="define_variable_name", how="left")
        table["library_variable_name"] = table["define_variable_name"].where(table["library_variable_label"].notna())
    table[ROW] = np.arange(1, len(table) + 1)
    return table


# ------------------------------------------------------------------------------------------ findings
def _display(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.0f}" if float(value).is_integer() else repr(float(value))
    if isinstance(value, (set, frozenset)):
        return repr(sorted(value, key=str))
    if isinstance(value, (list, tuple)):
        return repr([None if is_null_value(v) else v for v in value])
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if value is pd.NA:
        return ""
    return str(value)


def _output_names(rule: OpenRule, frame: EvalFrame) -> list[str]:
    domain = frame.prefix or ""
    if rule.output_variables:
        names = [v.replace("--", domain, 1) if v.startswith("--") else v for v in rule.output_variables]
    else:
        names = []

        def walk(node):
            if isinstance(node, dict):
                for key in ("all", "any"):
                    for child in node.get(key, []):
                        walk(child)
                if "not" in node:
                    walk(node["not"])
                if "operator" in node and isinstance(node.get("name"), str):
                    names.append(node["name"].replace("--", domain) if node["name"].startswith("--")
                                 else node["name"])

        walk(rule.check)
    out = []
    for name in names:
        if name not in out:
            out.append(name)
    return sorted(out)


def _issues(rule: OpenRule, frame: EvalFrame, mask: np.ndarray, dataset: str, row_numbers: bool) -> list[Issue]:
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return []
    if rule.sensitivity == "Dataset":
        rows = rows[:1]
    names = _output_names(rule, frame)
    for name in list(names):  # an output that lists variable names ($TIMING_VARIABLES) reports those too
        value = frame.values.get(name)
        if isinstance(value, Const) and isinstance(value.value, list):
            names.extend(v for v in value.value if isinstance(v, str) and v in frame.df.columns and v not in names)
    names = sorted(names)
    columns = {}
    for name in names:
        if name in frame.df.columns:
            series = frame.df[name]
            columns[name] = [_display(series.iloc[r]) for r in rows]
        elif name in frame.values:
            value = frame.values[name]
            if isinstance(value, Const):
                columns[name] = [_display(value.value)] * len(rows)
            elif isinstance(value, GroupedSet):
                columns[name] = [_display(v) for v in value.per_row(frame, rows)]
        else:
            columns[name] = ["Not in dataset"] * len(rows)
    message = rule.message.replace("--", frame.domain or "")
    record = frame.df[ROW].to_numpy() if ROW in frame.df.columns else np.arange(1, frame.n + 1)
    out = []
    for i, r in enumerate(rows):
        row = int(record[r]) if row_numbers and rule.sensitivity != "Dataset" else None
        out.append(Issue(rule, dataset, row, {name: columns[name][i] for name in names}, message))
    return out


# ------------------------------------------------------------------------------------------- running
def _evaluate(study: Study, rule: OpenRule, info: DatasetInfo, table: pd.DataFrame, run_ops: bool = True,
              referenced: set | None = None) -> tuple[EvalFrame, np.ndarray]:
    frame = EvalFrame(df=table, prefix=info.domain_cleaned, domain=info.domain, name=info.name,
                      cache=study.null_cache)
    if rule.match_datasets and rule.rule_type == "Record Data":
        key = ("matched", info.name, tuple(rule.match_datasets),
               tuple(sorted(n for n in referenced or () if "." in n)))
        frame.df = study.table(key, lambda: apply_matches(study, frame.df, rule, referenced or set()))
    if run_ops and rule.operations:
        run_operations(study, frame, rule.operations)
    return frame, evaluate(frame, rule.check)


def _skip_kind(exc: Exception) -> str:
    return {MissingVariable: "missing variable", UnsupportedOperator: "unsupported", UnsupportedOperation:
            "unsupported", LibraryGap: "library", OperationDomainMissing: "domain missing"}.get(type(exc), "data")


def _skip_reason(exc: Exception) -> str:
    if isinstance(exc, MissingVariable):
        return f"{exc.name} is not in the dataset"
    return str(exc)


SKIPPED = (MissingVariable, UnsupportedOperator, UnsupportedOperation, LibraryGap, OperationDomainMissing,
           RuleDataError)


def run_rule(rule: OpenRule, study: Study, result: RunResult) -> None:
    referenced = referenced_names(rule.check, set()) | set(rule.output_variables)
    in_scope = []
    for name, info in study.infos.items():
        ok, _why = applies(rule, info, study.classes[name])
        if ok:
            in_scope.append(info)
    if rule.rule_type == "Domain Presence Check":
        if not in_scope:
            return
        info = in_scope[0]
        study.current, study.current_data = info, study.datasets[info.name]
        try:
            frame, mask = _evaluate(study, rule, info, _presence_table(study), referenced=referenced)
        except SKIPPED as exc:
            result.skips.append(Skip(rule, STUDY, _skip_reason(exc), _skip_kind(exc)))
            return
        result.checked.append((rule.core_id, STUDY))
        result.issues.extend(_issues(rule, frame, mask, STUDY, row_numbers=False))
        return
    for info in in_scope:
        study.current, study.current_data = info, study.datasets[info.name]
        try:
            if rule.rule_type in ("Value Check with Variable Metadata", "Value Check with Dataset Metadata"):
                issues = []
                operations_frame = None
                for frame in _value_frames(study, info, rule.rule_type.endswith("Dataset Metadata"),
                                           "variable_value_length" in referenced):
                    if rule.operations:
                        if operations_frame is None:
                            operations_frame = EvalFrame(df=frame.df.iloc[0:0].copy(), prefix=info.domain_cleaned,
                                                         domain=info.domain, name=info.name)
                            run_operations(study, operations_frame, rule.operations)
                        frame.values.update(operations_frame.values)
                    try:
                        mask = evaluate(frame, rule.check)
                    except MissingVariable:
                        continue
                    issues.extend(_issues(rule, frame, mask, info.name, row_numbers=True))
                if rule.sensitivity == "Dataset":
                    issues = issues[:1]
                result.checked.append((rule.core_id, info.name))
                result.issues.extend(issues)
                continue
            if rule.rule_type == "Record Data":
                table = study.table(("records", info.name), lambda: _record_table(study.datasets[info.name]))
            elif rule.rule_type == "Variable Metadata Check":
                table = study.table(("variables", info.name), lambda: _variable_table(study, info.name))
            elif rule.rule_type == "Dataset Metadata Check":
                table = study.table(("dataset", info.name), lambda: _dataset_table(study, info))
            elif rule.rule_type == "Define Item Metadata Check against Library Metadata":
                table = _define_item_table(study, info)
            else:
                raise UnsupportedOperation(f"rule type {rule.rule_type}")
            frame, mask = _evaluate(study, rule, info, table, referenced=referenced)
        except SKIPPED as exc:
            result.skips.append(Skip(rule, info.name, _skip_reason(exc), _skip_kind(exc)))
            continue
        result.checked.append((rule.core_id, info.name))
        result.issues.extend(_issues(rule, frame, mask, info.name, row_numbers=True))


def run_rules(rules: list[OpenRule], package, terminology=None) -> RunResult:
    study = Study(package, terminology)
    result = RunResult()
    for rule in rules:
        started = time.perf_counter()
        run_rule(rule, study, result)
        result.seconds[rule.core_id] = time.perf_counter() - started
    return result
