"""A large dataset checked in ranges of whole subjects, so that memory stays bounded whatever its size.

`cdisc validate` holds one unit of a package at a time (registry.unit_results). A dataset whose records
take more than ``RANGE_BYTES`` in its file (LB, ADLB at 100,000 subjects) is not held whole: it is read
range by range from its memory-mapped file, each range ending where a subject's records end, and each
per-dataset rule runs as its ``by_range`` says (registry.Rule):

- "records": on each range (a rule on records, or on the records of one subject); its findings carry the
  record numbers of the whole dataset and come in record order, as one run on the whole dataset gives them;
- "variables": on the first range (names and metadata: every range has them all);
- "merge": on each range, the findings put together by the rule's ``merge``;
- "dataset": once, on the whole dataset's few columns it ``reads`` (with USUBJID, which places the cuts);
- "summary": once after the ranges, from what they cached (the longest value of each column).

The PREPARE work of the rules across datasets runs on each range too; what it caches of the dataset
(terms outside their codelist, VISITNUM/VISIT pairs, longest values) is put together over the ranges.
A dataset is read whole as before when it is small, when it has no USUBJID or is one that other rules look
up by name (DM, ADSL, trial design, SV, SE, SUPP--), when a rule of the run does not say how it runs
by range, or when its subjects' records are not together (not sorted by subject: a note says so).
"""
from __future__ import annotations

import os
import time
from collections import ChainMap
from dataclasses import replace

import numpy as np
import pandas as pd

# records per range: as many as hold this many bytes in the file. In memory a range takes about as much
# (numbers as float64, text as Arrow strings without their padding, plus 8-byte offsets), twice while the
# next range is read beside the rules of this one.
RANGE_BYTES = 192 << 20
RANGE_RECORDS_VARIABLE = "CDISC_VALIDATE_RANGE_RECORDS"  # records per range, for every dataset that can be cut
LOOKED_UP = {"DM", "ADSL", "TS", "TA", "TE", "TV", "TI", "TD", "TM", "SV", "SE", "RELREC", "CO"}
MODES = ("records", "variables", "merge", "dataset", "summary")


class Reencode(Exception):
    """A range's text is not UTF-8 although an earlier range's non-ASCII text was: the whole file reads as
    cp1252, so its ranges are read again with it."""


