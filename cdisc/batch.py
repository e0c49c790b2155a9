"""`cdisc batch`: many runs (studies, cuts) at once on Dask's distributed scheduler.

A batch file lists jobs (spec, raw, cut, out, ...); each job is one `cdisc run`, executed on a worker
as its own process (``python -m cdisc run ...``), so that a job has exactly the command's behaviour
(exit status, messages, output replaced whole, lock) and gives its memory back when it ends. The same
code runs on a laptop (a local cluster of N worker processes, the default) and on a real cluster
(``--scheduler tcp://host:8786``; the workers must see the batch's paths and have the toolkit
installed). Dask is an optional extra: ``pip install 'cdisc-toolkit[batch]'``.

The batch report (``batch-report.csv`` and ``.json`` in ``--report``, one row per job: status, exit
status, seconds, the run's last message) says what happened to every job; a job that fails never
stops the others. Exit status: 0 every job published, 3 some published with validation errors and
none failed, 1 some job failed or was lost.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from specs.errors import CdiscError, ProblemList, clip

JOB_FIELDS = ("name", "spec", "raw", "out", "cut", "cut_description", "edc", "format", "sdtm_only", "validate")
STATUS = {0: "published", 1: "failed", 2: "bad arguments", 3: "published with validation errors",
          130: "interrupted", 143: "stopped (SIGTERM)"}
REPORT_COLUMNS = ("name", "status", "exit_status", "seconds", "out", "cut", "message")


@dataclass(frozen=True)
class Job:
    name: str
    out: str
    spec: str | None = None
    raw: str | None = None
    cut: str | None = None
    cut_description: str = ""
    edc: str = "csv"
    format: str = "xpt"
    sdtm_only: bool = False
    validate: bool = True

    def command(self) -> list[str]:
        """The `cdisc run` arguments of this job."""
        args = ["run", "--out", self.out, "--edc", self.edc, "--format", self.format]
        for flag, value in (("--spec", self.spec), ("--raw", self.raw), ("--cut", self.cut)):
            if value:
                args += [flag, value]
        if self.cut_description:
            args += ["--cut-description", self.cut_description]
        if self.sdtm_only:
            args.append("--sdtm-only")
        if not self.validate:
            args.append("--no-validate")
        return args


@dataclass
class JobResult:
    name: str
    status: str
    exit_status: int | None
    seconds: float
    out: str
    cut: str = ""
    message: str = ""
    log: str = field(default="", repr=False)


def _flag(value, where: str, problems: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "y", "1"):
        return True
    if text in ("false", "no", "n", "0", ""):
        return False
    problems.append(f"{where}: '{clip(value, 60)}' is not yes/no")
    return False


def load_batch(path) -> list[Job]:
    """Jobs from a YAML file (``jobs:`` a list of mappings) or a CSV file (one job per row, columns
    among JOB_FIELDS). Relative paths are relative to the batch file's folder. Every problem is
    collected and reported with its place (job name or row), as for a spec."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ProblemList([f"{path}: batch file not found"], "batch file errors")
    base = path.resolve().parent
    problems: list[str] = []
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        entries = [(f"{path.name} row {i + 2}", {k: v for k, v in row.items() if v not in (None, "")})
                   for i, row in enumerate(rows)]
    else:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ProblemList([f"{path}: not a readable YAML file ({clip(exc, 200)})"], "batch file errors")
        jobs = document.get("jobs") if isinstance(document, dict) else None
        if not isinstance(jobs, list):
            raise ProblemList([f"{path}: expected 'jobs:' followed by a list of jobs"], "batch file errors")
        entries = [(f"{path.name} jobs[{i}]", entry) for i, entry in enumerate(jobs)]
    result, outs, names = [], {}, set()
    for where, entry in entries:
        if not isinstance(entry, dict):
            problems.append(f"{where}: a job is a mapping of {', '.join(JOB_FIELDS)}")
            continue
        unknown = sorted(set(entry) - set(JOB_FIELDS))
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))} (fields: {', '.join(JOB_FIELDS)})")
        name = str(entry.get("name") or "").strip()
        if not name:
            problems.append(f"{where}: a job needs a name")
            continue
        where = f"{where} ({name})"
        if name in names:
            problems.append(f"{where}: another job has the same name")
        names.add(name)
        if not entry.get("out"):
            problems.append(f"{where}: a job needs an out folder (each job its own)")
            continue
        paths = {key: str((base / str(entry[key])).resolve()) for key in ("spec", "raw", "out") if entry.get(key)}
        if entry.get("cut") and (base / str(entry["cut"])).is_file():
            paths["cut"] = str((base / str(entry["cut"])).resolve())
        out_key = (paths["out"], str(entry.get("cut") or ""))
        if out_key in outs:  # two runs writing one output folder: the second would wait for the lock, then replace it
            problems.append(f"{where}: same out folder and cut as job {outs[out_key]}")
        outs[out_key] = name
        edc = str(entry.get("edc") or "csv")
        if edc not in ("csv", "odm"):
            problems.append(f"{where}: edc '{clip(edc, 40)}' is not csv or odm")
        result.append(Job(name=name, out=paths["out"], spec=paths.get("spec"), raw=paths.get("raw"),
                          cut=paths.get("cut", str(entry["cut"]) if entry.get("cut") else None),
                          cut_description=str(entry.get("cut_description") or ""), edc=edc,
                          format=str(entry.get("format") or "xpt"),
                          sdtm_only=_flag(entry.get("sdtm_only", False), f"{where}: sdtm_only", problems),
                          validate=_flag(entry.get("validate", True), f"{where}: validate", problems)))
    if not entries and not problems:
        problems.append(f"{path}: the batch lists no job")
    if problems:
        raise ProblemList(problems, "batch file errors")
    return result


