"""Unit conversion tables of findings tests (``standard_units`` of a domain in sdtm.yaml).

Each test with a standard unit lists the units its results may be collected in and how each converts:
by a factor (and an offset), by a formula of the expression grammar reading the result as ``x``, or by
the analyte's molar mass between a mass and a molar concentration. The kinds and unit scales are in
``specs.vocabulary``; this module checks a table and turns each entry into one ``Conversion``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from specs.errors import Problem
from specs.vocabulary import MASS_CONCENTRATION_UNITS, MOLAR_CONCENTRATION_UNITS, UNIT_CONVERSIONS

KINDS = tuple(UNIT_CONVERSIONS)
DOC = "see docs/spec-reference.md#unit-conversions"


@dataclass(frozen=True)
class Conversion:
    factor: float = 1.0
    offset: float = 0.0
    formula: str | None = None

    def apply(self, numbers: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(converted, problem): the numbers in the standard unit; problem '' or why one cannot convert."""
        numbers = numbers.astype(float)
        if self.formula is None:
            return numbers * self.factor + self.offset, pd.Series("", index=numbers.index, dtype=object)
        from specs.conditions import parse_expression

        values, problem = parse_expression(self.formula).evaluate(pd.DataFrame({"x": numbers}))
        values = pd.to_numeric(values, errors="coerce").astype(float)
        return values, problem.fillna("").astype(object)


def molar_factor(unit: str, standard: str, molar_mass: float) -> float | None:
    """The factor from a mass to a molar concentration (or back) for a molar mass in g/mol; None when the
    two units are not one of each kind."""
    if unit in MASS_CONCENTRATION_UNITS and standard in MOLAR_CONCENTRATION_UNITS:
        return MASS_CONCENTRATION_UNITS[unit] / molar_mass / MOLAR_CONCENTRATION_UNITS[standard]
    if unit in MOLAR_CONCENTRATION_UNITS and standard in MASS_CONCENTRATION_UNITS:
        return MOLAR_CONCENTRATION_UNITS[unit] * molar_mass / MASS_CONCENTRATION_UNITS[standard]
    return None


def conversions(entry: dict) -> dict[str, Conversion]:
    """unit -> Conversion of one test's entry (``factors`` and ``conversions`` together); entries that do
    not resolve (reported by check_units) are left out, so their units stay errors."""
    table = {unit: Conversion(float(factor)) for unit, factor in (entry.get("factors") or {}).items()
             if isinstance(factor, (int, float))}
    for unit, item in (entry.get("conversions") or {}).items():
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("factor"), (int, float)):
            table[unit] = Conversion(float(item["factor"]), float(item.get("offset") or 0.0))
        elif isinstance(item.get("formula"), str):
            table[unit] = Conversion(formula=item["formula"])
        elif isinstance(item.get("molar_mass"), (int, float)) and item["molar_mass"] > 0:
            factor = molar_factor(unit, entry.get("unit"), float(item["molar_mass"]))
            if factor is not None:
                table[unit] = Conversion(factor)
    return table


def check_units(where: str, units: dict) -> list[Problem]:
    """The conversion table of each test: one way per unit, formulas that parse and read only x, molar
    masses between units of known scale."""
    problems = []
    for testcd, entry in (units or {}).items():
        if not isinstance(entry, dict):
            continue
        base = f"{where}.{testcd}"
        standard = entry.get("unit")
        given = entry.get("conversions") or {}
        for unit in sorted(set(entry.get("factors") or {}) & set(given)):
            problems.append(Problem(f"{base}.conversions.{unit}", f"'{unit}' is also in factors: give one "
                                                                  f"conversion per unit"))
        for unit in sorted(set(entry.get("factors") or {}) | set(given)):
            if unit == standard:
                problems.append(Problem(f"{base}", f"'{unit}' is the standard unit of {testcd}: it needs no "
                                                   f"conversion"))
        for unit, item in given.items():
            if not isinstance(item, dict):
                continue
            path = f"{base}.conversions.{unit}"
            kinds = [k for k in KINDS if k in item]
            if len(kinds) != 1:
                problems.append(Problem(path, f"give exactly one of {', '.join(KINDS)} ({DOC})"))
                continue
            if "offset" in item and kinds != ["factor"]:
                problems.append(Problem(f"{path}.offset", "an offset goes with a factor"))
            if kinds == ["formula"]:
                problems += _check_formula(f"{path}.formula", item["formula"])
            if kinds == ["molar_mass"] and molar_factor(unit, standard, 1.0) is None:
                problems.append(Problem(f"{path}.molar_mass", (
                    f"a molar mass converts between a mass and a molar concentration; '{unit}' to '{standard}' is "
                    f"not one (mass: {', '.join(MASS_CONCENTRATION_UNITS)}; molar: "
                    f"{', '.join(MOLAR_CONCENTRATION_UNITS)}; {DOC})")))
    return problems


def _check_formula(path: str, text) -> list[Problem]:
    from specs.conditions import ConditionError, parse_expression

    try:
        expression = parse_expression(text)
    except ConditionError as exc:
        return [Problem(path, str(exc))]
    read = sorted(expression.columns - {"x"}) + sorted(expression.variables) + sorted(expression.tables)
    if read:
        return [Problem(path, f"a unit formula reads only the result, as x; not {', '.join(read)}")]
    try:  # a formula that gives text ('upper(x)') is not a conversion
        values, _ = expression.evaluate(pd.DataFrame({"x": np.array([1.0])}))
    except ConditionError as exc:
        return [Problem(path, str(exc))]
    if not pd.api.types.is_numeric_dtype(values):
        return [Problem(path, f"'{text}' does not give a number")]
    return []
