"""Spec checks a JSON Schema cannot make: names that must exist, algorithms and their arguments,
conditions that must parse, codelists that must be in the study CT, types that must agree.

Every check appends a Problem with the file and path; nothing raises until all are collected.
"""
from __future__ import annotations


from specs.derivation_graph import check_cycles
from specs.errors import Problem
from specs.expressions import QUOTING_HINT
from specs.raw_columns import format_path, parse_text, raw_texts, sources_of
from specs.ts_parameters import check_ts_items
from specs.model import domain_variables
from specs.units import check_units
from specs.visit_match import normal, patterns
from specs.vocabulary import (ACTUAL_ARM_ALGORITHMS, ALGORITHMS, DERIVE, EPOCH_SAME_DAY, MAP, date_format_problem,
                              time_format_problem)

NUMERIC_ALGORITHMS = {
    "assign_numeric", "derive_visitnum", "derive_visitdy", "derive_study_day", "derive_seq", "derive_tptnum",
    "derive_stresn", "derive_age", "derive_stnr",
}
# derive-kind arguments that name variables of the same domain
VARIABLE_ARGS = ("testcd", "orres", "orresu", "stresc", "stresn", "lo", "hi", "ornr", "dtc", "result",
                 "birth", "ref", "stat", "tpt", "eltm")
# what an algorithm may do instead of stopping the run on a value that is not a number (error: stop)
ON_INVALID = {"assign_numeric": ("error", "missing"), "derive_stnr": ("error", "missing"),
              "derive_stresc": ("error", "text")}


# how a study adds a codelist the CDISC CT lacks, said wherever a codelist is unknown
CT_HINT = ("neither the CDISC CT of study.ct.sdtm nor a file of study.ct.files has it: a study adds its own "
           "codelists and terms in a CSV file listed in study.yaml study.ct.files; see "
           "docs/spec-reference.md#study-controlled-terminology")

TIMEPOINT_ALGORITHMS = {"derive_tpt", "derive_tptnum", "derive_eltm", "derive_tptref"}


def _algorithms_in(mapping: dict) -> set[str]:
    """The algorithm names a mapping uses, condition_add cases included."""
    if not isinstance(mapping, dict):
        return set()
    found = {mapping.get("algorithm")}
    for case in mapping.get("cases") or []:
        if isinstance(case, dict):
            found |= _algorithms_in(case.get("then"))
    return found | _algorithms_in(mapping.get("otherwise"))


def _parse_condition(text: str):
    from specs.conditions import parse_condition

    return parse_condition(text)


def _ct():
    try:
        from specs.ct import load_ct

        return load_ct()
    except Exception:  # CT subset missing: reported by the run itself
        return None


def map_type(mapping: dict) -> str | None:
    """The type an algorithm produces: 'Num', 'Char' or None when it depends on its cases."""
    algorithm = mapping.get("algorithm")
    if algorithm in NUMERIC_ALGORITHMS:
        return "Num"
    if algorithm in ("hardcode_no_ct", "hardcode_ct"):
        return "Num" if isinstance(mapping.get("value"), (int, float)) else "Char"
    if algorithm == "condition_add":
        return None
    return "Char"


def check_mapping(mapping: dict, where: str, kind_allowed: set[str], ct, problems: list[Problem]) -> None:
    algorithm = mapping.get("algorithm")
    spec = ALGORITHMS.get(algorithm)
    if spec is None:
        known = ", ".join(sorted(ALGORITHMS))
        problems.append(Problem(f"{where}.algorithm", f"unknown algorithm '{algorithm}' (known: {known}; see "
                                                      f"docs/spec-reference.md#algorithms)"))
        return
    if spec.kind not in kind_allowed:
        problems.append(Problem(f"{where}.algorithm", f"'{algorithm}' maps raw records and needs a domain with "
                                                      f"'from'"))
    args = set(mapping) - {"algorithm"}
    for missing in [a for a in spec.required if a not in args]:
        problems.append(Problem(where, f"'{algorithm}' needs the argument '{missing}'"))
    for unknown in sorted(args - set(spec.required) - set(spec.optional)):
        allowed = ", ".join(spec.required + spec.optional) or "none"
        problems.append(Problem(f"{where}.{unknown}", f"'{algorithm}' takes no argument '{unknown}' "
                                                      f"(it takes: {allowed})"))
    if "on_invalid" in mapping and mapping["on_invalid"] not in ON_INVALID.get(algorithm, ("error",)):
        problems.append(Problem(f"{where}.on_invalid", f"'{algorithm}' takes on_invalid: "
                                                       f"{' or '.join(ON_INVALID.get(algorithm, ('error',)))}, "
                                                       f"not {mapping['on_invalid']!r}"))
    for group in spec.one_of:
        given = [a for a in group if a in args]
        if len(given) != 1:
            choices = " or ".join(f"'{a}'" for a in group)
            problems.append(Problem(where, f"'{algorithm}' needs one of {choices}" if not given else
                                    f"'{algorithm}' takes {choices}, not both"))
    codelist = mapping.get("codelist")
    if codelist and ct is not None and not ct.has(codelist):
        problems.append(Problem(f"{where}.codelist", f"codelist '{codelist}' is not in the study CT ({CT_HINT})"))
    if algorithm == "assign_datetime":
        check_datetime_args(mapping, where, problems)
    if algorithm == "condition_add":
        for index, case in enumerate(mapping.get("cases") or []):
            case_where = f"{where}.cases[{index}]"
            if not isinstance(case, dict) or "when" not in case or "then" not in case:
                problems.append(Problem(case_where, "a case needs 'when' (a condition) and 'then' (a mapping)"))
                continue
            check_mapping(case["then"], f"{case_where}.then", {MAP}, ct, problems)
        if "otherwise" in mapping:
            check_mapping(mapping["otherwise"], f"{where}.otherwise", {MAP}, ct, problems)


