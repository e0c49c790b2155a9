"""The datasets of a package read from files, read when a rule needs them and let go after.

``LazyDatasets`` maps each dataset name to its frame, reading an XPT file on first use and dropping it
when the run has moved on, so that `cdisc validate` holds one unit of the package at a time (a dataset,
or the parts of a split domain) and not the whole package. ``Package.view`` and ``Package.projected``
show rules part of it: the datasets of one unit, or only the columns a rule across datasets reads.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import pandas as pd


class LazyDatasets(Mapping):
    """name -> DataFrame of a package read from files, in package order. An XPT dataset is read when first
    asked for and let go again: the datasets a run is working on are kept (``keep``), the others only
    while the ones read most recently fit in ``budget`` bytes. Frames given whole (Dataset-JSON) stay."""

    def __init__(self, budget: int = 64 << 20):
        self.budget = budget
        self._order: list[str] = []
        self._readers: dict[str, object] = {}  # name -> (columns or None) -> DataFrame
        self._columns: dict[str, list[str]] = {}
        self._records: dict[str, int] = {}
        self._sizes: dict[str, int] = {}
        self._frames: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._held: set[str] = set()
        self._kept: set[str] = set()
        self._ahead: dict[str, object] = {}  # name -> Future of a frame read in the background
        self.reads: dict[str, int] = {}  # whole reads of each dataset (again after it was let go)
        self.sources: dict[str, object] = {}  # name -> what another process needs to read it (validate.parallel)

    def add(self, name: str, frame: pd.DataFrame | None = None, reader=None, columns=None, records: int = 0,
            size: int = 0, source=None) -> None:
        if name not in self._readers and name not in self._held:
            self._order.append(name)
        self._frames.pop(name, None)
        self._readers.pop(name, None)
        self._held.discard(name)
        self.sources.pop(name, None)
        if source is not None:
            self.sources[name] = source
        if frame is not None:
            self._frames[name] = frame
            self._held.add(name)
            self._columns[name], self._records[name] = list(frame.columns), len(frame)
        else:
            self._readers[name] = reader
            self._columns[name], self._records[name], self._sizes[name] = list(columns), records, size

    def reorder(self, names: list[str]) -> None:
        """Iterate the datasets in the order ``names`` gives (the same names)."""
        if sorted(names) != sorted(self._order):
            raise ValueError(f"reorder: {sorted(names)} are not the datasets {sorted(self._order)}")
        self._order = list(names)

    def __setitem__(self, name: str, frame: pd.DataFrame) -> None:
        self.add(name, frame)

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self._frames.get(name)
        if frame is not None:
            self._frames.move_to_end(name)
            return frame
        if name not in self._readers:
            raise KeyError(name)
        ahead = self._ahead.pop(name, None)
        frame = ahead.result() if ahead is not None else self._readers[name](None)  # its error raised here
        self.reads[name] = self.reads.get(name, 0) + 1
        self._frames[name] = frame
        self._trim(keep=name)
        return frame

    def __iter__(self):
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name) -> bool:
        return name in self._readers or name in self._held

    def columns(self, name: str) -> list[str]:
        if name not in self:
            raise KeyError(name)
        return self._columns[name]

    def records(self, name: str) -> int:
        if name not in self:
            raise KeyError(name)
        return self._records[name]

    def shareable(self) -> bool:
        """Whether every dataset is read from a file another process can read as well (none given whole)."""
        return not self._held and set(self.sources) == set(self._readers)

    def is_read(self, name: str) -> bool:
        return name in self._frames

    def size(self, name: str) -> int:
        """Bytes of the dataset's records in its file (0 for a frame given whole)."""
        return self._sizes.get(name, 0)

    def read_ahead(self, names, executor) -> None:
        """Start reading ``names`` in ``executor`` while the caller works on others (reading is numpy and
        pyarrow, which let go of the GIL: the rules of one unit and the reading of the next share the cores)."""
        for name in names:
            if name in self._readers and name not in self._frames and name not in self._ahead:
                self._ahead[name] = executor.submit(self._readers[name], None)

    def cancel_ahead(self) -> None:
        for future in self._ahead.values():
            future.cancel()
        self._ahead.clear()

    def keep(self, names) -> None:
        """Hold ``names`` until the next ``keep``; the others stay while the ones used most recently fit in
        the budget (a small dataset that rules look up, DM, TS, SV, is not read again for each unit)."""
        self._kept = set(names)
        self._trim()
        _release_memory()

    def columns_of(self, name: str, columns: set) -> pd.DataFrame:
        """Dataset ``name`` with only ``columns`` (those it has), read from the file unless it is in memory."""
        chosen = [c for c in self.columns(name) if c in columns]
        if name in self._frames:
            return self._frames[name][chosen]
        return self._readers[name](chosen)

    def rangeable(self, name: str) -> bool:
        """Whether ``name`` is read from a file, so that ranges of its records can be read (validate.ranges)."""
        return name in self._readers

    def read_range(self, name: str, start: int, stop: int, columns=None, encoding: str | None = None) -> pd.DataFrame:
        """Records start..stop-1 of dataset ``name`` (0-based; the frame's index starts at 0), read from its
        file and not kept: the caller holds one range at a time."""
        return self._readers[name](None if columns is None else [c for c in self.columns(name) if c in columns],
                                   rows=(start, stop), encoding=encoding)

    def _trim(self, keep: str | None = None) -> None:
        spare = [n for n in self._frames if n not in self._kept and n not in self._held and n != keep]
        for name in [n for n in spare if self._sizes.get(n, 0) > self.budget]:  # a large dataset goes at once
            del self._frames[name]
        spare = [n for n in spare if n in self._frames]
        total = sum(self._sizes.get(n, 0) for n in spare)
        for name in spare:  # then the least recently used, until the others fit
            if total <= self.budget:
                break
            total -= self._sizes.get(name, 0)
            del self._frames[name]


