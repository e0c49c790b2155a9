"""Each XPT file written once: the package links the files a run has already written when they would hold
the same bytes, instead of writing them again.

``cdisc run`` writes out/sdtm/*.xpt and out/adam/*.xpt, then the m5 package holds the same datasets. The
bytes of an XPT file are a function of the frame, the dataset name and label, the variables (name, label,
type, format, length) and the header date. ``XptFiles`` writes a file and remembers what it was written
from (the frame object itself, and the lengths the writer settled on, read back from the file's NAMESTR
records); ``place`` then hard-links (or copies, where the file system cannot link) that file to a new path
when every input is the same, and writes otherwise. Both paths sit in the version folder that is
published whole (``cdisc.publish``), so a reader still sees all the old output or all the new.

The datasets may come from a read-only Mapping that loads a dataset on each access (a run that spills its
datasets to disk, ``XptFolder`` for ``cdisc package``). Then the frame is not kept (a weak reference only:
remembering the files written never keeps the data alive), and the mapping itself stands for the data:
the same read-only mapping and the same dataset name give the same frame, so ``place`` can link without
loading it. ``XptFolder`` goes further: a dataset read from an XPT file is placed by linking that very
file when its header is the one the writer would write and its values read back unchanged.
"""
from __future__ import annotations

import os
import shutil
import struct
import weakref
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from define import xpt
from define.xpt import XptVariable
from specs.errors import Problem, RawDataError

# SAS XPORT v5: 8 header records of 80 bytes, then one 140-byte NAMESTR per variable, whose third
# big-endian short is the variable's length in bytes (SAS TS-140)
NAMESTR_START, NAMESTR_LENGTH = 8 * 80, 140


@dataclass(frozen=True)
class WrittenXpt:
    path: Path
    frame: Callable  # a weak reference to the very object written (frames are not changed once built)
    source: Mapping | None  # the read-only mapping the frame came from (``source[dataset name]``), if any
    shape: tuple[int, int]
    columns: tuple[str, ...]
    dataset_label: str
    variables: tuple[tuple, ...]  # (name, label, type, format) of each variable, in order
    requested: tuple[int | None, ...]  # the lengths asked for (None: the writer chose)
    lengths: tuple[int, ...]  # bytes of each variable as written
    created: datetime
    notes: tuple[str, ...]  # the writer's transliteration notes


def written_lengths(path: Path, count: int) -> tuple[int, ...]:
    """The length of each of the ``count`` variables of an XPT v5 file, from its NAMESTR records."""
    with open(path, "rb") as handle:
        head = handle.read(NAMESTR_START + count * NAMESTR_LENGTH)
    return tuple(struct.unpack_from(">h", head, NAMESTR_START + i * NAMESTR_LENGTH + 4)[0] for i in range(count))