def check_datetime_args(mapping: dict, where: str, problems: list[Problem]) -> None:
    """Format names must be known (a list is tried in order); cutoff_2000 is a two-digit year."""
    for arg, check in (("format", date_format_problem), ("time_format", time_format_problem)):
        if arg not in mapping:
            continue
        value = mapping[arg]
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names:
            problems.append(Problem(f"{where}.{arg}", "a format name or a non-empty list of format names"))
            continue
        for index, name in enumerate(names):
            message = check(name)
            if message:
                at = f"{where}.{arg}" + (f"[{index}]" if isinstance(value, list) else "")
                problems.append(Problem(at, message))
    cutoff = mapping.get("cutoff_2000", 0)
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or not 0 <= cutoff <= 99:
        problems.append(Problem(f"{where}.cutoff_2000", f"{cutoff!r} is not a two-digit year (0 to 99): years "
                                                        f"YY <= cutoff_2000 are 20YY, the others 19YY"))


def check_domain(spec, name: str, domain: dict, ct, problems: list[Problem]) -> None:
    base = spec.where("sdtm", "domains", name)
    other = domain.get("from_domain")
    if other is not None:
        earlier = list(spec.domains)[:list(spec.domains).index(name)]
        if other not in earlier or not ({"from", "from_domain"} & set(spec.domains[other])):
            problems.append(Problem(f"{base}.from_domain", f"'{other}' is not a domain mapped from raw records "
                                                          f"earlier in sdtm.yaml"))
    for source in sources_of(domain):
        if source not in spec.sources:
            problems.append(Problem(f"{base}.from", f"'{source}' is not a source of study.yaml "
                                                    f"(sources: {', '.join(sorted(spec.sources))})"))
    for index, merge in enumerate(domain.get("merge", [])):
        if merge["source"] not in spec.sources:
            problems.append(Problem(f"{base}.merge[{index}].source", f"'{merge['source']}' is not a source of "
                                                                     f"study.yaml"))
        if "by" not in merge and not ("left_on" in merge and "right_on" in merge):
            problems.append(Problem(f"{base}.merge[{index}]", "needs 'by' or both 'left_on' and 'right_on'"))
    check_texts(spec, base, domain, problems)
    problems += check_units(f"{base}.standard_units", domain.get("standard_units"))

    labels = [" ".join(str(t["label"]).split()).casefold() for t in domain.get("timepoints", [])]
    for index, label in enumerate(labels):
        if label in labels[:index]:
            problems.append(Problem(f"{base}.timepoints[{index}].label",
                                    f"'{domain['timepoints'][index]['label']}' is listed twice"))
    names = [v["name"] for v in domain["variables"]]
    seen = set()
    for index, variable in enumerate(domain["variables"]):
        where = f"{base}.variables[{index}]"
        if variable["name"] in seen:
            problems.append(Problem(f"{where}.name", f"'{variable['name']}' is declared twice"))
        seen.add(variable["name"])
        if variable.get("codelist") and ct is not None and not ct.has(variable["codelist"]) and \
                variable["codelist"] not in spec.study.get("dictionaries", {}):
            problems.append(Problem(f"{where}.codelist", f"codelist '{variable['codelist']}' is not in the "
                                                         f"study CT ({CT_HINT})"))
        mapping = variable.get("map")
        if mapping is None:
            continue
        kinds = {MAP, DERIVE} if {"from", "from_domain"} & set(domain) else {DERIVE}
        check_mapping(mapping, f"{where}.map", kinds, ct, problems)
        if _algorithms_in(mapping) & TIMEPOINT_ALGORITHMS and not domain.get("timepoints"):
            problems.append(Problem(f"{where}.map", f"{name} has no time point table (timepoints:) for "
                                                    f"{', '.join(sorted(_algorithms_in(mapping) & TIMEPOINT_ALGORITHMS))}"))
        produced = map_type(mapping)
        declared = variable.get("type")
        if declared and produced and declared != produced and mapping.get("algorithm") in ALGORITHMS:
            problems.append(Problem(f"{where}.type", f"{variable['name']} is declared {declared} but "
                                                     f"'{mapping['algorithm']}' gives {produced}"))
        for arg in VARIABLE_ARGS:
            target = mapping.get(arg)
            if isinstance(target, str) and ALGORITHMS.get(mapping.get("algorithm"), None) and \
                    ALGORITHMS[mapping["algorithm"]].kind == DERIVE and target not in names:
                problems.append(Problem(f"{where}.map.{arg}", f"'{target}' is not a variable of {name}"))
        for arg in ("by", "order"):
            for target in mapping.get(arg) or []:
                if ALGORITHMS.get(mapping.get("algorithm")) and target not in names:
                    problems.append(Problem(f"{where}.map.{arg}", f"'{target}' is not a variable of {name}"))
        if mapping.get("algorithm") == "derive_stnr" and ("ornr" in mapping) == ("source" in mapping):
            problems.append(Problem(f"{where}.map", "'derive_stnr' needs either 'ornr' (a variable of the domain) "
                                                    "or 'source' (a raw column), not both"))
        if mapping.get("algorithm") == "derive_stnr" and "source" in mapping and \
                not {"from", "from_domain"} & set(domain):
            problems.append(Problem(f"{where}.map.source", f"{name} has no raw records to read "
                                                           f"'{mapping['source']}' from"))
        if mapping.get("algorithm") in ("derive_blfl", "derive_lobxfl"):
            check_baseline(spec, mapping, f"{where}.map", names, problems)
        if mapping.get("algorithm") == "derive_epoch" and mapping.get("same_day", "later") not in EPOCH_SAME_DAY:
            problems.append(Problem(f"{where}.map.same_day", f"'{mapping['same_day']}' is not one of "
                                                             f"{', '.join(EPOCH_SAME_DAY)}"))
        if mapping.get("algorithm") in (*ACTUAL_ARM_ALGORITHMS, "derive_armcd", "derive_arm"):
            check_arm_mapping(spec, name, domain, mapping, f"{where}.map", problems)
        if mapping.get("algorithm") in ("derive_rf_date", "derive_exist_flag"):
            for i, source in enumerate(mapping.get("sources") or []):
                needed = {"domain", "variable"} if mapping["algorithm"] == "derive_rf_date" else {"domain"}
                if not isinstance(source, dict) or not needed <= set(source):
                    problems.append(Problem(f"{where}.map.sources[{i}]", f"needs {' and '.join(sorted(needed))}"))
                    continue
                other = spec.domains.get(source["domain"])
                if other is None:
                    problems.append(Problem(f"{where}.map.sources[{i}].domain",
                                            f"'{source['domain']}' is not a domain of the spec"))
                elif "variable" in source and source["variable"] not in [v["name"] for v in other["variables"]]:
                    problems.append(Problem(f"{where}.map.sources[{i}].variable",
                                            f"'{source['variable']}' is not a variable of {source['domain']}"))
                if "where" in source:
                    try:
                        _parse_condition(source["where"])
                    except ValueError as exc:
                        problems.append(Problem(f"{where}.map.sources[{i}].where", str(exc)))
    intervals = domain.get("intervals") or {}
    for arg in ("start", "end"):
        if arg in intervals and intervals[arg] not in names:
            problems.append(Problem(f"{base}.intervals.{arg}", f"'{intervals[arg]}' is not a variable of {name}"))
    for target in intervals.get("by", []):
        if target not in names:
            problems.append(Problem(f"{base}.intervals.by", f"'{target}' is not a variable of {name}"))
    for key_name in ("keys", "sort"):
        for target in domain.get(key_name, []):
            if target not in names:
                problems.append(Problem(f"{base}.{key_name}", f"'{target}' is not a variable of {name}"))
    for variable in domain_variables(name, domain):
        if not variable.label:
            index = names.index(variable.name)
            problems.append(Problem(f"{base}.variables[{index}]", f"{variable.name} is not an SDTMIG 3.4 "
                                                                  f"variable of {name}: give its label and type"))


