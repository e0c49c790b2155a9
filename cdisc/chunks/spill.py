"""Spill files: data frames and Arrow tables as Arrow IPC files in the work folder, and the joined datasets
handed on as ``Spilled`` (one dataset read from its file on each access)."""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

SPILL = pa.ipc.IpcWriteOptions(compression="lz4")  # the spill of a 100,000-subject study fills a disk otherwise


def open_spill(path: Path) -> pa.OSFile:
    """A spill file to read: read, not memory-mapped. Its batches are compressed, so that reading them makes new
    buffers either way, and a mapped file's pages count in the process's memory as it is read through (the 12 M
    lab records of 100,000 subjects took the run process from 1 to 1.9 GB while they were cut into chunks)."""
    return pa.OSFile(str(path), "rb")

BATCH = 1 << 16  # records converted to Arrow at a time when a frame is spilled


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """A data frame as an Arrow IPC file (pandas' metadata keeps the column types), converted and written a
    batch of records at a time: a frame of Python-object text is not copied whole into Arrow beside itself."""
    schema = frame_schema(frame)  # the whole frame's types, for every batch
    if len(frame) <= BATCH:
        write_table(arrow_table(frame, schema), path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema, options=SPILL) as writer:
        for start in range(0, len(frame), BATCH):
            part = arrow_table(frame.iloc[start:start + BATCH], schema)
            writer.write_table(part.replace_schema_metadata(schema.metadata))
            del part


def frame_schema(frame: pd.DataFrame) -> pa.Schema:
    """``pa.Schema.from_pandas(frame, preserve_index=False)``, the type of a text column (objects: str and missing
    values) inferred from one of its strings, not from every record's (pyarrow's inference looks at each object:
    ~0.1 s for the 28 text columns of 150,000 LB records). Any other object column: pyarrow's own inference."""
    rows = {0}
    for position, kind in enumerate(frame.dtypes):
        if kind != object:
            continue
        values = frame.iloc[:, position].to_numpy()
        if pd.api.types.infer_dtype(values, skipna=True) != "string":  # (all missing too: pyarrow's null type)
            return pa.Schema.from_pandas(frame, preserve_index=False)
        rows.add(_first_present(values))
    return pa.Schema.from_pandas(frame.iloc[sorted(rows)] if len(frame) else frame, preserve_index=False)


def _first_present(values: np.ndarray, step: int = 4096) -> int:
    for start in range(0, len(values), step):
        present = ~pd.isna(values[start:start + step])
        if present.any():
            return start + int(np.argmax(present))
    raise ValueError("no value present")  # (infer_dtype found one)


