"""The shipped spec on the tiny SDTM of conftest.py: hand-worked values, and clear errors."""
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from adam.build import build_adam
from adam.spec import AdamSpec, check_adam_spec, default_spec_path, load_adam_spec
from specs.errors import DataError, SpecError


def day(d: int) -> str:
    """ISO date of study day d of the tiny SDTM (day 1 = 2023-01-10, no day 0)."""
    return (pd.Timestamp("2023-01-10") + pd.Timedelta(days=d - 1 if d > 0 else d)).date().isoformat()


def _rows(df, **where):
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k].eq(v).fillna(False) if v is not None else df[k].isna()
    return df[mask]


def test_adsl_one_row_per_randomized_subject(adam_built):
    adsl = adam_built["ADSL"]
    assert adsl.USUBJID.tolist() == ["S001", "S002"]  # S003 (screen failure) left out
    s1, s2 = adsl.iloc[0], adsl.iloc[1]
    assert s1.TRTSDT == 23020.0  # 2023-01-10 = 23020 days after 1960-01-01
    assert s1.CSDAYS == 60 and s1.CSCMP == 96.8 and s1.ILNINJ == 47 and s1.ILCMP == 100.0
    assert s2.ILNINJ == 5 and s2.ILCMP == 10.6 and (s1.CSPLAN, s1.ILPLAN) == (62, 47)
    assert (s1.PPROTFL, s2.PPROTFL) == ("Y", "N") and set(adsl.ITTFL) == {"Y"} and set(adsl.SAFFL) == {"Y"}
    assert s1.WEIGHTBL == 70.0 and s1.HEIGHTBL == 175.0 and s1.BMIBL == 22.9 and s1.HBA1CBL == 7.2
    assert (s1.EOSSTT, s2.EOSSTT, s2.DCSREAS) == ("COMPLETED", "DISCONTINUED", "WITHDRAWAL BY SUBJECT")
    assert pd.isna(s1.DCSREAS) and s1.AGEGR1 == "<18"


def test_adsl_periods_run_in_then_randomized(adam_built):
    s1, s2 = adam_built["ADSL"].iloc[0], adam_built["ADSL"].iloc[1]
    assert (s1.TRT01P, s1.TRT02P, s2.TRT02P) == ("CICLOSPORIN", "ILT-101", "PLACEBO")
    assert (s1.TRT01A, s1.TRT02A, s2.TRT02A, s2.TRT02AN) == ("CICLOSPORIN", "ILT-101", "PLACEBO", 3)
    # day 1 = 23020; first injection day 63 = 23082; last injection day 361 = 23380; EOS day 719 = 23738
    assert (s1.AP01SDT, s1.AP01EDT, s1.AP02SDT, s1.AP02EDT) == (23020, 23081, 23082, 23738)
    assert (s1.TR01SDT, s1.TR01EDT, s1.TR02SDT, s1.TR02EDT) == (23020, 23081, 23082, 23380)
    assert s1.TRTDURD == 361 and s2.AP02EDT == 23020 + 99  # S002 withdrew on day 100


def test_adsl_randomization_populations_and_end_of_treatment(adam_built):
    s1, s2 = adam_built["ADSL"].iloc[0], adam_built["ADSL"].iloc[1]
    assert s1.RANDDT == 23020 and (s1.RANDFL, s1.FASFL, s2.FASFL) == ("Y", "Y", "Y")
    # no DS end-of-treatment record: completed the study -> completed treatment; S002 left the study
    # on day 100, before the last planned dose (D361) -> treatment discontinued for the same reason
    assert (s1.EOTSTT, s2.EOTSTT, s2.DCTREAS) == ("COMPLETED", "DISCONTINUED", "WITHDRAWAL BY SUBJECT")
    assert pd.isna(s1.DCTREAS)


def test_adsl_end_of_treatment_from_ds_when_present(sdtm):
    ds = sdtm["DS"]
    eot = pd.DataFrame({"STUDYID": "NCT05153070", "USUBJID": ["S001"], "DSCAT": ["DISPOSITION EVENT"],
                        "DSSCAT": ["STUDY TREATMENT"], "DSDECOD": ["ADVERSE EVENT"], "DSSTDTC": ["2023-06-01"],
                        "DSSEQ": [3.0]})
    sdtm["DS"] = pd.concat([ds.assign(DSSCAT=None), eot], ignore_index=True)
    s1 = build_adam(sdtm)["ADSL"].iloc[0]
    assert (s1.EOTSTT, s1.DCTREAS, s1.EOSSTT) == ("DISCONTINUED", "ADVERSE EVENT", "COMPLETED")
    assert s1.EOSDT == 23738  # the end-of-treatment record is not the end of study


