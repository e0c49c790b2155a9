"""One dataset file read: an XPORT file (its structure checked; from its headers alone, its values read
when a rule needs them) or a Dataset-JSON file, as a frame and the attributes it was written with."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from sasxport import XportError, check_xport, read_xport
from specs.errors import DataError, Problem

from validate.package_model import DatasetMeta, VariableMeta
from validate.values import blank_to_na


def read_xpt(path: Path, columns=None, layout=None, rows: tuple[int, int] | None = None,
             encoding: str | None = None) -> tuple[pd.DataFrame, DatasetMeta]:
    """One XPORT file (v5 or v8, UTF-8 else cp1252), its structure checked: a truncated or damaged
    file is a DataError (the CLI exits 2), never a partial dataset validated as if whole.
    ``columns``: only these variables (the metadata still describes them all only when None);
    ``rows``: only the records start..stop-1 (validate.ranges), decoded with ``encoding`` when given."""
    try:
        dataset = read_xport(path, encoding=encoding, columns=columns, layout=layout, rows=rows)
    except XportError as exc:
        raise DataError([Problem(exc.path, exc.message)], title="unreadable datasets") from None
    name = (dataset.name or path.stem).upper()
    dmeta = DatasetMeta(name=name, label=dataset.label, path=path, encoding=dataset.encoding)
    for order, var in enumerate(dataset.variables, start=1):
        dmeta.variables[var.name] = VariableMeta(var.name, var.label, var.type, var.length, _format(var.format), order)
    df = blank_to_na(dataset.data, [c for c, v in dmeta.variables.items() if v.type == "Char"])
    return df, dmeta


def xpt_meta(path: Path) -> tuple[DatasetMeta, object, int] | None:
    """The metadata of an XPORT file from its headers alone (structure checked), its record count and data
    size; None when a label is not ASCII (its encoding is told by the values: the file is read whole).
    The record count is given as the checked layout, which the reader then uses as it is."""
    try:
        layout = check_xport(path)
    except XportError as exc:
        raise DataError([Problem(exc.path, exc.message)], title="unreadable datasets") from None
    labels = [layout.dataset_label] + [v.label for v in layout.variables]
    if not all(label.isascii() for label in labels):
        return None
    name = (layout.dataset_name or path.stem).upper()
    dmeta = DatasetMeta(name=name, label=layout.dataset_label.decode("ascii"), path=path)
    for order, var in enumerate(layout.variables, start=1):
        dmeta.variables[var.name] = VariableMeta(var.name, var.label.decode("ascii"), var.type, var.length,
                                                 _format(var.format), order)
    return dmeta, layout, layout.observations * layout.record_length


def _xpt_reader(path: Path, dmeta: DatasetMeta, layout):
    def read(columns=None, rows=None, encoding=None) -> pd.DataFrame:
        df, meta = read_xpt(path, columns, layout, rows, encoding)
        if columns is None and rows is None:
            dmeta.encoding = meta.encoding
        df.attrs["encoding"] = meta.encoding
        return df

    return read


def _format(sas_format: str | None) -> str:
    """'DATE9.' -> 'DATE9', '8.2' -> '8.2', None -> '': the format as pyreadstat reported it."""
    if not sas_format:
        return ""
    return sas_format[:-1] if sas_format.endswith(".") else sas_format


def read_dataset_json(path: Path) -> tuple[pd.DataFrame, DatasetMeta]:
    """A Dataset-JSON 1.1 file: .json, .ndjson or compressed .dsjc (validate/datasetjson.py)."""
    from validate.datasetjson import read

    return read(path, DatasetMeta, VariableMeta, blank_to_na)
