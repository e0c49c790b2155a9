"""Cells of the spec workbook: how one spec value is written in one cell and read back.

Each column of a sheet has a kind. A value is written in its column only when reading the cell gives the
same value back (checked on export, value by value); anything else goes, as YAML, to the row's ``Other``
column (or the Other sheet), so that no spec, however unusual, loses data in a workbook.

- ``value``: a scalar as a typed cell (text stays text, 1 stays a number, true a boolean);
- ``text``: text only;
- ``int``: a whole number (a number typed as text, '8', is read as 8);
- ``names``: a list of names written 'STUDYID, USUBJID';
- ``name_or_names``: one name ('dm') or a list of two or more ('ex_csa, ex_il2');
- ``yaml``: any value in YAML flow style ('{date: ICDAT, format: DD/MM/YYYY}');
- ``args``: a mapping in YAML flow style; the braces may be left out when the cell is typed by hand.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re

import yaml

from specs.yaml_writer import flow

MISSING = object()
MAX_CELL = 32767  # characters Excel keeps in one cell
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in the XML of a workbook


class CellError(ValueError):
    """A cell that cannot be read as its column's kind (the message says why)."""


def _plain_text(value) -> bool:
    return isinstance(value, str) and value != "" and not _ILLEGAL.search(value) and len(value) <= MAX_CELL


def _scalar(value) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < 2 ** 53
    if isinstance(value, float):
        return math.isfinite(value)
    return _plain_text(value)


def _name(value) -> bool:
    return _plain_text(value) and "," not in value and value == value.strip()


def can_write(kind: str, value) -> bool:
    """True when the value survives a cell of this kind unchanged."""
    if kind == "value":
        return _scalar(value)
    if kind == "text":
        return _plain_text(value)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "names":
        return isinstance(value, list) and len(value) > 0 and all(_name(v) for v in value)
    if kind == "name_or_names":
        return _name(value) or (isinstance(value, list) and len(value) > 1 and all(_name(v) for v in value))
    if kind in ("yaml", "args"):
        return (kind == "yaml" or (isinstance(value, dict) and value)) and len(flow(value)) <= MAX_CELL
    raise ValueError(kind)


def write(kind: str, value):
    """The cell content of a value (can_write must be true)."""
    if kind in ("names", "name_or_names"):
        return value if isinstance(value, str) else ", ".join(value)
    if kind in ("yaml", "args"):
        return flow(value)
    return value


def _cell_text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def load_yaml_text(text: str):
    from specs.loader import safe_load_yaml

    try:
        if "&" not in text and "*" not in text and getattr(yaml, "CSafeLoader", None):
            return yaml.load(text, Loader=yaml.CSafeLoader)  # no anchor or alias: the fast parser is safe
        return safe_load_yaml(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CellError(f"not valid YAML ({problem}): '{text}'") from None


def read(kind: str, cell):
    """The spec value of a cell that is not empty; CellError when it cannot be one."""
    if kind == "value":
        if isinstance(cell, (dt.date, dt.datetime, dt.time)):
            return _cell_text(cell)
        return cell
    if kind == "text":
        return _cell_text(cell)
    if kind == "int":
        if isinstance(cell, bool):
            raise CellError(f"'{cell}' is not a whole number")
        if isinstance(cell, int):
            return cell
        if isinstance(cell, float) and cell.is_integer():
            return int(cell)
        text = _cell_text(cell).strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        raise CellError(f"'{text}' is not a whole number")
    if kind in ("names", "name_or_names"):
        names = [part.strip() for part in _cell_text(cell).split(",")]
        if any(not part for part in names):
            raise CellError(f"'{cell}' is not a list of names separated by commas")
        return names[0] if kind == "name_or_names" and len(names) == 1 else names
    if kind in ("yaml", "args"):
        if not isinstance(cell, str):
            return cell  # a number or a boolean typed in a YAML cell is that value
        text = cell.strip()
        if kind == "args" and not text.startswith("{"):
            text = "{" + text + "}"
        value = load_yaml_text(text)
        if kind == "args" and not isinstance(value, dict):
            raise CellError(f"'{cell}' is not a mapping such as {{date: ICDAT, format: DD/MM/YYYY}}")
        return value
    raise ValueError(kind)


def is_empty(cell) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


# --------------------------------------------------------------------------------- paths in records
def get_path(record, path: tuple):
    node = record
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def set_path(record: dict, path: tuple, value) -> None:
    node = record
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def pop_path(record: dict, path: tuple) -> None:
    """Remove the value at path, and the mappings the removal leaves empty."""
    parents = [record]
    for key in path[:-1]:
        parents.append(parents[-1][key])
    del parents[-1][path[-1]]
    for depth in range(len(path) - 1, 0, -1):
        if parents[depth]:
            break
        del parents[depth - 1][path[depth - 1]]


def merge_into(record: dict, extra: dict) -> None:
    """Deep-merge the Other column's mapping into a record read from the other columns."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(record.get(key), dict):
            merge_into(record[key], value)
        else:
            record[key] = value


def csv_line(values: list[str]) -> str:
    """One CSV record, without its line break."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()
