"""docs/spec-reference.md, generated from what the toolkit actually accepts, so that it cannot drift: the
JSON Schemas (``specs/schemas``), the algorithm vocabulary (``specs.vocabulary``) with its arguments and
worked examples (``specs.algorithm_docs``), the expression grammar and functions (``specs.expressions``,
``specs.functions``), the date and time formats, unit conversions, lookup tables and study CT.

    python -m specs.reference_doc --out docs/spec-reference.md     # write it
    python -m specs.reference_doc --check docs/spec-reference.md   # exit 1 when it is stale

The output is deterministic (no dates, no dict order that is not the source's). A test fails when the
committed file differs from what this module writes.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from specs import expressions, functions, lookups, study_ct, vocabulary
from specs.algorithm_docs import ALGORITHM_DOCS, argument_text

SCHEMAS = Path(__file__).resolve().parent / "schemas"
DEFAULT_OUT = "docs/spec-reference.md"
COMMAND = "python -m specs.reference_doc --out docs/spec-reference.md"

RECORDS_TEXT = """\
Every raw record is either mapped or listed with the reason it was not; nothing is dropped silently.
`cdisc run` prints, per domain, the raw records in, the records out and the records not mapped, then each
reason with a count and an example (file, row and record key):

- a domain's `where` filter removes records with its `reason` (`where: {condition: ..., reason: ...}`);
- `dedupe` keeps one of the records sharing its `by` values, the others listed with its `reason` and the
  key of the record kept;
- `melt` turns a wide row into one record per test with a value; a row with no value in any test column is
  listed with `empty_reason`, unless `not_done` makes NOT DONE records of it (the whole panel not done, or
  with `each_empty` each empty test of a done row);
- `merge` adds columns of another source; a record with no partner is an error, unless the merge is
  `optional: true` (then listed as a warning); the unused rows of a source with `role: lookup` are not
  records of the study and are not listed;
- a value the spec handles by policy instead of stopping (`on_invalid: missing`, `on_invalid: text`) is
  listed under "warnings (mapped as the spec says)";
- anything else that cannot be mapped (a date that does not parse, a term not in a non-extensible
  codelist, a visit not in the schedule, a unit without a conversion) stops the run with one message per
  record naming the file, the row, the record key, the column and the value, and nothing is published.

A spec error (an unknown algorithm, column, codelist or format) is reported before any data is read, every
error at once, each with its file and path: `spec/sdtm.yaml: domains.AE.variables[3].map.format: ...`.
"""

QUOTING_TEXT = """\
A column name is written bare when it is a plain name (letters, digits and `_`, not starting with a digit,
not a keyword); any other name goes in backticks, the same in conditions, expressions and `{...}` template
fields: `` `AE Start Date` ``, `` `IT.AETERM` ``, `` `2ND_DOSE` ``. Text is quoted with `'...'` or `"..."`.
`DOMAIN.NAME` without backticks is a mapped SDTM variable (`DM.RFXSTDTC`), not a column. Keywords (`and`,
`or`, `not`, `in`, `is`, `empty`, `matches`) are case-insensitive. In a template, `{{` and `}}` are braces.
"""

OPERATORS = [
    ("`==`, `!=`", "equal, not equal (on dates, numbers or text; see below)", "`AESER == 'Y'`"),
    ("`<`, `<=`, `>`, `>=`", "order", "`number(AGE) >= 18`"),
    ("`in (...)`, `not in (...)`", "one of the listed texts or numbers", "`VISIT in ('SCR', 'D1')`"),
    ("`is empty`, `is not empty`", "missing, '' or blanks", "`AEENDAT is empty`"),
    ("`matches '...'`, `not matches '...'`", "a regular expression found in the text (Python `re.search`)",
     "`PATNUM matches '^7[0-9]{2}-'`"),
    ("`and`, `or`, `not`, `( )`", "logic (`not` binds tightest, then `and`, then `or`)",
     "`not (A == 'Y' or B == 'Y')`"),
    ("`+`, `-`, `*`, `/`", "arithmetic on numbers (a text that is no number is a problem of the record)",
     "`(number(TEMP) - 32) * 5 / 9`"),
]

ERRORS_TEXT = """\
Error messages name the section of this reference that explains what to change, e.g.
`unknown date format 'DD.MON.YY' (known: ...; see docs/spec-reference.md#date-and-time-formats)`.
"""


# ------------------------------------------------------------------------------------------- helpers
def markdown(text: str) -> str:
    """A docstring written for Python (``x``) as Markdown (`x`)."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


