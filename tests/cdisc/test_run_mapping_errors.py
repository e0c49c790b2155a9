"""Silent wrong data in the mapping layer, each made a located error (or handled as the spec says):
the demo study with one thing broken, mapped end to end (issue 9)."""
from pathlib import Path

import pytest

from cdisc.cli import main
from cdisc.pipeline import build_sdtm_from_raw
from specs.errors import CdiscError
from tests.spec_edits import edit

LAB_KEY = "SUBJECT=01-001, ACCESSION=A0000001, TESTCODE=CPEP, TPT_MIN=, TRANSFER=T01"
LAB_ROW = "NCT05153070,01-001,SCREENING,A0000001,2022-10-10,08:30,,CPEP,C-peptide,SERUM,0.38,nmol/L,0.26,1.03"


def failure(spec, raw) -> str:
    with pytest.raises(CdiscError) as caught:
        build_sdtm_from_raw(spec, raw)
    return str(caught.value)


def run_cli(spec, raw, capsys, *extra):
    code = main(["run", "--spec", str(spec), "--raw", str(raw), "--out", "out", "--sdtm-only", *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


# ------------------------------------------------------------------------------- units and numbers
def test_a_result_in_a_unit_with_no_factor_stops_the_run(study, capsys):
    spec, raw = study
    edit(raw / "vendor" / "central_lab.csv", LAB_ROW, LAB_ROW.replace("0.38,nmol/L", "380,pmol/L"))
    code, _, err = run_cli(spec, raw, capsys)
    assert code == 1
    assert (f"raw/vendor/central_lab.csv row 6 ({LAB_KEY}): LB.LBSTRESC from LBORRES (raw column RESULT): "
            "'380' is in pmol/L, which has no conversion to the standard unit nmol/L of CPEPTIDE (add 'pmol/L' "
            "to standard_units.CPEPTIDE.factors or .conversions; see docs/spec-reference.md#unit-conversions)") in err
    assert (f"raw/vendor/central_lab.csv row 6 ({LAB_KEY}): LB.LBSTRESU from LBORRESU (raw column UNIT): "
            "'pmol/L' has no conversion to the standard unit nmol/L of CPEPTIDE") in err
    assert not Path("out").exists()


def test_a_comma_decimal_in_a_converted_result_stops_the_run(study):
    spec, raw = study
    edit(raw / "vendor" / "central_lab.csv", "0.83,ng/mL,0.78,3.11", "\"0,83\",ng/mL,0.78,3.11")
    message = failure(spec, raw)
    assert ("raw/vendor/central_lab.csv row 2163 (SUBJECT=01-001, ACCESSION=A0000203, TESTCODE=CPEP, TPT_MIN=-10, "
            "TRANSFER=T09): LB.LBSTRESC from LBORRES (raw column RESULT): '0,83' is not a number") in message


def test_a_dose_that_is_not_a_number_stops_the_run(study):
    spec, raw = study
    edit(raw / "edc" / "ex_csa.csv", "01-001,01,LOG,EX_CSA,1,18/10/2022,15/11/2022,7,",
         "01-001,01,LOG,EX_CSA,1,18/10/2022,15/11/2022,\"1,500\",")
    edit(raw / "edc" / "ex_csa.csv", "01-001,01,LOG,EX_CSA,2,17/11/2022,20/11/2022,7,",
         "01-001,01,LOG,EX_CSA,2,17/11/2022,20/11/2022,abc,")
    message = failure(spec, raw)
    assert ("raw/edc/ex_csa.csv row 1 (Subject=01-001, Folder=LOG, RecordPosition=1): EX.EXDOSE from column "
            "EXDOSE: '1,500' is not a number") in message
    assert ("raw/edc/ex_csa.csv row 2 (Subject=01-001, Folder=LOG, RecordPosition=2): EX.EXDOSE from column "
            "EXDOSE: 'abc' is not a number") in message


def test_a_source_declaring_decimal_commas_is_read_with_them(study, demo_datasets):
    spec, raw = study
    edit(spec / "study.yaml", "    path: edc/ex_csa.csv\n", "    path: edc/ex_csa.csv\n    decimal: \",\"\n")
    edit(raw / "edc" / "ex_csa.csv", "01-001,01,LOG,EX_CSA,1,18/10/2022,15/11/2022,7,",
         "01-001,01,LOG,EX_CSA,1,18/10/2022,15/11/2022,\"7,5\",")
    ex = build_sdtm_from_raw(spec, raw)[2].datasets["EX"]
    first = ex[(ex["USUBJID"] == "NCT05153070-01-001") & (ex["EXSTDTC"] == "2022-10-18")]
    assert list(first["EXDOSE"]) == [7.5]
    edit(raw / "edc" / "ex_csa.csv", "\"7,5\"", "7.5")  # a point in a decimal-comma source is not a number
    assert ("raw/edc/ex_csa.csv row 1 (Subject=01-001, Folder=LOG, RecordPosition=1): EX.EXDOSE from column "
            "EXDOSE: '7.5' is not a number (the source's decimal mark is ',')") in failure(spec, raw)


def test_on_invalid_missing_leaves_the_value_empty_and_lists_it(study, capsys):
    spec, raw = study
    edit(spec / "sdtm.yaml", "map: {algorithm: assign_numeric, source: INSDOSE}",
         "map: {algorithm: assign_numeric, source: INSDOSE, on_invalid: missing}")
    edit(raw / "edc" / "insulin.csv", "01-001,01,D1,INSULIN,1,15/10/2022,31", "01-001,01,D1,INSULIN,1,15/10/2022,UNK")
    code, out, _ = run_cli(spec, raw, capsys)
    assert code == 0
    assert "warnings (mapped as the spec says):\n" in out
    assert ("  CM: 1 x CM.CMDOSTOT from column INSDOSE: not a number, left "
            "empty (on_invalid: missing) (e.g. raw/edc/insulin.csv row 1 (Subject=01-001, Folder=D1, "
            "RecordPosition=1): 'UNK')") in out
    assert ("  DM: 2 x no record of rand with the same Subject (optional merge) (e.g. raw/edc/dm.csv row 9 "
            "(Subject=01-009, Folder=SCR, RecordPosition=1): Subject '01-009')") in out


def test_on_invalid_takes_only_the_policies_of_its_algorithm(study):
    spec, raw = study
    edit(spec / "sdtm.yaml", "map: {algorithm: assign_numeric, source: INSDOSE}",
         "map: {algorithm: assign_numeric, source: INSDOSE, on_invalid: text}")
    assert "domains.CM.variables[8].map.on_invalid: 'assign_numeric' takes on_invalid: error or missing, not " \
           "'text'" in failure(spec, raw)


# ----------------------------------------------------------------------------------------------- merges
def test_a_randomization_number_not_in_the_list_is_an_error(study):
    spec, raw = study
    edit(raw / "edc" / "rand.csv", "01-001,01,D1,RAND,1,18/10/2022,R001", "01-001,01,D1,RAND,1,18/10/2022,R999")
    message = failure(spec, raw)
    assert ("raw/edc/dm.csv row 1 (Subject=01-001, Folder=SCR, RecordPosition=1): DM: no record of randomization "
            "(raw/vendor/randomization.csv) has RANDNO 'R999' (merge[2]; say optional: true if a record may have "
            "none)") in message
    assert ("raw/edc/ex_csa.csv row 1 (Subject=01-001, Folder=LOG, RecordPosition=1): EC: no record of "
            "randomization (raw/vendor/randomization.csv) has RANDNO 'R999' (merge[1]; ") in message


def test_an_empty_merge_key_is_an_error(study):
    spec, raw = study
    edit(raw / "edc" / "rand.csv", "01-001,01,D1,RAND,1,18/10/2022,R001", "01-001,01,D1,RAND,1,18/10/2022,")
    assert ("raw/edc/dm.csv row 1 (Subject=01-001, Folder=SCR, RecordPosition=1): DM: RANDNO empty, so no record "
            "of randomization (raw/vendor/randomization.csv) can be merged on RANDNO") in failure(spec, raw)


def test_a_merged_column_the_records_already_have_is_a_spec_error(study):
    spec, raw = study
    edit(spec / "sdtm.yaml", "{source: rand, by: [Subject], columns: [RANDDAT, RANDNO], optional: true}",
         "{source: rand, by: [Subject], columns: [RANDDAT, RANDNO, Folder], optional: true}")
    assert ("spec/sdtm.yaml: domains.DM.merge[1].columns: 'Folder' is a column of both rand.csv and dm.csv (or an "
            "earlier merge): one name for two values; leave it out of columns or rename one of them"
            ) in failure(spec, raw)


def test_a_raw_column_named_like_the_toolkits_own_is_a_spec_error(study):
    spec, raw = study
    edit(raw / "edc" / "ae.csv", "Subject,SiteNumber,", "Subject,RAWSOURCE,")
    edit(spec / "sdtm.yaml", "{name: SITEID, origin: {type: Collected, source: Sponsor}, map: {algorithm: "
                             "assign_no_ct, source: SiteNumber}}", "{name: SITEID, map: {algorithm: hardcode_no_ct, "
                                                                  "value: '01'}}")
    assert ("spec/sdtm.yaml: domains.AE.from: ae.csv has a column RAWSOURCE, the name the toolkit gives each "
            "record's source: rename it") in failure(spec, raw)


# ---------------------------------------------------------------------------- records and raw files
def test_a_header_only_form_maps_to_an_empty_domain(study, capsys):
    spec, raw = study
    ae = raw / "edc" / "ae.csv"
    ae.write_text(ae.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")  # no AE yet
    code, out, _ = run_cli(spec, raw, capsys)
    assert code == 0
    assert "AE       ae                             0       0           0" in out
    from define.xpt import read_xpt

    ae_data, _ = read_xpt(Path("out") / "sdtm" / "ae.xpt")
    assert len(ae_data) == 0 and "AETERM" in ae_data.columns


def test_two_records_for_one_subject_in_dm_is_a_located_error(study, capsys):
    spec, raw = study
    dm = raw / "edc" / "dm.csv"
    dm.write_text(dm.read_text(encoding="utf-8") + "01-002,01,SCR,DM,2,02/06/1987,Female,Not Hispanic or Latino,"
                                                   "White\n", encoding="utf-8")
    code, _, err = run_cli(spec, raw, capsys)
    assert code == 1
    assert ("raw/edc/dm.csv row 27 (Subject=01-002, Folder=SCR, RecordPosition=2): DM: a second record with "
            "STUDYID 'NCT05153070', USUBJID 'NCT05153070-01-002'; the keys of DM (STUDYID, USUBJID) must identify "
            "one record (first: raw/edc/dm.csv row 2 (Subject=01-002, Folder=SCR, RecordPosition=1))") in err


def test_a_duplicated_header_and_a_short_row_are_errors(study, capsys):
    spec, raw = study
    edit(raw / "edc" / "ae.csv", ",AESEV,AESER,", ",AESEV,AESEV,")
    edit(raw / "edc" / "dm.csv", "01-002,01,SCR,DM,1,02/06/1987,Female,Not Hispanic or Latino,White",
         "01-002,01,SCR,DM,1,02/06/1987,Female")
    code, _, err = run_cli(spec, raw, capsys)
    assert code == 1
    assert "raw/edc/ae.csv: line 1: column 'AESEV' appears twice in the header (columns 10 and 11)" in err
    assert "raw/edc/dm.csv: line 3: 7 values where the header has 9 columns: no value for ETHNIC, RACE" in err


# -------------------------------------------------------------------------------------------- the spec
def test_a_derivation_cycle_through_other_domains_is_a_spec_error(study, capsys):
    spec, raw = study
    edit(spec / "sdtm.yaml", "map: {algorithm: derive_rf_date, pick: first, sources: [{domain: EX, variable: "
                             "EXSTDTC}]}\n      - name: RFENDTC",
         "map: {algorithm: derive_rf_date, pick: first, sources: [{domain: EX, variable: EXSTDY}]}\n"
         "      - name: RFENDTC")
    code, _, err = run_cli(spec, raw, capsys)
    assert code == 1
    assert ("spec/sdtm.yaml: domains.DM.variables[4].map: dependency cycle: DM.RFSTDTC -> EX.EXSTDY -> DM.RFSTDTC "
            "(each needs the next): no order can derive them") in err


def test_a_template_naming_what_it_cannot_read_is_a_spec_error(study):
    spec, raw = study
    edit(spec / "sdtm.yaml", "{name: AETERM, origin: {type: Collected, source: Investigator, pages: \"7\"}, map: "
                             "{algorithm: assign_no_ct, source: AETERM}}",
         "{name: AETERM, map: {algorithm: assign_template, template: \"{IT.AETERM}\"}}")
    assert "spec/sdtm.yaml: domains.AE.variables[5].map.template: IT.AETERM: 'IT' is not a domain of sdtm.yaml" \
        in failure(spec, raw)
    edit(spec / "sdtm.yaml", "template: \"{IT.AETERM}\"", "template: \"{`IT.AETERM`}\"")
    assert "spec/sdtm.yaml: domains.AE.variables[5].map.template: 'IT.AETERM' is not a column of ae.csv" \
        in failure(spec, raw)
