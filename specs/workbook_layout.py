"""The sheets of the spec workbook, laid out as Pinnacle 21's define spec, and how a spec record (a
domain, a variable, a source, a visit...) becomes one row and comes back.

The define metadata sheets keep P21's names and columns (Study, Datasets, Variables, ValueLevel,
WhereClauses, Codelists, Dictionaries, Methods, Comments, Documents); what the spec holds beyond define
metadata has sheets of its own (Conditions, Merges, Melt, Time Points, Standard Units, Sources, Lookups,
Cut, Arms, Elements, Visits, Trial Summary, Trial Inclusion, Other, Files). Every row of a record sheet
has an ``Other`` column: the record's keys no column holds, in YAML (see specs.workbook_cells).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from specs.workbook_cells import (MISSING, can_write, get_path, is_empty, load_yaml_text, merge_into, pop_path,
                                  read, set_path, write)
from specs.yaml_writer import flow

OTHER = "Other"


@dataclass(frozen=True)
class Column:
    header: str
    path: tuple = ()
    kind: str = "value"


@dataclass(frozen=True)
class Table:
    """A sheet of records: context columns (which dataset, which variable) then the record's columns."""

    sheet: str
    columns: tuple[Column, ...]
    context: tuple[str, ...] = ()
    other: bool = True
    note: str = ""
    widths: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def headers(self) -> list[str]:
        return [*self.context, *(c.header for c in self.columns), *([OTHER] if self.other else [])]

    def column_of(self, sub_path: tuple) -> str:
        """The header of the column that holds a path inside the record (for located messages)."""
        best, best_len = OTHER if self.other else self.headers[0], -1
        for column in self.columns:
            n = len(column.path)
            if n > best_len and tuple(sub_path[:n]) == column.path:
                best, best_len = column.header, n
        return best


