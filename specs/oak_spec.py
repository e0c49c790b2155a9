"""sdtm.oak's mapping spec CSV -> a draft of our spec folder (``cdisc spec import --from sdtm-oak``).

sdtm.oak (pharmaverse) describes a mapping as one CSV row per annotation: a raw dataset and variable, the
target SDTM domain and variable, an algorithm (ASSIGN_NO_CT, ASSIGN_CT, HARDCODE_CT, HARDCODE_NO_CT,
IF_THEN_ELSE with an entity sub-algorithm, DATASET_LEVEL REMOVE_DUP, NOTSUBMITTED, OTHER), the term or
value to hard-code, the target's codelist ``(STENRF)`` and conditions (``condition_left_raw_variable``,
``condition_operator``, a right-hand text, raw or SDTM variable, ``condition_ordinal`` 1.1, 1.2, 2.1 and
``condition_next_logical_operator``). It is translated into our vocabulary, whose names are sdtm.oak's:

- ASSIGN_NO_CT / ASSIGN_CT -> assign_no_ct / assign_ct (assign_numeric for a Num variable); a date and a
  time column mapped to one --DTC -> assign_datetime, the Rave formats (``dd- MMM- yyyy``, ``HH nn``) in
  our format names;
- HARDCODE_* -> hardcode_*; IF_THEN_ELSE -> condition_add, one case per condition ordinal, the
  conditions in our grammar (Checked -> ``X == '1'``, is_numeric -> a match on a plain number,
  Different_to CM.CMTRT -> ``X != CM.CMTRT``); an "else NOT SUBMITTED" row is the absence of ``otherwise``;
- REMOVE_DUP -> ``dedupe`` by its keys; a Supplemental Qualifier -> a ``supp`` variable;
- the rows that only describe a variable in words (STUDYID, --DY): STUDYID from the spec's study number,
  --DY -> derive_study_day of its --DTC.

What cannot be translated without a guess (which raw column is the subject, the order of --SEQ, the
domain's keys, the raw files, an OTHER algorithm described in prose, an operator we do not know) is
written as a TODO (``TODO: ...``, see specs/todo.py), and a spec holding one is refused by ``cdisc run``
until a person resolves it. Origins are left to the algorithms (specs/vocabulary.py).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from specs.errors import Problem, SpecError
from specs.standards import sdtmig_dataset, sdtmig_variable
from specs.vocabulary import DEFAULT_TIME_FORMATS, date_format_problem

REQUIRED = ("raw_dataset", "raw_variable", "target_sdtm_domain", "target_sdtm_variable", "mapping_algorithm",
            "entity_sub_algorithm", "target_hardcoded_value", "target_term_value",
            "target_sdtm_variable_controlled_terms_or_format", "condition_ordinal", "condition_left_raw_variable",
            "condition_operator", "condition_right_text_value")
NUMBER = "^[0-9]*[.]?[0-9]+$"  # a plain number, as sdtm.oak's is_numeric reads a collected dose
SUPP_ROLES = ("Supplemental Variable Qualifier", "Supplemental Record Qualifier", "Supplemental Qualifier")
TODO = "TODO"


def todo(text: str) -> str:
    """The marked text for a decision left to a person (specs/todo.py's marker)."""
    return f"{TODO}: {text}"


def read_oak_spec(path) -> tuple[list[dict], str]:
    """The rows of an sdtm.oak spec CSV (values stripped, R's NA as empty) and its name for messages."""
    path = Path(path)
    label = path.name
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise SpecError([Problem(label, f"not an sdtm.oak spec CSV: no column {', '.join(missing)}")])
            rows = [{k: ("" if (v or "").strip() == "NA" else (v or "").strip()) for k, v in row.items() if k}
                    for row in reader]
    except FileNotFoundError:
        raise SpecError([Problem(str(path), "file not found")]) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SpecError([Problem(label, f"not a readable UTF-8 CSV file ({exc})")]) from None
    return rows, label


def source_name(raw_dataset: str) -> str:
    """MD1 -> md1: a source name of study.yaml (lower case, letters, digits and '_', a letter first)."""
    name = re.sub(r"[^a-z0-9_]", "_", raw_dataset.lower())
    return name if re.match(r"^[a-z]", name) else f"raw_{name}"


def column(name: str) -> str:
    """A raw column as a condition names it: backticks when it is not a plain name."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f"`{name}`"


def text_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# Rave/sdtm.oak format tokens -> ours; the separators are kept, the blanks Rave puts after them dropped.
_DATE_TOKENS = [("yyyy", "YYYY"), ("yy", "YY"), ("MMM", "MON"), ("MM", "MM"), ("dd", "DD")]
_TIME_TOKENS = [("HH", "HH"), ("nn", "MM"), ("ss", "SS")]


def date_format(raw: str) -> str | None:
    """'dd- MMM- yyyy' -> 'DD-MON-YYYY'; None when it is not one of our date formats."""
    text = re.sub(r"([-/.])\s+", r"\1", raw.strip())
    out = text
    for theirs, ours in _DATE_TOKENS:
        out = re.sub(rf"(?<![A-Za-z]){theirs}(?![A-Za-z])", ours, out)
    return out if date_format_problem(out) is None else None


def time_format(raw: str) -> str | None:
    """'HH nn' -> 'HH:MM' (Rave writes the time parts apart, the export joins them with ':')."""
    parts = raw.split()
    if len(parts) == 1:
        parts = parts[0].split(":")
    mapping = dict(_TIME_TOKENS)
    if not parts or any(p not in mapping for p in parts):
        return None
    return ":".join(mapping[p] for p in parts)


def is_date_format(raw: str) -> bool:
    return "y" in raw.lower() and "H" not in raw


def is_time_format(raw: str) -> bool:
    return "H" in raw and "y" not in raw.lower()


def condition(row: dict, domain: str) -> str:
    """One sdtm.oak condition row in our grammar (a TODO when its operator is not one we know)."""
    left = row.get("condition_left_raw_variable") or row.get("condition_left_sdtm_variable", "")
    if not row.get("condition_left_raw_variable") and row.get("condition_left_sdtm_variable"):
        left = f"{row.get('condition_left_sdtm_domain') or domain}.{left}"
    else:
        left = column(left)
    operator = row.get("condition_operator", "").lower()
    if row.get("condition_right_text_value"):
        right = text_literal(row["condition_right_text_value"])
    elif row.get("condition_right_sdtm_variable"):
        right = f"{row.get('condition_right_sdtm_domain') or domain}.{row['condition_right_sdtm_variable']}"
    else:
        right = column(row.get("condition_right_raw_variable", ""))
    unary = {"checked": f"{left} == '1'", "not_checked": f"{left} != '1'",
             "is_numeric": f"{left} matches '{NUMBER}'",
             "is_character": f"{left} is not empty and not {left} matches '{NUMBER}'",
             "is_null": f"{left} is empty", "is_missing": f"{left} is empty",
             "is_not_null": f"{left} is not empty", "is_not_missing": f"{left} is not empty"}
    if operator in unary:
        return unary[operator]
    binary = {"different_to": "!=", "not_equal_to": "!=", "!=": "!=", "<>": "!=", "ne": "!=",
              "equal_to": "==", "=": "==", "==": "==", "eq": "==",
              "greater_than": ">", ">": ">", "less_than": "<", "<": "<",
              "greater_than_or_equal_to": ">=", ">=": ">=", "less_than_or_equal_to": "<=", "<=": "<="}
    if operator in binary and right:
        return f"{left} {binary[operator]} {right}"
    return todo(f"sdtm.oak condition operator '{row.get('condition_operator', '')}' on {left} (not translated)")


def _ordinal(text: str) -> tuple[int, int]:
    major, _, minor = (text or "0").partition(".")
    try:
        return int(major or 0), int(minor or 0)
    except ValueError:
        return 0, 0


def _then(row: dict, numeric: bool) -> dict | str:
    sub = row.get("entity_sub_algorithm", "").upper()
    if sub == "HARDCODE_CT":
        return {"algorithm": "hardcode_ct", "value": row.get("target_term_value") or row.get("target_hardcoded_value")}
    if sub == "HARDCODE_NO_CT":
        return {"algorithm": "hardcode_no_ct", "value": row.get("target_hardcoded_value") or row.get("target_term_value")}
    if sub in ("ASSIGN_NO_CT", "ASSIGN_CT"):
        name = "assign_ct" if sub == "ASSIGN_CT" else ("assign_numeric" if numeric else "assign_no_ct")
        return {"algorithm": name, "source": row["raw_variable"]}
    return todo(f"sdtm.oak entity_sub_algorithm '{row.get('entity_sub_algorithm', '')}' (not translated)")


def _codelist(rows: list[dict]) -> str | None:
    for row in rows:
        match = re.fullmatch(r"\(([A-Z0-9_]+)\)", row.get("target_sdtm_variable_controlled_terms_or_format", ""))
        if match:
            return match.group(1)
    return None


def _variable(domain: str, name: str, rows: list[dict], study: str, names: set[str]) -> dict | None:
    """Our spec entry for one target variable from its sdtm.oak rows; None when it is not submitted."""
    meta = sdtmig_variable(domain, name)
    entry: dict = {"name": name}
    first = rows[0]
    supp = first.get("target_sdtm_variable_role", "") in SUPP_ROLES
    if meta is None:
        model = model_variable(name)  # VISITNUM, VISIT: the same in every domain that has them
        entry["label"] = model.label if model else (first.get("raw_variable_label") or name)[:40]
        entry["type"] = model.type if model else "Char"
    codelist = _codelist(rows)
    if codelist:
        entry["codelist"] = codelist
    if supp:
        entry["supp"] = {"qlabel": entry.get("label", name)[:40]}
    numeric = (meta.type if meta else entry.get("type")) == "Num"
    todos = [todo(f"sdtm.oak OTHER: {r.get('annotation_text', '')}") for r in rows
             if r.get("mapping_algorithm", "").upper() == "OTHER"]
    rows = [r for r in rows if r.get("mapping_algorithm", "").upper() not in ("OTHER", "NOTSUBMITTED")]
    algorithms = {r.get("mapping_algorithm", "").upper() for r in rows}
    mapping: dict | None = None
    if name == "DOMAIN":
        mapping = {"algorithm": "hardcode_no_ct", "value": domain}
    elif algorithms == {""}:  # described in words only
        mapping = _described(domain, name, rows[0], study, names)
    elif algorithms == {"IF_THEN_ELSE"}:
        cases: dict[int, list[dict]] = {}
        for row in sorted(rows, key=lambda r: _ordinal(r.get("condition_ordinal", ""))):
            cases.setdefault(_ordinal(row.get("condition_ordinal", ""))[0], []).append(row)
        translated = []
        for parts in cases.values():
            then = _then(parts[0], numeric)
            if isinstance(then, str) and "NOTSUBMITTED" in then:
                continue
            when = condition(parts[0], domain)
            for previous, part in zip(parts, parts[1:]):
                joiner = (previous.get("condition_next_logical_operator") or "and").lower()
                when = f"{when} {joiner if joiner in ('and', 'or') else 'and'} {condition(part, domain)}"
            translated.append({"when": when, "then": then})
        mapping = {"algorithm": "condition_add", "cases": translated}
    elif algorithms <= {"ASSIGN_NO_CT", "ASSIGN_CT"}:
        mapping = _assign(name, rows, numeric)
    elif algorithms <= {"HARDCODE_CT", "HARDCODE_NO_CT"} and len(rows) == 1:
        mapping = _then({**rows[0], "entity_sub_algorithm": rows[0]["mapping_algorithm"]}, numeric)
    elif rows:
        todos.append(todo(f"sdtm.oak mapping_algorithm {', '.join(sorted(algorithms))} for {name} (not translated)"))
    if mapping is None and not todos:
        return None
    if isinstance(mapping, str):
        todos.insert(0, mapping)
    elif mapping is not None:
        entry["map"] = mapping
    if todos:
        entry[TODO] = "; ".join(t[len(TODO) + 2:] for t in todos)
    return entry


def model_variable(name: str):
    """The SDTMIG metadata of a variable the general model gives every domain alike (no domain prefix)."""
    from specs.standards import _sdtm_variables

    for variables in _sdtm_variables().values():
        if name in variables:
            return variables[name]
    return None


def _assign(name: str, rows: list[dict], numeric: bool) -> dict | str:
    if name.endswith("DTC"):
        dates = [r for r in rows if is_date_format(r.get("raw_data_format", ""))]
        times = [r for r in rows if is_time_format(r.get("raw_data_format", ""))]
        if len(dates) == 1 and len(times) <= 1 and len(dates) + len(times) == len(rows):
            fmt = date_format(dates[0]["raw_data_format"])
            if fmt is None:
                return todo(f"date format '{dates[0]['raw_data_format']}' of {dates[0]['raw_variable']} (not one "
                            f"of ours)")
            mapping = {"algorithm": "assign_datetime", "date": dates[0]["raw_variable"], "format": fmt}
            if times:
                mapping["time"] = times[0]["raw_variable"]
                tfmt = time_format(times[0]["raw_data_format"])
                if tfmt is None:
                    return todo(f"time format '{times[0]['raw_data_format']}' of {times[0]['raw_variable']} (not "
                                f"one of ours)")
                if tfmt not in DEFAULT_TIME_FORMATS:
                    mapping["time_format"] = tfmt
            return mapping
    if len(rows) != 1:
        return todo(f"{name} is mapped from {', '.join(r['raw_variable'] for r in rows)}: say how they combine")
    row = rows[0]
    if row["mapping_algorithm"].upper() == "ASSIGN_CT":
        return {"algorithm": "assign_ct", "source": row["raw_variable"]}
    return {"algorithm": "assign_numeric" if numeric else "assign_no_ct", "source": row["raw_variable"]}


def _described(domain: str, name: str, row: dict, study: str, names: set[str]) -> dict | str:
    """A variable sdtm.oak's spec describes only in words: the ones whose rule the SDTMIG fixes."""
    if name == "STUDYID" and study:
        return {"algorithm": "hardcode_no_ct", "value": study}
    day = re.fullmatch(rf"{domain}(ST|EN)?DY", name)
    if day:
        dtc = f"{domain}{day.group(1) or ''}DTC"
        if dtc in names:
            return {"algorithm": "derive_study_day", "dtc": dtc}
    if name == "USUBJID":
        return todo("the raw column holding the subject number (derive_usubjid, source: ...)")
    if name == f"{domain}SEQ":
        return todo(f"the order of {name} within a subject (derive_seq, order: [...])")
    text = re.sub(r"\s+", " ", row.get("annotation_text", "")).strip()
    return todo(f"sdtm.oak describes {name} only in words: '{text[:160]}'")


def draft_from_oak(rows: list[dict], label: str) -> tuple[dict, dict]:
    """(study.yaml, sdtm.yaml) documents drafted from sdtm.oak spec rows."""
    study_number = next((r.get("study_number", "") for r in rows if r.get("study_number")), "")
    domains: dict[str, dict] = {}
    sources: dict[str, dict] = {}
    for domain in dict.fromkeys(r["target_sdtm_domain"] for r in rows if r.get("target_sdtm_domain")):
        mine = [r for r in rows if r.get("target_sdtm_domain") == domain]
        raw_sets = list(dict.fromkeys(r["raw_dataset"] for r in mine if r.get("raw_dataset")))
        for raw in raw_sets:
            sources.setdefault(source_name(raw), {
                "path": todo(f"the raw file of sdtm.oak's raw dataset {raw}"),
                "keys": [todo(f"the columns that locate a record of {raw} in messages")],
                "description": next((r.get("raw_dataset_label", "") for r in rows if r.get("raw_dataset") == raw
                                     and r.get("raw_dataset_label")), raw)})
        meta = sdtmig_dataset(domain)
        spec: dict = {"label": meta.label if meta else todo(f"the label of {domain}")}
        if meta:
            spec["class"] = meta.class_.upper()
            spec["structure"] = meta.structure
        spec["from"] = source_name(raw_sets[0]) if len(raw_sets) == 1 else [source_name(r) for r in raw_sets]
        dedupe = next((r for r in mine if r.get("entity_sub_algorithm", "").upper() == "REMOVE_DUP"), None)
        if dedupe:
            by = [k.split(".", 1)[-1].strip() for k in dedupe.get("unduplicate_keys", "").split(",") if k.strip()]
            spec["dedupe"] = {"by": by, "order": [todo("the column giving the order of entry (sdtm.oak keeps the "
                                                      "first record in the file)")],
                              "keep": "first", "reason": "the same record entered twice (sdtm.oak spec REMOVE_DUP)"}
        by_variable: dict[str, list[dict]] = {}
        for row in mine:
            if row.get("target_sdtm_variable") and not (row.get("mapping_is_dataset", "").upper() == "TRUE"
                                                       and row.get("target_sdtm_variable") != "DOMAIN"):
                by_variable.setdefault(row["target_sdtm_variable"], []).append(row)
        by_variable.setdefault("DOMAIN", [{"target_sdtm_variable": "DOMAIN"}])

        def order(item):
            name, variable_rows = item
            ordinals = [int(r["target_sdtm_variable_ordinal"]) for r in variable_rows
                        if r.get("target_sdtm_variable_ordinal", "").isdigit()]
            meta_variable = sdtmig_variable(domain, name)
            return (min(ordinals) if ordinals else (meta_variable.order if meta_variable else 999)), name

        names = set(by_variable)
        variables = [v for name, variable_rows in sorted(by_variable.items(), key=order)
                     if (v := _variable(domain, name, variable_rows, study_number, names)) is not None]
        seq = f"{domain}SEQ"
        spec["keys"] = [todo(f"the variables that identify one {domain} record (sdtm.oak's spec does not say)")]
        spec["sort"] = ["STUDYID", "USUBJID", seq] if seq in names else ["STUDYID", "USUBJID"]
        spec["variables"] = variables
        domains[domain] = spec
    if not domains:
        raise SpecError([Problem(label, "no row names a target SDTM domain (target_sdtm_domain)")])
    study = {"version": 2,
             "study": {"studyid": study_number or todo("the study identifier"),
                       "name": study_number or todo("the study name"),
                       "description": f"Drafted from the sdtm.oak mapping spec {label}.",
                       "protocol": study_number or todo("the protocol identifier"),
                       "standards": {"sdtm": "2.0", "sdtmig": "3.4", "define": "2.1.0"},
                       "ct": {"sdtm": "2025-03-28"}},
             "sources": sources}
    return study, {"domains": domains}


def import_oak_spec(path, out_dir) -> list[str]:
    """Write study.yaml and sdtm.yaml drafted from an sdtm.oak spec CSV; returns the TODOs left, one line each."""
    from specs.workbook_import import write_files
    from specs.yaml_writer import dump

    rows, label = read_oak_spec(path)
    study, sdtm = draft_from_oak(rows, label)
    header = (f"Drafted by `cdisc spec import --from sdtm-oak {label}`: every TODO is a decision sdtm.oak's spec "
              f"leaves open;\ncdisc run refuses the spec until each is resolved.")
    write_files(Path(out_dir), {"study.yaml": dump(study, header=header), "sdtm.yaml": dump(sdtm, header=header)})
    return [f"{file}: {where}: {text}" for file, document in (("study.yaml", study), ("sdtm.yaml", sdtm))
            for where, text in _todos(document)]


def _todos(node, path: str = "") -> list[tuple[str, str]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key == TODO:
                found.append((path, f"{TODO}: {value}"))
            else:
                found += _todos(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _todos(value, f"{path}[{index}]")
    elif isinstance(node, str) and node.startswith(TODO):
        found.append((path, node))
    return found
