"""SDTMIG / ADaMIG variable metadata as tables the rules can join on, one table per standard version.

This is the one place that knows where the metadata lives: ``specs/standards/`` ships the CDISC Library
exports of SDTMIG 3.4 and ADaMIG 1.3 (``sdtmig-<version>-variables.csv``, ``adamig-<version>-variables.csv``).
Set CDISC_STANDARDS_DIR to a folder with exports of other versions in the same layout to check against
them; a version with no file is "not checked" by the rules that need it (never checked against 3.4).
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

SDTMIG_CSV = "sdtmig-{version}-variables.csv"
ADAMIG_CSV = "adamig-{version}-variables.csv"
DEFAULT_VERSIONS = {"sdtmig": "3.4", "adamig": "1.3"}
ADSL_STRUCTURE = "Subject-Level Analysis Dataset"
BDS_STRUCTURE = "Basic Data Structure"
GENERAL_CLASSES = ("Interventions", "Events", "Findings", "Findings About")
SDTM_COLUMNS = ["domain", "name", "label", "type", "core", "codelists", "order", "class", "role"]
ADAM_COLUMNS = ["structure", "name", "label", "type", "core", "codelists"]


def _candidate_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("CDISC_STANDARDS_DIR"):
        dirs.append(Path(os.environ["CDISC_STANDARDS_DIR"]))
    try:
        import specs

        dirs.append(Path(specs.__file__).parent / "standards")
    except ImportError:  # pragma: no cover - specs is always importable in this repo
        pass
    return dirs


def _find(name: str) -> Path | None:
    for folder in _candidate_dirs():
        if (folder / name).is_file():
            return folder / name
    return None


def available_versions(standard: str) -> list[str]:
    """Versions of "sdtmig" or "adamig" whose variable metadata can be read, oldest first."""
    pattern = re.compile(rf"^{standard}-(\d+(?:\.\d+)+)-variables\.csv$")
    found = {m.group(1) for folder in _candidate_dirs() if folder.is_dir()
             for m in (pattern.match(f.name) for f in folder.iterdir()) if m}
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


def _codes(text: pd.Series) -> pd.Series:
    """'C66727; C114118' -> ('C66727', 'C114118'); empty -> ()."""
    return text.fillna("").map(lambda t: tuple(c.strip() for c in t.split(";") if c.strip()))


@lru_cache(maxsize=8)
def sdtmig_table(version: str = "3.4") -> pd.DataFrame | None:
    """One row per SDTMIG variable of ``version``: domain, name, label, type, core, codelists, order, class,
    role; None when that version's metadata is not available."""
    path = _find(SDTMIG_CSV.format(version=version))
    if path is None:
        return None
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return pd.DataFrame({
        "domain": raw["Dataset Name"], "name": raw["Variable Name"], "label": raw["Variable Label"],
        "type": raw["Type"], "core": raw["Core"], "codelists": _codes(raw["CDISC CT Codelist Code(s)"]),
        "order": pd.to_numeric(raw["Variable Order"], errors="coerce"), "class": raw["Class"],
        "role": raw["Role"] if "Role" in raw.columns else "",
    })


@lru_cache(maxsize=8)
def adamig_table(version: str = "1.3") -> pd.DataFrame | None:
    """One row per ADaMIG variable of ``version``: structure, name, label, type, core, codelists; None when
    that version's metadata is not available."""
    path = _find(ADAMIG_CSV.format(version=version))
    if path is None:
        return None
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return pd.DataFrame({
        "structure": raw["Data Structure Name"], "name": raw["Variable Name"], "label": raw["Variable Label"],
        "type": raw["Type"], "core": raw["Core"], "codelists": _codes(raw["CDISC CT Codelist Code(s)"]),
    })


# The SDTMIG dataset names (3.2 to 3.4, fixed by the standards; used before any CSV is read).
SDTM_DOMAINS = frozenset(
    "AG CM EC EX ML PR SU AE BE CE DS DV HO MH BS CP CV DA DD EG FT GF IE IS LB MB MI MK MS NV OE PC PE "
    "PP QS RE RP RS SC SS TR TU UR VS FA SR CO DM SE SM SV TA TD TE TI TM TS TV OI RELREC RELSPEC RELSUB "
    "MO".split())


def sdtmig_variables(domain: str, version: str = "3.4") -> pd.DataFrame:
    table = sdtmig_table(version)
    if table is None:
        return pd.DataFrame(columns=SDTM_COLUMNS)
    return table[table["domain"] == domain].reset_index(drop=True)


def domain_class(domain: str, version: str = "3.4") -> str | None:
    """The SDTMIG observation class of ``domain`` ("Findings", "Special-Purpose", ...), None if unknown."""
    rows = sdtmig_variables(domain, version)
    return rows["class"].iloc[0] if len(rows) else None


@lru_cache(maxsize=8)
def class_variables(version: str = "3.4") -> dict[str, frozenset]:
    """Per observation class, the variables its domains use, with the domain prefix written '--'
    ('--ORRES', 'VISITNUM'): what the IG shows of the SDTM model's variables for that class."""
    table = sdtmig_table(version)
    if table is None:
        return {}
    prefixed = table["name"].str[:2] == table["domain"].str[:2]
    generic = table["name"].where(~prefixed | (table["name"].str.len() <= 2), "--" + table["name"].str[2:])
    return {cls: frozenset(names) for cls, names in generic.groupby(table["class"])}


def adam_structure(name: str, columns) -> str | None:
    """The ADaMIG structure a dataset follows: ADSL, BDS (has PARAMCD), or None (OCCDS/other)."""
    if name == "ADSL":
        return ADSL_STRUCTURE
    if "PARAMCD" in columns:
        return BDS_STRUCTURE
    return None


def adamig_variables(structure: str, version: str = "1.3") -> pd.DataFrame:
    table = adamig_table(version)
    if table is None:
        return pd.DataFrame(columns=ADAM_COLUMNS)
    return table[table["structure"] == structure].reset_index(drop=True)
