"""The submission package as an agency expects it (eCTD module 5):

    m5/datasets/<study>/tabulations/sdtm/        *.xpt [*.json], define.xml, define2-1.xsl, define.html
    m5/datasets/<study>/analysis/adam/datasets/  the same for ADaM

Every file comes from one DefineModel, so names, labels, types, lengths and order in define.xml are
those of the XPT files. A dataset whose XPT is over ``size_limit`` (FDA: 5 GB) is also written in
pieces under ``split/``, grouped on a meaningful variable (PARAMCD, --CAT, --TESTCD, then USUBJID;
never splitting a group), named <dataset><n>.xpt; --SEQ stays unique because the pieces are cut from
the full dataset, which is kept. Everything is written in a staging folder, validated (define.xml
against the XSD, Dataset-JSON against its schema), then moved into place: never half a package.
"""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from define import xpt
from define.columns import columns_of
from define.datasetjson import columns_from_model, validate_written_dataset_json, write_dataset_json
from define.html import copy_stylesheet, render_html
from define.model import DefineModel
from define.xml import validate_define, write_define
from define.written import XptFiles
from specs.errors import DataError, Problem

FIVE_GB = 5 * 1024**3
NDJSON_ROWS = 100_000  # datasets with more records are written as NDJSON (streamable)
SDTM_FOLDER = ("tabulations", "sdtm")
ADAM_FOLDER = ("analysis", "adam", "datasets")


@dataclass
class PackageResult:
    root: Path
    folders: dict[str, Path] = field(default_factory=dict)  # "sdtm"/"adam" -> folder
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    models: dict[str, DefineModel] = field(default_factory=dict)  # "sdtm"/"adam" -> what define.xml describes


def study_folder(root, studyid: str) -> Path:
    return Path(root) / "m5" / "datasets" / studyid.lower()


# --- splitting ----------------------------------------------------------------------------------------
# The pieces are cut from the XPT file of the whole dataset, a block of records at a time: a record's bytes
# are the same in a piece as in the whole (same variables, lengths and positions), so a piece is the writer's
# header under its own name, then its records in their order, then the blank padding: the bytes
# ``define.xpt.write_xpt`` writes from the piece's records, without ever holding the dataset.

SPLIT_BLOCK = 1 << 24  # bytes of records read at a time (16 MB)
SPLIT_CANDIDATES = ("PARAMCD", "{prefix}CAT", "{prefix}TESTCD", "QNAM", "USUBJID")


@dataclass(frozen=True)
class XptLayout:
    """Where an XPT v5 file's records lie: after ``header`` bytes, ``row_bytes`` each, variable at ``positions``."""
    header: int
    row_bytes: int
    records: int
    positions: dict[str, tuple[int, int]]  # Char variable -> (start, length) in a record


