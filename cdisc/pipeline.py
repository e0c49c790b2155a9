"""One conversion run: read the raw export, build SDTM (then ADaM), write everything atomically.

I/O lives here and in the readers/writers; ``sdtm`` and ``adam`` only see data frames.
"""
from __future__ import annotations

import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pandas as pd

from cdisc.progress import Progress
from cdisc.raw_export import builtin_raw_dir, read_raw
from specs.errors import CdiscError, Problem, RawDataError, SpecError
from specs.loader import display_path, load_study_spec
from specs.raw_columns import check_raw_columns


@dataclass
class Publication:
    """Where a command publishes and what it has built, so that an interrupted or failed command can say
    truthfully whether the output changed (see cdisc.publish)."""

    target: Path | None = None  # what the user asked for: out/, out/cuts/<date>, out/adam
    folder: object = None  # cdisc.publish.OutputFolder
    version: Path | None = None
    slot: Path | None = None

    def published(self) -> bool:
        return self.version is not None and self.folder.published(self.version, self.slot)


@contextmanager
def publishing(target: Path, publication: Publication | None = None, slot: bool = False):
    """Lock the output folder, clear what an interrupted run left, and yield a new, empty version folder
    to write into; when the block ends without error the version is switched in whole (at ``target``
    itself when ``slot``: a cut, or any folder given by its own name), else removed."""
    from cdisc.publish import OutputFolder, OutputLock, output_root

    publication = publication if publication is not None else Publication()
    target = Path(target)
    publication.target = target
    root = output_root(target) if slot else target
    if root.exists() and not root.is_dir():
        raise CdiscError(f"{display_path(root)} is a file, not a folder: --out must name a folder")
    with OutputLock(root):
        folder = OutputFolder(root)
        folder.clean_debris()
        version = folder.new_version()
        publication.folder, publication.version = folder, version
        publication.slot = target if slot else None
        try:
            yield version
            folder.publish(version, publication.slot)
        except BaseException:
            if not publication.published():
                shutil.rmtree(version, ignore_errors=True)
            raise


def xpt_variables(dspec):
    from define.xpt import XptVariable

    return [XptVariable(v.name, v.label, v.type, v.length, getattr(v, "display_format", None))
            for v in dspec.parent_variables]


def write_datasets(datasets: dict[str, pd.DataFrame], specs: dict, folder: Path, created: datetime,
                   xpt_files=None) -> list[str]:
    """Each dataset as <name>.xpt (SAS XPORT v5); returns the writer's transliteration notes.
    ``xpt_files`` (``define.written.XptFiles``) remembers them, for the package to link rather than rewrite
    (``datasets`` may be a read-only Mapping that loads each dataset on access: then the package links the
    files without reading the datasets again)."""
    from define.written import XptFiles

    xpt_files = xpt_files if xpt_files is not None else XptFiles()
    folder.mkdir(parents=True, exist_ok=True)
    notes = []
    for name in datasets:  # one dataset in memory at a time when the mapping loads each on access
        dspec = specs[name]
        notes += xpt_files.write(datasets[name], folder / f"{name.lower()}.xpt", dataset_name=name,
                                 dataset_label=dspec.label, variables=xpt_variables(dspec), created=created,
                                 source=datasets)
    return notes


