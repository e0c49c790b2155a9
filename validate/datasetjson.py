"""Read CDISC Dataset-JSON 1.1 in its three forms: ``.json``, ``.ndjson`` and compressed ``.dsjc`` (a zlib
stream of the NDJSON form). Rows may be arrays (in column order) or objects (keyed by column name).

A file that is not Dataset-JSON is refused with a message naming it. What the file says about itself and
the rows contradict (the declared record count, a column's declared data type) is kept as an issue of the
dataset (``DatasetMeta.issues``) and reported by rule CV0109: one finding per column, with a count.
"""
from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from specs.errors import DataError, Problem

SAS_EPOCH = pd.Timestamp("1960-01-01")
NUMERIC_JSON_TYPES = {"integer", "float", "double", "decimal"}
SHOWN = 3


def _lines(path: Path) -> list[str]:
    if path.suffix.lower() == ".dsjc":
        try:
            text = zlib.decompress(path.read_bytes()).decode("utf-8")
        except zlib.error as exc:
            raise DataError([Problem(str(path), f"not a readable compressed Dataset-JSON (.dsjc) file: zlib: {exc}")]) from None
    else:
        text = path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def _load(path: Path) -> tuple[dict, list]:
    try:
        if path.suffix.lower() in (".ndjson", ".dsjc"):
            lines = _lines(path)
            header = json.loads(lines[0]) if lines else {}
            rows = [json.loads(line) for line in lines[1:]]
        else:
            with path.open(encoding="utf-8") as fh:
                header = json.load(fh)
            rows = header.get("rows", []) if isinstance(header, dict) else []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError([Problem(str(path), f"not readable Dataset-JSON: {exc}")]) from None
    return header, rows


def _check_type(values: list, data_type: str) -> tuple[int, list]:
    """How many non-null values do not fit ``data_type``, and a few of them (checked per distinct value)."""
    series = pd.Series(values, dtype=object)
    present = series[series.notna()]
    if present.empty:
        return 0, []
    codes, uniques = pd.factorize(present.map(lambda v: (type(v).__name__, v)))  # bool 1 and int 1 differ
    kinds = np.array([u[0] for u in uniques])
    raw = [u[1] for u in uniques]
    if data_type == "integer":
        ok = np.array([k == "int" or (k == "float" and float(v).is_integer()) for k, v in zip(kinds, raw)], dtype=bool)
    elif data_type in ("float", "double"):
        ok = np.isin(kinds, ["int", "float"])
    elif data_type == "decimal":  # 1.1 writes decimals as strings to keep their precision
        ok = np.array([k in ("int", "float") or (k == "str" and _is_number(v)) for k, v in zip(kinds, raw)], dtype=bool)
    elif data_type == "boolean":
        ok = kinds == "bool"
    else:  # string, date, datetime, time, URI
        ok = kinds == "str"
    bad = ~ok[codes]
    examples = [repr(raw[c]) for c in pd.unique(codes[bad])[:SHOWN]]
    return int(bad.sum()), examples


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _column(values: list, column: dict) -> tuple[pd.Series, str]:
    data_type = column.get("dataType", "string")
    target = column.get("targetDataType")
    if data_type in NUMERIC_JSON_TYPES or target in ("integer", "decimal") and data_type not in ("date", "datetime", "time"):
        return pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").astype("float64"), "Num"
    if target == "integer" and data_type in ("date", "datetime", "time"):
        stamps = pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce")
        if data_type == "date":
            return ((stamps - SAS_EPOCH).dt.days).astype("float64"), "Num"
        return ((stamps - SAS_EPOCH).dt.total_seconds()).astype("float64"), "Num"
    return pd.Series(values, dtype="str"), "Char"


def read(path: Path, dataset_meta, variable_meta, blank_to_na):
    """(DataFrame, DatasetMeta) of one Dataset-JSON file; ``dataset_meta``/``variable_meta`` are the
    package's metadata classes and ``blank_to_na`` its null convention (passed in to avoid an import cycle)."""
    header, rows = _load(path)
    if not isinstance(header, dict) or "name" not in header or not isinstance(header.get("columns"), list):
        raise DataError([Problem(str(path), "not Dataset-JSON 1.1: the top-level object needs 'name' and 'columns'")])
    columns = header["columns"]
    wrong = [i + 1 for i, c in enumerate(columns) if not isinstance(c, dict) or not isinstance(c.get("name"), str)]
    if wrong:
        raise DataError([Problem(str(path), f"not Dataset-JSON 1.1: column {wrong[0]} is not an object with a "
                                            f"'name' ({len(wrong)} such columns)")])
    names = [c["name"] for c in columns]
    if all(isinstance(r, dict) for r in rows) and rows:  # NDJSON/DSJC rows may be objects keyed by name
        unknown = sorted({k for r in rows for k in r} - set(names))
        if unknown:
            raise DataError([Problem(str(path), f"rows name columns the header does not declare: {', '.join(unknown[:5])}")])
        rows = [[r.get(n) for n in names] for r in rows]
    bad = [i + 1 for i, r in enumerate(rows) if not isinstance(r, list) or len(r) != len(names)]
    if bad:
        raise DataError([Problem(str(path), f"row {bad[0]} does not have {len(names)} values ({len(bad)} such rows)")])
    matrix = list(zip(*rows)) if rows else [[] for _ in names]
    dmeta = dataset_meta(name=str(header["name"]).upper(), label=header.get("label") or "", path=path)
    issues = []
    declared = header.get("records")
    if declared is not None and declared != len(rows):
        issues.append({"variable": "", "value": str(declared),
                       "message": f"{path.name} declares records = {declared} but holds {len(rows)} rows"})
    data = {}
    for order, (column, values) in enumerate(zip(columns, matrix), start=1):
        name = column["name"]
        count, examples = _check_type(list(values), column.get("dataType", "string"))
        if count:
            issues.append({"variable": name, "value": ", ".join(examples), "count": count,
                           "message": f"{path.name}: {name} is declared {column.get('dataType', 'string')} but "
                                      f"{count} value(s) are not (e.g. {', '.join(examples)})"})
        series, kind = _column(list(values), column)
        data[name] = series
        dmeta.variables[name] = variable_meta(name, column.get("label") or "", kind, column.get("length"),
                                              column.get("displayFormat") or "", order)
    df = pd.DataFrame(data, columns=names)
    df = blank_to_na(df, [c for c, v in dmeta.variables.items() if v.type == "Char"])
    dmeta.issues = issues
    return df, dmeta
