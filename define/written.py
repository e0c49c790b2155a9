"""Each XPT file written once: the package links the files a run has already written when they would hold
the same bytes, instead of writing them again.

``cdisc run`` writes out/sdtm/*.xpt and out/adam/*.xpt, then the m5 package holds the same datasets. The
bytes of an XPT file are a function of the frame, the dataset name and label, the variables (name, label,
type, format, length) and the header date. ``XptFiles`` writes a file and remembers what it was written
from (the frame object itself, and the lengths the writer settled on, read back from the file's NAMESTR
records); ``place`` then hard-links (or copies, where the file system cannot link) that file to a new path
when every input is the same, and writes otherwise. Both paths sit in the version folder that is
published whole (``cdisc.publish``), so a reader still sees all the old output or all the new.
"""
from __future__ import annotations

import os
import shutil
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from define import xpt
from define.xpt import XptVariable

# SAS XPORT v5: 8 header records of 80 bytes, then one 140-byte NAMESTR per variable, whose third
# big-endian short is the variable's length in bytes (SAS TS-140)
NAMESTR_START, NAMESTR_LENGTH = 8 * 80, 140


@dataclass(frozen=True)
class WrittenXpt:
    path: Path
    frame: pd.DataFrame  # the very object written (frames are not changed once built)
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


class XptFiles:
    """The XPT files written so far (by dataset name), to be placed again without writing them twice."""

    def __init__(self):
        self.written: dict[str, WrittenXpt] = {}

    def write(self, data: pd.DataFrame, path, *, dataset_name: str, dataset_label: str,
              variables: list[XptVariable], created: datetime) -> list[str]:
        """``define.xpt.write_xpt`` (looked up when called), remembering what the file was written from."""
        path = Path(path)
        notes = xpt.write_xpt(data, path, dataset_name=dataset_name, dataset_label=dataset_label, variables=variables,
                          created=created)
        self.written[dataset_name] = WrittenXpt(path, data, data.shape, tuple(data.columns), dataset_label,
                                                _described(variables), tuple(v.length for v in variables),
                                                written_lengths(path, len(variables)),
                                                created, tuple(notes))
        return notes

    def same(self, data: pd.DataFrame, path: Path, dataset_name: str, dataset_label: str,
             variables: list[XptVariable], created: datetime) -> WrittenXpt | None:
        """The file written earlier from exactly these inputs (so with the bytes ``path`` would get), if any."""
        earlier = self.written.get(dataset_name)
        if earlier is None or earlier.frame is not data or earlier.shape != data.shape \
                or earlier.columns != tuple(data.columns) or earlier.dataset_label != dataset_label \
                or earlier.created != created or earlier.variables != _described(variables) \
                or earlier.path.name != path.name or not earlier.path.is_file():
            return None
        for var, requested, written in zip(variables, earlier.requested, earlier.lengths):
            if var.type == "Char" and var.length != requested and var.length != written:
                return None  # (Num variables are always 8 bytes)
        return earlier

    def place(self, data: pd.DataFrame, path, *, dataset_name: str, dataset_label: str,
              variables: list[XptVariable], created: datetime) -> list[str]:
        """Put the XPT file of ``data`` at ``path``: linked to the same file written earlier, else written."""
        path = Path(path)
        earlier = self.same(data, path, dataset_name, dataset_label, variables, created)
        if earlier is None:
            return self.write(data, path, dataset_name=dataset_name, dataset_label=dataset_label,
                              variables=variables, created=created)
        link_or_copy(earlier.path, path)
        return list(earlier.notes)
