"""End to end: the `cdisc` command on the built-in demo study, as a user runs it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

SDTM = ["ae", "cm", "cp", "dm", "ds", "ec", "ex", "lb", "se", "suppae", "sv", "ta", "te", "ti", "ts", "tv", "vs"]
ADAM = ["adae", "adeff", "adex", "adlb", "adsl"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    done = subprocess.run([sys.executable, "-m", "cdisc", "run", "--out", str(out)], capture_output=True,
                          text=True, timeout=600)
    return out, done


def test_cdisc_run_writes_every_dataset_and_reports_per_domain(demo_run):
    out, done = demo_run
    assert done.returncode == 0, done.stderr
    assert sorted(p.stem for p in (out / "sdtm").glob("*.xpt")) == SDTM
    assert sorted(p.stem for p in (out / "adam").glob("*.xpt")) == ADAM
    report = done.stdout
    assert "domain   source                    raw in     out  not mapped" in report
    assert "EX: 21 x dose not given (ECOCCUR = N): kept in EC" in report
    assert "LB: 1 x re-sent in a later transfer" in report


def test_xpt_files_are_version_5_with_spec_attributes(demo_run):
    out, _ = demo_run
    with open(out / "sdtm" / "dm.xpt", "rb") as handle:
        assert handle.read(80).startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!")
    dm, meta = pyreadstat.read_xport(str(out / "sdtm" / "dm.xpt"))
    assert meta.table_name == "DM" and meta.file_label == "Demographics"
    assert list(dm.columns[:4]) == ["STUDYID", "DOMAIN", "USUBJID", "SUBJID"]
    assert meta.column_names_to_labels["RFSTDTC"] == "Subject Reference Start Date/Time"
    assert meta.variable_storage_width["USUBJID"] == len("NCT05153070-01-001")
    ae, _ = pyreadstat.read_xport(str(out / "sdtm" / "ae.xpt"))
    assert "Maux de tete" in set(ae["AETERM"])  # transliterated for XPT v5, reported on the terminal


def test_adsl_has_one_row_per_randomized_subject(demo_run):
    out, _ = demo_run
    adsl, meta = pyreadstat.read_xport(str(out / "adam" / "adsl.xpt"))
    dm, _ = pyreadstat.read_xport(str(out / "sdtm" / "dm.xpt"))
    randomized = dm[dm["ARMCD"] != ""]
    assert sorted(adsl["USUBJID"]) == sorted(randomized["USUBJID"]) and adsl["USUBJID"].is_unique
    assert meta.original_variable_types["TRTSDT"] in ("DATE9", "DATE9.")  # (pyreadstat 1.3.8 gives the dot)


def test_primary_endpoint_tregs_day_67_against_day_63(demo_run):
    # flow_cytometry.csv, 01-003: DAY 63 4.68 %, DAY 67 8.39 % -> CHG 3.71, PCHG 3.71 / 4.68 = 79.2735 % -> 79.27
    out, _ = demo_run
    adlb, _ = pyreadstat.read_xport(str(out / "adam" / "adlb.xpt"))
    row = adlb[(adlb["USUBJID"] == "NCT05153070-01-003") & (adlb["PARAMCD"] == "TLHRTLH")
               & (adlb["BASETYPE"] == "POST-CICLOSPORIN D63") & (adlb["AVISIT"] == "DAY 67")]
    assert len(row) == 1
    assert row["BASE"].iloc[0] == pytest.approx(4.68) and row["AVAL"].iloc[0] == pytest.approx(8.39)
    assert row["CHG"].iloc[0] == pytest.approx(3.71) and row["PCHG"].iloc[0] == 79.27  # rounded to 2 decimals


def test_rerun_gives_byte_identical_files(demo_run, tmp_path):
    out, _ = demo_run
    again = tmp_path / "again"
    subprocess.run([sys.executable, "-m", "cdisc", "run", "--out", str(again)], check=True, capture_output=True)
    for folder in ("sdtm", "adam"):
        for path in (out / folder).glob("*.xpt"):
            assert path.read_bytes() == (again / folder / path.name).read_bytes(), path.name


def test_odm_export_gives_the_same_sdtm_as_the_csv_export(demo_sdtm):
    from cdisc.pipeline import build_sdtm_from_raw

    from_odm = build_sdtm_from_raw(edc="odm")[2].datasets
    for name, frame in demo_sdtm[2].datasets.items():
        pd.testing.assert_frame_equal(frame, from_odm[name], obj=name)


def test_run_writes_the_m5_package_validation_and_manifest(demo_run):
    out, done = demo_run
    study = out / "m5" / "datasets" / "nct05153070"
    for folder in (study / "tabulations" / "sdtm", study / "analysis" / "adam" / "datasets"):
        assert {"define.xml", "define2-1.xsl", "define.html"} <= {p.name for p in folder.iterdir()}
    assert "SDTM Validation: 0 errors" in done.stdout
    assert "ADAM Validation: 0 errors" in done.stdout
    assert (out / "validation" / "sdtm" / "validation.html").is_file()
    assert (out / "manifest.json").is_file()
    # each XPT file written once: the package's is the file of sdtm/ (adam/), linked
    for folder, names, written in ((study / "tabulations" / "sdtm", SDTM, out / "sdtm"),
                                   (study / "analysis" / "adam" / "datasets", ADAM, out / "adam")):
        assert all((folder / f"{n}.xpt").samefile(written / f"{n}.xpt") for n in names)
    assert (study / "tabulations" / "sdtm" / "csdrg.pdf").is_file()


def test_cdisc_package_rebuilds_the_same_define_from_the_written_files(demo_run, tmp_path):
    import shutil

    out, _ = demo_run
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    define = "m5/datasets/nct05153070/tabulations/sdtm/define.xml"
    done = subprocess.run([sys.executable, "-m", "cdisc", "package", "--out", str(copy), "--format", "xpt,json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (copy / define).read_bytes() == (out / define).read_bytes()
    assert (copy / "m5/datasets/nct05153070/tabulations/sdtm/dm.json").is_file()
    # each XPT file is the one of sdtm/ (adam/), linked rather than written again: the same bytes as before
    for placed, names, written in (("m5/datasets/nct05153070/tabulations/sdtm", SDTM, "sdtm"),
                                   ("m5/datasets/nct05153070/analysis/adam/datasets", ADAM, "adam")):
        for name in names:
            assert (copy / placed / f"{name}.xpt").samefile(copy / written / f"{name}.xpt")
            assert (copy / placed / f"{name}.xpt").read_bytes() == (out / placed / f"{name}.xpt").read_bytes()


def test_every_auc_row_traces_back_to_its_lb_records(demo_run):
    out, _ = demo_run
    adlb, _ = pyreadstat.read_xport(str(out / "adam" / "adlb.xpt"))
    lb, _ = pyreadstat.read_xport(str(out / "sdtm" / "lb.xpt"))
    lb = lb.set_index(["USUBJID", "LBSEQ"])
    auc = adlb[(adlb["PARAMCD"] == "CPAUC") & adlb["AVAL"].notna()]
    assert len(auc) > 50
    for row in auc.itertuples():
        seqs = [float(s) for s in row.SRCSEQL.split()]
        sources = lb.loc[[(row.USUBJID, s) for s in seqs]]
        assert set(sources["LBTESTCD"]) == {"CPEPTIDE"} and len(set(sources["VISITNUM"])) == 1
        assert list(sources["LBTPTNUM"]) == [0, 15, 30, 60, 90, 120]
        values = pd.to_numeric(sources["LBSTRESN"]).to_numpy()
        times = sources["LBTPTNUM"].to_numpy()
        if not pd.isna(values).any():  # below-LLOQ points count as LLOQ/2 in the AUC
            trapezoids = ((times[1:] - times[:-1]) * (values[1:] + values[:-1]) / 2).sum()
            assert row.AVAL == pytest.approx(trapezoids), (row.USUBJID, row.AVISIT)


def test_every_folder_of_the_output_validates(demo_run, tmp_path, capsys):
    from validate.cli import main as validate_main

    out, _ = demo_run
    assert not list((out / "sdtm").glob("*.json"))  # keys.json sits beside the manifest, not with the datasets
    assert json.loads((out / "keys.json").read_text())["LB"][:2] == ["STUDYID", "USUBJID"]
    for folder in (out / "sdtm", out / "adam", out, out / "m5"):
        assert validate_main([str(folder), "--out", str(tmp_path / "report")]) == 0, capsys.readouterr()
    printed = capsys.readouterr().out
    assert "note: an output folder of cdisc run: validated m5/" in printed


def test_cdisc_adam_replaces_its_folder_whole_in_a_run_output(demo_run, tmp_path, capsys):
    import shutil

    from cdisc.cli import main
    from cdisc.publish import STATE, OutputFolder

    out, _ = demo_run
    copy = tmp_path / "out"
    shutil.copytree(out, copy, symlinks=True)  # the links stay links into the copy's versions
    assert main(["adam", str(copy / "sdtm"), "--out", str(copy / "adam")]) == 0
    assert (copy / "adam").is_symlink() and os.readlink(copy / "adam").startswith(".cdisc/v-")
    for path in (out / "adam").glob("*.xpt"):
        assert (copy / "adam" / path.name).read_bytes() == path.read_bytes(), path.name
    folder = OutputFolder(copy)
    assert sorted(p.name for p in (copy / STATE).iterdir()) == sorted(folder.referenced() | {"current"})
    define = "m5/datasets/nct05153070/tabulations/sdtm/define.xml"
    assert main(["package", "--out", str(copy), "--format", "xpt,json"]) == 0  # a new version, switched in whole
    assert (copy / define).read_bytes() == (out / define).read_bytes()
    assert (copy / "m5/datasets/nct05153070/tabulations/sdtm/dm.json").is_file()
    # each XPT file is the one of sdtm/ (adam/), linked rather than written again: the same bytes as before
    for placed, names, written in (("m5/datasets/nct05153070/tabulations/sdtm", SDTM, "sdtm"),
                                   ("m5/datasets/nct05153070/analysis/adam/datasets", ADAM, "adam")):
        for name in names:
            assert (copy / placed / f"{name}.xpt").samefile(copy / written / f"{name}.xpt")
            assert (copy / placed / f"{name}.xpt").read_bytes() == (out / placed / f"{name}.xpt").read_bytes()
    assert (copy / "sdtm" / "dm.xpt").read_bytes() == (out / "sdtm" / "dm.xpt").read_bytes()
    assert sorted(p.name for p in (copy / STATE).iterdir()) == sorted(folder.referenced() | {"current"})


PUBLISHED = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "cdisc-open-rules" / "Published"
# The open-rule findings on the demo output, each classified in the README ("Findings on the demo output"):
# C-peptide '<0.02' results that keep the test's reference ranges (a mapping choice, kept and reported).
CLASSIFIED_OPEN_RULE_FINDINGS = {"CORE-000289", "CORE-000290", "CORE-000298", "CORE-000299"}


@pytest.mark.skipif(not PUBLISHED.is_dir(), reason="../shared/reference/cdisc-open-rules not present")
def test_the_open_rules_find_on_the_demo_output_only_what_the_readme_classifies(demo_run, tmp_path):
    from validate.cli import main

    out, _ = demo_run
    main([str(out), "--rules", str(PUBLISHED), "--out", str(tmp_path / "report")])
    report = json.loads((tmp_path / "report" / "validation.json").read_text())
    found = {f["rule"] for f in report["findings"] if f.get("core_id")}
    assert found <= CLASSIFIED_OPEN_RULE_FINDINGS, (
        f"new open-rule findings on the demo output: {sorted(found - CLASSIFIED_OPEN_RULE_FINDINGS)}: fix the "
        "mapping or the engine, or classify them in the README")
    assert sum(r["status"] == "ran" and str(r.get("core_id") or "").startswith("CORE-") for r in report["rules"]) > 200


def test_explain_follows_an_auc_value_to_its_lb_records_and_their_raw_lab_rows(demo_run, capsys):
    from cdisc.cli import main

    out, _ = demo_run
    adlb, _ = pyreadstat.read_xport(str(out / "adam" / "adlb.xpt"))
    auc = adlb[(adlb["PARAMCD"] == "CPAUC") & adlb["AVAL"].notna()].iloc[0]
    assert main(["explain", str(out), "ADLB.AVAL", "--usubjid", auc.USUBJID, "--seq", str(int(auc.ASEQ))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["ADLB.AVAL (ADaM, origin Derived)", "  spec: adam.yaml: datasets.ADLB.variables[26]"]
    assert lines[3].startswith("  define.xml method: LBSTRESN/CPSTRESN; ")
    seqs = auc.SRCSEQL.split()
    assert f"  from: LB.LBSTRESN of {len(seqs)} LB record(s) (LBSEQ {', '.join(seqs)})" in lines
    raw = [line for line in lines if line.startswith("      raw: vendor/central_lab.csv row ")]
    assert len(raw) == len(seqs) == 6
    assert all("TESTCODE=CPEP" in line for line in raw)


def test_explain_names_the_raw_file_row_and_column_of_an_sdtm_value(demo_run, capsys):
    from cdisc.cli import main

    out, _ = demo_run
    assert main(["explain", str(out), "VS.VSORRES", "--usubjid", "NCT05153070-01-001", "--seq", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "VS.VSORRES (SDTM, origin Collected)",
        "  spec: sdtm.yaml: domains.VS.variables[7]",
        "  algorithm: assign_no_ct {source: RESULT}",
        "  how: Copied from the collected value.",
        "VS record USUBJID=NCT05153070-01-001, VSSEQ=3: VSORRES = '80'",
        "  raw: edc/vs.csv row 3 (Subject=01-001, Folder=D63, RecordPosition=1, TESTCD=DIABP), column DIABP"]
    assert main(["explain", str(out), "AE.AESEV"]) == 0
    assert "  codelist: AESEV" in capsys.readouterr().out.splitlines()
    assert main(["explain", str(out), "AE.NOPE"]) == 1
    assert capsys.readouterr().err.startswith("error: 1 explain error:\n  AE.NOPE is not a variable of the run's "
                                              "output (datasets: ADAE, ")


def test_the_lineage_methods_are_define_xml_methods(demo_run):
    from lxml import etree

    out, _ = demo_run
    variables = pd.read_csv(out / "lineage" / "variables.csv", dtype=str, keep_default_na=False)
    define = etree.parse(str(out / "m5/datasets/nct05153070/tabulations/sdtm/define.xml"))
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    methods = {m.get("OID"): " ".join(m.xpath("string(odm:Description/odm:TranslatedText)", namespaces=ns).split())
               for m in define.iterfind(".//odm:MethodDef", ns)}
    sdtm = variables[(variables["LAYER"] == "SDTM") & (variables["METHOD"] != "")]
    assert len(sdtm) > 50
    for row in sdtm.itertuples():
        oid = f"MT.{row.DATASET}.{row.VARIABLE}"
        if oid in methods:
            assert methods[oid] == " ".join(row.METHOD.split()), oid
    assert sum(f"MT.{r.DATASET}.{r.VARIABLE}" in methods for r in sdtm.itertuples()) > 50
    records = pd.read_csv(out / "lineage" / "records.csv", dtype=str, keep_default_na=False)
    lb, _ = pyreadstat.read_xport(str(out / "sdtm" / "lb.xpt"))
    assert (records["DATASET"] == "LB").sum() == len(lb)


def test_the_readme_five_minute_path_runs(demo_run, tmp_path, monkeypatch, capsys):
    """The commands of README's "A new study in five minutes", as written there (RAW: the demo export)."""
    import re
    import shlex
    from pathlib import Path

    from cdisc.cli import main
    from cdisc.pipeline import builtin_raw_dir

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## A new study in five minutes", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(re.sub(r"\s+#.*$", "", line))[1:] for line in block.splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["spec", "draft"], ["spec", "export"], ["spec", "import"],
                                         ["run", "--spec"], ["explain", "out"]]
    monkeypatch.chdir(tmp_path)
    out, _ = demo_run
    raw = str(builtin_raw_dir())
    draft, export, imp, run, explain = [[raw if a == "RAW" else a for a in c] for c in commands]
    assert main(draft) == 0
    assert main(export) == 0
    assert main(imp) == 1  # the workbook is the draft's: its TODOs are listed, row by row
    assert "TODO: AEREL_CSA or AEREL_IL2?" in capsys.readouterr().err
    assert main(run) == 1  # refused until every TODO is resolved
    assert re.match(r"error: \d+ unresolved TODOs:\n", capsys.readouterr().err)
    assert main([str(out) if a == "out" else a for a in explain]) == 0  # on the finished demo spec's run
    assert "      raw: vendor/central_lab.csv row 14 (SUBJECT=01-001, ACCESSION=A0000002, TESTCODE=CPEP, TPT_MIN=0, " \
           "TRANSFER=T01)" in capsys.readouterr().out
