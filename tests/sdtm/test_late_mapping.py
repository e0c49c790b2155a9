"""Mappings that read mapped SDTM variables (DOMAIN.NAME): treatment-emergent flags against DM, values from
the domain's own mapped variables, the stages they run at and the spec errors around them."""

import pandas as pd
import pytest

from cdisc.pipeline import build_sdtm_from_raw
from sdtm.late import referenced_values
from specs.errors import SpecError
from specs.loader import load_study_spec
from specs.references import stages
from tests.spec_edits import edit

TREATMENT_EMERGENT = (
    '      - name: AETRTEM\n'
    '        label: Treatment Emergent Flag\n'
    '        type: Char\n'
    '        map:\n'
    '          algorithm: condition_add\n'
    '          cases:\n'
    '            - {when: "date(AE.AESTDTC) >= date(DM.RFXSTDTC)", then: {algorithm: hardcode_no_ct, value: "Y"}}\n'
    '            - {when: "date(AE.AESTDTC) < date(DM.RFXSTDTC)", then: {algorithm: hardcode_no_ct, value: "N"}}\n'
    '          otherwise: {algorithm: hardcode_no_ct, value: "PARTIAL"}\n'
    '      - {name: AEMODIFY, map: {algorithm: assign_no_ct, expr: "upper(AE.AETERM)"}}\n')
AETERM_LINE = ('      - {name: AETERM, origin: {type: Collected, source: Investigator, pages: "7"}, map: {algorithm: '
               'assign_no_ct, source: AETERM}}\n')


def test_treatment_emergent_against_dm_and_values_from_the_domains_own_variables(study):
    spec, raw = study
    edit(spec / "sdtm.yaml", AETERM_LINE, AETERM_LINE + TREATMENT_EMERGENT)
    # 01-005 took the first dose on 2022-12-07: an AE on 01/12/2022 is before it; one in 12/2022 may be either
    edit(raw / "edc" / "ae.csv", "01-005,01,LOG,AE,1,Hypertrophie gingivale,12/01/2023",
         "01-005,01,LOG,AE,1,Hypertrophie gingivale,01/12/2022")
    edit(raw / "edc" / "ae.csv", "01-005,01,LOG,AE,2,Fièvre,24/09/2023", "01-005,01,LOG,AE,2,Fièvre,UN/12/2022")
    _, _, result = build_sdtm_from_raw(spec, raw)
    ae = result.datasets["AE"].set_index(["USUBJID", "AESPID"])
    assert ae.loc[("NCT05153070-01-005", "1"), ["AESTDTC", "AETRTEM"]].tolist() == ["2022-12-01", "N"]
    assert ae.loc[("NCT05153070-01-005", "2"), ["AESTDTC", "AETRTEM"]].tolist() == ["2022-12", "PARTIAL"]
    # 01-003: 'UN/06/2023' is all of June 2023, after the first dose on 2022-11-21
    assert ae.loc[("NCT05153070-01-003", "1"), ["AESTDTC", "AETRTEM"]].tolist() == ["2023-06", "Y"]
    assert ae.loc[("NCT05153070-01-002", "1"), ["AETERM", "AEMODIFY"]].tolist() == ["Maux de tête", "MAUX DE TÊTE"]
    assert (ae["AETRTEM"] != "").all()


def test_stages_follow_what_a_mapping_reads_and_cycles_are_refused():
    domains = {
        "DM": {"variables": [{"name": "RFXSTDTC", "map": {"algorithm": "derive_rf_date", "pick": "first",
                                                            "sources": []}}]},
        "AE": {"variables": [
            {"name": "AESTDTC", "map": {"algorithm": "assign_datetime", "date": "D", "format": "ISO 8601"}},
            {"name": "A", "map": {"algorithm": "assign_no_ct", "expr": "concat(AE.AESTDTC, DM.RFXSTDTC)"}},
            {"name": "B", "map": {"algorithm": "assign_template", "template": "{AE.A}-{AE.C}"}},
            {"name": "C", "map": {"algorithm": "assign_no_ct", "expr": "AE.B"}},
        ]},
    }
    late, problems = stages(domains)
    assert late[("AE", "A")] == 20.5  # after DM.RFXSTDTC (derive_rf_date, stage 20)
    assert problems == [(("AE", "B"), "reads itself: AE.B -> AE.C -> AE.B")]


