"""The escape hatch: a study's own algorithms, in Python modules of its spec folder.

A study declares its modules in study.yaml (``plugins: [my_algorithms.py]``, paths relative to the spec
folder and confined to it like every spec path); nothing is loaded unless declared. A module registers
each algorithm with a decorator of this module; the function has the signature of the built-in ones:

    from specs.plugins import derive_algorithm, map_algorithm

    @map_algorithm(required=("source",), description="BMI category from {source}.")
    def derive_bmicat(raw, args, ctx):        # map-kind: the raw records, the spec's arguments, a MapContext
        ...                                   # returns one value per record (a Series on raw.index)

    @derive_algorithm(required=("dtc",), stage=45)
    def derive_week(data, args, ctx):         # derive-kind: the domain's mapped variables, a DeriveContext
        ...

sdtm.yaml then names it like a built-in (``map: {algorithm: derive_bmicat, source: BMI}``); its arguments
are checked as the built-ins' are, and define.xml names it in the variable's method. A name a built-in
already has, a name two modules give, a module that does not import, or one that registers nothing is a
spec error naming the study.yaml path. The example studies need none: the built-in vocabulary first.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path

from specs.errors import Problem, clip
from specs.vocabulary import ALGORITHMS, DERIVE, MAP, Algorithm

MARK = "__cdisc_algorithm__"
ORIGINS = ("Collected", "Assigned", "Derived")
DEFAULT_STAGE = 45  # derive-kind: after study days and baseline flags (40), before sequence numbers (50)


def algorithm(kind: str, required=(), optional=(), origin: str = "Derived", description: str | None = None,
              stage: int = DEFAULT_STAGE, defaults: dict | None = None):
    """Register the decorated function as a study algorithm of ``kind`` ('map' or 'derive')."""
    def mark(function):
        setattr(function, MARK, {"kind": kind, "required": tuple(required), "optional": tuple(optional),
                                 "origin": origin, "description": description, "stage": stage,
                                 "defaults": dict(defaults or {})})
        return function
    return mark


def map_algorithm(required=(), optional=(), origin: str = "Derived", description: str | None = None,
                  defaults: dict | None = None):
    """A map-kind study algorithm: ``function(raw, args, ctx)`` with the raw records."""
    return algorithm(MAP, required, optional, origin, description, 0, defaults)


def derive_algorithm(required=(), optional=(), origin: str = "Derived", description: str | None = None,
                     stage: int = DEFAULT_STAGE, defaults: dict | None = None):
    """A derive-kind study algorithm: ``function(data, args, ctx)`` with the domain's mapped variables."""
    return algorithm(DERIVE, required, optional, origin, description, stage, defaults)


def _import(path: Path):
    """The module at path, under a name of its own (two studies' my_algorithms.py do not meet)."""
    name = "cdisc_study_plugin_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _where_raised(exc: BaseException, path: Path) -> str:
    """' (line N)' of the plugin file where the import failed, when the traceback reaches it."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path.resolve()]
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" (line {exc.lineno})"
    return f" (line {frames[-1].lineno})" if frames else ""


def _declared(function, meta: dict, shown: str, where: str) -> tuple[Algorithm | None, list[Problem]]:
    name = function.__name__
    problems = []
    if meta["kind"] not in (MAP, DERIVE):
        problems.append(Problem(where, f"{name} in {shown}: kind '{meta['kind']}' is not 'map' or 'derive'"))
    if meta["origin"] not in ORIGINS:
        problems.append(Problem(where, f"{name} in {shown}: origin '{meta['origin']}' is not one of "
                                       f"{', '.join(ORIGINS)}"))
    arguments = [*meta["required"], *meta["optional"]]
    if not all(isinstance(a, str) and a.isidentifier() for a in arguments) or len(set(arguments)) < len(arguments):
        problems.append(Problem(where, f"{name} in {shown}: its arguments must be distinct names"))
    if "algorithm" in arguments:
        problems.append(Problem(where, f"{name} in {shown}: 'algorithm' is not an argument name"))
    try:
        inspect.signature(function).bind(None, None, None)
    except (TypeError, ValueError):
        problems.append(Problem(where, f"{name} in {shown}: takes (records, args, ctx) as the built-in "
                                       f"algorithms do"))
    if problems:
        return None, problems
    first_line = (inspect.getdoc(function) or "").strip().splitlines()
    text = meta["description"] or (first_line[0] if first_line else f"Derived by the study algorithm {name}.")
    description = f"{text} (study algorithm {name}, {shown})"
    return Algorithm(name, meta["kind"], meta["required"], meta["optional"], meta["origin"], description,
                     meta["stage"] if meta["kind"] == DERIVE else 0, meta["defaults"], function=function,
                     plugin=shown), []


def load_plugins(folder: Path, names, where_of) -> tuple[dict[str, Algorithm], list[Problem]]:
    """The algorithms the declared modules register (name -> Algorithm) and the problems found.

    ``where_of(index)`` is the message location of ``plugins[index]`` in study.yaml.
    """
    from specs.loader import confined_path

    found: dict[str, Algorithm] = {}
    problems: list[Problem] = []
    for index, name in enumerate(names or []):
        where = where_of(index)
        path, why = confined_path(folder, name, "spec folder")
        if why:
            problems.append(Problem(where, why))
            continue
        shown = str(name)
        if path.suffix != ".py":
            problems.append(Problem(where, f"'{clip(shown)}' is not a Python module (.py)"))
            continue
        if not path.is_file():
            problems.append(Problem(where, f"'{clip(shown)}' not found in the spec folder"))
            continue
        try:
            module = _import(path)
        except Exception as exc:  # any failure of the study's own code is the spec's error, located
            problems.append(Problem(where, f"'{clip(shown)}' cannot be imported{_where_raised(exc, path)}: "
                                           f"{type(exc).__name__}: {clip(exc)}"))
            continue
        registered = [f for f in vars(module).values() if callable(f) and isinstance(getattr(f, MARK, None), dict)
                      and getattr(f, "__module__", None) == module.__name__]
        if not registered:
            problems.append(Problem(where, f"'{clip(shown)}' registers no algorithm (decorate its functions with "
                                           f"specs.plugins.map_algorithm or derive_algorithm)"))
        for function in registered:
            name_of = function.__name__
            if ALGORITHMS.builtin(name_of):
                problems.append(Problem(where, f"{name_of} in {shown} is the name of a built-in algorithm; give "
                                               f"the study's own a name of its own"))
                continue
            if name_of in found:
                problems.append(Problem(where, f"{name_of} in {shown} is also registered by {found[name_of].plugin}"))
                continue
            declared, why_not = _declared(function, getattr(function, MARK), shown, where)
            problems += why_not
            if declared is not None:
                found[name_of] = declared
    return found, problems