def xpt_blocks(path: Path, layout: XptLayout, block: int = SPLIT_BLOCK):
    """The records of the file as uint8 arrays of (records, row_bytes), ``block`` bytes (at least one record)
    at a time; each array is reused for the next block."""
    rows = max(1, block // max(layout.row_bytes, 1))
    buffer = np.empty((min(rows, layout.records), layout.row_bytes), dtype=np.uint8)
    with open(path, "rb") as handle:
        handle.seek(layout.header)
        for first in range(0, layout.records, rows):
            part = buffer[:min(rows, layout.records - first)]
            if handle.readinto(memoryview(part).cast("B")) != part.nbytes:
                raise DataError([Problem(str(path), "the file ends before its last record")])
            yield part


def _keys(part: np.ndarray, where: tuple[int, int]) -> np.ndarray:
    """The bytes of one Char variable in each record of ``part`` (fixed-width ``S<length>``, blanks kept)."""
    start, length = where
    return np.ascontiguousarray(part[:, start:start + length]).view(f"S{length}").ravel()


def _text(key: bytes) -> str:
    return key.decode("latin-1").rstrip(" ")  # (np.bytes_ drops trailing NULs, never blanks)


def grouping_variable(name: str, path: Path, layout: XptLayout, block: int = SPLIT_BLOCK) -> str | None:
    """The variable a too-large dataset is split on: the first of PARAMCD, --CAT, --TESTCD, QNAM, USUBJID (Char
    variables) with 2+ values in the file."""
    prefix = name[:2] if not name.startswith("AD") else name
    for candidate in (c.format(prefix=prefix) for c in SPLIT_CANDIDATES):
        if candidate not in layout.positions:
            continue
        first = None
        for part in xpt_blocks(path, layout, block):
            keys = _keys(part, layout.positions[candidate])
            first = keys[0] if first is None else first
            if (keys != first).any():
                return candidate
    return None


def value_counts(path: Path, layout: XptLayout, by: str, block: int = SPLIT_BLOCK) -> dict[str, int]:
    """The records of each value of ``by`` in the file, by value (its text as written, trailing blanks off)."""
    counts: dict[bytes, int] = {}
    for part in xpt_blocks(path, layout, block):
        values, found = np.unique(_keys(part, layout.positions[by]), return_counts=True)
        for value, n in zip(values.tolist(), found.tolist()):
            counts[value] = counts.get(value, 0) + n
    return {_text(value): n for value, n in counts.items()}


def plan_split(counts: dict[str, int], row_bytes: int, overhead: int, limit: int) -> list[list[str]]:
    """Groups of values (``counts``: the records of each), packed in sorted order so each piece's estimated
    size stays under ``limit``."""
    pieces, current, size = [], [], overhead
    for value in sorted(counts):
        grow = int(counts[value]) * row_bytes
        if current and size + grow > limit:
            pieces.append(current)
            current, size = [], overhead
        current.append(value)
        size += grow
    if current:
        pieces.append(current)
    return pieces


def xpt_layout(model: DefineModel, name: str, path: Path, created: datetime) -> tuple[XptLayout, list, np.ndarray]:
    """The layout of ``name``'s XPT file as the writer wrote it from ``model`` (its header checked byte for
    byte), with the variables and positions the pieces are written with."""
    variables = model.xpt_variables(name)
    lengths = [v.length if v.type == "Char" else 8 for v in variables]
    positions = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    header = xpt._headers(name, model.group(name).label, variables, lengths, positions, created)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if handle.read(len(header)) != header:
            raise DataError([Problem(str(path), "its header is not the one define.xml describes: cannot split it")])
    row_bytes = int(positions[-1])
    # the records, then blank padding to a multiple of 80: shorter than a record of 80 bytes or more; with
    # shorter records the padding could pass for blank records, so they are counted in the data
    records = (size - len(header)) // row_bytes if row_bytes >= 80 else len(columns_of(model.data, name))
    chars = {v.name: (int(p), v.length) for v, p in zip(variables, positions) if v.type == "Char"}
    return XptLayout(len(header), row_bytes, records, chars), variables, positions


def write_split(model: DefineModel, name: str, folder: Path, xpt_size: int, limit: int, created: datetime,
                records: int | None = None, block: int = SPLIT_BLOCK) -> tuple[list[Path], list[str]]:
    """Write the pieces of a dataset over the limit to ``folder``/split, cut from its XPT file
    ``folder``/<name>.xpt a ``block`` of bytes at a time (memory does not grow with the dataset); returns
    the files and notes. ``records``: the dataset's records (default: counted from the file's size)."""
    path = folder / f"{name.lower()}.xpt"
    layout, variables, positions = xpt_layout(model, name, path, created)
    if records is not None:
        layout = XptLayout(layout.header, layout.row_bytes, records, layout.positions)
    by = grouping_variable(name, path, layout, block)
    if by is None:
        return [], [f"{name}: {xpt_size} bytes, over the {limit}-byte limit, but no grouping variable to split on"]
    counts = value_counts(path, layout, by, block)
    overhead = max(0, xpt_size - layout.records * layout.row_bytes)
    pieces = plan_split(counts, layout.row_bytes, overhead, limit)
    if len(f"{name}{len(pieces)}") > 8:
        raise DataError([Problem(name, f"cannot split into {len(pieces)} pieces: '{name}{len(pieces)}' is longer "
                                       "than 8 characters")])
    lengths = [v.length if v.type == "Char" else 8 for v in variables]
    start, length = layout.positions[by]
    piece_of = {value.encode("latin-1").ljust(length, b" "): number for number, values in enumerate(pieces)
                for value in values}  # the bytes of each value in a record -> its piece
    keys = np.array(sorted(piece_of), dtype=f"S{length}")
    numbers = np.array([piece_of[k] for k in keys.tolist()], dtype=np.int64)
    paths = [folder / "split" / f"{name.lower()}{number}.xpt" for number in range(1, len(pieces) + 1)]
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    partials = [p.with_name(p.name + ".partial") for p in paths]
    handles, sizes = [], [0] * len(pieces)
    try:
        for number, partial in enumerate(partials, start=1):
            handles.append(open(partial, "wb"))
            handles[-1].write(xpt._headers(f"{name}{number}", model.group(name).label, variables, lengths, positions,
                                           created))
        for part in xpt_blocks(path, layout, block):
            found = _keys(part, (start, length))
            at = np.minimum(np.searchsorted(keys, found), len(keys) - 1)
            if not (keys[at] == found).all():  # (cannot be: every value was counted in the same file)
                raise DataError([Problem(str(path), f"a {by} value changed while the file was split")])
            which = numbers[at]
            for number, handle in enumerate(handles):
                chosen = part[which == number]
                handle.write(chosen.data)
                sizes[number] += chosen.nbytes
        for handle, size in zip(handles, sizes):
            handle.write(b" " * (-size % 80))
            handle.close()
        for partial, target in zip(partials, paths):
            partial.replace(target)
    finally:
        for handle in handles:
            handle.close()
        for partial in partials:
            partial.unlink(missing_ok=True)
    described = []
    for path, values, size in zip(paths, pieces, sizes):
        described.append(f"split/{path.name} ({by} {', '.join(values)}; {size // max(layout.row_bytes, 1)} records)")
        if path.stat().st_size > limit:
            described[-1] += f" still over the limit: one {by} value cannot be split further"
    return paths, [f"{name}: {xpt_size} bytes, over the {limit}-byte limit: split by {by} into "
                   + "; ".join(described)]


# --- one standard's folder ----------------------------------------------------------------------------

def write_standard_folder(model: DefineModel, folder: Path, *, created: datetime, formats=("xpt",),
                          size_limit: int = FIVE_GB, html: bool = True, ndjson_rows: int = NDJSON_ROWS,
                          validate: bool = True, xpt_files: XptFiles | None = None) -> tuple[list[Path], list[str]]:
    """XPT (and Dataset-JSON) per dataset, define.xml, the stylesheet and define.html in ``folder``.
    ``xpt_files``: the XPT files written earlier in the run; one with the same bytes is linked, not rewritten.
    The datasets are read from ``model.data`` one at a time, and only when a file needs their values (an
    XPT file linked from the one written earlier from the same read-only mapping needs none)."""
    files, notes, problems = [], [], []
    xpt_files = xpt_files if xpt_files is not None else XptFiles()
    for group in model.groups:
        name, lower, loaded = group.name, group.name.lower(), []

        def data(name=name, loaded=loaded) -> pd.DataFrame:  # the dataset, read once when first needed
            if not loaded:
                loaded.append(model.data[name])
            return loaded[0]

        if isinstance(model.data, dict):
            data()  # (in memory already: the frame itself tells whether its file was written earlier)
        if "xpt" in formats:
            path = folder / f"{lower}.xpt"
            notes += xpt_files.place(loaded[0] if loaded else data, path, dataset_name=name,
                                     dataset_label=group.label, variables=model.xpt_variables(name),
                                     created=created, source=model.data)
            files.append(path)
            size = path.stat().st_size
            if size > size_limit:  # cut from the file just placed: the dataset is not read
                pieces, split_notes = write_split(model, name, folder, size, size_limit, created,
                                                  len(loaded[0]) if loaded else None)
                files += pieces
                notes += split_notes
        if "json" in formats:
            suffix = "ndjson" if len(data()) > ndjson_rows else "json"
            path = write_dataset_json(data(), folder / f"{lower}.{suffix}", name=name, label=group.label,
                                      columns=columns_from_model(model, name), created=created,
                                      study_oid=f"STDY.{model.study.studyid}", metadata_version_oid=model.mdv_oid,
                                      metadata_ref="define.xml")
            files.append(path)
            if validate:
                problems += [Problem(path.name, e) for e in validate_written_dataset_json(path, len(data()))]
        loaded.clear()  # let the dataset go before the next is read
    define_path = write_define(model, folder / "define.xml", created)
    files += [define_path, copy_stylesheet(folder)]
    if any(leaf.id == "LF.acrf" for leaf in model.documents):
        if isinstance(model.study.acrf, (bytes, bytearray)):  # generated from the EDC metadata
            (folder / "acrf.pdf").write_bytes(model.study.acrf)
            files.append(folder / "acrf.pdf")
        else:
            files.append(Path(shutil.copyfile(model.study.acrf, folder / "acrf.pdf")))
    if validate:
        problems += [Problem(define_path.name, e) for e in validate_define(define_path)]
    if html:
        files.append(render_html(define_path))
    if problems:
        raise DataError(problems, title="files that fail their schema")
    return files, notes


def _swap_in(staging: Path, target: Path) -> None:
    previous = target.with_name(f".{target.name}.previous-{os.getpid()}")
    if target.exists():
        target.rename(previous)
    staging.rename(target)
    if previous.exists():
        shutil.rmtree(previous, ignore_errors=True)


def write_package(root, *, sdtm: DefineModel | None = None, adam: DefineModel | None = None,
                  created: datetime, formats=("xpt",), size_limit: int = FIVE_GB, html: bool = True,
                  ndjson_rows: int = NDJSON_ROWS, xpt_files: XptFiles | None = None) -> PackageResult:
    """Write the m5 package of the given define models under ``root`` (replacing the study's folder);
    ``xpt_files``: the XPT files written earlier in the run (``define.written``), linked where the same."""
    models = [m for m in (sdtm, adam) if m is not None]
    if not models:
        raise DataError([Problem(str(root), "nothing to package: no SDTM and no ADaM model")])
    studyid = models[0].study.studyid
    target = study_folder(root, studyid)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    result = PackageResult(Path(root))
    try:
        for key, model, parts in (("sdtm", sdtm, SDTM_FOLDER), ("adam", adam, ADAM_FOLDER)):
            if model is None:
                continue
            folder = staging.joinpath(*parts)
            files, notes = write_standard_folder(model, folder, created=created, formats=formats,
                                                 size_limit=size_limit, html=html, ndjson_rows=ndjson_rows,
                                                 xpt_files=xpt_files)
            result.folders[key] = target.joinpath(*parts)
            result.models[key] = model
            result.files += [target / f.relative_to(staging) for f in files]
            result.notes += notes
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(staging, target)
    for key, model in (("sdtm", sdtm), ("adam", adam)):
        for leaf in model.result_documents if model is not None else []:  # SAP, CSR: not made by the toolkit
            if not (result.folders[key] / leaf.href).is_file():
                result.notes.append(f"{key} define.xml: {leaf.title} ({leaf.id}, {leaf.href}) is referred to by the "
                                    f"analysis results but is not in the package: place it there before submission")
    return result


def write_submission(out_dir, spec, sdtm_result, *, adam_spec=None, adam_datasets=None, ct=None,
                     created: datetime | None = None, formats=("xpt",), size_limit: int = FIVE_GB,
                     html: bool = True, raw_dir=None, guides: bool = False, findings: dict | None = None,
                     guides_later: bool = False, xpt_files: XptFiles | None = None) -> PackageResult:
    """What ``cdisc run`` / ``cdisc package`` call: SDTM (and ADaM when given) -> ``out_dir``/m5/...

    ``spec`` is the StudySpec, ``sdtm_result`` the SDTM build (``result.datasets``, ``result.specs``);
    ``adam_spec`` an ``adam.spec.AdamSpec`` and ``adam_datasets`` its built outputs. ``created`` (the
    cut date) stamps define.xml, Dataset-JSON and XPT headers; default 2000-01-01 for reproducibility.
    ``raw_dir``: the raw export; when it holds the ODM export the spec names and the spec folder brings
    no annotated CRF of its own, acrf.pdf is generated from the EDC metadata (``define.acrf``).
    ``guides``: write the reviewer's guides (csdrg.pdf, adrg.pdf; ``define.guides``) beside each define.xml,
    which declares them; ``findings`` ({"sdtm"/"adam": validator findings}) fills their conformance section
    (the run writes them again once it has validated the package). ``guides_later``: declare the guides but
    leave writing them to the caller (``cdisc run`` writes them once, after validating the package).
    ``xpt_files``: the XPT files the run has written (``define.written.XptFiles``): a dataset whose file would
    hold the same bytes is linked from there instead of written again.
    """
    from define.acrf import build_acrf
    from define.adapters import annotated_crf, from_adam, from_sdtm

    if ct is None:
        from specs.study_ct import study_ct
        ct = study_ct(spec)
    created = created or datetime(2000, 1, 1)
    # each dataset is read once to be described; what the guides say of its values is worked out then too
    summaries: dict[str, dict] = {"sdtm": {}, "adam": {}}

    def summarizer(key: str):
        if not guides:
            return None
        from define.guides import summarize

        return lambda name, frame: summaries[key].__setitem__(name, summarize(name, frame))

    adam = None
    # ADaM's define model is worked out on the other core while SDTM's is (each reads its own datasets, a
    # column at a time: pyarrow and pandas' kernels release the GIL); an error of SDTM's comes first
    with ThreadPoolExecutor(max_workers=1) as beside:
        adam_model = beside.submit(from_adam, adam_spec, adam_datasets, spec.study, ct, visit=summarizer("adam")) \
            if adam_spec is not None and adam_datasets else None
        acrf = build_acrf(spec, raw_dir, created) if raw_dir is not None and annotated_crf(spec) is None else None
        sdtm = from_sdtm(spec, sdtm_result, ct, acrf=acrf, visit=summarizer("sdtm"))
        sdtm.summaries.update(summaries["sdtm"])
        if adam_model is not None:
            adam = adam_model.result()
            adam.summaries.update(summaries["adam"])
    if isinstance(formats, str):
        formats = tuple(f.strip() for f in formats.split(",") if f.strip())
    if guides:
        from define.guides import GUIDES

        for key, model in (("sdtm", sdtm), ("adam", adam)):
            if model is not None:
                model.documents.append(GUIDES[key])
    package = write_package(out_dir, sdtm=sdtm, adam=adam, created=created, formats=formats,
                            size_limit=size_limit, html=html, xpt_files=xpt_files)
    if guides and not guides_later:
        from define.guides import write_guides

        package.files += write_guides(package.folders, spec, package.models, adam_spec, findings, created)
    return package