def test_adsl_compliance_counts_the_doses_planned_up_to_the_cut(sdtm):
    # a cut on day 100 (2023-04-19): S001 took 60 of 62 ciclosporin days and 9 of the 9 injections
    # planned by then (63-67, 74, 81, 88, 95): per-protocol; both are still on study and on treatment
    cut = day(100)
    for name in ("EX", "LB", "CP", "VS", "CM"):
        date = {"EX": "EXSTDTC", "LB": "LBDTC", "CP": "CPDTC", "VS": "VSDTC", "CM": "CMSTDTC"}[name]
        sdtm[name] = sdtm[name][sdtm[name][date] <= cut]
    sdtm["DS"] = sdtm["DS"][sdtm["DS"].DSSTDTC < cut]
    sdtm["DCUT"] = pd.DataFrame({"USUBJID": ["S001", "S002"], "DCUTDTC": cut, "DCUTDESC": "DSMB"})
    adsl = build_adam(sdtm)["ADSL"]
    s1, s2 = adsl.iloc[0], adsl.iloc[1]
    assert (s1.CSPLAN, s1.ILPLAN, s1.ILNINJ, s1.ILCMP, s1.PPROTFL) == (62, 9, 9, 100.0, "Y")
    assert (s2.ILNINJ, s2.ILCMP, s2.PPROTFL) == (5, 55.6, "N")
    assert set(adsl.EOSSTT) == {"ONGOING"} and set(adsl.EOTSTT) == {"ONGOING"}
    assert adsl.AP02EDT.isna().all() and set(adsl.DCUTDESC) == {"DSMB"}


def test_an_interval_going_on_at_the_cut_counts_up_to_the_cut_date(sdtm):
    # a cut on day 40 (2023-02-18): S001's second ciclosporin interval (D34-D62) and S002's only one
    # (D1-D62) are going on, as the cut writes them in SDTM: no EXENDTC yet, EXENRTPT = ONGOING, EXENTPT = the cut
    cut = day(40)
    ex = sdtm["EX"][sdtm["EX"].EXSTDTC <= cut].copy()
    going_on = ex.EXENDTC > cut
    ex["EXENRTPT"] = pd.Series("ONGOING", index=ex.index).where(going_on)
    ex["EXENTPT"] = pd.Series(cut, index=ex.index).where(going_on)
    ex["EXENDTC"] = ex.EXENDTC.mask(going_on, "")
    assert going_on.sum() == 2
    for name, date in (("LB", "LBDTC"), ("CP", "CPDTC"), ("VS", "VSDTC"), ("CM", "CMSTDTC")):
        sdtm[name] = sdtm[name][sdtm[name][date] <= cut]
    sdtm["DS"] = sdtm["DS"][sdtm["DS"].DSSTDTC < cut]
    sdtm["DCUT"] = pd.DataFrame({"USUBJID": ["S001", "S002"], "DCUTDTC": cut, "DCUTDESC": "DSMB"})
    adam = build_adam({**sdtm, "EX": ex})
    s1, s2 = adam["ADSL"].iloc[0], adam["ADSL"].iloc[1]
    # S001: D1-D31 (31 days) + D34-D40 (7 days) of the 40 planned by the cut; S002: D1-D40
    assert (s1.CSDAYS, s1.CSPLAN, s1.CSCMP, s2.CSDAYS, s2.CSPLAN, s2.CSCMP) == (38, 40, 95.0, 40, 40, 100.0)
    assert (s1.TRTEDT, s1.TR01EDT, s1.TRTDURD, s2.TR01EDT) == (23059, 23059, 40, 23059)  # day 40 = 23020 + 39
    adex = adam["ADEX"].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    assert (adex["S001", "CSDURD"], adex["S001", "CSNDOSE"], adex["S001", "CSCMPL"]) == (40, 38, 95.0)
    assert (adex["S001", "CSCUMD"], adex["S002", "CSCUMD"]) == (266, 280)  # 7 mg/kg/day x 38 and x 40 days
    # the same cut written the other way (the interval truncated at the cut date) gives the same analysis
    truncated = ex.drop(columns=["EXENRTPT", "EXENTPT"]).assign(EXENDTC=ex.EXENDTC.mask(going_on, cut))
    again = build_adam({**sdtm, "EX": truncated})["ADSL"]
    columns = ["CSDAYS", "CSPLAN", "CSCMP", "TRTEDT", "TR01EDT", "PPROTFL"]
    pd.testing.assert_frame_equal(again[columns], adam["ADSL"][columns])


