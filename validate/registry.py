"""Conformance rules as registered functions, and the runner that gathers their findings.

A rule is ``(context) -> DataFrame`` of failing records: columns dataset, variable, row (1-based record
number, missing for dataset-level findings), value, and optionally key, message, count (records one
finding stands for, when one cause is reported once), severity (to lower one finding's severity) and any
extra column its message template names. Zero rows means pass. ``fail()`` builds that frame from a
boolean mask.

A rule that cannot check (no metadata for the package's standard version, a dataset it needs is absent)
raises ``NotChecked(reason)``; one that checks only part of what it covers says so with
``context.note(rule_id, text)``. The run's record of every rule (ran, not checked and why, findings,
seconds) is ``findings.attrs["rules"]``.
"""
from __future__ import annotations

import string
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from validate.package import LazyDatasets, Package, as_text

SEVERITIES = ("Error", "Warning", "Notice")
SCOPES = ("SDTM", "ADaM", "define", "any")
FINDING_COLUMNS = ["rule", "severity", "standard", "core_id", "conformance_id", "fda_id", "dataset", "variable", "row",
                   "key", "value", "count", "message"]
STANDARD_NAMES = ("SDTMIG", "ADaMIG", "Define-XML")
RULE_COLUMNS = ["dataset", "variable", "row", "key", "value"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    standard: str
    message: str
    core_id: str | None
    fda_id: str | None
    scope: str
    func: Callable
    description: str = ""
    needs: tuple = ()  # "sdtmig" / "adamig": the IG variable metadata of the package's version
    # the rule's findings on a package are those it finds on each unit of it (Package.units) in turn,
    # datasets of other units looked up by name only: a package read from files is checked unit by unit
    per_dataset: bool = False
    columns: tuple = ()  # a rule across datasets that reads only these columns (and the key variables)
    # how a per_dataset rule runs on a large dataset checked in ranges of whole subjects (validate.ranges):
    # "records" (on each range), "variables" (names and metadata only: on the first range), "merge" (on each
    # range, the results put together by ``merge``), "dataset" (once, on the columns ``reads`` names, --
    # standing for the dataset's prefix) or "summary" (once after the ranges, from what they cached); a
    # callable (package, dataset) gives one of these. A unit with a rule that says none is read whole.
    by_range: object = None
    reads: object = ()  # "dataset" rules: columns, or (package, dataset) -> columns
    merge: Callable | None = None  # "merge" rules: (per-range findings, rows already of the whole) -> findings


RULES: dict[str, Rule] = {}
READ_AHEAD_BYTES = 256 << 20  # a unit's records and the next one's (in their files) up to which the next is read ahead
SMALL_UNIT_BYTES = 32 << 20  # a unit of at most this many bytes of records is read ahead with any other, or before it
PREPARE: list[tuple[tuple, Callable]] = []  # (rule ids, (context) -> None): work done on each unit for them


def prepare(*rule_ids: str):
    """Register work that rules across datasets (``rule_ids``) cache per dataset in context.cache, done
    while each unit of a package read from files is in memory, so that they need not read it again."""
    def register(func: Callable) -> Callable:
        PREPARE.append((rule_ids, func))
        return func

    return register


class NotChecked(Exception):
    """Raised by a rule that cannot check this package; the reason goes into the report."""


def rule(id: str, severity: str, standard: str, message: str, core_id: str | None = None,
         fda_id: str | None = None, scope: str = "SDTM", needs: tuple = (), per_dataset: bool = False,
         columns: tuple = (), by_range: object = None, reads: object = (), merge: Callable | None = None):
    """Register a rule function under ``id``.

    ``standard`` names the standard without its version ("SDTMIG", "ADaMIG / Define-XML"); the run
    adds the version the package declares. ``needs`` lists the IG metadata the rule cannot do without.
    """
    if severity not in SEVERITIES:
        raise ValueError(f"rule {id}: severity {severity!r} is not one of {SEVERITIES}")
    if scope not in SCOPES:
        raise ValueError(f"rule {id}: scope {scope!r} is not one of {SCOPES}")

    def register(func: Callable) -> Callable:
        if id in RULES and RULES[id].func.__qualname__ != func.__qualname__:
            raise ValueError(f"rule id {id} registered twice ({RULES[id].func.__name__}, {func.__name__})")
        doc = (func.__doc__ or "").strip().splitlines()
        RULES[id] = Rule(id, severity, standard, message, core_id, fda_id, scope, func, doc[0] if doc else "",
                         tuple(needs), per_dataset, tuple(columns), by_range,
                         reads if callable(reads) else tuple(reads), merge)
        return func

    return register


@dataclass
class Context:
    """What a rule sees: the package, the terminology (may be None), the standard versions the package is
    checked against, and cached lookups."""

    package: Package
    ct: object = None
    cache: dict = field(default_factory=dict)
    versions: object = None  # validate.versions.Versions
    notes: dict = field(default_factory=dict)  # rule id -> what it could not check

    def note(self, rule_id: str, text: str) -> None:
        self.notes.setdefault(rule_id, [])
        if text not in self.notes[rule_id]:
            self.notes[rule_id].append(text)

    def version(self, standard: str) -> str | None:
        """The version of "SDTMIG", "ADaMIG" or "Define-XML" the package is checked against (None when unknown)."""
        if self.versions is None:
            return None
        return self.versions.define if standard == "Define-XML" else getattr(self.versions, standard.lower(), None)


_EMPTY = pd.DataFrame({c: pd.Series(dtype="object") for c in RULE_COLUMNS})


def empty() -> pd.DataFrame:
    """No findings (a copy: building a frame from its columns costs a millisecond, rules ask for thousands)."""
    return _EMPTY.copy()


FAIL_LOG: list | None = None  # validate.ranges: the number of records of each fail() call of a rule on a range


def fail(package: Package, dataset: str, mask, variable: str, values: pd.Series | None = None,
         **extra) -> pd.DataFrame:
    """Failing records of ``dataset`` where ``mask`` is true, with keys and the offending values.

    ``values`` defaults to the column ``variable``; ``extra`` adds columns (scalars or series aligned on
    the dataset) that a message template can name.
    """
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask)
    if FAIL_LOG is not None:
        FAIL_LOG.append(len(rows))
    if len(rows) == 0:
        return empty()
    df = package.datasets[dataset]
    if values is None:
        values = df[variable] if variable in df.columns else pd.Series([""] * len(df))
    out = pd.DataFrame({
        "dataset": dataset, "variable": variable, "row": rows + 1,
        "key": package.record_keys(dataset, rows).to_numpy(),
        "value": as_text(values.iloc[rows]).to_numpy(),
    })
    for name, extra_values in extra.items():
        out[name] = as_text(extra_values.iloc[rows]).to_numpy() if isinstance(extra_values, pd.Series) else extra_values
    return out


