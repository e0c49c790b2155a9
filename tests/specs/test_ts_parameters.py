"""TS entries of a study spec: a value or a null flavor, coded values with their code and code system."""
from specs.ct import load_ct
from specs.ts_parameters import check_ts_items, missing_expected

CT = load_ct()


def test_a_coded_value_needs_its_code_and_code_system():
    items = [{"parmcd": "PCLAS", "val": "Calcineurin Inhibitor [EPC]"},
             {"parmcd": "TRT", "val": "CICLOSPORIN", "valcd": "83HN0GTJ6D", "vcdref": "UNII"},
             {"parmcd": "TBLIND", "val": "DOUBLE BLIND", "valcd": "C15228", "vcdref": "CDISC CT"},
             {"parmcd": "INDIC", "val": "Type 1 diabetes mellitus", "valcd": "46635009", "vcdref": "SNOMED CT"},
             {"parmcd": "COMPTRT", "val": "PLACEBO"}, {"parmcd": "TITLE", "val": "A trial"}]
    assert check_ts_items(items, CT) == [
        (0, "valcd", "PCLAS: 'Calcineurin Inhibitor [EPC]' comes from MED-RT: give its code (valcd) and vcdref: "
                     "MED-RT, or valnf when the code is not known"),
        (0, "vcdref", "PCLAS: the code system is MED-RT, not ''"),
        (3, "vcdref", "INDIC: the code system is SNOMED, not 'SNOMED CT'")]


def test_a_cdisc_value_is_a_term_of_its_codelist_with_its_code():
    items = [{"parmcd": "ADAPT", "val": "N", "valcd": "C49488", "vcdref": "CDISC CT"},
             {"parmcd": "STYPE", "val": "INTERVENTION", "valcd": "C0", "vcdref": "CDISC CT"},
             {"parmcd": "TBLIND", "val": "SPONSOR BLIND", "valcd": "X1", "vcdref": "CDISC CT"},  # extensible
             {"parmcd": "DOSU", "val": "10^6 IU", "valcd": "C67335", "vcdref": "CDISC CT"}]
    assert check_ts_items(items, CT) == [
        (0, "valcd", "ADAPT: 'N' is C49487 in codelist NY, not C49488"),
        (1, "val", "STYPE: 'INTERVENTION' is not a term of codelist STYPE")]


def test_a_missing_value_is_a_null_flavor_not_a_word():
    items = [{"parmcd": "STOPRULE", "val": "NONE"}, {"parmcd": "STOPRULE", "valnf": "NA"},
             {"parmcd": "RDIND", "valnf": "MAYBE"}, {"parmcd": "ADAPT"},
             {"parmcd": "ADAPT", "val": "N", "valnf": "NI", "valcd": "C49487", "vcdref": "CDISC CT"},
             {"parmcd": "ADDON", "val": "NA", "valcd": "C48660", "vcdref": "CDISC CT"}]  # a term of NY
    assert check_ts_items(items, CT) == [
        (0, "val", "STOPRULE: 'NONE' stands for a missing value: give valnf (an ISO 21090 null flavor, e.g. NA or "
                   "NI) instead (SDTMIG 7.4.2.1)"),
        (2, "valnf", "RDIND: 'MAYBE' is not an ISO 21090 null flavor (NI, INV, DER, OTH, PINF, NINF, UNC, MSK, NA, "
                     "UNK, ASKU, NAV, NASK, QS, TRC, NP)"),
        (3, "parmcd", "ADAPT: give exactly one of val, valnf (ISO 21090 null flavor) and from, not none"),
        (4, "parmcd", "ADAPT: give exactly one of val, valnf (ISO 21090 null flavor) and from, not val and valnf")]


def test_the_parameters_an_interventional_study_lacks():
    assert missing_expected(["STYPE", "TITLE"], "OBSERVATIONAL") == []
    missing = missing_expected(["STYPE", "TITLE", "PCLAS"], "INTERVENTIONAL")
    assert "TITLE" not in missing and "PCLAS" not in missing and missing[:3] == ["ACTSUB", "ADAPT", "ADDON"]