def cell(value) -> str:
    """A value in a Markdown table cell."""
    if value is None:
        return "*(empty)*"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("|", "\\|")
    return f"`{text}`" if text.strip() != text or text == "" else text


def inline_yaml(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000,
                          allow_unicode=True).strip().removesuffix("\n...")


def block_yaml(value) -> str:
    return yaml.safe_dump(value, default_flow_style=None, sort_keys=False, width=100, allow_unicode=True).rstrip()


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(rows_cell for rows_cell in row) + " |" for row in rows]
    return lines


def frame_table(columns: dict, output: tuple[str, list] | None = None) -> list[str]:
    names = list(columns)
    count = len(next(iter(columns.values()))) if columns else 0
    header = [cell(n) for n in names] + ([f"→ {output[0]}"] if output else [])
    rows = []
    for i in range(count):
        row = [cell(columns[n][i] if columns[n][i] != "" else None) for n in names]
        if output:
            row.append(cell(None) if output[1][i] is None else f"**{cell(output[1][i])}**")
        rows.append(row)
    return table(header, rows)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown_text: str) -> set[str]:
    """Every anchor of a Markdown text: its headings' anchors (GitHub numbers repeats -1, -2)."""
    seen: dict[str, int] = {}
    found = set()
    in_code = False
    for line in markdown_text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        heading = re.match(r"^#{1,6} (.+)$", line)
        if heading and not in_code:
            slug = anchor(heading.group(1))
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return found


# ------------------------------------------------------------------------------------------ schemas
def _schema_type(node: dict, defs: dict) -> str:
    if "$ref" in node:
        return _schema_type(defs[node["$ref"].split("/")[-1]], defs)
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "oneOf" in node and "type" not in node and "properties" not in node:
        return " or ".join(_schema_type(option, defs) for option in node["oneOf"])
    kind = node.get("type", "object" if "properties" in node else "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        return f"list of {_schema_type(node.get('items', {}), defs)}"
    if kind == "object" and "properties" not in node and isinstance(node.get("additionalProperties"), dict):
        return f"name -> {_schema_type(node['additionalProperties'], defs)}"
    limits = [f"{k} {node[k]}" for k in ("minimum", "maximum", "maxLength", "pattern") if k in node]
    return (kind + (f" ({', '.join(limits)})" if limits else "")).replace("|", "\\|")


def schema_rows(node: dict, defs: dict, path: str, rows: list, seen: tuple = ()) -> None:
    """One row per key: path, type, required, description; nested objects and lists of objects unfolded."""
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        if name in seen:
            return
        node, seen = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}, seen + (name,)
    required = set(node.get("required", []))
    for key, child in (node.get("properties") or {}).items():
        child_path = f"{path}.{key}" if path else key
        resolved = defs[child["$ref"].split("/")[-1]] if "$ref" in child else child
        description = child.get("description") or resolved.get("description") or ""
        rows.append([f"`{child_path}`", _schema_type(child, defs), "yes" if key in required else "",
                     markdown(description).replace("|", "\\|")])
        _unfold(child, defs, child_path, rows, seen)


def _unfold(child: dict, defs: dict, path: str, rows: list, seen: tuple) -> None:
    if "$ref" in child:
        name = child["$ref"].split("/")[-1]
        if name not in seen:
            schema_rows(child, defs, path, rows, seen)
        return
    if child.get("properties"):
        schema_rows(child, defs, path, rows, seen)
    elif child.get("type") == "array" and isinstance(child.get("items"), dict):
        _unfold(child["items"], defs, f"{path}[]", rows, seen)
    elif isinstance(child.get("additionalProperties"), dict):
        _unfold(child["additionalProperties"], defs, f"{path}.<name>", rows, seen)


def schema_section(file_name: str) -> list[str]:
    schema = json.loads((SCHEMAS / f"{file_name}.schema.json").read_text(encoding="utf-8"))
    rows: list = []
    schema_rows(schema, schema.get("$defs", {}), "", rows)
    return [f"### {file_name}.yaml", "", f"{schema['title']}; checked against `specs/schemas/{file_name}.schema.json` "
            f"before anything runs.", "", *table(["key", "type", "required", "description"], rows), ""]


