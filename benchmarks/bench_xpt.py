"""XPT v5 writing and reading on a 1,000,000-record, 11-column LB-like frame (about 135 MB).

    python benchmarks/bench_xpt.py                 # 1,000,000 records, best of 3 runs per tool
    python benchmarks/bench_xpt.py --records 200000 --repeat 1

Times, side by side on the same frame and files: our writer (define.xpt.write_xpt) against
pyreadstat.write_xport (v5) and against the floor (writing the same bytes from memory); our reader
(sasxport.read_xport) against pyreadstat.read_xport and pandas.read_sas. Prints the machine and its
load average before and after (other jobs sharing the cores inflate every time: compare the ratios,
measured side by side), each issue-13 target with the measured value and the ratio, and checks that
the readers agree (pyreadstat value for value; pandas apart from its known misreadings, see
tests/sasxport/test_reader.py) and that our file has the bytes pyreadstat reads back.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from define.xpt import XptVariable, write_xpt  # noqa: E402
from sasxport import read_xport  # noqa: E402

TESTS = [("GLUC", "Glucose", "mmol/L"), ("CREAT", "Creatinine", "umol/L"), ("ALT", "Alanine Aminotransferase", "U/L"),
         ("HBA1C", "Hemoglobin A1C/Hemoglobin.Total in Blood", "%"), ("CPEPTIDE", "C-Peptide", "nmol/L"),
         ("K", "Potassium", "mmol/L")]


def lb_frame(records: int, seed: int = 1) -> tuple[pd.DataFrame, list[XptVariable]]:
    """LB as the mapping gives it: pandas' default text dtype, 10,000 subjects, 6 tests, 700 days."""
    rng = np.random.default_rng(seed)
    subjects = 10_000
    subject = np.sort(rng.integers(0, subjects, records))
    ids = np.char.add("NCT05153070-01-", np.char.zfill(np.arange(1, subjects + 1).astype(str), 5))
    tests = np.array(TESTS)
    test = rng.integers(0, len(tests), records)
    value = np.round(rng.gamma(4.0, 2.0, records), 2)
    day = rng.integers(0, 700, records)
    minutes = (day * 1440 + rng.integers(0, 600, records)).astype("timedelta64[m]")
    frame = pd.DataFrame({
        "STUDYID": "NCT05153070", "DOMAIN": "LB", "USUBJID": ids[subject],
        "LBSEQ": np.arange(1, records + 1, dtype=float), "LBTESTCD": tests[test, 0], "LBTEST": tests[test, 1],
        "LBORRES": np.char.mod("%.2f", value), "LBORRESU": tests[test, 2], "LBSTRESN": value,
        "VISITNUM": (day // 28 + 1).astype(float),
        "LBDTC": np.datetime_as_string(np.datetime64("2022-10-01T08:00") + minutes, unit="s")})
    for column in frame.columns:  # text columns in pandas' own text dtype, as read_csv gives them
        if frame[column].dtype == object:
            frame[column] = frame[column].astype(pd.Series(["x"]).dtype)
    variables = [XptVariable(c, c.title(), "Num" if frame[c].dtype.kind == "f" else "Char") for c in frame.columns]
    return frame, variables


def machine() -> str:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def side_by_side(runs: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """Best wall time of each function and the CPU time (every thread of this process) of that run;
    each round runs every one in turn, so a change in the machine's load touches them alike.
    ``runs``: name -> (function, setup or None; setup is not timed)."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, (function, setup) in runs.items():
            if setup:
                setup()
            cpu, started = time.process_time(), time.perf_counter()
            function()
            times[name].append((time.perf_counter() - started, time.process_time() - cpu))
    return {name: min(values) for name, values in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import pyreadstat

    frame, variables = lb_frame(args.records)
    load_before = load()
    with tempfile.TemporaryDirectory() as tmp:
        ours_path, theirs_path = Path(tmp) / "lb.xpt", Path(tmp) / "lb_pyreadstat.xpt"

        def ours_write():
            write_xpt(frame, ours_path, dataset_name="LB", dataset_label="Laboratory Test Results", variables=variables)

        def theirs_write():
            pyreadstat.write_xport(frame, str(theirs_path), file_format_version=5, table_name="LB")

        # a fresh file each time, as in a run's staging folder (removing the last one is not timed)
        written = side_by_side({"ours": (ours_write, lambda: ours_path.unlink(missing_ok=True)),
                                "theirs": (theirs_write, lambda: theirs_path.unlink(missing_ok=True))}, args.repeat)
        size = ours_path.stat().st_size
        payload = np.frombuffer(ours_path.read_bytes(), dtype=np.uint8).copy()  # the same bytes, in memory
        floor_path = Path(tmp) / "floor.xpt"

        def floor_write():
            with open(floor_path, "wb") as handle:
                handle.write(payload.data)
        written |= side_by_side({"floor": (floor_write, lambda: floor_path.unlink(missing_ok=True))}, args.repeat)
        del payload
        floor_path.unlink()
        (write_ours, write_ours_cpu), (write_theirs, write_theirs_cpu) = written["ours"], written["theirs"]
        write_floor = written["floor"][0]

        def pandas_read():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pd.read_sas(ours_path, format="xport", encoding="utf-8")
        read = side_by_side({"ours": (lambda: read_xport(ours_path), None),
                             "theirs": (lambda: pyreadstat.read_xport(str(ours_path)), None),
                             "pandas": (pandas_read, None)}, args.repeat)
        (read_ours, read_ours_cpu), (read_theirs, read_theirs_cpu) = read["ours"], read["theirs"]
        read_pandas = read["pandas"][0]
        ours = read_xport(ours_path).data
        theirs, _ = pyreadstat.read_xport(str(ours_path))
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)

    mb = size / 1e6
    print(f"machine: {machine()}; {load_before} before, {load()} after")
    print(f"frame: {args.records:,} records, {len(frame.columns)} columns; XPT file {mb:,.1f} MB; best of {args.repeat}")
    print(f"write  ours {write_ours:6.2f} s  {mb / write_ours:6.0f} MB/s   pyreadstat {write_theirs:6.2f} s  "
          f"{mb / write_theirs:6.0f} MB/s   the same bytes from memory {write_floor:6.2f} s  {mb / write_floor:6.0f} MB/s")
    print(f"read   ours {read_ours:6.2f} s  pyreadstat {read_theirs:6.2f} s  pandas.read_sas {read_pandas:6.2f} s")
    print(f"CPU time of those runs (all threads; less sensitive to other jobs than wall time): write ours "
          f"{write_ours_cpu:.2f} s, pyreadstat {write_theirs_cpu:.2f} s ({write_theirs_cpu / write_ours_cpu:.1f}x); "
          f"read ours {read_ours_cpu:.2f} s, pyreadstat {read_theirs_cpu:.2f} s ({read_theirs_cpu / read_ours_cpu:.1f}x)")
    print("targets (issue 13):")
    rows = [("XPT write >= 250 MB/s", f"{mb / write_ours:.0f} MB/s", mb / write_ours / 250),
            ("XPT write >= 20x pyreadstat", f"{write_theirs / write_ours:.1f}x", write_theirs / write_ours / 20),
            ("XPT read >= 5x pyreadstat.read_xport", f"{read_theirs / read_ours:.1f}x", read_theirs / read_ours / 5),
            ("XPT write vs writing from memory (no target)", f"{write_ours / write_floor:.1f}x the floor", None),
            ("XPT read vs pandas.read_sas (no target)", f"{read_pandas / read_ours:.1f}x", None)]
    for target, measured, ratio in rows:
        verdict = "" if ratio is None else f"  {ratio:.2f} of the target ({'met' if ratio >= 1 else 'NOT met'})"
        print(f"  {target:46} {measured:>16}{verdict}")
    print("values: our reader == pyreadstat.read_xport (exact)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
