"""SUPP-- datasets from the variables a domain's spec routes there (SDTMIG 8.4)."""
from __future__ import annotations

import pandas as pd

from specs.model import DomainSpec, Origin, VariableSpec
from sdtm.unique import text_of

SUPP_VARIABLES = [
    ("STUDYID", "Study Identifier", "Req"),
    ("RDOMAIN", "Related Domain Abbreviation", "Req"),
    ("USUBJID", "Unique Subject Identifier", "Req"),
    ("IDVAR", "Identifying Variable", "Exp"),
    ("IDVARVAL", "Identifying Variable Value", "Exp"),
    ("QNAM", "Qualifier Variable Name", "Req"),
    ("QLABEL", "Qualifier Variable Label", "Req"),
    ("QVAL", "Data Value", "Req"),
    ("QORIG", "Origin", "Req"),
    ("QEVAL", "Evaluator", "Exp"),
]


def build_supp(parent: pd.DataFrame, dspec: DomainSpec, studyid: str) -> pd.DataFrame:
    """One record per parent record and routed variable with a value; none for an empty value.

    IDVAR is the parent's --SEQ (null for DM, whose records are one per subject)."""
    seq = f"{dspec.name}SEQ"
    has_seq = seq in parent.columns and dspec.name != "DM"
    parts = []
    for variable in dspec.supp_variables:
        values = text_of(parent[variable.name])
        keep = values.str.strip() != ""
        part = pd.DataFrame({
            "STUDYID": studyid,
            "RDOMAIN": dspec.name,
            "USUBJID": parent.loc[keep, "USUBJID"],
            "IDVAR": seq if has_seq else "",
            "IDVARVAL": parent.loc[keep, seq].astype("Int64").astype(str).astype(object) if has_seq else "",
            "QNAM": variable.name,
            "QLABEL": variable.supp.get("qlabel") or variable.label,
            "QVAL": values[keep],
            "QORIG": variable.supp.get("qorig") or variable.origin.type,
            "QEVAL": variable.supp.get("qeval", ""),
        })
        part["__seq"] = parent.loc[keep, seq] if has_seq else 0
        part["__order"] = variable.order
        parts.append(part)
    supp = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[v[0] for v in SUPP_VARIABLES])
    if len(supp):
        supp = supp.sort_values(["USUBJID", "__seq", "__order"], kind="mergesort")
    return supp.drop(columns=["__seq", "__order"], errors="ignore").reset_index(drop=True)


def _supp_role(variable: str) -> str | None:
    from specs.standards import sdtmig_variable

    meta = sdtmig_variable("SUPPQUAL", variable)
    return meta.role if meta else None


def supp_domain_spec(parent: DomainSpec) -> DomainSpec:
    name = f"SUPP{parent.name}"
    variables = [
        VariableSpec(domain=name, name=var, label=label, type="Char", length=None, core=core,
                     codelist="DOMAIN" if var == "RDOMAIN" else None,
                     origin=Origin("Assigned" if var in ("STUDYID", "RDOMAIN", "IDVAR", "QNAM", "QLABEL", "QORIG")
                                   else ("Derived" if var != "QVAL" else "Collected")),
                     method=None, comment=None, role=_supp_role(var), supp=None, map=None, order=i)
        for i, (var, label, core) in enumerate(SUPP_VARIABLES, start=1)
    ]
    return DomainSpec(name=name, label=f"Supplemental Qualifiers for {parent.name}", cls="RELATIONSHIP",
                      structure="One record per IDVAR, IDVARVAL, and QNAM value per subject",
                      keys=["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"],
                      sort=[], variables=variables,
                      raw={"supp_of": parent.name, "qvals": {v.name: v for v in parent.supp_variables}})
