"""A define.xml for a spec the data contradicts is refused, naming the dataset, variable and value."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pandas as pd
import pytest

from define.build import build_define
from define.model import DatasetInput, OriginDef, StudyInput, VariableInput
from specs.errors import DataError

STUDY = StudyInput("S1", "S1", "Study S1", "P1", ("SDTMIG", "3.4"), {"SDTM": "2025-03-28"})
COLLECTED = OriginDef("Collected")


def _dm(variables, frame, ct):
    spec = DatasetInput("DM", "Demographics", "Tabulation", "SPECIAL PURPOSE", "One record per subject",
                        ["USUBJID"], variables, domain="DM")
    return build_define(STUDY, "Tabulation", [spec], {"DM": frame}, ct)


@pytest.fixture(scope="module")
def ct():
    from specs.ct import load_ct
    return load_ct()


def test_a_value_longer_than_the_declared_length_is_refused(ct):
    frame = pd.DataFrame({"USUBJID": ["S1-001", "S1-0002"]})
    with pytest.raises(DataError) as caught:
        _dm([VariableInput("USUBJID", "Unique Subject Identifier", "Char", COLLECTED, length=6)], frame, ct)
    assert str(caught.value) == ("1 spec/data conflict:\n"
                                 "  DM.USUBJID: value 'S1-0002' is 7 characters, longer than the declared length 6")


def test_a_value_outside_a_non_extensible_codelist_is_refused(ct):
    frame = pd.DataFrame({"USUBJID": ["S1-001", "S1-002", "S1-003"], "SEX": ["F", "FEMALE", ""]})
    variables = [VariableInput("USUBJID", "Unique Subject Identifier", "Char", COLLECTED),
                 VariableInput("SEX", "Sex", "Char", COLLECTED, codelist="SEX")]
    with pytest.raises(DataError) as caught:
        _dm(variables, frame, ct)
    assert str(caught.value) == ("1 spec/data conflict:\n"
                                 "  DM.SEX: value 'FEMALE' is not in codelist SEX (C66731), which is not extensible")


def test_a_sponsor_value_in_an_extensible_codelist_is_an_extended_value(ct):
    frame = pd.DataFrame({"USUBJID": ["S1-001", "S1-002"], "EPOCH": ["SCREENING", "WASHOUT PERIOD"]})
    variables = [VariableInput("USUBJID", "Unique Subject Identifier", "Char", COLLECTED),
                 VariableInput("EPOCH", "Epoch", "Char", OriginDef("Derived"), codelist="EPOCH")]
    model = _dm(variables, frame, ct)
    (codelist,) = model.codelists
    assert [(i.value, i.code, i.extended) for i in codelist.items] == \
        [("SCREENING", "C202487", False), ("WASHOUT PERIOD", None, True)]
    assert codelist.code == "C99079"


def test_the_demo_spec_with_a_too_short_length_is_refused(demo_sdtm):
    from define.adapters import from_sdtm

    spec, raw, result = demo_sdtm
    dm = result.specs["DM"]
    short = dataclasses.replace(dm, variables=[dataclasses.replace(v, length=5) if v.name == "USUBJID" else v
                                               for v in dm.variables])
    changed = SimpleNamespace(datasets={"DM": result.datasets["DM"]}, specs={**result.specs, "DM": short})
    with pytest.raises(DataError) as caught:
        from_sdtm(spec, changed)
    first = sorted(result.datasets["DM"]["USUBJID"])[0]
    assert str(caught.value) == (
        "1 spec/data conflict:\n"
        f"  DM.USUBJID: value '{first}' is 18 characters, longer than the declared length 5 "
        f"({result.datasets['DM']['USUBJID'].nunique()} distinct values are too long)")


def test_the_study_s_own_terms_and_codelists_carry_no_cdisc_code(ct, tmp_path):
    from specs.study_ct import with_study_terms

    path = tmp_path / "study_ct.csv"
    path.write_text("codelist_code,term_code,term_value,collected_value\nC66741,V00224,VSALL,All tests\n"
                    "TPT,,PREDOSE,Pre-dose\n", encoding="utf-8")
    study = with_study_terms(ct, [(path, "study_ct.csv")])
    frame = pd.DataFrame({"USUBJID": ["S1-001", "S1-001"], "VSTESTCD": ["SYSBP", "VSALL"],
                          "VSTPT": ["PREDOSE", ""]})
    variables = [VariableInput("USUBJID", "Unique Subject Identifier", "Char", COLLECTED),
                 VariableInput("VSTESTCD", "Vital Signs Test Short Name", "Char", COLLECTED, codelist="VSTESTCD"),
                 VariableInput("VSTPT", "Planned Time Point Name", "Char", COLLECTED, codelist="TPT")]
    spec = DatasetInput("VS", "Vital Signs", "Tabulation", "FINDINGS", "One record per test", ["USUBJID"], variables,
                        domain="VS")
    model = build_define(STUDY, "Tabulation", [spec], {"VS": frame}, study)
    lists = {c.name: c for c in model.codelists}
    assert [(i.value, i.code, i.extended) for i in lists["Vital Signs Test Code"].items] == \
        [("SYSBP", "C25298", False), ("VSALL", None, True)]  # a study term: an extended value, no C-code
    assert (lists["TPT"].code, lists["TPT"].standard_oid, [(i.value, i.code) for i in lists["TPT"].items]) == \
        (None, None, [("PREDOSE", None)])
