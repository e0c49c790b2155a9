"""The raw export read source by source and spilled, then the spilled tables cut into the chunks' folders."""
from __future__ import annotations

import os
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cdisc.chunks.spill import SPILL, give_back_memory, open_spill, read_frame, write_frame, write_table
from cdisc.chunks.subjects import Partition, SubjectReading
from specs.errors import RawDataError


BATCH_RECORDS: int | None = None  # at most so many records a batch of a CSV file read in batches (tests)


@dataclass
class RawRead:
    files: dict
    notes: list
    headers: dict  # source -> its columns


def read_spilled(spec, raw_dir: Path, edc: str, progress, ct, folder: Path, batch_records: int | None = None):
    """Read the raw export source by source, each spilled to folder/00000/<source>.arrow: in a CSV export, a
    CSV, XPT or SAS7BDAT file a record batch at a time (sdtm.readers.stream_source; ``batch_records``: at most
    so many records a batch), never whole; in an ODM export, each ODM file once, a batch of subjects at a time
    (_read_odm_run); a REDCap records export once, a record batch at a time cut into the instruments the sources
    read (cdisc.chunks.redcap); a file the batches do not take as it is whole, and so a REDCap export with any
    problem or such a file (all the sources at once, as they share files). The subject of each record and the raw
    checks (cdisc.chunks.checks) are worked out as the records go by. Problems of every source are raised
    together, in the order of the sources, as read_raw does."""
    from dataclasses import replace

    from cdisc.chunks.checks import RawChecks
    from cdisc.raw_export import read_raw

    batch_records = batch_records or BATCH_RECORDS
    reading = SubjectReading(spec, ct)
    checks = RawChecks(spec, reading)
    one = edc == "csv" and not any("redcap" in source for source in spec.sources.values())
    groups = [{name: source} for name, source in spec.sources.items()] if one else [dict(spec.sources)]
    files, notes, headers, problems = {}, [], {}, []
    target = folder / f"{0:05d}"
    target.mkdir(parents=True, exist_ok=True)
    if edc == "odm" and not any("redcap" in source for source in spec.sources.values()):
        read = _read_odm_run(spec, raw_dir, progress, reading, checks, target, batch_records)
        if read is not None:
            return read, reading, checks
    if any("redcap" in source for source in spec.sources.values()):
        from cdisc.chunks import redcap

        read = redcap.read_redcap_run(spec, raw_dir, edc, progress, reading, checks, target, batch_records)
        if read is not None:
            return read, reading, checks
    for group in groups:
        if one and _streamable(next(iter(group.values()))):
            name = next(iter(group))
            try:
                read = _read_streamed(spec, name, raw_dir, progress, reading, checks, target, batch_records)
            except RawDataError as exc:
                problems += exc.problems
                continue
            if read is not None:
                files[name], headers[name] = read
                continue
            # (else the file read whole, as the other formats)
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
            checks.start(name)
            checks.add(name, table)
            reading.add(name, table)
            write_frame(table, target / f"{name}.arrow")  # Arrow IPC: the text buffers as they are, no pickle copy
            checks.finish(name, table)
            del table
            give_back_memory(collect=False)  # Arrow's pool keeps what reading the table freed (as much again)
    if problems:
        raise RawDataError(problems)
    return RawRead(files, notes, headers), reading, checks


ODM_BATCH_SUBJECTS = 1000  # SubjectData of an ODM export closed between two batches (sdtm.odm.stream_odm)


def spill_batch(name: str, table, writers: dict, headers: dict, target: Path, checks, reading: SubjectReading
                ) -> None:
    """A batch of a source's located records: written to its spill file (begun with the first batch, whose
    columns are the source's), its subjects and raw checks worked out."""
    if name not in writers:
        headers[name] = list(table.columns)
        writers[name] = SpillWriter(target / f"{name}.arrow", table)
    checks.add(name, table)
    reading.add(name, table)
    writers[name].write(table)


