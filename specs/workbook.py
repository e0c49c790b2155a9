"""The study spec as a workbook: `cdisc spec export SPEC_DIR --xlsx FILE` and `cdisc spec import FILE --out
SPEC_DIR`, laid out as Pinnacle 21's define spec (specs.workbook_layout) so that a data manager edits it in
Excel and a define.xml team recognises it.

The round trip is lossless for the data: YAML -> xlsx -> YAML gives the same parsed study.yaml and
sdtm.yaml (every key a column does not hold goes to an Other column or the Other sheet), the study CT files
the same rows, and every other text file of the spec folder (adam.yaml, lookup tables, notes) byte for byte
(the Files sheet, one row per line). What a workbook cannot keep: the comments of study.yaml and sdtm.yaml
(the written YAML is deterministic: the same workbook gives the same files) and binary files (the annotated
CRF stays where it is; import does not remove files). Errors in an imported workbook name the sheet, the
row and the column, including the spec errors of what it describes.

This module writes the workbook; specs.workbook_import reads it back (specs.workbook_locations places the
spec errors of what it wrote in its rows).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from specs import workbook_layout as L
from specs.errors import Problem, SpecError
from specs.workbook_cells import MISSING, csv_line, get_path, pop_path, read
from specs.workbook_layout import SHEETS, YAML_FILES
from specs.yaml_writer import flow

FIXED_DATE = datetime(2000, 1, 1)  # workbook properties: the same spec gives the same file


@dataclass
class Book:
    """Rows per sheet (header -> cell), in sheet order."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, sheet: str, row: dict) -> None:
        self.rows.setdefault(sheet, []).append(row)


class _Texts:
    """Method or comment texts under IDs (MT.DM.RFSTDTC, COM.DM), as define.xml names them."""

    def __init__(self, prefix: str):
        self.prefix, self.rows = prefix, {}

    def id_for(self, owner: str, text: str) -> str:
        base = f"{self.prefix}.{owner}"
        oid, n = base, 1
        while oid in self.rows and self.rows[oid] != text:
            n += 1
            oid = f"{base}.{n}"
        self.rows[oid] = text
        return oid


# ============================================================================================ export
def export_workbook(spec_dir, xlsx_path) -> list[str]:
    """Write the spec folder as a workbook; returns notes on what a workbook does not carry."""
    from specs.loader import read_yaml

    folder = Path(spec_dir)
    problems: list[Problem] = []
    if not folder.is_dir():
        raise SpecError([Problem(str(folder), "spec folder not found")])
    docs = {key: read_yaml(folder / name, problems) for key, name in YAML_FILES.items()}
    if problems:
        raise SpecError(problems)
    book = Book()
    methods, comments = _Texts("MT"), _Texts("COM")
    ct_files = _encode_study(docs["study"], book)
    _encode_sdtm(docs["sdtm"], book, methods, comments)
    for oid, text in methods.rows.items():
        owner = oid.split(".", 1)[1]
        book.add("Methods", {"ID": oid, "Name": f"Algorithm to derive {owner}", "Type": "Computation",
                             "Description": text})
    for oid, text in comments.rows.items():
        book.add("Comments", {"ID": oid, "Description": text})
    _encode_files(folder, ct_files, book)
    write_xlsx(book, Path(xlsx_path))
    return book.notes


def _other(book: Book, file_key: str, path: tuple, value) -> None:
    book.add("Other", {"File": YAML_FILES[file_key], "Path": ".".join(path), "Value": flow(value)})


def _encode_rows(book: Book, table: L.Table, records, context: dict) -> None:
    for record in records:
        book.add(table.sheet, {**context, **L.encode(table, record)})


def _is_records(value) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(isinstance(v, dict) for v in value)


