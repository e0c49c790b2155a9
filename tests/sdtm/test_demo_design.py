"""The demo study's exposure as collected, disposition, subject elements and trial design (issue 12)."""
import pandas as pd

WITHDRAWN = "NCT05153070-01-011"  # withdrew consent on 2024-01-26, two days after the last injection


def test_injections_not_given_are_in_ec_with_their_reason_and_ex_is_derived_from_ec(demo_sdtm):
    _, raw, result = demo_sdtm
    ec, ex = result.datasets["EC"], result.datasets["EX"]
    il2 = raw.tables["ex_il2"]
    not_given = ec[ec["ECOCCUR"] == "N"]
    assert len(not_given) == (il2["EXYN"] == "No").sum() == 21
    assert (not_given["ECREASOC"] != "").all() and not_given["ECDOSE"].isna().all()
    assert set(not_given["ECPRESP"]) == {"Y"} and (not_given["ECREFID"].str.match(r"K\d+")).all()
    # ex_il2.csv row 25: 01-001 on 12/05/2023, kit K10432, 'Patient absent'
    row = not_given[(not_given["USUBJID"] == "NCT05153070-01-001") & (not_given["ECSTDTC"] == "2023-05-12")]
    assert row[["ECTRT", "ECREFID", "ECREASOC"]].values.tolist() == [["ILT-101 OR PLACEBO", "K10432", "Patient absent"]]
    assert len(ex) == len(ec) - 21
    report = {r.domain: r for r in result.reports}
    assert report["EC"].records_out == len(ec) and not report["EC"].not_mapped
    assert {i.reason for i in report["EX"].not_mapped} == {"dose not given (ECOCCUR = N): kept in EC"}


def test_ex_in_protocol_units_with_kit_numbers_and_ec_with_the_mg_given(demo_datasets):
    ex, ec = demo_datasets["EX"], demo_datasets["EC"]
    csa = ex[ex["EXTRT"] == "CICLOSPORIN"]
    assert set(zip(csa["EXDOSE"], csa["EXDOSU"], csa["EXDOSFRQ"])) == {(7.0, "mg/kg", "QD")}
    assert (csa["EXREFID"] == "").all()
    injections = ex[ex["EXTRT"] != "CICLOSPORIN"]
    assert injections["EXREFID"].str.fullmatch(r"K\d+").all()
    assert "EXLOT" not in ex
    # 01-001: ex_csa.csv EXDOSMG 400 (7 mg/kg of the Day-1 weight, in 25 mg capsules)
    first = ec[(ec["USUBJID"] == "NCT05153070-01-001") & (ec["ECTRT"] == "CICLOSPORIN")].iloc[0]
    assert (first["ECDOSE"], first["ECDOSU"], first["ECDOSFRQ"]) == (400.0, "mg", "QD")


def test_the_withdrawn_subject_has_end_of_treatment_and_end_of_study_and_no_follow_up(demo_datasets):
    ds = demo_datasets["DS"]
    mine = ds[(ds["USUBJID"] == WITHDRAWN) & (ds["DSCAT"] == "DISPOSITION EVENT")]
    assert sorted(mine[["DSSCAT", "DSDECOD", "DSSTDTC"]].values.tolist()) == [
        ["STUDY PARTICIPATION", "WITHDRAWAL BY SUBJECT", "2024-01-26"],
        ["STUDY TREATMENT", "WITHDRAWAL BY SUBJECT", "2024-01-26"]]
    se = demo_datasets["SE"]
    assert se.loc[se["USUBJID"] == WITHDRAWN, "ETCD"].tolist() == ["SCRN", "CSA", "PBO"]
    assert se.loc[se["USUBJID"] == WITHDRAWN, "SEENDTC"].iloc[-1] == "2024-01-26"
    # every randomized subject has both records; completers follow up from the day after end of treatment
    events = ds[ds["DSCAT"] == "DISPOSITION EVENT"]
    randomized = set(ds.loc[ds["DSDECOD"] == "RANDOMIZED", "USUBJID"])
    assert set(events.loc[events["DSSCAT"] == "STUDY TREATMENT", "USUBJID"]) == randomized
    eot = events[events["DSSCAT"] == "STUDY TREATMENT"].set_index("USUBJID")["DSSTDTC"]
    fu = se[se["ETCD"] == "FU"].set_index("USUBJID")["SESTDTC"]
    assert len(fu) == len(randomized) - 1
    assert (pd.to_datetime(fu) - pd.to_datetime(eot[fu.index]) == pd.Timedelta(days=1)).all()


def test_randomization_is_a_branch_of_ta_and_ts_has_the_parameters_of_an_interventional_study(demo_datasets):
    ta = demo_datasets["TA"]
    assert ta.loc[ta["TABRANCH"] != "", ["ARMCD", "ETCD", "TABRANCH"]].values.tolist() == [
        ["CSA-IL2", "SCRN", "Randomized to ILT-101"], ["CSA-PBO", "SCRN", "Randomized to placebo"]]
    assert (ta["TATRANS"] == "").all()
    ts = demo_datasets["TS"]
    values = ts.groupby("TSPARMCD")["TSVAL"].agg(list).to_dict()
    for code in ("ACTSUB", "TDIGRP", "OBJSEC", "TRT", "CURTRT", "SSTDTC", "SENDTC", "DOSFRQ"):
        assert code in values and all(values[code]), code
    # the facts the spec does not know are null flavors, never made-up values (SDTMIG 7.4.2.1)
    flavors = ts[ts["TSVAL"] == ""].set_index("TSPARMCD")["TSVALNF"].to_dict()
    assert flavors == {"PCLAS": "UNK", "ADAPT": "NI", "ADDON": "NI", "STOPRULE": "NI", "EXTTIND": "NI",
                       "RDIND": "NI", "PIPIND": "NI", "PDPSTIND": "NI", "STRATFCT": "NI"}
    coded = ts[(ts["TSVAL"] != "") & (ts["TSVCDREF"] != "")]
    assert (coded["TSVALCD"] != "").all() and "NONE" not in set(ts["TSVAL"])
    dm = demo_datasets["DM"]
    assert values["SSTDTC"] == [dm["RFICDTC"].min()] == ["2022-10-10"]
    assert values["SENDTC"] == [dm["RFPENDTC"].max()]
    assert values["ACTSUB"] == ["24"]
    unii = ts[ts["TSVCDREF"] == "UNII"].set_index("TSPARMCD")["TSVALCD"].to_dict()
    assert unii == {"TRT": "M89N0Q7EQR", "CURTRT": "83HN0GTJ6D"}
    assert "DCUTDTC" not in values  # no cut
