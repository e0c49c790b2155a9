import numpy as np
import pandas as pd
import pytest

from sdtm.derivations import (age_in_years, baseline_flag, convert_limit, convert_result, derive_seq, epoch_of,
                              numeric_result, reference_range_indicator)

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


def test_seq_follows_the_stated_order_within_subject():
    data = pd.DataFrame({"USUBJID": ["B", "A", "A", "B"], "LBDTC": ["2023-02", "2023-03", "2023-01", "2023-01"]})
    assert list(derive_seq(data, ["USUBJID"], ["LBDTC"])) == [2, 2, 1, 1]


def test_age_in_completed_years():
    ages = age_in_years(pd.Series(["2000-06-15", "2000-06-15", "2000"]),
                        pd.Series(["2023-06-14", "2023-06-15", "2023-06-15"]))
    assert list(ages[:2]) == [22, 23]
    assert pd.isna(ages[2])


def test_epoch_from_subject_elements():
    # Elements: screening from 2023-01-01, ciclosporin from 2023-01-10, follow-up from 2023-03-14 to 2023-06-30.
    se = pd.DataFrame({"USUBJID": ["S1"] * 3, "TAETORD": [1.0, 2.0, 3.0],
                       "SESTDTC": ["2023-01-01", "2023-01-10", "2023-03-14"],
                       "SEENDTC": ["2023-01-10", "2023-03-14", "2023-06-30"],
                       "EPOCH": ["SCREENING", "OPEN LABEL TREATMENT", "FOLLOW-UP"]})
    data = pd.DataFrame({"USUBJID": ["S1"] * 7,
                         "LBDTC": ["2023-01-09", "2023-01-10T08:00", "2023-03-13", "2023-06-30", "2023-07-01", "2023-02",
                                   "2023-03"]})
    # 2023-02 lies entirely in the ciclosporin element; 2023-03 spans the transition of 2023-03-14
    assert list(epoch_of(data, "LBDTC", se)) == ["SCREENING", "OPEN LABEL TREATMENT", "OPEN LABEL TREATMENT",
                                                  "FOLLOW-UP", "", "OPEN LABEL TREATMENT", ""]


# Elements to the minute: the blinded element starts with the first injection at 2022-12-19T09:55; the
# screening and ciclosporin elements start on a date (consent, first capsule).
SE_TIMED = pd.DataFrame({"USUBJID": ["S1"] * 4, "TAETORD": [1.0, 2.0, 3.0, 4.0],
                         "SESTDTC": ["2022-10-10", "2022-10-18", "2022-12-19T09:55", "2023-10-16"],
                         "SEENDTC": ["2022-10-18", "2022-12-19T09:55", "2023-10-16", "2024-10-04"],
                         "EPOCH": ["SCREENING", "OPEN LABEL TREATMENT", "BLINDED TREATMENT", "FOLLOW-UP"]})


def test_epoch_to_the_minute_on_the_day_an_element_starts():
    data = pd.DataFrame({"USUBJID": ["S1"] * 5,
                         "LBDTC": ["2022-12-19T09:40", "2022-12-19T09:55", "2022-12-19T10:10", "2022-12-19",
                                   "2022-12-18T23:00"]})
    # drawn 15 minutes before the first injection: still the ciclosporin epoch; at or after it: blinded
    assert list(epoch_of(data, "LBDTC", SE_TIMED)) == [
        "OPEN LABEL TREATMENT", "BLINDED TREATMENT", "BLINDED TREATMENT", "BLINDED TREATMENT", "OPEN LABEL TREATMENT"]


def test_a_date_without_time_on_a_transition_day_follows_the_same_day_rule():
    data = pd.DataFrame({"USUBJID": ["S1"] * 4,
                         "LBDTC": ["2022-12-19", "2022-10-18T08:00", "2022-12-19T09:00", "2022-10-10T08:30"]})
    # 2022-12-19 without time vs a start at 09:55, 08:00 on 2022-10-18 vs a start without time: order unknown;
    # 2022-12-19T09:00 is before 09:55; on the consent day (first element) no element ends: screening
    assert list(epoch_of(data, "LBDTC", SE_TIMED, same_day="earlier")) == [
        "OPEN LABEL TREATMENT", "SCREENING", "OPEN LABEL TREATMENT", "SCREENING"]
    assert list(epoch_of(data, "LBDTC", SE_TIMED, same_day="later")) == [
        "BLINDED TREATMENT", "OPEN LABEL TREATMENT", "OPEN LABEL TREATMENT", "SCREENING"]
    assert list(epoch_of(data, "LBDTC", SE_TIMED, same_day="null")) == ["", "", "OPEN LABEL TREATMENT", "SCREENING"]
    with pytest.raises(ValueError, match="same_day must be one of later, earlier, null"):
        epoch_of(data, "LBDTC", SE_TIMED, same_day="sometimes")


