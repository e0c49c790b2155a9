"""SDTMIG 3.4 / ADaMIG 1.3 metadata lookups, values checked against the CDISC Library CSVs."""
import pytest

from specs.standards import (
    adamig_variable,
    adamig_variables,
    sdtmig_dataset,
    sdtmig_variable,
    sdtmig_variables,
)


def test_dataset_metadata():
    dm = sdtmig_dataset("DM")
    assert (dm.name, dm.label, dm.class_, dm.structure) == (
        "DM", "Demographics", "Special-Purpose", "One record per subject",
    )
    assert sdtmig_dataset("lb").class_ == "Findings"  # case does not matter
    assert sdtmig_dataset("CP").label == "Cell Phenotype Findings"


def test_supp_dataset_is_the_suppqual_entry_with_its_domain():
    supp = sdtmig_dataset("SUPPAE")
    assert (supp.name, supp.label, supp.class_) == ("SUPPAE", "Supplemental Qualifiers for AE", "Relationship")
    assert supp.structure == "One record per supplemental qualifier per related parent domain record(s)"
    assert sdtmig_dataset("SUPPQUAL").label == "Supplemental Qualifiers for [domain name]"


def test_unknown_dataset_is_none():
    assert sdtmig_dataset("XY") is None


def test_variable_metadata():
    sex = sdtmig_variable("DM", "SEX")
    assert (sex.name, sex.label, sex.type, sex.core, sex.codelists, sex.role, sex.order) == (
        "SEX", "Sex", "Char", "Req", ("C66731",), "Record Qualifier", 21,
    )
    lbstresn = sdtmig_variable("LB", "LBSTRESN")
    assert (lbstresn.type, lbstresn.core, lbstresn.role, lbstresn.order) == ("Num", "Exp", "Result Qualifier", 24)
    assert sdtmig_variable("LB", "LBDTC").described_value_domain == "ISO 8601 datetime or interval"


def test_several_codelists_are_split():
    assert sdtmig_variable("DS", "DSDECOD").codelists == ("C66727", "C114118", "C150811")


def test_supp_variables_come_from_suppqual():
    qnam = sdtmig_variable("SUPPLB", "QNAM")
    assert (qnam.label, qnam.core, qnam.role, qnam.order) == ("Qualifier Variable Name", "Req", "Topic", 6)
    assert sdtmig_variable("SUPPDM", "RDOMAIN").codelists == ("C66734",)
    assert [v.name for v in sdtmig_variables("SUPPCM")] == [
        "STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL",
    ]


def test_overflow_variables_of_tsval():
    tsval2 = sdtmig_variable("TS", "TSVAL2")
    assert (tsval2.name, tsval2.label, tsval2.core, tsval2.standard_name) == (
        "TSVAL2", "Parameter Value 2", "Perm", "TSVAL",
    )


def test_unknown_variable_is_none():
    assert sdtmig_variable("DM", "AESEV") is None
    assert sdtmig_variable("XY", "XYTESTCD") is None


def test_variables_in_standard_order():
    names = [v.name for v in sdtmig_variables("DM")]
    assert names[:6] == ["STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "RFENDTC"]
    assert names[-2:] == ["DMDTC", "DMDY"]
    assert len(names) == 32
    orders = [v.order for v in sdtmig_variables("LB")]
    assert orders == list(range(1, len(orders) + 1))
    assert sdtmig_variables("XY") == []


# ---------------------------------------------------------------------------------------- ADaM
def test_adam_exact_names():
    aval = adamig_variable("BDS", "AVAL")
    assert (aval.label, aval.type, aval.core, aval.role, aval.standard_name) == (
        "Analysis Value", "Num", "Cond", "Analysis Parameter", "",
    )
    assert adamig_variable("ADSL", "SEX").codelists == ("C66731",)
    assert adamig_variable("Basic Data Structure", "PARAMCD").core == "Req"
    assert adamig_variable("BDS", "DTYPE").codelist_names == ("DTYPE",)
    assert adamig_variable("ADSL", "AVAL") is None


@pytest.mark.parametrize(
    "structure, name, standard, label",
    [
        ("BDS", "ANL01FL", "ANLzzFL", "Analysis Flag 01"),
        ("ADSL", "TRT01P", "TRTxxP", "Planned Treatment for Period 01"),
        ("ADSL", "TRT02AN", "TRTxxAN", "Actual Treatment for Period 02 (N)"),
        ("ADSL", "TR01PG1", "TRxxPGy", "Planned Pooled Treatment 1 for Period 01"),
        ("BDS", "CRIT1FL", "CRITyFL", "Criterion 1 Evaluation Result Flag"),
        ("BDS", "CRIT12", "CRITy", "Analysis Criterion 12"),
        ("ADSL", "P01S2SDT", "PxxSwSDT", "Period 01 Subperiod 2 Start Date"),
        ("BDS", "A1LO", "AyLO", "Analysis Range 1 Lower Limit"),
        ("BDS", "LBDTF", "*DTF", "{Date Imputation Flag}"),
        ("BDS", "VISSDTF", "*SDTF", "{Start Date Imputation Flag}"),  # the longer suffix wins over *DTF
    ],
)
def test_adam_placeholders(structure, name, standard, label):
    meta = adamig_variable(structure, name)
    assert (meta.name, meta.standard_name, meta.label) == (name, standard, label)


def test_adam_placeholder_keeps_other_attributes():
    meta = adamig_variable("BDS", "ANL01FL")
    assert (meta.type, meta.core, meta.role) == ("Char", "Cond", "Flag")
    assert adamig_variable("BDS", "XXDTF").codelists == ("C81223",)


def test_adam_exact_names_win_over_suffix_patterns():
    astdtf = adamig_variable("BDS", "ASTDTF")
    assert (astdtf.standard_name, astdtf.label) == ("", "Analysis Start Date Imputation Flag")


@pytest.mark.parametrize("name", ["ANL1FL", "TRT1P", "CRIT0FL", "TRT01"])
def test_adam_placeholder_digits_must_fit(name):
    # xx/zz are exactly two digits; y/w are 1-99 without zero-padding
    assert adamig_variable("BDS" if name.startswith(("ANL", "CRIT")) else "ADSL", name) is None


def test_adam_unknown_structure():
    with pytest.raises(LookupError) as caught:
        adamig_variable("OCCDS", "AETERM")
    assert str(caught.value) == (
        "'OCCDS' is not an ADaMIG 1.3 data structure in the variable metadata "
        "(ADSL, BDS, Subject-Level Analysis Dataset, Basic Data Structure)"
    )


def test_adam_variables_in_ig_order():
    names = [v.name for v in adamig_variables("ADSL")]
    assert names[:4] == ["STUDYID", "USUBJID", "SUBJID", "SITEID"]
    assert len(names) == 141
    assert len(adamig_variables("BDS")) == 195
