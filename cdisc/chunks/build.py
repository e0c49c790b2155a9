"""The chunked run: the raw export read and split, SDTM mapped by chunk, joined and written, then ADaM the same way."""
from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.chunks.join import join_dataset, join_lineage, write_in_parts, write_remembered
from cdisc.chunks.merge import check_order, merge_cut_logs, merge_notes, merge_problems, merge_reports, order_keys, \
    sort_of
from cdisc.chunks.pool import Workers
from cdisc.chunks.raw import read_spilled, split_spilled
from cdisc.chunks.spill import SpillFolder, Spilled, freeze_loaded, give_back_memory, read_frame, write_frame
from cdisc.chunks.subjects import Partition
from cdisc.chunks.tasks import STUDIES, Task, adam_chunk, map_chunk, warm_adam, write_adam_spec, write_study
from specs.errors import Problem, RawDataError

# at most this many subjects a chunk: a worker's memory (~0.2 GB + ~0.3 GB a thousand subjects of the demo study
# while mapping, its peak; less for ADaM) twice over, beside the parent's, stays under 2 GB; each chunk costs ~2
# CPU-s of fixed work (thousands of small pandas operations), so fewer, larger chunks save CPU: 10,833 subjects in
# 6 chunks of 1,806 took 5-7% less CPU than 8 of 1,355, at the same peak (1.75 GB); 4 of 2,709 peak at 2.2 GB
DEFAULT_CHUNK_SUBJECTS = 2000
WORKERS = 2
WORK = ".chunks"  # the work folder inside the staging area, removed before publishing


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
    ct: object = None  # the study's controlled terminology, loaded once (define.xml reuses it)


def build_chunked(staging: Path, spec_dir, raw_dir, edc, progress, cut, created, xpt_files, sdtm_only: bool,
                  chunk_subjects: int = DEFAULT_CHUNK_SUBJECTS, workers: int | None = None) -> Built:
    """Raw export -> SDTM (and ADaM) written under staging, chunk by chunk (see the module's text)."""
    from cdisc.raw_export import builtin_raw_dir
    from specs.errors import SpecError
    from specs.loader import display_path, load_study_spec
    from specs.raw_columns import check_raw_columns
    from specs.study_ct import study_ct

    STUDIES.clear()  # specs may have changed since an earlier run in this process
    problems: list[Problem] = []
    spec = load_study_spec(spec_dir, collect=problems)
    raw_dir = Path(raw_dir) if raw_dir else builtin_raw_dir()
    if not raw_dir.is_dir():
        raise RawDataError([Problem(display_path(raw_dir), "raw export folder not found")])
    ct = study_ct(spec) if not problems else None  # (with spec problems, the run stops after reading)
    work = Path(staging) / WORK
    raw, reading, checks = read_spilled(spec, raw_dir, edc, progress, ct, work / "raw")
    problems += check_raw_columns(spec, raw.headers)
    if problems:
        raise SpecError(problems)
    ct = ct or study_ct(spec)
    STUDIES[str(spec_dir)] = (spec, ct)  # the chunks run here read it; worker processes load their own
    freeze_loaded()
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
        return _build(pool, part, work, staging, spec, spec_dir, ct, raw, checks, progress, cut, created,
                      xpt_files, sdtm_only, chunk_subjects)


def adam_tasks(work: Path, n: int, spec_dir, cut, adam_path: Path, drops: dict, by_subject: set, specs: dict,
               spill: SpillFolder, adam_study: Path | None = None) -> list[Task]:
    """ADaM's task of each chunk: its SDTM as written (the permissible variables left out dropped, the
    datasets made once read from the spill); ``adam_study``: the ADaM spec pickled (write_adam_spec)."""
    from cdisc.pipeline import xpt_variables

    xpt = {name: (dspec.label, xpt_variables(dspec)) for name, dspec in specs.items()}
    once = {name: spill.path / "sdtm" / f"{name}.arrow" for name in specs if name not in by_subject}
    tasks = [Task(work, index, spec_dir, cut, adam_path, {k: v for k, v in drops.items() if k in by_subject},
                  xpt, adam_study=adam_study) for index in range(n)]
    for task in tasks:
        task.once = once
    return tasks


