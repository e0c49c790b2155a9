"""The raw export read source by source and spilled, then the spilled tables cut into the chunks' folders."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cdisc.chunks.spill import SPILL, give_back_memory, read_frame, write_frame, write_table
from cdisc.chunks.subjects import Partition, SubjectReading
from specs.errors import RawDataError


@dataclass
class RawRead:
    files: dict
    notes: list
    headers: dict  # source -> its columns


def read_spilled(spec, raw_dir: Path, edc: str, progress, ct, folder: Path):
    """Read the raw export source by source (a CSV export: one table in memory at a time; REDCap and ODM
    exports, whose files hold several sources, at once), each table's raw checks and the subject of each
    record worked out, the table spilled to folder/00000/<source>.arrow and let go. Problems of every
    source are raised together, as read_raw does."""
    from dataclasses import replace

    from cdisc.pipeline import read_raw
    from sdtm.engine import raw_problems

    reading = SubjectReading(spec, ct)
    one = edc == "csv" and not any("redcap" in source for source in spec.sources.values())
    groups = [{name: source} for name, source in spec.sources.items()] if one else [dict(spec.sources)]
    files, notes, headers, problems, checked = {}, [], {}, [], []
    target = folder / f"{0:05d}"
    target.mkdir(parents=True, exist_ok=True)
    for group in groups:
        try:
            raw = read_raw(replace(spec, sources=group), raw_dir, edc, progress)
        except RawDataError as exc:
            problems += exc.problems
            continue
        files.update(raw.files)
        notes += raw.notes
        for name in list(raw.tables):
            table = raw.tables.pop(name)
            headers[name] = list(table.columns)
            checked += raw_problems(spec, {name: table})
            reading.add(name, table)
            write_frame(table, target / f"{name}.arrow")  # Arrow IPC: the text buffers as they are, no pickle copy
            del table
            give_back_memory(collect=False)  # Arrow's pool keeps what reading the table freed (as much again)
    if problems:
        raise RawDataError(problems)
    return RawRead(files, notes, headers), reading, checked


def split_spilled(folder: Path, part: Partition) -> None:
    """The spilled raw tables (folder/00000) cut into the chunks' folders, one table at a time."""
    whole = folder / f"{0:05d}"
    for path in sorted(whole.glob("*.arrow")):
        name = path.stem
        where = part.assigned.get(name, "once")
        if isinstance(where, str) and where == "once":  # all of it in chunk 0 (where it lies), none elsewhere
            with pa.memory_map(str(path)) as source:
                schema = pa.ipc.open_file(source).schema
            for index in range(1, part.chunks):
                write_table(schema.empty_table(), folder / f"{index:05d}" / path.name)
            continue
        if isinstance(where, str):  # every chunk
            with pa.memory_map(str(path)) as source:  # as Arrow, not pandas
                table = pa.ipc.open_file(source).read_all()
            path.unlink()
            for index in range(part.chunks):
                write_table(table, folder / f"{index:05d}" / path.name)
            del table
        else:
            _split_batches(path, where, part.chunks, folder)
        give_back_memory(collect=False)


def _split_batches(path: Path, where: np.ndarray, chunks: int, folder: Path) -> None:
    """A spilled table's records into the chunks' files a record batch at a time, each batch's records put in
    chunk order by one take and each chunk's part a slice of it: one batch in memory, not the table, and no
    take per chunk from the whole table (a take from a table of many batches costs about the whole table:
    74 chunks of the 12 M lab records of 100,000 subjects took minutes). Chunk 0's file replaces the table's."""
    parts = [folder / f"{index:05d}" / (path.name + (".part" if index == 0 else "")) for index in range(chunks)]
    for target in parts:
        target.parent.mkdir(parents=True, exist_ok=True)
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        sinks = [pa.OSFile(str(target), "wb") for target in parts]
        writers = [pa.ipc.new_file(sink, reader.schema, options=SPILL) for sink in sinks]
        try:
            first = 0
            for number in range(reader.num_record_batches):
                batch = reader.get_batch(number)
                chunk_of = where[first:first + batch.num_rows]
                first += batch.num_rows
                counts = np.bincount(chunk_of, minlength=chunks)
                batch = batch.take(pa.array(np.argsort(chunk_of, kind="stable")))
                offset = 0
                for index in np.flatnonzero(counts):
                    writers[index].write_batch(batch.slice(offset, counts[index]))
                    offset += counts[index]
                del batch
        finally:
            for writer, sink in zip(writers, sinks):
                writer.close()
                sink.close()
    os.replace(parts[0], path)


def read_tables(folder: Path, spec) -> dict[str, pd.DataFrame]:
    """A chunk's raw tables, in the spec's order of sources."""
    tables = {}
    for name in spec.sources:
        path = folder / f"{name}.arrow"
        if path.is_file():
            tables[name] = read_frame(path)
    return tables


def chunk_table(table: pd.DataFrame, where, index: int) -> pd.DataFrame:
    if isinstance(where, str):
        return table if where == "all" or (where == "once" and index == 0) else table.iloc[:0]
    return table.iloc[np.flatnonzero(where == index)].reset_index(drop=True)


def chunk_tables(tables: dict[str, pd.DataFrame], part: Partition, index: int) -> dict[str, pd.DataFrame]:
    """The raw records of one chunk, each table in its own order (a fresh index, as a smaller export)."""
    return {name: chunk_table(table, part.assigned[name], index) for name, table in tables.items()}