def test_an_open_interval_without_a_cut_date_is_not_extended(sdtm):
    # EXENRTPT = ONGOING but no cut for the subject: nothing to count up to, the interval ends where it starts
    ex = sdtm["EX"].copy()
    last = ex.index[(ex.USUBJID == "S002") & (ex.EXTRT == "CICLOSPORIN")]
    ex["EXENRTPT"] = pd.Series("ONGOING", index=ex.index).where(ex.index.isin(last))
    ex.loc[last, "EXENDTC"] = ""
    s2 = build_adam({**sdtm, "EX": ex})["ADSL"].iloc[1]
    assert (s2.CSDAYS, s2.TR01EDT) == (1, 23020)


def test_adlb_auc_rows_and_traceability(adam_built, sdtm):
    adlb = adam_built["ADLB"]
    auc = _rows(adlb, USUBJID="S001", PARAMCD="CPAUC", AVISIT="MONTH 6").iloc[0]
    mean = _rows(adlb, USUBJID="S001", PARAMCD="CPAUCM", AVISIT="MONTH 6").iloc[0]
    log = _rows(adlb, USUBJID="S001", PARAMCD="LCPAUCM", AVISIT="MONTH 6").iloc[0]
    assert auc.AVAL == pytest.approx(70.5) and mean.AVAL == pytest.approx(0.5875)
    assert log.AVAL == pytest.approx(math.log(1.5875)) and log.SRCSEQL == auc.SRCSEQL  # ln(0.5875 + 1)
    # baseline MMTT (D1): 15*(0.30+0.50)/2 + 15*(0.50+0.70)/2 + 30*(0.70+0.80)/2 + 30*(0.80+0.70)/2
    #                     + 30*(0.70+0.60)/2 = 6 + 9 + 22.5 + 22.5 + 19.5 = 79.5
    assert auc.BASE == pytest.approx(79.5) and auc.CHG == pytest.approx(-9.0)
    assert auc.PCHG == -11.32  # -9 / 79.5 = -11.3207..., rounded to 2 decimals
    assert log.CHG == pytest.approx(math.log(1.5875) - math.log(1.6625))  # AUC mean at D1: 79.5 / 120
    # S002 D1: the 0-min result "<0.02" counts as 0.01: 3.075 + 7.5 + 19.5 + 20.25 + 18 = 68.325
    assert _rows(adlb, USUBJID="S002", PARAMCD="CPAUC", AVISIT="DAY 1").AVAL.item() == pytest.approx(68.325)
    # S002 M6: the 30-min sample was not done: AUC missing (rule a)
    assert math.isnan(_rows(adlb, USUBJID="S002", PARAMCD="CPAUC", AVISIT="MONTH 6").AVAL.item())
    # every AUC row traces back to its LB records
    lb = sdtm["LB"]
    for row in adlb[adlb.PARAMCD.isin(["CPAUC", "CPAUCM", "LCPAUCM"])].itertuples():
        seqs = [float(s) for s in row.SRCSEQL.split()]
        src = lb[lb.USUBJID.eq(row.USUBJID) & lb.LBSEQ.isin(seqs)]
        assert len(src) == len(seqs) and set(src.LBTESTCD) == {"CPEPTIDE"}
        assert set(src.LBTPTNUM) <= {0, 15, 30, 60, 90, 120} and row.SRCDOM == "LB" and pd.isna(row.DTYPE)
    # single-record rows point to their LB/CP row
    hb = _rows(adlb, USUBJID="S001", PARAMCD="HBA1C", ADY=96.0).iloc[0]
    assert lb.loc[lb.USUBJID.eq("S001") & lb.LBSEQ.eq(hb.SRCSEQ), "LBSTRESN"].item() == hb.AVAL
    tregs = _rows(adlb, PARAMCD="TLHRTLH")
    assert set(tregs.SRCDOM) == {"CP"} and set(tregs.SRCVAR) == {"CPSTRESN"} and tregs.SRCSEQ.notna().all()


def test_adlb_below_lloq_imputed_visibly(adam_built, sdtm):
    adlb = adam_built["ADLB"]
    blq = adlb[adlb.DTYPE.eq("HALFLLOQ").fillna(False)]
    assert len(blq) == 1
    row = blq.iloc[0]
    assert (row.USUBJID, row.PARAMCD, row.ATPTN, row.AVAL, row.AVALC) == ("S002", "CPEPMMTT", 0, 0.01, "<0.02")
    lb = sdtm["LB"]
    source = lb[lb.USUBJID.eq("S002") & lb.LBSEQ.eq(row.SRCSEQ)].iloc[0]
    assert source.LBSTRESC == "<0.02" and pd.isna(source.LBSTRESN)


