"""The units of a large package read from files, checked in two processes: the machine's second core.

`cdisc validate` checks a package read from files one unit at a time (registry.unit_results). When the
package is large, the units are shared out by size between this process and one worker process (a fresh
interpreter, ``python -m validate.parallel``), each holding one unit of its share at a time. The worker
gets the package's metadata and where each file is (not its data), runs the same rules on its units and
sends back, for each unit, the findings, outcomes and notes, plus what the PREPARE work cached for the
rules across datasets. The caller merges both shares in package order: the findings are those of one
pass over the units. If the worker fails for any reason (killed, out of memory, an unreadable file),
its units are checked here after this process's own, so what is reported never depends on it.
"""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from dataclasses import replace

PARALLEL_BYTES = 96 << 20  # a package smaller than this (records in its files) is checked in one process
STARTUP_BYTES = 48 << 20  # the worker starts later (interpreter, imports): counted as this much data
PROCESSES_VARIABLE = "CDISC_VALIDATE_PROCESSES"  # "1": never a second process


def plan(package, units: list[list[str]], threshold: int | None = None) -> tuple[list[int], list[int]] | None:
    """(units checked here, units for the worker) by position, or None to check them all here: the
    largest first, each to the process with less data so far (the worker counted as starting later),
    a unit of more than half the largest one's size here."""
    from validate.lazy import LazyDatasets

    datasets = package.datasets
    if not isinstance(datasets, LazyDatasets) or not datasets.shareable() or len(units) < 2:
        return None
    if os.environ.get(PROCESSES_VARIABLE, "").strip() == "1" or (os.cpu_count() or 1) < 2:
        return None
    sizes = [sum(map(datasets.size, unit)) for unit in units]
    if sum(sizes) < (PARALLEL_BYTES if threshold is None else threshold):
        return None
    # the worker takes no unit of more than half the largest: two large units never in memory at once
    # (the LB of SDTM and the ADLB of ADaM in one package), the pair holding at most 1.5 times the largest
    cap = max(sizes) // 2
    load, shares = [0, STARTUP_BYTES], ([], [])
    for position in sorted(range(len(units)), key=lambda i: -sizes[i]):
        side = 0 if load[0] <= load[1] or sizes[position] > cap else 1
        shares[side].append(position)
        load[side] += sizes[position]
    if not shares[1]:
        return None
    return sorted(shares[0]), sorted(shares[1])


def run_shared(package, context, units: list, shares: tuple, local: list, works: list) -> list:
    """registry.unit_results over every unit, ``shares[1]`` checked by a worker process meanwhile."""
    from validate.registry import unit_results

    mine, theirs = shares
    worker = _Worker(package, context, [units[i] for i in theirs], local, works)
    try:
        own = unit_results(package, context, [units[i] for i in mine], local, works)
    except Exception:
        # what one pass would report first (an unreadable file may be in either share): check them all here
        worker.stop()
        return unit_results(package, context, units, local, works)
    except BaseException:
        worker.stop()
        raise
    other = worker.result()
    if other is None:  # the worker did not finish: its units are checked here
        other = unit_results(package, context, [units[i] for i in theirs], local, works)
    else:
        other, cache, encodings = other
        _merge_cache(context.cache, cache)
        for name, encoding in encodings.items():
            package.meta[name].encoding = encoding
    merged = dict(zip(mine, own)) | dict(zip(theirs, other))
    return [merged[i] for i in range(len(units))]


def _merge_cache(cache: dict, found: dict) -> None:
    for key, value in found.items():
        if key not in cache:
            cache[key] = value
        elif isinstance(value, set) and isinstance(cache[key], set):  # gathered over units (CT not checked)
            cache[key] |= value


class _Worker:
    """The worker process, given its job on stdin; its answer is read from stdout once this process is done."""

    def __init__(self, package, context, units: list, local: list, works: list):
        datasets = package.datasets
        job = {"package": replace(package, datasets=None), "units": units,
               "sources": {name: (datasets.sources[name], datasets.columns(name), datasets.records(name),
                                  datasets.size(name)) for name in datasets},
               "ct": context.ct, "versions": context.versions, "rules": [r.id for r in local],
               "works": [f"{work.__module__}.{work.__qualname__}" for work in works]}
        self.process = None
        try:
            payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
            self.process = subprocess.Popen([sys.executable, "-m", "validate.parallel"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE)
            self.process.stdin.write(payload)
            self.process.stdin.close()
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            self.stop()  # no worker: result() says so and the units are checked here

    def result(self):
        if self.process is None:
            return None
        try:
            data = self.process.stdout.read()
            status = self.process.wait()
        except OSError:
            self.stop()
            return None
        if status != 0 or not data:
            return None
        try:
            answer = pickle.loads(data)
        except Exception:
            return None
        return answer if isinstance(answer, tuple) and len(answer) == 3 else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


def _work() -> int:
    """The worker: read the job, check its units, write (per unit results, cache, encodings) to stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it (Ctrl-C reaches the whole group)
    answer_to = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a rule prints goes to stderr, never into the answer
    job = pickle.load(sys.stdin.buffer)

    import validate.rules  # noqa: F401 - registers the rules
    from validate.lazy import LazyDatasets
    from validate.package import _xpt_reader
    from validate.registry import PREPARE, RULES, Context, unit_results

    package = job["package"]
    package.datasets = LazyDatasets()
    for name, (source, columns, records, size) in job["sources"].items():
        file, layout = source
        package.datasets.add(name, reader=_xpt_reader(file, package.meta[name], layout), columns=columns,
                             records=records, size=size, source=source)
    context = Context(package, job["ct"], versions=job["versions"])
    local = [RULES[rule_id] for rule_id in job["rules"]]
    works = [work for _, work in PREPARE if f"{work.__module__}.{work.__qualname__}" in set(job["works"])]
    try:
        results = unit_results(package, context, job["units"], local, works)
    except Exception:  # an unreadable file: the parent checks these units itself and reports it
        return 1
    encodings = {name: package.meta[name].encoding for name in package.datasets if package.datasets.reads.get(name)}
    try:
        pickle.dump((results, context.cache, encodings), answer_to, protocol=pickle.HIGHEST_PROTOCOL)
        answer_to.close()
    except BrokenPipeError:  # the parent is gone
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_work())