def _encode_study(doc: dict, book: Book) -> list[str]:
    """study.yaml into the Study, Documents, Dictionaries, Sources, Lookups, Cut and design sheets; returns
    the study CT files it names (their rows go to the Codelists sheet)."""
    if not isinstance(doc, dict):
        _other(book, "study", (), doc)
        return []
    rest = {k: (dict(v) if isinstance(v, dict) else v) for k, v in doc.items()}
    if isinstance(rest.get("study"), dict):
        for name in ("standards", "ct"):
            if isinstance(rest["study"].get(name), dict):
                rest["study"][name] = dict(rest["study"][name])
    for attribute, path, kind in L.STUDY_ATTRIBUTES:
        value = get_path(rest, path)
        if value is not MISSING and L.can_write(kind, value) and L.same(read(kind, L.write(kind, value)), value):
            book.add("Study", {"Attribute": attribute, "Value": L.write(kind, value)})
            pop_path(rest, path)
    study = rest.get("study") if isinstance(rest.get("study"), dict) else {}
    acrf = study.get("acrf", MISSING)
    if isinstance(acrf, str) and acrf:
        book.add("Documents", {"ID": L.ACRF_ID, "Title": "Annotated CRF", "Href": study.pop("acrf")})
    dictionaries = study.get("dictionaries", MISSING)
    if isinstance(dictionaries, dict) and dictionaries and all(
            isinstance(k, str) and k and L.can_write("value", v) for k, v in dictionaries.items()):
        for name, version in study.pop("dictionaries").items():
            book.add("Dictionaries", {"ID": name, "Name": name, "Data Type": "text", "Dictionary": name,
                                      "Version": version})
    for key, value in study.items():
        _other(book, "study", ("study", key), value)
    rest.pop("study", None)
    for key, table in (("sources", L.SOURCES), ("lookups", L.LOOKUPS)):
        value = rest.get(key, MISSING)
        if isinstance(value, dict) and value and all(isinstance(k, str) and k for k in value):
            for name, record in rest.pop(key).items():
                _encode_rows(book, table, [record], {table.context[0]: name})
    cut = rest.get("cut", MISSING)
    if isinstance(cut, dict) and _is_records(cut.get("entry")):
        _encode_rows(book, L.CUT, cut["entry"], {})
        for key, value in cut.items():
            if key != "entry":
                _other(book, "study", ("cut", key), value)
        rest.pop("cut")
    design = rest.get("design", MISSING)
    if isinstance(design, dict):
        for key, value in rest.pop("design").items():
            if key in L.DESIGN_TABLES and _is_records(value):
                _encode_rows(book, L.DESIGN_TABLES[key], value, {})
            else:
                _other(book, "study", ("design", key), value)
        if not design:
            _other(book, "study", ("design",), {})
    for key, value in rest.items():
        _other(book, "study", (key,), value)
    files = get_path(doc, ("study", "ct", "files"))
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def _encode_sdtm(doc, book: Book, methods: _Texts, comments: _Texts) -> None:
    if not isinstance(doc, dict):
        _other(book, "sdtm", (), doc)
        return
    domains = doc.get("domains", MISSING)
    if not (isinstance(domains, dict) and domains and all(isinstance(k, str) and k for k in domains)):
        for key, value in doc.items():
            _other(book, "sdtm", (key,), value)
        return
    for key, value in doc.items():
        if key != "domains":
            _other(book, "sdtm", (key,), value)
    for name, domain in domains.items():
        _encode_domain(name, domain, book, methods, comments)


def _encode_domain(name: str, domain, book: Book, methods: _Texts, comments: _Texts) -> None:
    context = {"Dataset": name}
    if not isinstance(domain, dict):
        book.add("Datasets", {**context, L.OTHER: flow(domain)})
        return
    flat = dict(domain)
    flat["_purpose"] = "Tabulation"
    if isinstance(flat.get("comment"), str):
        flat["_comment_id"] = comments.id_for(name, flat.pop("comment"))
    lists = {}
    for key in ("merge", "timepoints"):
        if _is_records(flat.get(key)):
            lists[key] = flat.pop(key)
    units = flat.get("standard_units")
    if isinstance(units, dict) and units and all(isinstance(k, str) and k and "," not in k for k in units):
        lists["standard_units"] = flat.pop("standard_units")
    melt = flat.get("melt")
    if isinstance(melt, dict) and isinstance(melt.get("columns"), dict) and melt["columns"] and all(
            L.can_write("text", k) and L.can_write("value", v) for k, v in melt["columns"].items()):
        flat["melt"] = {k: v for k, v in melt.items() if k != "columns"}
        lists["melt"] = [{"column": k, "code": v} for k, v in melt["columns"].items()]
        if not flat["melt"]:
            flat.pop("melt")
    variables = flat.pop("variables", MISSING)
    if not _is_records(variables):
        if variables is not MISSING:
            flat["variables"] = variables
        variables = []
    book.add("Datasets", {**context, **L.encode(L.DATASETS, flat)})
    for record in lists.get("merge", []):
        book.add("Merges", {**context, **L.encode(L.MERGES, record)})
    for record in lists.get("melt", []):
        book.add("Melt", {**context, **L.encode(L.MELT, record)})
    for record in lists.get("timepoints", []):
        book.add("Time Points", {**context, **L.encode(L.TIMEPOINTS, record)})
    for code, record in lists.get("standard_units", {}).items():
        book.add("Standard Units", {**context, "Test Code": code, **L.encode(L.UNITS, record)})
    for order, variable in enumerate(variables, start=1):
        owner = f"{name}.{variable.get('name')}"
        flat_var = L.flatten_variable(variable, lambda t: methods.id_for(owner, t),
                                      lambda t: comments.id_for(owner, t))
        cases = flat_var.get("_map", {}).pop("cases", None) if isinstance(flat_var.get("_map"), dict) else None
        cells = L.encode(L.VARIABLES, flat_var)
        if not _variable_survives(cells, cases, variable, methods, comments):
            cells, cases = {L.OTHER: flow(variable)}, None  # never lose data: the variable whole, in YAML
        book.add("Variables", {"Order": order, **context, **cells})
        for case in cases or []:
            row = {k: v for k, v in case.items() if k != "case"}
            book.add("Conditions", {**context, "Variable": variable.get("name"), "Case": case["case"],
                                    **L.encode(L.CONDITIONS, row)})