# --------------------------------------------------------------------------------------- algorithms
def algorithm_section(name: str) -> list[str]:
    algorithm = vocabulary.ALGORITHMS[name]
    doc = ALGORITHM_DOCS.get(name)
    kind = ("map-kind: computed from the raw record" if algorithm.kind == vocabulary.MAP else
            f"derive-kind (stage {algorithm.stage}): computed from the domain's mapped variables and other "
            f"domains, after all mapping")
    lines = [f"### {name}", "", f"*{kind}; origin {algorithm.origin}.*", "",
             f"Default method text (Define-XML, when the variable gives no `method`): "
             f"\"{algorithm.description}\"", ""]
    arguments = [(a, "required") for a in algorithm.required] + [(a, "optional") for a in algorithm.optional]
    if arguments:
        rows = []
        for argument, need in arguments:
            group = next((g for g in algorithm.one_of if argument in g), None)
            if group:
                need = "one of " + ", ".join(f"`{g}`" for g in group)
            if argument in algorithm.defaults:
                need += f" (default `{algorithm.defaults[argument]}`)"
            rows.append([f"`{argument}`", need, argument_text(name, argument) or ""])
        lines += table(["argument", "", "meaning"], rows) + [""]
    else:
        lines += ["No arguments.", ""]
    if doc is not None:
        lines += example_lines(name, doc.example)
    return lines


def example_lines(name: str, example) -> list[str]:
    lines = [f"Example (a variable of {example.domain} in sdtm.yaml):", "", "```yaml",
             f"- name: {example.variable}", f"  map: {inline_yaml({'algorithm': name, **example.args})}", "```", ""]
    context = example.context
    shown = {"codelist": "the variable's codelist", "studyid": "study.yaml `study.studyid`",
             "visits": "study.yaml `design.visits`", "arms": "study.yaml `design.arms`",
             "elements": "study.yaml `design.elements`", "timepoints": f"sdtm.yaml `domains.{example.domain}.timepoints`",
             "standard_units": f"sdtm.yaml `domains.{example.domain}.standard_units`",
             "lookups": "study.yaml `lookups`", "variables": f"the {example.domain} variables' codelists"}
    for key, label in shown.items():
        if key in context:
            lines += [f"with {label}:", "", "```yaml", block_yaml({key: context[key]}), "```", ""]
    for domain, columns in (context.get("domains") or {}).items():
        lines += [f"with {domain}:", "", *frame_table(columns), ""]
    record_kind = "raw records" if vocabulary.ALGORITHMS[name].kind == vocabulary.MAP else \
        f"{example.domain} records"
    lines += [f"{record_kind} and the value each gets:", "",
              *frame_table(example.records, (example.variable, example.output)), ""]
    if example.note:
        lines += [example.note, ""]
    return lines


CLAUSES = ("expr", "terms", "time", "stresc")  # placeholders that only add a clause when the argument is given


def summary(algorithm) -> str:
    """The default method text with its placeholders shown: an argument as `<name>` (its default when it has
    one), clause placeholders left out, adjacent alternatives joined with 'or'."""
    def show(found) -> str:
        names = re.findall(r"\{(\w+)\}", found.group(0))
        shown = [f"`{algorithm.defaults[n]}`" if n in algorithm.defaults else f"`<{n}>`"
                 for n in names if n not in CLAUSES]
        return " or ".join(shown)
    return re.sub(r"(\{\w+\})+", show, algorithm.description)


def algorithms_section() -> list[str]:
    names = list(vocabulary.ALGORITHMS)
    rows = [[f"[{n}](#{anchor(n)})", a.kind, a.origin, summary(a)] for n, a in vocabulary.ALGORITHMS.items()]
    lines = ["## Algorithms", "",
             "A variable's `map` names one algorithm and its arguments: `map: {algorithm: assign_ct, source: SEX}`. "
             "The names are sdtm.oak's. Map-kind algorithms compute a value from the raw record; derive-kind ones "
             "run after all mapping, stage by stage across domains (results in standard units, reference dates, "
             "SE, actual arms, study days, epochs, sequence numbers), and read mapped variables. An algorithm "
             "not in this list is a spec error that lists the known ones. Placeholders in the default method "
             "text (`{source}`) are filled with the mapping's arguments.", "",
             *table(["algorithm", "kind", "origin", "gives"], [[c.replace("|", "\\|") for c in r] for r in rows]),
             ""]
    for name in names:
        lines += algorithm_section(name)
    lines += ["### Domains built from the design", "",
              "A domain with `build:` instead of `from:` is made from study.yaml's design or from other domains:",
              "", *table(["build", "what"], [[f"`{k}`", v] for k, v in vocabulary.BUILDS.items()]), ""]
    return lines