def read_export_run(spec, raw_dir: Path, kind: str, read_export, progress, reading: SubjectReading, checks,
                    target: Path, batch_records: int | None) -> tuple[dict, dict] | None:
    """Every source of a run whose sources read the forms of an export (``kind``: "odm" or "redcap") a batch at
    a time: each export once, by ``read_export(path, label, names)`` (the sources reading it -> each one's
    columns; RawDataError or NotStreamed at its first problem), the other sources as in a CSV export
    (_read_streamed). None, with nothing left of what was read (spill files, subjects, checks), at the first
    problem or anything a batch cannot take: the caller reads the export whole (read_raw), which gives the
    messages; else each source's file and columns, in the spec's order."""
    from cdisc.raw_export import source_file
    from sdtm.readers import NotStreamed

    use_odm = kind == "odm"
    files, headers, done = {}, {}, set()
    try:
        for name, source in spec.sources.items():
            if name in done:
                continue
            if kind not in source:
                if not _streamable(source):
                    raise NotStreamed("a source of another format")
                read = _read_streamed(spec, name, raw_dir, progress, reading, checks, target, batch_records)
                if read is None:
                    raise NotStreamed("a file read whole")
                files[name], headers[name] = read
                done.add(name)
                continue
            path, label, problem = source_file(spec, raw_dir, name, use_odm)
            if problem is not None:
                raise NotStreamed("no file")
            names = [n for n, s in spec.sources.items() if kind in s and n not in done and
                     source_file(spec, raw_dir, n, use_odm)[0] == path]
            headers.update(read_export(path, label, names))
            for n in names:
                files[n] = path
                done.add(n)
    except (NotStreamed, RawDataError):
        for name in spec.sources:
            reading.drop(name)
            checks.drop(name)
            (target / f"{name}.arrow").unlink(missing_ok=True)
        return None
    order = list(spec.sources)
    return {n: files[n] for n in order}, {n: headers[n] for n in order}


def _read_odm_run(spec, raw_dir: Path, progress, reading: SubjectReading, checks, target: Path,
                  batch_records: int | None) -> RawRead | None:
    """The sources of an ``--edc odm`` run read a batch at a time (read_export_run): each ODM export once, a
    batch of subjects at a time (sdtm.odm.stream_odm; ``batch_records`` subjects a batch when given, tests),
    every source that reads one of its forms fed from it, its records located by their row in the form's table
    as read_raw locates them. None at the first problem or anything a batch cannot take (the caller reads the
    export whole, read_raw, which gives the messages); else read_raw's files, notes (forms no source reads) and
    columns."""
    from cdisc.raw_export import located_source, unread_forms
    from sdtm.odm import stream_odm
    from sdtm.readers import NotStreamed

    read_forms = {}

    def read_export(path: Path, label: str, names: list[str]) -> dict[str, list[str]]:
        progress.step(f"reading {label}")
        writers, rows, counts, headers = {}, dict.fromkeys(names, 1), {}, {}
        for n in names:
            checks.start(n)
        try:
            for tables in stream_odm(path, batch_records or ODM_BATCH_SUBJECTS):
                for form, frame in tables.items():
                    counts[form] = counts.get(form, 0) + len(frame)
                for n in names:
                    form = spec.sources[n]["odm"]["form"]
                    if form not in tables:
                        continue
                    table, problem = located_source(tables[form], f"{label}#{form}", spec.sources[n],
                                                    first_row=rows[n])
                    if problem is not None:
                        raise NotStreamed("a key column missing")
                    rows[n] += len(table)
                    spill_batch(n, table, writers, headers, target, checks, reading)
                    del table
                del tables
        finally:
            for writer in writers.values():
                writer.close()
        if any(n not in writers for n in names):
            raise NotStreamed("a form not in the export")
        for n in names:
            checks.finish(n, target / f"{n}.arrow")
        read_forms[path] = (label, {spec.sources[n]["odm"]["form"] for n in names}, counts)
        give_back_memory(collect=False)
        return headers

    read = read_export_run(spec, raw_dir, "odm", read_export, progress, reading, checks, target, batch_records)
    if read is None:
        return None
    notes = unread_forms({path: {form: range(count) for form, count in counts.items()}
                          for path, (_, _, counts) in read_forms.items()},
                         {path: (label, forms) for path, (label, forms, _) in read_forms.items()})
    return RawRead(read[0], notes, read[1])


def _streamable(source: dict) -> bool:
    """A source of a CSV export read from a file of a format read a record batch at a time (CSV, XPT,
    SAS7BDAT; not an ODM or REDCap export)."""
    return Path(source["path"]).suffix.lower() in (".csv", ".xpt", ".sas7bdat")


def _read_streamed(spec, name: str, raw_dir: Path, progress, reading: SubjectReading, checks, target: Path,
                   batch_records: int | None):
    """One CSV, XPT or SAS7BDAT source read a record batch at a time into its spill file, each batch located
    (its records' data rows counted on from the batch before), its subjects and raw checks worked out: (its
    file, its columns); None when the file is to be read whole (sdtm.readers.NotStreamed: what was read is
    dropped; read again a batch at a time when it names the encoding the whole reader would fall back to)."""
    from cdisc.raw_export import source_file
    from sdtm.readers import NotStreamed

    source = spec.sources[name]
    path, label, problem = source_file(spec, raw_dir, name)
    if problem is not None:
        raise RawDataError([problem])
    progress.step(f"reading {label}")
    encoding = source.get("encoding")
    while True:
        try:
            return _stream_into(name, path, label, source, encoding, reading, checks, target, batch_records)
        except NotStreamed as why:
            if why.encoding is None or encoding is not None:
                return None
            encoding = why.encoding