def arrow_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``pa.Table.from_pandas(frame, schema=schema, preserve_index=False)`` (the same table), each text column
    (objects: str and missing values) converted once per distinct string object and taken back to the records:
    the text of a dataset is mostly strings shared by many records (sdtm.unique), each of which pyarrow would
    encode again. A column of other objects: the whole frame converted by pyarrow."""
    if not frame.columns.is_unique or list(frame.columns) != schema.names:
        return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    arrays: dict[int, pa.ChunkedArray] = {}
    others = []
    for position, kind in enumerate(frame.dtypes):
        if kind != object:
            others.append(position)
            continue
        array = _text_array(frame.iloc[:, position].to_numpy(), schema.field(position).type)
        if array is None:
            return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        arrays[position] = pa.chunked_array([array], type=array.type)
    if others:
        rest = pa.Table.from_pandas(frame.iloc[:, others], schema=pa.schema([schema.field(p) for p in others]),
                                    preserve_index=False, nthreads=1)
        arrays.update((p, rest.column(i)) for i, p in enumerate(others))
    return pa.Table.from_arrays([arrays[p] for p in range(frame.shape[1])], schema=schema)


def _text_array(values: np.ndarray, kind: pa.DataType) -> pa.Array | None:
    """An object column of str and missing values (None, NaN) as an Arrow array of ``kind``, each distinct string
    object converted once; None for a column holding anything else."""
    import ctypes

    if len(values) < 2:
        return pa.array(values, type=kind, from_pandas=True) if all(_text_or_missing(v) for v in values) else None
    values = np.ascontiguousarray(values)
    # the object pointers themselves, read (not copied) while ``values`` holds the objects alive
    identity = np.ctypeslib.as_array((ctypes.c_ssize_t * len(values)).from_address(values.ctypes.data))
    codes, objects = pd.factorize(identity)
    first = np.empty(len(objects), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(values) - 1, -1, -1)
    distinct = values[first]
    missing = pd.isna(distinct)
    if not all(v is None or (type(v) is float and v != v) for v in distinct[missing]) or \
            pd.api.types.infer_dtype(distinct[~missing], skipna=False) not in ("string", "empty"):
        return None
    if len(distinct) > len(values) // 2:  # few shared strings: taking them back does not pay
        return pa.array(values, type=kind, from_pandas=True)
    return pa.array(distinct, type=kind, from_pandas=True).take(pa.array(codes))


def _text_or_missing(value) -> bool:
    return type(value) is str or value is None or (type(value) is float and value != value)


def read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A spill file as an Arrow table: all its columns, or only those of ``columns`` it has (the others are
    not even decompressed)."""
    with open_spill(path) as source:
        reader = pa.ipc.open_file(source)
        if columns is not None:
            names = reader.schema.names
            fields = [names.index(c) for c in columns if c in names]
            reader = pa.ipc.open_file(source, options=pa.ipc.IpcReadOptions(included_fields=fields))
        return reader.read_all()


def read_frame(path: Path) -> pd.DataFrame:
    return frame_of([read_table(path)])


def frame_of(tables: list[pa.Table]) -> pd.DataFrame:
    """Tables of one schema, one after the other, as a data frame whose text columns are each one
    large_string array (pandas' own text storage, which the XPT writer reads in place: a column of several
    chunks it would copy whole first), joined a column at a time, each column's chunks let go as it is
    joined (``tables`` is emptied, so that nothing else holds them)."""
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    tables.clear()
    metadata = table.schema.metadata
    arrays, fields = [], []
    while table.num_columns:
        field, column = table.schema.field(0), table.column(0)
        table = table.remove_column(0)
        array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        del column
        if pa.types.is_string(array.type):
            array = array.cast(pa.large_string())
        arrays.append(array)
        fields.append(field.with_type(array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata)).to_pandas()


def write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=SPILL) as writer:
        writer.write_table(table)


def dataset_file(work: Path, layer: str, name: str, index: int) -> Path:
    return work / layer / name / f"{index:05d}.arrow"


