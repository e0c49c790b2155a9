"""Lookup tables of a study (study.yaml ``lookups``): a key -> value table written in the spec, or read from
a CSV file inside the spec folder, used by the expression function ``lookup(x, 'table')``.

    lookups:
      routes:
        values: {"PO (Oral)": ORAL, "IV (Intravenous)": INTRAVENOUS}
      sites:
        file: lookups/sites.csv   # relative to the spec folder, and inside it
        key: SITE                 # the column holding the keys
        value: SITEID             # the column holding the values
        missing: error            # a key not in the table: error (default), empty, or keep the key

A key listed twice with different values is an error (file, row, column); with the same value, once.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from specs.errors import Problem


@dataclass(frozen=True)
class LookupTable:
    name: str
    values: dict  # key text -> value text
    missing: str  # error, empty or keep
    source: str  # where it is written, for messages


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def read_lookups(folder: Path, lookups: dict, where: str, show) -> tuple[dict[str, LookupTable], list[Problem]]:
    """Every table of study.yaml ``lookups``; ``where`` is 'study.yaml' for messages, ``show`` a path formatter."""
    tables: dict[str, LookupTable] = {}
    problems: list[Problem] = []
    for name, spec in (lookups or {}).items():
        at = f"{where}: lookups.{name}"
        missing = spec.get("missing", "error")
        if "values" in spec:
            tables[name] = LookupTable(name, {_text(k): _text(v) for k, v in spec["values"].items()}, missing,
                                       f"{where} lookups.{name}")
            continue
        from specs.loader import confined_path  # the loader's rule for every path a spec names

        path, why = confined_path(folder, spec["file"], "spec folder")
        if path is None:
            problems.append(Problem(f"{at}.file", why))
            continue
        label = show(path)
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                header = reader.fieldnames or []
                absent = [c for c in (spec["key"], spec["value"]) if c not in header]
                if absent:
                    problems.append(Problem(label, f"no column {', '.join(repr(c) for c in absent)} for lookup table "
                                                   f"{name} (columns: {', '.join(header)})"))
                    continue
                values: dict[str, str] = {}
                for row_number, row in enumerate(reader, start=1):
                    key, value = (row.get(spec["key"]) or "").strip(), (row.get(spec["value"]) or "").strip()
                    if key == "":
                        problems.append(Problem(f"{label} row {row_number}", f"column {spec['key']}: empty key"))
                    elif key in values and values[key] != value:
                        problems.append(Problem(f"{label} row {row_number}",
                                                f"column {spec['key']}: '{key}' is listed again with "
                                                f"{spec['value']} '{value}' (first: '{values[key]}')"))
                    else:
                        values[key] = value
        except FileNotFoundError:
            problems.append(Problem(f"{at}.file", f"'{spec['file']}' not found in the spec folder"))
            continue
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.append(Problem(label, f"not a readable UTF-8 CSV file ({exc})"))
            continue
        tables[name] = LookupTable(name, values, missing, label)
    return tables, problems
