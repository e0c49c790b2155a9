"""Load a study's spec folder, check it against the JSON Schemas, and collect every error at once.

A study spec is a folder holding ``study.yaml`` (study, raw sources, trial design) and ``sdtm.yaml``
(domains, their variables and how each is mapped). Errors are reported as dbt does:
``specs/studies/x/sdtm.yaml: domains.LB.variables[4].map.source: 'LBORRES_X' is not a column of lab.csv``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from specs.errors import Problem, SpecError

BUILTIN_STUDY = "nct05153070"


def builtin_spec_dir(study: str = BUILTIN_STUDY) -> Path:
    return Path(str(resources.files("specs") / "studies" / study))


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads((resources.files("specs") / "schemas" / f"{name}.schema.json").read_text("utf-8"))


def format_path(parts) -> str:
    """['domains', 'LB', 'variables', 4, 'map'] -> 'domains.LB.variables[4].map'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def display_path(path: Path) -> str:
    """A path as the user should read it: relative to the working folder when it can be."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        problems.append(Problem(display_path(path), "file not found"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{display_path(path)}:{mark.line + 1}" if mark else display_path(path)
        problems.append(Problem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
    return None


def schema_problems(document: Any, schema_name: str, path: Path) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        location = format_path(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties":
            message = message.replace("Additional properties are not allowed", "unknown key(s)")
        where = f"{display_path(path)}: {location}" if location else display_path(path)
        problems.append(Problem(where, message))
    return problems


@dataclass
class StudySpec:
    """The parsed, schema-checked spec of one study."""

    folder: Path
    study: dict
    sources: dict
    design: dict
    domains: dict
    files: dict[str, Path] = field(default_factory=dict)
    study_cut: dict = field(default_factory=dict)
    version: int = 1  # the spec format version the files are written in (specs.migrate)
    notes: list[str] = field(default_factory=list)  # what to change to write the current version

    @property
    def studyid(self) -> str:
        return self.study["studyid"]

    def where(self, file_key: str, *path) -> str:
        """'specs/.../sdtm.yaml: domains.LB.variables[4]' for messages."""
        return f"{display_path(self.files[file_key])}: {format_path(path)}"

    def digest(self) -> str:
        """SHA-256 over the spec files, for the cut manifest."""
        sha = hashlib.sha256()
        for key in sorted(self.files):
            sha.update(self.files[key].read_bytes())
        return sha.hexdigest()


def load_study_spec(folder: str | Path | None = None, collect: list[Problem] | None = None) -> StudySpec:
    """Read and check ``study.yaml`` and ``sdtm.yaml``; raise one SpecError listing every problem.

    Schema errors always raise (the structure is unusable). With ``collect``, the semantic problems are
    appended to it instead, so that the caller can add the checks against the raw files and report all.
    """
    folder = Path(folder) if folder else builtin_spec_dir()
    problems: list[Problem] = []
    if not folder.is_dir():
        raise SpecError([Problem(display_path(folder), "spec folder not found")])
    study_path, sdtm_path = folder / "study.yaml", folder / "sdtm.yaml"
    study_doc = read_yaml(study_path, problems)
    sdtm_doc = read_yaml(sdtm_path, problems)
    if study_doc is not None:
        problems += schema_problems(study_doc, "study", study_path)
    if sdtm_doc is not None:
        problems += schema_problems(sdtm_doc, "sdtm", sdtm_path)
    if problems:
        raise SpecError(problems)
    from specs.migrate import migrate

    notes, problems = migrate(study_doc, sdtm_doc, display_path(study_path),
                              lambda path: format_path(path))
    if problems:
        raise SpecError(problems)
    spec = StudySpec(
        folder=folder,
        study=study_doc["study"],
        sources=study_doc["sources"],
        design=study_doc.get("design", {}),
        domains=sdtm_doc["domains"],
        files={"study": study_path, "sdtm": sdtm_path},
        study_cut=study_doc.get("cut", {}),
        version=study_doc.get("version", 1),
        notes=notes,
    )
    from specs.semantics import check_spec  # the checks that need more than a schema

    problems = check_spec(spec)
    if collect is not None:
        collect.extend(problems)
    elif problems:
        raise SpecError(problems)
    return spec
