"""End to end: `cdisc run` on the demo study at several sizes, against issue 13's targets.

    python benchmarks/bench_run.py                         # 1,000 and 10,000 subjects
    python benchmarks/bench_run.py --subjects 1000 10000 100000 --work /tmp/bench
    python benchmarks/bench_run.py --subjects 10000 --repeat 3     # the median of 3 runs, and their spread

For each size: `cdisc generate` (not timed; skipped when work/raw-N holds READY or every raw file), then `cdisc run --progress` in its own process, timed, with
its peak memory (the resident memory of the run and its chunk worker processes, summed, sampled from
/proc every 0.2 s) and the time of each stage (from the progress lines);
then `cdisc validate` alone on the output's SDTM and ADaM folders. Beside it, the I/O floor: reading the
raw files with pandas plus writing as many bytes as the run wrote, from memory; the ratio run / floor
says how far the stages are from doing nothing but I/O. Last, how time and memory grow with the number
of subjects (linear: 10x subjects -> 10x time). Each target is printed with its measured value. Last, a
profile of one size (``--profile``, the smallest by default) in a run apart: the functions that took the
most CPU, over the run's process and its chunk workers, and the CPU by package.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

TARGET_SECONDS_10K, TARGET_MEMORY_10K, TARGET_VALIDATE_10K = 60.0, 2 * 1024 ** 3, 15.0
STAGE = re.compile(r"^\[\s*([0-9.]+)s\] (.*)$")
CHUNK_DONE = re.compile(r"^(SDTM|ADaM): chunk \d+ of \d+ done$")


def cdisc(*args: str) -> list[str]:
    return [sys.executable, "-m", "cdisc", *args]


def stages(progress: str, total: float) -> list[tuple[str, float]]:
    """Each progress step with the time until the next one."""
    marks = [(float(m.group(1)), m.group(2)) for m in map(STAGE.match, progress.splitlines()) if m]
    ends = [t for t, _ in marks[1:]] + [total]
    timed: dict[str, float] = {}
    for (start, name), end in zip(marks, ends):
        name = "reading the raw files" if name.startswith("reading ") else name  # one line, not one per file
        # the chunk lines of a chunked run belong to their stage; the stage line says how it was chunked
        name = {"SDTM": "mapping SDTM domains", "ADaM": "building ADaM datasets"}.get(
            name.split(":")[0], name) if CHUNK_DONE.match(name) else name.split(" (")[0]
        timed[name] = timed.get(name, 0.0) + end - start
    return list(timed.items())


def io_floor(raw: Path, out: Path) -> tuple[float, int]:
    """Seconds to read every raw CSV with pandas plus write the run's output bytes from memory."""
    import pandas as pd

    started = time.perf_counter()
    for path in sorted(raw.rglob("*.csv")):
        pd.read_csv(path, dtype=str, keep_default_na=False)
    read = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and not p.is_symlink())
    block = b"\0" * (4 << 20)
    target = out.parent / ".io-floor.bin"
    # as many bytes as the run wrote, but into one file of at most 1 GiB rewritten from its start (synced
    # each round): a copy of a 100,000-subject output (~20 GB) beside it would fill the disk
    cap = 1 << 30
    started = time.perf_counter()
    try:
        with open(target, "wb") as handle:
            left = size
            while left > 0:
                if handle.tell() >= cap:
                    os.fsync(handle.fileno())
                    handle.seek(0)
                handle.write(block[:min(left, len(block))])
                left -= len(block)
            handle.flush()
            os.fsync(handle.fileno())
        write = time.perf_counter() - started
    finally:
        target.unlink(missing_ok=True)
    return read + write, size


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


RAW_FILES = [f"edc/{form}.csv" for form in ("dm", "ic", "rand", "sv", "vs", "ex_csa", "ex_il2", "ae", "insulin", "ds")] + [
    "edc/odm_export.xml", "vendor/central_lab.csv", "vendor/flow_cytometry.csv", "vendor/randomization.csv"]


def raw_is_complete(raw: Path) -> bool:
    """A raw folder is reused when `cdisc generate` finished writing it: it holds READY (written after
    a successful generation, here or by hand), or every file of the export, the last one written
    (randomization.csv) included."""
    return (raw / "READY").is_file() or all((raw / name).is_file() for name in RAW_FILES)


