"""A dataset read one column at a time, for the pass that describes it (``define.build``).

Describing a dataset for define.xml looks at each variable once (its distinct values, lengths, codelist
terms) and at a few of them again (value-level metadata, where clauses, the guides' summaries). A mapping
whose datasets lie on disk (the run's spill files, ``cdisc.chunks.Spilled``) hands out a ``ColumnView``:
each column is read from the file when asked for, as the whole frame would hold it, so the dataset is
never made one pandas frame (nor all its columns decompressed at once beside it).
``ColumnView`` answers what the describing pass asks of a data frame: ``columns``, ``len``, ``empty``,
``index``, ``view[name]`` (a Series), ``view[[names]]`` (a frame of those columns) and ``groupby``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd


class ColumnView:
    """The columns ``names`` of a dataset of ``rows`` records; ``read(names)`` returns the named columns as
    a frame or as a mapping of name -> Series (the records in their order, the types those of the whole frame)."""

    def __init__(self, names: list[str], rows: int, read: Callable[[list[str]], Mapping]):
        self.columns = pd.Index(names)
        self.rows, self._read = rows, read

    def __len__(self) -> int:
        return self.rows

    @property
    def empty(self) -> bool:
        return self.rows == 0 or len(self.columns) == 0

    @property
    def index(self) -> pd.RangeIndex:
        return pd.RangeIndex(self.rows)

    def __contains__(self, name) -> bool:
        return name in self.columns

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(key)
            return self._read([key])[key]
        names = list(key)
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise KeyError(missing)
        found = self._read(names)
        return found[names] if isinstance(found, pd.DataFrame) else pd.DataFrame({n: found[n] for n in names})

    def groupby(self, by, **options):
        """``DataFrame.groupby`` on a frame of the ``by`` columns only (what counting records per group needs)."""
        return self[[by] if isinstance(by, str) else list(by)].groupby(by, **options)


def columns_of(data: Mapping, name: str):
    """Dataset ``name`` of ``data`` for describing: a ``ColumnView`` when the mapping reads its datasets a
    column at a time (``columns_of(name)``), else the frame itself."""
    view = getattr(data, "columns_of", None)
    return view(name) if callable(view) else data[name]
