"""Findings results in standard units: STRESC/STRESU/STRESN from ORRES and ORRESU through the study's
declared conversions, converted reference limits, and the reference range indicator; each worked out once
per distinct (result, unit, test, decimal mark)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from sdtm.numbers import number_text, parse_numbers, read_numbers
from sdtm.unique import on_unique, shared_text, text_is, text_of
from specs.units import DOC, conversions


def convert_result(orres: pd.Series, orresu: pd.Series, testcd: pd.Series, standard_units: dict,
                   decimal=".") -> tuple[pd.Series, pd.Series, pd.Series]:
    """(STRESC, STRESU, problem), computed once per distinct (result, unit, test, decimal mark).

    problem is '' for a result that converts (or needs no conversion) and otherwise says why it cannot
    be standardized; see _convert_result.
    """
    marks = decimal if isinstance(decimal, pd.Series) else pd.Series(decimal, index=orres.index, dtype=object)
    stresc, stresu, problem = on_unique(
        lambda r, u, t, m: _convert_result(r.fillna(""), u.fillna(""), t.fillna(""), m, standard_units),
        orres, orresu, testcd, marks)
    return stresc.astype(object), stresu.astype(object), problem.astype(object)


def _round_text(values: pd.Series, places: pd.Series) -> pd.Series:
    """Numbers as text, rounded to the declared decimals halves away from zero (as SAS ROUND and the
    expression grammar's round(): 0.0005 to 3 decimals is 0.001, not the binary float's 0.000)."""
    out = []
    for value, digits in zip(values, places):
        if pd.isna(value):
            out.append("")
        elif pd.notna(digits):
            quantum = Decimal(1).scaleb(-int(digits))
            out.append(str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)))
        else:
            out.append(f"{float(value):.10g}")
    return pd.Series(out, index=values.index, dtype=object)


def _convert_numbers(number: pd.Series, testcd: pd.Series, orresu: pd.Series, standard_units: dict
                     ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(converted, known, problem) for each (test, unit) pair's conversion of the test's table."""
    converted = pd.Series(np.nan, index=number.index, dtype=float)
    known = pd.Series(False, index=number.index)
    problem = pd.Series("", index=number.index, dtype=object)
    pairs = pd.DataFrame({"t": testcd.astype(object), "u": orresu.astype(object)})
    for (test, unit), rows in pairs.groupby(["t", "u"], sort=False).groups.items():
        entry = standard_units.get(test)
        conversion = conversions(entry).get(unit) if isinstance(entry, dict) else None
        if conversion is None:
            continue
        values, why = conversion.apply(number.loc[rows])
        converted.loc[rows], known.loc[rows], problem.loc[rows] = values, True, why
    return converted, known, problem


