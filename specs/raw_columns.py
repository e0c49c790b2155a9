"""What a domain reads from the raw records: the conditions, expressions and templates it evaluates on them
and the raw columns it names, and the check that each of those columns exists in its source."""
from __future__ import annotations

from pathlib import Path

from specs.errors import Problem
from specs.vocabulary import ACTUAL_ARM_ALGORITHMS, ALGORITHMS, MAP


def sources_of(domain: dict) -> list[str]:
    """The raw sources a domain's records come from (its ``from``: one name or a list)."""
    value = domain.get("from")
    return [] if value is None else ([value] if isinstance(value, str) else list(value))

def _mapping_texts(mapping: dict, path: tuple):
    """(path, kind, text) of the conditions, expressions and templates a map-kind mapping reads."""
    algorithm = mapping.get("algorithm")
    if ALGORITHMS.get(algorithm) is None or ALGORITHMS[algorithm].kind != MAP:
        return
    if isinstance(mapping.get("expr"), str):
        yield path + ("expr",), "expression", mapping["expr"]
    if algorithm == "assign_template" and isinstance(mapping.get("template"), str):
        yield path + ("template",), "template", mapping["template"]
    if algorithm == "condition_add":
        for index, case in enumerate(mapping.get("cases") or []):
            if not isinstance(case, dict):
                continue
            if isinstance(case.get("when"), str):
                yield path + ("cases", index, "when"), "condition", case["when"]
            if isinstance(case.get("then"), dict):
                yield from _mapping_texts(case["then"], path + ("cases", index, "then"))
        if isinstance(mapping.get("otherwise"), dict):
            yield from _mapping_texts(mapping["otherwise"], path + ("otherwise",))


def raw_texts(domain: dict):
    """(path within the domain, kind, text) of every condition, expression and template read on the raw
    records of a domain (kind: condition, expression or template)."""
    for index, variable in enumerate(domain["variables"]):
        if isinstance(variable.get("map"), dict):
            yield from _mapping_texts(variable["map"], ("variables", index, "map"))
    if isinstance((domain.get("where") or {}).get("condition"), str):
        yield ("where", "condition"), "condition", domain["where"]["condition"]
    not_done = (domain.get("melt") or {}).get("not_done") or {}
    if isinstance(not_done.get("when"), str):
        yield ("melt", "not_done", "when"), "condition", not_done["when"]


def parse_text(kind: str, text: str):
    from specs.conditions import parse_condition, parse_expression, parse_template

    return {"condition": parse_condition, "expression": parse_expression, "template": parse_template}[kind](text)


