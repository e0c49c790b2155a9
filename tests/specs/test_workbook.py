"""The spec as a workbook: YAML -> xlsx -> YAML gives the same data, and a bad workbook is named by sheet,
row and column."""
import csv
import io
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from cdisc.cli import main
from specs.errors import SpecError
from specs.workbook import export_workbook
from specs.workbook_import import import_workbook

STUDIES = sorted(p for p in (Path(__file__).resolve().parents[2] / "specs" / "studies").iterdir() if p.is_dir())


def ct_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def round_trip(spec: Path, tmp_path: Path) -> Path:
    book = tmp_path / "spec.xlsx"
    export_workbook(spec, book)
    out = tmp_path / "imported"
    assert import_workbook(book, out) == []
    return out


@pytest.mark.parametrize("spec", STUDIES, ids=[p.name for p in STUDIES])
def test_study_spec_round_trip_is_identical(spec, tmp_path):
    out = round_trip(spec, tmp_path)
    for name in ("study.yaml", "sdtm.yaml"):  # identical = the same parsed data (YAML comments are not kept)
        assert yaml.safe_load((out / name).read_text("utf-8")) == yaml.safe_load((spec / name).read_text("utf-8"))
    study = yaml.safe_load((spec / "study.yaml").read_text("utf-8"))
    ct_files = set((study["study"].get("ct") or {}).get("files") or [])
    for path in sorted(p for p in spec.rglob("*") if p.is_file() and p.name not in ("study.yaml", "sdtm.yaml")):
        relative = path.relative_to(spec).as_posix()
        if relative in ct_files:  # the Codelists sheet: the same rows as the toolkit reads them
            assert ct_rows(out / relative) == ct_rows(path)
        else:  # adam.yaml, notes: byte for byte, comments included
            assert (out / relative).read_bytes() == path.read_bytes(), relative
    again = tmp_path / "again"
    export_workbook(out, again / "spec.xlsx")
    import_workbook(again / "spec.xlsx", again)
    for name in ("study.yaml", "sdtm.yaml"):  # the written YAML is deterministic
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_demo_workbook_is_laid_out_as_a_p21_define_spec(tmp_path):
    book = tmp_path / "spec.xlsx"
    export_workbook(STUDIES[0].parent / "nct05153070", book)
    wb = load_workbook(book, read_only=True)
    assert wb.sheetnames[:10] == ["Study", "Datasets", "Variables", "ValueLevel", "WhereClauses", "Codelists",
                                  "Dictionaries", "Methods", "Comments", "Documents"]
    rows = {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    header = rows["Variables"][0]
    assert header[:8] == ("Order", "Dataset", "Variable", "Label", "Data Type", "Length", "Significant Digits",
                          "Core")
    assert {"Codelist", "Origin", "Source", "Pages", "Method", "Predecessor", "Role", "Comment", "Map Algorithm",
            "Map Source", "Map Arguments", "Map Condition"} <= set(header)
    row = dict(zip(header, next(r for r in rows["Variables"] if r[1] == "DM" and r[2] == "RFICDTC")))
    assert (row["Order"], row["Origin"], row["Source"], row["Pages"], row["Map Algorithm"], row["Map Arguments"]) \
        == (9, "Collected", "Investigator", "2", "assign_datetime", "{date: ICDAT, format: DD/MM/YYYY}")
    row = dict(zip(header, next(r for r in rows["Variables"] if r[1] == "DM" and r[2] == "RFSTDTC")))
    assert row["Method"] == "MT.DM.RFSTDTC"
    assert ("MT.DM.RFSTDTC", "Algorithm to derive DM.RFSTDTC", "Computation",
            "First dose of ciclosporin: the earliest EX.EXSTDTC.") == rows["Methods"][1][:4]
    row = dict(zip(header, next(r for r in rows["Variables"] if r[1] == "LB" and r[2] == "LBSCAT")))
    assert (row["Map Condition"], row["Map Algorithm"], row["Map Arguments"]) == \
        ("TPT_MIN is not empty", "hardcode_no_ct", "{value: MIXED MEAL TEST}".replace("TEST", "TOLERANCE TEST"))
    conditions = [r for r in rows["Conditions"] if r[:2] == ("EC", "ECTRT")]
    assert [r[2:7] for r in conditions] == [
        (1, "RAWSOURCE == 'ex_csa'", "hardcode_no_ct", None, "{value: CICLOSPORIN}"),
        ("otherwise", None, "hardcode_no_ct", None, "{value: ILT-101 OR PLACEBO}")]
    datasets = dict(zip(rows["Datasets"][0], next(r for r in rows["Datasets"] if r[0] == "VS")))
    assert (datasets["Description"], datasets["Purpose"], datasets["Key Variables"], datasets["Melt Test Column"]) == \
        ("Vital Signs", "Tabulation", "STUDYID, USUBJID, VSTESTCD, VISITNUM", "TESTCD")
    assert ("VS", "WEIGHT", "WEIGHT") in rows["Melt"]
    assert ("Dictionaries", rows["Dictionaries"][1]) == ("Dictionaries", ("MedDRA", "MedDRA", "text", "MedDRA", "27.0"))


UNUSUAL_STUDY = {
    "version": 2,
    "study": {"studyid": "X1", "name": "=SUM(A1)", "description": "two\nlines", "protocol": " leading space",
              "standards": {"sdtmig": "3.4"}, "ct": {"sdtm": "2025-03-28", "files": []}, "dictionaries": {},
              "unknown_key": [1, 2.0, "3"]},
    "sources": {"raw": {"path": "raw.csv", "keys": ["ID"], "missing": ["", "."], "decimal": ","}},
    "design": {"visits": [], "arms": [{"armcd": "A", "arm": "Arm A", "elements": ["E1"], "extra": None}],
               "future_key": {"x": True}},
    "top_level_future": "é",
}
UNUSUAL_SDTM = {
    "domains": {
        "XX": {
            "label": "Odd", "from": ["raw"], "merge": [], "melt": {"columns": {"A B": 1, "C": "c"}},
            "standard_units": {"T1": {"unit": "mg", "factors": {"g": 1000}, "formula": "x + 1"}},
            "future": {"a": 1},
            "variables": [
                {"name": "V1", "origin": {"type": "Collected"}, "map": {"algorithm": "assign_no_ct",
                                                                     "source": ["A", "B"]}},
                {"name": "V2", "length": "auto", "map": {"algorithm": "hardcode_no_ct", "value": 1.0}},
                {"name": "V3", "map": {"algorithm": "hardcode_no_ct", "value": "1"}, "supp": {}},
                {"name": "V4", "map": {"algorithm": "condition_add", "cases": [
                    {"when": "A == '1'", "then": {"algorithm": "condition_add", "cases": [
                        {"when": "B is empty", "then": {"algorithm": "hardcode_ct", "value": True}}]}}]}},
                {"name": "V5", "method": "two\nlines", "comment": "", "map": {
                    "algorithm": "condition_add", "cases": [{"when": "A == 'x'", "then": {"algorithm": "x"}}],
                    "otherwise": {"algorithm": "assign_no_ct", "source": "A"}, "extra": [None]}},
                {"name": "V6", "map": {"algorithm": "condition_add", "cases": [{"when": 1, "then": "x"}]}},
                "not a mapping",
                {"label": "no name", "map": None},
            ]},
        "YY": "not a mapping",
    },
    "other": [],
}


def test_unusual_values_survive_the_workbook(tmp_path):
    """Whatever a column cannot hold travels in YAML (Other column, Other sheet): nothing is lost."""
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "study.yaml").write_text(yaml.safe_dump(UNUSUAL_STUDY, allow_unicode=True), "utf-8")
    (spec / "sdtm.yaml").write_text(yaml.safe_dump(UNUSUAL_SDTM, allow_unicode=True), "utf-8")
    (spec / "notes").mkdir()
    (spec / "notes" / "read me.md").write_text("  indented\n\n=1+1\ttab\n", "utf-8")
    (spec / "acrf.pdf").write_bytes(b"%PDF-1.4\x00\xff")
    book = tmp_path / "spec.xlsx"
    notes = export_workbook(spec, book)
    assert notes == ["acrf.pdf: not a text file, not carried by the workbook (it stays in the spec folder; copy it "
                     "beside an imported spec)"]
    out = tmp_path / "out"
    import_workbook(book, out)  # the spec's own problems are returned, not raised
    assert yaml.safe_load((out / "study.yaml").read_text("utf-8")) == UNUSUAL_STUDY
    assert yaml.safe_load((out / "sdtm.yaml").read_text("utf-8")) == UNUSUAL_SDTM
    assert (out / "notes" / "read me.md").read_bytes() == (spec / "notes" / "read me.md").read_bytes()


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory):
    book = tmp_path_factory.mktemp("book") / "spec.xlsx"
    export_workbook(STUDIES[0].parent / "nct05153070", book)
    return book


