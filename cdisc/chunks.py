"""A run in chunks of subjects: memory bounded by a chunk, not by the study, and both cores used.

The subjects (USUBJID, in the order SDTM sorts them) are cut into contiguous ranges. Every raw record goes
to the chunk of its subject, found from the spec: the raw columns the USUBJID mapping of the domain that
reads the source names (for a merged source, the merge key that carries them); a record whose subject is
not a subject of the study (a typo, a blank) goes to the chunk whose range holds its value, where the
mapping lists it or refuses it exactly as a run of the whole study does. Lookup sources go whole to
every chunk. A spec whose sources cannot be split by subject (a merge or a de-duplication not by the
subject, a USUBJID not mapped from the raw record) runs as one chunk: the same code, the same output.

Each chunk maps SDTM (``build_sdtm(whole_study=False)``) in a worker process and spills its datasets to
Arrow IPC files in a work folder of the staging area. What needs every subject is done once, between the
passes: the raw checks (repeated source keys, undeclared values) on the whole tables, TS's values taken
from the data (first date, number of subjects), the permissible variables without a value in any chunk.
The SDTM datasets are then joined (each chunk's first sort key after the previous chunk's last, else a
located error) and written once; ADaM is built per chunk from the chunk's SDTM as XPT files (written and
read back, so that ADaM reads exactly what the XPT holds) and joined the same way. The datasets are
handed on as ``Spilled``: a read-only mapping that loads one dataset from its file on each access.

Notes, reports of records not mapped, the cut log and the lineage are joined from the chunks' structured
data (sdtm.notes: counts add up, value lists unite; lineage positions offset by the records before).
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from specs.errors import CdiscError, ControlledTermError, DataError, Problem, RawDataError

# at most this many subjects a chunk: a worker's memory (~0.16 GB + ~0.35 GB a thousand subjects of the demo study,
# mapping or ADaM) twice over, beside the parent's, stays well under 2 GB; each chunk costs ~2 s of fixed work
DEFAULT_CHUNK_SUBJECTS = 1500
WORKERS = 2
WORK = ".chunks"  # the work folder inside the staging area, removed before publishing


class NotChunkable(Exception):
    """The sources cannot be split by subject: the run is one chunk."""


# ------------------------------------------------------------------------------- spill files

SPILL = pa.ipc.IpcWriteOptions(compression="lz4")  # the spill of a 100,000-subject study fills a disk otherwise


BATCH = 1 << 16  # records converted to Arrow at a time when a frame is spilled


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """A data frame as an Arrow IPC file (pandas' metadata keeps the column types), converted and written a
    batch of records at a time: a frame of Python-object text is not copied whole into Arrow beside itself."""
    if len(frame) <= BATCH:
        _write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        return
    schema = pa.Schema.from_pandas(frame, preserve_index=False)  # the whole frame's types, for every batch
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema, options=SPILL) as writer:
        for start in range(0, len(frame), BATCH):
            part = pa.Table.from_pandas(frame.iloc[start:start + BATCH], schema=schema, preserve_index=False)
            writer.write_table(part.replace_schema_metadata(schema.metadata))
            del part


def read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A spill file as an Arrow table: all its columns, or only those of ``columns`` it has (the others are
    not even decompressed)."""
    with pa.memory_map(str(path)) as source:
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

    def __contains__(self, name) -> bool:  # (Mapping's own would read the dataset)
        return name in self.rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


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


def record_counts(datasets) -> dict[str, int]:
    rows = getattr(datasets, "rows", None)
    return dict(rows) if rows is not None else {n: len(d) for n, d in datasets.items()}


# ------------------------------------------------------------------------------- partition

@dataclass
class Route:
    kind: str  # "subject": by the USUBJID mapping; "all": every chunk (lookups); "once": the first chunk
    domain: str = ""
    mapping: dict | None = None
    rename: dict = field(default_factory=dict)  # merge key column of this source -> the base's column


def routes(spec) -> dict[str, Route]:
    """How the records of each source find their chunk; NotChunkable when a source cannot be split."""
    from sdtm.prepare import from_sources
    from specs.references import stages as late_stages
    from specs.semantics import raw_columns_used
    from specs.vocabulary import ALGORITHMS, MAP

    late, _ = late_stages(spec.domains)
    lookups = {n for n, s in spec.sources.items() if s.get("role") == "lookup"}
    found: dict[str, Route] = {n: Route("all") for n in lookups}

    def place(source: str, route: Route) -> None:
        known = found.get(source)
        if known is not None and known.kind != route.kind and "all" not in (known.kind, route.kind):
            raise NotChunkable(f"source {source} is read by a domain with USUBJID and by one without")
        found.setdefault(source, route)

    for name, domain in spec.domains.items():
        if "from" not in domain:
            continue
        sources = from_sources(domain)
        merges = [m for m in domain.get("merge") or [] if m["source"] not in lookups]
        variable = next((v for v in domain.get("variables", []) if v.get("name") == "USUBJID"), None)
        if variable is None:
            for source in sources + [m["source"] for m in merges]:
                place(source, Route("once"))
            continue
        mapping = variable.get("map") or {}
        if ALGORITHMS.get(mapping.get("algorithm")) is None or ALGORITHMS[mapping["algorithm"]].kind != MAP or \
                (name, "USUBJID") in late:
            raise NotChunkable(f"{name}.USUBJID is not mapped from the raw record")
        columns = sorted({c for _, c in raw_columns_used({"variables": [variable]})})
        if not columns:
            raise NotChunkable(f"{name}.USUBJID reads no raw column")
        for source in sources:
            place(source, Route("subject", name, mapping))
        for merge in merges:
            left = list(merge.get("left_on", merge.get("by", [])))
            right = list(merge.get("right_on", merge.get("by", [])))
            if not set(columns) <= set(left):
                raise NotChunkable(f"{name}: {merge['source']} is merged by {', '.join(left)}, not by the subject")
            place(merge["source"], Route("subject", name, mapping, {right[left.index(c)]: c for c in columns}))
        dedupe = domain.get("dedupe")
        if dedupe and not set(columns) <= set(dedupe.get("by", [])):
            raise NotChunkable(f"{name}: de-duplicated by {', '.join(dedupe.get('by', []))}, not by the subject")
    return found


def subject_ids(spec, ct, route: Route, table: pd.DataFrame) -> pd.Series:
    """The USUBJID of each raw record, by the mapping the domain itself uses ('' when it has none)."""
    from sdtm.algorithms import MapContext, run_map
    from sdtm.unique import text_of

    frame = table
    if route.rename:
        frame = table[list(route.rename) + [c for c in ("__file", "__row", "__key") if c in table]]
        frame = frame.rename(columns=route.rename)
    ctx = MapContext(spec.studyid, route.domain, "USUBJID", None, ct, spec.design.get("visits", []),
                     spec.design.get("arms", []), lookups=getattr(spec, "lookups", {}))
    return text_of(run_map(frame, route.mapping, ctx))


@dataclass
class Partition:
    boundaries: list[str]  # the first USUBJID of each chunk, sorted
    assigned: dict[str, np.ndarray | str]  # source -> chunk of each record, or "all" / "once"
    size: int = 0  # subjects a chunk (the last one may hold fewer)

    @property
    def chunks(self) -> int:
        return len(self.boundaries)


def partition(spec, ct, tables: dict[str, pd.DataFrame], chunk_subjects: int, workers: int = 1
              ) -> tuple[Partition, str]:
    """The chunks of contiguous subjects and the chunk of every raw record; one chunk (and why) when the
    sources cannot be split or the study is small."""
    reading = SubjectReading(spec, ct)
    for name, table in tables.items():
        reading.add(name, table)
    return reading.partition(chunk_subjects, workers)


def chunk_size(subjects: int, most: int, workers: int = 1) -> int:
    """Subjects a chunk: at most ``most``, the chunks evened out, as many as a multiple of the workers (10,833
    subjects, at most 2,000 a chunk: 6 chunks of 1,806, not 5 of 2,000 and one of 833 that leaves a worker
    idle while the other maps a whole chunk)."""
    count = -(-subjects // most)
    count = -(-count // workers) * workers
    return max(1, -(-subjects // count))


class SubjectReading:
    """The subject of each raw record, source after source (each table can be let go once read): the
    USUBJID its domain's mapping gives, kept as codes of its distinct values."""

    def __init__(self, spec, ct):
        self.spec, self.ct = spec, ct
        self.ids: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.kinds: dict[str, str] = {}
        self.why = ""
        try:
            self.found = routes(spec) if ct is not None else {}
        except NotChunkable as why:
            self.found, self.why = {}, str(why)

    def add(self, name: str, table: pd.DataFrame) -> None:
        route = self.found.get(name, Route("once"))
        self.kinds[name] = route.kind
        if self.why or self.ct is None or route.kind != "subject":
            return
        try:
            missing = [c for c in route.rename or {} if c not in table]
            if missing:
                raise NotChunkable(f"{name}: no column {', '.join(missing)}")
            codes, uniques = pd.factorize(subject_ids(self.spec, self.ct, route, table))
            self.ids[name] = (codes, np.asarray(uniques, dtype=object))
        except Exception as exc:  # noqa: BLE001 - whatever the mapping refuses, the one-chunk run reports as usual
            self.why = str(exc) if isinstance(exc, NotChunkable) else \
                f"the subject identifiers cannot be read ({type(exc).__name__}: {exc})"

    def partition(self, chunk_subjects: int, workers: int = 1) -> tuple[Partition, str]:
        whole = Partition([""], {name: "once" for name in self.kinds})
        if self.why or self.ct is None:
            return whole, self.why
        subjects = sorted(set().union(*(u for _, u in self.ids.values())) - {""}) if self.ids else []
        whole.size = len(subjects)
        if len(subjects) <= chunk_subjects:
            return whole, ""
        size = chunk_size(len(subjects), chunk_subjects, workers)
        boundaries = subjects[::size]
        edges = np.array(boundaries, dtype=object)
        assigned: dict[str, np.ndarray | str] = {}
        for name, kind in self.kinds.items():
            if name not in self.ids:
                assigned[name] = kind if kind in ("all", "once") else "once"
                continue
            codes, uniques = self.ids[name]
            chunk_of = np.maximum(np.searchsorted(edges, uniques, side="right") - 1, 0)
            assigned[name] = chunk_of[codes] if len(codes) else np.zeros(0, dtype=np.int64)
        return Partition(boundaries, assigned, size), ""


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
            _give_back_memory(collect=False)  # Arrow's pool keeps what reading the table freed (as much again)
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
                _write_table(schema.empty_table(), folder / f"{index:05d}" / path.name)
            continue
        if isinstance(where, str):  # every chunk
            with pa.memory_map(str(path)) as source:  # as Arrow, not pandas
                table = pa.ipc.open_file(source).read_all()
            path.unlink()
            for index in range(part.chunks):
                _write_table(table, folder / f"{index:05d}" / path.name)
            del table
        else:
            _split_batches(path, where, part.chunks, folder)
        _give_back_memory(collect=False)


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


def _write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=SPILL) as writer:
        writer.write_table(table)


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


# ------------------------------------------------------------------------------- chunk work (workers)

_STUDIES: dict = {}


def _study(spec_dir):
    """The spec and its CT, loaded once per process."""
    from specs.loader import load_study_spec
    from specs.study_ct import study_ct

    key = str(spec_dir)
    if key not in _STUDIES:
        spec = load_study_spec(spec_dir)
        _STUDIES[key] = (spec, study_ct(spec))
    return _STUDIES[key]


@dataclass
class Task:
    work: Path
    index: int
    spec_dir: object
    cut: object = None
    adam_spec_path: object = None
    drop: dict = field(default_factory=dict)  # SDTM dataset -> variables left out (no value in any chunk)
    xpt: dict = field(default_factory=dict)  # SDTM dataset -> (label, xpt variables) as written
    once: dict = field(default_factory=dict)  # SDTM dataset made once -> its joined file


@dataclass
class ChunkSdtm:
    index: int
    rows: dict  # dataset -> records
    specs: dict  # name -> DomainSpec (the SUPP-- ones added)
    reports: list
    notes: list
    cut_log: pd.DataFrame | None
    blank: dict  # dataset -> the permissible variables without a value here (None: no records)
    edges: dict  # dataset -> (first, last) sort key up to USUBJID
    note_phases: list = field(default_factory=list)
    failed: CdiscError | None = None


def dataset_file(work: Path, layer: str, name: str, index: int) -> Path:
    return work / layer / name / f"{index:05d}.arrow"


def sort_of(dspec) -> list[str]:
    """The order of an SDTM dataset: its spec's sort; SUPP-- (no sort of its own) is made in key order
    (sdtm.supp.build_supp: by USUBJID, then the parent's --SEQ)."""
    return list(dspec.sort or dspec.keys or [])


def order_keys(columns, sort: list[str]) -> list[str]:
    """The sort variables up to USUBJID: the chunks of a dataset sorted by them follow each other."""
    keys = [k for k in sort if k in columns]
    return keys[:keys.index("USUBJID") + 1] if "USUBJID" in keys else []


def _edge(frame: pd.DataFrame, keys: list[str]):
    if frame.empty:
        return None
    return tuple(frame[k].iloc[0] for k in keys), tuple(frame[k].iloc[-1] for k in keys)


def _give_back_memory(collect: bool = True) -> None:
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


def map_chunk(task: Task) -> ChunkSdtm:
    try:
        return _map_chunk(task)
    finally:
        _give_back_memory()


def adam_chunk(task: Task) -> dict:
    try:
        return _adam_chunk(task)
    finally:
        _give_back_memory()


def _map_chunk(task: Task) -> ChunkSdtm:
    """SDTM of one chunk's subjects, spilled to the work folder; problems returned, not raised."""
    from sdtm.engine import ChunkProblems, build_sdtm, empty_permissible

    spec, ct = _study(task.spec_dir)
    tables = read_tables(task.work / "raw" / f"{task.index:05d}", spec)
    shutil.rmtree(task.work / "raw" / f"{task.index:05d}", ignore_errors=True)  # (disk: read once)
    try:
        result = build_sdtm(spec, tables, ct, cut=task.cut, whole_study=False)
    except (ChunkProblems, CdiscError) as exc:
        return ChunkSdtm(task.index, {}, {}, [], [], None, {}, {}, failed=exc)
    del tables
    rows, blank, edges = {}, {}, {}
    for name, frame in result.datasets.items():
        rows[name] = len(frame)
        blank[name] = set(empty_permissible(frame, result.specs[name])) if len(frame) else None
        edges[name] = _edge(frame, order_keys(frame.columns, sort_of(result.specs[name])))
        write_frame(frame, dataset_file(task.work, "sdtm", name, task.index))
    if result.lineage is not None:
        write_lineage_parts(result.lineage, dataset_file(task.work, "lineage", "records", task.index))
    return ChunkSdtm(task.index, rows, result.specs, result.reports, result.notes, result.cut_log, blank, edges,
                     result.note_phases)


def _adam_chunk(task: Task) -> dict:
    """ADaM of one chunk's subjects from the chunk's SDTM as XPT files (what ADaM reads is what XPT holds)."""
    from adam.build import build_adam, read_sdtm_folder
    from adam.spec import load_adam_spec
    from cdisc.pipeline import dcut_frame
    from define.written import XptFiles

    folder = task.work / "xpt" / f"{task.index:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    files = XptFiles()
    for name, (label, variables) in task.xpt.items():
        if name in task.once:  # made once (no subject), joined already
            frame = read_frame(task.once[name])
        else:
            frame = read_frame(dataset_file(task.work, "sdtm", name, task.index)).drop(columns=task.drop.get(name, []))
        files.write(frame, folder / f"{name.lower()}.xpt", dataset_name=name, dataset_label=label,
                    variables=variables, created=datetime(2000, 1, 1))
        del frame
    sdtm = read_sdtm_folder(folder)
    shutil.rmtree(folder)
    sdtm["DCUT"] = dcut_frame(sdtm["DM"]["USUBJID"], task.cut)
    key = ("adam", str(task.adam_spec_path))
    if key not in _STUDIES:
        _STUDIES[key] = load_adam_spec(task.adam_spec_path)
    spec = _STUDIES[key]
    try:
        adam = build_adam(sdtm, spec, release=True)
    except CdiscError as exc:
        return {"failed": exc}
    rows, edges = {}, {}
    for name, frame in adam.items():
        rows[name] = len(frame)
        edges[name] = _edge(frame, order_keys(frame.columns, spec.datasets[name].get("keys") or []))
        write_frame(frame, dataset_file(task.work, "adam", name, task.index))
    return {"rows": rows, "edges": edges}


def _warm_adam() -> None:
    """What an ADaM chunk imports, imported while the parent writes the SDTM datasets."""
    import adam.build  # noqa: F401
    import cdisc.pipeline  # noqa: F401
    import define.written  # noqa: F401


class Workers:
    """Chunks run in worker processes (spawned: no fork with pyarrow's threads alive); one worker runs them
    here, one after the other. The pool of the SDTM pass is let go before the parent joins and writes the
    datasets (a worker keeps ~0.3 GB of what mapping a chunk left); ``start`` opens the next pool's workers
    and has them import ``warm`` meanwhile."""

    def __init__(self, workers: int):
        self.workers, self.pool, self.running = workers, None, None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, warm=None) -> None:
        if self.workers > 1 and self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"))
            if warm is not None:  # (each task submitted to a pool without an idle worker starts one)
                for _ in range(self.workers):
                    self.pool.submit(warm)

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def run(self, function, tasks: list[Task], progress=None, what: str = "") -> list:
        """The result of each task, in chunk order."""
        return self.submit(function, tasks).results(progress, what)

    def submit(self, function, tasks: list[Task], at_once: int | None = None) -> Running:
        """The tasks started in the workers, at most ``at_once`` at a time (``Running.allow`` raises it), while
        this process goes on; one worker runs them here when asked for the results."""
        if self.pool is None and self.workers > 1:
            self.start()
        self.running = Running(self.pool, function, tasks, at_once or self.workers)
        return self.running


class Running:
    """Tasks handed to a pool's workers by a thread of this process, at most ``at_once`` running at a time, so
    that this process can do other work beside them (ADaM's first chunks run while the SDTM datasets are
    written: one worker then, both once the parent's largest joins are done, so that the memory of the joins
    and of two workers never adds up). Without a pool the tasks run here, one after the other, in
    ``results``."""

    def __init__(self, pool, function, tasks: list, at_once: int):
        import threading

        self.pool, self.function, self.tasks, self.at_once = pool, function, tasks, at_once
        self.futures: list = [None] * len(tasks)
        self.submitted = [threading.Event() for _ in tasks]
        self.wake, self.stopped = threading.Event(), False
        self.thread = None
        if pool is not None:
            self.thread = threading.Thread(target=self._feed, name="chunk-feeder", daemon=True)
            self.thread.start()

    def _feed(self) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait

        following = 0
        while not self.stopped:
            running = [f for f in self.futures[:following] if not f.done()]
            while following < len(self.tasks) and len(running) < self.at_once and not self.stopped:
                try:
                    future = self.pool.submit(self.function, self.tasks[following])
                except RuntimeError:  # the pool shut down (the run failed meanwhile)
                    return
                self.futures[following] = future
                self.submitted[following].set()
                running.append(future)
                following += 1
            if following == len(self.tasks):
                return
            self.wake.clear()
            if running:
                wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            else:
                self.wake.wait(0.2)

    def allow(self, at_once: int) -> None:
        """At most ``at_once`` tasks at a time from now on."""
        self.at_once = at_once
        self.wake.set()

    def stop(self) -> None:
        """No further task started (the running ones finish when the pool shuts down)."""
        self.stopped = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join()

    def results(self, progress=None, what: str = "") -> list:
        """The result of each task, in chunk order (all of them allowed to run at once from now on)."""
        out = []
        if self.pool is None:
            for task in self.tasks:
                if progress is not None:
                    progress.step(f"{what}: chunk {task.index + 1} of {len(self.tasks)}")
                out.append(self.function(task))
            return out
        self.allow(len(self.tasks))
        for index, task in enumerate(self.tasks):
            while not self.submitted[index].wait(0.5):
                if self.stopped or not self.thread.is_alive():  # (the pool shut down: an earlier result raised)
                    if not self.submitted[index].is_set():
                        raise RuntimeError("the chunk workers stopped before every chunk was started")
            out.append(self.futures[index].result())
            if progress is not None:
                progress.step(f"{what}: chunk {task.index + 1} of {len(self.tasks)} done")
        return out


# ------------------------------------------------------------------------------- joining the chunks

def merge_sequences(sequences, key, join=None, rank=None) -> list:
    """The items of several ordered lists (each in the order of one code path: a part of the whole's list)
    in one list: an item whose key another list already gave joins it (``join``; else the first is kept);
    a new one goes after the last key its own list shared, and past the items of other lists that rank
    before it (``rank``: its stage and domain, where the lists say nothing of their order)."""
    order: list = []
    items: dict = {}
    ranks: dict = {}
    for sequence in sequences:
        own = {key(item) for item in sequence}
        position = -1
        for item in sequence:
            k = key(item)
            if k in items:
                if join is not None:
                    items[k] = join(items[k], item)
                position = order.index(k)
                continue
            ranks[k] = rank(item) if rank is not None else 0
            position += 1
            while position < len(order) and order[position] not in own and ranks[order[position]] <= ranks[k]:
                position += 1
            order.insert(position, k)
            items[k] = item
    return [items[k] for k in order]


def merge_notes(chunks: list[tuple[list[str], list[int]]], domains: list[str]) -> list[str]:
    """The chunks' notes (each with where its stages end, SdtmResult.note_phases) as the whole study's:
    the same note of several chunks joined (counts added, values united), in the order of the stages, the
    domains and the chunks' own order."""
    from sdtm.notes import Note

    position = {name: i for i, name in enumerate(domains)}

    def key(item):
        note = item[1]
        return note.key if isinstance(note, Note) else note

    def rank(item):
        phase, note = item
        head = note.split(":", 1)[0].split(".", 1)[0]
        return phase, position.get(head, -1)

    def join(a, b):
        return (a[0], a[1].joined(b[1])) if isinstance(a[1], Note) else a

    staged = [[(int(np.searchsorted(ends, i, side="right")), note) for i, note in enumerate(notes)]
              for notes, ends in chunks]
    return [note for _, note in merge_sequences(staged, key, join, rank)]


def merge_reports(chunks: list[list]) -> list:
    """One report per domain: records in and out added up, the records not mapped and the warnings listed
    chunk after chunk (that is, in subject order)."""
    from sdtm.engine import DomainReport

    def join(a, b):
        return DomainReport(a.domain, a.source, a.records_in + b.records_in, a.records_out + b.records_out,
                            a.not_mapped + b.not_mapped, a.warnings + b.warnings)

    return merge_sequences(chunks, lambda r: r.domain, join)


def merge_cut_logs(logs: list[pd.DataFrame | None], domains: list[str]) -> pd.DataFrame | None:
    """The cut log of the whole study. sdtm.cut.apply_cut logs, domain after domain, the subjects left out
    and each rule's changes, then the records of visits after the cut: each chunk's log is runs of one
    domain and one change; the runs of the chunks are joined in that order, each run's records chunk after
    chunk."""
    logs = [log for log in logs if log is not None]
    if not logs:
        return None
    position = {name: i for i, name in enumerate(domains)}

    def runs(log: pd.DataFrame) -> list:
        if log.empty:
            return []
        reason = log["reason"].astype(str)
        kind = np.where(reason.str.startswith("collected at a visit after the cut").to_numpy(), "visit",
                        np.where(reason.str.startswith("subject ").to_numpy(), "subject", "rule"))
        key = (log["domain"].astype(str) + "\x00" + log["action"].astype(str) + "\x00" +
               log["variable"].astype(str) + "\x00" + kind).to_numpy()
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], len(key)]
        return [(key[s], [log.iloc[s:e]]) for s, e in zip(starts, ends)]

    def rank(run):
        domain, _, _, kind = run[0].split("\x00")
        return kind == "visit", position.get(domain, -1), kind != "subject"

    merged = merge_sequences([runs(log) for log in logs], lambda run: run[0], lambda a, b: (a[0], a[1] + b[1]), rank)
    if not merged:
        return logs[0].iloc[:0]
    return pd.concat([frame for _, frames in merged for frame in frames], ignore_index=True)


def merge_problems(chunks: list[ChunkSdtm], raw: list[Problem]) -> CdiscError | None:
    """The one error the whole study gives: raw and mapping problems (raw data, then controlled terms)
    of every chunk, else the derivation problems of every chunk, else the first chunk's other error."""
    from sdtm.engine import ChunkProblems

    failed = [c.failed for c in chunks if c.failed is not None]
    mapping = [f for f in failed if isinstance(f, ChunkProblems) and f.stage == "mapping"]
    if raw or mapping:
        problems = raw + _unique([p for f in mapping for p in f.problems])
        terms = _unique([p for f in mapping for p in f.term_problems])
        return RawDataError(problems + terms) if problems else ControlledTermError(terms)
    other = [f for f in failed if not isinstance(f, ChunkProblems)]
    if other:
        return other[0]
    if failed:
        return DataError(_unique([p for f in failed for p in f.problems]))
    return None


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for problem in problems:
        key = (problem.where, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def _comparable(value):
    return (0, "") if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA \
        else (1, value)


def check_order(name: str, edges: list, boundaries: list[str], keys: list[str] | None = None,
                where: str = "") -> None:
    """Each chunk's first sort key after the previous chunk's last: else the chunks would not join into
    the sorted dataset (a located error, never a misordered dataset). ``keys``: the dataset's sort
    variables up to USUBJID; none, with records in several chunks, is an error too (nothing orders them)."""
    if keys is not None and not keys and sum(edge is not None for edge in edges) > 1:
        raise DataError([Problem(where or name, f"{name} is not sorted by USUBJID: its records in {len(edges)} "
                                                f"chunks of subjects cannot be joined in its order (run with "
                                                f"--chunk-subjects above the number of subjects)")])
    last, last_chunk = None, None
    for index, edge in enumerate(edges):
        if edge is None:
            continue
        first, end = edge
        if last is not None and not tuple(map(_comparable, last)) < tuple(map(_comparable, first)):
            span = f"subjects from {boundaries[index]!r}" if index < len(boundaries) else ""
            raise DataError([Problem(f"{name}, chunk {index + 1} ({span})",
                                     f"its first record {first} does not come after the last record {last} of "
                                     f"chunk {last_chunk + 1}: the chunks of {name} do not join into its sort "
                                     f"order")])
        last, last_chunk = end, index


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
    readers = []
    for source in sources:
        reader = pa.ipc.open_file(pa.memory_map(str(source)))
        readers.append((int(source.stem), reader, json.loads((reader.schema.metadata or {})[LINEAGE_BATCHES])))
    schema, writer, sink = None, None, None
    try:
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


# ------------------------------------------------------------------------------- the run

@dataclass
class SpilledResult:
    """What sdtm.engine.SdtmResult holds, its datasets (``Spilled``) and lineage read from the spill when
    asked for."""

    datasets: Spilled
    specs: dict
    reports: list
    notes: list
    cut_log: pd.DataFrame | None = None
    spill: SpillFolder | None = None

    @property
    def lineage(self) -> pd.DataFrame | None:
        return read_frame(self.lineage_file) if self.spill is not None else None

    @property
    def lineage_file(self) -> Path | None:  # (cdisc.lineage reads it a batch at a time)
        return self.spill.path / "lineage.arrow" if self.spill is not None else None


@dataclass
class Built:
    spec: object
    raw_files: dict
    result: object  # sdtm.engine.SdtmResult, its datasets Spilled
    notes: list  # the XPT writer's notes
    adam_spec: object = None
    adam: Spilled | None = None
    spill: SpillFolder | None = None


def build_chunked(staging: Path, spec_dir, raw_dir, edc, progress, cut, created, xpt_files, sdtm_only: bool,
                  chunk_subjects: int = DEFAULT_CHUNK_SUBJECTS, workers: int | None = None) -> Built:
    """Raw export -> SDTM (and ADaM) written under staging, chunk by chunk (see the module's text)."""
    from cdisc.pipeline import builtin_raw_dir
    from specs.errors import SpecError
    from specs.loader import display_path, load_study_spec
    from specs.semantics import check_raw_columns
    from specs.study_ct import study_ct

    _STUDIES.clear()  # specs may have changed since an earlier run in this process
    problems: list[Problem] = []
    spec = load_study_spec(spec_dir, collect=problems)
    raw_dir = Path(raw_dir) if raw_dir else builtin_raw_dir()
    if not raw_dir.is_dir():
        raise RawDataError([Problem(display_path(raw_dir), "raw export folder not found")])
    ct = study_ct(spec) if not problems else None  # (with spec problems, the run stops after reading)
    work = Path(staging) / WORK
    raw, reading, checked = read_spilled(spec, raw_dir, edc, progress, ct, work / "raw")
    problems += check_raw_columns(spec, raw.headers)
    if problems:
        raise SpecError(problems)
    ct = ct or study_ct(spec)
    _STUDIES[str(spec_dir)] = (spec, ct)  # the chunks run here read it; worker processes load their own
    part, why = reading.partition(max(1, chunk_subjects), workers or WORKERS)
    if why:
        progress.step(f"one chunk: {why}")
    del reading  # (the subject of every record: tens of MB the parent need not hold while the chunks run)
    if part.chunks > 1:
        split_spilled(work / "raw", part)
    part.assigned.clear()
    workers = (workers or WORKERS) if part.chunks > 1 else 1
    progress.step("mapping SDTM domains" + (f" ({part.chunks} chunks of {part.size} subjects, {workers} "
                                            f"workers)" if part.chunks > 1 else ""))
    with Workers(workers) as pool:
        return _build(pool, part, work, staging, spec, spec_dir, ct, raw, checked, progress, cut, created,
                      xpt_files, sdtm_only, chunk_subjects)


def adam_tasks(work: Path, n: int, spec_dir, cut, adam_path: Path, drops: dict, by_subject: set, specs: dict,
               spill: SpillFolder) -> list[Task]:
    """ADaM's task of each chunk: its SDTM as written (the permissible variables left out dropped, the
    datasets made once read from the spill)."""
    from cdisc.pipeline import xpt_variables

    xpt = {name: (dspec.label, xpt_variables(dspec)) for name, dspec in specs.items()}
    once = {name: spill.path / "sdtm" / f"{name}.arrow" for name in specs if name not in by_subject}
    tasks = [Task(work, index, spec_dir, cut, adam_path, {k: v for k, v in drops.items() if k in by_subject},
                  xpt) for index in range(n)]
    for task in tasks:
        task.once = once
    return tasks


def _build(pool: Workers, part: Partition, work: Path, staging: Path, spec, spec_dir, ct, raw, checked, progress,
           cut, created, xpt_files, sdtm_only, chunk_subjects) -> Built:
    from cdisc.pipeline import adam_spec_path, xpt_variables
    from sdtm.engine import build_design_domain, complete_design, empty_permissible, left_out_note, \
        ordered_records, without_variables

    tasks = [Task(work, index, spec_dir, cut) for index in range(part.chunks)]
    chunks = pool.run(map_chunk, tasks, progress if part.chunks > 1 else None, "SDTM")
    pool.stop()
    if not sdtm_only:
        pool.start(warm=_warm_adam)
    shutil.rmtree(work / "raw", ignore_errors=True)
    error = merge_problems(chunks, checked)
    if error is not None:
        raise error
    n = part.chunks
    specs = dict(chunks[0].specs)
    by_subject = {name for name, dspec in specs.items() if any(v.name == "USUBJID" for v in dspec.parent_variables)
                  and not (dspec.raw or {}).get("build") == "derive_ts"}

    def chunk_range(name):
        return range(n) if name in by_subject else range(1)

    class Whole(Mapping):  # the study's datasets as mapped, for TS's values from the data
        def __getitem__(self, name):
            return join_dataset(work, "sdtm", name, n if name in by_subject else 1, [])

        def __iter__(self):
            return iter(specs)

        def __len__(self):
            return len(specs)

    notes = merge_notes([(c.notes, c.note_phases) for c in chunks], list(specs))
    spill = SpillFolder(work / "joined")
    ts_done = {}
    for name, dspec in specs.items():  # TS from the design and the data of all subjects, once
        if (dspec.raw or {}).get("build") == "derive_ts":
            ts = build_design_domain(name, "derive_ts", spec.studyid, spec.design, ct)
            ts = complete_design(name, ts, spec, Whole(), ct, cut, notes)
            ts_done[name] = ordered_records(ts, dspec).reset_index(drop=True)
    drops = {}
    for name, dspec in specs.items():
        if name in ts_done:
            drops[name] = empty_permissible(ts_done[name], dspec)
            continue
        seen = [chunks[i].blank.get(name) for i in chunk_range(name)]
        seen = [b for b in seen if b is not None]
        if seen:
            common = set.intersection(*seen)
            drops[name] = [v.name for v in dspec.parent_variables if v.name in common]
        else:
            drops[name] = []
    for name, empty in drops.items():
        if empty:
            specs[name] = without_variables(specs[name], empty)
            notes.append(left_out_note(name, empty))

    adam_spec = adam_path = adam_run = None
    if not sdtm_only:
        from adam.spec import load_adam_spec

        adam_path = adam_spec_path(spec_dir)
        adam_spec = load_adam_spec(adam_path)
    progress.step(f"writing {len(specs)} SDTM datasets")
    folder = Path(staging) / "sdtm"
    folder.mkdir(parents=True, exist_ok=True)
    written_notes, written_rows, offsets = {}, {}, {}
    # with ADaM beside (chunks in two workers): the datasets made once first (ADaM's chunks read them), then the
    # others from the most records down: ADaM's first worker starts once the largest is written (the parent's
    # work on it and two workers never at once); else in the spec's order
    beside = adam_spec is not None and pool.workers > 1
    sizes = {name: sum(c.rows.get(name, 0) for c in chunks) for name in specs if name in by_subject and beside}
    order = [name for name in specs if name not in sizes] + sorted(sizes, key=lambda name: -sizes[name])
    sdtm = Spilled(spill, "sdtm", written_rows)  # (rows filled as each dataset is written)
    for name in order:
        dspec = specs[name]
        offsets[name] = list(np.cumsum([0] + [chunks[i].rows.get(name, 0) for i in range(n)])[:-1]) \
            if name in by_subject else [0] * n
        how = dict(dataset_name=name, dataset_label=dspec.label, variables=xpt_variables(dspec), created=created)
        done = None
        if name in ts_done:
            frame = ts_done[name].drop(columns=drops[name])
        else:
            if name in by_subject:
                check_order(name, [chunks[i].edges.get(name) for i in range(n)], part.boundaries,
                            order_keys([v.name for v in dspec.parent_variables], sort_of(dspec)),
                            f"sdtm.yaml: domains.{name}.sort")
            done = write_in_parts(xpt_files, sdtm, work, "sdtm", name,
                                  [chunks[i].rows.get(name, 0) for i in chunk_range(name)], drops[name],
                                  folder / f"{name.lower()}.xpt", **how)
            frame = join_dataset(work, "sdtm", name, len(chunk_range(name)), drops[name]) if done is None else None
        if done is None:
            done = write_remembered(xpt_files, sdtm, frame, folder / f"{name.lower()}.xpt", **how), len(frame)
            written_rows[name] = len(frame)
            write_frame(frame, spill.path / "sdtm" / f"{name}.arrow")
            del frame
            _give_back_memory(collect=False)  # the next dataset, ADaM's workers and the later stages reuse it
        written_notes[name], written_rows[name] = done
        if beside and adam_run is None and name in sizes:
            progress.step("building ADaM datasets (one worker while the SDTM datasets are written)")
            adam_run = pool.submit(adam_chunk, adam_tasks(work, n, spec_dir, cut, adam_path, drops, by_subject,
                                                          specs, spill), at_once=1)
    if adam_run is not None:
        adam_run.allow(pool.workers)
    rows = {name: written_rows[name] for name in specs}  # (the spec's order: define.xml's)
    written_rows.clear()
    written_rows.update(rows)
    xpt_notes = [note for name in specs for note in written_notes[name]]
    reports = merge_reports([c.reports for c in chunks])
    for report in reports:
        report.records_out = rows[report.domain]
    join_lineage(work, n, offsets, [r.domain for r in reports], spill.path / "lineage.arrow")  # read at the end
    shutil.rmtree(work / "lineage", ignore_errors=True)
    result = SpilledResult(sdtm, specs, reports, notes,
                           merge_cut_logs([c.cut_log for c in chunks], list(specs)), spill)
    result.notes += raw.notes
    built = Built(spec, raw.files, result, xpt_notes, spill=spill)
    if sdtm_only:
        shutil.rmtree(work / "sdtm", ignore_errors=True)
        return built

    if adam_run is None:  # (one chunk)
        progress.step("building ADaM datasets")
        adam_run = pool.submit(adam_chunk, adam_tasks(work, n, spec_dir, cut, adam_path, drops, by_subject, specs,
                                                      spill))
    outs = adam_run.results(progress if n > 1 else None, "ADaM")
    pool.stop()  # the workers' memory back before the parent joins
    failed = [o["failed"] for o in outs if o.get("failed") is not None]
    if failed:
        raise failed[0]
    shutil.rmtree(work / "sdtm", ignore_errors=True)
    names = list(outs[0]["rows"])
    progress.step(f"writing {len(names)} ADaM datasets")
    folder = Path(staging) / "adam"
    folder.mkdir(parents=True, exist_ok=True)
    adam_rows = {}
    adam = Spilled(spill, "adam", adam_rows)
    for name in names:
        variables = [v["name"] for v in adam_spec.datasets[name].get("variables", [])]
        check_order(name, [o["edges"].get(name) for o in outs], part.boundaries,
                    order_keys(variables, adam_spec.datasets[name].get("keys") or []),
                    f"{adam_spec.file}: datasets.{name}.keys")
        how = dict(dataset_name=name, dataset_label=adam_spec.datasets[name].get("label", ""),
                   variables=adam_spec.xpt_variables(name), created=created)
        done = write_in_parts(xpt_files, adam, work, "adam", name, [o["rows"].get(name, 0) for o in outs], [],
                              folder / f"{name.lower()}.xpt", **how)
        if done is not None:
            adam_rows[name] = done[1]
            continue
        frame = join_dataset(work, "adam", name, n, [])
        write_remembered(xpt_files, adam, frame, folder / f"{name.lower()}.xpt", **how)
        adam_rows[name] = len(frame)
        write_frame(frame, spill.path / "adam" / f"{name}.arrow")
        del frame
        _give_back_memory(collect=False)
    shutil.rmtree(work / "adam", ignore_errors=True)
    built.adam_spec, built.adam = adam_spec, adam
    return built
