"""The partition: which subjects make each chunk, and the chunk of every raw record, found from the USUBJID
mapping of the domain that reads each source."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class NotChunkable(Exception):
    """The sources cannot be split by subject: the run is one chunk."""


@dataclass
class Route:
    kind: str  # "subject": by the USUBJID mapping; "all": every chunk (lookups); "once": the first chunk
    domain: str = ""
    mapping: dict | None = None
    rename: dict = field(default_factory=dict)  # merge key column of this source -> the base's column
    columns: list = field(default_factory=list)  # the columns of this source its subject is read from


def routes(spec) -> dict[str, Route]:
    """How the records of each source find their chunk; NotChunkable when a source cannot be split."""
    from sdtm.prepare import from_sources
    from specs.references import stages as late_stages
    from specs.raw_columns import raw_columns_used
    from specs.vocabulary import ALGORITHMS, MAP

    late, _ = late_stages(spec.domains)
    lookups = {n for n, s in spec.sources.items() if s.get("role") == "lookup"}
    found: dict[str, Route] = {n: Route("all") for n in lookups}

    def place(source: str, route: Route) -> None:
        known = found.get(source)
        if known is not None and known.kind != route.kind and "all" not in (known.kind, route.kind):
            raise NotChunkable(f"source {source} is read by a domain with USUBJID and by one without")
        found.setdefault(source, route)

    for name, domain in spec.domains.items():
        if "from" not in domain:
            continue
        sources = from_sources(domain)
        merges = [m for m in domain.get("merge") or [] if m["source"] not in lookups]
        variable = next((v for v in domain.get("variables", []) if v.get("name") == "USUBJID"), None)
        if variable is None:
            for source in sources + [m["source"] for m in merges]:
                place(source, Route("once"))
            continue
        mapping = variable.get("map") or {}
        if ALGORITHMS.get(mapping.get("algorithm")) is None or ALGORITHMS[mapping["algorithm"]].kind != MAP or \
                (name, "USUBJID") in late:
            raise NotChunkable(f"{name}.USUBJID is not mapped from the raw record")
        columns = sorted({c for _, c in raw_columns_used({"variables": [variable]})})
        if not columns:
            raise NotChunkable(f"{name}.USUBJID reads no raw column")
        for source in sources:
            place(source, Route("subject", name, mapping, columns=columns))
        for merge in merges:
            left = list(merge.get("left_on", merge.get("by", [])))
            right = list(merge.get("right_on", merge.get("by", [])))
            if not set(columns) <= set(left):
                raise NotChunkable(f"{name}: {merge['source']} is merged by {', '.join(left)}, not by the subject")
            rename = {right[left.index(c)]: c for c in columns}
            place(merge["source"], Route("subject", name, mapping, rename, list(rename)))
        dedupe = domain.get("dedupe")
        if dedupe and not set(columns) <= set(dedupe.get("by", [])):
            raise NotChunkable(f"{name}: de-duplicated by {', '.join(dedupe.get('by', []))}, not by the subject")
    return found


def subject_ids(spec, ct, route: Route, table: pd.DataFrame) -> pd.Series:
    """The USUBJID of each raw record, by the mapping the domain itself uses ('' when it has none)."""
    from sdtm.algorithms import MapContext, run_map
    from sdtm.unique import text_of

    frame = table
    if route.rename:
        frame = table[list(route.rename) + [c for c in ("__file", "__row", "__key") if c in table]]
        frame = frame.rename(columns=route.rename)
    ctx = MapContext(spec.studyid, route.domain, "USUBJID", None, ct, spec.design.get("visits", []),
                     spec.design.get("arms", []), lookups=getattr(spec, "lookups", {}))
    return text_of(run_map(frame, route.mapping, ctx))


@dataclass
class Partition:
    boundaries: list[str]  # the first USUBJID of each chunk, sorted
    assigned: dict[str, np.ndarray | str]  # source -> chunk of each record, or "all" / "once"
    size: int = 0  # subjects a chunk (the last one may hold fewer)

    @property
    def chunks(self) -> int:
        return len(self.boundaries)


def partition(spec, ct, tables: dict[str, pd.DataFrame], chunk_subjects: int, workers: int = 1
              ) -> tuple[Partition, str]:
    """The chunks of contiguous subjects and the chunk of every raw record; one chunk (and why) when the
    sources cannot be split or the study is small."""
    reading = SubjectReading(spec, ct)
    for name, table in tables.items():
        reading.add(name, table)
    return reading.partition(chunk_subjects, workers)


def chunk_size(subjects: int, most: int, workers: int = 1) -> int:
    """Subjects a chunk: at most ``most``, the chunks evened out, as many as a multiple of the workers (10,833
    subjects, at most 2,000 a chunk: 6 chunks of 1,806, not 5 of 2,000 and one of 833 that leaves a worker
    idle while the other maps a whole chunk)."""
    count = -(-subjects // most)
    count = -(-count // workers) * workers
    return max(1, -(-subjects // count))


class SubjectReading:
    """The subject of each raw record, source after source and a record batch at a time (each part can be
    let go once read): the USUBJID its domain's mapping gives, kept as codes of its distinct values."""

    def __init__(self, spec, ct):
        self.spec, self.ct = spec, ct
        self.ids: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}  # source -> each part's codes, values
        self.kinds: dict[str, str] = {}
        self.why = ""
        try:
            self.found = routes(spec) if ct is not None else {}
        except NotChunkable as why:
            self.found, self.why = {}, str(why)

    def route(self, name: str) -> Route:
        return self.found.get(name, Route("once"))

    def drop(self, name: str) -> None:
        """Forget what was read of a source (read again from its start)."""
        self.ids.pop(name, None)
        self.kinds.pop(name, None)

    def add(self, name: str, table: pd.DataFrame) -> None:
        """The next part of a source's records (the whole table, or its next record batch)."""
        route = self.found.get(name, Route("once"))
        self.kinds[name] = route.kind
        if self.why or self.ct is None or route.kind != "subject":
            return
        try:
            missing = [c for c in route.rename or {} if c not in table]
            if missing:
                raise NotChunkable(f"{name}: no column {', '.join(missing)}")
            codes, uniques = pd.factorize(subject_ids(self.spec, self.ct, route, table))
            self.ids.setdefault(name, []).append((codes.astype(np.int32), np.asarray(uniques, dtype=object)))
        except Exception as exc:  # noqa: BLE001 - whatever the mapping refuses, the one-chunk run reports as usual
            self.why = str(exc) if isinstance(exc, NotChunkable) else \
                f"the subject identifiers cannot be read ({type(exc).__name__}: {exc})"

    def partition(self, chunk_subjects: int, workers: int = 1) -> tuple[Partition, str]:
        whole = Partition([""], {name: "once" for name in self.kinds})
        if self.why or self.ct is None:
            return whole, self.why
        subjects = sorted(set().union(*(u for parts in self.ids.values() for _, u in parts)) - {""}) \
            if self.ids else []
        whole.size = len(subjects)
        if len(subjects) <= chunk_subjects:
            return whole, ""
        size = chunk_size(len(subjects), chunk_subjects, workers)
        boundaries = subjects[::size]
        edges = np.array(boundaries, dtype=object)
        assigned: dict[str, np.ndarray | str] = {}
        for name, kind in self.kinds.items():
            if name not in self.ids:
                assigned[name] = kind if kind in ("all", "once") else "once"
                continue
            parts = [np.maximum(np.searchsorted(edges, uniques, side="right") - 1, 0)[codes] if len(codes) else
                     np.zeros(0, dtype=np.int64) for codes, uniques in self.ids[name]]
            assigned[name] = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return Partition(boundaries, assigned, size), ""
