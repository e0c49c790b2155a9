"""Load what was written: a folder of XPT and/or Dataset-JSON files, plus define.xml if there is one.

The loader knows nothing of how the files were made. Character values that are empty or blank become
missing (SAS has no other null for text), numbers stay numbers, and each dataset keeps the attributes
it was written with (label, type, length, format, order) so the rules can check them.
"""
from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from sasxport import XportError, check_xport, read_xport
from specs.errors import DataError, Problem

from validate.datafolder import is_core_data_folder, read_core_data_folder
from validate.define_xml import DefineMeta, read_define
from validate.lazy import LazyDatasets, Focus, Projected, Selection
from validate.standards import SDTM_DOMAINS

DATASET_SUFFIXES = (".xpt", ".json", ".ndjson", ".dsjc")
SKIPPED_FOLDERS = {"validation"}  # our own report folder may sit inside the package


@dataclass
class VariableMeta:
    name: str
    label: str
    type: str  # "Char" or "Num"
    length: int | None
    format: str
    order: int


@dataclass
class DatasetMeta:
    name: str
    label: str
    path: Path
    variables: dict[str, VariableMeta] = field(default_factory=dict)
    encoding: str = "utf-8"
    issues: list = field(default_factory=list)  # what the file declares and its rows contradict (CV0109)