def one_size(subjects: int, work: Path, repeat: int = 1) -> dict:
    """``repeat`` timed runs of `cdisc run` (the same raw folder, the same output folder replaced each time),
    then `cdisc validate` alone and the I/O floor once. Time, CPU and stages are those of the median run (by
    wall time), the peak memory the highest of all; every run's figures are kept (``runs``)."""
    raw, out = work / f"raw-{subjects}", work / f"out-{subjects}"
    if not raw_is_complete(raw):
        if raw.exists():        # a generation that did not finish: start again
            shutil.rmtree(raw)
        subprocess.run(cdisc("generate", "--out", str(raw), "--subjects", str(subjects)), check=True,
                       stdout=subprocess.DEVNULL)
        (raw / "READY").touch()
    runs = [timed_run(raw, out) for _ in range(max(1, repeat))]
    median = sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]  # (of an even count: the lower)
    result = {"subjects": subjects, **median, "peak": max(r["peak"] for r in runs),
              "status": max((r["status"] for r in runs), key=abs), "runs": runs}
    return alone_and_floor(result, work)


def timed_run(raw: Path, out: Path) -> dict:
    """One `cdisc run` of ``raw`` into ``out``: wall time, CPU time, peak memory, exit status, stages."""
    # `cdisc run` maps chunks of subjects in worker processes: its memory is the peak of the sum of the
    # resident memory of the whole process tree (sampled from /proc), not the largest single process
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cdisc("run", "--raw", str(raw), "--out", str(out), "--progress"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    progress: list[str] = []
    reader = threading.Thread(target=lambda: progress.extend(proc.stderr), daemon=True)
    reader.start()
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.2)
    reader.join()
    seconds = time.perf_counter() - started
    # CPU time of the run and its workers (a worker's time counts once the run has waited for it): less
    # sensitive than wall time to what else the machine is doing, and the same work on the same CPU
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {"seconds": seconds, "peak": peak, "status": proc.returncode, "cpu": cpu, "load_before": load_before,
            "stages": stages("".join(progress), seconds)}


def alone_and_floor(result: dict, work: Path) -> dict:
    """`cdisc validate` alone on the output's SDTM and ADaM folders, and the I/O floor, into ``result``."""
    subjects = result["subjects"]
    raw, out = work / f"raw-{subjects}", work / f"out-{subjects}"
    probe = ("import subprocess,sys,time,resource;t=time.perf_counter();"
             "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
             "print(time.perf_counter()-t,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,p.returncode);"
             "sys.stderr.write(p.stderr)")
    for folder in ("sdtm", "adam"):
        check = subprocess.run([sys.executable, "-c", probe, *cdisc("validate", str(out / folder), "--out",
                                                                    str(work / f"validation-{subjects}-{folder}"))],
                               capture_output=True, text=True)
        v_seconds, v_peak, _ = check.stdout.split()
        result[f"validate_{folder}"] = (float(v_seconds), int(v_peak) * 1024)
    result["floor"], result["bytes"] = io_floor(raw, out.resolve())
    return result


def profile(subjects: int, work: Path, lines: int) -> str:
    """Where the CPU of a run goes: `cdisc run` again at ``subjects`` (its raw folder made by one_size) under
    cProfile, in the command's process and in every chunk task of its workers (cdisc.profiling), the profiles
    merged. A run apart from the timed one: cProfile about doubles the CPU of Python-heavy code."""
    from cdisc.profiling import ENV, top

    folder, out = work / f"profile-{subjects}", work / f"out-{subjects}-profiled"
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(cdisc("run", "--raw", str(work / f"raw-{subjects}"), "--out", str(out)), check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, ENV: str(folder)})
    shutil.rmtree(out, ignore_errors=True)
    return top(folder, lines)


def gib(n: float) -> str:
    return f"{n / 1024 ** 3:.2f} GB"


