"""Run open rules on a package: pick the datasets each rule's scope selects, build the table its rule
type checks, join and derive what it asks for, evaluate the check, and report the flagged records.

A rule that cannot run on a dataset (a variable it needs is absent, a dataset an operation reads is
missing, library metadata is not shipped) is not a finding: it is listed in the skips with the reason,
as CORE lists execution errors and absent-variable skips.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from validate.openrules import tables
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


def _display_all(values: list) -> list[str]:
    """_display of each value, worked out once per distinct value (a rule may flag every record of a dataset)."""
    memo: dict = {}
    out = []
    for value in values:
        try:
            key = (type(value), value)  # 1 and True are equal keys but display differently
            text = memo.get(key)
            if text is None:
                text = memo[key] = _display(value)
        except TypeError:  # unhashable (a list of a collection column)
            text = _display(value)
        out.append(text)
    return out


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
            columns[name] = _display_all(frame.df[name].iloc[rows].tolist())
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


STUDY_LEVEL = {"Domain Presence Check": tables.presence_table,
               "Domain Presence Check against Define XML": tables.presence_table_with_define}
DATASET_LEVEL = {  # rule type -> (cache key, builder): the table one dataset is checked on
    "Record Data": ("records", lambda study, info: tables.record_table(study.datasets[info.name])),
    "Variable Metadata Check": ("variables", lambda study, info: tables.variable_table(study, info.name, True)),
    "Dataset Metadata Check": ("dataset", tables.dataset_table),
    "Variable Metadata Check against Define XML": (
        None, lambda study, info: tables.variable_table_with(study, info, define=True, library_metadata=False)),
    "Variable Metadata Check against Library Metadata": (
        None, lambda study, info: tables.variable_table_with(study, info, define=False, library_metadata=True)),
    "Variables Metadata Check against Define XML and Library Metadata": (
        None, lambda study, info: tables.variable_table_with(study, info, define=True, library_metadata=True)),
    "Dataset Metadata Check against Define XML": (None, tables.dataset_table_with_define),
    "Define Item Group Metadata Check": (None, tables.define_group_table),
    "Define Item Metadata Check": (None, lambda study, info: tables.define_item_table(study, info, False)),
    "Define Item Metadata Check against Library Metadata": (
        None, lambda study, info: tables.define_item_table(study, info, True)),
}
VALUE_CHECKS = ("Value Check with Variable Metadata", "Value Check with Dataset Metadata")
AGAINST_DEFINE = ("Variable Metadata Check against Define XML",
                  "Variables Metadata Check against Define XML and Library Metadata")


def _compare_with_define(node):
    """CORE's macro for the 'against Define XML' types: a condition without a value compares its variable
    with define.xml's (variable_label with define_variable_label)."""
    if isinstance(node, dict):
        if "operator" in node and "value" not in node and str(node.get("name", "")).startswith("variable_"):
            return {**node, "value": "define_" + node["name"]}
        return {k: _compare_with_define(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_compare_with_define(v) for v in node]
    return node


def _value_check(study: Study, rule: OpenRule, info: DatasetInfo, referenced: set) -> list[Issue]:
    issues = []
    operations_frame = None
    for frame in tables.value_frames(study, info, rule.rule_type.endswith("Dataset Metadata"),
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
    return issues[:1] if rule.sensitivity == "Dataset" else issues


def run_rule(rule: OpenRule, study: Study, result: RunResult) -> None:
    referenced = referenced_names(rule.check, set()) | set(rule.output_variables)
    in_scope = [info for name, info in study.infos.items() if applies(rule, info, study.classes[name])[0]]
    if rule.rule_type in AGAINST_DEFINE:
        rule = replace(rule, check=_compare_with_define(rule.check))
    if rule.rule_type in STUDY_LEVEL:  # checked once for the study, when a dataset is in scope
        if not in_scope:
            return
        info = in_scope[0]
        study.current, study.current_data = info, study.datasets[info.name]
        try:
            frame, mask = _evaluate(study, rule, info, STUDY_LEVEL[rule.rule_type](study), referenced=referenced)
        except SKIPPED as exc:
            result.skips.append(Skip(rule, STUDY, _skip_reason(exc), _skip_kind(exc)))
            return
        result.checked.append((rule.core_id, STUDY))
        result.issues.extend(_issues(rule, frame, mask, STUDY, row_numbers=False))
        return
    for info in in_scope:
        study.current, study.current_data = info, study.datasets[info.name]
        try:
            if rule.rule_type in VALUE_CHECKS:
                issues = _value_check(study, rule, info, referenced)
            elif rule.rule_type in DATASET_LEVEL:
                key, build = DATASET_LEVEL[rule.rule_type]
                if key == "variables" and not {"variable_has_empty_values", "variable_is_empty"} & referenced:
                    key, build = "variable list", lambda study, info: tables.variable_table(study, info.name)
                table = (study.table((key, info.name), lambda: build(study, info)) if key
                         else build(study, info))
                frame, mask = _evaluate(study, rule, info, table, referenced=referenced)
                issues = _issues(rule, frame, mask, info.name, row_numbers=True)
            else:
                raise UnsupportedOperation(f"rule type {rule.rule_type}")
        except SKIPPED as exc:
            result.skips.append(Skip(rule, info.name, _skip_reason(exc), _skip_kind(exc)))
            continue
        result.checked.append((rule.core_id, info.name))
        result.issues.extend(issues)


def run_rules(rules: list[OpenRule], package, terminology=None) -> RunResult:
    study = Study(package, terminology)
    result = RunResult()
    for rule in rules:
        started = time.perf_counter()
        run_rule(rule, study, result)
        result.seconds[rule.core_id] = time.perf_counter() - started
    return result