@dataclass
class Package:
    root: Path
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict[str, DatasetMeta] = field(default_factory=dict)
    define: DefineMeta | None = None
    notes: list[str] = field(default_factory=list)
    properties: dict = field(default_factory=dict)  # what the source declares (a CORE .env: product, version)

    def standard(self, name: str) -> str:
        """'ADaM' or 'SDTM' for dataset ``name``."""
        if self.define is not None and name in self.define.groups:
            if self.define.groups[name].purpose == "Analysis":
                return "ADaM"
            if self.define.groups[name].purpose == "Tabulation":
                return "SDTM"
        return "ADaM" if name.startswith("AD") and name not in SDTM_DOMAINS else "SDTM"

    def sdtm(self) -> Mapping[str, pd.DataFrame]:
        return self._of_standard("SDTM")

    def adam(self) -> Mapping[str, pd.DataFrame]:
        return self._of_standard("ADaM")

    def _of_standard(self, standard: str) -> Mapping[str, pd.DataFrame]:
        if isinstance(self.datasets, dict):
            return {n: d for n, d in self.datasets.items() if self.standard(n) == standard}
        return Selection(self.datasets, [n for n in self.datasets if self.standard(n) == standard])

    def names(self) -> list[str]:
        """Every dataset of the package, also from a view that shows a rule some of them (``view``)."""
        everything = getattr(self.datasets, "everything", None)
        return list(everything() if everything is not None else self.datasets)

    def columns(self, name: str) -> list[str]:
        """The variables of dataset ``name`` in file order, without reading its values when it is not read yet."""
        columns = getattr(self.datasets, "columns", None)
        return list(columns(name) if columns is not None else self.datasets[name].columns)

    def records(self, name: str) -> int:
        records = getattr(self.datasets, "records", None)
        return int(records(name) if records is not None else len(self.datasets[name]))

    def units(self) -> list[list[str]]:
        """The datasets a rule that works dataset by dataset sees together, in package order: the parts of
        a split SDTM domain (LBCH, LBHE) and of its SUPP-- datasets are one unit each, every other dataset
        is one unit."""
        groups: dict[str, list[str]] = {}
        for name in self.names():
            groups.setdefault(self.unit_key(name), []).append(name)
        return list(groups.values())

    def in_unit_order(self) -> "Package":
        """The datasets (and their metadata) reordered so that the parts of a split domain follow one another
        where the first part stands (FACM, CM, FAMH -> FACM, FAMH, CM): a rule run over the whole package and
        one run unit by unit (``units``) then meet the datasets in the same order and give their findings in
        the same order. The loaders call it once define.xml is read (it tells SDTM from ADaM)."""
        order = [name for unit in self.units() for name in unit]
        if order == list(self.datasets):
            return self
        if isinstance(self.datasets, dict):
            self.datasets = {name: self.datasets[name] for name in order}
        else:
            self.datasets.reorder(order)
        self.meta = {**{name: self.meta[name] for name in order if name in self.meta},
                     **{name: meta for name, meta in self.meta.items() if name not in order}}
        return self

    def unit_key(self, name: str) -> str:
        if self.standard(name) != "SDTM":
            return f"ADaM:{name}"
        domain = self.domain(name)
        return ("SUPP" + name[4:6]) if domain == "SUPPQUAL" and name.startswith("SUPP") else domain

    def view(self, names: list[str]) -> "Package":
        """The package as a rule that works dataset by dataset sees it for ``names``: iterating its datasets
        (or their metadata) gives those, looking one up by name still finds any dataset."""
        return replace(self, datasets=Focus(self.datasets, names), meta=Focus(self.meta, names))

    def projected(self, columns) -> "Package":
        """The package with each dataset read as ``columns`` (those it has): for a rule across datasets that
        declares the columns it reads."""
        return replace(self, datasets=Projected(self, set(columns)))

    def domain(self, name: str) -> str:
        """The SDTM domain whose variables ``name`` holds: 'LB' for LB and split LBCH, 'SUPPQUAL' for SUPPAE."""
        if name.startswith("SUPP") or name.startswith("SQ"):
            return "SUPPQUAL"
        if name in SDTM_DOMAINS:
            return name
        if len(name) == 4 and name[:2] in SDTM_DOMAINS:
            return name[:2]
        return name

    def prefix(self, name: str) -> str:
        """The two-letter prefix of --variables ('LB' for LB, LBCH)."""
        return name[:2]

    def key_variables(self, name: str) -> list[str]:
        """Variables that identify a record in readable form (define.xml keys first)."""
        cols = set(self.columns(name))
        if self.define is not None and name in self.define.groups and self.define.groups[name].keys:
            keys = [k for k in self.define.groups[name].keys if k in cols]
            return [k for k in keys if k != "STUDYID"] or keys  # one study per package: STUDYID is noise
        if name in ("DM", "ADSL"):
            candidates = ["USUBJID"]
        elif self.domain(name) == "SUPPQUAL":
            candidates = ["RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"]
        elif name == "TS":
            candidates = ["TSPARMCD", "TSSEQ"]
        elif name == "TA":
            candidates = ["ARMCD", "TAETORD"]
        elif name == "TE":
            candidates = ["ETCD"]
        elif name == "TV":
            candidates = ["VISITNUM", "ARMCD"]
        elif name == "TI":
            candidates = ["IETESTCD"]
        elif name == "SV":
            candidates = ["USUBJID", "VISITNUM"]
        elif f"{self.prefix(name)}SEQ" in cols:
            candidates = ["USUBJID", f"{self.prefix(name)}SEQ"]
        elif "ASEQ" in cols:
            candidates = ["USUBJID", "ASEQ"]
        else:
            candidates = ["USUBJID", "PARAMCD", "BASETYPE", "AVISIT", "ATPT", "VISITNUM"]
        return [c for c in candidates if c in cols]

    def record_keys(self, name: str, rows: np.ndarray) -> pd.Series:
        """Readable keys ('USUBJID=01-003, LBSEQ=12') of the records at 0-based positions ``rows``."""
        df = self.datasets[name]
        keys = self.key_variables(name)
        rows = np.asarray(rows, dtype=np.int64)
        if not keys or len(rows) == 0:
            return pd.Series([""] * len(rows), dtype="object")
        if not set(keys) <= set(df.columns):  # a rule that read some columns only: the keys are read now
            df = self.datasets.key_columns(name, keys)
        out = None
        for i, var in enumerate(keys):
            piece = f"{', ' if i else ''}{var}=" + as_text(df[var].iloc[rows]).reset_index(drop=True)
            out = piece if out is None else out + piece
        return out.astype("object")