def write_adam_datasets(datasets: dict[str, pd.DataFrame], spec, folder: Path, created: datetime, xpt_files
                        ) -> None:
    """The ADaM datasets as <name>.xpt, as ``adam.build.write_adam_xpt`` writes them (labels, lengths and
    DATE9. from adam.yaml), through ``xpt_files`` so that the package links them rather than rewrites them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in datasets:  # (one dataset in memory at a time, as above)
        xpt_files.write(datasets[name], folder / f"{name.lower()}.xpt", dataset_name=name,
                        dataset_label=spec.datasets[name].get("label", ""), variables=spec.xpt_variables(name),
                        created=created, source=datasets)


def build_sdtm_from_raw(spec_dir=None, raw_dir=None, edc="csv", progress: Progress | None = None, cut=None):
    from sdtm.engine import build_sdtm
    from specs.study_ct import study_ct

    progress = progress or Progress(False)
    problems: list[Problem] = []
    spec = load_study_spec(spec_dir, collect=problems)
    raw_dir = Path(raw_dir) if raw_dir else builtin_raw_dir()
    if not raw_dir.is_dir():
        raise RawDataError([Problem(display_path(raw_dir), "raw export folder not found")])
    raw = read_raw(spec, raw_dir, edc, progress)
    problems += check_raw_columns(spec, {name: list(t.columns) for name, t in raw.tables.items()})
    if problems:
        raise SpecError(problems)
    ct = study_ct(spec)  # its problems, if any, are among those above
    progress.step("mapping SDTM domains")
    result = build_sdtm(spec, raw.tables, ct, cut=cut)
    result.notes += raw.notes
    return spec, raw, result


@dataclass
class RunResult:
    sdtm: object
    adam: dict | None
    out_dir: Path
    notes: list[str]
    validation_errors: int = 0


def adam_spec_path(spec_dir) -> Path:
    from specs.loader import builtin_spec_dir

    return Path(spec_dir or builtin_spec_dir()) / "adam.yaml"


def dcut_frame(usubjids: pd.Series, cut) -> pd.DataFrame:
    """The DCUT dataset handed to ADaM: one record per subject with its cut date (empty without a cut)."""
    if cut is None:
        return pd.DataFrame({"USUBJID": pd.Series(dtype=object), "DCUTDTC": pd.Series(dtype=object),
                             "DCUTDESC": pd.Series(dtype=object)})
    ids = pd.Series(usubjids.dropna().unique(), dtype=object)
    return pd.DataFrame({"USUBJID": ids, "DCUTDTC": cut.subject_dates(ids).values,
                         "DCUTDESC": cut.description or f"Data cut of {cut.label()}"})


def build_adam_datasets(sdtm_dir: Path, spec_path: Path, progress: Progress, cut=None):
    """ADaM from the SDTM files as written (what a reviewer receives), not from memory."""
    from adam.build import build_adam, read_sdtm_folder
    from adam.spec import load_adam_spec

    spec = load_adam_spec(spec_path)
    progress.step("building ADaM datasets")
    sdtm = read_sdtm_folder(sdtm_dir)
    sdtm["DCUT"] = dcut_frame(sdtm["DM"]["USUBJID"], cut)
    return spec, build_adam(sdtm, spec, release=True)  # each SDTM dataset let go after its last reader


def tool_version() -> str:
    try:
        from importlib.metadata import version
        return version("cdisc-toolkit")
    except Exception:  # running from a source tree
        return "0.1.0"


def validate_package(package, folder: Path, progress: Progress, found: dict | None = None) -> tuple[int, list[str]]:
    """Validate what was written (the m5 folders with their define.xml); reports into folder.
    Returns the number of error-level findings and the summary lines to show; ``found`` receives the
    findings of each folder ("sdtm"/"adam" -> table), for the reviewer's guides."""
    from validate.cli import validate, write_reports
    from validate.report import terminal_summary

    errors, lines = 0, []
    for key, data_folder in sorted(package.folders.items(), key=lambda kv: kv[0] != "sdtm"):
        progress.step(f"validating {key.upper()}")
        checked, findings = validate(data_folder)
        names = ", ".join(sorted(checked.datasets))
        del checked  # the data of one folder is freed before the next is read
        if found is not None:
            found[key] = findings
        write_reports(findings, folder / key, {"path": str(data_folder.relative_to(package.root)), "datasets": names})
        summary = terminal_summary(findings).splitlines()
        lines.append(f"{key.upper()} " + summary[0] + (f" (report: validation/{key}/validation.html)"))
        lines += summary[1:]
        errors += int((findings["severity"] == "Error").sum())
    return errors, lines