def format_path(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def raw_columns_used(domain: dict) -> list[tuple[tuple, str]]:
    """(path within the domain, raw column) for every raw column the domain's mapping reads."""
    used: list[tuple[tuple, str]] = []

    def visit_mapping(mapping: dict, path: tuple) -> None:
        algorithm = mapping.get("algorithm")
        if algorithm in ("derive_stnr", *ACTUAL_ARM_ALGORITHMS) and isinstance(mapping.get("source"), str):
            used.append((path + ("source",), mapping["source"]))  # a raw limit converted with the results
        if ALGORITHMS.get(algorithm) is None or ALGORITHMS[algorithm].kind != MAP:
            return
        for arg in ("source", "date", "time", "minutes"):
            if isinstance(mapping.get(arg), str):
                used.append((path + (arg,), mapping[arg]))
        if algorithm == "condition_add":
            for index, case in enumerate(mapping.get("cases") or []):
                if isinstance(case, dict) and isinstance(case.get("then"), dict):
                    visit_mapping(case["then"], path + ("cases", index, "then"))
            if isinstance(mapping.get("otherwise"), dict):
                visit_mapping(mapping["otherwise"], path + ("otherwise",))

    for index, variable in enumerate(domain["variables"]):
        if variable.get("map"):
            visit_mapping(variable["map"], ("variables", index, "map"))
    for path, kind, text in raw_texts(domain):
        try:
            for column in sorted(parse_text(kind, text).columns):
                used.append((path, column))
        except ValueError:
            pass
    for arg in ("by", "order"):
        for column in (domain.get("dedupe") or {}).get(arg, []):
            used.append((("dedupe", arg), column))
    for column in (domain.get("melt") or {}).get("columns", {}):
        used.append((("melt", "columns"), column))
    return used


def check_raw_columns(spec, headers: dict[str, list[str]]) -> list[Problem]:
    """Every raw column a domain reads, or whose values a source declares, must exist in its source (or a
    merged source)."""
    problems: list[Problem] = []
    for name, source in spec.sources.items():
        for column in (source.get("values") or {}) if name in headers else []:
            if column not in headers[name]:
                problems.append(Problem(spec.where("study", "sources", name, "values", column),
                                        f"'{column}' is not a column of {Path(source['path']).name}"))
    columns_of: dict[str, set[str]] = {}  # what each mapped domain's records hold, for from_domain
    for name, domain in spec.domains.items():
        other = domain.get("from_domain")
        if other in columns_of:
            file_name = f"the records of {other}"
            source_columns = columns_of[other]
        else:
            sources = [s for s in sources_of(domain) if s in headers]
            if not sources:
                continue
            file_name = " or ".join(Path(spec.sources[s]["path"]).name for s in sources)
            for source in sources:
                if "RAWSOURCE" in headers[source]:
                    problems.append(Problem(spec.where("sdtm", "domains", name, "from"),
                                            f"{Path(spec.sources[source]['path']).name} has a column RAWSOURCE, "
                                            f"the name the toolkit gives each record's source: rename it"))
            source_columns = set().union(*(headers[s] for s in sources)) | {"RAWSOURCE"}
        available = set(source_columns)
        for index, merge in enumerate(domain.get("merge", [])):
            right = headers.get(merge["source"], [])
            right_name = Path(spec.sources[merge["source"]]["path"]).name
            for column in merge.get("right_on", merge.get("by", [])):
                if column not in right:
                    problems.append(Problem(spec.where("sdtm", "domains", name, "merge", index),
                                            f"'{column}' is not a column of {right_name}"))
            for column in merge.get("left_on", merge.get("by", [])):
                if column not in available:
                    problems.append(Problem(spec.where("sdtm", "domains", name, "merge", index),
                                            f"'{column}' is not a column of {file_name} or an earlier merge"))
            for column in merge.get("columns", []):
                if column not in right:
                    problems.append(Problem(spec.where("sdtm", "domains", name, "merge", index, "columns"),
                                            f"'{column}' is not a column of {right_name}"))
                elif column in available and column not in merge.get("left_on", merge.get("by", [])):
                    problems.append(Problem(spec.where("sdtm", "domains", name, "merge", index, "columns"),
                                            f"'{column}' is a column of both {right_name} and {file_name} (or "
                                            f"an earlier merge): one name for two values; leave it out of "
                                            f"columns or rename one of them"))
            available |= set(merge.get("columns") or right)
        melt = domain.get("melt")
        if melt:
            made = {melt["name"], melt["value"]} | {(melt.get("not_done") or {}).get("status")} - {None}
            for column in sorted(made & available):
                problems.append(Problem(spec.where("sdtm", "domains", name, "melt"),
                                        f"'{column}' is already a column of {file_name}: the melt would overwrite "
                                        f"it; choose another name"))
            available |= made
        columns_of[name] = available | {v["name"] for v in domain["variables"]}
        for path, column in raw_columns_used(domain):
            if path[0] == "melt":
                if column not in source_columns:
                    problems.append(Problem(spec.where("sdtm", "domains", name, *path),
                                            f"'{column}' is not a column of {file_name}"))
            elif column not in available:
                problems.append(Problem(spec.where("sdtm", "domains", name, *path),
                                        f"'{column}' is not a column of {file_name}"))
    return problems