def run_job(job: Job) -> JobResult:
    """One job as its own `cdisc run` process (runs on a Dask worker). Never raises: what went wrong is in
    the result."""
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "cdisc", *job.command()], capture_output=True, text=True,
                              encoding="utf-8", errors="replace")
    except OSError as exc:
        return JobResult(job.name, "failed", None, round(time.perf_counter() - started, 2), job.out, job.cut or "",
                         f"could not start the run: {clip(exc, 300)}")
    lines = [line.strip() for line in (done.stderr.strip() or done.stdout.strip()).splitlines() if line.strip()]
    # a failure: the error and what became of the output (the command's own two lines)
    message = " / ".join(lines[:4] + lines[-1:] if len(lines) > 5 else lines) if done.returncode \
        else _published_line(done.stdout)
    status = STATUS.get(done.returncode, "failed" if done.returncode > 0 else "killed")
    return JobResult(job.name, status, done.returncode, round(time.perf_counter() - started, 2), job.out,
                     job.cut or "", clip(message, 500), done.stdout + ("\n" + done.stderr if done.stderr else ""))


def _published_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("SDTM written to"):
            return line
    return lines[-1] if lines else ""


def exit_status(results: list[JobResult]) -> int:
    if any(r.exit_status not in (0, 3) for r in results):
        return 1
    return 3 if any(r.exit_status == 3 for r in results) else 0


def run_batch(jobs: list[Job], scheduler: str | None = None, workers: int = 2, stream=None) -> list[JobResult]:
    """Every job on the Dask cluster (an existing one at ``scheduler``, or a local one of ``workers``
    processes), results in the batch's order; a line per job as it ends."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise CdiscError("cdisc batch runs on Dask's distributed scheduler, which is not installed: "
                         "pip install 'cdisc-toolkit[batch]'") from None
    stream = stream or sys.stdout
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        # one thread per worker process: each job is a process of its own, the worker only waits for it
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    results: dict[str, JobResult] = {}
    try:
        futures = {client.submit(run_job, job, key=f"cdisc-run-{i}-{job.name}", pure=False): job
                   for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the worker died or the task could not run: the job is lost, not the batch
                result = JobResult(job.name, "lost", None, 0.0, job.out, job.cut or "",
                                   f"the worker running it failed: {type(exc).__name__}: {clip(exc, 300)}")
            results[job.name] = result
            print(f"{result.name}: {result.status} ({result.seconds:g} s){': ' + result.message if result.message else ''}",
                  file=stream, flush=True)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return [results[job.name] for job in jobs]


def write_report(results: list[JobResult], folder) -> Path:
    """batch-report.csv / .json and one log per job (logs/<name>.log), written whole (temporary file, then
    rename), so a reader never sees half a report."""
    import os

    folder = Path(folder)
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    for result in results:
        _write_whole(folder / "logs" / f"{_safe(result.name)}.log", result.log)
    rows = [{k: asdict(r)[k] for k in REPORT_COLUMNS} for r in results]
    temporary = folder / ".batch-report.csv.tmp"
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, folder / "batch-report.csv")
    _write_whole(folder / "batch-report.json", json.dumps({"jobs": rows, "exit_status": exit_status(results)},
                                                          indent=2) + "\n")
    return folder / "batch-report.csv"


def _write_whole(path: Path, text: str) -> None:
    import os

    temporary = path.with_name("." + path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100] or "job"


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="cdisc batch", description="Many `cdisc run` jobs (studies, cuts) in "
                                     "parallel on Dask's distributed scheduler (optional extra [batch]).")
    parser.add_argument("batch", help="batch file: YAML ('jobs:' list) or CSV, fields " + ", ".join(JOB_FIELDS))
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://host:8786); "
                                            "default: a local cluster")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    parser.add_argument("--report", default="batch-report", help="folder of the batch report (default: batch-report)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    jobs = load_batch(args.batch)
    results = run_batch(jobs, args.scheduler, args.workers)
    report = write_report(results, args.report)
    counts = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    print(f"{len(results)} jobs: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f"; report: {report}")
    return exit_status(results)