def run(spec_dir=None, raw_dir=None, out_dir="out", edc="csv", created: datetime | None = None,
        progress: Progress | None = None, stream=None, sdtm_only: bool = False, formats="xpt",
        cut=None, validate: bool = True, publication: Publication | None = None,
        chunk_subjects: int | None = None) -> RunResult:
    """The whole conversion into a new version folder, published whole only when every step passed.

    Without a cut the new version replaces out/sdtm, out/adam, out/m5, out/validation, out/manifest.json
    and out/keys.json at once (cdisc.publish); a cut is its own folder out/cuts/<date>, with its cut report
    and manifest. File dates come from the cut (or a fixed date), never from the clock, so that a rerun
    gives byte-identical files. ``publication`` (optional) tells the caller what was published.
    ``chunk_subjects``: subjects mapped together (cdisc.chunks; default DEFAULT_CHUNK_SUBJECTS): memory
    grows with a chunk, not with the study; the output is the same whatever the chunk size.
    """
    from cdisc.diff import write_keys
    from cdisc.manifest import write_manifest
    from define.written import XptFiles

    from cdisc.chunks.build import DEFAULT_CHUNK_SUBJECTS, WORK

    chunk_subjects = chunk_subjects or DEFAULT_CHUNK_SUBJECTS
    stream = stream or sys.stdout
    progress = progress or Progress()
    created = created or (datetime.fromisoformat(cut.date) if cut is not None and cut.date else datetime(2000, 1, 1))
    out_dir = Path(out_dir)
    target = out_dir / "cuts" / (cut.date or "per-subject") if cut is not None else out_dir
    adam, validation_errors, validation_lines = None, 0, []
    progress.step(f"locking {display_path(out_dir)}")
    from cdisc.chunks.spill import long_lived_frozen

    with publishing(target, publication, slot=cut is not None) as staging, long_lived_frozen():
        from cdisc.chunks.build import build_chunked
        from cdisc.chunks.spill import record_counts

        xpt_files = XptFiles()  # each XPT file written once: the package links these
        built = build_chunked(staging, spec_dir, raw_dir, edc, progress, cut, created, xpt_files, sdtm_only,
                              chunk_subjects)  # SDTM and ADaM per chunk of subjects, written whole
        spec, result, notes, adam_spec, adam = built.spec, built.result, built.notes, built.adam_spec, built.adam
        counts = record_counts(result.datasets)
        if cut is not None and not counts["DM"]:
            result.notes.append(f"the cut {cut.label()} leaves no subject in the study (each entered after it: see "
                                "the cut report); the package holds the trial design only")
        keys = {n: s.keys for n, s in result.specs.items() if s.keys}
        if adam is not None:
            keys.update({n: d["keys"] for n, d in adam_spec.datasets.items() if d.get("keys") and n in adam})
        import threading
        from concurrent.futures import ThreadPoolExecutor

        from cdisc.lineage import write_lineage
        from define.package import write_submission

        # the lineage (out of the dataset folders: cdisc explain reads it) is written beside the package and
        # the validation, on the other core: pyarrow spells and joins its cells with the GIL released
        background, stop = ThreadPoolExecutor(max_workers=1), threading.Event()
        lineage = background.submit(write_lineage, staging, spec, result, adam_spec, adam, stop)
        try:
            # --sdtm-only still gives SDTM its define.xml and its validation (no adam.yaml needed)
            progress.step("writing define.xml, define.html and the m5 package")
            package = write_submission(staging, spec, result, adam_spec=adam_spec, adam_datasets=adam, ct=built.ct,
                                       created=created, formats=formats, raw_dir=raw_dir or builtin_raw_dir(),
                                       guides=True, guides_later=validate, xpt_files=xpt_files)
            notes = list(dict.fromkeys(notes + package.notes))  # the package places the same XPTs again
            if validate:
                found: dict = {}
                validation_errors, validation_lines = validate_package(package, staging / "validation", progress,
                                                                       found)
                from define.guides import write_guides

                progress.step("writing the reviewer's guides")  # now with the conformance findings
                write_guides(package.folders, spec, package.models, adam_spec, found, created)
            progress.step("writing the lineage")
            lineage.result()
        finally:
            stop.set()  # (an error or a signal: the lineage stops at its next chunk; else it is done already)
            background.shutdown(wait=True)  # never writing into a staging folder being removed
        progress.step("writing the manifest")
        write_keys(staging, keys)  # beside the manifest, out of the dataset folders (the validator reads those)
        if cut is not None:
            from cdisc.cut_report import write_cut_report

            write_cut_report(staging, result.cut_log, cut, counts)
        built.spill.keep()  # the datasets stay readable (result.datasets, adam) out of the published output
        shutil.rmtree(staging / WORK, ignore_errors=True)  # the chunks' work folder is not published
        write_manifest(staging, inputs=built.raw_files, spec_hash=spec.digest(), ct_version=spec.study["ct"]["sdtm"],
                       tool_version=tool_version(), cut=cut, created=created.date().isoformat())
        progress.step(f"publishing {display_path(target)}")
    print_run_report(result, notes, target / "sdtm", stream)
    if adam is not None:
        print(f"ADaM written to {display_path(target / 'adam')}: " +
              ", ".join(f"{name} ({count} records)" for name, count in record_counts(adam).items()), file=stream)
        print(f"submission package: {display_path(target / 'm5')}", file=stream)
    for line in validation_lines:
        print(line, file=stream)
    if cut is not None:
        removed = int((result.cut_log["action"] == "removed").sum()) if result.cut_log is not None else 0
        changed = int((result.cut_log["action"] == "changed").sum()) if result.cut_log is not None else 0
        print(f"data cut {cut.label()}: {removed} records removed, {changed} values changed; "
              f"report: {display_path(target / 'cut_report.html')}", file=stream)
    return RunResult(result, adam, target, notes, validation_errors)