def test_adlb_fasting_and_meal_stimulated_samples_are_different_parameters(sdtm):
    # a fasting C-peptide at screening (no time point) and reference ranges on every C-peptide record
    lb = sdtm["LB"]
    mmtt = lb.LBTESTCD.eq("CPEPTIDE")
    lb.loc[mmtt, ["LBSTNRLO", "LBSTNRHI"]] = [0.26, 1.03]
    extra = lb[lb.USUBJID.eq("S001") & lb.LBTESTCD.eq("HBA1C")].head(1).assign(
        LBTESTCD="CPEPTIDE", LBSTRESN=0.31, LBSTRESC="0.31", LBSTNRLO=0.26, LBSTNRHI=1.03, LBSEQ=99.0)
    sdtm["LB"] = pd.concat([lb.assign(LBFAST=lb.LBTPTNUM.le(0).map({True: "Y", False: "N"})),
                            extra.assign(LBFAST="Y")], ignore_index=True)
    adlb = build_adam(sdtm)["ADLB"]
    fasting = _rows(adlb, USUBJID="S001", PARAMCD="CPEPFAST").iloc[0]
    assert (fasting.PARAM, fasting.AVAL, fasting.ANRIND, fasting.ABLFL) == ("C-Peptide, Fasting (nmol/L)", 0.31,
                                                                            "NORMAL", "Y")
    profile = _rows(adlb, PARAMCD="CPEPMMTT")
    assert profile.ATPT.notna().all() and profile.ATPTN.notna().all()
    before_meal = profile.ATPTN <= 0
    # S001 M6 -10 min: 0.18 < 0.26 is LOW against the fasting range; stimulated samples are not compared
    assert profile.ANRLO[before_meal].eq(0.26).all() and profile.ANRLO[~before_meal].isna().all()
    assert profile.ANRIND[~before_meal].isna().all()
    assert _rows(profile, USUBJID="S001", AVISIT="MONTH 6", ATPTN=-10.0).ANRIND.item() == "LOW"
    # S002's 0-min "<0.02" becomes 0.01 (HALFLLOQ), below the fasting range
    assert _rows(profile, USUBJID="S002", AVISIT="DAY 1", ATPTN=0.0).ANRIND.item() == "LOW"
    # one baseline per parameter and time point
    flagged = adlb[adlb.ABLFL.eq("Y").fillna(False)]
    assert not flagged.duplicated(["USUBJID", "PARAMCD", "BASETYPE", "ATPTN"]).any()


def test_adlb_day_1_window_is_day_1_only(sdtm):
    # an unscheduled HbA1c on day 20 is on ciclosporin: not a DAY 1 (baseline visit) value
    lb = sdtm["LB"]
    extra = lb[lb.USUBJID.eq("S001") & lb.LBTESTCD.eq("HBA1C")].head(1).assign(
        LBDTC=day(20), VISITNUM=2.1, VISIT="UNSCHEDULED 2.1", LBSEQ=98.0)
    sdtm["LB"] = pd.concat([lb, extra], ignore_index=True)
    hba1c = _rows(build_adam(sdtm)["ADLB"], USUBJID="S001", PARAMCD="HBA1C")
    assert pd.isna(_rows(hba1c, ADY=20.0).AVISIT.item())
    assert _rows(hba1c, ADY=1.0).AVISIT.item() == "DAY 1"


def test_adlb_treg_d67_vs_d63(adam_built):
    adlb = adam_built["ADLB"]
    d67 = _rows(adlb, USUBJID="S001", PARAMCD="TLHRTLH", AVISIT="DAY 67", BASETYPE="POST-CICLOSPORIN D63").iloc[0]
    assert (d67.BASE, d67.CHG, d67.PCHG) == (4.0, 2.0, 50.0)
    pre = _rows(adlb, USUBJID="S001", PARAMCD="TLHRTLH", AVISIT="DAY 67", BASETYPE="PRE-TREATMENT").iloc[0]
    assert (pre.BASE, pre.CHG) == (5.0, 1.0)
    tregs = _rows(adlb, PARAMCD="TLHRTLH")
    assert tregs.BASETYPE.notna().all()
    # CHG/PCHG empty on baseline and pre-baseline records
    early = tregs[(tregs.BASETYPE == "POST-CICLOSPORIN D63") & (tregs.AVISITN <= 63)]
    assert len(early) == 4 and early[["CHG", "PCHG"]].isna().all().all()
    assert adlb.loc[adlb.ABLFL.eq("Y").fillna(False), ["CHG", "PCHG"]].isna().all().all()
    assert _rows(adlb, USUBJID="S001", PARAMCD="HBA1C", AVISIT="SCREENING").CHG.isna().all()


