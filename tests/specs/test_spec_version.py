"""Spec format versions (specs.migrate) and the load-time checks of date formats."""

import pytest

from specs.errors import SpecError
from specs.loader import load_study_spec
from specs.migrate import SPEC_VERSION
from tests.spec_edits import edit


def test_the_demo_spec_is_written_in_the_current_version():
    spec = load_study_spec()
    assert (spec.version, SPEC_VERSION, spec.notes) == (2, 2, [])


def test_a_version_1_spec_runs_and_is_told_what_to_change(spec):
    edit(spec / "study.yaml", "version: 2", "")
    edit(spec / "sdtm.yaml", "date: BRTHDAT, format: DD/MM/YYYY}", "date: BRTHDAT}")
    edit(spec / "sdtm.yaml", "then: {algorithm: assign_datetime, date: EXSTDAT, format: DD/MM/YYYY}",
         "then: {algorithm: assign_datetime, date: EXSTDAT}")
    loaded = load_study_spec(spec)
    assert loaded.version == 1
    assert loaded.domains["DM"]["variables"][13]["map"]["format"] == "DD/MM/YYYY"
    assert loaded.notes == [
        "spec version 1: 2 assign_datetime mapping(s) without 'format' read DD/MM/YYYY, the version 1 default "
        "(domains.DM.variables[13].map, domains.EC.variables[15].map.cases[0].then); to write version 2, add "
        "'format: DD/MM/YYYY' to each and 'version: 2' at the top of study.yaml"]


def test_a_spec_newer_than_the_toolkit_is_refused(spec):
    edit(spec / "study.yaml", "version: 2", "version: 99")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    assert str(error.value) == ("1 spec error:\n  spec/study.yaml: version: the spec is written in spec version 99; "
                                "this toolkit reads versions 1 to 2: install a newer cdisc-toolkit")


def test_date_format_names_and_cutoff_are_checked_at_load(spec):
    edit(spec / "sdtm.yaml", "date: BRTHDAT, format: DD/MM/YYYY}", "date: BRTHDAT, format: [DD/MM/YYYY, DD/MMM/YY]}")
    edit(spec / "sdtm.yaml", "date: AESTDAT, format: DD/MM/YYYY}", "date: AESTDAT, format: DD/MM/YYYY, cutoff_2000: 100}")
    edit(spec / "sdtm.yaml", "time: VSTIM, format: DD/MM/YYYY}", "time: VSTIM, format: DD/MM/YYYY, time_format: HH.MM}")
    edit(spec / "sdtm.yaml", "date: ICDAT, format: DD/MM/YYYY}}", "date: ICDAT}}")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    messages = [str(p) for p in error.value.problems]
    assert messages[0] == "spec/sdtm.yaml: domains.DM.variables[8].map: 'assign_datetime' needs the argument 'format'"
    assert messages[1].startswith("spec/sdtm.yaml: domains.DM.variables[13].map.format[1]: unknown date format "
                                  "'DD/MMM/YY' (known: YYYY-MM-DD, ")
    assert messages[2] == ("spec/sdtm.yaml: domains.AE.variables[30].map.cutoff_2000: 100 is not a two-digit year "
                           "(0 to 99): years YY <= cutoff_2000 are 20YY, the others 19YY")
    assert messages[3] == ("spec/sdtm.yaml: domains.VS.variables[16].map.time_format: unknown time format 'HH.MM' "
                           "(known: HH:MM, HH:MM:SS, HH:MM AM/PM, HH:MM:SS AM/PM, HHMM; see "
                           "docs/spec-reference.md#date-and-time-formats)")
    assert len(messages) == 4