def print_run_report(result, notes: list[str], folder: Path, stream) -> None:
    print(f"SDTM written to {display_path(folder)}", file=stream)
    print(f"{'domain':<9}{'source':<24}{'raw in':>8}{'out':>8}{'not mapped':>12}", file=stream)
    for report in result.reports:
        print(f"{report.domain:<9}{report.source[:23]:<24}{report.records_in:>8}{report.records_out:>8}"
              f"{len(report.not_mapped):>12}", file=stream)
    built = [n for n in result.datasets if n not in {r.domain for r in result.reports}]
    print(f"built from the design or other domains: {', '.join(built)}", file=stream)
    reasons: dict[tuple[str, str], list] = {}
    for report in result.reports:
        for issue in report.not_mapped:
            reasons.setdefault((report.domain, issue.reason.split(" (kept:")[0]), []).append(issue)
    if reasons:
        print("records not mapped:", file=stream)
        for (domain, reason), issues in reasons.items():
            example = issues[0]
            print(f"  {domain}: {len(issues)} x {reason} (e.g. {example.source} {example.key})", file=stream)
    warned: dict[tuple[str, str], list] = {}
    for report in result.reports:
        for issue in getattr(report, "warnings", []):
            warned.setdefault((report.domain, issue.reason), []).append(issue)
    if warned:
        print("warnings (mapped as the spec says):", file=stream)
        for (domain, reason), issues in warned.items():
            example = issues[0]
            detail = f": {example.extra['detail']}" if example.extra.get("detail") else ""
            print(f"  {domain}: {len(issues)} x {reason} (e.g. {example.source} {example.key}{detail})", file=stream)
    for note in result.notes:
        print(f"note: {note}", file=stream)
    by_variable: dict[str, list[str]] = {}
    for note in notes:
        if " row " not in note:  # a package note of another kind (a document the define refers to, missing)
            print(f"note: {note}", file=stream)
            continue
        by_variable.setdefault(note.split(" row ")[0], []).append(note)
    for variable, items in by_variable.items():
        example = items[0].split(": ", 1)[-1]
        print(f"note: {variable}: {len(items)} value(s) transliterated to ASCII for XPT v5 (e.g. {example})",
              file=stream)


