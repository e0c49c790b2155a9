"""XPT v5 writing and reading on a 1,000,000-record, 11-column LB-like frame (about 135 MB).

    python benchmarks/bench_xpt.py                 # 1,000,000 records, best of 3 runs per tool
    python benchmarks/bench_xpt.py --records 200000 --repeat 1

Times, side by side on the same frame and files: our writer (define.xpt.write_xpt) against
pyreadstat.write_xport (v5); our reader (sasxport.read_xport) against pyreadstat.read_xport and
pandas.read_sas. Prints each issue-13 target with the measured value and the ratio, and checks that
the readers agree (pyreadstat value for value; pandas apart from its known misreadings, see
tests/sasxport/test_reader.py).
"""
from __future__ import annotations

import argparse
import os
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


def best(function, repeat: int, setup=None) -> float:
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import pyreadstat

    frame, variables = lb_frame(args.records)
    with tempfile.TemporaryDirectory() as tmp:
        ours_path, theirs_path = Path(tmp) / "lb.xpt", Path(tmp) / "lb_pyreadstat.xpt"

        def ours_write():
            write_xpt(frame, ours_path, dataset_name="LB", dataset_label="Laboratory Test Results", variables=variables)

        def theirs_write():
            pyreadstat.write_xport(frame, str(theirs_path), file_format_version=5, table_name="LB")

        # a fresh file each time, as in a run's staging folder (removing the last one is not timed)
        write_ours = best(ours_write, args.repeat, setup=lambda: ours_path.unlink(missing_ok=True))
        write_theirs = best(theirs_write, args.repeat, setup=lambda: theirs_path.unlink(missing_ok=True))
        size = ours_path.stat().st_size
        read_ours = best(lambda: read_xport(ours_path), args.repeat)
        read_theirs = best(lambda: pyreadstat.read_xport(str(ours_path)), args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_pandas = best(lambda: pd.read_sas(ours_path, format="xport", encoding="utf-8"), args.repeat)
        ours = read_xport(ours_path).data
        theirs, _ = pyreadstat.read_xport(str(ours_path))
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)

    mb = size / 1e6
    print(f"frame: {args.records:,} records, {len(frame.columns)} columns; XPT file {mb:,.1f} MB; "
          f"{os.cpu_count()} cores; best of {args.repeat}")
    print(f"write  ours {write_ours:6.2f} s  {mb / write_ours:6.0f} MB/s   pyreadstat {write_theirs:6.2f} s  "
          f"{mb / write_theirs:6.0f} MB/s")
    print(f"read   ours {read_ours:6.2f} s  pyreadstat {read_theirs:6.2f} s  pandas.read_sas {read_pandas:6.2f} s")
    print("targets (issue 13):")
    rows = [("XPT write >= 250 MB/s", f"{mb / write_ours:.0f} MB/s", mb / write_ours / 250),
            ("XPT write >= 20x pyreadstat", f"{write_theirs / write_ours:.1f}x", write_theirs / write_ours / 20),
            ("XPT read >= 5x pyreadstat.read_xport", f"{read_theirs / read_ours:.1f}x", read_theirs / read_ours / 5),
            ("XPT read vs pandas.read_sas (no target)", f"{read_pandas / read_ours:.1f}x", None)]
    for target, measured, ratio in rows:
        verdict = "" if ratio is None else f"  {ratio:.2f} of the target ({'met' if ratio >= 1 else 'NOT met'})"
        print(f"  {target:42} {measured:>10}{verdict}")
    print("values: our reader == pyreadstat.read_xport (exact)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
