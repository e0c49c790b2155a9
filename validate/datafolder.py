"""Read a CDISC CORE test-case ``data/`` folder as a package.

The CDISC Open Rules ship their positive and negative test packages in this layout (docs/test_data.md):
``.env`` (PRODUCT, VERSION, optional CT and DEFINE_XML), ``_datasets.csv`` (Filename, Label),
``_variables.csv`` (dataset, variable, label, type, length) and one CSV file per dataset. Variable
types come from ``_variables.csv``: a Num column whose cell is not a number is a located error, never a
guess. An empty cell is missing.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from specs.errors import DataError, Problem

DATASETS_FILE = "_datasets.csv"
VARIABLES_FILE = "_variables.csv"
ENV_FILE = ".env"


def is_core_data_folder(path: Path) -> bool:
    return path.is_dir() and (path / DATASETS_FILE).is_file()


def read_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a ``.env`` file (blank lines and # comments skipped)."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out[key.strip().upper()] = value.strip()
    return out


def _read_csv_text(path: Path, notes: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file, every cell as text; cp1252 when the file is not UTF-8."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with path.open(encoding=encoding, newline="") as fh:
                rows = list(csv.reader(fh))
            break
        except UnicodeDecodeError:
            continue
        except (OSError, csv.Error) as exc:
            raise DataError([Problem(str(path), f"not a readable CSV file: {exc}")]) from None
    else:
        raise DataError([Problem(str(path), "not readable as UTF-8 or Windows-1252 text")])
    if not rows:
        raise DataError([Problem(str(path), "empty file: no header line")])
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    long = [i for i, r in enumerate(body) if len(r) > len(header)]
    if long:
        raise DataError([Problem(str(path), f"row {long[0] + 2} has {len(body[long[0]])} cells, the header "
                                            f"{len(header)}" + (f" ({len(long)} such rows)" if len(long) > 1 else ""))])
    short = [i for i, r in enumerate(body) if len(r) < len(header)]
    if short and notes is not None:  # trailing empty cells left out by the writer: missing values, said aloud
        notes.append(f"{path.name}: {len(short)} row(s) shorter than the header (first: row {short[0] + 2}); "
                     "the missing trailing cells are read as empty")
    body = [r + [""] * (len(header) - len(r)) if len(r) < len(header) else r for r in body]
    return header, body


def _table(path: Path, notes: list[str] | None = None) -> dict[str, list[str]]:
    header, body = _read_csv_text(path, notes)
    return {name: [r[i] for r in body] for i, name in enumerate(header)}


def _stem(name: str) -> str:
    return Path(str(name).strip()).stem.lower()


SAS_MISSING = frozenset(["", "."] + [f".{c}" for c in "_ABCDEFGHIJKLMNOPQRSTUVWXYZ"])


def _numeric_column(cells: list[str], path: Path, column: str, problems: list[Problem]) -> np.ndarray:
    """A declared Num column: numbers; '' and SAS missing values ('.', '.A') as missing; anything else reported."""
    text = np.array([c.strip() for c in cells], dtype=object)
    missing = np.array([c in SAS_MISSING for c in text], dtype=bool)
    values = pd.to_numeric(pd.Series(np.where(missing, None, text), dtype=object), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan)
    bad = np.isnan(values) & ~missing
    if bad.any():
        rows = np.flatnonzero(bad)
        problems.append(Problem(str(path), f"row {rows[0] + 2}, column {column}: {cells[rows[0]]!r} is not a "
                                           f"number but _variables.csv declares {column} Num"
                                           + (f" ({len(rows)} such cells)" if len(rows) > 1 else "")))
    return values


def _text_column(cells: list[str]) -> np.ndarray:
    """Char cells as text, an empty cell missing. Unlike XPT (where SAS strips trailing blanks), a CSV cell of
    spaces holds them: it is a value, and rules that flag non-blank whitespace must see it."""
    values = np.array(cells, dtype=object)
    values[values == ""] = None
    return values


def read_core_data_folder(path: Path):
    """A Package of the datasets listed in ``_datasets.csv`` (variables typed by ``_variables.csv``)."""
    from validate.define_xml import read_define
    from validate.package_model import DatasetMeta, Package, VariableMeta

    env = read_env(path / ENV_FILE)
    listing = _table(path / DATASETS_FILE)
    if "Filename" not in listing:
        raise DataError([Problem(str(path / DATASETS_FILE), "needs a 'Filename' column (and 'Label')")])
    declared: dict[tuple[str, str], tuple[str, str, int | None]] = {}
    if (path / VARIABLES_FILE).is_file():
        variables = _table(path / VARIABLES_FILE)
        missing = {"dataset", "variable", "type"} - set(variables)
        if missing:
            raise DataError([Problem(str(path / VARIABLES_FILE), f"columns {sorted(missing)} missing")])
        n = len(variables["dataset"])
        for i in range(n):  # metadata rows, not data
            length = (variables.get("length") or [""] * n)[i].strip()
            declared[(_stem(variables["dataset"][i]), variables["variable"][i].strip())] = (
                (variables.get("label") or [""] * n)[i], variables["type"][i].strip().capitalize(),
                int(float(length)) if length.replace(".", "", 1).isdigit() else None)
    files = {f.name.lower(): f for f in path.iterdir() if f.suffix.lower() == ".csv"}
    package = Package(root=path)
    package.properties.update({"format": "CORE test data", **{k.lower(): v for k, v in env.items()}})
    problems: list[Problem] = []
    labels = listing.get("Label") or [""] * len(listing["Filename"])
    for filename, label in zip(listing["Filename"], labels):
        stem = _stem(filename)
        file = files.get(f"{stem}.csv")
        if file is None:
            problems.append(Problem(str(path / DATASETS_FILE), f"lists {filename!r} but there is no {stem}.csv"))
            continue
        columns = _table(file, package.notes)
        name = stem.upper()
        meta = DatasetMeta(name=name, label=label, path=file)
        data = {}
        for order, column in enumerate(columns, start=1):
            var_label, kind, length = declared.get((stem, column), ("", "Char", None))
            kind = "Num" if kind == "Num" else "Char"
            data[column] = (_numeric_column(columns[column], file, column, problems) if kind == "Num"
                            else _text_column(columns[column]))
            meta.variables[column] = VariableMeta(column, var_label, kind, length, "", order)
        package.datasets[name] = pd.DataFrame(data, columns=list(columns))
        package.meta[name] = meta
    define_name = env.get("DEFINE_XML")
    if define_name:
        define_path = path / define_name
        if not define_path.is_file():
            problems.append(Problem(str(path / ENV_FILE), f"DEFINE_XML={define_name} but that file does not exist"))
        else:
            package.define = read_define(define_path)
    if problems:
        raise DataError(problems, title="unreadable CORE test data")
    return package
