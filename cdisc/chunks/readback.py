"""A chunk's SDTM as ADaM reads it, made in memory: the frames that writing each dataset as an XPT file
(define.xpt.write_xpt) and reading the folder back (adam.build.read_sdtm_folder) give, without the files.

ADaM is built from the SDTM as XPT holds it (what a reviewer receives). That round trip is a function of the
frame and of the variables' metadata; ``read_back`` works it out with the writer's and the reader's own
functions wherever it is certain to give the same values, types, column order and attributes:

- Num: the float64 values the writer takes from the column (define.xpt_columns._num_column), turned into the IBM
  floats it writes and back as the reader turns them (sasxport.ibm): bit for bit the reader's values (-0.0
  reads 0.0, a value below 16**-64 is denormalized or 0, a missing value NaN).
- Char: when the writer takes the column as ASCII text without NUL bytes, no value longer than the length
  (define.xpt_columns._arrow_column: each value padded with blanks to the width, missing blank), the reader trims
  the trailing blanks and NULs of each field (sasxport.reader._text), which gives the value with its
  trailing blanks trimmed, then makes blank text missing (adam.build.as_read).
- The frame: the variables in the file's order, a RangeIndex, ``attrs["encoding"]`` "utf-8" (the writer's
  labels and text are ASCII, which the reader decodes as UTF-8 first).

Anything else (text the writer would transliterate or refuse, a value no IBM float holds, text in a Num
column that is not a number, a column of another type, a dataset without records, metadata the writer
refuses, duplicated columns, pandas' text not held by pyarrow): ``read_back`` says None, and that dataset is
written and read back for real (``written_and_read``), as every dataset was before.

A chunk reads only the variables the ADaM spec can read of each dataset (adam.liveness over-estimates them,
never under; build_adam drops the others before its first step). The writer's checks of the metadata still
see every variable; a value of a variable left unread that the writer would refuse is refused too by the
parent, which writes the whole dataset with the same variables (its lengths at least the chunk's) and stops
the run before any chunk's result is looked at.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from adam.build import as_read, read_sdtm_folder
from cdisc.chunks.spill import dataset_file, frame_of, open_spill, read_frame, read_table
from define import xpt
# the writer's own choices, reused (not copied) so that they cannot drift apart
from define.xpt import _check_metadata
from define.xpt_columns import _arrow_column, _num_column, _object_text
from sasxport.ibm import ibm_to_ieee, ieee_to_ibm
from sasxport.reader import ARROW_TEXT, TEXT_DTYPE

CREATED = datetime(2000, 1, 1)  # the header date of the files a chunk writes (none of it is read)


def read_sdtm_chunk(task, reads) -> dict[str, pd.DataFrame]:
    """The chunk's SDTM datasets ({name: frame}, in read_sdtm_folder's order: by file name), each as the XPT
    round trip gives it; ``reads(name)``: the variables of a dataset ADaM reads (None: all)."""
    folder = task.work / "xpt" / f"{task.index:05d}"
    out = {}
    for name in sorted(task.xpt, key=lambda n: f"{n.lower()}.xpt"):
        label, variables = task.xpt[name]
        if name in task.once:  # made once (no subject), joined already
            path, drop = Path(task.once[name]), []
        else:
            path, drop = dataset_file(task.work, "sdtm", name, task.index), task.drop.get(name, [])
        out[name] = _dataset(path, drop, name, label, variables, reads(name), folder)
    if folder.exists():
        folder.rmdir()
    return out


def _dataset(path: Path, drop: list, name: str, label: str, variables: list, needed, folder: Path) -> pd.DataFrame:
    """One dataset of the chunk: the variables ``needed`` read from its spill file and read back in memory, or
    (when ``read_back`` cannot be sure) the whole of it written and read."""
    names = _spill_columns(path)
    columns = [c for c in names if c not in drop]  # the frame's columns as the writer sees them
    if needed is not None and set(drop) <= set(names):
        wanted = [v.name for v in variables if v.name in needed and v.name in columns]
        frame = frame_of([read_table(path, wanted or columns[:1] or None)])
        if not wanted:  # (a column read all the same, for the number of records)
            frame = frame.iloc[:, :0]
    else:
        frame = read_frame(path).drop(columns=drop)
    read = read_back(frame, name, label, variables, columns)
    if read is not None:
        return read
    del frame
    return written_and_read(read_frame(path).drop(columns=drop), name, label, variables, folder)


def _spill_columns(path: Path) -> list[str]:
    with open_spill(path) as source:
        return list(pa.ipc.open_file(source).schema.names)


def read_back(frame: pd.DataFrame, name: str, label: str, variables: list, columns=None) -> pd.DataFrame | None:
    """The frame ``read_sdtm_folder`` gives of the file ``write_xpt`` makes of ``frame`` (dataset ``name``,
    ``label``, ``variables``: define.xpt.XptVariable), limited to the variables ``frame`` holds; None when
    that is not certain (see the module's text). ``columns``: every column of the dataset as the writer would
    see it (default: the frame's), for the writer's checks of the metadata."""
    if not ARROW_TEXT or not len(frame) or not frame.columns.is_unique:
        return None
    whole = frame if columns is None else pd.DataFrame(columns=list(columns))
    if not whole.columns.is_unique or _check_metadata(whole, name, label, variables, []):
        return None  # (the writer refuses it: the real write says why)
    held = set(frame.columns)
    if not held <= {v.name for v in variables}:
        return None
    values = {}
    for var in variables:
        if var.name not in held:
            continue
        column = _text(frame[var.name], var) if var.type == "Char" else _numbers(frame[var.name])
        if column is None:
            return None
        values[var.name] = column
    # (no variable read: no column, the names' type the reader's, as build_adam keeps none of them)
    data = pd.DataFrame(values, index=pd.RangeIndex(len(frame)), copy=False) if values else \
        pd.DataFrame(index=pd.RangeIndex(len(frame)), columns=pd.Index([], dtype=TEXT_DTYPE))
    data.attrs["encoding"] = "utf-8"
    return as_read(data)


def _text(series: pd.Series, var):
    """A Char column as the reader gives it back, when the writer takes it as plain ASCII text; else None."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return None  # (the writer refuses it)
    source = _arrow_column(series, var)  # the writer's choice, in its order (define.xpt_columns._char_column)
    if source is None and series.dtype == object:
        text = _object_text(series)
        source = _arrow_column(text, var) if text is not None else None
    if source is None:
        return None
    # each value padded with blanks to the width, then trimmed of trailing blanks and NULs: the value trimmed
    return pd.array(pc.ascii_rtrim(source.array, characters=" \x00"), dtype=TEXT_DTYPE)


def _numbers(series: pd.Series) -> np.ndarray | None:
    """A Num column as the reader gives it back (float64); None when the writer would refuse a value."""
    problems: list[str] = []
    values = _num_column(series, "", problems)
    if problems:
        return None
    return ibm_to_ieee(ieee_to_ibm(values))


def written_and_read(frame: pd.DataFrame, name: str, label: str, variables: list, folder: Path) -> pd.DataFrame:
    """The dataset written as ``folder``/<name>.xpt and read back with read_sdtm_folder (the file removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.lower()}.xpt"
    try:
        xpt.write_xpt(frame, path, dataset_name=name, dataset_label=label, variables=variables, created=CREATED)
        return read_sdtm_folder(folder)[path.stem.upper()]
    finally:
        path.unlink(missing_ok=True)