class SpillFolder:
    """Where the joined datasets lie: in the staging area while the run writes, then (``keep``) moved to a
    temporary folder of the same disk, removed when no mapping reads it any more (or at exit)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._finalizer = None

    def keep(self) -> None:
        import tempfile
        import weakref

        if not self.path.is_dir():
            return
        kept = Path(tempfile.mkdtemp(prefix="cdisc-datasets-"))
        os.replace(self.path, kept / "joined")
        self.path = kept / "joined"
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(kept), True)


class Spilled(Mapping):
    """Datasets by name, each read from its spill file on access and not kept: iterate one at a time."""

    def __init__(self, folder: SpillFolder, layer: str, rows: dict[str, int]):
        import weakref

        self.folder, self.layer, self.rows = folder, layer, rows
        self.alive = weakref.WeakValueDictionary()  # a frame still held elsewhere is handed out again

    def path(self, name: str) -> Path:
        return self.folder.path / self.layer / f"{name}.arrow"

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.rows:
            raise KeyError(name)
        frame = self.alive.get(name)
        return frame if frame is not None else read_frame(self.path(name))

    def columns_of(self, name: str):
        """The dataset as a ``define.columns.ColumnView``: each column read from the spill file when asked
        for (define.xml describes a dataset a column at a time: the whole frame is never made)."""
        from define.columns import ColumnView

        if name not in self.rows:
            raise KeyError(name)
        path = self.path(name)
        with pa.memory_map(str(path)) as source:
            schema = pa.ipc.open_file(source).schema
        pandas = json.loads(schema.metadata[b"pandas"]) if schema.metadata and b"pandas" in schema.metadata else None
        kinds = schema.empty_table().to_pandas().dtypes  # each column's pandas type, as the whole frame's
        plain = pandas is not None and not pandas["index_columns"]  # (a RangeIndex: nothing else to rebuild)

        def read(columns: list[str]) -> dict[str, pd.Series] | pd.DataFrame:
            table = read_table(path, columns)
            if plain:  # text and float64 columns made Series directly: pandas' metadata is not parsed per read
                series = {name: _series(table.column(name), kinds[name], name) for name in table.column_names}
                if all(s is not None for s in series.values()):
                    return series
            if pandas is not None:  # pandas' metadata of these columns only (it is parsed on each read)
                kept = set(table.column_names) | {c for c in pandas["index_columns"] if isinstance(c, str)}
                table = table.replace_schema_metadata({b"pandas": json.dumps(
                    dict(pandas, columns=[c for c in pandas["columns"] if c["field_name"] in kept]))})
            return table.to_pandas()

        return ColumnView(schema.names, self.rows[name], read)

    def __contains__(self, name) -> bool:  # (Mapping's own would read the dataset)
        return name in self.rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _series(column: pa.ChunkedArray, kind, name: str) -> pd.Series | None:
    """A spilled column as the Series ``to_pandas`` makes of it when it is text (pandas' Arrow-backed string
    type) or float64; None for any other kind."""
    if isinstance(kind, pd.StringDtype) and kind.storage == "pyarrow" and (
            pa.types.is_large_string(column.type) or pa.types.is_string(column.type)):
        return pd.Series(kind.__from_arrow__(column), name=name)
    if kind == np.float64 and column.type == pa.float64():
        return pd.Series(column.to_numpy(), name=name)  # (nulls come out as NaN, as in to_pandas)
    return None


def record_counts(datasets) -> dict[str, int]:
    rows = getattr(datasets, "rows", None)
    return dict(rows) if rows is not None else {n: len(d) for n, d in datasets.items()}


def in_worker_process() -> bool:
    """This process is a worker of a pool (cdisc.chunks.pool), not the command's own process."""
    import multiprocessing

    return multiprocessing.parent_process() is not None


def after_chunk() -> None:
    """A chunk task's garbage collected (its work may leave cycles). In a worker process the memory it used
    stays with the worker: the next chunk needs about as much, and memory handed back to the system comes back
    as page faults, a zeroed page each (zeroing alone took 7% of a 10,000-subject run's CPU); a
    pool's workers end, their memory with them, after its pass. A chunk run in the command's own process gives
    its memory back, for the stages after it."""
    import gc

    if in_worker_process():
        gc.collect()
    else:
        give_back_memory()


_FROZEN = []  # long_lived_frozen blocks open in this process


@contextmanager
def long_lived_frozen():
    """The objects alive when the block starts (modules, and what freeze_loaded adds: the spec, the CT) kept
    out of the garbage collector's passes until it ends: each full collection walks every object the process
    holds, and the pandas work of a run sets off many. Unfrozen at the end, so that what the block let go of
    is collected as before."""
    import gc

    gc.collect()
    gc.freeze()
    _FROZEN.append(True)
    try:
        yield
    finally:
        _FROZEN.pop()
        if not _FROZEN:
            gc.unfreeze()


def freeze_loaded() -> None:
    """What was loaded for good since (the spec, its CT) frozen too (see long_lived_frozen): in a
    long_lived_frozen block, and in a worker process, which lives for one pass of chunks; else nothing."""
    import gc

    if _FROZEN or in_worker_process():
        gc.collect()
        gc.freeze()


def give_back_memory(collect: bool = True) -> None:
    """What a chunk (or a table, a joined dataset) used goes back to the system before the next one: Arrow's
    pool and the C heap keep freed memory otherwise. ``collect``: a garbage collection first (a chunk's work
    may leave cycles; a table read or written here leaves none, and a collection costs ~70 ms each time)."""
    import ctypes
    import gc

    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
