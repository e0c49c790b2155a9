"""Hand-worked values of the demo study's SDTM (raw records quoted in each test)."""
import pandas as pd


def one(frame: pd.DataFrame) -> dict:
    assert len(frame) == 1, frame
    return frame.iloc[0].to_dict()


def test_dm_row_of_subject_01_001(demo_datasets):
    # dm.csv:   01-001,01,SCR,DM,1,17/05/1999,Female,Not Hispanic or Latino,White
    # ic.csv:   consent 10/10/2022; rand.csv: R001 -> randomization.csv TRTCODE B (placebo)
    # ex_csa.csv first interval 18/10/2022-15/11/2022; ex_il2.csv last injection 15/10/2023 09:05
    # ds.csv / sv.csv: last contact 04/10/2024
    row = one(demo_datasets["DM"].query("USUBJID == 'NCT05153070-01-001'"))
    assert row["SUBJID"] == "01-001" and row["SITEID"] == "01" and row["STUDYID"] == "NCT05153070"
    assert (row["RFSTDTC"], row["RFXSTDTC"], row["RFICDTC"]) == ("2022-10-18", "2022-10-18", "2022-10-10")
    assert (row["RFENDTC"], row["RFXENDTC"], row["RFPENDTC"]) == ("2023-10-15T09:05", "2023-10-15T09:05", "2024-10-04")
    assert (row["BRTHDTC"], row["AGE"], row["AGEU"]) == ("1999-05-17", 23, "YEARS")  # 23 on 2022-10-10
    assert (row["SEX"], row["RACE"], row["ETHNIC"]) == ("F", "WHITE", "NOT HISPANIC OR LATINO")
    assert (row["ARMCD"], row["ARM"]) == ("CSA-PBO", "Ciclosporin then placebo")
    assert (row["ACTARMCD"], row["ACTARM"], row["ARMNRS"]) == ("CSA-PBO", "Ciclosporin then placebo", "")
    assert (row["COUNTRY"], row["DMDTC"], row["DMDY"]) == ("FRA", "2022-10-10", -8)  # 8 days before day 1


def test_screen_failures_have_no_arm_and_a_reason(demo_datasets):
    dm = demo_datasets["DM"]
    failures = dm[dm["ARMNRS"] == "SCREEN FAILURE"]
    assert len(failures) == 2 and (failures["ARMCD"] == "").all() and (failures["ACTARMCD"] == "").all()
    assert (failures["RFSTDTC"] == "").all()


def test_study_days_around_day_one(demo_datasets):
    # 01-001: screening labs 2022-10-10 (day -8), first dose 2022-10-18 (day 1), D63 visit 2022-12-19 (day 63)
    lb = demo_datasets["LB"].query("USUBJID == 'NCT05153070-01-001' and LBTESTCD == 'HBA1C'")
    days = dict(zip(lb["VISIT"], lb["LBDY"]))
    assert days["SCREENING"] == -8 and days["DAY 1"] == 1 and days["DAY 63"] == 63
    assert (demo_datasets["LB"]["LBDY"] != 0).all()


def test_epoch_of_a_placebo_injection(demo_datasets):
    # SE of 01-001: CSA 2022-10-18 -> 2022-12-19, PBO 2022-12-19 -> 2023-10-16, FU from 2023-10-16
    ex = demo_datasets["EX"].query("USUBJID == 'NCT05153070-01-001'")
    first_placebo = one(ex[ex["EXSTDTC"].str.startswith("2022-12-19")])
    assert (first_placebo["EXTRT"], first_placebo["EPOCH"], first_placebo["EXSTDY"]) == \
        ("PLACEBO", "BLINDED TREATMENT", 63)
    last_csa = ex[ex["EXTRT"] == "CICLOSPORIN"].iloc[-1]
    assert last_csa["EPOCH"] == "OPEN LABEL TREATMENT" and last_csa["EXENDY"] == 62


