"""The check operators of the CORE rule format, on whole columns, and the evaluation of a check tree.

Each operator takes the evaluated table and one condition and returns one boolean per record: true where
the condition holds (a rule flags the records where its whole check holds).
"""
from __future__ import annotations

import numpy as np

from validate.openrules.frame import Const, EvalFrame, GroupedSet, MissingVariable
from validate.openrules.operators import groups, values  # noqa: F401 - registers the operators
from validate.openrules.operators.base import OPERATORS, _apply_regex, is_null_value, null_mask, nulls

__all__ = ["OPERATORS", "UnsupportedOperator", "evaluate", "is_null_value", "null_mask", "nulls", "_apply_regex"]


# ------------------------------------------------------------------------------------ evaluation
def evaluate(frame: EvalFrame, node: dict) -> np.ndarray:
    """The check tree on the frame: all = and, any = or (conditions on absent variables are ignored
    unless every branch is on one), not = complement."""
    if "all" in node:
        result = np.ones(frame.n, dtype=bool)
        children = node["all"]
        for i, child in enumerate(children):
            if child.get("operator") in SCOPED and i and not result.all():
                result &= _within(frame, child, result)
            else:
                result &= evaluate(frame, child)
            if not result.any():  # nothing can be flagged any more: the rest need not run, but a variable
                for rest in children[i + 1:]:  # they name that is absent still makes the rule not apply
                    _require_variables(frame, rest)
                break
        return result
    if "any" in node:
        result = np.zeros(frame.n, dtype=bool)
        missing = []
        for child in node["any"]:
            try:
                result |= evaluate(frame, child)
            except MissingVariable as exc:
                missing.append(exc.name)
        if node["any"] and len(missing) == len(node["any"]):
            raise MissingVariable(missing[0])
        return result
    if "not" in node:
        return ~evaluate(frame, node["not"])
    name = node.get("operator")
    func = OPERATORS.get(name)
    if func is None:
        raise UnsupportedOperator(name)
    if frame.n > 1 and _whole_table(frame, node):  # one value for every record: test it once
        one = EvalFrame(df=frame.df.iloc[:1], prefix=frame.prefix, domain=frame.domain, name=frame.name,
                        values=frame.values)
        return np.full(frame.n, bool(np.asarray(func(one, node), dtype=bool).reshape(-1)[0]))
    result = func(frame, node)
    return np.asarray(result, dtype=bool).reshape(-1) if frame.n else np.zeros(0, dtype=bool)


# A relationship between two variables is assessed among the records the earlier conditions of the same
# "all" select: CORE-000152 ("when TSVAL and TSVALCD are populated, one-to-one") must not count a TSVAL left
# uncoded in another parameter (COMPTRT PLACEBO) against the same TSVAL coded in TCNTRL. Rules without such
# conditions (CORE-000132, -000184, -000268) still count a null as a value, as their expected results do.
SCOPED = ("is_not_unique_relationship", "is_unique_relationship")


def _within(frame: EvalFrame, node: dict, selected: np.ndarray) -> np.ndarray:
    out = np.zeros(frame.n, dtype=bool)
    if selected.any():
        rows = np.flatnonzero(selected)
        sub = EvalFrame(df=frame.df.iloc[rows].reset_index(drop=True), prefix=frame.prefix, domain=frame.domain,
                        name=frame.name, values=frame.values)
        out[rows] = evaluate(sub, node)
    else:
        _require_variables(frame, node)
    return out


def _require_variables(frame: EvalFrame, node: dict) -> None:
    """Raise MissingVariable where evaluating ``node`` would, without evaluating it."""
    if "all" in node:
        for child in node["all"]:
            _require_variables(frame, child)
    elif "any" in node:
        missing = []
        for child in node["any"]:
            try:
                _require_variables(frame, child)
            except MissingVariable as exc:
                missing.append(exc.name)
        if node["any"] and len(missing) == len(node["any"]):
            raise MissingVariable(missing[0])
    elif "not" in node:
        _require_variables(frame, node["not"])
    elif node.get("operator") not in ("exists", "not_exists"):
        name = frame.resolve(node.get("name"))
        if isinstance(name, str) and name not in frame.df.columns and name not in frame.values:
            raise MissingVariable(name)


def _whole_table(frame: EvalFrame, node: dict) -> bool:
    """True when a condition compares table-wide values only ($count > 1, $domain_is_custom = true)."""
    target = frame.resolve(node.get("name"))
    if not (isinstance(target, str) and isinstance(frame.values.get(target), Const)) or target in frame.df.columns:
        return False
    if node.get("operator") in ("exists", "not_exists"):
        return True
    value = node.get("value")
    if isinstance(value, list):
        return not node.get("value_is_reference") and all(
            not (isinstance(v, str) and frame.resolve(v) in frame.df.columns) for v in value)
    if isinstance(value, str) and not node.get("value_is_literal"):
        resolved = frame.resolve(value)
        return resolved not in frame.df.columns and not isinstance(frame.values.get(resolved), GroupedSet)
    return not any(node.get(k) for k in ("within", "ordering", "value_is_reference"))


class UnsupportedOperator(Exception):
    def __init__(self, name):
        super().__init__(f"operator {name!r} is not supported")
        self.name = name
