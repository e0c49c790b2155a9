"""Controlled terms: values belong to their codelist (define.xml first, else the IG codelist in CT)."""
from __future__ import annotations

from dataclasses import dataclass

import re

import numpy as np
import pandas as pd

from specs.ct import MULTIPLE, multiple_allowed
from validate.registry import Context, concat, fail, prepare, rule
from validate.rules.common import char_columns, factorized, numeric, per_unique, text_in
from validate.standards import adam_structure, adamig_variables, sdtmig_variables

# Results whose codelist applies only to non-numeric values (a number is not a term of LBSTRESC).
RESULT_SUFFIXES = ("ORRES", "STRESC")


@dataclass
class Allowed:
    values: frozenset
    extensible: bool
    codelist: str  # readable name with C-code


def _from_define(context: Context, name: str, variable: str) -> Allowed | None:
    define = context.package.define
    cl = define.codelist(name, variable) if define is not None else None
    if cl is None or cl.external:
        return None
    ct_list = context.ct.get(cl.code) if context.ct is not None and cl.code else None
    if ct_list is not None:
        extensible = ct_list.extensible
    else:  # sponsor list, or a CDISC list the CT source does not carry
        extensible = cl.extensible_hint if cl.extensible_hint is not None else cl.code is None
    label = f"{cl.name} ({cl.code})" if cl.code else cl.name
    return Allowed(frozenset(cl.terms), extensible, label)


def _ig_codelists(context: Context, name: str) -> dict[str, tuple]:
    package = context.package
    if package.standard(name) == "SDTM":
        ig = sdtmig_variables(package.domain(name), context.version("SDTMIG") or "3.4")
    else:
        structure = adam_structure(name, package.columns(name))
        version = context.version("ADaMIG") or "1.3"
        ig = adamig_variables(structure, version) if structure else adamig_variables("", version)
    return {n: c for n, c in zip(ig["name"], ig["codelists"]) if c}


def _from_ct(context: Context, codes: tuple, where: str = "") -> Allowed | None:
    if context.ct is None:
        return None
    lists = [context.ct.get(code) for code in codes]
    lists = [cl for cl in lists if cl is not None]
    if not lists:
        if not getattr(context.ct, "complete", True):
            context.cache.setdefault("ct_not_checked", set()).add(f"{where} ({', '.join(codes)})")
        return None
    values = frozenset().union(*(cl.values for cl in lists))
    label = " / ".join(f"{cl.short} ({cl.code})" for cl in lists)
    return Allowed(values, any(cl.extensible for cl in lists), label)


QUALIFIED = re.compile(r"\s*(<=|>=|<|>)\s*[-+]?[0-9]*\.?[0-9]+\s*")


def _qualified_number(column: pd.Series) -> np.ndarray:
    """'<0.02', '>= 100': a number with a comparison, as results below or above a limit are reported."""
    return per_unique(column, lambda u: u.astype(str).str.fullmatch(QUALIFIED.pattern).fillna(False).to_numpy(dtype=bool))


def _distinct_qnams(context: Context, supp: str) -> set:
    """The QNAM values of a SUPP-- dataset, once (a few distinct names over many records)."""
    key = ("qnams", supp)
    if key not in context.cache:
        context.cache[key] = set(context.package.datasets[supp]["QNAM"].dropna().unique())
    return context.cache[key]


def _term_findings(context: Context) -> pd.DataFrame:
    """Every value outside its codelist, with whether that codelist is extensible (computed once)."""
    if "terms" in context.cache:
        return context.cache["terms"]
    table = concat([found for name in context.package.datasets for found in _terms_of(context, name)])
    if "extensible" not in table.columns:
        table["extensible"] = pd.Series(dtype=bool)
    context.cache["terms"] = table
    return table


@prepare("CT2001", "CT2002")
def _terms_by_unit(context: Context) -> None:
    for name in context.package.datasets:
        _terms_of(context, name)


def _terms_of(context: Context, name: str) -> list[pd.DataFrame]:
    """The values of dataset ``name`` outside their codelist (once per dataset)."""
    key = ("terms", name)
    if key in context.cache:
        return context.cache[key]
    frames = []
    package = context.package
    df = package.datasets[name]
    ig_lists = _ig_codelists(context, name)
    for variable in char_columns(context, name):
        allowed = _from_define(context, name, variable)  # define.xml first, else the IG codelist
        if allowed is None and variable in ig_lists:
            allowed = _from_ct(context, ig_lists[variable], f"{name}.{variable}")
        if allowed is None or not allowed.values:
            continue
        column = df[variable]
        bad = column.notna().to_numpy() & ~text_in(column, allowed.values, factorized(context, name, variable))
        if variable.endswith(RESULT_SUFFIXES):  # numeric results, plain or '<0.02', are not terms
            bad &= np.isnan(numeric(column)) & ~_qualified_number(column)
        supp = package.datasets.get(f"SUPP{name}")
        if supp is not None and "QNAM" in supp and multiple_allowed(variable, _distinct_qnams(context, f"SUPP{name}")):
            bad &= (column != MULTIPLE).to_numpy()  # several values collected, in SUPP-- (SDTMIG 4.2.8.3)
        found = fail(package, name, bad, variable, codelist=allowed.codelist)
        found["extensible"] = allowed.extensible
        frames.append(found)
    context.cache[key] = frames
    return frames


def _coverage_notes(context: Context, rule_id: str) -> None:
    """Say what the CT rules could not check: codelists outside the CT subset, IG metadata not shipped."""
    missing = sorted(context.cache.get("ct_not_checked", ()))
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        context.note(rule_id, f"not checked: {len(missing)} variable(s) whose CDISC codelist is not in the "
                              f"controlled terminology used ({context.ct.source}): {shown}")
    if context.ct is None:
        context.note(rule_id, "no controlled terminology: only define.xml codelists checked")
    versions = context.versions
    if versions is not None:
        for need, label, has in (("sdtmig", "SDTMIG", context.package.sdtm()), ("adamig", "ADaMIG", context.package.adam())):
            if has and not versions.metadata.get(need):
                context.note(rule_id, f"IG codelists not checked: no {label} {context.version(label)} metadata shipped; "
                                      "define.xml codelists checked")


@rule(id="CT2001", severity="Error", standard="CDISC CT", fda_id="CT2001", scope="any",
      message="{variable} = '{value}' is not in non-extensible codelist {codelist}")
def term_in_closed_codelist(context: Context) -> pd.DataFrame:
    """Values of variables with a non-extensible codelist are terms of that codelist."""
    table = _term_findings(context)
    _coverage_notes(context, "CT2001")
    out = table[~table["extensible"].astype(bool)].drop(columns="extensible")
    mismatch = context.versions.ct_mismatch("SDTM") if context.versions is not None else None
    if mismatch and len(out):  # a term may have been retired between the two versions: not an error
        out = out.assign(severity="Warning", message=None)
        out["message"] = (out["variable"] + " = '" + out["value"] + "' is not in non-extensible codelist "
                          + out["codelist"] + f" ({mismatch})")
    return out


@rule(id="CT2002", severity="Warning", standard="CDISC CT", fda_id="CT2002", scope="any",
      message="{variable} = '{value}' is not in extensible codelist {codelist}")
def term_in_open_codelist(context: Context) -> pd.DataFrame:
    """Values of variables with an extensible (or sponsor) codelist are terms of it, or declared extensions."""
    table = _term_findings(context)
    _coverage_notes(context, "CT2002")
    return table[table["extensible"].astype(bool)].drop(columns="extensible")