def _convert_result(orres: pd.Series, orresu: pd.Series, testcd: pd.Series, marks: pd.Series,
                    standard_units: dict) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(STRESC, STRESU, problem): the result in the test's standard unit, as text.

    A test with a standard unit (``standard_units``) is quantitative, and so is any result reported with a
    unit (a unit measures a number): its result must be a number or a qualified number ('<0.02') written
    with the record's decimal mark. In the standard unit it is copied as
    reported (precision and qualifier kept, a decimal comma written as a point); in a unit of the test's
    conversion table (``specs.units``: factor, offset, formula or molar mass) it is converted and rounded
    to the stated decimals ('<x' converts x). A result with no unit, a unit with no conversion, or text
    that is not a number is a problem, never copied under the standard unit.
    Tests without a standard unit keep their result (decimal point normalized) and their unit.
    """
    entries = testcd.map(lambda t: standard_units.get(t))
    standard = entries.map(lambda e: e.get("unit") if isinstance(e, dict) else None)
    has_standard = standard.notna()
    text = orres.astype(str).str.strip()
    present = text != ""
    qualifier, number, kind = read_numbers(text, marks)
    same_unit = orresu == standard.fillna("\x00")
    number_in_standard, known, formula_problem = _convert_numbers(number, testcd, orresu, standard_units)
    decimals = entries.map(lambda e: e.get("decimals") if isinstance(e, dict) else None)
    convert = has_standard & ~same_unit & known
    converted = qualifier + _round_text(number_in_standard, decimals)
    cannot = has_standard & ~same_unit & ~known  # no value rather than a value in the wrong unit
    stresc = number_text(text, marks).where(~convert, converted).where(present & ~cannot, "")
    stresu = standard.where(has_standard, orresu).where(present, "").astype(object)

    problem = pd.Series("", index=orres.index, dtype=object)
    quantitative = (has_standard | (orresu.astype(str) != "")) & present
    not_number = quantitative & kind.eq("text")
    problem = problem.mask(not_number, "is not a number" + pd.Series(
        np.where(marks == ",", " (decimal comma)", ""), index=orres.index))
    failed = quantitative & convert & kind.ne("text") & (formula_problem != "")
    problem = problem.mask(failed, "cannot be converted from " + orresu + ": " + formula_problem)
    no_factor = quantitative & has_standard & ~same_unit & ~known & (orresu != "")
    unit_text = "is in " + orresu + ", which " + no_factor_text(orresu, testcd, standard.fillna(""))
    problem = problem.mask(no_factor, unit_text.where(~not_number, problem + "; it " + unit_text))
    no_unit = quantitative & (orresu == "")
    problem = problem.mask(no_unit, "has no unit (the standard unit of " + testcd + " is " +
                           standard.fillna("") + ")")
    return stresc.astype(object), stresu, problem


def no_factor_text(unit: pd.Series, testcd: pd.Series, standard: pd.Series) -> pd.Series:
    return ("has no conversion to the standard unit " + standard + " of " + testcd + " (add '" + unit +
            "' to standard_units." + testcd + ".factors or .conversions; " + DOC + ")")


def convert_limit(ornr: pd.Series, orresu: pd.Series, testcd: pd.Series, standard_units: dict,
                  decimal=".") -> tuple[pd.Series, pd.Series]:
    """(STNR, problem): a reference range limit in the standard unit, as a number."""
    stresc, _, problem = convert_result(ornr, orresu, testcd, standard_units, decimal)
    number, invalid = parse_numbers(stresc)
    problem = problem.mask(text_is(problem, "") & invalid, "is not a number")
    return number.astype(float), problem


def numeric_result(stresc: pd.Series) -> pd.Series:
    """STRESN: the number in STRESC, null for '<0.02' and other text."""
    number, _ = parse_numbers(text_of(stresc))
    return number.astype(float)


def reference_range_indicator(stresn: pd.Series, low: pd.Series, high: pd.Series,
                              stresc: pd.Series | None = None) -> pd.Series:
    """NORMAL, LOW or HIGH against the range; '' without a result or a range.

    With ``stresc``, a result reported beyond a limit of quantitation has a position too when the range
    decides it: '<0.02' (below 0.02) is LOW for a lower limit of 0.02 or more, '<=0.02' for one above 0.02;
    '>500' is HIGH for an upper limit of 500 or less, '>=500' for one below 500. Otherwise it stays ''.
    """
    out = pd.Series("", index=stresn.index, dtype=object)
    has_range = low.notna() | high.notna()
    out = out.mask(stresn.notna() & has_range, "NORMAL")
    out = out.mask(stresn.notna() & low.notna() & (stresn < low), "LOW")
    out = out.mask(stresn.notna() & high.notna() & (stresn > high), "HIGH")
    if stresc is not None:
        qualifier, bound, kind = read_numbers(text_of(stresc))
        qualified = stresn.isna() & text_is(kind, "qualified")
        below = qualified & low.notna() & ((text_is(qualifier, "<") & (bound <= low)) |
                                           (text_is(qualifier, "<=") & (bound < low)))
        above = qualified & high.notna() & ((text_is(qualifier, ">") & (bound >= high)) |
                                            (text_is(qualifier, ">=") & (bound > high)))
        out = out.mask(below, "LOW").mask(above, "HIGH")
    return shared_text(out)