def cpu_model() -> str:
    """The processor's model name and clock as /proc/cpuinfo gives them (machines of one kind differ)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    model = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
    clock = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", info, re.M)
    return (model.group(1).strip() if model else "unknown CPU") + (f" at {float(clock.group(1)):.0f} MHz" if clock else "")


def report(results: list[dict]) -> None:
    print(f"machine: {platform.machine()}, {cpu_model()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024 ** 3:.0f} GB, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end")
    for r in results:
        print(f"\n{r['subjects']:,} subjects: cdisc run {r['seconds']:.1f} s, peak {gib(r['peak'])}, exit {r['status']}; "
              f"{r['bytes'] / 1e6:.0f} MB written; I/O floor {r['floor']:.1f} s (run / floor {r['seconds'] / r['floor']:.1f}x)")
        print(f"  CPU time {r['cpu']:.1f} s over the run's processes ({r['cpu'] / r['seconds']:.2f} cores busy on "
              f"average); load average {r['load_before']:.1f} when it started")
        if len(r["runs"]) > 1:
            times = [run["seconds"] for run in r["runs"]]
            print(f"  {len(times)} runs: " + ", ".join(f"{t:.1f}" for t in times) + f" s (median {r['seconds']:.1f} s, "
                  f"{min(times):.1f}-{max(times):.1f} s; CPU " + ", ".join(f"{run['cpu']:.1f}" for run in r["runs"]) +
                  " s; the stages below are the median run's, the peak the highest)")
        for name, seconds in r["stages"]:
            print(f"  {seconds:7.1f} s  {name}")
        vs, va = r["validate_sdtm"], r["validate_adam"]
        print(f"  cdisc validate alone: SDTM {vs[0]:.1f} s ({gib(vs[1])}), ADaM {va[0]:.1f} s ({gib(va[1])})")
    by_size = {r["subjects"]: r for r in results}
    if 10000 in by_size:
        r = by_size[10000]
        validate = r["validate_sdtm"][0] + r["validate_adam"][0]
        print("\ntargets (issue 13), 10,000 subjects:")
        within = sum(run["seconds"] <= TARGET_SECONDS_10K for run in r["runs"])
        print(f"  end to end <= {TARGET_SECONDS_10K:.0f} s: {r['seconds']:.1f} s"
              + (f" (the median of {len(r['runs'])} runs, {within} of them within)" if len(r["runs"]) > 1 else "")
              + f" ({r['seconds'] / TARGET_SECONDS_10K:.2f}x the target) "
              + ("MET" if within == len(r["runs"]) else "met by the median, not by every run"
                 if r["seconds"] <= TARGET_SECONDS_10K else "not met"))
        print(f"  peak memory < {gib(TARGET_MEMORY_10K)}: {gib(r['peak'])} "
              f"{'MET' if r['peak'] < TARGET_MEMORY_10K else 'not met'}")
        print(f"  validate SDTM + ADaM < {TARGET_VALIDATE_10K:.0f} s: {validate:.1f} s "
              f"{'MET' if validate < TARGET_VALIDATE_10K else 'not met'}")
    sizes = sorted(by_size)
    for small, large in zip(sizes, sizes[1:]):
        factor = large / small
        t = by_size[large]["seconds"] / by_size[small]["seconds"]
        m = by_size[large]["peak"] / by_size[small]["peak"]
        print(f"growth {small:,} -> {large:,} subjects ({factor:g}x): time {t:.1f}x, memory {m:.1f}x "
              f"({'linear or better' if t <= factor * 1.1 else 'worse than linear'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--work", default="/tmp/cdisc-bench-run")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="time `cdisc run` N times at each size: the median and the spread (the machine's own "
                             "noise can be several seconds)")
    parser.add_argument("--profile", type=int, metavar="SUBJECTS",
                        help="profile a run at this size, one of --subjects (default: the smallest; 0: none)")
    parser.add_argument("--profile-lines", type=int, default=30, help="functions listed in the profile")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    profiled = min(args.subjects) if args.profile is None else args.profile
    if profiled and profiled not in args.subjects:
        parser.error(f"--profile {profiled}: not one of --subjects {' '.join(map(str, args.subjects))}")
    results = []
    for subjects in args.subjects:
        print(f"running {subjects:,} subjects...", file=sys.stderr, flush=True)
        results.append(one_size(subjects, work, args.repeat))
    report(results)
    if profiled:
        print(f"profiling {profiled:,} subjects...", file=sys.stderr, flush=True)
        print(f"\nprofile of `cdisc run` at {profiled:,} subjects (a run apart, under cProfile: CPU about doubled; "
              f"by own time):\n{profile(profiled, work, args.profile_lines)}")


if __name__ == "__main__":
    main()