def _described(variables: list[XptVariable]) -> tuple[tuple, ...]:
    return tuple((v.name, v.label, v.type, v.format) for v in variables)


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` holds the bytes of ``source``: a hard link, or a copy where links cannot be made."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)


def read_only(source) -> bool:
    """A mapping whose entries cannot be replaced (a dict can be changed between two reads: not one)."""
    return isinstance(source, Mapping) and not isinstance(source, MutableMapping)


class XptFiles:
    """The XPT files written so far (by dataset name), to be placed again without writing them twice."""

    def __init__(self):
        self.written: dict[str, WrittenXpt] = {}

    def write(self, data: pd.DataFrame, path, *, dataset_name: str, dataset_label: str,
              variables: list[XptVariable], created: datetime, source: Mapping | None = None) -> list[str]:
        """``define.xpt.write_xpt`` (looked up when called), remembering what the file was written from;
        ``source``: the mapping ``data`` was read from (``source[dataset_name]``), when read-only."""
        path = Path(path)
        notes = xpt.write_xpt(data, path, dataset_name=dataset_name, dataset_label=dataset_label, variables=variables,
                          created=created)
        self.written[dataset_name] = WrittenXpt(path, weakref.ref(data), source if read_only(source) else None,
                                                data.shape, tuple(data.columns), dataset_label,
                                                _described(variables), tuple(v.length for v in variables),
                                                written_lengths(path, len(variables)),
                                                created, tuple(notes))
        return notes

    def write_parts(self, tables, path, *, dataset_name: str, dataset_label: str, variables: list[XptVariable],
                    created: datetime, source: Mapping, each=None) -> tuple[list[str], int]:
        """``define.xpt.write_xpt_parts`` (a dataset written from its Arrow tables one at a time), remembering
        the file as ``write`` does, with no frame: the read-only mapping ``source`` stands for the data
        (``source[dataset_name]`` is the concatenation of the tables). Raises ``define.xpt.NotInParts`` as
        that function does."""
        path = Path(path)
        notes, rows = xpt.write_xpt_parts(tables, path, dataset_name=dataset_name, dataset_label=dataset_label,
                                          variables=variables, created=created, each=each)
        self.written[dataset_name] = WrittenXpt(path, lambda: None, source if read_only(source) else None,
                                                (rows, len(variables)), tuple(v.name for v in variables),
                                                dataset_label, _described(variables),
                                                tuple(v.length for v in variables),
                                                written_lengths(path, len(variables)), created, tuple(notes))
        return notes, rows

    def same(self, data: pd.DataFrame | None, path: Path, dataset_name: str, dataset_label: str,
             variables: list[XptVariable], created: datetime, source: Mapping | None = None) -> WrittenXpt | None:
        """The file written earlier from exactly these inputs (so with the bytes ``path`` would get), if any:
        from this very frame, or (``data`` None) from the same dataset of the same read-only ``source``."""
        earlier = self.written.get(dataset_name)
        if earlier is None or earlier.dataset_label != dataset_label \
                or earlier.created != created or earlier.variables != _described(variables) \
                or earlier.path.name != path.name or not earlier.path.is_file():
            return None
        if data is None:
            if source is None or earlier.source is not source or not read_only(source):
                return None
        elif earlier.frame() is not data or earlier.shape != data.shape or earlier.columns != tuple(data.columns):
            return None
        for var, requested, written in zip(variables, earlier.requested, earlier.lengths):
            if var.type == "Char" and var.length != requested and var.length != written:
                return None  # (Num variables are always 8 bytes)
        return earlier

    def place(self, data: pd.DataFrame | Callable[[], pd.DataFrame], path, *, dataset_name: str,
              dataset_label: str, variables: list[XptVariable], created: datetime,
              source: Mapping | None = None) -> list[str]:
        """Put the XPT file of ``data`` at ``path``: linked to the same file written earlier, else written.
        ``data``: the frame, or a function that loads it (called only when the mapping ``source`` it comes
        from does not already tell that the file is the same)."""
        path = Path(path)
        if callable(data) and not isinstance(data, pd.DataFrame):
            earlier = self.same(None, path, dataset_name, dataset_label, variables, created, source)
            if earlier is None and isinstance(source, XptFolder):
                earlier = source.as_written(dataset_name, dataset_label, variables, created)
            if earlier is None:
                data = data()
        else:
            earlier = self.same(data, path, dataset_name, dataset_label, variables, created)
        if earlier is None:
            return self.write(data, path, dataset_name=dataset_name, dataset_label=dataset_label,
                              variables=variables, created=created, source=source)
        link_or_copy(earlier.path, path)
        return list(earlier.notes)


class XptFolder(Mapping):
    """Datasets read from XPT files (name -> path), each read when asked for and not kept: a read-only
    mapping for ``cdisc package``, whose files are linked into the package when they hold the bytes the
    writer would write (``as_written``)."""

    def __init__(self, paths: dict[str, Path]):
        self.paths = {name: Path(path) for name, path in paths.items()}
        self.plain: dict[str, bool] = {}  # dataset -> its values read back unchanged (see as_written)

    def __getitem__(self, name: str) -> pd.DataFrame:
        from sasxport import XportError, read_xport

        path = self.paths[name]
        try:
            dataset = read_xport(path)
        except XportError as exc:
            raise RawDataError([Problem(exc.path, exc.message)]) from None
        if dataset.encoding != "utf-8":
            xpt.log.warning("%s: text is not UTF-8, read as %s", path, dataset.encoding)
        self.plain[name] = not dataset.special_missing and all(_ascii(dataset.data[v.name]) for v in dataset.variables
                                                               if v.type == "Char")
        return dataset.data

    def __iter__(self):
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def columns(self, name: str) -> list[str]:
        """The variables of a dataset, from its file's header (its values are not read)."""
        return list(header_names(self.paths[name]))

    def as_written(self, name: str, dataset_label: str, variables: list[XptVariable], created: datetime
                   ) -> WrittenXpt | None:
        """The file of ``name`` as if written from its own data with these attributes: when its header is
        byte for byte the writer's and its values read back as written (text ASCII, no special missing
        value: numbers the writer wrote from float64 read back exactly), writing again gives its bytes."""
        path = self.paths.get(name)
        if path is None or not path.is_file() or any(v.type == "Char" and v.length is None for v in variables):
            return None
        lengths = [v.length if v.type == "Char" else 8 for v in variables]
        positions = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
        try:
            header = xpt._headers(name, dataset_label, variables, lengths, positions, created)
        except (ValueError, UnicodeEncodeError, struct.error):
            return None
        with open(path, "rb") as handle:
            if handle.read(len(header)) != header:
                return None
        if name not in self.plain:
            self[name]  # read once to see its values
        if not self.plain[name]:
            return None
        return WrittenXpt(path, lambda: None, self, (), (), dataset_label, _described(variables),
                          tuple(lengths), tuple(lengths), created, ())


def _ascii(column: pd.Series) -> bool:
    """Every value of a text column is ASCII (the writer would transliterate the others)."""
    values = pa.array(column, from_pandas=True) if not isinstance(column.dtype, pd.ArrowDtype) else column.array
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return False
    return bool(pc.all(pc.fill_null(pc.string_is_ascii(values), True)).as_py() in (True, None))


def header_names(path: Path) -> tuple[str, ...]:
    """The variable names of an XPT v5 file, from its NAMESTR records (other versions: read whole)."""
    with open(path, "rb") as handle:
        head = handle.read(NAMESTR_START)
        if len(head) == NAMESTR_START and head[20:28] == b"LIBRARY " and head[580:588] == b"NAMESTR ":
            count = int(head[608:618])
            names = handle.read(count * NAMESTR_LENGTH)
            if len(names) == count * NAMESTR_LENGTH:
                return tuple(names[i * NAMESTR_LENGTH + 8:i * NAMESTR_LENGTH + 16].decode("ascii", "replace").rstrip()
                             for i in range(count))
    from sasxport import XportError, check_xport

    try:
        return tuple(v.name for v in check_xport(path).variables)
    except XportError as exc:
        raise RawDataError([Problem(exc.path, exc.message)]) from None
