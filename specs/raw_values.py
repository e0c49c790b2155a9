"""The values a raw column may hold, wherever a condition on the raw records decides by them.

A condition such as ``EXYN != 'No'`` decides by the values it names; a value it does not name ('no',
'N', a typo, an empty cell) falls silently on whichever side the operator leaves it ('no' != 'No': an
injection given). So a raw column that a domain's conditions (``where``, ``melt.not_done.when``, the
``when`` of ``condition_add`` cases) compare with text by ==, !=, in or not in has a known set of values:

- the values study.yaml declares for it (``sources.<name>.values: {EXYN: [Yes, No]}``; '' for an
  empty cell is a value like any other and must be listed to be accepted), checked on every record of
  the source;
- else the values the domain's conditions name (plus '' when one of them tests ``is empty``), checked
  on the records those conditions read.

A value outside the set is a located error (sdtm.prepare); a condition naming a value the column's
declaration does not list is a spec error (a typo in the spec). Columns compared with numbers, with
patterns (``matches``) or through functions are not concerned. Imports nothing of ours but specs.
"""
from __future__ import annotations

from specs import expressions as ex
from specs.errors import Problem
from specs.raw_columns import format_path, parse_text, raw_texts


def compared_values(root) -> tuple[dict[str, set[str]], set[str]]:
    """({column: the text literals a condition compares it with by ==, !=, in, not in}, {columns it tests
    with ``is empty``}). A column also compared with a number is left out: it is compared as a number."""
    literals: dict[str, set[str]] = {}
    numeric, empties = set(), set()

    def add(column: str, values) -> None:
        for value in values:
            if isinstance(value, str):
                literals.setdefault(column, set()).add(value)
            else:
                numeric.add(column)

    for node in ex.walk(root):
        if isinstance(node, ex.Compare) and node.op in ("==", "!="):
            for side, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(side, ex.Column) and isinstance(other, ex.Literal):
                    add(side.name, [other.value])
        elif isinstance(node, ex.InList) and isinstance(node.operand, ex.Column):
            add(node.operand.name, node.values)
        elif isinstance(node, ex.IsEmpty) and isinstance(node.operand, ex.Column):
            empties.add(node.operand.name)
    return {c: v for c, v in literals.items() if c not in numeric}, empties


def condition_values(domain: dict) -> dict[str, tuple[set[str], list[str]]]:
    """{raw column: (the values the domain's conditions name for it, where they are)} for the conditions
    read on the domain's raw records ('where.condition', 'variables[3].map.cases[0].when')."""
    named: dict[str, tuple[set[str], list[str]]] = {}
    emptiness: set[str] = set()
    for path, kind, text in raw_texts(domain):
        if kind != "condition":
            continue
        try:
            literals, empties = compared_values(parse_text(kind, text).root)
        except ValueError:
            continue  # reported where the spec is checked
        emptiness |= empties
        for column, values in literals.items():
            entry = named.setdefault(column, (set(), []))
            entry[0].update(values)
            entry[1].append(format_path(path))
    for column in emptiness & set(named):
        named[column][0].add("")
    return named


def sources_of(domain: dict) -> list[str]:
    """The sources whose columns a domain's records hold: its own, then the merged ones."""
    own = [domain["from"]] if isinstance(domain.get("from"), str) else list(domain.get("from") or [])
    return own + [m["source"] for m in domain.get("merge") or [] if isinstance(m, dict) and "source" in m]


def check_condition_values(spec, problems: list[Problem]) -> None:
    """A condition naming a value that the column's declaration (in one of the domain's sources) does not
    list is a spec error: 'EXYN == "no"' where EXYN is declared [Yes, No] would never hold."""
    for name, domain in spec.domains.items():
        if domain.get("from_domain") or not isinstance(domain.get("variables"), list):
            continue
        declared: dict[str, tuple[set, list[str]]] = {}
        for source in sources_of(domain):
            for column, values in ((spec.sources.get(source) or {}).get("values") or {}).items():
                entry = declared.setdefault(column, (set(), []))
                entry[0].update(str(v) for v in values or [])
                entry[1].append(f"sources.{source}.values.{column}")
        if not declared:
            continue
        for path, kind, text in raw_texts(domain):
            if kind != "condition":
                continue
            try:
                literals, _ = compared_values(parse_text(kind, text).root)
            except ValueError:
                continue
            for column, values in sorted(literals.items()):
                if column not in declared:
                    continue
                allowed, where = declared[column]
                for value in sorted(values - allowed):
                    problems.append(Problem(spec.where("sdtm", "domains", name, *path),
                                            f"compares {column} with '{value}', which is not one of the values "
                                            f"declared for it in study.yaml ({', '.join(where)}: "
                                            f"{', '.join(show(v) for v in sorted(allowed))}), so it never matches"))


def check_declared_values(spec, problems: list[Problem]) -> None:
    """Declared values are text: YAML reads Yes, No, On, Off, true unquoted as booleans (and 01 as 1)."""
    for name, source in spec.sources.items():
        for column, values in (source.get("values") or {}).items():
            for index, value in enumerate(values or []):
                if not isinstance(value, str):
                    problems.append(Problem(spec.where("study", "sources", name, "values", column, index),
                                            f"{value!r} is not text: YAML reads Yes, No, On, Off, true and numbers "
                                            f"unquoted as other types; quote each value as the file writes it "
                                            f"(\"Yes\", \"01\")"))


def show(value: str) -> str:
    """A declared or found value in a message: 'Yes', '' for an empty cell."""
    return f"'{value}'"
