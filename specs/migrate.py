"""Spec format versions: a spec states the version it is written in (``version:`` at the top of
study.yaml; none means 1). An older spec is brought up to date in memory when that can be done without
guessing, with a note saying what to change in the files; anything else is a spec error saying exactly
what to change. A newer spec than the toolkit reads is refused.

Versions:
  1  the first format (no ``version`` key).
  2  assign_datetime needs ``format`` (version 1 read DD/MM/YYYY when none was given).
"""
from __future__ import annotations

from specs.errors import Problem

SPEC_VERSION = 2


def _maps(node, path: tuple):
    """(path, mapping) of every mapping in a domain's variables, condition_add cases included."""
    if isinstance(node, dict):
        if "algorithm" in node:
            yield path, node
        for key, value in node.items():
            yield from _maps(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _maps(value, path + (index,))


def _v1_to_v2(study_doc: dict, sdtm_doc: dict, where) -> list[str]:
    changed = []
    for name, domain in (sdtm_doc.get("domains") or {}).items():
        for path, mapping in _maps(domain.get("variables") or [], ("domains", name, "variables")):
            if mapping.get("algorithm") == "assign_datetime" and "format" not in mapping:
                mapping["format"] = "DD/MM/YYYY"
                changed.append(where(path))
    if not changed:
        return []
    shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return [f"spec version 1: {len(changed)} assign_datetime mapping(s) without 'format' read DD/MM/YYYY, the "
            f"version 1 default ({shown}); to write version 2, add 'format: DD/MM/YYYY' to each and "
            f"'version: 2' at the top of study.yaml"]


MIGRATIONS = {1: _v1_to_v2}


def migrate(study_doc: dict, sdtm_doc: dict, study_where: str, where) -> tuple[list[str], list[Problem]]:
    """Bring the parsed documents up to SPEC_VERSION in place; (notes, problems).

    ``where(path)`` renders a path of sdtm.yaml for the notes."""
    version = study_doc.get("version", 1)
    if version > SPEC_VERSION:
        return [], [Problem(f"{study_where}: version", f"the spec is written in spec version {version}; this "
                                                        f"toolkit reads versions 1 to {SPEC_VERSION}: install a "
                                                        f"newer cdisc-toolkit")]
    notes: list[str] = []
    while version < SPEC_VERSION:
        notes += MIGRATIONS[version](study_doc, sdtm_doc, where)
        version += 1
    return notes, []
