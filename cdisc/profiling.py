"""A profile of one run across its processes, for the benchmark: with CDISC_PROFILE naming a folder, the
command's own process (its main thread) and every chunk task in the worker processes (which inherit the
variable) each write a cProfile file there; ``top`` merges them into one table of where the CPU went.

The validator's second process (``validate.parallel``) is not profiled: its share of the rules is the same
code the parent's share runs, which is.
"""
from __future__ import annotations

import cProfile
import io
import itertools
import os
import pstats
from contextlib import contextmanager
from functools import partial
from pathlib import Path

ENV = "CDISC_PROFILE"
_numbers = itertools.count()


def profile_folder() -> Path | None:
    named = os.environ.get(ENV)
    return Path(named) if named else None


@contextmanager
def profiled(name: str):
    """The block profiled into the profile folder, when there is one; else nothing."""
    folder = profile_folder()
    if folder is None:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        folder.mkdir(parents=True, exist_ok=True)
        profile.dump_stats(folder / f"{name}-{os.getpid()}-{next(_numbers)}.prof")


def _profiled_task(function, task):
    with profiled(function.__name__):
        return function(task)


def in_workers(function):
    """``function`` as handed to the worker processes: profiled there when the run is."""
    return partial(_profiled_task, function) if profile_folder() is not None else function


def top(folder: Path, lines: int = 30) -> str:
    """The profiles in ``folder`` merged: the functions that took the most CPU themselves (tottime), with
    the time spent in them and below (cumtime), and the CPU by top-level package of ours or library."""
    files = sorted(Path(folder).glob("*.prof"))
    if not files:
        return "no profile was written"
    stats = pstats.Stats(str(files[0]), stream=io.StringIO())
    for path in files[1:]:
        stats.add(str(path))
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        by_package[_package(filename)] = by_package.get(_package(filename), 0.0) + tottime
    total = sum(by_package.values())
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(lines)
    shares = ", ".join(f"{name} {seconds:.1f} s ({seconds / total:.0%})" for name, seconds in
                       sorted(by_package.items(), key=lambda item: -item[1])[:12]) if total else ""
    table = "\n".join(line for line in out.getvalue().splitlines() if line.strip() and
                      not line.lstrip().startswith(("Ordered by", "List reduced")) and not line.endswith(".prof"))
    return f"{len(files)} profile(s), {total:.1f} CPU-s profiled; by package: {shares}\n{table}"


def _package(filename: str) -> str:
    """The package a profiled function's file belongs to: a library by its name under site-packages, ours by
    its top folder, the interpreter's built-ins and standard library as 'python'."""
    if filename.startswith(("~", "<")):
        return "python"
    parts = Path(filename).parts
    if "site-packages" in parts[:-1]:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    try:
        return Path(filename).resolve().relative_to(Path(__file__).resolve().parents[1]).parts[0]
    except (ValueError, OSError, IndexError):
        return "python"