def test_another_domain_is_read_from_the_subjects_one_record():
    datasets = {"AE": pd.DataFrame({"USUBJID": ["S1", "S2", "S1"], "AESTDTC": ["a", "b", "c"]}),
                "DM": pd.DataFrame({"USUBJID": ["S1", "S2"], "ARM": ["X", "Y"]}),
                "EX": pd.DataFrame({"USUBJID": ["S1", "S1"], "EXTRT": ["P", "Q"]})}
    values, problems = referenced_values(datasets, "AE", {"DM.ARM", "AE.AESTDTC"}, "here")
    assert list(values["DM.ARM"]) == ["X", "Y", "X"] and list(values["AE.AESTDTC"]) == ["a", "b", "c"]
    assert problems == []
    _, problems = referenced_values(datasets, "AE", {"EX.EXTRT"}, "here")
    assert [str(p) for p in problems] == ["here: EX.EXTRT: EX has 1 subject(s) with several records (e.g. S1); another "
                                          "domain's variable is read from the subject's one record there, as in DM"]


def test_spec_errors_of_variable_references(study):
    spec, _ = study
    edit(spec / "sdtm.yaml", AETERM_LINE, AETERM_LINE + TREATMENT_EMERGENT.replace("DM.RFXSTDTC", "DM.RFXSTART", 1))
    edit(spec / "sdtm.yaml", "where: {condition: \"ECOCCUR != 'N'\"", "where: {condition: \"EX.EXTRT != 'No'\"")
    edit(spec / "sdtm.yaml", "{name: AESEQ, map: {algorithm: derive_seq, order: [AESTDTC, AETERM]}}",
         "{name: AESEQ, map: {algorithm: derive_seq, order: [AESTDTC, AETERM]}}\n"
         "      - {name: AEGRPID, map: {algorithm: assign_no_ct, expr: \"XX.AESPID\"}}")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    messages = [str(p) for p in error.value.problems]
    assert "spec/sdtm.yaml: domains.EX.where.condition: EX.EXTRT: a record filter reads raw columns only, before " \
           "any variable is mapped (put a column name with spaces, dots or a leading digit in backticks: " \
           "`AE Start Date`, `IT.AETERM`)" in messages
    assert "spec/sdtm.yaml: domains.AE.variables[7].map.cases[0].when: DM.RFXSTART: 'RFXSTART' is not a variable " \
           "of DM" in messages
    assert "spec/sdtm.yaml: domains.AE.variables[4].map.expr: XX.AESPID: 'XX' is not a domain of sdtm.yaml (put a " \
           "column name with spaces, dots or a leading digit in backticks: `AE Start Date`, `IT.AETERM`)" in messages


def test_an_unknown_same_day_rule_of_derive_epoch_is_a_spec_error(study):
    spec, _ = study
    edit(spec / "sdtm.yaml", "derive_epoch, dtc: LBDTC, same_day: earlier", "derive_epoch, dtc: LBDTC, same_day: before")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    assert [str(p) for p in error.value.problems if "same_day" in str(p)] == [
        "spec/sdtm.yaml: domains.LB.variables[28].map.same_day: 'before' is not one of later, earlier, null"]


def test_a_ts_value_from_the_data_names_a_domain_and_a_variable_of_sdtm_yaml(study):
    spec, _ = study
    edit(spec / "study.yaml", "SSTDTC, from: {domain: DM, variable: RFICDTC", "SSTDTC, from: {domain: DM, variable: RFICDAT")
    edit(spec / "study.yaml", "SENDTC, from: {domain: DM,", "SENDTC, from: {domain: XX,")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    assert [str(p) for p in error.value.problems if ".ts[" in str(p)] == [
        "spec/study.yaml: design.ts[3].from.variable: 'RFICDAT' is not a variable of DM",
        "spec/study.yaml: design.ts[4].from.domain: 'XX' is not a domain of sdtm.yaml"]