def _build(pool: Workers, part: Partition, work: Path, staging: Path, spec, spec_dir, ct, raw, checks, progress,
           cut, created, xpt_files, sdtm_only, chunk_subjects) -> Built:
    from cdisc.pipeline import adam_spec_path, xpt_variables
    from sdtm.engine import build_design_domain, complete_design, empty_permissible, left_out_note, \
        ordered_records, without_variables

    study = write_study(work, spec, ct) if pool.workers > 1 else None
    tasks = [Task(work, index, spec_dir, cut, checks=checks.in_chunks, study=study) for index in range(part.chunks)]
    chunks = pool.run(map_chunk, tasks, progress if part.chunks > 1 else None, "SDTM")
    pool.stop()
    if not sdtm_only:
        pool.start(warm=warm_adam)
    shutil.rmtree(work / "raw", ignore_errors=True)
    error = merge_problems(chunks, checks.problems(chunks))
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

    adam_spec = adam_path = adam_run = adam_study = None
    if not sdtm_only:
        from adam.spec import load_adam_spec

        adam_path = adam_spec_path(spec_dir)
        adam_spec = load_adam_spec(adam_path)
        adam_study = write_adam_spec(work, adam_spec)  # (a chunk run here reads it too: a copy of its own)
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
            give_back_memory(collect=False)  # the next dataset, ADaM's workers and the later stages reuse it
        written_notes[name], written_rows[name] = done
        if beside and adam_run is None and name in sizes:
            progress.step("building ADaM datasets (one worker while the SDTM datasets are written)")
            adam_run = pool.submit(adam_chunk, adam_tasks(work, n, spec_dir, cut, adam_path, drops, by_subject,
                                                          specs, spill, adam_study), at_once=1)
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
    built = Built(spec, raw.files, result, xpt_notes, spill=spill, ct=ct)
    if sdtm_only:
        shutil.rmtree(work / "sdtm", ignore_errors=True)
        return built

    if adam_run is None:  # (one chunk)
        progress.step("building ADaM datasets")
        adam_run = pool.submit(adam_chunk, adam_tasks(work, n, spec_dir, cut, adam_path, drops, by_subject, specs,
                                                      spill, adam_study))
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

    def how(name: str) -> dict:
        return dict(dataset_name=name, dataset_label=adam_spec.datasets[name].get("label", ""),
                    variables=adam_spec.xpt_variables(name), created=created)

    def in_parts(name: str):
        variables = [v["name"] for v in adam_spec.datasets[name].get("variables", [])]
        check_order(name, [o["edges"].get(name) for o in outs], part.boundaries,
                    order_keys(variables, adam_spec.datasets[name].get("keys") or []),
                    f"{adam_spec.file}: datasets.{name}.keys")
        return write_in_parts(xpt_files, adam, work, "adam", name, [o["rows"].get(name, 0) for o in outs], [],
                              folder / f"{name.lower()}.xpt", **how(name))

    # two datasets at a time (each file its own; pyarrow reads and encodes with the GIL released), the largest
    # first; a problem is raised for the first dataset in the spec's order that has one
    from concurrent.futures import ThreadPoolExecutor

    largest = sorted(names, key=lambda name: -sum(o["rows"].get(name, 0) for o in outs))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="write-adam") as writers:
        started = {name: writers.submit(in_parts, name) for name in largest}
        written = {name: started[name].result() for name in names}
    for name in names:
        done = written[name]
        if done is not None:
            adam_rows[name] = done[1]
            continue
        frame = join_dataset(work, "adam", name, n, [])
        write_remembered(xpt_files, adam, frame, folder / f"{name.lower()}.xpt", **how(name))
        adam_rows[name] = len(frame)
        write_frame(frame, spill.path / "adam" / f"{name}.arrow")
        del frame
        give_back_memory(collect=False)
    shutil.rmtree(work / "adam", ignore_errors=True)
    built.adam_spec, built.adam = adam_spec, adam
    return built