def check_baseline(spec, mapping: dict, where: str, names: list[str], problems: list[Problem]) -> None:
    """derive_blfl / derive_lobxfl: the DM reference variable, the same-day rule, the lists' variables."""
    reference = mapping.get("reference")
    dm = [v["name"] for v in spec.domains.get("DM", {}).get("variables", [])]
    if reference is not None and reference not in dm:
        problems.append(Problem(f"{where}.reference", f"'{reference}' is not a variable of DM"))
    if mapping.get("same_day", "listed") not in ("listed", "before"):
        problems.append(Problem(f"{where}.same_day", f"'{mapping['same_day']}' is not 'listed' or 'before'"))
    if mapping.get("visits") and "VISIT" not in names:
        problems.append(Problem(f"{where}.visits", "baseline visits need the variable VISIT in the domain"))
    if mapping.get("timepoints") and not mapping.get("tpt"):
        problems.append(Problem(f"{where}.timepoints", "baseline time points need 'tpt', the --TPT variable"))
    for arg in ("visits", "timepoints"):
        if arg in mapping and not (isinstance(mapping[arg], list) and all(isinstance(v, str) for v in mapping[arg])):
            problems.append(Problem(f"{where}.{arg}", "a list of texts"))


def check_arm_mapping(spec, name: str, domain: dict, mapping: dict, where: str, problems: list[Problem]) -> None:
    """Arm matching by the design's labels: an arm names the key; the actual-arm variables of a domain read
    the actual arm the same way; a collected actual treatment needs raw records."""
    arms = spec.design.get("arms", [])
    key = mapping.get("match", "actual" if mapping["algorithm"] in ACTUAL_ARM_ALGORITHMS and mapping.get("source") else None)
    if key is not None and not any(key in (arm.get("match") or {}) for arm in arms):
        problems.append(Problem(f"{where}.match", f"no arm of design.arms has match.{key} (give each arm's "
                                                  f"labels there)"))
    if mapping["algorithm"] not in ACTUAL_ARM_ALGORITHMS:
        return
    if mapping.get("sequences", "prefix") not in ("prefix", "listed"):
        problems.append(Problem(f"{where}.sequences", f"'{mapping['sequences']}' is not 'prefix' or 'listed'"))
    if mapping.get("source") and not {"from", "from_domain"} & set(domain):
        problems.append(Problem(f"{where}.source", f"{name} has no raw records to read '{mapping['source']}' from"))
    reads = {tuple(sorted((k, str(v)) for k, v in (variable.get("map") or {}).items() if k != "algorithm"))
             for variable in domain["variables"] if (variable.get("map") or {}).get("algorithm") in ACTUAL_ARM_ALGORITHMS}
    if len(reads) > 1 and mapping["algorithm"] == "derive_actarmcd":
        problems.append(Problem(where, f"{', '.join(ACTUAL_ARM_ALGORITHMS)} must read the actual arm alike (the same source, "
                                       f"match and sequences)"))


