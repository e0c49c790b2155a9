"""The chunks' spill files joined: a dataset (as one frame, or written to XPT chunk by chunk) and the lineage."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdisc.chunks.spill import SPILL, Spilled, dataset_file, frame_of, open_spill, read_table, write_frame


def join_dataset(work: Path, layer: str, name: str, chunks: int, drop: list[str]) -> pd.DataFrame:
    """A dataset's chunks one after the other. Chunks of one Arrow schema are joined as Arrow and converted
    once (one copy of the dataset in memory, and 5x faster than joining the chunks' frames); chunks whose
    types differ (a column without a value in one chunk) are joined as frames, as pandas joins them."""
    tables = [read_table(path).drop_columns(drop) for index in range(chunks)
              if (path := dataset_file(work, layer, name, index)).is_file()]
    schema = tables[0].schema
    if all(t.schema.equals(schema, check_metadata=True) for t in tables) and \
            not any(pa.types.is_dictionary(f.type) for f in schema):
        return frame_of(tables)
    frames = [frame_of([tables[index]]) for index in range(len(tables))]
    del tables
    non_empty = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(non_empty, ignore_index=True)


def write_remembered(xpt_files, source: Spilled, frame: pd.DataFrame, path: Path, **how) -> list[str]:
    """Write a joined dataset's XPT file through the run's XptFiles (the package links it), the frame
    standing for ``source[name]`` (an XptFiles that takes ``source`` keeps no frame alive; one that does
    not keeps each frame, and ``source`` hands that very frame out while it lives, for the package to
    link the file)."""
    import inspect

    source.alive[how["dataset_name"]] = frame  # the same object while anything holds it
    if "source" in inspect.signature(xpt_files.write).parameters:
        return xpt_files.write(frame, path, source=source, **how)
    return xpt_files.write(frame, path, **how)  # (an XptFiles that keeps the frame: the package links it)


def write_in_parts(xpt_files, source: Spilled, work: Path, layer: str, name: str, rows: list[int], drop: list[str],
                   path: Path, **how) -> tuple[list[str], int] | None:
    """A dataset's XPT file and joined spill file written from its chunks' spill files one chunk at a time
    (``define.xpt.write_xpt_parts``, the bytes of the joined frame), never joined in memory nor made a pandas
    frame; ``rows``: the records of each chunk, ``drop``: the variables left out. None (nothing written) when
    the chunks cannot be written so (columns of different types, values the writer transliterates or
    refuses): the caller joins them and writes the whole."""
    from define.xpt import NotInParts

    files = [dataset_file(work, layer, name, index) for index, count in enumerate(rows) if count]
    schemas = []
    for file in files:
        with pa.memory_map(str(file)) as handle:
            schema = pa.ipc.open_file(handle).schema
        schemas.append(pa.schema([f for f in schema if f.name not in drop], metadata=schema.metadata))
    # pandas' metadata too: the joined frame has the chunks' column types only when they agree
    if not files or any(not s.equals(schemas[0], check_metadata=True) for s in schemas[1:]):
        return None

    def tables(columns):
        for file in files:
            table = read_table(file, columns)
            yield table if columns is not None else table.drop_columns([c for c in drop if c in table.column_names])

    target = source.path(name)
    spill: list = []

    def each(table: pa.Table) -> None:  # the joined spill file, a chunk at a time (pandas' metadata of the
        if not spill:                   # chunks: the same frame read back; a dropped column's entry is ignored)
            target.parent.mkdir(parents=True, exist_ok=True)
            spill.append(pa.OSFile(str(target), "wb"))
            spill.append(pa.ipc.new_file(spill[0], table.schema, options=SPILL))
        spill[1].write_table(table)

    try:
        done = xpt_files.write_parts(tables, path, source=source, each=each, **how)
    except NotInParts:
        done = None
    finally:
        for handle in reversed(spill):
            handle.close()
    if done is None:
        target.unlink(missing_ok=True)  # (half of it, when a later chunk was refused)
    return done


LINEAGE_BATCHES = b"cdisc.batches"  # a chunk's lineage file: the record batches of each dataset (JSON)


def write_lineage_parts(lineage: pd.DataFrame, path: Path) -> None:
    """A chunk's lineage as an Arrow IPC file whose record batches each hold one dataset's records (in their
    order), the batches of each dataset named in the schema's metadata: the join reads each dataset of
    each chunk alone (``join_lineage``), not the whole file once per dataset."""
    import json

    table = pa.Table.from_pandas(lineage, preserve_index=False)
    names = lineage["DATASET"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]]) if len(names) else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(names)]
    batches, where = [], {}
    for start, end in zip(starts, ends):  # (sdtm.lineage writes each dataset's records together: one run each)
        for batch in table.slice(int(start), int(end - start)).to_batches():
            where.setdefault(str(names[start]), []).append(len(batches))
            batches.append(batch)
    schema = table.schema.with_metadata({**(table.schema.metadata or {}), LINEAGE_BATCHES: json.dumps(where)})
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema, options=SPILL) as writer:
        for batch in batches:
            writer.write_batch(batch)


def join_lineage(work: Path, chunks: int, offsets: dict[str, list[int]], order: list[str], path: Path) -> None:
    """The lineage of the whole study into one Arrow IPC file: each dataset's records chunk after chunk,
    RECORD offset by the records of the chunks before; one chunk's part of one dataset in memory at a time,
    read as the record batches ``write_lineage_parts`` wrote it in, never as a pandas frame."""
    import json

    from sdtm.lineage import COLUMNS

    sources = [p for index in range(chunks) if (p := dataset_file(work, "lineage", "records", index)).is_file()]
    path.parent.mkdir(parents=True, exist_ok=True)
    readers, handles = [], []
    schema, writer, sink = None, None, None
    try:
        for source in sources:
            handles.append(open_spill(source))
            reader = pa.ipc.open_file(handles[-1])
            readers.append((int(source.stem), reader, json.loads((reader.schema.metadata or {})[LINEAGE_BATCHES])))
        for name in order:
            for index, reader, where in readers:
                for position in where.get(name, []):
                    batch = reader.get_batch(position)
                    if not batch.num_rows:
                        continue
                    column = batch.schema.get_field_index("RECORD")
                    record = pc.add(batch.column(column), pa.scalar(int(offsets[name][index]), batch.column(column).type))
                    part = pa.Table.from_batches([batch]).set_column(column, batch.schema.field(column), record)
                    if writer is None:
                        schema = part.schema.remove_metadata().with_metadata(
                            {k: v for k, v in (reader.schema.metadata or {}).items() if k != LINEAGE_BATCHES})
                        sink = pa.OSFile(str(path), "wb")
                        writer = pa.ipc.new_file(sink, schema, options=SPILL)
                    writer.write_table(part.cast(schema) if not part.schema.equals(schema) else part)
        if writer is None:
            write_frame(pd.DataFrame(columns=COLUMNS), path)
    finally:
        if writer is not None:
            writer.close()
            sink.close()
        for handle in handles:
            handle.close()