def test_adlb_two_records_in_one_window(adam_built):
    m3 = _rows(adam_built["ADLB"], USUBJID="S001", PARAMCD="HBA1C", AVISIT="MONTH 3")
    assert m3.ADY.tolist() == [80.0, 96.0]
    assert m3.ANL01FL.tolist()[1] == "Y" and pd.isna(m3.ANL01FL.iloc[0])  # equal distance: the later


def test_adlb_ranges_and_no_screen_failures(adam_built):
    adlb = adam_built["ADLB"]
    alt = _rows(adlb, USUBJID="S001", PARAMCD="ALT")
    assert alt.ANRIND.tolist() == ["HIGH", "NORMAL"] and alt.BNRIND.tolist() == ["HIGH", "HIGH"]
    assert set(adlb.USUBJID) == {"S001", "S002"} and adlb.PARAMCD.str.len().max() <= 8


def test_adeff_idaa1c(adam_built):
    adeff = adam_built["ADEFF"]
    ins = _rows(adeff, USUBJID="S001", PARAMCD="INSDOSE", AVISIT="MONTH 3").iloc[0]
    assert ins.AVAL == pytest.approx(0.40) and ins.PARAMTYP == "DERIVED"  # mean 28.8 U/day / 72 kg at M3
    ida = _rows(adeff, USUBJID="S001", PARAMCD="IDAA1C", AVISIT="MONTH 3").iloc[0]
    assert ida.AVAL == 8.4 and ida.CRIT1FL == "Y" and ida.CRIT1 == "IDAA1c <= 9 (partial remission)"
    assert ida.BASE == pytest.approx(9.2) and ida.CHG == pytest.approx(-0.8)  # 7.2 + 4 x 35/70
    assert _rows(adeff, USUBJID="S002", PARAMCD="IDAA1C", AVISIT="MONTH 3").CRIT1FL.item() == "N"  # 7.4 + 2.0


def test_adeff_idaa1c_derives_again_from_its_components(adam_built, sdtm):
    adeff = adam_built["ADEFF"]
    visit = adeff[adeff.AVISITN.notna()].pivot_table(index=["USUBJID", "AVISITN"], columns="PARAMCD", values="AVAL")
    done = visit.dropna(subset=["IDAA1C"])
    assert len(done) == 4  # S001 and S002 at DAY 1 and MONTH 3
    again = (done.HBA1C + 4 * (done.INSTOT / done.WEIGHT).round(4)).round(4)
    assert again.tolist() == done.IDAA1C.tolist()
    # S002's M3 mean is of 2 diary days (20 and 30 U): 25 U/day
    assert visit.loc[("S002", 88.0), ["INSTOT", "INSDAYS"]].tolist() == [25.0, 2.0]
    # each component traces to its SDTM records
    cm, vs, lb = sdtm["CM"], sdtm["VS"], sdtm["LB"]
    tot = _rows(adeff, USUBJID="S002", PARAMCD="INSTOT", AVISITN=88.0).iloc[0]
    days = cm[cm.USUBJID.eq("S002") & cm.CMSEQ.isin([float(x) for x in tot.SRCSEQL.split()])]
    assert (tot.SRCDOM, tot.SRCVAR, days.CMDOSTOT.mean()) == ("CM", "CMDOSTOT", tot.AVAL)
    wt = _rows(adeff, USUBJID="S002", PARAMCD="WEIGHT", AVISITN=88.0).iloc[0]
    assert (wt.SRCDOM, vs.loc[vs.USUBJID.eq("S002") & vs.VSSEQ.eq(wt.SRCSEQ), "VSSTRESN"].item()) == ("VS", wt.AVAL)
    hb = _rows(adeff, USUBJID="S002", PARAMCD="HBA1C", AVISITN=88.0).iloc[0]
    assert (hb.SRCDOM, lb.loc[lb.USUBJID.eq("S002") & lb.LBSEQ.eq(hb.SRCSEQ), "LBSTRESN"].item()) == ("LB", hb.AVAL)
    assert pd.isna(_rows(adeff, USUBJID="S002", PARAMCD="INSDAYS").ABLFL).all()


