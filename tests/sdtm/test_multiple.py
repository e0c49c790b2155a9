"""SDTMIG 3.4 section 4.2.8.3 in the mapping: 'MULTIPLE' when the variable's values go to SUPP--."""
import pandas as pd

from sdtm.algorithms import MapContext, assign_ct
from sdtm.prepare import locate
from specs.ct import load_ct, multiple_allowed

RAW = locate(pd.DataFrame({"USUBJID": ["S-1", "S-2"], "RACE": ["MULTIPLE", "White"]}), "dm.csv", ["USUBJID"])


def test_multiple_is_a_race_when_the_races_are_in_suppdm():
    ctx = MapContext("S", "DM", "RACE", "RACE", load_ct(), [], [], supp_qnams=frozenset({"RACE1", "RACE2"}))
    assert list(assign_ct(RAW, {"source": "RACE"}, ctx)) == ["MULTIPLE", "WHITE"]
    assert ctx.term_problems == []


def test_multiple_is_not_a_race_otherwise():
    ctx = MapContext("S", "DM", "RACE", "RACE", load_ct(), [], [])
    assign_ct(RAW, {"source": "RACE"}, ctx)
    assert [str(p) for p in ctx.term_problems] == [
        "dm.csv row 1 (USUBJID=S-1): DM.RACE from column RACE: 'MULTIPLE' is not a term of the non-extensible "
        "codelist RACE (C74457)"]


def test_the_supp_name_of_a_long_variable_is_cut_to_seven_characters():
    assert multiple_allowed("CMDOSFRM", ["CMDOSFR1"]) and not multiple_allowed("CMDOSFRM", None)
