import pandas as pd

from sdtm.lab_results import convert_limit, convert_result, numeric_result, reference_range_indicator


UNITS = {"CPEPTIDE": {"unit": "nmol/L", "decimals": 3, "factors": {"ug/L": 0.331}}}


def test_c_peptide_in_ng_per_ml_is_converted_to_nmol_per_l():
    # 1.51 ng/mL x 0.331 = 0.49981 -> 0.500 nmol/L; a value already in nmol/L is kept as reported
    stresc, stresu, problem = convert_result(pd.Series(["1.51", "0.45", "<0.02", ""]),
                                             pd.Series(["ug/L", "nmol/L", "nmol/L", ""]),
                                             pd.Series(["CPEPTIDE"] * 4), UNITS)
    assert list(stresc) == ["0.500", "0.45", "<0.02", ""]
    assert list(stresu) == ["nmol/L", "nmol/L", "nmol/L", ""]
    assert list(problem) == ["", "", "", ""]


def test_a_qualified_result_in_another_unit_converts_its_limit():
    stresc, _, _ = convert_result(pd.Series(["<0.06"]), pd.Series(["ug/L"]), pd.Series(["CPEPTIDE"]), UNITS)
    assert list(stresc) == ["<0.020"]  # 0.06 x 0.331 = 0.01986


def test_below_quantification_keeps_its_text_and_has_no_number():
    stresc, _, _ = convert_result(pd.Series(["<0.02"]), pd.Series(["nmol/L"]), pd.Series(["GLUC"]), {})
    assert list(stresc) == ["<0.02"]
    assert numeric_result(stresc).isna().all()
    assert list(numeric_result(pd.Series(["0.450", "12", "-1.5"]))) == [0.45, 12.0, -1.5]


def test_a_unit_with_no_factor_is_never_labelled_with_the_standard_unit():
    # 380 pmol/L is 0.380 nmol/L, but the spec states no factor for pmol/L: no value, a problem instead
    stresc, stresu, problem = convert_result(pd.Series(["380", "abc"]), pd.Series(["pmol/L", "pmol/L"]),
                                             pd.Series(["CPEPTIDE"] * 2), UNITS)
    assert list(stresc) == ["", ""]
    assert problem[0] == ("is in pmol/L, which has no conversion to the standard unit nmol/L of CPEPTIDE "
                          "(add 'pmol/L' to standard_units.CPEPTIDE.factors or .conversions; "
                          "see docs/spec-reference.md#unit-conversions)")
    assert problem[1] == ("is not a number; it is in pmol/L, which has no conversion to the standard unit nmol/L "
                          "of CPEPTIDE (add 'pmol/L' to standard_units.CPEPTIDE.factors or .conversions; "
                          "see docs/spec-reference.md#unit-conversions)")


def test_a_quantitative_result_must_be_a_number_with_a_unit():
    stresc, _, problem = convert_result(pd.Series(["0,83", "abc", "1,500", "0.45", "<0.02"]),
                                        pd.Series(["ug/L", "nmol/L", "nmol/L", "", "nmol/L"]),
                                        pd.Series(["CPEPTIDE"] * 5), UNITS)
    assert list(problem) == ["is not a number", "is not a number", "is not a number",
                             "has no unit (the standard unit of CPEPTIDE is nmol/L)", ""]
    assert stresc[4] == "<0.02"


def test_a_source_with_decimal_commas_is_read_as_declared():
    # 0,83 ug/L x 0.331 = 0.27473 -> 0.275; '<0,02' nmol/L keeps its qualifier, written with a point
    stresc, _, problem = convert_result(pd.Series(["0,83", "<0,02", "0.83"]), pd.Series(["ug/L", "nmol/L", "ug/L"]),
                                        pd.Series(["CPEPTIDE"] * 3), UNITS, decimal=",")
    assert list(stresc[:2]) == ["0.275", "<0.02"]
    assert list(problem) == ["", "", "is not a number (decimal comma)"]


def test_tests_without_a_standard_unit_keep_result_and_unit():
    stresc, stresu, problem = convert_result(pd.Series(["NEGATIVE", "7,5"]), pd.Series(["", "g/L"]),
                                             pd.Series(["UPROT", "OTHER"]), UNITS, decimal=",")
    assert list(stresc) == ["NEGATIVE", "7.5"] and list(stresu) == ["", "g/L"] and list(problem) == ["", ""]


def test_a_result_with_a_unit_is_a_number_even_without_a_standard_unit():
    # PULSE has no standard unit in the spec, but a result in beats/min measures a number: '86é' is not one
    stresc, stresu, problem = convert_result(pd.Series(["86é", "86", "NEGATIVE", "<5"]),
                                             pd.Series(["beats/min", "beats/min", "", "beats/min"]),
                                             pd.Series(["PULSE", "PULSE", "UPROT", "PULSE"]), UNITS)
    assert list(problem) == ["is not a number", "", "", ""]
    assert list(stresc) == ["86é", "86", "NEGATIVE", "<5"] and list(stresu) == ["beats/min", "beats/min", "", "beats/min"]