def test_dates_numeric(adam_built):
    for name, df in adam_built.items():
        for col in [c for c in df.columns if c.endswith("DT")]:
            assert df[col].dtype == "float64", (name, col)


def test_missing_sdtm_variable_named(sdtm):
    sdtm["LB"] = sdtm["LB"].drop(columns="LBSTNRLO")
    with pytest.raises(DataError) as err:
        build_adam(sdtm)
    msg = str(err.value)
    assert "datasets.LBA.steps[5] derive_vars_copy" in msg and "LBA (from LB): variable 'LBSTNRLO'" in msg


def test_missing_sdtm_dataset_named(sdtm):
    del sdtm["CP"]
    with pytest.raises(DataError, match=r"datasets.CPA.source: dataset 'CP' not found"):
        build_adam(sdtm)


def _spec_data():
    with open(default_spec_path(), encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_wrong_spec_reports_every_error_with_path(tmp_path):
    data = _spec_data()
    steps = data["datasets"]["ADLB"]["steps"]
    steps[3]["args"]["by_varz"] = ["PARAMX"]
    steps[4]["step"] = "derive_var_windows"
    steps[6]["args"]["where"] = "AVAL = 1"
    data["datasets"]["ADSL"]["variables"][0]["type"] = "Text"
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_adam_spec(path)
    msg = str(err.value)
    assert "datasets.ADSL.variables[0].type: 'Text' is not one of ['Char', 'Num']" in msg
    data["datasets"]["ADSL"]["variables"][0]["type"] = "Char"
    problems = check_adam_spec(data)
    assert any(p.startswith("datasets.ADLB.steps[3].args.by_varz: unknown argument of derive_vars_dy") for p in problems)
    assert any(p.startswith("datasets.ADLB.steps[4].step: unknown step 'derive_var_windows' in dataset ADLB")
               for p in problems)
    assert any(p.startswith("datasets.ADLB.steps[6].args.where:") and "==" in p for p in problems)


def test_spec_missing_argument_and_forward_reference():
    data = _spec_data()
    del data["datasets"]["ADLB"]["steps"][3]["args"]["reference_date"]
    data["datasets"]["ADSL"]["steps"][5]["args"]["dataset_add"] = "ADLB"
    problems = check_adam_spec(data)
    assert "datasets.ADLB.steps[3].args: derive_vars_dy in dataset ADLB needs argument 'reference_date'" in problems
    assert any("datasets.ADSL.steps[5].args.dataset_add: 'ADLB' is built later" in p for p in problems)


def test_step_variable_error_names_step(sdtm):
    data = _spec_data()
    steps = data["datasets"]["ADLB"]["steps"]
    i = next(i for i, s in enumerate(steps) if s["step"] == "derive_var_base")
    steps[i]["args"]["by_vars"] = ["USUBJID", "PARAMX"]
    with pytest.raises(DataError, match=rf"datasets.ADLB.steps\[{i}\] derive_var_base: ADLB \(from LBA, CPA\): "
                                        "variable 'PARAMX'"):
        build_adam(sdtm, AdamSpec("adam.yaml", data))


def test_xpt_variables_from_spec():
    pytest.importorskip("define.xpt")
    spec = load_adam_spec()
    xv = {v.name: v for v in spec.xpt_variables("ADSL")}
    assert xv["TRTSDT"].format == "DATE9." and xv["TRTSDT"].type == "Num"
    assert xv["ITTFL"].length == 1 and xv["USUBJID"].length is None


def test_write_xpt_round_trip(adam_built, tmp_path):
    pytest.importorskip("define.xpt")
    pyreadstat = pytest.importorskip("pyreadstat")
    from adam.build import write_adam_xpt

    paths = write_adam_xpt(adam_built, tmp_path)
    assert [p.name for p in paths] == ["adsl.xpt", "adlb.xpt", "adae.xpt", "adex.xpt", "adeff.xpt"]
    df, meta = pyreadstat.read_xport(str(tmp_path / "adsl.xpt"))
    assert meta.table_name == "ADSL" and meta.original_variable_types["TRTSDT"].startswith("DATE9")
    assert len(df) == 2 and list(df.columns) == [v["name"] for v in load_adam_spec().variables("ADSL")]


def test_adae_treatment_emergence_periods_and_relatedness(adam_built):
    adae = adam_built["ADAE"].set_index(["USUBJID", "AESEQ"])
    assert "S003" not in adae.index.get_level_values(0)  # screen failure
    flags = lambda var: [None if pd.isna(v) else v for v in adae.loc["S001", var]]  # noqa: E731
    # before treatment, started before, partial start in the first dose month, first injection day,
    # within 30 days of the last dose, after that
    assert flags("TRTEMFL") == [None, None, "Y", "Y", "Y", None]
    assert flags("APERIOD") == [None, None, 1, 2, 2, 2] and flags("TRTP")[2:4] == ["CICLOSPORIN", "ILT-101"]
    assert flags("AOCCFL") == [None, None, "Y", None, None, None]
    assert flags("AOCCPFL") == [None, None, "Y", "Y", None, None]  # the second headache is not the first
    assert flags("AOCCIFL") == [None, None, None, None, "Y", None]  # the severe one
    s1_3, s1_4 = adae.loc[("S001", 3.0)], adae.loc[("S001", 4.0)]
    assert (s1_3.AERELCSA, s1_3.RELCSAFL, s1_3.AERELIL2, s1_3.RELIL2FL) == ("POSSIBLY RELATED", "Y", "NOT RELATED", "N")
    assert (s1_4.RELCSAFL, s1_4.RELIL2FL, s1_4.AESER, s1_4.AESHOSP, s1_4.AREL) == ("N", "Y", "Y", "Y", "RELATED")
    assert pd.isna(adae.loc[("S001", 5.0), "RELCSAFL"])  # not collected


def test_adae_partial_dates(adam_built):
    adae = adam_built["ADAE"].set_index(["USUBJID", "AESEQ"])
    from adam.derive import sas_date

    # "2023-01" in the month of the first dose (2023-01-10): the first dose day, not the 1st
    s1_3 = adae.loc[("S001", 3.0)]
    assert (s1_3.ASTDT, s1_3.ASTDTF, s1_3.ASTDY, s1_3.ADURN, s1_3.ADURU) == (23020, "D", 1, 11, "DAYS")
    # end "2024-02": last day of a leap February
    assert (adae.loc[("S001", 5.0), "AENDT"], adae.loc[("S001", 5.0), "AENDTF"]) == (sas_date(["2024-02-29"])[0], "D")
    # S002: start "2023" -> the first dose day (month imputed); end "2023-04" stops at EOS (2023-04-19)
    s2 = adae.loc[("S002", 1.0)]
    assert (s2.ASTDT, s2.ASTDTF, s2.AENDT, s2.AENDTF, s2.TRTEMFL) == (23020, "M", 23119, "D", "Y")


def test_adex_exposure_and_compliance_per_drug(adam_built):
    adex = adam_built["ADEX"].set_index(["USUBJID", "PARAMCD"])
    aval = adex["AVAL"]
    # S001: ciclosporin D1-D31 and D34-D62 at 7 mg/kg/day: 62 days on treatment, 60 dosed, 420 mg/kg
    assert (aval["S001", "CSDURD"], aval["S001", "CSNDOSE"], aval["S001", "CSPDOSE"]) == (62, 60, 62)
    assert (aval["S001", "CSCMPL"], aval["S001", "CSCUMD"]) == (96.8, 420)
    # S001: 47 ILT-101 injections of 1 MIU from D63 to D361; S002: 5 placebo injections (0 IU)
    assert (aval["S001", "ILNDOSE"], aval["S001", "ILCUMD"], aval["S001", "ILDURD"]) == (47, 47, 299)
    assert (aval["S002", "ILNDOSE"], aval["S002", "ILPDOSE"], aval["S002", "ILCMPL"], aval["S002", "ILCUMD"]) == \
        (5, 47, 10.6, 0)
    il = adex.loc[("S002", "ILCMPL")]
    assert (il.APERIOD, il.TRTP, il.TRTA, il.PARCAT1, il.ASTDY, il.AENDY) == (2, "PLACEBO", "PLACEBO",
                                                                              "ILT-101/PLACEBO", 63, 67)
    assert adex.loc[("S001", "CSDURD"), "TRTA"] == "CICLOSPORIN"
    assert adex.groupby("PARAMCD")["PARAM"].nunique().eq(1).all() and len(adex) == 20


def test_read_sdtm_folder_reads_blank_text_as_missing(tmp_path):
    from adam.build import read_sdtm_folder
    from define.xpt import XptVariable, write_xpt

    frame = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "AETERM": ["Headache", "", "Rash"],
                          "AESEV": ["MILD", "MILD", "SEVERE"], "AESEQ": [1.0, 2.0, None]})
    write_xpt(frame, tmp_path / "ae.xpt", dataset_name="AE", dataset_label="Adverse Events",
              variables=[XptVariable("USUBJID", "Subject", "Char", 8), XptVariable("AETERM", "Term", "Char", 20),
                         XptVariable("AESEV", "Severity", "Char", 8), XptVariable("AESEQ", "Seq", "Num", 8)])
    ae = read_sdtm_folder(tmp_path)["AE"]
    assert ae.AETERM.tolist() == ["Headache", pd.NA, "Rash"] and ae.AETERM.dtype == "string"
    assert ae.AESEV.tolist() == ["MILD", "MILD", "SEVERE"] and ae.AESEV.dtype == "string"
    assert ae.AESEQ.isna().tolist() == [False, False, True]


