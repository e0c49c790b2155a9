"""Library metadata the open rules ask for: SDTMIG 3.4 domains, classes, labels, variables, roles.

CORE reads these from the CDISC Library; here they come from the SDTMIG 3.4 export shipped in
``specs/standards/`` (the same files ``validate.standards`` reads). The SDTM model's own class-level
variable lists (SDTM v2.0) are not shipped: the operations that need them say so (``LibraryGap``).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

CLASS_NAMES = {  # library spelling -> the spelling rules use in Scope.Classes
    "Events": "EVENTS", "Findings": "FINDINGS", "Findings About": "FINDINGS ABOUT",
    "Interventions": "INTERVENTIONS", "Relationship": "RELATIONSHIP", "Special-Purpose": "SPECIAL PURPOSE",
    "Study Reference": "STUDY REFERENCE", "Trial Design": "TRIAL DESIGN",
}


class LibraryGap(Exception):
    """The rule needs library metadata the toolkit does not ship (e.g. the SDTM v2.0 model)."""


def _standards_dir() -> Path:
    import specs

    return Path(specs.__file__).parent / "standards"


@lru_cache(maxsize=1)
def sdtmig_variables() -> pd.DataFrame:
    path = _standards_dir() / "sdtmig-3.4-variables.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return pd.DataFrame({
        "domain": raw["Dataset Name"], "name": raw["Variable Name"], "label": raw["Variable Label"],
        "type": raw["Type"], "core": raw["Core"], "role": raw["Role"],
        "order": pd.to_numeric(raw["Variable Order"], errors="coerce"), "class": raw["Class"],
        "ccode": raw["CDISC CT Codelist Code(s)"].where(raw["CDISC CT Codelist Code(s)"] != "", None),
    })


@lru_cache(maxsize=1)
def sdtmig_datasets() -> pd.DataFrame:
    path = _standards_dir() / "sdtmig-3.4-datasets.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return pd.DataFrame({"domain": raw["Dataset Name"], "class": raw["Class"], "label": raw["Dataset Label"]})


@lru_cache(maxsize=1)
def standard_domains() -> frozenset:
    return frozenset(d for d in sdtmig_datasets()["domain"] if d != "SUPPQUAL")


def library_domain(domain: str | None) -> str | None:
    """The library dataset that describes ``domain`` (SUPPAE -> SUPPQUAL)."""
    if not domain:
        return None
    if domain.startswith("SUPP") or domain.startswith("SQ"):
        return "SUPPQUAL"
    return domain if domain in set(sdtmig_datasets()["domain"]) else None


def domain_class(domain: str | None) -> str | None:
    """'EVENTS', 'FINDINGS', ... for a domain the IG defines; None for a custom one."""
    found = library_domain(domain)
    if found is None:
        return None
    table = sdtmig_datasets()
    return CLASS_NAMES.get(table.loc[table["domain"] == found, "class"].iloc[0])


def domain_label(domain: str | None) -> str | None:
    found = library_domain(domain)
    if found is None:
        return None
    table = sdtmig_datasets()
    return table.loc[table["domain"] == found, "label"].iloc[0]


def domain_variables(domain: str | None) -> pd.DataFrame:
    """The IG variables of ``domain`` in IG order (empty for a custom domain)."""
    found = library_domain(domain)
    table = sdtmig_variables()
    if found is None:
        return table.iloc[0:0]
    return table[table["domain"] == found].sort_values("order", kind="stable")


def variables_with_core(domain: str | None, core: str) -> list[str]:
    table = domain_variables(domain)
    if table.empty:
        raise LibraryGap(f"{domain} is not an SDTMIG 3.4 domain: its {core} variables come from the SDTM model, "
                         "which is not shipped")
    return table.loc[table["core"] == core, "name"].tolist()


def variable_roles(domain: str | None) -> dict[str, str]:
    table = domain_variables(domain)
    return dict(zip(table["name"], table["role"]))
