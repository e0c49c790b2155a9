"""Bad specs and bad raw exports: one clear message, a non-zero exit, and no partial output."""
from pathlib import Path

import pytest

from cdisc.cli import main
from tests.spec_edits import edit


@pytest.fixture()
def workspace(study, tmp_path):
    out = tmp_path / "out"
    (out / "sdtm").mkdir(parents=True)
    (out / "sdtm" / "previous.txt").write_text("an earlier run")
    return (*study, out)


def run(spec, raw, out, capsys):
    code = main(["run", "--spec", str(spec), "--raw", str(raw), "--out", str(out), "--sdtm-only"])
    return code, capsys.readouterr().err


def assert_untouched(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["sdtm"]
    assert [p.name for p in (out / "sdtm").iterdir()] == ["previous.txt"]


def test_bad_spec_lists_every_error_with_file_and_path(workspace, capsys):
    spec, raw, out = workspace
    sdtm = spec / "sdtm.yaml"
    edit(sdtm, "{name: AESEV, keep: true, codelist: AESEV, origin: {type: Collected, source: Investigator, pages: "
               "\"7\"}, map: {algorithm: assign_ct, source: AESEV}}",
         "{name: AESEV, keep: true, codelist: AESEV, map: {algorithm: assign_sometimes, source: AESEV}}")
    edit(sdtm, "{name: LBORRES, origin: {type: Collected, source: Vendor}, map: {algorithm: assign_no_ct, "
               "source: RESULT}}", "{name: LBORRES, map: {algorithm: assign_no_ct, source: LBORRES_X}}")
    edit(sdtm, "{name: CMTRT, map: {algorithm: hardcode_no_ct, value: INSULIN}}",
         "{name: CMTRT, type: Num, map: {algorithm: assign_ct, source: Folder}}")
    code, err = run(spec, raw, out, capsys)
    assert code == 1
    assert "spec/sdtm.yaml: domains.AE.variables[18].map.algorithm: unknown algorithm 'assign_sometimes'" in err
    assert "spec/sdtm.yaml: domains.CM.variables[4].type: CMTRT is declared Num but 'assign_ct' gives Char" in err
    assert "Traceback" not in err
    assert_untouched(out)


def test_missing_source_column_names_the_spec_path_and_the_file(workspace, capsys):
    spec, raw, out = workspace
    sdtm = spec / "sdtm.yaml"
    edit(sdtm, "{name: LBORRES, origin: {type: Collected, source: Vendor}, map: {algorithm: assign_no_ct, "
               "source: RESULT}}", "{name: LBORRES, map: {algorithm: assign_no_ct, source: LBORRES_X}}")
    code, err = run(spec, raw, out, capsys)
    assert code == 1
    assert "spec/sdtm.yaml: domains.LB.variables[9].map.source: 'LBORRES_X' is not a column of central_lab.csv" in err
    assert_untouched(out)


def test_raw_file_missing_a_column(workspace, capsys):
    spec, raw, out = workspace
    ae = raw / "edc" / "ae.csv"
    lines = ae.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    position = header.index("AESEV")
    ae.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != position) if "," in line
                            else line for line in lines) + "\n", encoding="utf-8")
    code, err = run(spec, raw, out, capsys)
    assert code == 1
    assert "'AESEV' is not a column of ae.csv" in err
    assert_untouched(out)


def test_unparseable_date_names_file_row_key_column_and_value(workspace, capsys):
    spec, raw, out = workspace
    edit(raw / "edc" / "dm.csv", "01-001,01,SCR,DM,1,17/05/1999", "01-001,01,SCR,DM,1,31/02/1999")
    code, err = run(spec, raw, out, capsys)
    assert code == 1
    assert ("raw/edc/dm.csv row 1 (Subject=01-001, Folder=SCR, RecordPosition=1): DM.BRTHDTC from column "
            "BRTHDAT: '31/02/1999' is not a date in DD/MM/YYYY") in err
    assert_untouched(out)


def test_unknown_term_in_a_non_extensible_codelist_stops_the_run(workspace, capsys):
    spec, raw, out = workspace
    edit(raw / "edc" / "dm.csv", "01-001,01,SCR,DM,1,17/05/1999,Female", "01-001,01,SCR,DM,1,17/05/1999,Femme")
    edit(raw / "edc" / "ae.csv", ",Moderate,", ",Modéré,")
    code, err = run(spec, raw, out, capsys)
    assert code == 1
    assert "values not in their codelist" in err
    assert ("raw/edc/dm.csv row 1 (Subject=01-001, Folder=SCR, RecordPosition=1): DM.SEX from column SEX: "
            "'Femme' is not a term of the non-extensible codelist SEX (C66731)") in err
    assert "AE.AESEV from column AESEV: 'Modéré' is not a term of the non-extensible codelist AESEV" in err
    assert_untouched(out)


def test_missing_raw_file(workspace, capsys):
    spec, raw, out = workspace
    (raw / "vendor" / "flow_cytometry.csv").unlink()
    code, err = run(spec, raw, out, capsys)
    assert code == 1 and "flow_cytometry.csv" in err and "Traceback" not in err
    assert_untouched(out)


def test_invalid_yaml_points_at_the_line(workspace, capsys):
    spec, raw, out = workspace
    edit(spec / "study.yaml", "  studyid: NCT05153070", "  studyid: [NCT05153070")
    code, err = run(spec, raw, out, capsys)
    assert code == 1 and "spec/study.yaml:" in err and "not valid YAML" in err
    assert_untouched(out)


def test_text_mapped_into_a_numeric_variable_names_the_record(workspace, capsys):
    spec, raw, out = workspace
    edit(spec / "sdtm.yaml", "{name: CMDOSTOT, keep: true, origin: {type: Collected, source: Subject, pages: \"8\"}, method: "
                             "\"Total daily insulin units from the diary (all injections of the day).\", map: "
                             "{algorithm: assign_numeric, source: INSDOSE}}",
         "{name: CMDOSTOT, map: {algorithm: condition_add, cases: [{when: \"INSDOSE is not empty\", "
         "then: {algorithm: assign_no_ct, source: CMDAT}}]}}")
    code, err = run(spec, raw, out, capsys)
    assert code == 1
    assert "raw/edc/insulin.csv row 1 (Subject=01-001, Folder=D1, RecordPosition=1): CM.CMDOSTOT is Num but the " \
           "mapping gives '" in err
    assert_untouched(out)


def test_a_vendor_file_delivered_as_sas_xport_gives_the_same_sdtm(workspace, demo_datasets):
    import pandas as pd
    import pyreadstat

    from cdisc.pipeline import build_sdtm_from_raw

    spec, raw, out = workspace
    table = pd.read_csv(raw / "vendor" / "randomization.csv", dtype=str, keep_default_na=False)
    table["BLOCK"] = table["BLOCK"].astype(float)  # numeric in the SAS file; read back as text '1'
    pyreadstat.write_xport(table, str(raw / "vendor" / "randomization.xpt"), file_format_version=5,
                           table_name="RANDO")
    (raw / "vendor" / "randomization.csv").unlink()
    edit(spec / "study.yaml", "path: vendor/randomization.csv", "path: vendor/randomization.xpt")
    datasets = build_sdtm_from_raw(spec, raw)[2].datasets
    pd.testing.assert_frame_equal(datasets["DM"], demo_datasets["DM"])
    pd.testing.assert_frame_equal(datasets["EX"], demo_datasets["EX"])