def test_last_observation_before_first_dose():
    data = pd.DataFrame({"USUBJID": ["S1"] * 4 + ["S2"],
                         "LBTESTCD": ["HBA1C", "HBA1C", "HBA1C", "GLUC", "HBA1C"],
                         "LBDTC": ["2023-01-01", "2023-01-10T08:00", "2023-02-01", "2023-01-02", "2023-01-05"],
                         "LBSTRESC": ["8.1", "", "7.5", "5.2", "7.9"]})
    reference = pd.Series({"S1": "2023-01-10", "S2": ""})
    # S1 HBA1C on the first-dose day has no result, so the screening value is the last one before dosing.
    assert list(baseline_flag(data, ["LBTESTCD"], "LBDTC", "LBSTRESC", reference, same_day="before")) == \
        ["Y", "", "", "Y", ""]


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


def test_pick_date_first_and_last_per_subject_in_subject_order():
    """Each subject's smallest or largest ISO text (a partial date sorts before its complete form), subjects
    sorted, empty dates ignored; a record without a subject takes pandas' sort (the same values)."""
    from sdtm.derivations import pick_date

    lb = pd.DataFrame({"USUBJID": ["S-2", "S-1", "S-2", "S-1"], "DTC": ["2023-06-15", "2023-06", "", "2023-06-02T08:00"]})
    vs = pd.DataFrame({"USUBJID": ["S-3", "S-2"], "DTC": ["2023-07-01", "2023-06-14"]}).astype("str")
    first, last = pick_date([lb, vs], "first"), pick_date([lb, vs], "last")
    assert first.index.tolist() == ["S-1", "S-2", "S-3"] and last.index.tolist() == ["S-1", "S-2", "S-3"]
    assert first.tolist() == ["2023-06", "2023-06-14", "2023-07-01"]
    assert last.tolist() == ["2023-06-02T08:00", "2023-06-15", "2023-07-01"]
    no_subject = pd.DataFrame({"USUBJID": ["S-1", None], "DTC": ["2023-01-02", "2023-01-01"]})
    picked = pick_date([no_subject], "first")
    assert picked.iloc[0] == "2023-01-02" and picked.index[0] == "S-1" and len(picked) == 2
    assert pick_date([], "first").empty


def test_epoch_of_the_latest_element_that_holds_the_record_by_taetord():
    # S1: SCREENING then TREATMENT (listed out of TAETORD order in SE); S2 has no element; a partial date
    # spanning the transition has no epoch; a record of the day TREATMENT starts goes to it ('later')
    se = pd.DataFrame({"USUBJID": ["S1", "S1"], "SESTDTC": ["2023-06-10", "2023-06-01"],
                       "SEENDTC": ["2023-06-30", "2023-06-10"], "EPOCH": ["TREATMENT", "SCREENING"],
                       "TAETORD": [2.0, 1.0]})
    data = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S2", "S1", "S1"],
                         "DTC": ["2023-06-05", "2023-06-10", "2023-06", "2023-06-05", "", "2023-06-30"]},
                        index=[7, 8, 9, 10, 11, 12])
    epoch = epoch_of(data, "DTC", se)
    assert epoch.tolist() == ["SCREENING", "TREATMENT", "", "", "", "TREATMENT"]
    assert epoch.index.tolist() == [7, 8, 9, 10, 11, 12]
    assert epoch_of(data, "DTC", se, same_day="earlier").tolist()[1] == "SCREENING"


def test_derive_seq_numbers_each_group_in_order_missing_subjects_one_group():
    from sdtm.derivations import derive_seq

    data = pd.DataFrame({"USUBJID": np.array(["B", "A", None, "B", "A", np.nan], dtype=object),
                         "DAY": [2.0, 5.0, 1.0, 1.0, np.nan, 0.0]}, index=[10, 11, 12, 13, 14, 15])
    data["USUBJID"] = data["USUBJID"].astype(object)  # (mapped text: Python strings)
    seq = derive_seq(data, ["USUBJID"], ["DAY"])
    # A: day 5, then the missing day; B: day 1, day 2; no subject: day 0, day 1
    assert seq.tolist() == [2.0, 1.0, 2.0, 1.0, 2.0, 1.0] and seq.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert seq.dtype == float
    expected = data.sort_values(["USUBJID", "DAY"], kind="mergesort").groupby(["USUBJID"], sort=False,
                                                                              dropna=False).cumcount() + 1
    assert seq.tolist() == expected.reindex(data.index).astype(float).tolist()
