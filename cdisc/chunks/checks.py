"""The raw checks of a run in chunks (repeated source keys, undeclared values): the problems, in their order,
that sdtm.engine.raw_problems gives on each whole raw table, without holding one. Undeclared values are found
a record batch at a time as a file is read. A source's repeated keys are found in each chunk when its keys
hold the columns its subject is read from (two records with one key are then of one subject, in one chunk, in
the order of the file); else on the key columns of the whole source, read back from its spill file."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc.chunks.spill import frame_of, read_table
from cdisc.chunks.subjects import SubjectReading
from sdtm.prepare import RepeatedKeys, UndeclaredValues, repeated_key_problems, repeated_key_records, \
    repeated_source_keys
from specs.errors import Problem


class RawChecks:
    """The raw checks of every source read, as its records go by (``start``, ``add`` each part, ``finish``)."""

    def __init__(self, spec, reading: SubjectReading):
        self.spec, self.reading = spec, reading
        self.values: dict[str, UndeclaredValues] = {}
        self.repeats: dict[str, list[Problem]] = {}  # source -> its repeated keys, found here
        self.in_chunks: dict[str, list[str]] = {}  # source -> its keys, whose repeats each chunk finds

    def start(self, name: str) -> None:
        """A source read from its start."""
        self.drop(name)
        self.values[name] = UndeclaredValues(self.spec.sources[name].get("values") or {}, name)

    def drop(self, name: str) -> None:
        """Forget what was found of a source (read again from its start)."""
        for found in (self.values, self.repeats, self.in_chunks):
            found.pop(name, None)

    def add(self, name: str, table: pd.DataFrame) -> None:
        """The next part of a source's records (the whole table, or its next record batch)."""
        self.values[name].add(table)

    def finish(self, name: str, table: pd.DataFrame | Path | None = None) -> None:
        """A source read to its end: its repeated keys left to the chunks, or found on ``table`` (the whole
        table, else the key columns of its spill file, that path or folder/00000/<name>.arrow)."""
        keys = list(self.spec.sources[name]["keys"])
        route = self.reading.route(name)
        if route.kind == "subject" and route.columns and set(route.columns) <= set(keys):
            self.in_chunks[name] = keys
            return
        if not isinstance(table, pd.DataFrame):
            table = frame_of([read_table(table, keys + ["__file", "__row"])])
        self.repeats[name] = repeated_source_keys(table, keys, name)

    def problems(self, chunks: list) -> list[Problem]:
        """Every source's problems in the spec's order of sources: its repeated keys (the chunks' joined),
        then its undeclared values; ``chunks``: the chunks' ChunkSdtm."""
        problems: list[Problem] = []
        for name in [n for n in self.spec.sources if n in self.values]:
            if name in self.in_chunks:
                problems += repeated_key_problems([c.repeats.get(name, RepeatedKeys()) for c in chunks], name)
            else:
                problems += self.repeats.get(name, [])
            problems += self.values[name].problems()
        return problems


def chunk_repeats(tables: dict[str, pd.DataFrame], checks: dict[str, list[str]]) -> dict[str, RepeatedKeys]:
    """A chunk's part of the repeated keys of the sources checked by chunk (``checks``: source -> keys)."""
    return {name: repeated_key_records(tables[name], keys, name) for name, keys in checks.items() if name in tables}
