"""Load what was written: a folder of XPT and/or Dataset-JSON files, plus define.xml if there is one.

The loader knows nothing of how the files were made. Character values that are empty or blank become
missing (SAS has no other null for text), numbers stay numbers, and each dataset keeps the attributes
it was written with (label, type, length, format, order) so the rules can check them.
"""
from __future__ import annotations

import re
from pathlib import Path

from specs.errors import DataError, Problem

from validate.datafolder import is_core_data_folder, read_core_data_folder
from validate.dataset_files import _xpt_reader, read_dataset_json, read_xpt, xpt_meta
from validate.define_xml import DefineMeta, read_define
from validate.lazy import LazyDatasets
from validate.package_model import DatasetMeta, Package, VariableMeta
from validate.run_outputs import dataset_folders, is_run_output, manifest_problems, several_outputs_problem
from validate.standards import SDTM_DOMAINS
from validate.values import as_text, blank_to_na

# the package's model and its values, once defined here, stay importable from here
__all__ = ["DatasetMeta", "LazyDatasets", "Package", "VariableMeta", "as_text", "blank_to_na", "dataset_folders",
           "is_known_dataset", "load_package", "split_part_of", "split_part_problems"]

DATASET_SUFFIXES = (".xpt", ".json", ".ndjson", ".dsjc")
SKIPPED_FOLDERS = {"validation"}  # our own report folder may sit inside the package


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