def test_reference_limits_must_be_numbers():
    limit, problem = convert_limit(pd.Series(["0.78", "high", ""]), pd.Series(["ug/L"] * 3),
                                   pd.Series(["CPEPTIDE"] * 3), UNITS)
    assert limit[0] == 0.258 and pd.isna(limit[1]) and pd.isna(limit[2])  # 0.78 x 0.331 = 0.25818
    assert list(problem) == ["", "is not a number", ""]


def test_reference_range_indicator():
    stresn = pd.Series([3.0, 5.0, 9.0, None, 5.0])
    low = pd.Series([4.0, 4.0, 4.0, 4.0, None])
    high = pd.Series([7.0, 7.0, 7.0, 7.0, None])
    assert list(reference_range_indicator(stresn, low, high)) == ["LOW", "NORMAL", "HIGH", "", ""]


TABLES = {
    "TEMP": {"unit": "C", "decimals": 1, "conversions": {"F": {"formula": "(x - 32) * 5 / 9"},
                                                         "K": {"factor": 1, "offset": -273.15}}},
    "GLUC": {"unit": "mmol/L", "decimals": 2, "conversions": {"mg/dL": {"molar_mass": 180.16}}},
    "CHOL": {"unit": "mmol/L", "decimals": 2, "conversions": {"mg/dL": {"molar_mass": 386.65}}},
    "CPEPTIDE": {"unit": "nmol/L", "decimals": 3, "conversions": {"ng/mL": {"molar_mass": 3020.3}}},
    "INSULIN": {"unit": "uU/mL", "decimals": 2, "factors": {"pmol/L": 0.144}},
}


def test_conversions_by_formula_offset_and_molar_mass_per_test():
    # TEMP: (98.6 - 32) x 5 / 9 = 37.0; (100.5 - 32) x 5 / 9 = 38.0555 -> 38.1; '<95' F -> '<35.0';
    #       310.15 K - 273.15 = 37.0
    # GLUC: 90 mg/dL = 0.9 g/L / 180.16 = 4.99556 mmol/L -> 5.00; CHOL: 200 mg/dL = 2 / 386.65 = 5.1726 -> 5.17
    # CPEPTIDE: 1.51 ng/mL x 1000 / 3020.3 = 0.499950 -> 0.500; INSULIN: 60 pmol/L x 0.144 = 8.64
    stresc, stresu, problem = convert_result(
        pd.Series(["98.6", "100.5", "<95", "310.15", "90", "200", "1.51", "60", "37.2"]),
        pd.Series(["F", "F", "F", "K", "mg/dL", "mg/dL", "ng/mL", "pmol/L", "C"]),
        pd.Series(["TEMP", "TEMP", "TEMP", "TEMP", "GLUC", "CHOL", "CPEPTIDE", "INSULIN", "TEMP"]), TABLES)
    assert list(stresc) == ["37.0", "38.1", "<35.0", "37.0", "5.00", "5.17", "0.500", "8.64", "37.2"]
    assert list(stresu) == ["C", "C", "C", "C", "mmol/L", "mmol/L", "nmol/L", "uU/mL", "C"]
    assert set(problem) == {""}


def test_converted_results_round_halves_away_from_zero():
    # 2.675 is 2.67499999... as a binary float: Python's round gives 2.67, SAS ROUND (and ours) 2.68
    units = {"X": {"unit": "b", "decimals": 2, "factors": {"a": 1}}}
    stresc, _, _ = convert_result(pd.Series(["2.675", "-2.675", "0.005"]), pd.Series(["a"] * 3),
                                  pd.Series(["X"] * 3), units)
    assert list(stresc) == ["2.68", "-2.68", "0.01"]


def test_a_unit_without_a_declared_conversion_stays_an_error():
    # mg/dL has a molar mass for GLUC, not for TEMP; mmol/L is not in GLUC's table
    stresc, _, problem = convert_result(pd.Series(["98", "5.2"]), pd.Series(["mg/dL", "umol/L"]),
                                        pd.Series(["TEMP", "GLUC"]), TABLES)
    assert list(stresc) == ["", ""]
    assert problem[1] == ("is in umol/L, which has no conversion to the standard unit mmol/L of GLUC (add 'umol/L' "
                          "to standard_units.GLUC.factors or .conversions; see "
                          "docs/spec-reference.md#unit-conversions)")


def test_a_formula_that_cannot_convert_a_value_is_a_problem():
    units = {"X": {"unit": "b", "conversions": {"a": {"formula": "10 / x"}}}}
    stresc, _, problem = convert_result(pd.Series(["0", "4"]), pd.Series(["a", "a"]), pd.Series(["X", "X"]), units)
    assert list(stresc) == ["", "2.5"]
    assert problem[0] == "cannot be converted from a: division by zero in 10 / x"
