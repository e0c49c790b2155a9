"""The raw export of a study as the spec's sources read it: each source's file found inside the raw folder,
read (CSV, SAS7BDAT, XPT, an ODM export's forms, a REDCap export's instruments) and each record located."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.progress import Progress
from specs.errors import CdiscError, Problem, RawDataError
from specs.loader import StudySpec, confined_path, display_path


def builtin_raw_dir() -> Path:
    return Path(str(resources.files("cdisc") / "demo" / "raw"))


@dataclass
class RawExport:
    tables: dict[str, pd.DataFrame]
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was read but is no source's (REDCap instruments, ODM forms)


def read_raw(spec: StudySpec, raw_dir: Path, edc: str = "csv", progress: Progress | None = None) -> RawExport:
    """Read every source of the spec (EDC forms from CSV or from the ODM export), each record located."""
    from sdtm.odm import read_odm
    from sdtm.readers import read_source

    progress = progress or Progress(False)
    problems: list[Problem] = []
    tables, files = {}, {}
    odm_cache: dict[Path, dict[str, pd.DataFrame]] = {}
    redcap = RedcapCache()
    odm_read: dict[Path, tuple[str, set[str]]] = {}  # each ODM export: its label and the forms sources read
    unreadable: set[Path] = set()  # an export several sources read that could not be read: reported once
    for name, source in spec.sources.items():
        use_odm = edc == "odm" and "odm" in source
        path, label, problem = source_file(spec, raw_dir, name, use_odm)
        if problem is not None:
            problems.append(problem)
            continue
        if path in unreadable:
            continue
        try:
            if use_odm:
                if path not in odm_cache:
                    progress.step(f"reading {label}")
                    odm_cache[path] = read_odm(path)
                forms = odm_cache[path]
                form = source["odm"]["form"]
                odm_read.setdefault(path, (label, set()))[1].add(form)
                if form not in forms:
                    problems.append(Problem(label, f"no form '{form}' in the ODM export (forms: "
                                                   f"{', '.join(sorted(forms))})"))
                    continue
                frame = forms[form]
                label = f"{label}#{form}"
            elif "redcap" in source:
                frame = redcap.form(raw_dir, path, label, source["redcap"], spec.where("study", "sources", name,
                                                                                      "redcap", "dictionary"),
                                    progress)
                label = f"{label}#{source['redcap']['form']}"
            else:
                progress.step(f"reading {label}")
                frame = read_source(path, encoding=source.get("encoding"))
        except CdiscError as exc:
            problems.extend(getattr(exc, "problems", [Problem(label, str(exc))]))
            if use_odm and path not in odm_cache:
                unreadable.add(path)  # the export itself, not one form of it: its other forms say nothing more
            continue
        rows = frame.attrs.pop("rows", None)  # a REDCap instrument's lines in the records export
        table, problem = located_source(frame, label, source, rows)
        if problem is not None:
            problems.append(problem)
            continue
        tables[name] = table
        files[name] = path
    if problems:
        raise RawDataError(problems)
    return RawExport(tables, files, redcap.unread_notes() + unread_forms(odm_cache, odm_read))


def source_file(spec: StudySpec, raw_dir: Path, name: str, use_odm: bool = False
                ) -> tuple[Path | None, str, Problem | None]:
    """A source's file inside the raw export folder and its label in messages, or the problem with its path."""
    source = spec.sources[name]
    named = source["odm"]["path"] if use_odm else source["path"]
    path, why = confined_path(raw_dir, named, "raw export folder")
    if why:
        return None, "", Problem(spec.where("study", "sources", name, *(("odm", "path") if use_odm else ("path",))),
                                 why)
    label = display_path(path) if not str(path).startswith(str(builtin_raw_dir())) else \
        str(path.relative_to(builtin_raw_dir()))
    return path, label, None


