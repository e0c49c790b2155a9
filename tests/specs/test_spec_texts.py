"""Load-time checks of expressions, templates and lookup tables in a spec folder."""

import pytest

from specs.errors import SpecError
from specs.loader import load_study_spec
from specs.raw_columns import check_raw_columns
from tests.spec_edits import edit


def problems_of(folder) -> list[str]:
    with pytest.raises(SpecError) as error:
        load_study_spec(folder)
    return [str(p) for p in error.value.problems]


def test_bad_expressions_and_arguments_are_spec_errors(spec):
    sdtm = spec / "sdtm.yaml"
    edit(sdtm, "{name: SITEID, origin: {type: Collected, source: Sponsor}, map: {algorithm: assign_no_ct, "
               "source: SiteNumber}}",
         "{name: SITEID, map: {algorithm: assign_no_ct, expr: \"left(Subject, 2)\"}}")
    edit(sdtm, "{name: SUBJID, origin: {type: Collected, source: Investigator, pages: \"1\"}, map: {algorithm: "
               "assign_no_ct, source: Subject}}",
         "{name: SUBJID, map: {algorithm: assign_no_ct, source: Subject, expr: \"upper(Subject)\"}}")
    edit(sdtm, "{name: LBTPT, keep: true, map: {algorithm: assign_template, template: \"{TPT_MIN} MIN\"}}",
         "{name: LBTPT, keep: true, map: {algorithm: assign_template, template: \"{lookup(TPT_MIN, 'tpt')} MIN\"}}")
    messages = problems_of(spec)
    assert messages == [
        "spec/sdtm.yaml: domains.DM.variables[12].map.expr: unknown function 'left' at position 0 in: "
        "left(Subject, 2) (known: coalesce, concat, date, lookup, lower, number, pad_left, pad_right, regex_extract, "
        "regex_replace, round, split, substr, trim, upper; see docs/spec-reference.md#functions)",
        "spec/sdtm.yaml: domains.DM.variables[3].map: 'assign_no_ct' takes 'source' or 'expr', not both",
        "spec/sdtm.yaml: domains.LB.variables[31].map.template: no lookup table 'tpt' in study.yaml lookups "
        "(tables: none; see docs/spec-reference.md#lookup-tables)",
    ]


def test_a_template_naming_an_unknown_column_is_a_spec_error(spec):
    edit(spec / "sdtm.yaml", "{name: LBTPT, keep: true, map: {algorithm: assign_template, template: \"{TPT_MIN} MIN\"}}",
         "{name: LBTPT, keep: true, map: {algorithm: assign_template, template: \"{IT.TPT} {`TPT MIN`} MIN\"}}")
    assert problems_of(spec) == [
        "spec/sdtm.yaml: domains.LB.variables[31].map.template: IT.TPT: 'IT' is not a domain of sdtm.yaml (put a "
        "column name with spaces, dots or a leading digit in backticks: `AE Start Date`, `IT.AETERM`)"]
    edit(spec / "sdtm.yaml", "{IT.TPT} ", "{`IT.TPT`} ")
    loaded = load_study_spec(spec)
    headers = {"lab": ["SUBJECT", "ACCESSION", "TESTCODE", "TPT_MIN", "TRANSFER", "RESULT", "UNIT", "REFLOW",
                       "REFHIGH", "LLOQ", "STATUS", "COMMENT", "SPECIMEN", "VISIT", "COLLDATE", "COLLTIME"]}
    problems = [str(p) for p in check_raw_columns(loaded, headers)]
    assert problems == [
        "spec/sdtm.yaml: domains.LB.variables[31].map.template: 'IT.TPT' is not a column of central_lab.csv",
        "spec/sdtm.yaml: domains.LB.variables[31].map.template: 'TPT MIN' is not a column of central_lab.csv"]


def test_lookup_tables_from_the_spec_and_from_a_file_in_the_spec_folder(spec):
    (spec / "lookups").mkdir()
    (spec / "lookups" / "sites.csv").write_text("SITE,SITEID\nParis,01\nLyon,02\n", encoding="utf-8")
    edit(spec / "study.yaml", "version: 2", "version: 2\nlookups:\n  sites: {file: lookups/sites.csv, key: SITE, "
                                          "value: SITEID}\n  yes_no: {values: {'Yes': Y, 'No': N}, missing: keep}")
    loaded = load_study_spec(spec)
    assert loaded.lookups["sites"].values == {"Paris": "01", "Lyon": "02"}
    assert loaded.lookups["sites"].source == "spec/lookups/sites.csv"
    assert (loaded.lookups["yes_no"].values, loaded.lookups["yes_no"].missing) == ({"Yes": "Y", "No": "N"}, "keep")


def test_lookup_file_errors_are_located(spec):
    (spec / "lookups").mkdir()
    (spec / "lookups" / "sites.csv").write_text("SITE,SITEID\nParis,01\n,03\nParis,02\n", encoding="utf-8")
    edit(spec / "study.yaml", "version: 2", "version: 2\nlookups:\n  sites: {file: lookups/sites.csv, key: SITE, "
                                          "value: SITEID}\n  codes: {file: lookups/sites.csv, key: SITE, value: CODE}"
                                          "\n  escape: {file: ../study.yaml, key: a, value: b}")
    assert problems_of(spec) == [
        "spec/lookups/sites.csv row 2: column SITE: empty key",
        "spec/lookups/sites.csv row 3: column SITE: 'Paris' is listed again with SITEID '02' (first: '01')",
        "spec/lookups/sites.csv: no column 'CODE' for lookup table codes (columns: SITE, SITEID)",
        "spec/study.yaml: lookups.escape.file: '../study.yaml' goes up out of the spec folder ('..')",
    ]


def test_declared_values_of_a_column_the_source_does_not_have_are_a_spec_error(spec):
    edit(spec / "study.yaml", 'values: {TRTCODE: [A, B]}', 'values: {TRTCODE: [A, B], ARM: [A, B]}')
    loaded = load_study_spec(spec)
    assert [str(p) for p in check_raw_columns(loaded, {"randomization": ["RANDNO", "TRTCODE"]})] == [
        "spec/study.yaml: sources.randomization.values.ARM: 'ARM' is not a column of randomization.csv"]