def _release_memory() -> None:
    """Hand the memory of the frames let go back to the system (pyarrow's allocator keeps freed blocks)."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass


class Selection(Mapping):
    """Some datasets of a mapping (``Package.sdtm()`` of a package read lazily): read only when asked for."""

    def __init__(self, datasets: Mapping, names: list[str]):
        self._datasets, self._names = datasets, list(names)

    def __getitem__(self, name):
        if name not in self._names:
            raise KeyError(name)
        return self._datasets[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name) -> bool:
        return name in self._names


class Focus(Mapping):
    """What a rule that works dataset by dataset sees: iteration gives the datasets of one unit, while a
    look-up by name (DM, TS, a SUPP-- parent) still finds any."""

    def __init__(self, backing: Mapping, names: list[str]):
        self._backing, self._names = backing, [n for n in names if n in backing]

    def __getitem__(self, name):
        return self._backing[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name) -> bool:
        return name in self._backing

    def everything(self):
        everything = getattr(self._backing, "everything", None)
        return everything() if everything is not None else list(self._backing)

    def columns(self, name: str) -> list[str]:
        columns = getattr(self._backing, "columns", None)
        return columns(name) if columns is not None else list(self._backing[name].columns)

    def records(self, name: str) -> int:
        records = getattr(self._backing, "records", None)
        return records(name) if records is not None else len(self._backing[name])

    def columns_of(self, name: str, columns: set) -> pd.DataFrame:
        read = getattr(self._backing, "columns_of", None)
        if read is not None:
            return read(name, columns)
        frame = self._backing[name]
        return frame[[c for c in frame.columns if c in columns]]


class Window(Mapping):
    """What a rule sees of a dataset checked in ranges (validate.ranges): iterating gives that dataset alone,
    as ``frame`` (a range of its records, or the few columns a rule on the whole dataset reads); a look-up of
    another dataset by name finds it whole. Key variables a frame lacks are read for the findings."""

    def __init__(self, backing: Mapping, name: str, frame: pd.DataFrame):
        self._backing, self._name, self._frame = backing, name, frame

    def __getitem__(self, name):
        return self._frame if name == self._name else self._backing[name]

    def __iter__(self):
        return iter([self._name])

    def __len__(self) -> int:
        return 1

    def __contains__(self, name) -> bool:
        return name in self._backing

    def everything(self):
        return list(self._backing)

    def columns(self, name: str) -> list[str]:
        return self._backing.columns(name)

    def records(self, name: str) -> int:
        return len(self._frame) if name == self._name else self._backing.records(name)

    def key_columns(self, name: str, keys: list[str]) -> pd.DataFrame:
        return self._backing.columns_of(name, set(keys))

    def columns_of(self, name: str, columns: set) -> pd.DataFrame:
        if name == self._name:
            return self._frame[[c for c in self._frame.columns if c in columns]]
        return self._backing.columns_of(name, columns)


class Projected(Mapping):
    """Every dataset with only the columns a rule across datasets declares, read from the file when the
    rule asks for it (the last one asked for is kept); the key variables of its findings are read for them."""

    def __init__(self, package: object, columns: set):
        self._datasets, self._wanted = package.datasets, columns
        self._last: tuple[str, pd.DataFrame] | None = None

    def __getitem__(self, name):
        if self._last is None or self._last[0] != name:
            self._last = (name, self._datasets.columns_of(name, self._wanted))
        return self._last[1]

    def key_columns(self, name: str, keys: list[str]) -> pd.DataFrame:
        return self._datasets.columns_of(name, set(keys))

    def __iter__(self):
        return iter(self._datasets)

    def __len__(self) -> int:
        return len(self._datasets)

    def __contains__(self, name) -> bool:
        return name in self._datasets

    def columns(self, name: str) -> list[str]:
        return self._datasets.columns(name)

    def records(self, name: str) -> int:
        return self._datasets.records(name)