def earlier_findings(folder: Path) -> dict:
    """The findings of the earlier run's validation (validation/<sdtm|adam>/validation.json), for the
    reviewer's guides of a package made again; a folder not validated has none."""
    import json

    found = {}
    for key in ("sdtm", "adam"):
        path = Path(folder) / "validation" / key / "validation.json"
        if path.is_file():
            found[key] = pd.DataFrame(json.loads(path.read_text("utf-8")).get("findings") or [])
    return found


def package_from_folder(folder, spec_dir=None, formats="xpt", stream=None, publication: Publication | None = None,
                        raw_dir=None) -> Path:
    """`cdisc package`: the m5 package (XPT, define.xml, stylesheet, define.html, Dataset-JSON) again
    from the SDTM and ADaM files of an earlier run in folder, with the spec's metadata (and the EDC
    metadata of the raw export in raw_dir, default the built-in one as for `cdisc run`, for the aCRF)."""
    from types import SimpleNamespace

    from adam.spec import load_adam_spec
    from cdisc.publish import copy_version
    from define.package import write_submission
    from define.written import XptFiles, XptFolder
    from sdtm.supp import supp_domain_spec
    from specs.model import domain_spec

    stream = stream or sys.stdout
    folder = Path(folder)
    spec = load_study_spec(spec_dir)
    specs = {name: domain_spec(name, raw) for name, raw in spec.domains.items()}
    specs.update({f"SUPP{n}": supp_domain_spec(d) for n, d in list(specs.items()) if d.supp_variables})
    if not (folder / "sdtm").is_dir():
        raise RawDataError([Problem(display_path(folder), "sdtm/ not found: run cdisc run first")])
    with publishing(folder, publication, slot=folder.is_symlink() or folder.parent.name == "cuts") as staging:
        missing = [f"sdtm/{n.lower()}.xpt" for n in specs if not (folder / "sdtm" / f"{n.lower()}.xpt").is_file()]
        if missing:
            raise RawDataError([Problem(display_path(folder), f"{', '.join(missing)} not found: run cdisc run first")])
        copy_version(folder, staging, leave_out={"m5"})  # the rest of the output as it was (hard links)
        # each dataset read from its file when described and let go; a file the package would write with the
        # same bytes is linked into m5 (define.written.XptFolder), as `cdisc run` does
        datasets = XptFolder({name: staging / "sdtm" / f"{name.lower()}.xpt" for name in specs})
        for name, dspec in list(specs.items()):  # permissible variables the run left out (no value in any record)
            columns = set(datasets.columns(name))
            absent = {v.name for v in dspec.variables if v.name not in columns
                      and v.core == "Perm" and not v.keep and not v.supp}
            if absent:
                specs[name] = replace(dspec, variables=[v for v in dspec.variables if v.name not in absent])
        adam_spec, adam = None, None
        if (folder / "adam").is_dir():
            adam_spec = load_adam_spec(adam_spec_path(spec_dir))
            adam = XptFolder({name: staging / "adam" / f"{name.lower()}.xpt" for name in adam_spec.datasets
                              if (folder / "adam" / f"{name.lower()}.xpt").is_file()})
        created = datetime(2000, 1, 1)
        manifest = folder / "manifest.json"
        if manifest.is_file():
            import json
            created = datetime.fromisoformat(json.loads(manifest.read_text("utf-8"))["created"])
        package = write_submission(staging, spec, SimpleNamespace(datasets=datasets, specs=specs),
                                   adam_spec=adam_spec, adam_datasets=adam, created=created, formats=formats,
                                   raw_dir=raw_dir or builtin_raw_dir(), guides=True,
                                   findings=earlier_findings(folder), xpt_files=XptFiles())
    print(f"submission package written to {display_path(folder / 'm5')}: "
          + ", ".join(f"{k.upper()} {len(list(v.glob('*.xpt')))} datasets" for k, v in
                      sorted((key, folder / p.relative_to(staging)) for key, p in package.folders.items())),
          file=stream)
    return folder / "m5"
