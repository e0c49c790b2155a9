"""The chunks' results joined into the whole study's: notes, reports, cut logs, problems, and the check that
each dataset's chunks follow each other in its sort order."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from specs.errors import CdiscError, ControlledTermError, DataError, Problem, RawDataError

if TYPE_CHECKING:
    from cdisc.chunks.tasks import ChunkSdtm


def sort_of(dspec) -> list[str]:
    """The order of an SDTM dataset: its spec's sort; SUPP-- (no sort of its own) is made in key order
    (sdtm.supp.build_supp: by USUBJID, then the parent's --SEQ)."""
    return list(dspec.sort or dspec.keys or [])


def order_keys(columns, sort: list[str]) -> list[str]:
    """The sort variables up to USUBJID: the chunks of a dataset sorted by them follow each other."""
    keys = [k for k in sort if k in columns]
    return keys[:keys.index("USUBJID") + 1] if "USUBJID" in keys else []


def merge_sequences(sequences, key, join=None, rank=None) -> list:
    """The items of several ordered lists (each in the order of one code path: a part of the whole's list)
    in one list: an item whose key another list already gave joins it (``join``; else the first is kept);
    a new one goes after the last key its own list shared, and past the items of other lists that rank
    before it (``rank``: its stage and domain, where the lists say nothing of their order)."""
    order: list = []
    items: dict = {}
    ranks: dict = {}
    for sequence in sequences:
        own = {key(item) for item in sequence}
        position = -1
        for item in sequence:
            k = key(item)
            if k in items:
                if join is not None:
                    items[k] = join(items[k], item)
                position = order.index(k)
                continue
            ranks[k] = rank(item) if rank is not None else 0
            position += 1
            while position < len(order) and order[position] not in own and ranks[order[position]] <= ranks[k]:
                position += 1
            order.insert(position, k)
            items[k] = item
    return [items[k] for k in order]


def merge_notes(chunks: list[tuple[list[str], list[int]]], domains: list[str]) -> list[str]:
    """The chunks' notes (each with where its stages end, SdtmResult.note_phases) as the whole study's:
    the same note of several chunks joined (counts added, values united), in the order of the stages, the
    domains and the chunks' own order."""
    from sdtm.notes import Note

    position = {name: i for i, name in enumerate(domains)}

    def key(item):
        note = item[1]
        return note.key if isinstance(note, Note) else note

    def rank(item):
        phase, note = item
        head = note.split(":", 1)[0].split(".", 1)[0]
        return phase, position.get(head, -1)

    def join(a, b):
        return (a[0], a[1].joined(b[1])) if isinstance(a[1], Note) else a

    staged = [[(int(np.searchsorted(ends, i, side="right")), note) for i, note in enumerate(notes)]
              for notes, ends in chunks]
    return [note for _, note in merge_sequences(staged, key, join, rank)]


def merge_reports(chunks: list[list]) -> list:
    """One report per domain: records in and out added up, the records not mapped and the warnings listed
    chunk after chunk (that is, in subject order)."""
    from sdtm.engine import DomainReport

    def join(a, b):
        return DomainReport(a.domain, a.source, a.records_in + b.records_in, a.records_out + b.records_out,
                            a.not_mapped + b.not_mapped, a.warnings + b.warnings)

    return merge_sequences(chunks, lambda r: r.domain, join)


def merge_cut_logs(logs: list[pd.DataFrame | None], domains: list[str]) -> pd.DataFrame | None:
    """The cut log of the whole study. sdtm.cut.apply_cut logs, domain after domain, the subjects left out
    and each rule's changes, then the records of visits after the cut: each chunk's log is runs of one
    domain and one change; the runs of the chunks are joined in that order, each run's records chunk after
    chunk."""
    logs = [log for log in logs if log is not None]
    if not logs:
        return None
    position = {name: i for i, name in enumerate(domains)}

    def runs(log: pd.DataFrame) -> list:
        if log.empty:
            return []
        reason = log["reason"].astype(str)
        kind = np.where(reason.str.startswith("collected at a visit after the cut").to_numpy(), "visit",
                        np.where(reason.str.startswith("subject ").to_numpy(), "subject", "rule"))
        key = (log["domain"].astype(str) + "\x00" + log["action"].astype(str) + "\x00" +
               log["variable"].astype(str) + "\x00" + kind).to_numpy()
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], len(key)]
        return [(key[s], [log.iloc[s:e]]) for s, e in zip(starts, ends)]

    def rank(run):
        domain, _, _, kind = run[0].split("\x00")
        return kind == "visit", position.get(domain, -1), kind != "subject"

    merged = merge_sequences([runs(log) for log in logs], lambda run: run[0], lambda a, b: (a[0], a[1] + b[1]), rank)
    if not merged:
        return logs[0].iloc[:0]
    return pd.concat([frame for _, frames in merged for frame in frames], ignore_index=True)


def merge_problems(chunks: list[ChunkSdtm], raw: list[Problem]) -> CdiscError | None:
    """The one error the whole study gives: raw and mapping problems (raw data, then controlled terms)
    of every chunk, else the derivation problems of every chunk, else the first chunk's other error."""
    from sdtm.engine import ChunkProblems

    failed = [c.failed for c in chunks if c.failed is not None]
    mapping = [f for f in failed if isinstance(f, ChunkProblems) and f.stage == "mapping"]
    if raw or mapping:
        problems = raw + _unique([p for f in mapping for p in f.problems])
        terms = _unique([p for f in mapping for p in f.term_problems])
        return RawDataError(problems + terms) if problems else ControlledTermError(terms)
    other = [f for f in failed if not isinstance(f, ChunkProblems)]
    if other:
        return other[0]
    if failed:
        return DataError(_unique([p for f in failed for p in f.problems]))
    return None


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for problem in problems:
        key = (problem.where, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def _comparable(value):
    return (0, "") if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA \
        else (1, value)


def check_order(name: str, edges: list, boundaries: list[str], keys: list[str] | None = None,
                where: str = "") -> None:
    """Each chunk's first sort key after the previous chunk's last: else the chunks would not join into
    the sorted dataset (a located error, never a misordered dataset). ``keys``: the dataset's sort
    variables up to USUBJID; none, with records in several chunks, is an error too (nothing orders them)."""
    if keys is not None and not keys and sum(edge is not None for edge in edges) > 1:
        raise DataError([Problem(where or name, f"{name} is not sorted by USUBJID: its records in {len(edges)} "
                                                f"chunks of subjects cannot be joined in its order (run with "
                                                f"--chunk-subjects above the number of subjects)")])
    last, last_chunk = None, None
    for index, edge in enumerate(edges):
        if edge is None:
            continue
        first, end = edge
        if last is not None and not tuple(map(_comparable, last)) < tuple(map(_comparable, first)):
            span = f"subjects from {boundaries[index]!r}" if index < len(boundaries) else ""
            raise DataError([Problem(f"{name}, chunk {index + 1} ({span})",
                                     f"its first record {first} does not come after the last record {last} of "
                                     f"chunk {last_chunk + 1}: the chunks of {name} do not join into its sort "
                                     f"order")])
        last, last_chunk = end, index