def check_design(spec, ct, problems: list[Problem]) -> None:
    design = spec.design
    etcds = [e["etcd"] for e in design.get("elements", [])]
    for index, arm in enumerate(design.get("arms", [])):
        for element in arm["elements"]:
            if element not in etcds:
                problems.append(Problem(spec.where("study", "design", "arms", index, "elements"),
                                        f"'{element}' is not an element of design.elements"))
        for number, sequence in enumerate(arm.get("sequences") or []):
            for element in sequence:
                if element not in etcds:
                    problems.append(Problem(spec.where("study", "design", "arms", index, "sequences", number),
                                            f"'{element}' is not an element of design.elements"))
    for index, element in enumerate(design.get("elements", [])):
        start = element["start"]
        if start["domain"] not in spec.domains:
            problems.append(Problem(spec.where("study", "design", "elements", index, "start", "domain"),
                                    f"'{start['domain']}' is not a domain of sdtm.yaml"))
        if "where" in start:
            try:
                _parse_condition(start["where"])
            except ValueError as exc:
                problems.append(Problem(spec.where("study", "design", "elements", index, "start", "where"),
                                        str(exc)))
    for index, field, message in check_ts_items(design.get("ts", []), ct):
        problems.append(Problem(spec.where("study", "design", "ts", index, field), message))
    for index, item in enumerate(design.get("ts", [])):
        rule = item.get("from")
        if not rule:
            continue
        domain = spec.domains.get(rule["domain"])
        if domain is None:
            problems.append(Problem(spec.where("study", "design", "ts", index, "from", "domain"),
                                    f"'{rule['domain']}' is not a domain of sdtm.yaml"))
        elif rule["variable"] not in [v["name"] for v in domain.get("variables", [])]:
            problems.append(Problem(spec.where("study", "design", "ts", index, "from", "variable"),
                                    f"'{rule['variable']}' is not a variable of {rule['domain']}"))
        if "where" in rule:
            try:
                _parse_condition(rule["where"])
            except ValueError as exc:
                problems.append(Problem(spec.where("study", "design", "ts", index, "from", "where"), str(exc)))
    visitnums = [v["visitnum"] for v in design.get("visits", [])]
    if len(visitnums) != len(set(visitnums)):
        problems.append(Problem(spec.where("study", "design", "visits"), "VISITNUM values must be unique"))
    check_visit_matches(spec, design, problems)