def same(a, b) -> bool:
    """Equal values of the same types (1 is not 1.0, True is not 1, '1' is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def encode(table: Table, record) -> dict:
    """The cells of one record (its context cells are the caller's)."""
    cells: dict = {}
    if not isinstance(record, dict):
        return {OTHER: flow(record)}
    rest = copy.deepcopy(record)
    for column in table.columns:
        value = get_path(rest, column.path)
        if value is MISSING or not can_write(column.kind, value):
            continue
        cell = write(column.kind, value)
        try:
            back = read(column.kind, cell)
        except ValueError:
            continue
        if same(back, value):
            cells[column.header] = cell
            pop_path(rest, column.path)
    if rest:
        if not table.other:
            raise ValueError(f"{table.sheet}: {flow(rest)} has no column")
        cells[OTHER] = flow(rest)
    try:
        if same(decode(table, cells), record):
            return cells
    except ValueError:
        pass
    return {OTHER: flow(record)}  # never lose data: the record whole, in YAML


def decode(table: Table, cells: dict, errors: list | None = None):
    """A record from its cells; a cell that cannot be read raises (or is appended to errors as
    (header, message) and skipped)."""
    record: dict = {}
    for column in table.columns:
        cell = cells.get(column.header)
        if is_empty(cell):
            continue
        try:
            set_path(record, column.path, read(column.kind, cell))
        except ValueError as exc:
            if errors is None:
                raise
            errors.append((column.header, str(exc)))
    other = cells.get(OTHER)
    if table.other and not is_empty(other):
        try:
            extra = load_yaml_text(other) if isinstance(other, str) else other
        except ValueError as exc:
            if errors is None:
                raise
            errors.append((OTHER, str(exc)))
            return record
        if isinstance(extra, dict):
            merge_into(record, extra)
        elif record:
            message = f"'{other}' is not a mapping of the record's other keys"
            if errors is None:
                raise ValueError(message)
            errors.append((OTHER, message))
        else:
            return extra
    return record


# ------------------------------------------------------------------------------------------ sheets
def _t(sheet, columns, context=(), other=True, note=""):
    return Table(sheet, tuple(Column(*c) if isinstance(c, tuple) else Column(c, (c.lower(),)) for c in columns),
                 tuple(context), other, note)


DATASETS = _t("Datasets", [
    ("Description", ("label",)), ("Class", ("class",)), ("Structure", ("structure",)),
    ("Purpose", ("_purpose",)), ("Key Variables", ("keys",), "names"), ("Sort Variables", ("sort",), "names"),
    ("Comment", ("_comment_id",)), ("Source", ("from",), "name_or_names"), ("Build", ("build",)),
    ("From Domain", ("from_domain",)), ("Where", ("where", "condition"), "text"),
    ("Where Reason", ("where", "reason"), "text"), ("Dedupe", ("dedupe",), "yaml"),
    ("Melt Test Column", ("melt", "name"), "text"), ("Melt Result Column", ("melt", "value"), "text"),
    ("Melt Empty Reason", ("melt", "empty_reason"), "text"), ("Melt Not Done", ("melt", "not_done"), "yaml"),
    ("Intervals", ("intervals",), "yaml"), ("Cut", ("cut",), "yaml")], context=["Dataset"])

VARIABLES = _t("Variables", [
    ("Variable", ("name",), "text"), ("Label", ("label",)), ("Data Type", ("type",)), ("Length", ("length",)),
    ("Significant Digits", ("significant_digits",), "int"), ("Core", ("core",)), ("Codelist", ("codelist",)),
    ("Origin", ("_origin", "type")), ("Source", ("_origin", "source")), ("Pages", ("_origin", "pages")),
    ("Predecessor", ("_origin", "predecessor")), ("Role", ("role",)), ("Method", ("_method_id",)),
    ("Comment", ("_comment_id",)), ("Supp QLABEL", ("supp", "qlabel")), ("Supp QORIG", ("supp", "qorig")),
    ("Supp QEVAL", ("supp", "qeval")), ("Map Algorithm", ("_map", "algorithm"), "text"),
    ("Map Source", ("_map", "source"), "text"), ("Map Arguments", ("_map", "args"), "args"),
    ("Map Condition", ("_map", "condition"), "text")], context=["Order", "Dataset"])

CONDITIONS = _t("Conditions", [
    ("Condition", ("condition",), "text"), ("Algorithm", ("algorithm",), "text"), ("Source", ("source",), "text"),
    ("Arguments", ("args",), "args")], context=["Dataset", "Variable", "Case"],
    note="The cases of a condition_add mapping, in order: the first whose condition holds gives the value; "
         "Case 'otherwise' (no condition) applies when none does.")

MERGES = _t("Merges", [("Merge Source", ("source",), "text"), ("By", ("by",), "names"),
                       ("Left On", ("left_on",), "names"), ("Right On", ("right_on",), "names"),
                       ("Columns", ("columns",), "names"), ("Optional", ("optional",))], context=["Dataset"])
MELT = _t("Melt", [("Column", ("column",), "text"), ("Test Code", ("code",))], context=["Dataset"], other=False,
          note="Wide forms: each raw column holding one test, and the test code its values get.")
TIMEPOINTS = _t("Time Points", [("Label", ("label",)), ("TPT", ("tpt",)), ("TPTNUM", ("tptnum",)),
                                ("ELTM", ("eltm",)), ("TPTREF", ("tptref",))], context=["Dataset"])
UNITS = _t("Standard Units", [("Unit", ("unit",)), ("Decimals", ("decimals",), "int"),
                              ("Factors", ("factors",), "yaml"), ("Conversions", ("conversions",), "yaml")],
               context=["Dataset", "Test Code"])
SOURCES = _t("Sources", [("Path", ("path",), "text"), ("Keys", ("keys",), "names"), ("Encoding", ("encoding",)),
                         ("Missing", ("missing",), "yaml"), ("Decimal", ("decimal",)), ("Role", ("role",)),
                         ("ODM Path", ("odm", "path"), "text"), ("ODM Form", ("odm", "form"), "text"),
                         ("Description", ("description",))], context=["Source"])
LOOKUPS = _t("Lookups", [("Values", ("values",), "yaml"), ("File", ("file",), "text"), ("Key", ("key",)),
                         ("Value", ("value",)), ("Missing", ("missing",)), ("Description", ("description",))],
             context=["Lookup"])
CUT = _t("Cut", [("Domain", ("domain",)), ("Variable", ("variable",)), ("Where", ("where",), "text")],
         note="A subject's entry date for data cuts: the first date found among these.")
ARMS = _t("Arms", [("ARMCD", ("armcd",)), ("ARM", ("arm",)), ("Randomization Code", ("randomization_code",)),
                   ("Elements", ("elements",), "names"), ("Branch", ("branch",), "yaml"),
                   ("Transition", ("transition",), "yaml")])
ELEMENTS = _t("Elements", [("ETCD", ("etcd",)), ("ELEMENT", ("element",)), ("EPOCH", ("epoch",)),
                           ("TESTRL", ("testrl",)), ("TEENRL", ("teenrl",)), ("TEDUR", ("tedur",)),
                           ("Start Domain", ("start", "domain")), ("Start Variable", ("start", "variable")),
                           ("Start Where", ("start", "where"), "text"), ("Start Pick", ("start", "pick")),
                           ("Start Offset Days", ("start", "offset_days"), "int")])
VISITS = _t("Visits", [("VISITNUM", ("visitnum",)), ("VISIT", ("visit",)), ("VISITDY", ("visitdy",), "int"),
                       ("TVSTRL", ("tvstrl",)), ("TVENRL", ("tvenrl",)), ("ARMCD", ("armcd",)),
                       ("Match", ("match",), "yaml")])
TS = _t("Trial Summary", [("TSPARMCD", ("parmcd",)), ("TSVAL", ("val",)), ("TSVALNF", ("valnf",)),
                          ("TSVALCD", ("valcd",)), ("TSVCDREF", ("vcdref",)), ("TSVCDVER", ("vcdver",))])
TI = _t("Trial Inclusion", [("IETESTCD", ("ietestcd",)), ("IETEST", ("ietest",)), ("IECAT", ("iecat",)),
                            ("TIVERS", ("tivers",))])
DESIGN_TABLES = {"arms": ARMS, "elements": ELEMENTS, "visits": VISITS, "ts": TS, "ti": TI}

# define metadata sheets with their P21 columns (read as the notes say)
STUDY_HEADERS = ["Attribute", "Value"]
STUDY_ATTRIBUTES = [  # (attribute, path in study.yaml, kind)
    ("StudyName", ("study", "name"), "value"), ("StudyDescription", ("study", "description"), "value"),
    ("ProtocolName", ("study", "protocol"), "value"), ("STUDYID", ("study", "studyid"), "value"),
    ("Sponsor", ("study", "sponsor"), "value"), ("Spec Version", ("version",), "value"),
    ("SDTM Version", ("study", "standards", "sdtm"), "value"),
    ("SDTMIG Version", ("study", "standards", "sdtmig"), "value"),
    ("ADaMIG Version", ("study", "standards", "adamig"), "value"),
    ("Define-XML Version", ("study", "standards", "define"), "value"),
    ("SDTM CT Version", ("study", "ct", "sdtm"), "value"), ("ADaM CT Version", ("study", "ct", "adam"), "value"),
    ("Study CT Files", ("study", "ct", "files"), "names")]
METHODS_HEADERS = ["ID", "Name", "Type", "Description", "Expression Context", "Expression Code", "Document", "Pages"]
COMMENTS_HEADERS = ["ID", "Description", "Document", "Pages"]
DOCUMENTS_HEADERS = ["ID", "Title", "Href"]
DICTIONARIES_HEADERS = ["ID", "Name", "Data Type", "Dictionary", "Version"]
VALUELEVEL_HEADERS = ["Order", "Dataset", "Variable", "Where Clause", "Description", "Data Type", "Length",
                      "Significant Digits", "Format", "Mandatory", "Assigned Value", "Codelist", "Origin", "Source",
                      "Pages", "Method", "Predecessor", "Comment", "Developer Notes"]
WHERECLAUSES_HEADERS = ["ID", "Dataset", "Variable", "Comparator", "Value", "Comment"]
CT_COLUMNS = [("ID", "codelist_code"), ("NCI Term Code", "term_code"), ("Term", "term_value"),
              ("Collected Value", "collected_value"), ("Decoded Value", "term_preferred_term"),
              ("Synonyms", "term_synonyms")]
CODELISTS_HEADERS = ["File", *(h for h, _ in CT_COLUMNS), "Other Columns"]
OTHER_HEADERS = ["File", "Path", "Value"]
FILES_HEADERS = ["File", "Line", "Text"]
ACRF_ID = "ACRF"


# ------------------------------------------------------------------------------ variables and maps
def _simple_map(mapping: dict) -> dict:
    flat = {"algorithm": mapping["algorithm"]}
    if isinstance(mapping.get("source"), str):
        flat["source"] = mapping["source"]
    args = {k: v for k, v in mapping.items() if k not in flat}
    if args:
        flat["args"] = args
    return flat


def _is_map(node) -> bool:
    return isinstance(node, dict) and isinstance(node.get("algorithm"), str)


def flatten_map(mapping: dict) -> dict:
    """A mapping as the Map columns hold it: algorithm, source (a raw column), args (the rest), and for
    condition_add either one condition (a single case, no otherwise) or its cases (Conditions rows)."""
    if mapping["algorithm"] != "condition_add":
        return _simple_map(mapping)
    cases = mapping.get("cases")
    good_case = lambda c: isinstance(c, dict) and set(c) == {"when", "then"} and isinstance(c["when"], str) \
        and _is_map(c["then"])  # noqa: E731
    if not isinstance(cases, list) or not cases or not all(good_case(c) for c in cases):
        return _simple_map(mapping)
    if "otherwise" in mapping and not _is_map(mapping["otherwise"]):
        return _simple_map(mapping)
    if set(mapping) == {"algorithm", "cases"} and len(cases) == 1:
        flat = _simple_map(cases[0]["then"])
        flat["condition"] = cases[0]["when"]
        return flat
    rows = [{"case": n, "condition": c["when"], **_simple_map(c["then"])} for n, c in enumerate(cases, 1)]
    if "otherwise" in mapping:
        rows.append({"case": "otherwise", **_simple_map(mapping["otherwise"])})
    flat = {"algorithm": "condition_add", "cases": rows}
    args = {k: v for k, v in mapping.items() if k not in ("algorithm", "cases", "otherwise")}
    if args:
        flat["args"] = args
    return flat


def unflatten_simple(flat: dict) -> dict:
    mapping = {"algorithm": flat["algorithm"]}
    if "source" in flat:
        mapping["source"] = flat["source"]
    for key, value in (flat.get("args") or {}).items():
        if key in mapping:
            raise ValueError(f"'{key}' is given twice (its own column and the arguments)")
        mapping[key] = value
    return mapping


def unflatten_map(flat: dict) -> dict:
    if "algorithm" not in flat:
        raise ValueError("a mapping needs its algorithm")
    if "condition" in flat:
        if "cases" in flat:
            raise ValueError("a condition on the variable's row and cases in the Conditions sheet: give one")
        return {"algorithm": "condition_add", "cases": [{"when": flat["condition"], "then": unflatten_simple(flat)}]}
    if "cases" not in flat:
        return unflatten_simple(flat)
    mapping = {"algorithm": flat["algorithm"], "cases": []}
    for row in flat["cases"]:
        if row.get("case") == "otherwise":
            if "otherwise" in mapping:
                raise ValueError("two 'otherwise' cases")
            mapping["otherwise"] = unflatten_simple(row)
        else:
            mapping["cases"].append({"when": row["condition"], "then": unflatten_simple(row)})
    for key, value in (flat.get("args") or {}).items():
        if key in mapping:
            raise ValueError(f"'{key}' is given twice (the Conditions sheet and the arguments)")
        mapping[key] = value
    return mapping


ORIGIN_KEYS = {"type", "source", "pages", "predecessor"}


def flatten_variable(variable: dict, method_id, comment_id) -> dict:
    """A variable with its origin, mapping, method and comment in the shape of the Variables columns
    (see VARIABLES); ``method_id(text)`` and ``comment_id(text)`` give the ID a text gets in its sheet."""
    flat = dict(variable)
    origin = flat.get("origin", MISSING)
    if isinstance(origin, str):
        flat.pop("origin")
        flat["_origin"] = {"type": origin}
    elif isinstance(origin, dict) and "type" in origin and set(origin) <= ORIGIN_KEYS and len(origin) > 1:
        flat.pop("origin")
        flat["_origin"] = dict(origin)
    if _is_map(flat.get("map")):
        flat["_map"] = flatten_map(flat.pop("map"))
    if isinstance(flat.get("method"), str):
        flat["_method_id"] = method_id(flat.pop("method"))
    if isinstance(flat.get("comment"), str):
        flat["_comment_id"] = comment_id(flat.pop("comment"))
    return flat


def unflatten_variable(flat: dict, methods: dict, comments: dict) -> dict:
    """The inverse of flatten_variable; a method or comment ID not in its sheet raises KeyError."""
    variable = {k: v for k, v in flat.items() if not k.startswith("_")}
    if "_origin" in flat:
        origin = flat["_origin"]
        variable["origin"] = origin["type"] if set(origin) == {"type"} else origin
    if "_method_id" in flat:
        variable["method"] = methods[flat["_method_id"]]
    if "_comment_id" in flat:
        variable["comment"] = comments[flat["_comment_id"]]
    if "_map" in flat:
        variable["map"] = unflatten_map(flat["_map"])
    return variable


def cells_empty(cells: dict) -> bool:
    return all(is_empty(v) for v in cells.values())


YAML_FILES = {"study": "study.yaml", "sdtm": "sdtm.yaml"}  # the spec files the sheets describe
SHEETS = [  # (sheet, headers, note) in workbook order
    ("Study", STUDY_HEADERS, "Study metadata (study.yaml: study)."),
    ("Datasets", DATASETS.headers, "One row per domain (sdtm.yaml: domains)."),
    ("Variables", VARIABLES.headers,
     "One row per variable, in Order within its dataset. Empty Label, Data Type, Core or Role: the SDTMIG value."),
    ("ValueLevel", VALUELEVEL_HEADERS, "Built from the data by cdisc run (one entry per test code): leave empty."),
    ("WhereClauses", WHERECLAUSES_HEADERS, "Built from the data by cdisc run: leave empty."),
    ("Codelists", CODELISTS_HEADERS, "The study's own CT (study.yaml: study.ct.files), one row per collected "
                                       "text; the CDISC CT is shipped with the toolkit."),
    ("Dictionaries", DICTIONARIES_HEADERS, "External dictionaries (study.yaml: study.dictionaries)."),
    ("Methods", METHODS_HEADERS, "Method texts the spec states (Variables: Method holds the ID)."),
    ("Comments", COMMENTS_HEADERS, "Comment texts (Datasets and Variables: Comment holds the ID)."),
    ("Documents", DOCUMENTS_HEADERS, "The annotated CRF (ID ACRF), a PDF in the spec folder."),
    *((t.sheet, t.headers, t.note) for t in (CONDITIONS, MERGES, MELT, TIMEPOINTS, UNITS, SOURCES,
                                             LOOKUPS, CUT, ARMS, ELEMENTS, VISITS, TS, TI)),
    ("Other", OTHER_HEADERS, "Spec keys no sheet has a column for (YAML values at their path)."),
    ("Files", FILES_HEADERS, "The other text files of the spec folder, one row per line."),
]
SHEET_HEADERS = {name: headers for name, headers, _ in SHEETS}