def test_release_lets_each_dataset_go_after_its_last_reader(sdtm, adam_built):
    from adam.build import _last_reader, build_adam

    spec = load_adam_spec()
    last = _last_reader(spec)
    order = list(spec.datasets)
    assert order[last["LB"]] == "LBA" and order[last["LBA"]] == "HBA" and order[last["ADSL"]] == "ADEFF"
    given = dict(sdtm)
    released = build_adam(given, spec, release=True)
    assert given == {}  # every SDTM dataset given up once read for the last time (or never read)
    for name, frame in adam_built.items():
        pd.testing.assert_frame_equal(released[name], frame)


def _keyed_spec(keys):
    return {"keys": keys, "variables": [{"name": "K", "label": "K", "type": "Char"},
                                        {"name": "N", "label": "N", "type": "Num"}]}


def test_finalize_sorts_by_keys_text_then_number_missing_first():
    from adam.build import _finalize

    df = pd.DataFrame({"K": pd.Series(["b", None, " a", "a", "b"], dtype="str"), "N": [2.0, 1.0, None, 5.0, 1.0]})
    out = _finalize(df, "X", _keyed_spec(["K", "N"]), "adam.yaml")
    assert out.K.isna().tolist() == [True, False, False, False, False] and out.K.tolist()[1:] == ["a", "a", "b", "b"]
    assert out.N.isna().tolist() == [False, True, False, False, False] and out.N.tolist()[2:] == [5.0, 1.0, 2.0]