# ------------------------------------------------------------------------------------- expressions
def expressions_section() -> list[str]:
    doc = expressions.__doc__
    grammar = doc[doc.index("condition  :="):doc.index("\nA NAME")].rstrip()
    grammar = "\n".join(line[4:] if line.startswith("    ") else line for line in grammar.splitlines())
    semantics = markdown(functions.__doc__.split("\n\n", 1)[1]).strip()
    lines = ["## Conditions, expressions and templates", "",
             "Conditions (`where`, `when`), expressions (`expr`, unit `formula`) and the `{...}` fields of "
             "templates share one grammar, parsed by the toolkit (never `eval`); each is computed once per "
             "distinct combination of the values it reads. A name that is not a column of the records at hand "
             "is a spec error.", "",
             "```", grammar, "```", "",
             "### Operators", "", *table(["operator", "meaning", "example"], [list(o) for o in OPERATORS]), "",
             "### Quoting column names", "", QUOTING_TEXT,
             "### Values, comparisons and empty values", "", semantics, "",
             "### Functions", "",
             *table(["function", "gives", "meaning", "example"],
                    [[f"`{f.name}({_signature(f)})`", f.kind, markdown(f.doc).replace("|", "\\|"),
                      f"`{f.example}`".replace("; ", "`; `").replace("|", "\\|")]
                     for f in functions.FUNCTIONS.values()]), ""]
    return lines


def _signature(function) -> str:
    parts = []
    for index, kind in enumerate(function.args):
        name = {"value": "x", "text literal": "'text'", "integer literal": "n", "table": "'table'"}.get(
            kind.rstrip("*"), "'" + kind.split(":", 1)[-1] + "'")
        if kind.endswith("*"):
            name = f"{name}, ..."
        parts.append(name if index < function.required else f"[{name}]")
    return ", ".join(parts)


# ----------------------------------------------------------------------------------- dates and units
def dates_section() -> list[str]:
    return ["## Date and time formats", "",
            "`assign_datetime`'s `format` names one of these formats, or a list tried in order. A format name "
            "the toolkit does not know is a spec error listing these. A value that no listed format reads is "
            "an error of its record; a value two listed formats read differently is reported, never guessed. "
            "Partial dates are kept partial in ISO 8601 (`2020-09`, `2020---15`).", "",
            *table(["date format", "reads"], [[f"`{k}`", v] for k, v in vocabulary.DATE_FORMATS.items()]), "",
            f"Unknown parts are marked {', '.join(f'`{m}`' for m in vocabulary.UNKNOWN_MARKERS)} (any case), or "
            f"left out: a date format also reads its partials without markers (the day, then the day and month "
            f"left out). `MON` is an English month name or its first three letters, any case. `YY` is a two-digit "
            f"year: up to `cutoff_2000` (default {vocabulary.CUTOFF_2000}) it is 20YY, above it 19YY; every "
            f"variable read with two-digit years is named in the run report.", "",
            "Times, in `time_format` (a time column of its own) or after a date format and a space in `format` "
            "(date and time in one column: `DD-MON-YYYY HH:MM` reads `15-Sep-2020 7:25`):", "",
            *table(["time format", "reads"], [[f"`{k}`", v] for k, v in vocabulary.TIME_FORMATS.items()]), "",
            f"Without `time_format`, a time column is read with {', '.join(f'`{t}`' for t in vocabulary.DEFAULT_TIME_FORMATS)}. "
            f"A time joins only a complete date (the run report counts the times left out).", ""]