def _variable_survives(cells: dict, cases, variable, methods: _Texts, comments: _Texts) -> bool:
    """True when the Variables cells (and the Conditions rows) read back as the variable."""
    try:
        flat = L.decode(L.VARIABLES, cells)
        if cases is not None:
            flat["_map"]["cases"] = [dict(c) for c in cases]
        back = L.unflatten_variable(flat, methods.rows, comments.rows) if isinstance(flat, dict) else flat
    except (ValueError, KeyError, TypeError):
        return False
    return L.same(back, variable)


def _read_ct_file(path: Path):
    """(header, rows) of a study CT file, or None when it is not one (it then travels as text)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not rows or len(set(rows[0])) != len(rows[0]) or not {"codelist_code", "term_value",
                                                             "collected_value"} <= set(rows[0]):
        return None
    if any(len(r) != len(rows[0]) for r in rows[1:] if r):
        return None
    return rows[0], [r for r in rows[1:] if r]


def _encode_files(folder: Path, ct_files: list[str], book: Book) -> None:
    ct_paths = {(folder / name).resolve() for name in ct_files}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative in YAML_FILES.values() or any(part.startswith(".") or part == "__pycache__"
                                                  for part in path.relative_to(folder).parts):
            continue
        if path.resolve() in ct_paths and (found := _read_ct_file(path)) is not None:
            header, rows = found
            book.add("Files", {"File": relative, "Line": 1, "Text": csv_line(header)})
            known = {c for _, c in L.CT_COLUMNS}
            for row in rows:
                values = dict(zip(header, row))
                cells = {"File": relative, **{h: values[c] for h, c in L.CT_COLUMNS if values.get(c, "") != ""}}
                extra = {c: v for c, v in values.items() if c not in known and v != ""}
                if extra:
                    cells["Other Columns"] = flow(extra)
                book.add("Codelists", cells)
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            book.notes.append(f"{relative}: not a text file, not carried by the workbook (it stays in the spec "
                              "folder; copy it beside an imported spec)")
            continue
        for number, line in enumerate(text.split("\n"), start=1):
            if L.can_write("text", line) or line == "":
                book.add("Files", {"File": relative, "Line": number, "Text": line})
            else:
                raise SpecError([Problem(f"{relative}:{number}", "a line a workbook cannot hold (control "
                                                                 "characters or more than 32,767 characters)")])



def write_xlsx(book: Book, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, headers, note in SHEETS:
        sheet = workbook.create_sheet(name)
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for number, row in enumerate(book.rows.get(name, []), start=2):
            for column, header in enumerate(headers, start=1):
                value = row.get(header)
                if value is None:
                    continue
                cell = sheet.cell(row=number, column=column)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # '=x' is text here, never a formula
        sheet.freeze_panes = "A2"
        for column, header in enumerate(headers, start=1):
            width = max([len(str(header))] + [len(str(r.get(header, ""))) for r in book.rows.get(name, [])[:500]])
            sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = min(max(width, 6) + 2, 60)
        if note:
            sheet.cell(row=1, column=1).comment = Comment(note, "cdisc-toolkit")
    workbook.properties.created = workbook.properties.modified = FIXED_DATE
    workbook.properties.creator = "cdisc-toolkit"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        workbook.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
