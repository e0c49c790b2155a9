"""Load the ADaM spec (adam.yaml), check it against its JSON Schema and against the derivation
library, and report every error at once with its file and path, e.g.

    specs/studies/nct05153070/adam.yaml: datasets.ADLB.steps[3].args.by_vars: unknown argument ...
"""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from specs.errors import Problem, SpecError
from specs.loader import read_yaml

from .derive import STEPS

DEFAULT_STUDY = "nct05153070"
CONDITION_ARGS = ("where", "filter", "filter_add", "condition")
NESTED_CONDITION_ARGS = ("definitions", "basetypes", "definition")  # lists of {where: ...}
DATASET_ARGS = ("dataset_add", "dataset_ref")


def default_spec_path(study: str = DEFAULT_STUDY) -> Path:
    return Path(str(resources.files("specs") / "studies" / study / "adam.yaml"))


def _schema() -> dict:
    return json.loads((resources.files("specs") / "schemas" / "adam.schema.json").read_text("utf-8"))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


@dataclass
class AdamSpec:
    """A checked ADaM spec: ``datasets`` in build order (working datasets included)."""

    file: str
    data: dict

    @property
    def datasets(self) -> dict[str, dict]:
        return self.data["datasets"]

    @cached_property
    def liveness(self):
        """Which variables each step still needs (adam.liveness), worked out once per spec: a worker
        builds chunk after chunk with the same spec."""
        from .liveness import Liveness  # (liveness reads this module's DATASET_ARGS)

        return Liveness(self.datasets)

    def outputs(self) -> list[str]:
        """The datasets to write (``output`` is not false), in spec order."""
        return [n for n, d in self.datasets.items() if d.get("output", True)]

    def variables(self, dataset: str) -> list[dict]:
        return list(self.datasets[dataset].get("variables", []))

    def xpt_variables(self, dataset: str) -> list:
        """``define.xpt.XptVariable`` list of an output dataset (length "auto" -> None)."""
        from define.xpt import XptVariable  # lazy: define is written beside us

        return [XptVariable(v["name"], v["label"], v["type"],
                            length=None if v["type"] == "Num" or v.get("length", "auto") == "auto" else v["length"],
                            format=v.get("format")) for v in self.variables(dataset)]


def _check_args(name: str, i: int, step: dict, earlier: list[str], later: list[str]) -> list[str]:
    """Problems of one step: unknown function or argument, missing argument, bad reference or condition."""
    where = f"datasets.{name}.steps[{i}]"
    func = STEPS.get(step.get("step"))
    if func is None:
        return [f"{where}.step: unknown step {step.get('step')!r} in dataset {name} "
                f"(known: {', '.join(sorted(STEPS))})"]
    args = step.get("args") or {}
    params = inspect.signature(func).parameters
    problems = [f"{where}.args.{a}: unknown argument of {step['step']} in dataset {name} "
                f"(arguments: {', '.join(p for p in params if p != 'dataset')})"
                for a in args if a not in params or a == "dataset"]
    problems += [f"{where}.args: {step['step']} in dataset {name} needs argument {p!r}"
                 for p, par in params.items() if p != "dataset" and par.default is inspect.Parameter.empty
                 and p not in args]
    for a in DATASET_ARGS:
        ref = args.get(a)
        if isinstance(ref, str) and (ref in later or ref == name):
            problems.append(f"{where}.args.{a}: {ref!r} is built later in the spec; move it before {name}")
    problems += _check_conditions(args, f"{where}.args")
    return problems


def _check_conditions(args: dict, where: str) -> list[str]:
    from specs.conditions import parse_condition

    found = [(f"{where}.{a}", args[a]) for a in CONDITION_ARGS if isinstance(args.get(a), str)]
    for a in NESTED_CONDITION_ARGS:
        for j, item in enumerate(args.get(a) or [] if isinstance(args.get(a), list) else []):
            if isinstance(item, dict) and isinstance(item.get("where"), str):
                found.append((f"{where}.{a}[{j}].where", item["where"]))
    problems = []
    for path, text in found:
        try:
            parse_condition(text)
        except Exception as exc:  # the grammar's message, located in the spec
            problems.append(f"{path}: {exc}")
    return problems


def check_adam_spec(data: Any) -> list[str]:
    """Every problem of a parsed spec, as 'path: message' (empty list: the spec is usable)."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"{_path(e.absolute_path) or '(top)'}: {e.message}" for e in errors]
    if problems or not isinstance(data, dict):
        return problems
    names = list(data["datasets"])
    for k, (name, ds) in enumerate(data["datasets"].items()):
        earlier, later = names[:k], names[k + 1:]
        sources = [ds["source"]] if isinstance(ds["source"], str) else ds["source"]
        for s in sources:
            if s in later or s == name:
                problems.append(f"datasets.{name}.source: {s!r} is built later in the spec; move it before {name}")
        for i, step in enumerate(ds.get("steps", [])):
            problems += _check_args(name, i, step, earlier, later)
        variables = ds.get("variables", [])
        seen: set[str] = set()
        for j, v in enumerate(variables):
            if v["name"] in seen:
                problems.append(f"datasets.{name}.variables[{j}].name: {v['name']!r} is declared twice")
            seen.add(v["name"])
            if v.get("format", "").upper().startswith("DATE") and v["type"] != "Num":
                problems.append(f"datasets.{name}.variables[{j}]: {v['name']} has format {v['format']} "
                                f"but type {v['type']} (ADaM dates are numeric)")
        for key in ds.get("keys", []):
            if key not in seen:
                problems.append(f"datasets.{name}.keys: {key!r} is not a declared variable of {name}")
    return problems


def load_adam_spec(path: str | Path | None = None) -> AdamSpec:
    """Read and check an ADaM spec (default: the shipped NCT05153070 spec).

    Raises SpecError listing every problem as ``file: path: message``."""
    file = Path(path) if path is not None else default_spec_path()
    shown = _display(file)
    read_problems: list[Problem] = []
    data = read_yaml(file, read_problems)  # UTF-8, a file, limited aliases: one message per problem
    if read_problems:
        raise SpecError(read_problems)
    from specs.loader import format_path
    from specs.todo import refuse_todos

    refuse_todos([(data, shown)], format_path)
    problems = check_adam_spec(data)
    if problems:
        raise SpecError([Problem(shown, p) for p in problems])
    return AdamSpec(shown, data)
