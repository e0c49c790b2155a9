"""Findings details: NOT DONE records without units or ranges, the reference time point of a meal test,
the limit of quantitation and the position of a result below it, model roles of added variables."""
import pandas as pd
import pytest

from sdtm.dates import datetime_part, duration, iso_datetime
from sdtm.lab_results import reference_range_indicator
from sdtm.timing import reference_time
from sdtm.not_done import clear_not_done
from specs.standards import sdtm_model_role


# ------------------------------------------------------------------------------------------ NOT DONE
def test_a_record_not_done_loses_its_units_ranges_and_limits():
    lb = pd.DataFrame({"LBSTAT": ["", "NOT DONE", "NOT DONE"], "LBORRES": ["0.4", "", ""],
                       "LBORRESU": ["nmol/L", "nmol/L", ""], "LBORNRLO": ["0.26", "0.26", ""],
                       "LBSTRESU": ["nmol/L", "nmol/L", ""], "LBSTNRLO": [0.26, 0.26, None],
                       "LBLLOQ": [0.02, 0.02, None], "LBREASND": ["", "Sample not collected", "Lost"]})
    out, changed, holding = clear_not_done(lb, "LB")
    assert list(out["LBORRESU"]) == ["nmol/L", "", ""] and list(out["LBSTRESU"]) == ["nmol/L", "", ""]
    assert list(out["LBORNRLO"]) == ["0.26", "", ""]
    assert out["LBSTNRLO"].tolist()[0] == 0.26 and out["LBSTNRLO"].iloc[1:].isna().all()
    assert out["LBLLOQ"].iloc[1:].isna().all()
    assert list(out["LBREASND"]) == ["", "Sample not collected", "Lost"]  # the reason stays
    assert list(changed) == [False, True, False] and not holding.any()
    assert list(lb["LBORRESU"]) == ["nmol/L", "nmol/L", ""]  # the input is not modified


def test_a_result_on_a_record_not_done_is_found():
    vs = pd.DataFrame({"VSSTAT": ["NOT DONE", ""], "VSORRES": ["120", "118"], "VSORRESU": ["mmHg", "mmHg"]})
    _, _, holding = clear_not_done(vs, "VS")
    assert list(holding) == [True, False]


def test_a_domain_without_a_status_variable_is_left_as_it_is():
    cm = pd.DataFrame({"CMDOSU": ["U"]})
    out, changed, holding = clear_not_done(cm, "CM")
    assert out is cm and not changed.any() and not holding.any()


# ------------------------------------------------------------------------- reference time point (meal)
def test_iso_durations_and_date_times():
    minutes = duration(pd.Series(["-PT10M", "PT1H30M", "P1DT2H", "", "P1Y"])).dt.total_seconds() / 60
    assert minutes.fillna(-1).tolist() == [-10, 90, 1560, -1, -1]
    assert duration(pd.Series([], dtype="str")).empty  # no record (a cut that leaves no subject)
    moments = datetime_part(pd.Series(["2023-01-05T09:55", "2023-01-05", "2023-01-05T09:55:12"]))
    assert iso_datetime(moments).tolist() == ["2023-01-05T09:55", "", "2023-01-05T09:55:12"]


def test_the_meal_start_is_the_sample_time_minus_its_elapsed_time():
    # A: samples at 09:40 (-10 min) and 10:05 (15 min): the meal at 09:50; the 30-min sample not drawn (date
    # only) takes it too; a record without a time point has none. B: 08:00 at 0 min and 08:20 at 15 min
    # disagree (08:00 vs 08:05): left empty, flagged. C: 08:00 at 60 min: 07:00.
    lb = pd.DataFrame({
        "USUBJID": ["A"] * 4 + ["B"] * 2 + ["C"], "VISITNUM": [2.0] * 7,
        "LBTPTREF": ["MEAL"] * 3 + ["", "MEAL", "MEAL", "MEAL"],
        "LBDTC": ["2023-01-05T09:40", "2023-01-05T10:05", "2023-01-05", "2023-01-05T09:35", "2023-02-01T08:00",
                  "2023-02-01T08:20", "2023-03-01T08:00"],
        "LBELTM": ["-PT10M", "PT15M", "PT30M", "", "PT0M", "PT15M", "PT1H"]})
    values, conflicting = reference_time(lb, "LBDTC", "LBELTM", ["VISITNUM", "LBTPTREF"])
    assert values.tolist() == ["2023-01-05T09:50"] * 3 + ["", "", "", "2023-03-01T07:00"]
    assert conflicting.tolist() == [False] * 4 + [True, True, False]


