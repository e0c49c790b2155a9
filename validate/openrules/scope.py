"""What CORE knows about each dataset (domain, split, SUPP--, AP--, class) and which rules apply to it.

The names follow docs/README.md of the open rules ("Dataset Metadata Submission Guide"): ``domain`` and
``rdomain`` are the first record's DOMAIN and RDOMAIN, a SUPP-- or SQ-- name makes a supplemental
dataset, a split dataset (QSX) is named differently from its domain, and ``--`` in a variable name is the
domain without its AP prefix.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from validate.openrules import library
from validate.openrules.loader import OpenRule


def _first(df: pd.DataFrame, column: str) -> str | None:
    if column not in df.columns or df.empty:
        return None
    value = df[column].iloc[0]
    return None if pd.isna(value) or str(value).strip() == "" else str(value)


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # as submitted: QS, QSX, SUPPQS, APQS, RELREC
    domain: str | None
    rdomain: str | None
    is_supp: bool
    is_ap: bool
    filename: str
    label: str

    @property
    def domain_cleaned(self) -> str | None:
        """The domain without the AP prefix: what ``--`` stands for."""
        return self.domain.replace("AP", "", 1) if self.domain and self.domain.startswith("AP") else self.domain

    @property
    def unsplit_name(self) -> str:
        if self.domain:
            return self.domain_cleaned
        if self.name.startswith("SUPP"):
            return f"SUPP{self.rdomain or ''}"
        if self.name.startswith("SQ"):
            return f"SQ{self.rdomain or ''}"
        return self.name

    @property
    def is_split(self) -> bool:
        return self.name != self.unsplit_name

    @property
    def scope_name(self) -> str:
        """The name Scope.Domains lists: the domain (AE), SUPPAE for SUPP--, RELREC, ..."""
        if self.is_supp:
            return self.name
        return self.domain or self.name

    @property
    def ap_suffix(self) -> str | None:
        return self.domain[2:4] if self.is_ap and not self.is_supp and self.domain else None


def dataset_info(name: str, df: pd.DataFrame, filename: str = "", label: str = "") -> DatasetInfo:
    is_supp = name.startswith("SUPP") or name.startswith("SQ")
    domain = _first(df, "DOMAIN")
    rdomain = _first(df, "RDOMAIN") if is_supp else None
    if is_supp:
        is_ap = bool(rdomain) and len(rdomain) == 4 and rdomain.startswith("AP")
    else:
        is_ap = "APID" in df.columns and bool(domain) and domain.startswith("AP")
    return DatasetInfo(name=name, domain=domain, rdomain=rdomain, is_supp=is_supp, is_ap=is_ap,
                       filename=filename or name.lower(), label=label)


def _has(df: pd.DataFrame, info: DatasetInfo, suffix: str) -> bool:
    if "DOMAIN" in df.columns and info.domain_cleaned:
        return f"{info.domain_cleaned}{suffix}" in df.columns
    return suffix in df.columns if "RDOMAIN" in df.columns else False


def dataset_class(info: DatasetInfo, df: pd.DataFrame, infos: dict[str, DatasetInfo] | None = None,
                  frames: dict[str, pd.DataFrame] | None = None) -> str | None:
    """The observation class: from the IG for its domains, else from the topic variable (as CORE does)."""
    if info.is_supp:
        return "RELATIONSHIP"
    known = library.domain_class(info.domain_cleaned or info.name)
    if known:
        return known
    if info.name in ("RELREC", "RELSPEC", "RELSUB"):
        return "RELATIONSHIP"
    if _has(df, info, "TERM"):
        return "EVENTS"
    if _has(df, info, "TRT"):
        return "INTERVENTIONS"
    if _has(df, info, "QNAM"):
        return "RELATIONSHIP"
    if _has(df, info, "TESTCD"):
        return "FINDINGS ABOUT" if _has(df, info, "OBJ") else "FINDINGS"
    return None


OBSERVATION_CLASSES = {"FINDINGS", "INTERVENTIONS", "EVENTS", "FINDINGS ABOUT"}


def _listed(info: DatasetInfo, names: list[str]) -> bool:
    names = [str(n).upper() for n in names]
    if "ALL" in names:
        return True
    candidates = {info.scope_name, info.name, info.unsplit_name}
    if info.domain:
        candidates.add(info.domain)
    if candidates & set(names):
        return True
    if info.is_supp and ({"SUPP--", "SQ--"} & set(names)):
        return True
    if info.is_ap and not info.is_supp and "AP--" in names:
        return True
    if info.is_ap and info.domain and info.domain.startswith("APFA") and "APFA--" in names:
        return True
    return False


def applies(rule: OpenRule, info: DatasetInfo, class_name: str | None) -> tuple[bool, str]:
    """(True, '') when the rule's Scope selects this dataset, else (False, why not)."""
    scope = rule.scope or {}
    domains = scope.get("Domains") or {}
    include = domains.get("Include") or []
    exclude = domains.get("Exclude") or []
    split_flag = domains.get("include_split_datasets")
    if include:
        included = _listed(info, include)
    else:
        included = not (split_flag is True and not info.is_split)
    excluded = bool(exclude) and _listed(info, exclude)
    if split_flag is True and info.is_split and not excluded:
        included = True
    if split_flag is False and info.is_split:
        excluded = True
    if not included or excluded:
        return False, f"{info.name} is outside the rule's domains"
    classes = scope.get("Classes") or {}
    include_classes = [str(c).upper() for c in classes.get("Include") or []]
    exclude_classes = [str(c).upper() for c in classes.get("Exclude") or []]
    if include_classes and "ALL" not in include_classes:
        if class_name is None:
            # a class that cannot be told (a domain the IG does not define, no topic variable) is not one of
            # the observation classes CORE detects from data: such a rule is scoped by its domains alone
            ok = not (set(include_classes) & OBSERVATION_CLASSES)
        else:
            ok = class_name in include_classes or (class_name == "FINDINGS ABOUT" and "FINDINGS" in include_classes)
        if not ok:
            return False, f"{info.name} (class {class_name or 'unknown'}) is outside the rule's classes"
    if exclude_classes and class_name and (class_name in exclude_classes
                                           or (class_name == "FINDINGS ABOUT" and "FINDINGS" in exclude_classes)):
        return False, f"{info.name} (class {class_name}) is excluded by the rule's classes"
    return True, ""
