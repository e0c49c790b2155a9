"""Mappings that read mapped SDTM variables: ``DOMAIN.NAME`` in a condition, an expression or a template
(treatment-emergent: ``date(AE.AESTDTC) >= date(DM.RFXSTDTC)``). Such a mapping cannot be computed from
the raw record alone: the engine computes it after the variables it reads, at the stage this module
works out (the largest stage of what it reads, plus one half), on the domain's raw records together with
those variables (another domain's variable is the value of the subject's record there).
"""
from __future__ import annotations

from specs.vocabulary import ALGORITHMS, BUILD_STAGE, DERIVE, MAP

LATE_STEP = 0.5


def mapping_texts(mapping: dict):
    """(kind, text) of the conditions, expressions and templates of a map-kind mapping, cases included."""
    if not isinstance(mapping, dict):
        return
    algorithm = mapping.get("algorithm")
    if ALGORITHMS.get(algorithm) is None or ALGORITHMS[algorithm].kind != MAP:
        return
    if isinstance(mapping.get("expr"), str):
        yield "expression", mapping["expr"]
    if algorithm == "assign_template" and isinstance(mapping.get("template"), str):
        yield "template", mapping["template"]
    if algorithm == "condition_add":
        for case in mapping.get("cases") or []:
            if isinstance(case, dict):
                if isinstance(case.get("when"), str):
                    yield "condition", case["when"]
                yield from mapping_texts(case.get("then"))
        yield from mapping_texts(mapping.get("otherwise"))


def variables_read(mapping: dict) -> set[str]:
    """'DOMAIN.NAME' of every mapped SDTM variable a map-kind mapping reads (texts that do not parse
    read nothing here: they are reported by the spec checks)."""
    from specs.conditions import ConditionError, parse_condition, parse_expression, parse_template

    parse = {"condition": parse_condition, "expression": parse_expression, "template": parse_template}
    found: set[str] = set()
    for kind, text in mapping_texts(mapping):
        try:
            found |= parse[kind](text).variables
        except ConditionError:
            pass
    return found


def _variable(domains: dict, domain: str, name: str) -> dict | None:
    for variable in (domains.get(domain) or {}).get("variables") or []:
        if variable.get("name") == name:
            return variable
    return None


def stages(domains: dict) -> tuple[dict[tuple[str, str], float], list[tuple[tuple[str, str], str]]]:
    """(stage of every variable that reads mapped variables, problems as ((domain, variable), message)).

    A variable mapped from the raw record is ready at stage 0; a derived one at its algorithm's stage; a
    variable of a built domain at the build's stage; one that reads mapped variables half a stage after
    the latest of them. A variable that reads itself, directly or through others, is a problem.
    """
    late: dict[tuple[str, str], float] = {}
    problems: list[tuple[tuple[str, str], str]] = []

    def stage(domain: str, name: str, chain: tuple) -> float:
        variable = _variable(domains, domain, name)
        if variable is None:
            return 0.0
        mapping = variable.get("map")
        if not isinstance(mapping, dict) or mapping.get("algorithm") not in ALGORITHMS:
            return float(BUILD_STAGE.get((domains.get(domain) or {}).get("build"), 0))
        algorithm = ALGORITHMS[mapping["algorithm"]]
        if algorithm.kind == DERIVE:
            return float(algorithm.stage)
        reads = variables_read(mapping)
        if not reads:
            return 0.0
        key = (domain, name)
        if key in late:
            return late[key]
        if key in chain:
            cycle = " -> ".join(f"{d}.{v}" for d, v in chain[chain.index(key):] + (key,))
            problems.append((key, f"reads itself: {cycle}"))
            late[key] = 0.0
            return 0.0
        deepest = max((stage(*read.split(".", 1), chain + (key,)) for read in sorted(reads)), default=0.0)
        late[key] = deepest + LATE_STEP
        return late[key]

    for domain, spec in domains.items():
        for variable in spec.get("variables") or []:
            stage(domain, variable.get("name"), ())
    return late, problems