def units_section() -> list[str]:
    schema = json.loads((SCHEMAS / "sdtm.schema.json").read_text(encoding="utf-8"))
    node = schema["$defs"]["domain"]["properties"]["standard_units"]
    rows: list = []
    _unfold(node, schema["$defs"], "standard_units", rows, ())
    lines = ["## Unit conversions", "",
             "A findings domain states, per test code, its standard unit and how each unit its results are "
             "collected in converts to it (`standard_units` of the domain in sdtm.yaml); `derive_stresc`, "
             "`derive_stresu` and `derive_stnr` use it. A result in a unit with no declared conversion is an "
             "error of its record (never copied and labelled with the standard unit); '<x' results keep their "
             "qualifier and convert x.", "",
             "```yaml",
             "standard_units:",
             "  GLUC: {unit: mmol/L, decimals: 2, factors: {mg/dL: 0.0555}}",
             "```", "",
             *table(["key", "type", "required", "description"], rows), ""]
    kinds = getattr(vocabulary, "UNIT_CONVERSIONS", None)
    if kinds:
        lines += ["Each entry of a conversion table gives one of:", "",
                  *table(["kind", "meaning", "example"],
                         [[f"`{k}`", markdown(v[0]).replace("|", "\\|"), markdown(v[1]).replace("|", "\\|")]
                          for k, v in kinds.items()]), ""]
    for title, name in (("Mass concentrations (g/L per unit)", "MASS_CONCENTRATION_UNITS"),
                        ("Molar concentrations (mol/L per unit)", "MOLAR_CONCENTRATION_UNITS")):
        scales = getattr(vocabulary, name, None)
        if scales:
            lines += [f"{title}: " + ", ".join(f"`{u}` {s:g}" for u, s in scales.items()) + ".", ""]
    return lines


def lookups_section() -> list[str]:
    doc = markdown(lookups.__doc__)
    intro, rest = doc.split("\n\n", 1)
    example, after = rest.split("\n\n", 1)
    example = "\n".join(line[4:] for line in example.splitlines())
    return ["## Lookup tables", "", intro.replace("\n", " "), "", "```yaml", example, "```", "", after.strip(), "",
            "A lookup that names a table study.yaml does not have is a spec error listing the tables.", ""]


def study_ct_section() -> list[str]:
    return ["## Study controlled terminology", "",
            "Each variable's `codelist` names a codelist of the CDISC CT version of study.yaml `study.ct.sdtm`, or "
            "a codelist of the study's own CT files. A codelist that is in neither is a spec error; a study adds "
            "one (or extends an extensible one) by listing a CSV file in `study.ct.files`:", "",
            "```yaml", "study:", "  ct:", "    sdtm: '2024-09-27'", "    files: [ct/study_ct.csv]", "```", "",
            markdown(study_ct.__doc__).split("\n\n", 1)[1].strip(), "",
            "```", "codelist_code,term_code,term_value,collected_value,term_preferred_term,term_synonyms",
            "C66729,C38288,ORAL,PO (Oral),Oral Route of Administration,", "LOC,,LEFT ARM,Left arm,,", "```", ""]


# ------------------------------------------------------------------------------------------ document
def render() -> str:
    sections = [
        ("The spec folder", "the-spec-folder"), ("Algorithms", "algorithms"),
        ("Conditions, expressions and templates", "conditions-expressions-and-templates"),
        ("Date and time formats", "date-and-time-formats"), ("Unit conversions", "unit-conversions"),
        ("Lookup tables", "lookup-tables"), ("Study controlled terminology", "study-controlled-terminology"),
        ("How records are accounted for", "how-records-are-accounted-for"),
    ]
    lines = ["# Spec reference", "",
             f"<!-- Generated by `{COMMAND}` from specs/vocabulary.py, specs/algorithm_docs.py, "
             f"specs/schemas/*.json and the grammar modules. Do not edit by hand: edit those and regenerate. -->",
             "",
             "What a study spec may say, generated from the code that reads it. New here? Start with "
             "[Map your first study](first-study.md).", "",
             *[f"- [{title}](#{slug})" for title, slug in sections], "",
             "## The spec folder", "",
             "A study is a folder of three YAML files: `study.yaml` (the study, its raw sources, its design, "
             "lookups and CT), `sdtm.yaml` (the SDTM domains and how each variable is made) and `adam.yaml` "
             "(the ADaM datasets). Every error is reported at once, with its file and path. " + ERRORS_TEXT.strip(),
             "", *schema_section("study"), *schema_section("sdtm"), *schema_section("adam"),
             *algorithms_section(), *expressions_section(), *dates_section(), *units_section(),
             *lookups_section(), *study_ct_section(),
             "## How records are accounted for", "", RECORDS_TEXT]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m specs.reference_doc", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--out", help=f"write the reference here (e.g. {DEFAULT_OUT})")
    group.add_argument("--check", help="exit 1 when this file is not what would be written")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        path = Path(args.check)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is stale: regenerate it with {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
