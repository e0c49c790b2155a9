"""The demo raw-data generator follows cdisc/demo/RAW_FORMAT.md and is deterministic."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lxml import etree

from cdisc.demo import generator
from cdisc.demo.edc_forms import FOLDER_RANK, FORM_ITEMS
from cdisc.demo.generator import block_view, generate, subject_blocks

EDC = ["Subject", "SiteNumber", "Folder", "Form", "RecordPosition"]
ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
BUNDLED = Path(generator.__file__).parent / "raw"
ODM_XSD = Path(__file__).resolve().parents[2] / "define" / "resources" / "schema" / "cdisc-odm-1.3.2" / "ODM1-3-2.xsd"


def read(root, name):
    return pd.read_csv(Path(root) / name, dtype=str, keep_default_na=False)


def files(root):
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw")
    counts = generate(out)
    return out, counts


def test_same_seed_gives_identical_bytes(raw, tmp_path):
    first, _ = raw
    generate(tmp_path)
    assert files(tmp_path) == files(first)
    for name in files(first):
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes(), name


def test_bundled_export_is_the_default_run(raw):
    first, _ = raw
    assert files(BUNDLED) == files(first)
    for name in files(first):
        assert (BUNDLED / name).read_bytes() == (first / name).read_bytes(), name


def test_other_seed_gives_other_data(raw, tmp_path):
    generate(tmp_path, seed=7)
    assert (tmp_path / "edc/vs.csv").read_bytes() != (raw[0] / "edc/vs.csv").read_bytes()


def test_layout_and_default_counts(raw):
    out, counts = raw
    assert files(out) == sorted([f"edc/{f}.csv" for f in FORM_ITEMS] + ["edc/odm_export.xml"]
                                + [f"vendor/{f}.csv" for f in ("central_lab", "flow_cytometry", "randomization")])
    assert (counts["randomized"], counts["screen_failures"], counts["withdrawn"]) == (24, 2, 1)
    assert len(read(out, "edc/dm.csv")) == 26 and len(read(out, "edc/rand.csv")) == 24
    ds = read(out, "edc/ds.csv")
    assert ds[ds["Folder"] == "EOS"]["DSDECOD"].value_counts().to_dict() == {
        "Completed": 23, "Screen failure": 2, "Withdrawal by subject": 1}
    # end of treatment of every randomized subject (folder EOT)
    assert ds[ds["Folder"] == "EOT"]["DSDECOD"].value_counts().to_dict() == {"Completed": 23, "Withdrawal by subject": 1}


def test_fifty_subjects(tmp_path):
    counts = generate(tmp_path, seed=3, subjects=50)
    assert (counts["randomized"], counts["screen_failures"]) == (50, 4)
    assert read(tmp_path, "edc/ds.csv")["DSDECOD"].value_counts()["Screen failure"] == 4


def test_every_edc_file_has_the_edc_columns_then_its_items(raw):
    out, _ = raw
    for form, items in FORM_ITEMS.items():
        table = read(out, f"edc/{form}.csv")
        assert list(table.columns) == EDC + items, form
        assert set(table["Form"]) == {form.upper()} and set(table["SiteNumber"]) == {"01"}
        assert table["Subject"].str.fullmatch(r"01-\d{3}").all()
        positions = table.groupby(["Subject", "Folder"])["RecordPosition"].agg(
            lambda s: list(s.astype(int)) == list(range(1, len(s) + 1)))
        assert positions.all(), form


def test_screen_failures_have_screening_data_only(raw):
    out, _ = raw
    ds = read(out, "edc/ds.csv")
    failed = set(ds.loc[ds["DSDECOD"] == "Screen failure", "Subject"])
    sv = read(out, "edc/sv.csv")
    assert set(sv.loc[sv["Subject"].isin(failed), "Folder"]) == {"SCR"}
    assert not failed & set(read(out, "edc/rand.csv")["Subject"])
    lab = read(out, "vendor/central_lab.csv")
    cpep = lab[(lab["TESTCODE"] == "CPEP") & (lab["VISIT"] == "SCREENING")]
    screening = cpep.set_index("SUBJECT")["RESULT"].astype(float)
    assert (screening[list(failed)] < 0.1).all()
    assert (screening.drop(list(failed)) >= 0.1).all()


def test_withdrawn_subject_has_no_data_after_month_9(raw):
    out, _ = raw
    ds = read(out, "edc/ds.csv")
    ds = ds[ds["Folder"] == "EOS"]
    who = ds.loc[ds["DSDECOD"] == "Withdrawal by subject", "Subject"].item()
    sv = read(out, "edc/sv.csv")
    assert list(sv.loc[sv["Subject"] == who, "Folder"]) == ["SCR", "D1", "D63", "D67", "M3", "M6", "M9"]
    lab = read(out, "vendor/central_lab.csv")
    assert lab.loc[lab["SUBJECT"] == who, "VISIT"].iloc[-1] in {"MONTH 9", "MONTH 6"}
    assert "MONTH 12" not in set(lab.loc[lab["SUBJECT"] == who, "VISIT"])
    dsdate = pd.to_datetime(ds.loc[ds["Subject"] == who, "DSSTDAT"].item(), format="%d/%m/%Y")
    m9 = pd.to_datetime(sv.loc[(sv["Subject"] == who) & (sv["Folder"] == "M9"), "VISDAT"].item(), format="%d/%m/%Y")
    assert dsdate > m9
    il2 = read(out, "edc/ex_il2.csv")
    assert (pd.to_datetime(il2.loc[il2["Subject"] == who, "EXDAT"], format="%d/%m/%Y") < dsdate).all()


def test_planted_lab_messiness(raw):
    out, _ = raw
    lab = read(out, "vendor/central_lab.csv")
    cpep = lab[lab["TESTCODE"] == "CPEP"]
    ng = cpep[cpep["UNIT"] == "ng/mL"]
    assert ng["BATCH"].nunique() == 1 and (cpep.loc[cpep["BATCH"] == ng["BATCH"].iloc[0], "UNIT"] == "ng/mL").all()
    assert set(lab["UNIT"]) == {"%", "mmol/L", "umol/L", "U/L", "nmol/L", "ng/mL"}
    blq = lab[lab["RESULT"] == "<0.02"]
    assert len(blq) >= 1 and set(blq["TESTCODE"]) == {"CPEP"} and set(blq["LLOQ"]) == {"0.02"}
    missed = lab[lab["STATUS"] == "NOT DONE"]
    assert len(missed[["SUBJECT", "VISIT", "TPT_MIN"]].drop_duplicates()) == 1
    assert set(missed["TESTCODE"]) == {"CPEP", "GLUC"} and set(missed["RESULT"]) == {""}
    assert set(missed["COMMENT"]) == {"Sample not collected"} and set(missed["COLLTIME"]) == {""}
    assert (lab.loc[lab["STATUS"] == "", "RESULT"] != "").all()
    key = ["SUBJECT", "ACCESSION", "TESTCODE", "TPT_MIN"]
    twice = lab[lab.duplicated(key, keep=False)]
    assert len(twice) == 2
    first, again = twice.iloc[0], twice.iloc[1]
    assert again["TRANSFER"] > first["TRANSFER"]
    assert first.drop("TRANSFER").equals(again.drop("TRANSFER"))
    assert list(lab["TRANSFER"]) == sorted(lab["TRANSFER"])   # transfers appended in order


def test_mmtt_and_tregs_are_plausible(raw):
    out, _ = raw
    lab = read(out, "vendor/central_lab.csv")
    mmtt = lab[(lab["TESTCODE"] == "CPEP") & (lab["TPT_MIN"] != "")]
    assert set(mmtt["VISIT"]) == {"DAY 1", "MONTH 6", "MONTH 12", "MONTH 18", "MONTH 24"}
    assert set(mmtt["TPT_MIN"]) == {"-10", "0", "15", "30", "60", "90", "120"}
    day1 = mmtt[(mmtt["VISIT"] == "DAY 1") & (mmtt["UNIT"] == "nmol/L")].copy()
    day1["value"] = day1["RESULT"].astype(float)
    medians = day1.groupby("TPT_MIN")["value"].median()
    assert 0.2 <= medians["0"] <= 0.4 and 0.6 <= max(medians["60"], medians["90"]) <= 1.0

    arm = read(out, "edc/rand.csv").merge(read(out, "vendor/randomization.csv"), on="RANDNO")
    flow = read(out, "vendor/flow_cytometry.csv").merge(arm[["Subject", "TRTCODE"]], left_on="SUBJECT",
                                                      right_on="Subject")
    wide = flow.assign(p=flow["PCT_PARENT"].astype(float)).pivot(index=["SUBJECT", "TRTCODE"], columns="VISIT",
                                                                 values="p")
    change = (wide["DAY 67"] - wide["DAY 63"]).groupby(level="TRTCODE").mean()
    assert 3 <= change["A"] <= 6 and abs(change["B"]) < 1
    assert wide["DAY 1"].between(4, 9).all()


def test_adverse_events(raw):
    out, _ = raw
    ae = read(out, "edc/ae.csv")
    serious = ae[ae["AESER"] == "Yes"]
    assert len(serious) == 1 and serious[["AETERM_PT", "AESHOSP"]].values.tolist() == [["Hypoglycaemia", "Yes"]]
    assert ae["AESTDAT"].str.fullmatch(r"UN/\d\d/\d{4}").sum() >= 1
    assert ae["AESTDAT"].str.fullmatch(r"UN/UN/\d{4}").sum() >= 1
    ongoing = ae[ae["AEONGO"] == "Yes"]
    assert len(ongoing) >= 1 and (ongoing["AEENDAT"] == "").all()
    assert (ae.loc[ae["AEONGO"] == "No", "AEENDAT"] != "").all()
    assert ae.groupby("Subject").size().max() <= 5
    assert (ae["AETERM_PT_CODE"].str.len() == 8).all() and set(ae["AETERM_DICT"]) == {"MedDRA 27.0"}
    arm = read(out, "edc/rand.csv").merge(read(out, "vendor/randomization.csv"), on="RANDNO")
    isr = ae[ae["AETERM_PT"] == "Injection site reaction"]
    assert set(isr["Subject"].map(arm.set_index("Subject")["TRTCODE"])) <= {"A"}
    assert set(isr["AEREL_IL2"]) <= {"Related"}


def test_randomization_list(raw):
    out, _ = raw
    rl = read(out, "vendor/randomization.csv")
    assert list(rl.columns) == ["RANDNO", "BLOCK", "TRTCODE", "TRTLABEL"]
    assert len(rl) > 24 and (rl.groupby("BLOCK")["TRTCODE"].agg(sorted).map(tuple) == ("A", "A", "B", "B")).all()
    assert set(zip(rl["TRTCODE"], rl["TRTLABEL"])) == {("A", "ILT-101 1 MIU"), ("B", "Placebo")}
    assert read(out, "edc/rand.csv")["RANDNO"].isin(rl["RANDNO"]).all()


def _odm_tables(path):
    root = etree.parse(str(path)).getroot()
    columns = {}
    for group in root.iter(f"{ODM}ItemGroupDef"):
        columns[group.get("OID")] = [ref.get("ItemOID") for ref in group.iter(f"{ODM}ItemRef")]
    names = {d.get("OID"): d.get("Name") for d in root.iter(f"{ODM}ItemDef")}
    rows = {oid: [] for oid in columns}
    for subject in root.iter(f"{ODM}SubjectData"):
        site = subject.find(f"{ODM}SiteRef").get("LocationOID")
        for event in subject.iter(f"{ODM}StudyEventData"):
            for form in event.iter(f"{ODM}FormData"):
                for group in form.iter(f"{ODM}ItemGroupData"):
                    values = {i.get("ItemOID"): i.get("Value") for i in group.iter(f"{ODM}ItemData")}
                    rows[group.get("ItemGroupOID")].append(
                        [subject.get("SubjectKey"), site, event.get("StudyEventOID"), form.get("FormOID"),
                         group.get("ItemGroupRepeatKey")] + [values.get(c, "") for c in columns[group.get("ItemGroupOID")]])
    return {oid: pd.DataFrame(r, columns=EDC + [names[c] for c in columns[oid]]) for oid, r in rows.items()}


def test_odm_reads_back_as_the_csvs(raw):
    out, counts = raw
    tables = _odm_tables(out / "edc/odm_export.xml")
    assert counts["edc/odm_export.xml"] == sum(len(read(out, f"edc/{f}.csv")) for f in FORM_ITEMS)
    for form in FORM_ITEMS:
        pd.testing.assert_frame_equal(tables[f"IG.{form.upper()}"], read(out, f"edc/{form}.csv"), check_dtype=False)


def test_odm_is_valid_against_the_odm_1_3_2_schema(raw):
    text = (raw[0] / "edc/odm_export.xml").read_text(encoding="utf-8")
    schema = etree.XMLSchema(etree.parse(str(ODM_XSD)))
    document = etree.fromstring(text.encode("utf-8"))
    assert schema.validate(document), schema.error_log.last_error


def test_main_cli(tmp_path, capsys):
    assert generator.main(["--out", str(tmp_path), "--seed", "5", "--subjects", "12"]) == 0
    assert "12 randomized, 1 screen failures" in capsys.readouterr().out
    assert len(read(tmp_path, "edc/rand.csv")) == 12


def test_too_few_subjects_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 6"):
        generate(tmp_path, subjects=3)


def test_ages_and_dates(raw):
    out, _ = raw
    dm = read(out, "edc/dm.csv").merge(read(out, "edc/ic.csv"), on="Subject")
    birth = pd.to_datetime(dm["BRTHDAT"], format="%d/%m/%Y")
    consent = pd.to_datetime(dm["ICDAT"], format="%d/%m/%Y")
    age = (consent.dt.year - birth.dt.year) - ((consent.dt.month * 100 + consent.dt.day)
                                               < (birth.dt.month * 100 + birth.dt.day))
    assert age.between(16, 35).all()
    assert consent.min() >= pd.Timestamp("2022-10-03") and consent.max() <= pd.Timestamp("2023-10-03")
    assert np.isin(read(out, "edc/vs.csv")["VSPOS"], ["Sitting"]).all()


# ---------------------------------------------------------------- blocks of subjects
# One block is the export above byte for byte; several blocks give a valid, deterministic export whose
# study-wide numbers and planted cases stay study-wide.
BLOCKS = dict(seed=5, subjects=30, block_subjects=7)     # 32 subjects (2 screen failures) in 5 blocks


@pytest.fixture(scope="module")
def blocks(tmp_path_factory):
    out = tmp_path_factory.mktemp("blocks")
    return out, generate(out, **BLOCKS)


def test_subject_blocks_cut_the_subject_frame_in_near_equal_ranges():
    # ceil(30 / 7) = 5 blocks over 32 rows: bounds 32 * k // 5
    assert subject_blocks(32, 30, 7) == [(0, 6), (6, 12), (12, 19), (19, 25), (25, 32)]
    assert subject_blocks(26, 24, 24) == [(0, 26)]                        # up to block_subjects: one block
    assert subject_blocks(10_833, 10_000, 10_000) == [(0, 10_833)]
    assert len(subject_blocks(108_333, 100_000, 10_000)) == 10
    assert subject_blocks(108_333, 100_000, 10_000)[-1] == (97_499, 108_333)


def test_block_view_renumbers_subjects_and_keeps_only_its_planted_cases():
    s = pd.DataFrame({"subject": ["01-001", "01-002", "01-003", "01-004"], "x": [1, 2, 3, 4]})
    s.attrs = {"sae": 1, "missed": 3}
    visits = pd.DataFrame({"i": [0, 0, 1, 2, 2, 3], "day": [1, 2, 1, 1, 2, 1]})
    block, part = block_view(s, visits, 1, 3)
    assert block["subject"].tolist() == ["01-002", "01-003"] and block.attrs == {"sae": 0, "missed": None}
    assert part["i"].tolist() == [0, 1, 1] and part["day"].tolist() == [1, 1, 2]


def test_one_block_is_the_default_export(tmp_path):
    default = tmp_path / "default"
    generate(default, seed=3, subjects=12)
    generate(tmp_path / "one", seed=3, subjects=12, block_subjects=12)
    assert files(default) == files(tmp_path / "one")
    for name in files(default):
        assert (default / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def test_blocks_are_deterministic(blocks, tmp_path):
    out, counts = blocks
    assert generate(tmp_path, **BLOCKS) == counts
    assert files(tmp_path) == files(out)
    for name in files(out):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_blocks_write_every_file_with_consistent_counts(blocks):
    out, counts = blocks
    assert not (out / "vendor" / ".central_lab.parts").exists()
    assert (counts["randomized"], counts["screen_failures"], counts["withdrawn"]) == (30, 2, 1)
    for name in files(out):
        if name.endswith(".csv"):
            assert len(read(out, name)) == counts[name], name
    dm = read(out, "edc/dm.csv")
    assert dm["Subject"].is_unique and len(dm) == 32 and list(dm["Subject"]) == sorted(dm["Subject"])
    rand = read(out, "edc/rand.csv")
    assert rand["RANDNO"].is_unique and len(rand) == 30
    assert set(read(out, "edc/ds.csv").groupby("Folder").size().items()) == {("EOS", 32), ("EOT", 30)}


def test_blocks_keep_every_file_sorted(blocks):
    out, _ = blocks
    for form in FORM_ITEMS:
        table = read(out, f"edc/{form}.csv")
        key = pd.DataFrame({"s": table["Subject"], "f": table["Folder"].map(FOLDER_RANK),
                            "p": table["RecordPosition"].astype(int)})
        assert key.equals(key.sort_values(["s", "f", "p"]).reset_index(drop=True)), form
    lab = read(out, "vendor/central_lab.csv")
    assert list(zip(lab["TRANSFER"], lab["SUBJECT"])) == sorted(zip(lab["TRANSFER"], lab["SUBJECT"]))
    flow = read(out, "vendor/flow_cytometry.csv")
    assert list(flow["SUBJECT"]) == sorted(flow["SUBJECT"])


def test_blocks_number_kits_samples_and_accessions_study_wide(blocks):
    out, counts = blocks
    kits = read(out, "edc/ex_il2.csv")["EXKITNO"]
    n = counts["edc/ex_il2.csv"]
    width = max(5, len(str(2 * n)))
    # K + width digits: 10**(width-1) + 0..n-1, each exactly once over all blocks
    assert sorted(kits) == [f"K{10 ** (width - 1) + k}" for k in range(n)]
    samples = read(out, "vendor/flow_cytometry.csv")["SAMPLEID"]
    assert sorted(samples) == [f"FC{k:07d}" for k in range(1, counts["vendor/flow_cytometry.csv"] + 1)]
    visits = read(out, "vendor/central_lab.csv")[["SUBJECT", "VISIT", "ACCESSION"]].drop_duplicates()
    assert visits["ACCESSION"].is_unique
    assert sorted(visits["ACCESSION"]) == [f"A{k:07d}" for k in range(1, len(visits) + 1)]
    assert len(visits) == counts["edc/sv.csv"]


def test_blocks_plant_each_case_once(blocks):
    out, _ = blocks
    lab = read(out, "vendor/central_lab.csv")
    cpep = lab[lab["TESTCODE"] == "CPEP"]
    ng = cpep[cpep["UNIT"] == "ng/mL"]
    assert ng["BATCH"].nunique() == 1 and set(cpep.loc[cpep["BATCH"] == ng["BATCH"].iloc[0], "UNIT"]) == {"ng/mL"}
    assert "<0.02" not in set(ng["RESULT"]) and set(ng["STATUS"]) == {""}
    assert len(lab[lab["STATUS"] == "NOT DONE"]) == 2
    assert lab.duplicated(["SUBJECT", "ACCESSION", "TESTCODE", "TPT_MIN"]).sum() == 1
    ae = read(out, "edc/ae.csv")
    assert (ae["AESER"] == "Yes").sum() == 1 and (ae["AETERM_PT"] == "Hypertension").any()
    assert ae["AESTDAT"].str.fullmatch(r"UN/\d\d/\d{4}").sum() == 1
    assert ae["AESTDAT"].str.fullmatch(r"UN/UN/\d{4}").sum() == 1
    ds = read(out, "edc/ds.csv")
    assert (ds.loc[ds["Folder"] == "EOS", "DSDECOD"] == "Withdrawal by subject").sum() == 1


def test_blocks_odm_reads_back_as_the_csvs(blocks):
    out, counts = blocks
    tables = _odm_tables(out / "edc/odm_export.xml")
    assert counts["edc/odm_export.xml"] == sum(counts[f"edc/{f}.csv"] for f in FORM_ITEMS)
    for form in FORM_ITEMS:
        pd.testing.assert_frame_equal(tables[f"IG.{form.upper()}"], read(out, f"edc/{form}.csv"), check_dtype=False)
    text = (out / "edc/odm_export.xml").read_text(encoding="utf-8")
    assert text.count("<ClinicalData ") == 1 and text.count("<SubjectData ") == 32
    assert np.all(np.diff([text.index(f'SubjectKey="01-{k:03d}"') for k in range(1, 33)]) > 0)


def test_block_size_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="block_subjects must be at least 1, got 0"):
        generate(tmp_path, subjects=6, block_subjects=0)


def test_main_cli_block_subjects(tmp_path, capsys):
    assert generator.main(["--out", str(tmp_path), "--seed", "5", "--subjects", "12", "--block-subjects", "5"]) == 0
    assert "12 randomized, 1 screen failures" in capsys.readouterr().out
    assert read(tmp_path, "edc/rand.csv")["RANDNO"].is_unique and len(read(tmp_path, "edc/rand.csv")) == 12
    with pytest.raises(SystemExit):
        generator.main(["--out", str(tmp_path), "--block-subjects", "0"])
    assert "argument --block-subjects: at least 1, got 0" in capsys.readouterr().err