def dataset_finding(dataset: str, variable: str, value: str = "", **extra) -> pd.DataFrame:
    """One dataset-level finding (no record): a missing variable, a label too long."""
    return pd.DataFrame([{"dataset": dataset, "variable": variable, "row": pd.NA, "key": "", "value": value, **extra}])


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty()


def versioned(standard: str, context: Context) -> str:
    """'SDTMIG / Define-XML' -> 'SDTMIG 3.2 / Define-XML' with the versions the package is checked against."""
    words = standard.split(" ")
    out = []
    for i, word in enumerate(words):
        out.append(word)
        following = words[i + 1] if i + 1 < len(words) else ""
        version = context.version(word) if word in STANDARD_NAMES else None
        if version and not following[:1].isdigit():
            out.append(version)
    return " ".join(out)


def _skip_reason(r: Rule, package: Package, context: Context) -> str | None:
    if r.scope == "define" and package.define is None:
        return "no define.xml"
    if r.scope == "SDTM" and not package.sdtm():
        return "no SDTM datasets"
    if r.scope == "ADaM" and not package.adam():
        return "no ADaM datasets"
    available = getattr(context.versions, "metadata", {}) if context.versions is not None else {}
    for need in r.needs:
        standard = "SDTMIG" if need == "sdtmig" else "ADaMIG"
        if need == "sdtmig" and not package.sdtm() or need == "adamig" and not package.adam():
            return f"no {'SDTM' if need == 'sdtmig' else 'ADaM'} datasets"
        if context.versions is not None and not available.get(need):
            version = context.version(standard) or "?"
            return (f"not checked: no {standard} {version} variable metadata is shipped "
                    f"({standard} {', '.join(context.versions.supported(need))} are)")
    return None


def render_messages(template: str, table: pd.DataFrame) -> pd.Series:
    """Fill ``template`` for every row by column concatenation (no per-row formatting)."""
    out = pd.Series([""] * len(table), index=table.index, dtype="object")
    for literal, field_name, _spec, _conv in string.Formatter().parse(template):
        out = out + literal
        if field_name:
            column = table[field_name] if field_name in table.columns else pd.Series("", index=table.index)
            out = out + column.astype("object").where(column.notna(), "").astype(str)
    return out


