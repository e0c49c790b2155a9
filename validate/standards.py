"""SDTMIG 3.4 / ADaMIG 1.3 variable metadata as tables the rules can join on.

This is the one place that knows where the metadata lives. ``specs.standards`` (when present) ships the
CDISC Library exports; until it does, the same CSV files are read from the shared reference folder.
Set CDISC_STANDARDS_DIR to point elsewhere.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

SDTMIG_CSV = "sdtmig-3.4-variables.csv"
ADAMIG_CSV = "adamig-1.3-variables.csv"
ADSL_STRUCTURE = "Subject-Level Analysis Dataset"
BDS_STRUCTURE = "Basic Data Structure"


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


def _codes(text: pd.Series) -> pd.Series:
    """'C66727; C114118' -> ('C66727', 'C114118'); empty -> ()."""
    return text.fillna("").map(lambda t: tuple(c.strip() for c in t.split(";") if c.strip()))


@lru_cache(maxsize=1)
def sdtmig_table() -> pd.DataFrame:
    """One row per SDTMIG 3.4 variable: domain, name, label, type, core, codelists, order, class."""
    path = _find(SDTMIG_CSV)
    if path is None:
        return pd.DataFrame(columns=["domain", "name", "label", "type", "core", "codelists", "order", "class"])
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return pd.DataFrame({
        "domain": raw["Dataset Name"], "name": raw["Variable Name"], "label": raw["Variable Label"],
        "type": raw["Type"], "core": raw["Core"], "codelists": _codes(raw["CDISC CT Codelist Code(s)"]),
        "order": pd.to_numeric(raw["Variable Order"], errors="coerce"), "class": raw["Class"],
    })


@lru_cache(maxsize=1)
def adamig_table() -> pd.DataFrame:
    """One row per ADaMIG 1.3 variable: structure, name, label, type, core, codelists."""
    path = _find(ADAMIG_CSV)
    if path is None:
        return pd.DataFrame(columns=["structure", "name", "label", "type", "core", "codelists"])
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return pd.DataFrame({
        "structure": raw["Data Structure Name"], "name": raw["Variable Name"], "label": raw["Variable Label"],
        "type": raw["Type"], "core": raw["Core"], "codelists": _codes(raw["CDISC CT Codelist Code(s)"]),
    })


# The SDTMIG 3.4 dataset names (fixed by the standard; used before any CSV is read).
SDTM_DOMAINS = frozenset(
    "AG CM EC EX ML PR SU AE BE CE DS DV HO MH BS CP CV DA DD EG FT GF IE IS LB MB MI MK MS NV OE PC PE "
    "PP QS RE RP RS SC SS TR TU UR VS FA SR CO DM SE SM SV TA TD TE TI TM TS TV OI RELREC RELSPEC RELSUB".split())


def sdtmig_variables(domain: str) -> pd.DataFrame:
    table = sdtmig_table()
    return table[table["domain"] == domain].reset_index(drop=True)


def adam_structure(name: str, columns) -> str | None:
    """The ADaMIG structure a dataset follows: ADSL, BDS (has PARAMCD), or None (OCCDS/other)."""
    if name == "ADSL":
        return ADSL_STRUCTURE
    if "PARAMCD" in columns:
        return BDS_STRUCTURE
    return None


def adamig_variables(structure: str) -> pd.DataFrame:
    table = adamig_table()
    return table[table["structure"] == structure].reset_index(drop=True)