def test_day_63_samples_drawn_before_the_first_injection_are_in_the_ciclosporin_epoch(demo_datasets):
    # 01-001: first placebo injection 2022-12-19T09:55 (ex_il2.csv), Day-63 samples drawn at 09:00 that day
    se = demo_datasets["SE"].query("USUBJID == 'NCT05153070-01-001'")
    assert list(se["SESTDTC"]) == ["2022-10-10", "2022-10-18", "2022-12-19T09:55", "2023-10-16"]
    assert list(se["SEENDTC"]) == ["2022-10-18", "2022-12-19T09:55", "2023-10-16", "2024-10-04"]
    for name in ("LB", "CP", "VS"):
        day63 = demo_datasets[name].query("VISIT == 'DAY 63'")
        assert set(day63["EPOCH"]) == {"OPEN LABEL TREATMENT"}, name
        assert set(demo_datasets[name].query("VISIT == 'DAY 67'")["EPOCH"]) == {"BLINDED TREATMENT"}, name
    lb = demo_datasets["LB"].query("USUBJID == 'NCT05153070-01-001' and VISIT == 'DAY 63'")
    assert set(lb["LBDTC"]) == {"2022-12-19T09:00"}
    # the AE with a partial start date (2023-06) lies entirely in the subject's blinded element
    ae = demo_datasets["AE"]
    assert set(ae.loc[ae["AESTDTC"] == "2023-06", "EPOCH"]) == {"BLINDED TREATMENT"}


def test_c_peptide_reported_in_ng_per_ml_is_converted(demo_datasets):
    # central_lab.csv: 01-001 MONTH 24, 15 min: RESULT 1.21, UNIT ng/mL -> ORRESU ug/L (CT synonym);
    # 1.21 x 0.331 = 0.40051 -> 0.401 nmol/L
    lb = demo_datasets["LB"]
    row = one(lb.query("USUBJID == 'NCT05153070-01-001' and LBTESTCD == 'CPEPTIDE' and VISIT == 'MONTH 24' "
                       "and LBTPTNUM == 15"))
    assert (row["LBORRES"], row["LBORRESU"]) == ("1.21", "ug/L")
    assert (row["LBSTRESC"], row["LBSTRESN"], row["LBSTRESU"]) == ("0.401", 0.401, "nmol/L")


def test_below_quantification_result(demo_datasets):
    lb = demo_datasets["LB"]
    below = lb[lb["LBORRES"] == "<0.02"]
    assert len(below) >= 1
    assert (below["LBSTRESC"] == "<0.02").all() and below["LBSTRESN"].isna().all()
    assert (below["LBSTRESU"] == "nmol/L").all()


def test_partial_ae_start_date(demo_datasets):
    # ae.csv: 01-002 'Maux de tête' started UN/UN/2023, ended 28/10/2023
    row = one(demo_datasets["AE"].query("USUBJID == 'NCT05153070-01-002' and AESTDTC == '2023'"))
    assert row["AETERM"] == "Maux de tête" and row["AEENDTC"] == "2023-10-28"
    assert pd.isna(row["AESTDY"]) and row["EPOCH"] == ""  # no study day nor epoch for a partial date


def test_suppae_relationship_to_each_drug(demo_datasets):
    # ae.csv: 01-002 headache: related to ciclosporin 'Not related', to ILT-101/placebo 'Unlikely related'
    ae = demo_datasets["AE"].query("USUBJID == 'NCT05153070-01-002' and AESTDTC == '2023'")
    seq = f"{int(ae['AESEQ'].iloc[0])}"
    supp = demo_datasets["SUPPAE"].query(f"USUBJID == 'NCT05153070-01-002' and IDVARVAL == '{seq}'")
    assert dict(zip(supp["QNAM"], supp["QVAL"])) == {"AERELCSA": "NOT RELATED", "AERELIL2": "UNLIKELY RELATED"}
    assert set(supp["IDVAR"]) == {"AESEQ"} and set(supp["QORIG"]) == {"CRF"}
    assert ae["AEREL"].iloc[0] == "NOT RELATED"
    assert set(supp["QLABEL"]) == {"Relationship to Ciclosporin", "Relationship to ILT-101/Placebo"}


def test_missed_mmtt_time_point_is_not_done(demo_datasets):
    lb = demo_datasets["LB"]
    missed = lb[lb["LBSTAT"] == "NOT DONE"]
    assert len(missed) >= 1
    assert (missed["LBORRES"] == "").all() and (missed["LBREASND"] == "Sample not collected").all()


def test_tregs_in_cp(demo_datasets):
    cp = demo_datasets["CP"]
    assert set(cp["CPTESTCD"]) == {"TLHRTLH"}
    assert set(cp["CPORRESU"]) == {"%"} and set(cp["CPMETHOD"]) == {"FLOW CYTOMETRY"}
    assert cp["CPTEST"].iloc[0] != ""


def test_every_domain_of_the_issue_is_built(demo_datasets):
    expected = {"DM", "EX", "LB", "CP", "AE", "VS", "CM", "DS", "SV", "SE", "TS", "TA", "TE", "TV", "TI", "SUPPAE"}
    assert expected <= set(demo_datasets)
    for name in expected:
        assert len(demo_datasets[name]) > 0, name
