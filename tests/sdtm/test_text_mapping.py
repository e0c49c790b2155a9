"""Mappings that read expressions (expr), templates and lookup tables, on located raw frames."""
import pandas as pd

from sdtm.algorithms import MapContext, assign_ct, assign_no_ct, assign_numeric, assign_template, condition_add
from sdtm.prepare import locate
from specs.ct import load_ct
from specs.lookups import LookupTable


def raw_frame(**columns) -> pd.DataFrame:
    return locate(pd.DataFrame(columns, dtype=object), "dm.csv", ["PATNUM"])


def context(variable="SITEID", codelist=None, ct=None, lookups=None) -> MapContext:
    return MapContext("CDISC01", "DM", variable, codelist, ct, [], [], lookups=lookups or {})


def test_siteid_subjid_and_usubjid_from_patnum():
    raw = raw_frame(PATNUM=["701-1015", "701-1016", "702-2001"])
    ctx = context()
    assert list(assign_no_ct(raw, {"expr": "split(PATNUM, '-', 1)"}, ctx)) == ["701", "701", "702"]
    assert list(assign_no_ct(raw, {"expr": "split(PATNUM, '-', 2)"}, ctx)) == ["1015", "1016", "2001"]
    assert list(assign_template(raw, {"template": "CDISC01.{substr(PATNUM, 1, 3)}.{split(PATNUM, '-', 2)}"},
                                ctx)) == ["CDISC01.701.1015", "CDISC01.701.1016", "CDISC01.702.2001"]
    assert ctx.problems == []


def test_aeterm_upper_cased_from_a_column_with_a_dot():
    raw = raw_frame(PATNUM=["701-1015", "701-1016"], **{"IT.AETERM": ["Mal de tête ", "nausea"]})
    assert list(assign_no_ct(raw, {"expr": "upper(trim(`IT.AETERM`))"}, context("AETERM"))) == \
        ["MAL DE TÊTE", "NAUSEA"]


def test_expression_values_go_through_controlled_terminology_with_their_location():
    raw = raw_frame(PATNUM=["701-1015", "701-1016"], **{"Sex Code": ["f ", "X"]})
    ctx = context("SEX", "SEX", load_ct())
    assert list(assign_ct(raw, {"expr": "upper(trim(`Sex Code`))"}, ctx)) == ["F", "X"]
    assert [str(p) for p in ctx.term_problems] == [
        "dm.csv row 2 (PATNUM=701-1016): DM.SEX from column upper(trim(`Sex Code`)): 'X' is not a term of the "
        "non-extensible codelist SEX (C66731)"]


def test_numbers_by_expression_are_located_when_they_are_not_numbers():
    raw = raw_frame(PATNUM=["701-1015", "701-1016", "701-1017"], TEMP=["98.6", "hot", ""], UNIT=["F", "F", "F"])
    ctx = context("VSSTRESN")
    result = assign_numeric(raw, {"expr": "round((number(TEMP) - 32) * 5 / 9, 1)"}, ctx)
    assert result.iloc[0] == 37.0 and result.iloc[1:].isna().all()
    assert [str(p) for p in ctx.problems] == [
        "dm.csv row 2 (PATNUM=701-1016): DM.VSSTRESN from expr round((number(TEMP) - 32) * 5 / 9, 1): 'hot' is not "
        "a number"]


def test_lookup_tables_in_expressions_and_conditions():
    routes = LookupTable("routes", {"PO (Oral)": "ORAL", "IV": "INTRAVENOUS"}, "error", "study.yaml lookups.routes")
    raw = raw_frame(PATNUM=["1", "2", "3"], MDRTE=["PO (Oral)", "IV", "Nasal"])
    ctx = context("CMROUTE", lookups={"routes": routes})
    assert list(assign_no_ct(raw, {"expr": "lookup(MDRTE, 'routes')"}, ctx)) == ["ORAL", "INTRAVENOUS", ""]
    assert [str(p) for p in ctx.problems] == [
        "dm.csv row 3 (PATNUM=3): DM.CMROUTE from expr lookup(MDRTE, 'routes'): 'Nasal' is not a key of lookup "
        "table routes (study.yaml lookups.routes)"]
    kept = {"routes": LookupTable("routes", routes.values, "keep", "")}
    assert list(assign_no_ct(raw, {"expr": "lookup(MDRTE, 'routes')"}, context(lookups=kept))) == \
        ["ORAL", "INTRAVENOUS", "Nasal"]
    cases = {"cases": [{"when": "lookup(MDRTE, 'routes') == 'ORAL'", "then": {"algorithm": "hardcode_no_ct",
                                                                             "value": "Y"}}]}
    assert list(condition_add(raw, cases, context(lookups=kept))) == ["Y", "", ""]


def test_a_cdisc_term_with_other_accents_or_non_ascii_text_is_refused_not_taken_as_a_sponsor_term():
    raw = raw_frame(PATNUM=["1", "2", "3", "4", "5"],
                    DSDECOD=["COMPLETED", "COMPLÉTED", "PROTOCOL DEVIATION", "COMPLETEDÉ", "SITE CLOSED"])
    ctx = context("DSDECOD", "NCOMPLT", load_ct())
    assert list(assign_ct(raw, {"source": "DSDECOD"}, ctx))[::2] == ["COMPLETED", "PROTOCOL DEVIATION", "SITE CLOSED"]
    assert [str(p) for p in ctx.term_problems] == [  # by value
        "dm.csv row 4 (PATNUM=4): DM.DSDECOD from column DSDECOD: 'COMPLETEDÉ' is not a term of the extensible "
        "codelist NCOMPLT (C66727) and cannot be a sponsor term: a submission value is printable ASCII; correct "
        "the raw value or recode it with the mapping's terms",
        "dm.csv row 2 (PATNUM=2): DM.DSDECOD from column DSDECOD: 'COMPLÉTED' is not a term of the extensible "
        "codelist NCOMPLT (C66727) and cannot be a sponsor term: it spells the term 'COMPLETED' with other "
        "accents, case or spacing; correct the raw value or recode it with the mapping's terms"]
    assert [str(n) for n in ctx.notes] == ["DM.DSDECOD: sponsor-defined value(s) 'SITE CLOSED' added to extensible "
                                           "codelist NCOMPLT"]
