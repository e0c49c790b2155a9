"""The TODO marker (specs.todo): a spec that holds one is refused at load, each TODO listed with its path."""

import pytest

from cdisc.cli import main
from specs.errors import SpecError
from specs.loader import format_path, load_study_spec
from specs.todo import find_todos, is_todo, todo
from tests.spec_edits import edit


def test_todos_are_found_as_values_and_as_keys_in_document_order():
    document = {"domains": {"AE": {"variables": [
        {"name": "AETERM", "map": {"algorithm": "assign_no_ct", "source": "AETERM"}},
        {"name": "AESEV", "TODO": "no column found", "map": {"algorithm": "assign_ct", "source": "TODO: SEV or AESEV_STD?"}},
    ]}}, "note": "a TODO in the middle is not a marker", "todos": ["TODOS", "TODO"]}
    assert find_todos(document) == [
        (("domains", "AE", "variables", 1, "TODO"), "no column found"),
        (("domains", "AE", "variables", 1, "map", "source"), "TODO: SEV or AESEV_STD?"),
        (("todos", 1), "TODO")]
    assert todo("which format?") == "TODO: which format?"
    assert (is_todo(" TODO: x"), is_todo("TODOS"), is_todo(3)) == (True, False, False)
    assert format_path(("domains", "AE", "variables", 1)) == "domains.AE.variables[1]"


def test_a_spec_with_todos_is_refused_before_the_schema_with_each_path(spec):
    edit(spec / "sdtm.yaml", "map: {algorithm: assign_ct, source: AESEV}",
         "map: {algorithm: 'TODO: assign_ct or hardcode_ct?', source: AESEV}")
    edit(spec / "study.yaml", "version: 2", "version: 2\nTODO: check the visit windows")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    assert str(error.value) == (
        "2 unresolved TODOs:\n"
        "  spec/study.yaml: TODO: check the visit windows\n"
        "  spec/sdtm.yaml: domains.AE.variables[18].map.algorithm (AESEV): TODO: assign_ct or hardcode_ct?")


def test_cdisc_run_refuses_a_spec_with_a_todo(spec, capsys):
    edit(spec / "sdtm.yaml", "map: {algorithm: assign_ct, source: AESEV}",
         "TODO: is this the severity, map: {algorithm: assign_ct, source: AESEV}")
    assert main(["run", "--spec", str(spec), "--out", "out", "--sdtm-only", "--no-validate"]) == 1
    assert capsys.readouterr().err == (
        "error: 1 unresolved TODO:\n"
        "  spec/sdtm.yaml: domains.AE.variables[18].TODO (AESEV): is this the severity\n"
        "nothing was published: out is as it was\n")


def test_a_todo_in_an_imported_workbook_is_located_in_its_row(spec, tmp_path):
    from specs.workbook import export_workbook
    from specs.workbook_import import import_workbook

    edit(spec / "sdtm.yaml", "map: {algorithm: assign_ct, source: AESEV}",
         "map: {algorithm: assign_ct, source: 'TODO: SEV or AESEV_STD?'}")
    export_workbook(spec, tmp_path / "spec.xlsx")
    problems = [str(p) for p in import_workbook(tmp_path / "spec.xlsx", tmp_path / "back")]
    assert len(problems) == 1 and problems[0].startswith("Variables row "), problems
    assert problems[0].endswith("[back/sdtm.yaml: domains.AE.variables[18].map.source (AESEV)]: TODO: SEV or AESEV_STD?")
