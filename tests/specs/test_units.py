import pandas as pd

from specs.units import Conversion, check_units, conversions, molar_factor


def test_molar_factors_from_the_unit_scales():
    # mg/dL -> mmol/L: 0.01 g/L / 180.16 g/mol = 5.5506e-5 mol/L = 0.055506 mmol/L per mg/dL
    assert round(molar_factor("mg/dL", "mmol/L", 180.16), 6) == 0.055506
    # ng/mL -> nmol/L: 1e-6 g/L / 3020.3 g/mol / 1e-9 = 1000 / 3020.3 = 0.331093
    assert round(molar_factor("ng/mL", "nmol/L", 3020.3), 6) == 0.331093
    # and back: 1 mmol/L of glucose is 180.16 mg/L = 18.016 mg/dL
    assert round(molar_factor("mmol/L", "mg/dL", 180.16), 6) == 18.016
    assert molar_factor("mg/dL", "g/L", 180.16) is None and molar_factor("F", "C", 1.0) is None


def test_a_table_resolves_factors_offsets_formulas_and_molar_masses():
    table = conversions({"unit": "C", "factors": {"K": 1}, "conversions": {
        "F": {"formula": "(x - 32) * 5 / 9"}, "F2": {"factor": 0.5, "offset": -10}}})
    assert table["K"] == Conversion(1.0) and table["F2"] == Conversion(0.5, -10.0)
    values, problem = table["F"].apply(pd.Series([98.6, 32.0, None]))
    assert round(values[0], 6) == 37.0 and values[1] == 0.0 and pd.isna(values[2])
    assert list(problem) == ["", "", ""]
    values, _ = table["F2"].apply(pd.Series([20.0]))
    assert list(values) == [0.0]  # 20 x 0.5 - 10


def test_conversion_tables_are_checked():
    problems = check_units("sdtm.yaml: domains.LB.standard_units", {
        "GLUC": {"unit": "mmol/L", "factors": {"mg/dL": 0.0555}, "conversions": {
            "mg/dL": {"molar_mass": 180.16}, "g/L": {"factor": 5.55, "formula": "x * 5.55"}}},
        "CHOL": {"unit": "mg/dL", "conversions": {"g/L": {"molar_mass": 386.65}, "mg/dL": {"factor": 1}}},
        "TEMP": {"unit": "C", "conversions": {"F": {"formula": "(x - 32) * 5 / 9 + AGE"},
                                              "K": {"formula": "upper(x)"}, "R": {"formula": "(x - "}}},
    })
    texts = [str(p) for p in problems]
    assert texts[0] == ("sdtm.yaml: domains.LB.standard_units.GLUC.conversions.mg/dL: 'mg/dL' is also in factors: "
                        "give one conversion per unit")
    assert texts[1] == ("sdtm.yaml: domains.LB.standard_units.GLUC.conversions.g/L: give exactly one of factor, "
                        "formula, molar_mass (see docs/spec-reference.md#unit-conversions)")
    assert texts[2] == ("sdtm.yaml: domains.LB.standard_units.CHOL: 'mg/dL' is the standard unit of CHOL: it "
                        "needs no conversion")
    assert texts[3].startswith("sdtm.yaml: domains.LB.standard_units.CHOL.conversions.g/L.molar_mass: a molar mass "
                               "converts between a mass and a molar concentration; 'g/L' to 'mg/dL' is not one "
                               "(mass: g/L, g/dL,")
    assert texts[4] == ("sdtm.yaml: domains.LB.standard_units.TEMP.conversions.F.formula: a unit formula reads only "
                        "the result, as x; not AGE")
    assert texts[5] == ("sdtm.yaml: domains.LB.standard_units.TEMP.conversions.K.formula: 'upper(x)' does not give "
                        "a number")
    assert texts[6].startswith("sdtm.yaml: domains.LB.standard_units.TEMP.conversions.R.formula: ")
    assert len(texts) == 7