# ------------------------------------------------------------------------------- below a limit
def test_a_result_below_the_limit_of_quantitation_has_a_position_when_the_range_decides_it():
    stresc = pd.Series(["0.01", "<0.02", "<0.02", "<0.02", "<=0.02", "<=0.26", ">500", ">=500", "<0.02"])
    stresn = pd.Series([0.01] + [float("nan")] * 8)
    low = pd.Series([0.26, 0.26, 0.01, None, 0.02, 0.26, None, None, 0.02])
    high = pd.Series([1.0, 1.0, 1.0, None, 1.0, 1.0, 500, 500, None])
    # <0.02 under 0.26: LOW; <0.02 against 0.01: may be normal; no range: nothing; <=0.02 against 0.02: may
    # equal it; <=0.26 against 0.26 too; >500 over 500: HIGH; >=500 may equal 500; <0.02 at 0.02: LOW
    assert reference_range_indicator(stresn, low, high, stresc).tolist() == [
        "LOW", "LOW", "", "", "", "", "HIGH", "", "LOW"]
    assert reference_range_indicator(stresn, low, high).tolist() == ["LOW"] + [""] * 8


# ---------------------------------------------------------------------------------------- model roles
@pytest.mark.parametrize("domain, name, role", [
    ("CM", "VISITNUM", "Timing"), ("LB", "LBLLOQ", "Variable Qualifier"), ("AE", "AERELCSA", None),
    ("ZZ", "ZZFOO", None)])
def test_a_variable_the_ig_does_not_list_for_a_domain_takes_the_role_the_model_gives_it(domain, name, role):
    assert sdtm_model_role(domain, name) == role


# ------------------------------------------------------------------------------------ the demo study
def test_the_missed_mmtt_sample_has_no_unit_nor_range_but_its_meal_start(demo_datasets):
    lb = demo_datasets["LB"]
    missed = lb[lb["LBSTAT"] == "NOT DONE"]
    assert len(missed) == 2  # C-peptide and glucose of the one sample not drawn
    for column in ("LBORRESU", "LBSTRESU", "LBORNRLO", "LBORNRHI"):
        assert (missed[column] == "").all(), column
    assert missed[["LBSTNRLO", "LBSTNRHI", "LBLLOQ"]].isna().all().all()
    # the other samples of that test give the meal start
    same_test = lb[(lb["USUBJID"] == missed["USUBJID"].iloc[0]) & (lb["VISITNUM"] == missed["VISITNUM"].iloc[0])
                   & (lb["LBTPTREF"] == "MIXED MEAL START")]
    assert set(missed["LBRFTDTC"]) == set(same_test["LBRFTDTC"]) and len(set(same_test["LBRFTDTC"])) == 1


def test_mmtt_samples_carry_the_meal_start_and_fasting_status(demo_datasets):
    # central_lab.csv, 01-001 DAY 1: the -10 min sample at 07:55, the 120 min one at 10:05: the meal at 08:05
    lb = demo_datasets["LB"]
    profile = lb.query("USUBJID == 'NCT05153070-01-001' and LBTESTCD == 'CPEPTIDE' and VISITNUM == 2 "
                       "and LBTPTREF == 'MIXED MEAL START'").sort_values("LBTPTNUM")
    assert profile["LBDTC"].tolist()[0] == "2022-10-18T07:55" and profile["LBDTC"].tolist()[-1] == "2022-10-18T10:05"
    assert set(profile["LBRFTDTC"]) == {"2022-10-18T08:05"}
    assert profile["LBFAST"].tolist() == ["Y", "Y", "N", "N", "N", "N", "N"]
    others = lb[lb["LBTPTREF"] == ""]
    assert (others["LBRFTDTC"] == "").all()
    assert set(lb.loc[lb["LBTESTCD"] == "GLUC", "LBFAST"]) >= {"Y", "N"}


def test_the_limit_of_quantitation_is_stored_and_a_result_under_it_is_low(demo_datasets):
    lb = demo_datasets["LB"]
    cpep = lb[(lb["LBTESTCD"] == "CPEPTIDE") & (lb["LBSTAT"] != "NOT DONE")]
    # 0.02 nmol/L, and 0.06 ng/mL x 0.331 = 0.01986 -> 0.020 for the batch reported in ng/mL
    assert set(cpep["LBLLOQ"]) == {0.02}
    assert lb.loc[lb["LBTESTCD"] != "CPEPTIDE", "LBLLOQ"].isna().all()
    below = lb[lb["LBSTRESC"] == "<0.02"]
    assert len(below) >= 1 and (below["LBNRIND"] == "LOW").all()