def edited(book: Path, tmp_path: Path, edit) -> Path:
    from openpyxl import load_workbook as load

    wb = load(book)
    edit(wb)
    target = tmp_path / "edited.xlsx"
    wb.save(target)
    return target


def find_row(ws, *values) -> int:
    start = 1 if ws.title == "Variables" else 0  # after Order
    for row in ws.iter_rows(min_row=2):
        if tuple(c.value for c in row[start:start + len(values)]) == values:
            return row[0].row
    raise LookupError(values)


def column_of(ws, header: str) -> int:
    return next(c.column for c in ws[1] if c.value == header)


def set_cell(wb, sheet, key, header, value):
    ws = wb[sheet]
    ws.cell(row=find_row(ws, *key), column=column_of(ws, header)).value = value


def test_workbook_errors_name_sheet_row_and_column(demo_book, tmp_path):
    def edit(wb):
        set_cell(wb, "Variables", ("DM", "RFICDTC"), "Map Arguments", "{date: [ICDAT")
        set_cell(wb, "Variables", ("DM", "RFSTDTC"), "Method", "MT.NOWHERE")
        set_cell(wb, "Variables", ("DM", "AGE"), "Order", "eighteen")
        wb["Variables"].cell(row=1, column=30).value = "Notes"
        ws = wb["Merges"]
        ws.cell(row=2, column=1).value = "ZZ"
        wb["ValueLevel"].cell(row=2, column=2).value = "LB"

    with pytest.raises(SpecError) as caught:
        import_workbook(edited(demo_book, tmp_path, edit), tmp_path / "out")
    messages = [str(p) for p in caught.value.problems]
    assert "Variables row 1, column AD: unknown column 'Notes' (columns: Order, Dataset, Variable, Label, " \
           "Data Type, Length, Significant Digits, Core, Codelist, Origin, Source, Pages, Predecessor, Role, " \
           "Method, Comment, Supp QLABEL, Supp QORIG, Supp QEVAL, Map Algorithm, Map Source, Map Arguments, " \
           "Map Condition, Other)" in messages
    assert not (tmp_path / "out").exists()

    def edit_cells(wb):
        edit(wb)
        wb["Variables"].cell(row=1, column=30).value = None

    with pytest.raises(SpecError) as caught:
        import_workbook(edited(demo_book, tmp_path, edit_cells), tmp_path / "out")
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "Variables row 6, column O (Method): 'MT.NOWHERE' is not an ID of the Methods sheet",
        "Variables row 10, column V (Map Arguments): not valid YAML (did not find expected ',' or ']'): "
        "'{date: [ICDAT'",
        "Variables row 16, column A (Order): 'eighteen' is not a number (the variable's position in its dataset)",
        "ValueLevel row 2: the spec holds no value-level metadata: cdisc run builds it from the data (one entry "
        "per test code or parameter); leave this sheet empty",
        "Merges row 2, column A (Dataset): 'ZZ' is not a dataset of the Datasets sheet"]
    assert not (tmp_path / "out").exists()


