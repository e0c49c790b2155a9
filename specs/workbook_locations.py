"""The spec problems of a folder written from a workbook, each located in the workbook row and column it
comes from ('Variables row 12, column M (Map Arguments): ...')."""
from __future__ import annotations

import re
from pathlib import Path

from specs import workbook_layout as L
from specs.errors import Problem, SpecError
from specs.workbook_layout import YAML_FILES

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_location(text: str) -> tuple:
    text = re.sub(r" \([^()]*\)$", "", text)  # the item's name a TODO message adds: 'variables[3] (AESEV)'
    return tuple(int(i) if i else k for k, i in _PATH_PART.findall(text))


def located_spec_problems(folder: Path, provenance: dict) -> list[Problem]:
    """The spec problems of the written folder (schema, semantics, TODOs), each located in the workbook
    when it comes from a row: 'Variables row 12, column M (Map Arguments): ...'."""
    from specs.loader import display_path, load_study_spec

    problems: list[Problem] = []
    try:
        load_study_spec(folder, collect=problems)
    except SpecError as exc:
        problems = list(exc.problems)
    names = {display_path(folder / name): key for key, name in YAML_FILES.items()}
    out = []
    for problem in problems:
        file_part, _, location = problem.where.partition(": ")
        key = names.get(file_part)
        if key is None or not location:
            out.append(problem)
            continue
        path = (key, *parse_location(location))
        for n in range(len(path), 1, -1):
            if path[:n] in provenance:
                row, table = provenance[path[:n]]
                sub = path[n:]
                header = table.column_of(_flat_path(table, sub)) if table is not None and sub else \
                    (("Value" if table is None else None) if not sub else None)
                out.append(Problem(f"{row.where(header)} [{problem.where}]", problem.message))
                break
        else:
            out.append(problem)
    return out


def _flat_path(table: L.Table, sub: tuple) -> tuple:
    """A path inside a record as its flattened columns see it (Variables: map.date -> Map Arguments)."""
    if table is L.VARIABLES:
        if sub[:1] == ("map",):
            if sub[1:2] in (("algorithm",), ("source",)):
                return ("_map", *sub[1:])
            if sub[1:2] == ("cases",) and sub[3:4] == ("then",):
                return ("_map", *(sub[4:5] if sub[4:5] in (("algorithm",), ("source",)) else ("args",)))
            if sub[1:2] == ("cases",):
                return ("_map", "condition")
            return ("_map", "args")
        if sub[:1] == ("origin",):
            return ("_origin", *(sub[1:] or ("type",)))
        if sub[:1] in (("method",), ("comment",)):
            return (f"_{sub[0]}_id",)
    if table is L.CONDITIONS and sub[:1] == ("then",):
        return sub[1:2] if sub[1:2] in (("algorithm",), ("source",)) else ("args",)
    if table is L.CONDITIONS and sub[:1] == ("when",):
        return ("condition",)
    return sub