def range_records(package, unit: list[str]) -> int | None:
    """Records per range for the unit, or None when it is read whole."""
    if len(unit) != 1:  # the parts of a split domain are checked together (--SEQ across them)
        return None
    name = unit[0]
    datasets = package.datasets
    rangeable = getattr(datasets, "rangeable", None)
    if rangeable is None or not rangeable(name) or name in LOOKED_UP or package.domain(name) == "SUPPQUAL":
        return None
    if "USUBJID" not in package.columns(name):
        return None
    records = package.records(name)
    forced = os.environ.get(RANGE_RECORDS_VARIABLE, "").strip()
    if forced:
        per = max(1, int(forced))
    else:
        size = datasets.size(name)
        if size <= RANGE_BYTES:
            return None
        per = max(1, records * RANGE_BYTES // size)
    return per if records > per else None


def mode(r, package, name: str) -> str | None:
    chosen = r.by_range(package, name) if callable(r.by_range) else r.by_range
    return chosen if chosen in MODES else None


def subject_ranges(subjects: pd.Series, per: int) -> list[tuple[int, int]] | None:
    """(start, stop) of ranges of about ``per`` records that never cut a subject's records (a range holds a
    subject whole even when it has more), or None when a subject's records are not together."""
    n = len(subjects)
    codes = pd.factorize(subjects, use_na_sentinel=False)[0]  # numbered in order of first appearance
    if n and np.any(np.diff(codes) < 0):  # a subject seen again after another
        return None
    starts = np.flatnonzero(np.diff(codes)) + 1  # where a subject's records begin
    ranges, start = [], 0
    while start < n:
        at = np.searchsorted(starts, start + per)  # the first subject starting at or after start + per
        stop = int(starts[at]) if at < len(starts) else n
        ranges.append((start, stop))
        start = stop
    return ranges


def _reads(r, package, name: str) -> list[str]:
    wanted = r.reads(package, name) if callable(r.reads) else r.reads
    prefix = package.prefix(name)
    return [prefix + c[2:] if c.startswith("--") else c for c in wanted]


def _window(package, name: str, frame: pd.DataFrame):
    from validate.lazy import Focus, Window

    return replace(package, datasets=Window(package.datasets, name, frame), meta=Focus(package.meta, [name]))


def _shifted(found, name: str, start: int):
    """Findings of a range with the record numbers of the whole dataset."""
    if found is None or not len(found) or not start or "row" not in found.columns:
        return found
    found = found.copy()
    ours = (found["dataset"] == name).to_numpy(dtype=bool) if "dataset" in found.columns else np.ones(len(found), bool)
    rows = found["row"]
    if pd.api.types.is_integer_dtype(rows) and ours.all():
        found["row"] = rows + start
    else:
        present = (rows.notna().to_numpy(dtype=bool)) & ours
        if present.any():
            values = rows.astype(object).to_numpy().copy()
            values[present] = pd.to_numeric(rows[present]).astype("int64").to_numpy() + start
            found["row"] = values
    return found


class _Gathered:
    """What the PREPARE work cached for each range, put together for the whole dataset."""

    def __init__(self, name: str):
        self.name = name
        self.terms: list | None = None  # per variable, the ranges' findings
        self.pairs: list = []
        self.visits = False  # the VISITNUM/VISIT pairs were gathered (CV0301 runs)
        self.longest: dict = {}
        self.exposure: list = []  # EX: each range's first and last exposure date per subject (CV0306)

    def add(self, local: dict, cache: dict, start: int) -> None:
        for key, value in local.items():
            if key == ("terms", self.name):
                shifted = [_shifted(found, self.name, start) for found in value]
                if self.terms is None:
                    self.terms = [[found] for found in shifted]
                else:
                    for parts, found in zip(self.terms, shifted):
                        parts.append(found)
            elif key == ("visit_pairs", self.name):
                self.visits = True
                if value is not None:
                    self.pairs.append(value)
            elif key == "ex_bounds" and self.name == "EX":
                self.exposure.append(value)
            elif isinstance(key, tuple) and key[:2] == ("longest_bytes", self.name):
                self.longest[key] = max(self.longest.get(key, 0), value)
            elif isinstance(value, set) and isinstance(cache.get(key), set):
                cache[key] |= value
            elif not _mentions(key, self.name) and key not in cache:
                cache[key] = value  # of other datasets, read whole (DM's reference days...)

    def into(self, cache: dict) -> None:
        from validate.registry import concat

        if self.terms is not None:
            cache[("terms", self.name)] = [_terms_concat(parts, concat) for parts in self.terms]
        if self.visits:
            pairs = None
            if self.pairs:
                both = pd.concat(self.pairs, ignore_index=True)
                pairs = both.groupby(["VISITNUM", "VISIT"], sort=False)["n"].sum().rename("n").reset_index()
            cache[("visit_pairs", self.name)] = pairs
        cache.update(self.longest)
        if self.exposure:
            if any(bounds is None for bounds in self.exposure):  # EX without the columns: in every range
                cache["ex_bounds"] = None
            else:  # a subject's records are in one range: its first and last date are those of that range
                first = pd.concat([bounds[0] for bounds in self.exposure]).groupby(level=0).min()
                last = pd.concat([bounds[1] for bounds in self.exposure]).groupby(level=0).max()
                cache["ex_bounds"] = (first, last)


def _terms_concat(parts: list, concat) -> pd.DataFrame:
    found = concat(parts)
    if "extensible" not in found.columns and parts:  # every range empty: keep the frame's columns
        found = parts[0]
    return found


def _mentions(key, name: str) -> bool:
    return key == name or (isinstance(key, tuple) and any(_mentions(part, name) for part in key))


def _non_ascii(frame: pd.DataFrame) -> bool:
    from validate.rules.common import arrow_text, not_ascii

    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_string_dtype(series.dtype) and (arrow_text(series) is not None or series.dtype == object):
            if not_ascii(series.dropna() if series.dtype == object else series).any():
                return True
    return False


def ranged_results(package, context, name: str, per: int, local: list, works: list, decided: set,
                   executor) -> tuple[dict, dict] | None:
    """(rule id -> (findings, outcome, seconds), notes) of the unit [name] checked in ranges, as
    registry.unit_results gives them for the unit read whole; None when it must be read whole."""
    modes = {r.id: mode(r, package, name) for r in local}
    if any(m is None for m in modes.values()):
        return None
    try:
        return _ranged(package, context, name, per, local, works, decided, executor, modes, None)
    except Reencode:
        return _ranged(package, context, name, per, local, works, decided, executor, modes, "cp1252")


def _run_one(r, view, results: dict, decided: set, found: dict, blocks: dict | None = None) -> None:
    """Run rule ``r`` on ``view``; ``blocks``: keep which fail() call gave each finding (rule id -> list)."""
    from validate import registry
    from validate.registry import NotChecked, _run

    started = time.perf_counter()
    registry.FAIL_LOG = [] if blocks is not None else None
    try:
        result, problem = _run(r, view)
        log = registry.FAIL_LOG
    finally:
        registry.FAIL_LOG = None
    if blocks is not None and problem is None:
        calls = np.repeat(np.arange(len(log or [])), log or [])
        if len(calls) != (0 if result is None else len(result)):
            result, problem = _run(_unordered(r), view)
        else:
            blocks.setdefault(r.id, []).append(calls)
    spent = time.perf_counter() - started
    _, previous, seconds = results.get(r.id, (None, None, 0.0))
    results[r.id] = (None, problem, seconds + spent)
    if problem is not None:
        decided.add(r.id)
        if not isinstance(problem, NotChecked):
            found[r.id] = [result]  # the finding that says it failed
        return
    found.setdefault(r.id, []).append(result)


def _unordered(r):
    """A rule whose findings on a range are not those of its fail() calls one after the other: they cannot be
    put in the order of the whole dataset, which is said as the rule's failure (a test keeps every rule off it)."""
    def func(_context):
        raise RuntimeError(f"its findings on a range are not those of its fail() calls in turn, so cannot be "
                           f"ordered as on the whole dataset (validate.ranges)")

    return replace(r, func=func)


def _in_order(frames: list, calls: list) -> pd.DataFrame:
    """The ranges' findings of a rule in the order of the whole dataset: by fail() call (a variable, a pair of
    variables...), then by record, as one run over the whole dataset gives them."""
    from validate.registry import concat

    table = concat(frames)
    if not len(table):
        return table
    order = np.argsort(np.concatenate(calls), kind="stable")  # within one call: range by range, record by record
    return table.iloc[order].reset_index(drop=True)


def _ranged(package, context, name, per, local, works, decided, executor, modes, encoding):
    from validate.registry import Context, NotChecked, concat

    datasets = package.datasets
    # the datasets the rules look up whole by name (DM, SV, SE...) stay once read, not read again for each range
    datasets.keep([n for n in datasets if n in LOOKED_UP])
    decided_before = set(decided)
    notes: dict = {}
    results: dict = {}
    found: dict = {}
    by_mode = {m: [r for r in local if modes[r.id] == m and r.id not in decided] for m in MODES}
    # the whole dataset's few columns: USUBJID for the cuts, and what the "dataset" rules read
    wanted = {"USUBJID"} | {c for r in by_mode["dataset"] for c in _reads(r, package, name)}
    text = _Text(encoding)
    compact = _compact(datasets, name, wanted, package.records(name), per, text)
    ranges = subject_ranges(compact["USUBJID"], per)
    if ranges is None:
        context.cache.setdefault("range notes", set()).add(
            f"{name}: its subjects' records are not together (USUBJID not sorted): validated whole")
        return None
    view = Context(_window(package, name, compact), context.ct, context.cache, context.versions, notes)
    for r in by_mode["dataset"]:
        _run_one(r, view, results, decided, found)
    del view, compact
    gathered = _Gathered(name)
    blocks: dict = {}  # rule id -> for each range, the fail() call of each finding
    ahead = executor.submit(datasets.read_range, name, *ranges[0], None, encoding)
    for position, (start, stop) in enumerate(ranges):
        frame = ahead.result()
        try:
            text.check(frame)
        except Reencode:
            decided.clear()
            decided.update(decided_before)
            raise
        # the next range is read meanwhile (with the encoding known so far), on the other core
        ahead = (executor.submit(datasets.read_range, name, *ranges[position + 1], None, text.encoding)
                 if position + 1 < len(ranges) else None)
        local_cache: dict = {}
        view = Context(_window(package, name, frame), context.ct, ChainMap(local_cache, context.cache),
                       context.versions, notes)
        for r in by_mode["records"] + by_mode["merge"] + (by_mode["variables"] if position == 0 else []):
            if r.id in decided:
                continue
            _run_one(r, view, results, decided, found, blocks if modes[r.id] == "records" else None)
            if results[r.id][1] is None:
                found[r.id][-1] = _shifted(found[r.id][-1], name, start)
        for work in works:
            try:
                work(view)
            except Exception:  # the rule itself runs the work again and reports what goes wrong
                pass
        gathered.add(local_cache, context.cache, start)
        del view, frame, local_cache
        _release()
    gathered.into(context.cache)
    package.meta[name].encoding = text.encoding or "utf-8"
    datasets.reads[name] = datasets.reads.get(name, 0) + 1  # read once, range by range
    view = Context(_window(package, name, datasets.read_range(name, 0, 0)), context.ct, context.cache,
                   context.versions, notes)
    for r in by_mode["summary"]:
        _run_one(r, view, results, decided, found)
    out = {}
    for r in local:
        if r.id not in results:
            continue
        _, problem, seconds = results[r.id]
        frames = [f for f in found.get(r.id, []) if f is not None]
        if isinstance(problem, NotChecked) or not frames:
            result = None
        elif problem is not None:  # failed: the finding that says so
            result = frames[0]
        elif modes[r.id] == "merge":
            result = r.merge(frames)
        elif modes[r.id] == "records":
            result = _in_order(frames, blocks.get(r.id, []))
        else:
            result = concat(frames)
        out[r.id] = (result, problem, seconds)
    context.cache.setdefault("range notes", set()).add(
        f"{name}: {package.records(name):,} records validated in {len(ranges)} range{'s' * (len(ranges) != 1)} of "
        "whole subjects")
    return out, notes


def _compact(datasets, name: str, columns: set, records: int, per: int, text: "_Text") -> pd.DataFrame:
    """The whole dataset's ``columns``, read ``per`` records at a time, text kept as categories (a code per
    record and the distinct values once), so that memory grows by a few bytes per record, not by the text."""
    numbers: dict[str, list] = {}
    codes: dict[str, list] = {}
    distinct: dict[str, pd.Index] = {}
    order: list[str] = []
    for start in range(0, records, per):
        frame = datasets.read_range(name, start, min(records, start + per), columns, text.encoding)
        text.check(frame)
        order = list(frame.columns)
        for column in frame.columns:
            series = frame[column]
            if pd.api.types.is_numeric_dtype(series):
                numbers.setdefault(column, []).append(series.to_numpy())
                continue
            here, values = pd.factorize(series)
            values = pd.Index(np.asarray(values, dtype=object), dtype=object)
            known = distinct.get(column, pd.Index([], dtype=object))
            known = known.append(values[~values.isin(known)])
            distinct[column] = known
            numbered = np.append(known.get_indexer(values), -1).astype(np.int32)  # a missing value (-1) stays -1
            codes.setdefault(column, []).append(numbered[here])
        del frame
    out = {}
    for column in order:
        if column in numbers:
            out[column] = np.concatenate(numbers[column])
        else:
            out[column] = pd.Categorical.from_codes(np.concatenate(codes[column]), categories=distinct[column])
    return pd.DataFrame(out, index=pd.RangeIndex(records))


class _Text:
    """The encoding a file's text is read with is that of all of it (UTF-8 when every value is, else
    cp1252), not of one range: the first range that needs cp1252 sets it for the next ones, and if an
    earlier range held non-ASCII text read as UTF-8, the ranges are read again (Reencode)."""

    def __init__(self, encoding: str | None):
        self.encoding, self.non_ascii = encoding, False

    def check(self, frame: pd.DataFrame) -> None:
        if self.encoding is not None:
            return
        used = frame.attrs.get("encoding", "utf-8")
        if used != "utf-8":
            if self.non_ascii:
                raise Reencode()
            self.encoding = used
            return
        self.non_ascii = self.non_ascii or _non_ascii(frame)


def _release() -> None:
    from validate.lazy import _release_memory

    _release_memory()
