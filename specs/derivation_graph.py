"""The order of derivations: which derived variables (and SE) each derivation reads, the cycles a spec
must not have, and an order in which each derivation comes after what it reads."""
from __future__ import annotations

import heapq

from specs.errors import Problem
from specs.vocabulary import ACTUAL_ARM_ALGORITHMS, ALGORITHMS, DERIVE

SE_NODE = ("SE", "")  # the derive_se build: SE from the design's element rules


def _reads(domain: str, mapping: dict, spec) -> set[tuple[str, str]]:
    """The variables (domain, name) a derive-kind mapping reads: arguments naming variables of its domain,
    the other domains' variables it names, and what the algorithm reads by definition (DM's reference
    dates, SE)."""
    algorithm = mapping.get("algorithm")
    spec_of = ALGORITHMS.get(algorithm)
    own = {v["name"] for v in spec.domains.get(domain, {}).get("variables", [])}
    reads: set[tuple[str, str]] = set()
    for arg, value in mapping.items():
        if arg in ("algorithm", "sources"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item in own:
                reads.add((domain, item))
    for source in mapping.get("sources") or []:
        if not isinstance(source, dict) or "domain" not in source:
            continue
        if source.get("variable"):
            reads.add((source["domain"], source["variable"]))
        reads |= {(source["domain"], c) for c in _condition_columns(source.get("where"))}
        reads.add((source["domain"], "USUBJID"))
    defaults = dict(spec_of.defaults) if spec_of is not None else {}
    if algorithm == "derive_study_day":
        reads.add(("DM", "RFSTDTC"))
    if algorithm in ("derive_blfl", "derive_lobxfl"):
        reads.add(("DM", mapping.get("reference") or defaults.get("reference", "RFXSTDTC")))
    if algorithm == "derive_epoch" or algorithm in ACTUAL_ARM_ALGORITHMS:
        reads.add(SE_NODE)
    if algorithm in ACTUAL_ARM_ALGORITHMS:
        reads.add(("DM", "ARMCD"))
    return reads


def _condition_columns(text) -> set[str]:
    from specs.conditions import parse_condition

    if not isinstance(text, str):
        return set()
    try:
        return set(parse_condition(text).columns)
    except ValueError:
        return set()


def derivation_graph(spec) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """Each derive-kind variable (and SE, when built, and each mapping that reads mapped variables) -> the
    derived or late variables it reads. Variables mapped from the raw record alone are ready before any
    derivation and are left out."""
    derived = {(name, v["name"]): v["map"] for name, domain in spec.domains.items()
               for v in domain["variables"] if isinstance(v.get("map"), dict)
               and ALGORITHMS.get(v["map"].get("algorithm")) is not None
               and ALGORITHMS[v["map"]["algorithm"]].kind == DERIVE}
    from specs.references import variables_read

    late = {}  # map-kind mappings reading mapped variables (DOMAIN.NAME): computed among the derivations
    for name, domain in spec.domains.items():
        for v in domain["variables"]:
            if (name, v["name"]) not in derived and isinstance(v.get("map"), dict):
                reads = {tuple(key.split(".", 1)) for key in variables_read(v["map"])}
                if reads:
                    late[(name, v["name"])] = reads
    has_se = any(domain.get("build") == "derive_se" for domain in spec.domains.values())
    nodes = set(derived) | set(late) | ({SE_NODE} if has_se else set())
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for node, mapping in derived.items():
        graph[node] = {r for r in _reads(node[0], mapping, spec) if r in nodes}
    for node, reads in late.items():
        graph[node] = {r for r in reads if r in nodes}
    if has_se:
        reads = {("DM", "RFPENDTC"), ("DM", "ARMCD")}
        for element in spec.design.get("elements", []):
            start = element.get("start") or {}
            if "domain" in start and "variable" in start:
                reads.add((start["domain"], start["variable"]))
                reads |= {(start["domain"], c) for c in _condition_columns(start.get("where"))}
        graph[SE_NODE] = {r for r in reads if r in nodes}
    return graph


def _node_name(node: tuple[str, str]) -> str:
    return "SE (derive_se)" if node == SE_NODE else f"{node[0]}.{node[1]}"


def dependency_cycles(graph: dict) -> list[list[tuple[str, str]]]:
    """Every elementary cycle found by a depth-first walk, each once, as [a, b, ..., a]."""
    cycles, seen_cycles = [], set()
    state: dict = {}  # node -> 1 on the current path, 2 done
    path: list = []

    def visit(node) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    cycles.append(cycle)
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def check_cycles(spec, problems: list[Problem]) -> None:
    """A derivation that needs itself, directly or through other domains, can never be computed (today it
    would be read empty): a spec error with the path of the cycle."""
    for cycle in dependency_cycles(derivation_graph(spec)):
        first = cycle[0]
        if first == SE_NODE:
            where = spec.where("sdtm", "domains", "SE")
        else:
            names = [v["name"] for v in spec.domains[first[0]]["variables"]]
            where = spec.where("sdtm", "domains", first[0], "variables", names.index(first[1]), "map")
        problems.append(Problem(where, "dependency cycle: " + " -> ".join(_node_name(n) for n in cycle) +
                                " (each needs the next): no order can derive them"))


def derivation_order(spec, priority) -> list[tuple[str, str]]:
    """The derive-kind variables (and SE) in an order where each comes after what it reads; among those
    ready, the lowest ``priority(node)`` first (the vocabulary's stages, then spec order). Assumes no cycle."""
    graph = derivation_graph(spec)
    waiting = {node: set(reads) - {node} for node, reads in graph.items()}
    readers: dict = {}
    for node, reads in waiting.items():
        for read in reads:
            readers.setdefault(read, set()).add(node)
    ready = [(priority(n), n) for n, reads in waiting.items() if not reads]
    heapq.heapify(ready)
    order = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for reader in sorted(readers.get(node, ())):
            waiting[reader].discard(node)
            if not waiting[reader]:
                heapq.heappush(ready, (priority(reader), reader))
    return order