def as_text(series: pd.Series) -> pd.Series:
    """Values as display text: whole numbers without '.0', missing as ''."""
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 1e15)
        text = np.where(whole, np.char.mod("%d", np.where(whole, values, 0).astype(np.int64)),
                        np.char.mod("%.10g", np.nan_to_num(values)))
        text = np.where(np.isnan(values), "", text)
        return pd.Series(text, index=series.index, dtype="object")
    return series.astype("object").where(series.notna(), "").astype(str)


def is_null(series: pd.Series) -> pd.Series:
    return series.isna()


def blank_to_na(df: pd.DataFrame, char_columns: list[str]) -> pd.DataFrame:
    """Blank text is SAS's missing value; make it NA so every rule tests nulls one way."""
    for col in char_columns:
        s = df[col].astype("str") if df[col].dtype == object else df[col]
        if len(s):
            s = _blank_as_null(s)
        df[col] = s
    return df


def _blank_as_null(s: pd.Series) -> pd.Series:
    """``s`` with text that is empty or only white space made null: pyarrow's kernels over the whole column
    when the text is pyarrow-backed (no Python string per value, a column without blanks not copied), else
    once per distinct value."""
    if isinstance(s.array, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        array = pa.array(s.array)
        blank = pc.or_(pc.equal(pc.binary_length(array), 0), pc.utf8_is_space(array))
        if not pc.any(blank).as_py():
            return s
        array = pc.if_else(blank, pa.scalar(None, array.type), array)
        return pd.Series(pd.arrays.ArrowStringArray(array, dtype=s.dtype), index=s.index, name=s.name, copy=False)
    codes, uniques = pd.factorize(s)
    flags = np.array([isinstance(u, str) and u.strip() == "" for u in uniques], dtype=bool)
    mask = np.zeros(len(s), dtype=bool)
    valid = codes >= 0
    mask[valid] = flags[codes[valid]]
    return s.mask(mask) if mask.any() else s


def read_xpt(path: Path, columns=None, layout=None, rows: tuple[int, int] | None = None,
             encoding: str | None = None) -> tuple[pd.DataFrame, DatasetMeta]:
    """One XPORT file (v5 or v8, UTF-8 else cp1252), its structure checked: a truncated or damaged
    file is a DataError (the CLI exits 2), never a partial dataset validated as if whole.
    ``columns``: only these variables (the metadata still describes them all only when None);
    ``rows``: only the records start..stop-1 (validate.ranges), decoded with ``encoding`` when given."""
    try:
        dataset = read_xport(path, encoding=encoding, columns=columns, layout=layout, rows=rows)
    except XportError as exc:
        raise DataError([Problem(exc.path, exc.message)], title="unreadable datasets") from None
    name = (dataset.name or path.stem).upper()
    dmeta = DatasetMeta(name=name, label=dataset.label, path=path, encoding=dataset.encoding)
    for order, var in enumerate(dataset.variables, start=1):
        dmeta.variables[var.name] = VariableMeta(var.name, var.label, var.type, var.length, _format(var.format), order)
    df = blank_to_na(dataset.data, [c for c, v in dmeta.variables.items() if v.type == "Char"])
    return df, dmeta


def xpt_meta(path: Path) -> tuple[DatasetMeta, object, int] | None:
    """The metadata of an XPORT file from its headers alone (structure checked), its record count and data
    size; None when a label is not ASCII (its encoding is told by the values: the file is read whole).
    The record count is given as the checked layout, which the reader then uses as it is."""
    try:
        layout = check_xport(path)
    except XportError as exc:
        raise DataError([Problem(exc.path, exc.message)], title="unreadable datasets") from None
    labels = [layout.dataset_label] + [v.label for v in layout.variables]
    if not all(label.isascii() for label in labels):
        return None
    name = (layout.dataset_name or path.stem).upper()
    dmeta = DatasetMeta(name=name, label=layout.dataset_label.decode("ascii"), path=path)
    for order, var in enumerate(layout.variables, start=1):
        dmeta.variables[var.name] = VariableMeta(var.name, var.label.decode("ascii"), var.type, var.length,
                                                 _format(var.format), order)
    return dmeta, layout, layout.observations * layout.record_length


def _xpt_reader(path: Path, dmeta: DatasetMeta, layout):
    def read(columns=None, rows=None, encoding=None) -> pd.DataFrame:
        df, meta = read_xpt(path, columns, layout, rows, encoding)
        if columns is None and rows is None:
            dmeta.encoding = meta.encoding
        df.attrs["encoding"] = meta.encoding
        return df

    return read


def _format(sas_format: str | None) -> str:
    """'DATE9.' -> 'DATE9', '8.2' -> '8.2', None -> '': the format as pyreadstat reported it."""
    if not sas_format:
        return ""
    return sas_format[:-1] if sas_format.endswith(".") else sas_format


def read_dataset_json(path: Path) -> tuple[pd.DataFrame, DatasetMeta]:
    """A Dataset-JSON 1.1 file: .json, .ndjson or compressed .dsjc (validate/datasetjson.py)."""
    from validate.datasetjson import read

    return read(path, DatasetMeta, VariableMeta, blank_to_na)


NAME_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


def is_known_dataset(name: str, define: DefineMeta | None) -> bool:
    """A name the standards know (DM, LBCH, SUPPAE, ADSL, RELREC...), a custom X/Y/Z domain, or one define.xml declares."""
    if define is not None and name in define.groups:
        return True
    if not NAME_PATTERN.match(name):
        return False
    return (name in SDTM_DOMAINS or (len(name) == 4 and name[:2] in SDTM_DOMAINS)
            or (name.startswith("SUPP") and 6 <= len(name) <= 8) or name.startswith("AD")
            or (len(name) == 2 and name[0] in "XYZ") or (name.startswith("AP") and name[2:] in SDTM_DOMAINS))


def _find_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    found = []
    for folder in dataset_folders(path):
        for file in sorted(folder.rglob("*")):
            if any(part in SKIPPED_FOLDERS for part in file.relative_to(folder).parts[:-1]):
                continue
            if file.is_file() and file.suffix.lower() in DATASET_SUFFIXES:
                found.append(file)
    return found


SPLIT_PART = re.compile(r"^([A-Z][A-Z0-9]*?)([1-9][0-9]*)$")


def split_part_of(file: Path, name: str) -> str | None:
    """The dataset a file of FDA's ``split`` folder is a part of (split/adlb2.xpt beside adlb.xpt: ADLB), when
    the whole dataset lies in the folder above; the whole is validated, the parts only compared with it."""
    match = SPLIT_PART.match(name)
    if file.parent.name.lower() != "split" or match is None:
        return None
    whole = match.group(1)
    return whole if (file.parent.parent / f"{whole.lower()}{file.suffix.lower()}").is_file() else None


def split_part_problems(parts: dict[str, list[tuple[Path, list[str], int]]],
                        wholes: dict[str, tuple[list[str], int]]) -> list[Problem]:
    """Parts of a split dataset must hold the whole's variables, in its order, and its records between them."""
    problems = []
    for whole, pieces in parts.items():
        variables, records = wholes[whole]
        for file, piece_variables, _ in pieces:
            if piece_variables != variables:
                problems.append(Problem(str(file), f"a part of {whole} whose variables differ from the whole's: "
                                                   f"{', '.join(piece_variables)} (the whole: {', '.join(variables)})"))
        total = sum(count for _, _, count in pieces)
        if total != records:
            problems.append(Problem(str(pieces[0][0].parent), f"the parts of {whole} hold {total} records between "
                                                              f"them, the whole {records}"))
    return problems


def is_run_output(folder: Path) -> bool:
    """A folder written by `cdisc run`: its manifest.json lists the outputs beside it."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(manifest, dict) and "manifest_version" in manifest and "outputs" in manifest


def dataset_folders(path: Path) -> list[Path]:
    """Where the datasets under ``path`` are. The output folder of a `cdisc run` (or one of its cuts) holds
    the same datasets twice (sdtm/ and adam/, and the submission package m5/) beside its manifest, cut
    report and cuts/: it is read through m5/ (with both define.xml files), else sdtm/ and adam/."""
    if path.is_dir() and is_run_output(path):
        if (path / "m5").is_dir():
            return [path / "m5"]
        return [folder for folder in (path / "sdtm", path / "adam") if folder.is_dir()]
    return [path]


def several_outputs_problem(path: Path) -> Problem | None:
    """A folder holding several run outputs (out/cuts/): each is its own package."""
    outputs = sorted(p.name for p in path.iterdir() if p.is_dir() and is_run_output(p))
    if not outputs:
        return None
    return Problem(str(path), f"holds {len(outputs)} separate output(s) of cdisc run ({', '.join(outputs)}): "
                              "validate each of them")


def _manifest_near(folder: Path, cache: dict) -> tuple[Path, dict] | None:
    """The manifest.json of a `cdisc run` output in ``folder`` or the nearest folder above it."""
    for candidate in [folder, *folder.parents]:
        if candidate not in cache:
            cache[candidate] = None
            if is_run_output(candidate):
                manifest = json.loads((candidate / "manifest.json").read_text("utf-8"))
                cache[candidate] = {entry.get("path"): entry for entry in manifest.get("outputs", [])
                                    if isinstance(entry, dict)}
        if cache[candidate] is not None:
            return candidate, cache[candidate]
    return None


def manifest_problems(files: list[Path]) -> list[Problem]:
    """Files that differ from the size and SHA-256 the run's manifest.json recorded for them.

    A v5 XPT file cut exactly at a record boundary that is a multiple of 80 bytes looks whole; where
    the toolkit wrote a manifest beside the data, the checksum tells.
    """
    cache: dict = {}
    problems: list[tuple[int, Problem]] = []
    hashed = []  # (position, file, expected hash, manifest folder)
    for position, file in enumerate(files):
        found = _manifest_near(file.resolve().parent, cache)
        if found is None:
            continue
        folder, outputs = found
        entry = outputs.get(file.resolve().relative_to(folder).as_posix())
        if entry is None:
            continue
        size = file.stat().st_size
        expected_size, expected_hash = entry.get("bytes"), entry.get("sha256")
        if expected_size is not None and size != expected_size:
            what = "truncated" if size < expected_size else "changed"
            problems.append((position, Problem(str(file), f"{what} since it was written: {size:,} bytes, the manifest "
                                                          f"({folder / 'manifest.json'}) records {expected_size:,} bytes")))
        elif expected_hash:
            hashed.append((position, file, expected_hash, folder))
    # hashlib lets go of the GIL while it hashes: two files at a time use both cores
    with ThreadPoolExecutor(max_workers=2) as pool:
        digests = list(pool.map(_sha256, [file for _, file, _, _ in hashed]))
    for (position, file, expected_hash, folder), digest in zip(hashed, digests):
        if digest != expected_hash:
            problems.append((position, Problem(str(file), f"changed since it was written: its SHA-256 differs from "
                                                          f"the one the manifest ({folder / 'manifest.json'}) records")))
    return [problem for _, problem in sorted(problems, key=lambda item: item[0])]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_package(path: str | Path, define: str | Path | None = None) -> Package:
    """Read every dataset under ``path`` (recursively) and the define.xml (given, or found under ``path``)."""
    path = Path(path)
    if not path.exists():
        raise DataError([Problem(str(path), "no such file or folder")])
    if is_core_data_folder(path):  # a CDISC CORE test-case data/ folder
        package = read_core_data_folder(path)
        if define:
            package.define = read_define(Path(define))
        return package.in_unit_order()
    several = several_outputs_problem(path) if path.is_dir() and not is_run_output(path) else None
    if several is not None:
        raise DataError([several])
    root = path if path.is_dir() else path.parent
    package = Package(root=root)
    if path.is_dir() and dataset_folders(path) != [path]:
        package.notes.append("an output folder of cdisc run: validated "
                             + " and ".join(f"{f.name}/" for f in dataset_folders(path)))
    define_files = [Path(define)] if define else (
        sorted(p for folder in dataset_folders(path) for p in folder.rglob("define.xml")
               if not any(part in SKIPPED_FOLDERS for part in p.relative_to(folder).parts[:-1]))
        if path.is_dir() else [])
    for file in define_files:
        if not file.exists():
            raise DataError([Problem(str(file), "define.xml not found")])
        meta = read_define(file)
        package.define = meta if package.define is None else package.define.merge(meta)
    files = _find_files(path)
    if not files:
        raise DataError([Problem(str(path), "no .xpt, .json, .ndjson or .dsjc dataset files found")])
    changed = manifest_problems(files + define_files)
    if changed:
        raise DataError(changed, title="changed or truncated files")
    sources: dict[str, Path] = {}
    problems = []
    parts: dict[str, list[tuple[Path, list[str], int]]] = {}
    package.datasets = LazyDatasets()
    for file in files:
        df, described = None, xpt_meta(file) if file.suffix.lower() == ".xpt" else None
        if described is not None:  # read when a rule needs it (cdisc validate holds one dataset at a time)
            meta, layout, size = described
        else:
            df, meta = read_xpt(file) if file.suffix.lower() == ".xpt" else read_dataset_json(file)
        name = meta.name
        whole = split_part_of(file, name) if described is not None else None
        if whole is not None:  # a copy of records of the whole, in pieces under 5 GB: not a dataset of its own
            parts.setdefault(whole, []).append((file, list(meta.variables), layout.observations))
            continue
        if not is_known_dataset(name, package.define):
            problems.append(Problem(str(file), f"unknown dataset {name!r}: not an SDTM domain, SUPP--, ADaM "
                                               "dataset or custom X/Y/Z domain, and not declared in define.xml"))
            continue
        if name in sources:
            previous = sources[name]
            if previous.suffix.lower() == file.suffix.lower():
                problems.append(Problem(str(file), f"dataset {name} is also in {previous}"))
                continue
            if file.suffix.lower() != ".xpt":  # same dataset in XPT and Dataset-JSON: check the XPT
                package.notes.append(f"{name}: {file.name} ignored, {previous.name} validated")
                continue
            package.notes.append(f"{name}: {previous.name} ignored, {file.name} validated")
        sources[name] = file
        if df is None:
            package.datasets.add(name, reader=_xpt_reader(file, meta, layout), columns=list(meta.variables),
                                 records=layout.observations, size=size, source=(file, layout))
        else:
            package.datasets.add(name, df)
        package.meta[name] = meta
    wholes = {whole: (list(package.meta[whole].variables), package.datasets.records(whole))
              for whole in parts if whole in package.meta}
    problems += split_part_problems({whole: pieces for whole, pieces in parts.items() if whole in wholes}, wholes)
    problems += [Problem(str(pieces[0][0].parent), f"parts of {whole}, which is not a dataset of the package")
                 for whole, pieces in parts.items() if whole not in wholes]
    for whole, pieces in parts.items():
        if whole in wholes:
            package.notes.append(f"{whole}: {', '.join('split/' + f.name for f, _, _ in pieces)} checked against "
                                 f"{sources[whole].name} (the same variables, its records between them); the whole "
                                 "dataset validated")
    if problems:
        raise DataError(problems, title="unreadable datasets")
    return package.in_unit_order()
