"""cdisc batch: the batch file, each job's `cdisc run` command, the exit status, and a real run on a
local Dask cluster of two worker processes (one job published, one failing without stopping the other)."""
import json

import pytest

from cdisc.batch import Job, JobResult, exit_status, load_batch, run_batch, write_report
from cdisc.cli import main
from specs.errors import ProblemList


def test_a_yaml_batch_resolves_paths_beside_the_batch_file(tmp_path):
    (tmp_path / "cut.csv").write_text("USUBJID,DCUTDTC\nS-1,2023-01-01\n")
    batch = tmp_path / "batch.yaml"
    batch.write_text("jobs:\n"
                     "  - {name: whole, spec: specs/a, raw: raw/a, out: out/a}\n"
                     "  - {name: dsmb, out: out/a, cut: 2023-06-30, cut_description: DSMB 2, sdtm_only: yes}\n"
                     "  - {name: per-subject, out: out/b, cut: cut.csv, validate: no, edc: odm, format: 'xpt,json'}\n")
    whole, dsmb, per_subject = load_batch(batch)
    assert whole == Job(name="whole", out=str(tmp_path / "out/a"), spec=str(tmp_path / "specs/a"),
                        raw=str(tmp_path / "raw/a"))
    assert dsmb.command() == ["run", "--out", str(tmp_path / "out/a"), "--edc", "csv", "--format", "xpt",
                              "--cut", "2023-06-30", "--cut-description", "DSMB 2", "--sdtm-only"]
    assert per_subject.command() == ["run", "--out", str(tmp_path / "out/b"), "--edc", "odm", "--format",
                                     "xpt,json", "--cut", str(tmp_path / "cut.csv"), "--no-validate"]


def test_a_csv_batch_one_job_per_row(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text("name,out,cut,sdtm_only\nfirst,o1,,\nsecond,o2,2023-06-30,true\n")
    first, second = load_batch(batch)
    assert (first.cut, first.sdtm_only, second.cut, second.sdtm_only) == (None, False, "2023-06-30", True)


def test_every_problem_of_a_batch_file_is_listed_with_its_place(tmp_path):
    batch = tmp_path / "batch.yaml"
    batch.write_text("jobs:\n"
                     "  - {name: a, out: o, colour: red}\n"
                     "  - {name: a, out: o2}\n"
                     "  - {name: b, out: o}\n"
                     "  - {name: c}\n"
                     "  - {out: o3}\n"
                     "  - {name: d, out: o4, edc: rave, sdtm_only: perhaps}\n"
                     "  - just a string\n")
    with pytest.raises(ProblemList) as caught:
        load_batch(batch)
    assert [str(p) for p in caught.value.problems] == [
        "batch.yaml jobs[0]: unknown field(s) colour (fields: name, spec, raw, out, cut, cut_description, edc, "
        "format, sdtm_only, validate)",
        "batch.yaml jobs[1] (a): another job has the same name",
        "batch.yaml jobs[2] (b): same out folder and cut as job a",
        "batch.yaml jobs[3] (c): a job needs an out folder (each job its own)",
        "batch.yaml jobs[4]: a job needs a name",
        "batch.yaml jobs[5] (d): edc 'rave' is not csv or odm",
        "batch.yaml jobs[5] (d): sdtm_only: 'perhaps' is not yes/no",
        "batch.yaml jobs[6]: a job is a mapping of name, spec, raw, out, cut, cut_description, edc, format, "
        "sdtm_only, validate"]
    assert str(caught.value).startswith("8 batch file errors:")


def test_a_batch_file_that_is_not_a_list_of_jobs(tmp_path):
    (tmp_path / "b.yaml").write_text("- {name: a, out: o}\n")
    with pytest.raises(ProblemList, match="expected 'jobs:' followed by a list of jobs"):
        load_batch(tmp_path / "b.yaml")
    with pytest.raises(ProblemList, match="batch file not found"):
        load_batch(tmp_path / "missing.yaml")


def test_exit_status_of_a_batch():
    def result(code):
        return JobResult("j", "x", code, 1.0, "o")

    assert exit_status([result(0), result(0)]) == 0
    assert exit_status([result(0), result(3)]) == 3
    assert exit_status([result(3), result(1)]) == 1
    assert exit_status([result(0), result(None)]) == 1  # a lost job


def test_a_batch_on_a_local_cluster_of_two_workers(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    batch = tmp_path / "batch.yaml"
    batch.write_text("jobs:\n"
                     "  - {name: demo, out: out/demo, sdtm_only: yes, validate: no}\n"
                     "  - {name: broken, out: out/broken, spec: no-such-spec, sdtm_only: yes}\n")
    results = run_batch(load_batch(batch), workers=2)
    demo, broken = results
    assert (demo.status, demo.exit_status) == ("published", 0)
    assert demo.message.startswith("SDTM written to ")
    assert (tmp_path / "out/demo/sdtm/dm.xpt").is_file()
    package = tmp_path / "out/demo/m5/datasets/nct05153070/tabulations/sdtm"
    assert (package / "dm.xpt").samefile(tmp_path / "out/demo/sdtm/dm.xpt")  # written once, linked
    assert (package / "csdrg.pdf").is_file()  # not validated: the guide is written with the package
    assert (broken.status, broken.exit_status) == ("failed", 1)
    assert "no-such-spec" in broken.message
    assert not (tmp_path / "out/broken").exists() or not (tmp_path / "out/broken/sdtm").exists()
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == ["broken", "demo"]

    report = write_report(results, tmp_path / "report")
    assert report.read_text().splitlines()[0] == "name,status,exit_status,seconds,out,cut,message"
    document = json.loads((tmp_path / "report/batch-report.json").read_text())
    assert [j["status"] for j in document["jobs"]] == ["published", "failed"] and document["exit_status"] == 1
    assert "SDTM written to" in (tmp_path / "report/logs/demo.log").read_text()


def test_cli_batch_reports_a_bad_batch_file_without_a_traceback(tmp_path, capsys):
    (tmp_path / "b.yaml").write_text("jobs: [{name: a}]\n")
    assert main(["batch", str(tmp_path / "b.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 1 batch file error:") and "a job needs an out folder" in err