def _stream_into(name: str, path: Path, label: str, source: dict, encoding: str | None, reading: SubjectReading,
                 checks, target: Path, batch_records: int | None):
    """_read_streamed's reading in one encoding, the next record batch parsed and located in a thread while this
    one is checked and spilled (read_ahead); NotStreamed raised after what was read is dropped."""
    from cdisc.raw_export import located_source
    from sdtm.readers import NotStreamed, stream_source

    def located_batches():
        row = 1
        for frame in stream_source(path, encoding, batch_records):
            table, problem = located_source(frame, label, source, first_row=row)
            del frame
            if problem is not None:
                raise RawDataError([problem])
            row += len(table)
            yield table

    checks.start(name)
    spill = target / f"{name}.arrow"
    writer, columns = None, None
    try:
        with closing(read_ahead(located_batches())) as batches:  # (closed at once if this side stops early)
            for table in batches:
                if writer is None:
                    columns = list(table.columns)
                    writer = SpillWriter(spill, table)
                checks.add(name, table)
                reading.add(name, table)
                writer.write(table)
                del table
    except NotStreamed:
        if writer is not None:
            writer.close()
        spill.unlink(missing_ok=True)
        reading.drop(name)
        checks.drop(name)
        raise
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    writer.close()
    checks.finish(name, spill)
    give_back_memory(collect=False)
    return path, columns


def read_ahead(items, depth: int = 1):
    """The items of an iterator, the next ``depth`` of them made in a thread while the caller works on the one
    before: a raw file's next record batch parsed and located (pyarrow's parser and text kernels run with the
    GIL released) while this one's subjects and checks are worked out and it is spilled. Whatever the iterator
    raises is raised here, in its place in the sequence. When the caller stops early (an error on its side, a
    signal), the thread stops at its next item and the iterator is closed there, before this returns."""
    import queue
    import threading

    end = object()
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            offer((end, exc))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        offer((end, None))

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, problem = slots.get()
            if item is end:
                if problem is not None:
                    raise problem
                return
            yield item
            del item
    finally:
        stop.set()
        thread.join()


class SpillWriter:
    """A raw table's spill file written a record batch at a time, every batch in the types of the first (as
    ``write_frame`` writes a frame's batches)."""

    def __init__(self, path: Path, first: pd.DataFrame):
        self.schema = pa.Schema.from_pandas(first, preserve_index=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.sink = pa.OSFile(str(path), "wb")
        self.writer = pa.ipc.new_file(self.sink, self.schema, options=SPILL)

    def write(self, frame: pd.DataFrame) -> None:
        part = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        self.writer.write_table(part.replace_schema_metadata(self.schema.metadata))

    def close(self) -> None:
        self.writer.close()
        self.sink.close()


def split_spilled(folder: Path, part: Partition) -> None:
    """The spilled raw tables (folder/00000) cut into the chunks' folders, two tables at a time: each table's
    files are its own, and pyarrow reads, takes and compresses with the GIL released (the ~1.4 s of a
    10,000-subject export on one core, while the workers have not started yet)."""
    from concurrent.futures import ThreadPoolExecutor

    whole = folder / f"{0:05d}"
    paths = sorted(whole.glob("*.arrow"), key=lambda path: -path.stat().st_size)  # (the largest first)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="split") as pool:
        for done in [pool.submit(_split_table, path, part, folder) for path in paths]:
            done.result()  # (the first problem raised, after every table was tried)
    give_back_memory(collect=False)


def _split_table(path: Path, part: Partition, folder: Path) -> None:
    name = path.stem
    where = part.assigned.get(name, "once")
    if isinstance(where, str) and where == "once":  # all of it in chunk 0 (where it lies), none elsewhere
        with pa.memory_map(str(path)) as source:
            schema = pa.ipc.open_file(source).schema
        for index in range(1, part.chunks):
            write_table(schema.empty_table(), folder / f"{index:05d}" / path.name)
        return
    if isinstance(where, str):  # every chunk
        with pa.memory_map(str(path)) as source:  # as Arrow, not pandas
            table = pa.ipc.open_file(source).read_all()
        path.unlink()
        for index in range(part.chunks):
            write_table(table, folder / f"{index:05d}" / path.name)
        return
    _split_batches(path, where, part.chunks, folder)


def _split_batches(path: Path, where: np.ndarray, chunks: int, folder: Path) -> None:
    """A spilled table's records into the chunks' files a record batch at a time, each batch's records put in
    chunk order by one take and each chunk's part a slice of it: one batch in memory, not the table, and no
    take per chunk from the whole table (a take from a table of many batches costs about the whole table:
    74 chunks of the 12 M lab records of 100,000 subjects took minutes). Chunk 0's file replaces the table's."""
    parts = [folder / f"{index:05d}" / (path.name + (".part" if index == 0 else "")) for index in range(chunks)]
    for target in parts:
        target.parent.mkdir(parents=True, exist_ok=True)
    with open_spill(path) as source:
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