def test_sv_holds_only_sdtmig_sv_variables_and_se_has_study_days(demo_datasets):
    from specs.standards import sdtmig_variables

    assert set(demo_datasets["SV"].columns) <= {v.name for v in sdtmig_variables("SV")}
    se = demo_datasets["SE"].query("USUBJID == 'NCT05153070-01-001'")
    # SE of 01-001: screening from consent 2022-10-10 (day -8), ciclosporin from day 1
    assert se[["ETCD", "SESTDY"]].head(2).values.tolist() == [["SCRN", -8.0], ["CSA", 1.0]]
    assert se["SEENDY"].iloc[0] == 1.0


def test_cm_holds_the_daily_insulin_total(demo_datasets):
    # insulin.csv: 01-001 D1 RecordPosition 1, 15/10/2022: 31 units
    cm = demo_datasets["CM"]
    row = cm.query("USUBJID == 'NCT05153070-01-001' and CMSTDTC == '2022-10-15'").iloc[0]
    assert (row["CMDOSTOT"], row["CMDOSU"]) == (31.0, "U")
    assert "CMDOSE" not in cm and "CMDOSFRQ" not in cm


def test_every_sdtm_item_ref_has_a_role(demo_sdtm):
    from define.adapters import from_sdtm

    spec, _, result = demo_sdtm
    model = from_sdtm(spec, result)
    missing = [(group.name, ref.item_oid) for group in model.groups for ref in group.items
               if not ref.role]
    assert missing == []


def _lab_spec(lloq_map: dict):
    from pathlib import Path

    from specs.loader import StudySpec

    variables = [
        {"name": "STUDYID", "map": {"algorithm": "hardcode_no_ct", "value": "S1"}},
        {"name": "DOMAIN", "map": {"algorithm": "hardcode_no_ct", "value": "LB"}},
        {"name": "USUBJID", "map": {"algorithm": "derive_usubjid", "source": "SUBJ"}},
        {"name": "LBTESTCD", "map": {"algorithm": "assign_no_ct", "source": "TEST"}},
        {"name": "LBORRES", "map": {"algorithm": "assign_no_ct", "source": "RESULT"}},
        {"name": "LBORRESU", "map": {"algorithm": "assign_no_ct", "source": "UNIT"}},
        {"name": "LBLLOQ", "label": "Lower Limit of Quantitation", "type": "Num", "map": lloq_map}]
    lb = {"label": "Laboratory Test Results", "from": "lab", "variables": variables,
          "standard_units": {"CPEPTIDE": {"unit": "nmol/L", "decimals": 3, "factors": {"ng/mL": 0.331}}}}
    spec = StudySpec(folder=Path("."), study={"studyid": "S1"}, sources={"lab": {"path": "lab.csv", "keys": ["SUBJ"]}},
                     design={}, domains={"LB": lb})
    spec.files = {"sdtm": Path("sdtm.yaml"), "study": Path("study.yaml")}
    return spec


def test_a_limit_read_from_a_raw_column_is_converted_like_the_results():
    from sdtm.engine import build_sdtm
    from sdtm.prepare import locate
    from specs.ct import load_ct

    raw = pd.DataFrame({"SUBJ": ["1", "2", "3"], "TEST": ["CPEPTIDE"] * 3, "RESULT": ["0.45", "1.21", "0.40"],
                        "UNIT": ["nmol/L", "ng/mL", "nmol/L"], "LLOQ": ["0.02", "0.06", ""]})
    spec = _lab_spec({"algorithm": "derive_stnr", "source": "LLOQ", "orresu": "LBORRESU", "testcd": "LBTESTCD"})
    result = build_sdtm(spec, {"lab": locate(raw, "lab.csv", ["SUBJ"])}, load_ct())
    # 0.06 ng/mL x 0.331 = 0.01986 -> 0.020 (3 decimals)
    assert result.datasets["LB"]["LBLLOQ"].fillna(-1).tolist() == [0.02, 0.02, -1]


def test_derive_stnr_reads_either_a_variable_or_a_raw_column():
    from specs.semantics import check_spec

    both = _lab_spec({"algorithm": "derive_stnr", "source": "LLOQ", "ornr": "LBORRES", "orresu": "LBORRESU",
                      "testcd": "LBTESTCD"})
    neither = _lab_spec({"algorithm": "derive_stnr", "orresu": "LBORRESU", "testcd": "LBTESTCD"})
    message = ("sdtm.yaml: domains.LB.variables[6].map: 'derive_stnr' needs either 'ornr' (a variable of the "
               "domain) or 'source' (a raw column), not both")
    assert message in [str(p) for p in check_spec(both)]
    assert message in [str(p) for p in check_spec(neither)]
