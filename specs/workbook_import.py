"""`cdisc spec import FILE --out SPEC_DIR`: the spec folder a workbook (specs.workbook) describes. Every
error names the sheet, the row and the column; a workbook that cannot be read as a spec writes nothing."""
from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from specs import workbook_layout as L
from specs.errors import Problem, SpecError, clip
from specs.workbook_cells import csv_line, get_path, is_empty, load_yaml_text, merge_into, read, set_path
from specs.workbook_layout import SHEET_HEADERS, SHEETS, YAML_FILES
from specs.workbook_locations import located_spec_problems
from specs.yaml_writer import dump

@dataclass
class Row:
    sheet: str
    number: int  # the Excel row number (the header is row 1)
    cells: dict
    letters: dict  # header -> column letter

    def where(self, header: str | None = None) -> str:
        if header is None:
            return f"{self.sheet} row {self.number}"
        return f"{self.sheet} row {self.number}, column {self.letters.get(header, '?')} ({header})"


@dataclass
class ImportResult:
    files: dict[str, str]  # relative path -> text
    provenance: dict  # (file key, *record path) -> (Row, Table | None)


def read_book(path: Path) -> dict[str, list[Row]]:
    """Every sheet's non-empty rows, after checking headers (an unknown column is an error)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise SpecError([Problem(str(path), "workbook not found")]) from None
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise SpecError([Problem(str(path), f"not a readable .xlsx workbook ({type(exc).__name__}: {clip(exc, 200)})")]
                        ) from None
    problems: list[Problem] = []
    sheets: dict[str, list[Row]] = {}
    try:
        for sheet in workbook.worksheets:
            if sheet.title not in SHEET_HEADERS:
                problems.append(Problem(f"sheet '{sheet.title}'", f"not a sheet of the spec workbook (sheets: "
                                                                  f"{', '.join(SHEET_HEADERS)})"))
                continue
            rows = sheet.iter_rows(values_only=True)
            header_row = next(rows, None) or ()
            headers: list = [None if is_empty(h) else str(h).strip() for h in header_row]
            known = SHEET_HEADERS[sheet.title]
            from openpyxl.utils import get_column_letter

            letters = {h: get_column_letter(i + 1) for i, h in enumerate(headers) if h}
            for i, header in enumerate(headers):
                if header and header not in known:
                    problems.append(Problem(f"{sheet.title} row 1, column {get_column_letter(i + 1)}",
                                            f"unknown column '{header}' (columns: {', '.join(known)})"))
                elif header and headers.index(header) != i:
                    problems.append(Problem(f"{sheet.title} row 1, column {get_column_letter(i + 1)}",
                                            f"column '{header}' appears twice"))
            out = []
            for number, values in enumerate(rows, start=2):
                cells = {h: v for h, v in zip(headers, values) if h and not is_empty(v)}
                stray = [i for i, v in enumerate(values) if not is_empty(v) and (i >= len(headers) or not headers[i])]
                for i in stray:
                    problems.append(Problem(f"{sheet.title} row {number}, column {get_column_letter(i + 1)}",
                                            f"a value under no column header: '{clip(values[i], 80)}'"))
                if cells:
                    out.append(Row(sheet.title, number, cells, letters))
            sheets[sheet.title] = out
    finally:
        workbook.close()
    for required in ("Study", "Datasets", "Variables"):
        if required not in sheets and not any(p.where == f"sheet '{required}'" for p in problems):
            problems.append(Problem(str(path.name), f"no sheet '{required}'"))
    if problems:
        raise SpecError(problems)
    return sheets


class _Reader:
    """Rows -> the spec documents, collecting located problems."""

    def __init__(self, sheets: dict[str, list[Row]]):
        self.sheets = sheets
        self.problems: list[Problem] = []
        self.provenance: dict = {}

    def problem(self, row: Row, header: str | None, message: str) -> None:
        self.problems.append(Problem(row.where(header), message))

    def decode(self, table: L.Table, row: Row, path: tuple):
        errors: list = []
        record = L.decode(table, row.cells, errors)
        for header, message in errors:
            self.problem(row, header, message)
        self.provenance[path] = (row, table)
        return record

    def need(self, row: Row, header: str) -> str | None:
        value = row.cells.get(header)
        if is_empty(value):
            self.problem(row, header, "is empty")
            return None
        return str(value).strip()

    def texts(self, sheet: str, prefix: str) -> dict[str, str]:
        out = {}
        for row in self.sheets.get(sheet, []):
            oid = self.need(row, "ID")
            for header in ("Expression Context", "Expression Code", "Document", "Pages"):
                if header in row.cells:
                    self.problem(row, header, "not held by the spec (leave it empty)")
            if oid is None:
                continue
            if oid in out:
                self.problem(row, "ID", f"'{oid}' is given twice")
            text = row.cells.get("Description")
            out[oid] = "" if text is None else str(text)
        return out


def import_documents(sheets: dict[str, list[Row]]) -> tuple[dict, _Reader]:
    reader = _Reader(sheets)
    study = _read_study(reader)
    sdtm = _read_sdtm(reader)
    for row in sheets.get("Other", []):
        file_name, path = row.cells.get("File"), row.cells.get("Path")
        docs = {"study.yaml": study, "sdtm.yaml": sdtm}
        if file_name not in docs:
            reader.problem(row, "File", f"'{file_name}' is not study.yaml or sdtm.yaml")
            continue
        try:
            value = load_yaml_text(row.cells["Value"]) if isinstance(row.cells.get("Value"), str) else \
                row.cells.get("Value")
        except ValueError as exc:
            reader.problem(row, "Value", str(exc))
            continue
        keys = tuple(str(path).split(".")) if not is_empty(path) else ()
        if not keys:
            reader.problem(row, "Path", "is empty")
            continue
        existing = get_path(docs[file_name], keys)
        if isinstance(existing, dict) and isinstance(value, dict):  # the rest of a mapping other sheets hold
            merge_into(existing, value)
        else:
            set_path(docs[file_name], keys, value)
        reader.provenance[("study" if file_name == "study.yaml" else "sdtm", *keys)] = (row, None)
    for name in ("ValueLevel", "WhereClauses"):
        for row in sheets.get(name, []):
            reader.problem(row, None, "the spec holds no value-level metadata: cdisc run builds it from the data "
                                      "(one entry per test code or parameter); leave this sheet empty")
    return {"study": _ordered_study(study), "sdtm": sdtm}, reader


def _ordered_study(study: dict) -> dict:
    order = ["version", "study", "sources", "lookups", "cut", "design"]
    inner = ["studyid", "name", "description", "protocol", "sponsor", "acrf", "standards", "ct", "dictionaries"]
    if isinstance(study.get("study"), dict):
        s = study["study"]
        study["study"] = {**{k: s[k] for k in inner if k in s}, **{k: v for k, v in s.items() if k not in inner}}
    return {**{k: study[k] for k in order if k in study}, **{k: v for k, v in study.items() if k not in order}}


def _read_study(reader: _Reader) -> dict:
    doc: dict = {}
    attributes = {a: (p, k) for a, p, k in L.STUDY_ATTRIBUTES}
    for row in reader.sheets.get("Study", []):
        attribute = reader.need(row, "Attribute")
        if attribute is None:
            continue
        if attribute not in attributes:
            reader.problem(row, "Attribute", f"unknown attribute '{attribute}' (attributes: {', '.join(attributes)})")
            continue
        path, kind = attributes[attribute]
        if is_empty(row.cells.get("Value")):
            continue
        try:
            set_path(doc, path, read(kind, row.cells["Value"]))
        except ValueError as exc:
            reader.problem(row, "Value", str(exc))
        reader.provenance[("study", *path)] = (row, None)
    for row in reader.sheets.get("Documents", []):
        if row.cells.get("ID") != L.ACRF_ID:
            reader.problem(row, "ID", f"the spec holds one document, the annotated CRF (ID {L.ACRF_ID})")
        elif reader.need(row, "Href"):
            set_path(doc, ("study", "acrf"), str(row.cells["Href"]).strip())
            reader.provenance[("study", "study", "acrf")] = (row, None)
    for row in reader.sheets.get("Dictionaries", []):
        name = reader.need(row, "ID")
        if name is None:
            continue
        if not is_empty(row.cells.get("Dictionary")) and str(row.cells["Dictionary"]).strip() != name:
            reader.problem(row, "Dictionary", f"the spec names a dictionary by its ID ('{name}')")
        if reader.need(row, "Version") is not None:
            set_path(doc, ("study", "dictionaries", name), read("value", row.cells["Version"]))
            reader.provenance[("study", "study", "dictionaries", name)] = (row, None)
    for key, table in (("sources", L.SOURCES), ("lookups", L.LOOKUPS)):
        for row in reader.sheets.get(table.sheet, []):
            name = reader.need(row, table.context[0])
            if name is None:
                continue
            if name in doc.get(key, {}):
                reader.problem(row, table.context[0], f"'{name}' is given twice")
            doc.setdefault(key, {})[name] = reader.decode(table, row, ("study", key, name))
    entries = [reader.decode(L.CUT, row, ("study", "cut", "entry", n)) for n, row in
               enumerate(reader.sheets.get("Cut", []))]
    if entries:
        doc["cut"] = {"entry": entries}
    for key, table in L.DESIGN_TABLES.items():
        rows = reader.sheets.get(table.sheet, [])
        if rows:
            doc.setdefault("design", {})[key] = [reader.decode(table, row, ("study", "design", key, n))
                                                 for n, row in enumerate(rows)]
    return doc


def _by_dataset(reader: _Reader, sheet: str, datasets: dict) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for row in reader.sheets.get(sheet, []):
        name = reader.need(row, "Dataset")
        if name is None:
            continue
        if name not in datasets:
            reader.problem(row, "Dataset", f"'{name}' is not a dataset of the Datasets sheet")
            continue
        out.setdefault(name, []).append(row)
    return out


def _read_sdtm(reader: _Reader) -> dict:
    methods = reader.texts("Methods", "MT")
    comments = reader.texts("Comments", "COM")
    domains: dict = {}
    dataset_rows: dict[str, Row] = {}
    for row in reader.sheets.get("Datasets", []):
        name = reader.need(row, "Dataset")
        if name is None:
            continue
        if name in dataset_rows:
            reader.problem(row, "Dataset", f"'{name}' is given twice (first on row {dataset_rows[name].number})")
            continue
        dataset_rows[name] = row
    by = {sheet: _by_dataset(reader, sheet, dataset_rows) for sheet in
          ("Variables", "Conditions", "Merges", "Melt", "Time Points", "Standard Units")}
    for name, row in dataset_rows.items():
        path = ("sdtm", "domains", name)
        flat = reader.decode(L.DATASETS, row, path)
        if not isinstance(flat, dict):
            domains[name] = flat
            continue
        purpose = flat.pop("_purpose", "Tabulation")
        if purpose != "Tabulation":
            reader.problem(row, "Purpose", f"'{purpose}': an SDTM spec's datasets are Tabulation datasets")
        if "_comment_id" in flat:
            oid = str(flat.pop("_comment_id"))
            if oid in comments:
                flat["comment"] = comments[oid]
            else:
                reader.problem(row, "Comment", f"'{oid}' is not an ID of the Comments sheet")
        melt_rows = by["Melt"].get(name, [])
        if melt_rows:
            melt = flat.setdefault("melt", {})
            if not isinstance(melt, dict):
                reader.problem(row, "Other", "melt is not a mapping but the Melt sheet has its columns")
            else:
                columns = {}
                for n, mrow in enumerate(melt_rows):
                    item = reader.decode(L.MELT, mrow, (*path, "melt", "columns", n))
                    if "column" in item and "code" in item:
                        if item["column"] in columns:
                            reader.problem(mrow, "Column", f"'{item['column']}' is given twice")
                        columns[item["column"]] = item["code"]
                    else:
                        reader.problem(mrow, None, "a melt row needs its Column and its Test Code")
                melt["columns"] = columns
        for key, sheet, table in (("merge", "Merges", L.MERGES), ("timepoints", "Time Points", L.TIMEPOINTS)):
            rows = by[sheet].get(name, [])
            if rows:
                flat[key] = [reader.decode(table, r, (*path, key, n)) for n, r in enumerate(rows)]
        for urow in by["Standard Units"].get(name, []):
            code = reader.need(urow, "Test Code")
            if code is not None:
                flat.setdefault("standard_units", {})[code] = reader.decode(L.UNITS, urow,
                                                                            (*path, "standard_units", code))
        cases = _cases(reader, by["Conditions"].get(name, []))
        rows = by["Variables"].get(name, [])
        orders = [_order(reader, vrow) for vrow in rows]
        variables = []
        for n, vrow in enumerate(row for _, _, row in sorted(zip(orders, range(len(rows)), rows))):
            variables.append(_read_variable(reader, vrow, (*path, "variables", n), methods, comments, cases))
        for variable_name, items in cases.items():
            if items:
                reader.problem(items[0][0], "Variable", f"'{variable_name}' has no row in the Variables sheet with "
                                                        "Map Algorithm condition_add")
        if variables:
            flat["variables"] = variables
        ordered = {k: flat[k] for k in ("label", "class", "structure", "comment", "from", "build", "from_domain",
                                        "merge", "where", "dedupe", "melt", "intervals", "timepoints", "cut", "keys",
                                        "sort", "standard_units") if k in flat}
        domains[name] = {**ordered, **{k: v for k, v in flat.items() if k not in ordered}}
    doc: dict = {"domains": domains} if domains else {}
    return doc


def _order(reader: _Reader, row: Row) -> float:
    value = row.cells.get("Order")
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        reader.problem(row, "Order", f"'{'' if value is None else value}' is not a number (the variable's position "
                                     "in its dataset)")
        return float("inf")


def _cases(reader: _Reader, rows: list[Row]) -> dict[str, list]:
    out: dict[str, list] = {}
    for row in rows:
        variable = reader.need(row, "Variable")
        if variable is None:
            continue
        case = row.cells.get("Case")
        if case != "otherwise":
            try:
                read("int", case)
            except (ValueError, TypeError):
                reader.problem(row, "Case", f"'{case}' is neither a case number nor 'otherwise'")
                continue
        errors: list = []
        item = L.decode(L.CONDITIONS, row.cells, errors)
        for header, message in errors:
            reader.problem(row, header, message)
        if case != "otherwise" and "condition" not in item:
            reader.problem(row, "Condition", "is empty (only the 'otherwise' case has no condition)")
            continue
        if case == "otherwise" and "condition" in item:
            reader.problem(row, "Condition", "the 'otherwise' case has no condition")
            continue
        if "algorithm" not in item:
            reader.problem(row, "Algorithm", "is empty")
            continue
        out.setdefault(variable, []).append((row, {"case": case, **item}))
    return out


def _read_variable(reader: _Reader, row: Row, path: tuple, methods: dict, comments: dict, cases: dict):
    flat = reader.decode(L.VARIABLES, row, path)
    if not isinstance(flat, dict):
        return flat
    for key, sheet, texts in (("_method_id", "Methods", methods), ("_comment_id", "Comments", comments)):
        if key in flat and str(flat[key]) not in texts:
            reader.problem(row, "Method" if key == "_method_id" else "Comment",
                           f"'{flat[key]}' is not an ID of the {sheet} sheet")
            flat.pop(key)
        elif key in flat:
            flat[key] = str(flat[key])
    mapping = flat.get("_map")
    if isinstance(mapping, dict):
        items = cases.pop(flat.get("name"), []) if mapping.get("algorithm") == "condition_add" else []
        if items:
            mapping["cases"] = [item for _, item in items]
            number = 0
            for crow, item in items:
                if item["case"] == "otherwise":
                    reader.provenance[(*path, "map", "otherwise")] = (crow, L.CONDITIONS)
                else:
                    reader.provenance[(*path, "map", "cases", number)] = (crow, L.CONDITIONS)
                    number += 1
        if "algorithm" not in mapping:
            reader.problem(row, "Map Algorithm", "is empty but the variable has Map cells")
            flat.pop("_map")
    try:
        return L.unflatten_variable(flat, methods, comments)
    except ValueError as exc:
        reader.problem(row, "Map Arguments", str(exc))
        return {k: v for k, v in flat.items() if not k.startswith("_")}


def import_workbook(xlsx_path, out_dir) -> list[Problem]:
    """Write the spec folder a workbook describes; returns the spec problems of what was written (each
    located in the workbook). A workbook that cannot be read as a spec raises SpecError and writes nothing."""
    path = Path(xlsx_path)
    sheets = read_book(path)
    docs, reader = import_documents(sheets)
    files = _read_files(reader)
    if reader.problems:
        order = {name: n for n, (name, _, _) in enumerate(SHEETS)}

        def place(problem: Problem):
            found = re.match(r"(.+?) row (\d+)", problem.where)
            return (order.get(found.group(1), len(order)), int(found.group(2))) if found else (len(order), 0)

        raise SpecError(sorted(reader.problems, key=place))
    header = (f"{{name}} of the study spec, written by `cdisc spec import` from {path.name}.\n"
              "A workbook does not keep YAML comments: edit the workbook, or this file, not both.")
    out = Path(out_dir)
    texts = {YAML_FILES[k]: dump(v, header=header.format(name=YAML_FILES[k])) for k, v in docs.items()}
    texts.update(files)
    write_files(out, texts)
    return located_spec_problems(out, reader.provenance)


def _read_files(reader: _Reader) -> dict[str, str]:
    lines: dict[str, list[tuple[int, str, Row]]] = {}
    for row in reader.sheets.get("Files", []):
        name = reader.need(row, "File")
        if name is None:
            continue
        try:
            number = read("int", row.cells.get("Line"))
        except (ValueError, TypeError):
            reader.problem(row, "Line", f"'{row.cells.get('Line')}' is not a line number")
            continue
        text = row.cells.get("Text")
        lines.setdefault(name, []).append((number, "" if text is None else str(text), row))
    files = {}
    for name, items in lines.items():
        from specs.loader import confined_path

        _, why = confined_path(Path("spec"), name, "spec folder")
        if why or name in YAML_FILES.values():
            reader.problem(items[0][2], "File", why or f"{name} is written from the other sheets")
            continue
        items.sort(key=lambda item: item[0])
        numbers = [n for n, _, _ in items]
        if numbers != list(range(1, len(items) + 1)):
            reader.problem(items[0][2], "Line", f"the lines of {name} are not numbered 1 to {len(items)}")
            continue
        files[name] = "\n".join(text for _, text, _ in items)
    for row in reader.sheets.get("Codelists", []):
        name = reader.need(row, "File")
        if name is None:
            continue
        if name not in files:
            reader.problem(row, "File", f"'{name}' has no header line in the Files sheet")
            continue
        header = next(csv.reader([files[name].split("\n")[0]]))
        values = {c: "" if is_empty(row.cells.get(h)) else str(row.cells[h]) for h, c in L.CT_COLUMNS}
        if not is_empty(row.cells.get("Other Columns")):
            try:
                extra = load_yaml_text(str(row.cells["Other Columns"]))
                if not isinstance(extra, dict):
                    raise ValueError(f"'{row.cells['Other Columns']}' is not a mapping of column names to values")
                values.update({str(k): "" if v is None else str(v) for k, v in extra.items()})
            except ValueError as exc:
                reader.problem(row, "Other Columns", str(exc))
                continue
        unknown = [c for c, v in values.items() if v and c not in header]
        if unknown:
            reader.problem(row, "Other Columns" if unknown[0] not in dict(L.CT_COLUMNS).values() else None,
                           f"{name} has no column {', '.join(unknown)} (its header: {', '.join(header)})")
            continue
        files[name] += "\n" + csv_line([values.get(c, "") for c in header])
    return _end_csv(files, reader)


def _end_csv(files: dict[str, str], reader: _Reader) -> dict[str, str]:
    """Study CT files end with a line break (the Files sheet holds only their header line)."""
    ct_files = {row.cells.get("File") for row in reader.sheets.get("Codelists", [])}
    return {name: text + "\n" if name in ct_files else text for name, text in files.items()}


def write_files(folder: Path, texts: dict[str, str]) -> None:
    """Each file written whole (a temporary file renamed), folders made as needed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
