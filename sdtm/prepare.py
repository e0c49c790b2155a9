"""Shape a domain's raw records before mapping: merge other sources, filter, drop re-sent duplicates,
turn wide forms into one record per test. Every record left out is listed with its reason."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sdtm.rows import rows_where
from sdtm.unique import distinct_rows, text_of
from specs.conditions import parse_condition
from specs.errors import Problem, RecordIssue
from specs.raw_values import condition_values, show

LOCATION = ["__file", "__row", "__key", "__decimal"]


def locate(frame: pd.DataFrame, file_label: str, keys: list[str], decimal: str = ".", rows=None) -> pd.DataFrame:
    """Add __file, __row (1-based data row of the file: ``rows`` when the table is a part of it),
    __key ('Subject=01-003, Folder=SCR') and __decimal (the source's decimal mark, for every number read
    from the record) to a raw table."""
    located = frame.copy()
    located["__file"] = file_label
    located["__decimal"] = decimal
    located["__row"] = np.arange(1, len(frame) + 1) if rows is None else np.asarray(rows)
    present = [k for k in keys if k in frame.columns]
    if present:  # pyarrow text joined by pyarrow in one pass per key column: one buffer, not a string per record
        text = pa.large_string()
        parts = [pc.binary_join_element_wise(pa.scalar(f"{column}=", text),
                                             frame[column].astype("str").array.__arrow_array__().cast(text),
                                             pa.scalar("", text)) for column in present]
        key = pc.binary_join_element_wise(*parts, pa.scalar(", ", text))
        located["__key"] = pd.Series(pd.array(key, dtype="str"), index=frame.index)
    else:
        located["__key"] = "row " + located["__row"].astype(str)
    return located


def repeated_keys(data: pd.DataFrame, keys: list[str], limit: int = 20
                  ) -> tuple[list[tuple[tuple, int, int]], int]:
    """The records whose ``keys`` repeat an earlier record's: up to ``limit`` (key values, position of the
    repeating record, position of the first record with those values), and how many there are in all.
    One helper for a raw source's keys (repeated_source_keys) and a domain's (sdtm.record_checks.duplicate_keys)."""
    if not keys or len(data) < 2:
        return [], 0
    codes, first = distinct_rows(*(data[k] for k in keys))
    first_of = first[codes]
    later = np.flatnonzero(first_of != np.arange(len(data)))
    values = list(data[keys].iloc[later[:limit]].itertuples(index=False, name=None))
    return [(v, int(p), int(f)) for v, p, f in zip(values, later, first_of[later[:limit]])], len(later)


def repeated_source_keys(table: pd.DataFrame, keys: list[str], source: str, limit: int = 20) -> list[Problem]:
    """A raw record whose key (the source's declared ``keys``) repeats another record's: one located
    problem naming both rows, the key columns and their values. Two records with one key are either a
    re-sent record or a typo in a key; mapping both would count one record twice or file it wrongly.
    The key values are read from the columns themselves (not the located __key text)."""
    return repeated_key_problems([repeated_key_records(table, keys, source, limit)], source, limit)


@dataclass
class RepeatedKeys:
    """The repeated keys of a part of a source's records (``repeated_key_records``): the first ``limit``
    records whose key repeats an earlier one's, each as (its data row, its file, the problem), and how many
    there are in all."""

    found: list = field(default_factory=list)
    count: int = 0


def repeated_key_records(table: pd.DataFrame, keys: list[str], source: str, limit: int = 20) -> RepeatedKeys:
    """``repeated_source_keys`` of one part of a source. Parts whose keys never repeat across them (each
    subject's records in one part, the subject among the keys: cdisc.chunks) join into the whole's
    (``repeated_key_problems``)."""
    present = [k for k in keys if k in table.columns]
    found, count = repeated_keys(table, present, limit)
    if not count:  # (the location columns as Python objects only when there is a record to name)
        return RepeatedKeys()
    files, rows = table["__file"].to_numpy(), table["__row"].to_numpy()
    problems = []
    for values, later, first in found:
        key = ", ".join(f"{k}={v}" for k, v in zip(present, values))
        shown = ", ".join(f"{k} '{v}'" for k, v in zip(present, values))
        problems.append((int(rows[later]), files[later], Problem(
            f"{files[later]} row {rows[later]} ({key})",
            f"source {source}: a second record with {shown}, the key of {files[first]} row {rows[first]}; the "
            f"keys of {source} ({', '.join(present)}) must identify one record")))
    return RepeatedKeys(problems, count)


def repeated_key_problems(parts: list[RepeatedKeys], source: str, limit: int = 20) -> list[Problem]:
    """The problems of a source's repeated keys found part by part: the first ``limit`` records of all parts
    (by data row: the parts' records in file order), then how many more."""
    found = parts[0].found if len(parts) == 1 else sorted((f for p in parts for f in p.found), key=lambda f: f[0])
    found = found[:limit]
    count = sum(p.count for p in parts)
    problems = [problem for _, _, problem in found]
    if count > limit:
        problems.append(Problem(str(found[0][1]), f"... and {count - limit} more records of {source} with a "
                                                  f"repeated key"))
    return problems


def _shown_values(values, limit: int = 10) -> str:
    values = sorted(values)
    return ", ".join(show(v) for v in values[:limit]) + (f", ... ({len(values)} values)" if len(values) > limit else "")


def _value_problems(frame: pd.DataFrame, bad: pd.Series, column: str, message, limit: int) -> list[Problem]:
    """One located problem per distinct value in the ``bad`` records, at its first record (``message(value)``
    says why; the count of records when more hold it), at most ``limit`` values."""
    rows = frame[bad]
    first = rows.drop_duplicates(column)
    counts = rows[column].value_counts()
    problems = []
    for f, r, k, v in zip(first["__file"].head(limit), first["__row"], first["__key"], first[column]):
        more = f" ({counts[v]} records; this is the first)" if counts[v] > 1 else ""
        problems.append(Problem(f"{f} row {r} ({k})", message(v) + more))
    if len(first) > limit:
        problems.append(Problem(str(rows["__file"].iloc[0]), f"... and {len(first) - limit} more values of {column} "
                                                             f"outside its values"))
    return problems


def undeclared_values(table: pd.DataFrame, declared: dict, source: str, limit: int = 20) -> list[Problem]:
    """A value of a column outside the values study.yaml declares for it (``sources.<name>.values``): a
    located problem on every record of the source (specs.raw_values says why)."""
    found = UndeclaredValues(declared, source)
    found.add(table)
    return found.problems(limit)


class UndeclaredValues:
    """``undeclared_values`` of a source read a part at a time (record batches in file order): each value
    outside the declared ones with its first record and its number of records, column by column (only the
    undeclared values are kept, not the records)."""

    def __init__(self, declared: dict, source: str):
        self.declared, self.source = declared, source
        self.found: dict[str, dict] = {column: {} for column in declared}  # value -> [file, row, key, records]

    def add(self, table: pd.DataFrame) -> None:
        for column, values in self.declared.items():
            if column not in table.columns:
                continue  # a spec error (specs.raw_columns.check_raw_columns)
            bad = ~table[column].isin({str(v) for v in values or []})
            if not bad.any():
                continue
            rows = table[bad]
            first = rows.drop_duplicates(column)
            counts = rows[column].value_counts()
            seen = self.found[column]
            for f, r, k, v in zip(first["__file"], first["__row"], first["__key"], first[column]):
                if v in seen:
                    seen[v][3] += counts[v]
                else:
                    seen[v] = [f, r, k, counts[v]]

    def problems(self, limit: int = 20) -> list[Problem]:
        """One located problem per value at its first record (the count of records when more hold it), at
        most ``limit`` values a column."""
        problems = []
        for column, values in self.declared.items():
            seen = self.found[column]
            allowed = {str(v) for v in values or []}
            for v, (f, r, k, count) in list(seen.items())[:limit]:
                more = f" ({count} records; this is the first)" if count > 1 else ""
                problems.append(Problem(f"{f} row {r} ({k})", (
                    f"source {self.source}: {column} is {show(v)}, not one of the values declared for it "
                    f"(study.yaml sources.{self.source}.values.{column}: {_shown_values(allowed)})") + more))
            if len(seen) > limit:
                problems.append(Problem(str(next(iter(seen.values()))[0]),
                                        f"... and {len(seen) - limit} more values of {column} outside its values"))
        return problems


def unexpected_values(frame: pd.DataFrame, spec: dict, tables: dict[str, pd.DataFrame], declared: dict, domain: str,
                      limit: int = 20) -> list[Problem]:
    """A value of a raw column that the domain's conditions compare with text but none of them names, on a
    column study.yaml declares no values for: a located problem (specs.raw_values says why). Declared
    columns are checked on their whole source (undeclared_values)."""
    own = from_sources(spec)
    merged = [m["source"] for m in spec.get("merge") or []]
    problems = []
    for column, (values, where) in sorted(condition_values(spec).items()):
        if column not in frame.columns:
            continue  # made by the toolkit (RAWSOURCE, a melted column), not read from a file
        origins = [s for s in own if column in tables[s].columns]
        if origins:
            undeclared = [s for s in origins if column not in (declared.get(s) or {})]
            mask = frame["RAWSOURCE"].isin(undeclared) if "RAWSOURCE" in frame else pd.Series(bool(undeclared),
                                                                                              index=frame.index)
        else:
            undeclared = [s for s in merged if column in tables[s].columns and column not in (declared.get(s) or {})]
            # a record the merge found nothing for has '' here, and is reported by the merge
            mask = pd.Series(bool(undeclared), index=frame.index) & (frame[column] != "")
        bad = mask & ~frame[column].isin(values)
        if not bad.any():
            continue
        found = _shown_values(set(frame.loc[mask, column]))
        named = f"{_shown_values(values)} in {', '.join(where[:3])}{', ...' if len(where) > 3 else ''}"
        problems += _value_problems(frame, bad, column, lambda v: (
            f"{domain}: {column} is {show(v)}, which no condition on {column} names ({named}), so the conditions "
            f"would take it for any other value: declare the values {column} may hold in study.yaml "
            f"({' or '.join(f'sources.{s}.values.{column}' for s in undeclared)}; in the data: {found})"), limit)
    return problems


def issues_for(frame: pd.DataFrame, domain: str, reason: str) -> list[RecordIssue]:
    return [RecordIssue(source=f, key=f"row {r} ({k})", reason=reason, domain=domain)
            for f, r, k in zip(frame["__file"], frame["__row"], frame["__key"])]


def _key_text(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """"RANDNO 'R999'" (several columns joined by ', ') for each record, for messages."""
    text = pd.Series("", index=frame.index, dtype=object)
    for i, column in enumerate(columns):
        text = text + ("" if i == 0 else ", ") + column + " '" + frame[column].astype(str) + "'"
    return text


def merge_sources(base: pd.DataFrame, merges: list[dict], tables: dict[str, pd.DataFrame], domain: str,
                  problems: list[Problem], issues: list[RecordIssue], lookups: set[str] = frozenset(),
                  warnings: list[RecordIssue] | None = None, limit: int = 20) -> pd.DataFrame:
    """Left-join each merged source on its keys.

    A merged record that matches nothing is listed (unless the source is a lookup table, whose unused
    entries are not records of the study). A record that finds no partner is a located problem, or a
    warning listed in the run report when the merge is ``optional: true``; a record whose key is empty
    because an earlier merge found nothing for it is not reported twice. An empty key never matches.
    """
    warnings = [] if warnings is None else warnings
    absent = pd.Series(False, index=base.index)  # records an earlier merge found nothing for
    for index, merge in enumerate(merges):
        source = merge["source"]
        right = tables[source]
        left_on = merge.get("left_on", merge.get("by"))
        right_on = merge.get("right_on", merge.get("by"))
        keyed = (right[right_on] != "").all(axis=1)
        duplicated = right[right.duplicated(right_on, keep=False) & keyed]
        for f, r, k in zip(duplicated["__file"], duplicated["__row"], duplicated["__key"]):
            problems.append(Problem(f"{f} row {r} ({k})", f"{domain}: more than one record of "
                                                          f"{source} with the same "
                                                          f"{', '.join(right_on)}; merge needs one"))
        extra = merge.get("columns") or [c for c in right.columns if c not in base.columns and
                                         not c.startswith("__")]
        extra = [c for c in extra if c not in right_on]
        picked = right.loc[keyed, right_on + extra].drop_duplicates(right_on).rename(
            columns=dict(zip(right_on, left_on)))
        merged = base.merge(picked, on=left_on, how="left", indicator="__matched")
        merged.index = base.index
        matched = merged.pop("__matched") == "both"
        merged[extra] = merged[extra].fillna("")  # text, '' for missing, like every raw column
        seen = base[left_on].drop_duplicates().rename(columns=dict(zip(left_on, right_on)))
        flagged = right.merge(seen, on=right_on, how="left", indicator="__merge")
        unmatched = right[(flagged["__merge"] == "left_only").to_numpy()]
        if source not in lookups:
            issues += issues_for(unmatched, domain, f"no {domain} record matches on {', '.join(right_on)}")
        empty_key = (base[left_on] == "").any(axis=1)
        lost = ~matched & ~(empty_key & absent)
        if lost.any():
            _report_unmatched(base[lost], empty_key[lost], merge, index, right, domain, problems, warnings, limit)
        absent |= ~matched
        base = merged
    return base


def _report_unmatched(lost: pd.DataFrame, empty_key: pd.Series, merge: dict, index: int, right: pd.DataFrame,
                      domain: str, problems: list[Problem], warnings: list[RecordIssue], limit: int) -> None:
    source = merge["source"]
    left_on = merge.get("left_on", merge.get("by"))
    right_on = merge.get("right_on", merge.get("by"))
    right_file = str(right["__file"].iloc[0]) if len(right) else source
    if merge.get("optional"):
        reason = f"no record of {source} with the same {', '.join(left_on)} (optional merge)"
        for f, r, k, detail in zip(lost["__file"], lost["__row"], lost["__key"], _key_text(lost, left_on)):
            warnings.append(RecordIssue(source=f, key=f"row {r} ({k})", reason=reason, domain=domain,
                                        extra={"detail": detail}))
        return
    hint = f"merge[{index}]; say optional: true if a record may have none"
    on = ", ".join(right_on)
    messages = (f"{domain}: no record of {source} ({right_file}) has " + _key_text(lost, left_on) +
                f" ({hint})").where(~empty_key, f"{domain}: {', '.join(left_on)} empty, so no record of {source} "
                                                f"({right_file}) can be merged on {on} ({hint})")
    for f, r, k, message in zip(lost["__file"].head(limit), lost["__row"].head(limit), lost["__key"].head(limit),
                                messages.head(limit)):
        problems.append(Problem(f"{f} row {r} ({k})", message))
    if len(lost) > limit:
        problems.append(Problem(str(lost["__file"].iloc[0]), f"... and {len(lost) - limit} more {domain} records "
                                                             f"with no record of {source}"))


def filter_records(frame: pd.DataFrame, where: dict, domain: str, issues: list[RecordIssue],
                   tables: dict | None = None) -> pd.DataFrame:
    keep = parse_condition(where["condition"]).evaluate(frame, tables=tables).fillna(False).astype(bool)
    issues += issues_for(frame.loc[~keep, ["__file", "__row", "__key"]], domain, where["reason"])
    return rows_where(frame, keep)


def drop_duplicates(frame: pd.DataFrame, dedupe: dict, domain: str, issues: list[RecordIssue]) -> pd.DataFrame:
    """Keep one record per `by`: the first or last in `order` (a stable sort; the order is the spec's)."""
    columns = list(dict.fromkeys([*dedupe["order"], *dedupe["by"], "__file", "__row", "__key"]))
    ordered = frame[[c for c in columns if c in frame]].sort_values(dedupe["order"], kind="mergesort")
    dropped_mask = ordered.duplicated(dedupe["by"], keep=dedupe["keep"])
    dropped = rows_where(ordered, dropped_mask)
    kept = rows_where(ordered, ~dropped_mask)
    kept_key = kept.set_index(dedupe["by"])["__key"] if len(kept) else pd.Series(dtype=object)
    for f, r, k, by in zip(dropped["__file"], dropped["__row"], dropped["__key"],
                           dropped[dedupe["by"]].itertuples(index=False, name=None)):
        issues.append(RecordIssue(source=f, key=f"row {r} ({k})", domain=domain,
                                  reason=f"{dedupe['reason']} (kept: {kept_key.get(by if len(by) > 1 else by[0], '')})"))
    return rows_where(frame, frame.index.isin(kept.index))


NOT_DONE = "NOT DONE"


def melt_tests(frame: pd.DataFrame, melt: dict, domain: str, issues: list[RecordIssue],
               problems: list[Problem] | None = None, tables: dict | None = None) -> pd.DataFrame:
    """One record per test of a wide form: the column's test code in `name`, its value in `value`.

    A test with no value gives no record, and a row with no value in any test column is listed, unless
    `not_done` says otherwise: a row meeting `not_done.when` (the whole panel not done) gives one record
    with the test `not_done.all`; with `not_done.each_empty`, an empty test on a done row gives a record
    of that test. Those records hold 'NOT DONE' in the column `not_done.status` (for --STAT) and an empty
    value; the others hold '' there. A value on a row marked not done contradicts it: a located problem.
    """
    problems = [] if problems is None else problems
    columns = melt["columns"]
    name, value = melt["name"], melt["value"]
    not_done = melt.get("not_done") or {}
    status = not_done.get("status")
    row_not_done = pd.Series(False, index=frame.index)
    if not_done.get("when"):
        row_not_done = parse_condition(not_done["when"]).evaluate(frame, tables=tables).fillna(False).astype(bool)
    long_parts = []

    def add(rows: pd.DataFrame, code: str, values, done: bool, order: int) -> None:
        part = rows.copy()
        part[name] = code
        part[value] = values
        if status:
            part[status] = "" if done else NOT_DONE
        part["__melt_order"] = order
        long_parts.append(part)

    if row_not_done.any():
        add(rows_where(frame, row_not_done), not_done["all"], "", False, -1)
    for order, (column, code) in enumerate(columns.items()):
        filled = text_of(frame[column]) != ""
        contradicting = frame[filled & row_not_done]
        for f, r, k, v in zip(contradicting["__file"], contradicting["__row"], contradicting["__key"],
                              contradicting[column]):
            problems.append(Problem(f"{f} row {r} ({k})", f"{domain}: column {column} holds '{v}' on a row "
                                                          f"marked not done ({not_done['when']})"))
        done = filled & ~row_not_done
        add(rows_where(frame, done), code, frame.loc[done, column], True, order)
        if not_done.get("each_empty"):
            add(rows_where(frame, ~filled & ~row_not_done), code, "", False, order)
    long = pd.concat(long_parts) if long_parts else frame.iloc[0:0]
    empty = frame[~frame.index.isin(long.index)]
    issues += issues_for(empty, domain, melt.get("empty_reason", "no value in any test column"))
    long = long.sort_index(kind="mergesort")
    long["__key"] = long["__key"] + ", " + name + "=" + long[name]
    long = long.sort_values(["__row", "__melt_order"], kind="mergesort").drop(columns="__melt_order")
    return long.reset_index(drop=True)


def from_sources(spec: dict) -> list[str]:
    return [spec["from"]] if isinstance(spec["from"], str) else list(spec["from"])


def prepare_records(domain: str, spec: dict, tables: dict[str, pd.DataFrame], problems: list[Problem],
                    issues: list[RecordIssue], lookups: set[str] = frozenset(),
                    base: pd.DataFrame | None = None, warnings: list[RecordIssue] | None = None,
                    lookup_tables: dict | None = None, declared: dict | None = None) -> pd.DataFrame:
    """Stack the domain's sources (RAWSOURCE names each record's source), or take ``base`` (the records
    of an earlier domain, ``from_domain``), then merge, filter, de-duplicate and melt as the spec says.
    Before any condition decides, the values it compares are checked (unexpected_values; ``declared``:
    {source: {column: values}} from study.yaml)."""
    if base is not None:
        frame = base.reset_index(drop=True)
    else:
        parts = [tables[source].assign(RAWSOURCE=source) for source in from_sources(spec)]
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    frame = frame.fillna("")
    if spec.get("merge"):
        frame = merge_sources(frame, spec["merge"], tables, domain, problems, issues, lookups, warnings)
    if base is None:
        problems += unexpected_values(frame, spec, tables, declared or {}, domain)
    if spec.get("where"):
        frame = filter_records(frame, spec["where"], domain, issues, lookup_tables)
    if spec.get("dedupe"):
        frame = drop_duplicates(frame, spec["dedupe"], domain, issues)
    if spec.get("melt"):
        frame = melt_tests(frame, spec["melt"], domain, issues, problems, lookup_tables)
    return frame.reset_index(drop=True)
