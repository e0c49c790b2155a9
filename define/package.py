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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from define.datasetjson import columns_from_model, validate_written_dataset_json, write_dataset_json
from define.html import copy_stylesheet, render_html
from define.model import DefineModel
from define.xml import validate_define, write_define
from define.written import XptFiles
from define.xpt import write_xpt
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

def grouping_variable(name: str, data: pd.DataFrame) -> str | None:
    """The variable a too-large dataset is split on: the first of PARAMCD, --CAT, --TESTCD, USUBJID with 2+ values."""
    prefix = name[:2] if not name.startswith("AD") else name
    for candidate in ("PARAMCD", f"{prefix}CAT", f"{prefix}TESTCD", "QNAM", "USUBJID"):
        if candidate in data.columns and data[candidate].astype("string").nunique(dropna=False) > 1:
            return candidate
    return None


def plan_split(data: pd.DataFrame, by: str, row_bytes: int, overhead: int, limit: int) -> list[list[str]]:
    """Groups of ``by`` values, packed in sorted order so each piece's estimated size stays under ``limit``."""
    counts = data[by].astype("string").fillna("").value_counts(sort=False).sort_index()
    pieces, current, size = [], [], overhead
    for value, n in counts.items():
        grow = int(n) * row_bytes
        if current and size + grow > limit:
            pieces.append(current)
            current, size = [], overhead
        current.append(value)
        size += grow
    if current:
        pieces.append(current)
    return pieces


def write_split(model: DefineModel, name: str, folder: Path, xpt_size: int, limit: int, created: datetime,
                data: pd.DataFrame | None = None) -> tuple[list[Path], list[str]]:
    """Write the pieces of a dataset over the limit to ``folder``/split; returns the files and notes.
    ``data``: the dataset when the caller has it at hand (else read from ``model.data``)."""
    data = model.data[name] if data is None else data
    by = grouping_variable(name, data)
    if by is None:
        return [], [f"{name}: {xpt_size} bytes, over the {limit}-byte limit, but no grouping variable to split on"]
    variables = model.xpt_variables(name)
    row_bytes = sum(v.length if v.type == "Char" else 8 for v in variables)
    overhead = max(0, xpt_size - len(data) * row_bytes)
    pieces = plan_split(data, by, row_bytes, overhead, limit)
    if len(f"{name}{len(pieces)}") > 8:
        raise DataError([Problem(name, f"cannot split into {len(pieces)} pieces: '{name}{len(pieces)}' is longer "
                                       "than 8 characters")])
    keys = data[by].astype("string").fillna("")
    files, described = [], []
    for number, values in enumerate(pieces, start=1):
        piece_name = f"{name}{number}"
        path = folder / "split" / f"{piece_name.lower()}.xpt"
        piece = data.loc[keys.isin(values).to_numpy()].reset_index(drop=True)
        write_xpt(piece, path, dataset_name=piece_name, dataset_label=model.group(name).label,
                  variables=variables, created=created)
        files.append(path)
        described.append(f"split/{path.name} ({by} {', '.join(values)}; {len(piece)} records)")
        if path.stat().st_size > limit:
            described[-1] += f" still over the limit: one {by} value cannot be split further"
    return files, [f"{name}: {xpt_size} bytes, over the {limit}-byte limit: split by {by} into "
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
            if size > size_limit:
                pieces, split_notes = write_split(model, name, folder, size, size_limit, created, data())
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
    acrf = build_acrf(spec, raw_dir, created) if raw_dir is not None and annotated_crf(spec) is None else None
    # each dataset is read once to be described; what the guides say of its values is worked out then too
    summaries: dict[str, dict] = {"sdtm": {}, "adam": {}}

    def summarizer(key: str):
        if not guides:
            return None
        from define.guides import summarize

        return lambda name, frame: summaries[key].__setitem__(name, summarize(name, frame))

    sdtm = from_sdtm(spec, sdtm_result, ct, acrf=acrf, visit=summarizer("sdtm"))
    sdtm.summaries.update(summaries["sdtm"])
    adam = None
    if adam_spec is not None and adam_datasets:
        adam = from_adam(adam_spec, adam_datasets, spec.study, ct, visit=summarizer("adam"))
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
