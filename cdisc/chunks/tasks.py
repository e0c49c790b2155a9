"""The work of one chunk, in a worker process (or here): its SDTM mapped, its ADaM built, each spilled."""
from __future__ import annotations

import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc.chunks.checks import chunk_repeats
from cdisc.chunks.join import write_lineage_parts
from cdisc.chunks.merge import order_keys, sort_of
from cdisc.chunks.raw import read_tables
from cdisc.chunks.spill import after_chunk, dataset_file, freeze_loaded, write_frame
from specs.errors import CdiscError


STUDIES: dict = {}


def _study(spec_dir, study: Path | None = None):
    """The spec and its CT, once per process: as the parent pickled them (``study``, see write_study), else
    loaded."""
    from specs.loader import load_study_spec
    from specs.study_ct import study_ct

    key = str(spec_dir)
    if key not in STUDIES:
        if study is not None:
            with open(study, "rb") as handle:
                STUDIES[key] = pickle.load(handle)
        else:
            spec = load_study_spec(spec_dir)
            STUDIES[key] = (spec, study_ct(spec))
        freeze_loaded()
    return STUDIES[key]


def write_study(work: Path, spec, ct) -> Path | None:
    """The spec and CT the parent loaded, pickled into the work folder for the worker processes (~0.04 CPU-s
    to read, ~0.45 to load the spec's YAML and CT again in each worker); None for a spec with plugin
    algorithms (functions of modules the spec loads: each worker loads them itself)."""
    if getattr(spec, "plugins", None):
        return None
    return _pickled(work / "study.pickle", (spec, ct))


def _pickled(path: Path, value) -> Path | None:
    """``value`` pickled into ``path`` for the worker processes; None when it cannot be pickled."""
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


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
    checks: dict = field(default_factory=dict)  # raw source -> its keys, whose repeats the chunk finds
    study: Path | None = None  # the spec and CT as the parent pickled them (write_study)
    adam_study: Path | None = None  # the ADaM spec as the parent pickled it (write_adam_spec)


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
    repeats: dict = field(default_factory=dict)  # raw source -> its repeated keys here (cdisc.chunks.checks)


def _edge(frame: pd.DataFrame, keys: list[str]):
    if frame.empty:
        return None
    return tuple(frame[k].iloc[0] for k in keys), tuple(frame[k].iloc[-1] for k in keys)


def map_chunk(task: Task) -> ChunkSdtm:
    try:
        return _map_chunk(task)
    finally:
        after_chunk()


def adam_chunk(task: Task) -> dict:
    try:
        return _adam_chunk(task)
    finally:
        after_chunk()


def _map_chunk(task: Task) -> ChunkSdtm:
    """SDTM of one chunk's subjects, spilled to the work folder; problems returned, not raised."""
    from sdtm.engine import ChunkProblems, build_sdtm, empty_permissible

    spec, ct = _study(task.spec_dir, task.study)
    tables = read_tables(task.work / "raw" / f"{task.index:05d}", spec)
    shutil.rmtree(task.work / "raw" / f"{task.index:05d}", ignore_errors=True)  # (disk: read once)
    repeats = chunk_repeats(tables, task.checks)
    try:
        result = build_sdtm(spec, tables, ct, cut=task.cut, whole_study=False)
    except (ChunkProblems, CdiscError) as exc:
        return ChunkSdtm(task.index, {}, {}, [], [], None, {}, {}, failed=exc, repeats=repeats)
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
                     result.note_phases, repeats=repeats)


def write_adam_spec(work: Path, spec) -> Path | None:
    """The ADaM spec the parent loaded, with its liveness worked out, pickled into the work folder for the
    chunks (~0.01 CPU-s to read, ~0.4 to load the YAML, check it and work out the liveness again in each
    worker); None when it cannot be pickled."""
    try:
        spec.liveness  # noqa: B018  (worked out once, here, and pickled with the spec)
    except (TypeError, AttributeError):
        return None
    return _pickled(work / "adam_spec.pickle", spec)


def _adam_spec(task: Task):
    """The ADaM spec, once per process: as the parent pickled it (``task.adam_study``), else loaded."""
    from adam.spec import load_adam_spec

    key = ("adam", str(task.adam_spec_path))
    if key not in STUDIES:
        spec = None
        if task.adam_study is not None:
            try:
                with open(task.adam_study, "rb") as handle:
                    spec = pickle.load(handle)
            except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
                spec = None
        STUDIES[key] = spec if spec is not None else load_adam_spec(task.adam_spec_path)
        freeze_loaded()
    return STUDIES[key]


def sdtm_reads(spec, name: str):
    """The variables of SDTM dataset ``name`` the ADaM spec can read (adam.liveness: over-estimated, never
    under), DM's USUBJID always (the subjects of the data cut); None: every variable."""
    kept = spec.liveness.kept(name.upper(), 0)
    if kept is None:
        return None
    return set(kept) | {"USUBJID"} if name.upper() == "DM" else kept


def _adam_chunk(task: Task) -> dict:
    """ADaM of one chunk's subjects from the chunk's SDTM as XPT holds it (what ADaM reads is what a reviewer
    receives): each dataset's round trip through an XPT file worked out in memory where that is certain, else
    written and read back (cdisc.chunks.readback); only the variables the ADaM spec reads."""
    from adam.build import build_adam
    from cdisc.chunks.readback import read_sdtm_chunk
    from cdisc.pipeline import dcut_frame

    spec = _adam_spec(task)
    sdtm = read_sdtm_chunk(task, lambda name: sdtm_reads(spec, name))
    sdtm["DCUT"] = dcut_frame(sdtm["DM"]["USUBJID"], task.cut)
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


def warm_adam() -> None:
    """What an ADaM chunk imports, imported while the parent writes the SDTM datasets."""
    from importlib import import_module

    for module in ("adam.build", "cdisc.chunks.readback", "cdisc.pipeline", "define.xpt", "sasxport.reader"):
        import_module(module)