def test_finalize_refuses_keys_shared_by_records_equal_as_written():
    from adam.build import _finalize

    df = pd.DataFrame({"K": pd.Series(["a ", "b", "a", "a"], dtype="str"), "N": [1.0, 1.0, 2.0, 1.0]})
    with pytest.raises(DataError) as err:
        _finalize(df, "X", _keyed_spec(["K", "N"]), "adam.yaml")
    assert str(err.value).endswith("adam.yaml: datasets.X.keys: ['K', 'N'] do not identify one record of X: 2 records "
                                   "share a key, e.g. [{'K': 'a', 'N': 1.0}, {'K': 'a', 'N': 1.0}]")
    missing = pd.DataFrame({"K": pd.Series([None, None], dtype="str"), "N": [None, None]})
    with pytest.raises(DataError, match="2 records share a key"):
        _finalize(missing, "X", _keyed_spec(["K", "N"]), "adam.yaml")


def test_key_codes_order_and_equality_survive_renumbering():
    from adam.build import _key_codes

    # 40 number keys of 3 distinct values each (4 ranks with missing): 4^40 does not fit 64 bits, so
    # the codes are renumbered on the way; records 1 and 3 are equal on every key, 2 lies between
    keys = [f"K{i}" for i in range(40)]
    columns = {k: np.array([3.0, 1.0, 2.0, 1.0]) for k in keys}
    code = _key_codes(keys, columns, {}, 4)
    assert np.argsort(code, kind="stable").tolist() == [1, 3, 2, 0]
    assert code[1] == code[3] and len(set(code.tolist())) == 3


def test_key_codes_text_ranks_then_numbers_missing_first():
    from adam.build import _key_codes

    # K: codes into texts ["b", None, "a"], -1 missing; N: a number, NaN missing
    texts = {"K": np.array(["b", None, "a"], dtype=object)}
    columns = {"K": np.array([0, -1, 2, 0, 1]), "N": np.array([2.0, 1.0, 1.0, np.nan, 7.0])}
    code = _key_codes(["K", "N"], columns, texts, 5)
    # missing K first (records 1 and 4, then by N: 1.0 before 7.0), then "a", then "b" (N missing first)
    assert np.argsort(code, kind="stable").tolist() == [1, 4, 2, 3, 0]
