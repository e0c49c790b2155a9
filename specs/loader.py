"""Load a study's spec folder, check it against the JSON Schemas, and collect every error at once.

A study spec is a folder holding ``study.yaml`` (study, raw sources, trial design) and ``sdtm.yaml``
(domains, their variables and how each is mapped). Errors are reported as dbt does:
``specs/studies/x/sdtm.yaml: domains.LB.variables[4].map.source: 'LBORRES_X' is not a column of lab.csv``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import yaml

from specs.errors import Problem, SpecError, clip

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
    """A path as the user should read it: relative to the working folder when it can be. Links are not
    followed: out/sdtm is shown as out/sdtm, not as the version folder it points to."""
    absolute, here = Path(os.path.abspath(path)), Path(os.path.abspath(Path.cwd()))
    for candidate, base in ((absolute, here), (absolute, here.resolve()), (Path(path).resolve(), here.resolve())):
        try:
            return str(candidate.relative_to(base))
        except ValueError:
            continue
    return str(path)


# Anchors and aliases are YAML's way to repeat a block; a few are handy (adam.yaml names its baseline
# definitions once), many nested ones are a "billion laughs" that makes a small file expand to gigabytes.
MAX_ALIASES = 200
MAX_EXPANDED_NODES = 200_000


class YamlLimitError(yaml.composer.ComposerError):
    """A document refused for its aliases (not a syntax error)."""


class LimitedSafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses more than MAX_ALIASES aliases or a document that aliases expand to
    more than MAX_EXPANDED_NODES nodes."""

    def __init__(self, stream):
        super().__init__(stream)
        self.alias_count = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                event = self.peek_event()
                raise YamlLimitError(None, None, f"more than {MAX_ALIASES} aliases (*name)", event.start_mark)
        return super().compose_node(parent, index)

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None and self.alias_count:
            size = expanded_size(node)
            if size > MAX_EXPANDED_NODES:
                raise YamlLimitError(None, None, f"aliases (*name) expand the document to {size:,} nodes or more "
                                     f"(limit {MAX_EXPANDED_NODES:,})", node.start_mark)
        return node