def _run(r: Rule, context: Context) -> tuple[pd.DataFrame | None, object]:
    """(findings, outcome) of one rule: outcome None when it ran, the NotChecked it raised, or the text of
    the note of a rule that failed to run (its findings then say so)."""
    try:
        return r.func(context), None
    except NotChecked as exc:
        return None, exc
    except Exception as exc:  # a broken rule is reported, never hides the others
        found = dataset_finding("", "", f"{type(exc).__name__}: {exc}",
                                message=f"rule {r.id} failed to run: {type(exc).__name__}: {exc}; "
                                        + traceback.format_exc(limit=-1).strip().splitlines()[-1])
        return found, f"failed to run: {type(exc).__name__}: {exc}"


def _across(r: Rule, context: Context) -> Context:
    """The context of a rule across datasets on a package read lazily: the datasets with only the columns
    the rule declares, when it does."""
    if not r.columns:
        return context
    return Context(context.package.projected(r.columns), context.ct, context.cache, context.versions, context.notes)


def _by_unit(package: Package, context: Context, selected: list[Rule]) -> dict:
    """Run the rules that work dataset by dataset (and the PREPARE work of the others) one unit of the
    package at a time, each unit's datasets read once and let go before the next: rule id -> (findings,
    outcome, seconds) as one run over the whole package gives them. The first unit where a rule is not
    checked or fails decides, as it would have stopped there. A large package's units are shared with a
    second process (validate.parallel); the results are merged in unit order, so they are the same."""
    from validate import parallel

    local = [r for r in selected if r.per_dataset]
    ids = {r.id for r in selected}
    works = [work for rule_ids, work in PREPARE if ids & set(rule_ids)]
    units = package.units()
    shares = parallel.plan(package, units)
    if shares is None:
        per_unit = unit_results(package, context, units, local, works)
    else:
        per_unit = parallel.run_shared(package, context, units, shares, local, works)
    found: dict[str, list] = {r.id: [] for r in local}
    outcome: dict[str, object] = {}
    seconds: dict[str, float] = {r.id: 0.0 for r in local}
    for results, notes in per_unit:  # in package order, as one pass over the units gives them
        for rule_id, texts in notes.items():
            if rule_id not in outcome:  # a rule decided on an earlier unit did not run on this one
                for text in texts:
                    context.note(rule_id, text)
        for r in local:
            if r.id in outcome or r.id not in results:
                continue
            result, problem, spent = results[r.id]
            seconds[r.id] += spent
            if problem is not None:
                outcome[r.id] = problem
                if not isinstance(problem, NotChecked):
                    found[r.id] = [result]
                continue
            found[r.id].append(result)
    out = {}
    for r in local:
        problem = outcome.get(r.id)
        frames = [f for f in found[r.id] if f is not None]
        if isinstance(problem, NotChecked):
            result = None
        elif problem is not None:  # failed: the finding that says so
            result = frames[0]
        else:
            result = concat(frames) if frames else None
        out[r.id] = (result, problem, seconds[r.id])
    return out


def unit_results(package: Package, context: Context, units: list, local: list[Rule], works: list) -> list:
    """For each unit in turn: (rule id -> (findings, outcome, seconds), rule id -> notes made on it). A rule
    is not run again once it was not checked or failed on a unit."""
    from validate.ranges import range_records, ranged_results

    datasets = package.datasets
    decided: set[str] = set()
    out = []
    with ThreadPoolExecutor(max_workers=1) as reader:
        try:
            for position, unit in enumerate(units):
                per = range_records(package, unit)
                if per is not None:  # a large dataset: read in ranges of whole subjects (validate.ranges)
                    datasets.keep(())
                    ranged = ranged_results(package, context, unit[0], per, local, works, decided, reader)
                    if ranged is not None:
                        out.append(ranged)
                        continue
                datasets.keep(unit)
                for name in unit:  # read here: an unreadable file stops the run (DataError), as at loading
                    datasets[name]
                following = units[position + 1] if position + 1 < len(units) else []
                # the next unit is read meanwhile when both fit in memory together, or when one of the two is
                # small: it adds little to the other (DM before LB: LB's reading starts with DM's rules)
                sizes = sum(map(datasets.size, unit)), sum(map(datasets.size, following))
                if following and (sum(sizes) <= READ_AHEAD_BYTES or min(sizes) <= SMALL_UNIT_BYTES) \
                        and range_records(package, following) is None:
                    datasets.read_ahead(following, reader)
                notes: dict = {}  # the unit's own, merged in unit order by the caller
                view = Context(package.view(unit), context.ct, context.cache, context.versions, notes)
                results = {}
                for r in local:
                    if r.id in decided:
                        continue
                    started = time.perf_counter()
                    result, problem = _run(r, view)
                    results[r.id] = (result, problem, time.perf_counter() - started)
                    if problem is not None:
                        decided.add(r.id)
                for work in works:
                    try:
                        work(view)
                    except Exception:  # the rule itself runs the work again and reports what goes wrong
                        pass
                out.append((results, notes))
        finally:
            datasets.cancel_ahead()
    datasets.keep(())
    return out