def test_spec_errors_of_an_imported_workbook_are_located(demo_book, tmp_path):
    def schema_error(wb):
        set_cell(wb, "Variables", ("AE", "AETERM"), "Origin", "Typed")

    problems = [str(p) for p in import_workbook(edited(demo_book, tmp_path, schema_error), tmp_path / "out")]
    assert len(problems) == 1
    assert problems[0].startswith("Variables row 116, column J (Origin) [")
    assert problems[0].endswith("/out/sdtm.yaml: domains.AE.variables[5].origin]: {'type': 'Typed', 'source': "
                                "'Investigator', 'pages': '7'} is not valid under any of the given schemas")

    def semantic_errors(wb):
        set_cell(wb, "Variables", ("CM", "CMDOSTOT"), "Map Algorithm", "assign_sometimes")
        set_cell(wb, "Conditions", ("EC", "ECDOSFRQ", 1), "Algorithm", "hardcode_ctt")
        set_cell(wb, "Variables", ("LB", "LBDTC"), "Map Arguments", "date: COLLDATE, time: COLLTIME, format: YMD")

    problems = [str(p) for p in import_workbook(edited(demo_book, tmp_path, semantic_errors), tmp_path / "out2")]
    located = sorted(p.split(" [")[0] for p in problems)
    assert located == ["Conditions row 10, column E (Algorithm)", "Variables row 102, column T (Map Algorithm)",
                       "Variables row 189, column V (Map Arguments)"], problems
    assert any("unknown algorithm 'assign_sometimes'" in p for p in problems)
    assert any("unknown date format 'YMD'" in p for p in problems)


def test_cli_export_and_import(tmp_path, capsys):
    book = tmp_path / "spec.xlsx"
    assert main(["spec", "export", str(STUDIES[0].parent / "nct05153070"), "--xlsx", str(book)]) == 0
    assert main(["spec", "import", str(book), "--out", str(tmp_path / "spec")]) == 0
    assert (tmp_path / "spec" / "sdtm.yaml").is_file()
    assert main(["spec", "import", str(tmp_path / "missing.xlsx"), "--out", str(tmp_path / "x")]) == 1
    assert "workbook not found" in capsys.readouterr().err