def expanded_size(node, memo: dict | None = None) -> int:
    """Nodes of the document with every alias written out (computed on the graph, without expanding it)."""
    memo = {} if memo is None else memo
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a cycle (a recursive alias) counts once
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(expanded_size(k, memo) + expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[key] = min(size, 10 * MAX_EXPANDED_NODES)  # enough to refuse; keeps the integers small
    return memo[key]


def safe_load_yaml(handle) -> Any:
    """yaml.safe_load with limits on aliases (see LimitedSafeLoader): by libyaml's parser when PyYAML has it
    (the study's three spec files: 0.31 s in Python, 0.07 s in C), the same limits and marks; a document the C
    parser refuses is read again by the Python one, whose message (and mark) is PyYAML's own."""
    text = handle if isinstance(handle, str) else handle.read()
    if getattr(yaml, "CSafeLoader", None) is not None:
        try:
            return _c_safe_load(text)
        except YamlLimitError:
            raise
        except yaml.YAMLError:
            pass
    loader = LimitedSafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _c_safe_load(text: str) -> Any:
    """LimitedSafeLoader's document and limits by libyaml: the aliases counted on the parser's events (the
    mark of the one too many), the expanded size on the composed graph."""
    aliases = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlLimitError(None, None, f"more than {MAX_ALIASES} aliases (*name)", event.start_mark)
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if aliases:
            size = expanded_size(node)
            if size > MAX_EXPANDED_NODES:
                raise YamlLimitError(None, None, f"aliases (*name) expand the document to {size:,} nodes or more "
                                     f"(limit {MAX_EXPANDED_NODES:,})", node.start_mark)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def not_utf8_problem(path: Path) -> Problem:
    """Where a file that is not UTF-8 has its first byte that is not (the line, the byte)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        return Problem(display_path(path), "not UTF-8 text")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return Problem(f"{display_path(path)}:{line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file "
                                                         "as UTF-8")


def read_yaml(path: Path, problems: list[Problem]) -> Any:
    """The YAML document in path; None, with the reason appended to problems, when there is none."""
    where = display_path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            document = safe_load_yaml(handle)
    except FileNotFoundError:
        problems.append(Problem(where, "file not found"))
        return None
    except IsADirectoryError:
        problems.append(Problem(where, "is a folder, not a YAML file"))
        return None
    except UnicodeDecodeError:
        problems.append(not_utf8_problem(path))
        return None
    except OSError as exc:
        problems.append(Problem(where, f"cannot be read: {exc.strerror or exc}"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{where}:{mark.line + 1}" if mark else where
        what = "refused" if isinstance(exc, YamlLimitError) else "not valid YAML"
        problems.append(Problem(where, f"{what}: {getattr(exc, 'problem', None) or exc}"))
        return None
    if document is None:
        problems.append(Problem(where, "is empty"))
    return document


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


def confined_path(base: Path, name: str, base_label: str) -> tuple[Path | None, str | None]:
    """``base / name`` when it stays inside ``base``, else (None, why): a path a spec names may not be
    absolute, go up with '..', or reach a file outside ``base`` through a symbolic link (a spec must not
    make the toolkit read, or ship in a submission, a file of the machine it runs on)."""
    text = str(name)
    pure = PurePosixPath(text.replace("\\", "/"))
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", text) or text.startswith("~"):
        return None, f"'{clip(text)}' is an absolute path; paths are relative to the {base_label}"
    if ".." in pure.parts:
        return None, f"'{clip(text)}' goes up out of the {base_label} ('..')"
    path = Path(base) / Path(*pure.parts) if pure.parts else Path(base)
    try:
        inside = path.resolve().is_relative_to(Path(base).resolve())
    except (OSError, RuntimeError):  # a symbolic link loop
        inside = False
    if not inside:
        return None, f"'{clip(text)}' leads out of the {base_label} through a symbolic link"
    return path, None


PDF_MAGIC = b"%PDF-"
DEFAULT_ACRF = "acrf.pdf"


def is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(PDF_MAGIC)) == PDF_MAGIC
    except OSError:
        return False


def path_problems(spec: StudySpec) -> list[Problem]:
    """Every file a spec names stays in its folder: raw sources in the raw export folder (checked again
    against the actual folder when read), the annotated CRF in the spec folder, and a PDF is a PDF."""
    problems = []
    for name, source in spec.sources.items():
        for keys in (("path",), ("odm", "path")):
            value = source.get(keys[0]) if len(keys) == 1 else (source.get("odm") or {}).get("path")
            if value is None:
                continue
            _, why = confined_path(Path("."), value, "raw export folder")
            if why and "symbolic link" not in why:  # links are checked against the real raw folder
                problems.append(Problem(spec.where("study", "sources", name, *keys), why))
    name = spec.study.get("acrf", DEFAULT_ACRF)
    where = spec.where("study", "study", "acrf") if "acrf" in spec.study else \
        f"{display_path(spec.folder)}/{DEFAULT_ACRF}"  # the name in the folder, not where a link leads
    path, why = confined_path(spec.folder, name, "spec folder")
    if why:
        problems.append(Problem(where, why))
    elif not path.is_file():
        if "acrf" in spec.study:
            problems.append(Problem(where, f"'{clip(name)}' not found in the spec folder"))
    elif not is_pdf(path):
        problems.append(Problem(where, f"'{clip(name)}' is not a PDF file (it does not start with %PDF-)"))
    return problems


def annotated_crf_path(spec: StudySpec) -> Path | None:
    """The annotated CRF the spec ships with define.xml (study.acrf, default acrf.pdf in the spec folder),
    once path_problems has accepted it; None when there is none."""
    path, why = confined_path(spec.folder, spec.study.get("acrf", DEFAULT_ACRF), "spec folder")
    return path if why is None and path.is_file() and is_pdf(path) else None


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
    lookups: dict = field(default_factory=dict)  # name -> specs.lookups.LookupTable
    reviewers_guide: dict = field(default_factory=dict)  # explanations of known conformance findings (define.guides)
    plugins: dict = field(default_factory=dict)  # name -> the Algorithm of a study plugin (specs.plugins)

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
    from specs.todo import refuse_todos  # before the schema: a TODO stands where the schema wants a decision

    refuse_todos([(study_doc, display_path(study_path)), (sdtm_doc, display_path(sdtm_path))], format_path)
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
    from specs.lookups import read_lookups

    lookups, lookup_problems = read_lookups(folder, study_doc.get("lookups"), display_path(study_path), display_path)
    from specs.plugins import load_plugins
    from specs.vocabulary import use_study_algorithms

    plugins, plugin_problems = load_plugins(folder, study_doc.get("plugins"),
                                            lambda index: f"{display_path(study_path)}: plugins[{index}]")
    use_study_algorithms(plugins)  # this spec's own algorithm names, checked and run as the built-ins
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
        lookups=lookups,
        reviewers_guide=study_doc.get("reviewers_guide") or {},
        plugins=plugins,
    )
    from specs.semantics import check_spec  # the checks that need more than a schema

    problems = path_problems(spec) + lookup_problems + plugin_problems + check_spec(spec)
    if collect is not None:
        collect.extend(problems)
    elif problems:
        use_study_algorithms({})  # a spec that does not load leaves no names behind
        raise SpecError(problems)
    return spec