def located_source(frame: pd.DataFrame, label: str, source: dict, rows=None, first_row: int = 1
                   ) -> tuple[pd.DataFrame | None, Problem | None]:
    """A source's records as read (or a batch of them, its first record at data row ``first_row``), the
    file's missing-value markers read as empty, each record located; or the problem of a key column missing."""
    from sdtm.prepare import locate

    if source.get("missing"):  # the file's own missing-value markers (R's NA, SAS's '.') read as empty
        frame = frame.mask(frame.isin(list(source["missing"])), "")
    missing_keys = [k for k in source["keys"] if k not in frame.columns]
    if missing_keys:
        return None, Problem(label, f"key column(s) {', '.join(missing_keys)} missing (columns: "
                                    f"{', '.join(frame.columns)})")
    if rows is None and first_row != 1:
        rows = np.arange(first_row, first_row + len(frame))
    return locate(frame, label, source["keys"], source.get("decimal", "."), rows), None


class _Reported(CdiscError):
    """A file several sources read whose problem is listed already."""

    problems: list = []


class RedcapCache:
    """REDCap records exports and data dictionaries, each read once however many instruments are sources;
    remembers which instruments were read, to say which ones hold data that no source reads."""

    def __init__(self):
        self.records: dict[Path, pd.DataFrame] = {}
        self.dictionaries: dict[Path, object] = {}
        self.read: dict[Path, tuple[str, object, set]] = {}  # records path -> (label, dictionary, forms read)
        self.failed: set[Path] = set()  # records exports and dictionaries that could not be read

    @contextmanager
    def _failing(self, path: Path):
        try:
            yield
        except CdiscError:
            self.failed.add(path)
            raise

    def form(self, raw_dir: Path, path: Path, label: str, redcap: dict, where: str, progress: Progress
             ) -> pd.DataFrame:
        from sdtm.readers import read_csv_source
        from sdtm.redcap import read_dictionary, read_form

        dictionary_path, why = confined_path(raw_dir, redcap["dictionary"], "raw export folder")
        if why:
            raise RawDataError([Problem(where, why)])
        if dictionary_path in self.failed or path in self.failed:
            raise _Reported()  # (its problem is listed once, with the first instrument that read it)
        if dictionary_path not in self.dictionaries:
            shown = display_path(dictionary_path)
            progress.step(f"reading {shown}")
            with self._failing(dictionary_path):
                self.dictionaries[dictionary_path] = read_dictionary(read_csv_source(dictionary_path), shown)
        if path not in self.records:
            progress.step(f"reading {label}")
            with self._failing(path):
                self.records[path] = read_csv_source(path)
        dictionary = self.dictionaries[dictionary_path]
        self.read.setdefault(path, (label, dictionary, set()))[2].add(redcap["form"])
        return read_form(self.records[path], dictionary, redcap["form"], label, tuple(redcap.get("codes", ())))

    def unread_notes(self) -> list[str]:
        from sdtm.redcap import rows_of_form

        notes = []
        for path, (label, dictionary, forms) in self.read.items():
            for form in dictionary.forms():
                if form not in forms:
                    count = int(rows_of_form(self.records[path], dictionary, form).sum())
                    if count:
                        notes.append(unread_instrument(label, form, count))
        return notes


def unread_instrument(label: str, form: str, count: int) -> str:
    """The run report's note on an instrument of a REDCap export holding data in ``count`` records that no source
    reads (those records are not mapped)."""
    return (f"{label}: instrument '{form}' holds data in {count} record(s) that no source reads (a source with "
            f"redcap: {{form: {form}}} would map them)")


def unread_forms(odm_tables: dict[Path, dict[str, pd.DataFrame]], read: dict[Path, tuple[str, set[str]]]) -> list[str]:
    """One line per ODM export that holds records of forms no source reads: those records are not mapped,
    and the run report says so rather than letting them drop out of the record accounting."""
    lines = []
    for path, forms in odm_tables.items():
        label, used = read[path]
        unread = [(form, len(table)) for form, table in forms.items() if form not in used and len(table)]
        if unread:
            lines.append(f"{label}: {len(unread)} form(s) with records that no source of the spec reads, not mapped: "
                         + ", ".join(f"{form} ({count} records)" for form, count in unread))
    return lines