def check_visit_matches(spec, design: dict, problems: list[Problem]) -> None:
    """Visit patterns compile; a label is not given to two visits (case and spaces ignored)."""
    seen: dict[tuple[str, str], str] = {}
    entries = [(("study", "design", "visits", i, "match"), v.get("match") or {}, v.get("visit"))
               for i, v in enumerate(design.get("visits", []))]
    entries += [(("study", "design", "arms", i, "match"), a.get("match") or {}, None)
                for i, a in enumerate(design.get("arms", []))]
    if isinstance(design.get("unscheduled"), dict):
        entries.append((("study", "design", "unscheduled", "match"), design["unscheduled"].get("match") or {}, None))
    for path, match, visit in entries:
        for key, value in match.items():
            try:
                found = patterns(value)
            except ValueError as exc:
                problems.append(Problem(spec.where(*path, key), str(exc)))
                continue
            for pattern in found:
                if pattern.kind != "label" or visit is None:
                    continue
                label = (key, normal(pattern.text))
                if label in seen and seen[label] != visit:
                    problems.append(Problem(spec.where(*path, key), f"'{pattern.text}' is also the label of "
                                                                    f"{seen[label]} (case and spaces ignored)"))
                seen.setdefault(label, visit)


def check_spec(spec) -> list[Problem]:
    problems: list[Problem] = []
    ct = _ct()
    if ct is not None and (spec.study.get("ct") or {}).get("files"):
        from specs.errors import SpecError
        from specs.study_ct import study_ct

        try:  # the study's own terms and codelists count as the study CT
            ct = study_ct(spec, ct)
        except SpecError as exc:
            problems += exc.problems
    for name, domain in spec.domains.items():
        check_domain(spec, name, domain, ct, problems)
    check_cycles(spec, problems)
    check_design(spec, ct, problems)
    from specs.raw_values import check_condition_values, check_declared_values

    check_declared_values(spec, problems)
    check_condition_values(spec, problems)
    return problems


def check_texts(spec, base: str, domain: dict, problems: list[Problem]) -> None:
    """Every condition, expression and template parses, and the lookup tables it names exist."""
    tables = getattr(spec, "lookups", {}) or {}
    for path, kind, text in raw_texts(domain):
        where = f"{base}.{format_path(path)}"
        try:
            parsed = parse_text(kind, text)
        except ValueError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        for table in sorted(parsed.tables - set(tables)):
            known = ", ".join(sorted(tables)) or "none"
            problems.append(Problem(where, f"no lookup table '{table}' in study.yaml lookups (tables: {known}; "
                                           f"see docs/spec-reference.md#lookup-tables)"))
        for key in sorted(parsed.variables):
            other, variable = key.split(".", 1)
            if path[0] in ("where", "melt"):
                problems.append(Problem(where, f"{key}: a record filter reads raw columns only, before any variable "
                                               f"is mapped ({QUOTING_HINT})"))
            elif other not in spec.domains:
                problems.append(Problem(where, f"{key}: '{other}' is not a domain of sdtm.yaml ({QUOTING_HINT})"))
            elif variable not in [v.get("name") for v in spec.domains[other].get("variables", [])]:
                problems.append(Problem(where, f"{key}: '{variable}' is not a variable of {other}"))
            elif domain.get("intervals"):
                problems.append(Problem(where, f"{key}: a domain whose records are merged into intervals cannot read "
                                               f"mapped variables in its mappings"))