def run_rules(package: Package, ct=None, rules: list[str] | None = None, versions=None) -> pd.DataFrame:
    """Run the selected rules (all by default) and return one tidy findings table.

    ``versions`` (validate.versions.Versions) are the standard versions to check against; by default
    those the package declares (define.xml, TS), else the versions whose metadata is shipped.
    """
    import validate.rules  # noqa: F401 - registers the rules
    from validate.versions import detect_versions

    context = Context(package, ct, versions=versions if versions is not None else detect_versions(package, ct))
    selected = [RULES[r] for r in rules] if rules else list(RULES.values())
    reasons = {r.id: _skip_reason(r, package, context) for r in selected}
    by_unit = _by_unit(package, context, [r for r in selected if reasons[r.id] is None]) \
        if isinstance(package.datasets, LazyDatasets) else {}
    tables = []
    timings = {}
    record = []
    for r in selected:
        status = {"id": r.id, "severity": r.severity, "standard": versioned(r.standard, context),
                  "core_id": r.core_id, "fda_id": r.fda_id, "description": r.description}
        reason = reasons[r.id]
        if reason is not None:
            record.append({**status, "status": "skipped", "reason": reason, "findings": 0, "seconds": 0.0})
            continue
        started = time.perf_counter()
        if r.id in by_unit:  # checked unit by unit above
            found, outcome, seconds = by_unit.pop(r.id)
            started -= seconds
        else:
            found, outcome = _run(r, _across(r, context) if isinstance(package.datasets, LazyDatasets) else context)
        if isinstance(outcome, NotChecked):
            record.append({**status, "status": "skipped", "reason": str(outcome), "findings": 0,
                           "seconds": round(time.perf_counter() - started, 4)})
            continue
        if outcome is not None:
            context.note(r.id, outcome)
            status["status"] = "failed"
        timings[r.id] = time.perf_counter() - started
        notes = context.notes.get(r.id, [])
        record.append({"status": "ran", **status, "reason": "; ".join(notes),
                       "findings": 0 if found is None else len(found), "seconds": round(timings[r.id], 4)})
        if found is None or not len(found):
            continue
        found = found.copy()
        template_messages = render_messages(r.message, found)
        if "message" in found.columns:
            found["message"] = found["message"].where(found["message"].notna() & (found["message"] != ""),
                                                      template_messages)
        else:
            found["message"] = template_messages
        if "severity" in found.columns:  # a rule may lower the severity of some findings (never raise it)
            lowered = found["severity"].where(found["severity"].isin(SEVERITIES), r.severity)
            found["severity"] = lowered.where(lowered.map(SEVERITIES.index) >= SEVERITIES.index(r.severity), r.severity)
        else:
            found["severity"] = r.severity
        if "count" not in found.columns:
            found["count"] = 1
        found["count"] = pd.to_numeric(found["count"], errors="coerce").fillna(1).astype("int64")
        for column, value in (("rule", r.id), ("standard", status["standard"]), ("core_id", r.core_id),
                              ("conformance_id", None), ("fda_id", r.fda_id)):
            found[column] = value
        tables.append(found[FINDING_COLUMNS])
    from validate.rules.common import forget_factorized

    forget_factorized()  # the codes of every text column: not kept beyond the run
    if isinstance(package.datasets, LazyDatasets):
        package.datasets.keep(())  # what the budget does not hold goes now
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=FINDING_COLUMNS)
    table["row"] = pd.array(table["row"], dtype="Int64")
    table["count"] = pd.to_numeric(table["count"], errors="coerce").fillna(1).astype("int64")
    package.notes.extend(sorted(context.cache.get("range notes", ())))
    table.attrs["timings"] = timings
    table.attrs["rules"] = record
    table.attrs["versions"] = context.versions.describe() if context.versions is not None else {}
    return table
