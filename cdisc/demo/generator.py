"""Deterministic raw export of the demo study NCT05153070 (EDC CSVs + ODM, vendor transfers).

The layout is the contract in cdisc/demo/RAW_FORMAT.md. Same seed and subject count give
byte-identical files: seeded numpy Generators, no clock, stable ordering. Columns are built per table
with numpy/pandas; the only Python loops run over adverse events and ciclosporin gaps. Subject-level
draws are study-wide; the per-record tables are drawn and written per block of subjects (section
"Blocks of subjects"), and text columns are object arrays that share one string per distinct value.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc.demo.edc_forms import (FOLDER_RANK, FORM_ITEMS, PARTIAL_DATES, SITE, VISITS, il2_schedule, kit_width,
                                  make_edc)
from cdisc.demo.odm_export import EDC_COLUMNS, OdmWriter
from cdisc.demo.vendor import (FLOW_COLUMNS, LAB_COLUMNS, accession_numbers, central_lab, flow_cytometry,
                               ng_batch_candidates, randomization_list)

STUDYID = "NCT05153070"
FIRST_CONSENT = np.datetime64("2022-10-03")


# ---------------------------------------------------------------- subjects and visits
def make_subjects(rng, subjects: int) -> pd.DataFrame:
    n_sf = max(1, subjects // 12)
    n = subjects + n_sf
    width = max(3, len(str(n)))
    consent = FIRST_CONSENT + np.sort(rng.integers(0, 365, n)).astype("timedelta64[D]")
    screen_fail = np.zeros(n, dtype=bool)
    screen_fail[rng.choice(n, n_sf, replace=False)] = True
    d1 = consent + rng.integers(7, 29, n).astype("timedelta64[D]")
    age_days = rng.integers(int(16 * 365.25) + 1, int(36 * 365.25) - 2, n)
    male = rng.random(n) < .55
    height = np.where(male, rng.normal(177, 7, n), rng.normal(164, 6.5, n))
    bmi = np.clip(rng.normal(22, 2.5, n), 17.5, 30)
    s = pd.DataFrame({
        "subject": pd.Series([f"{SITE}-{i:0{width}d}" for i in range(1, n + 1)], dtype=object),
        "screen_fail": screen_fail, "consent": consent, "d1": d1,
        "birth": consent - age_days.astype("timedelta64[D]"), "male": male,
        "ethnic": np.array(["Not Hispanic or Latino", "Hispanic or Latino", "Not reported"])[
            rng.choice(3, n, p=[.85, .03, .12])],
        "race": np.array(["White", "Black or African American", "Asian", "Other", "Not reported"])[
            rng.choice(5, n, p=[.75, .10, .04, .04, .07])],
        "height": np.round(height), "weight0": bmi * (np.round(height) / 100) ** 2,
        "f0": np.clip(rng.lognormal(np.log(.3), .3, n), .12, .6),
        "k": rng.lognormal(np.log(.03), .5, n),
        "hba1c0": np.clip(rng.normal(8.0, .6, n), 6.8, 9.6),
        "ins0": np.clip(rng.normal(.45, .07, n), .28, .62),
        "treg0": np.clip(rng.normal(6.5, .8, n), 4.5, 8.5),
        "gluf0": rng.normal(6.8, 1.0, n), "crea0": np.where(male, rng.normal(80, 9, n), rng.normal(64, 8, n)),
        "alt0": rng.normal(20, 5, n), "ast0": rng.normal(22, 4, n),
    })
    # randomization numbers in order of Day 1, ties by subject number
    randomized = np.flatnonzero(~screen_fail)
    by_d1 = randomized[np.lexsort((randomized, d1[randomized]))]
    s["rand_seq"] = -1
    s.loc[by_d1, "rand_seq"] = np.arange(len(by_d1))
    return s


def assign_arms(rng, s: pd.DataFrame, rand_list: pd.DataFrame) -> pd.DataFrame:
    s = s.copy()
    seq = s["rand_seq"].to_numpy()
    ok = seq >= 0
    s["randno"] = ""
    s.loc[ok, "randno"] = rand_list["RANDNO"].to_numpy()[seq[ok]]
    s["treated"] = False
    s.loc[ok, "treated"] = rand_list["TRTCODE"].to_numpy()[seq[ok]] == "A"
    # planted cases among randomized subjects: withdrawal, SAE, ongoing AE, missed MMTT sample,
    # re-sent lab record, rapid C-peptide loss (placebo); all different subjects
    rand_idx = np.flatnonzero(ok)
    placebo = rand_idx[~s["treated"].to_numpy()[rand_idx]]
    rapid = rng.choice(placebo)
    others = rng.permutation(rand_idx[rand_idx != rapid])
    s["withdrawn"] = False
    s.loc[others[0], "withdrawn"] = True
    s.attrs.update(rapid=int(rapid), sae=int(others[1]), ongoing=int(others[2]),
                   missed=int(others[3 % len(others)]), resent=int(others[4 % len(others)]))
    s.loc[rapid, "k"] = np.log(s.loc[rapid, "f0"] / .012) / ((719 - 63) / 30.44)
    s.loc[s["treated"], "k"] *= .75
    return s


def make_visits(rng, s: pd.DataFrame) -> pd.DataFrame:
    n, nv = len(s), len(VISITS)
    subj = np.repeat(np.arange(n), nv)
    v = np.tile(np.arange(nv), n)
    keep = np.where(s["screen_fail"].to_numpy()[subj], v == 0,
                    np.where(s["withdrawn"].to_numpy()[subj], v <= 6, True))
    planned = np.array([x[2] for x in VISITS])[v]
    jitter = np.array([x[4] for x in VISITS])[v]
    day = planned + np.rint(rng.uniform(-1, 1, len(v)) * jitter).astype(int)
    d1 = s["d1"].to_numpy()[subj]
    date = np.where(v == 0, s["consent"].to_numpy()[subj], d1 + (day - 1).astype("timedelta64[D]"))
    day = np.where(v == 0, (s["consent"].to_numpy()[subj] - d1).astype(int), day)
    minutes = 465 + 5 * rng.integers(0, 16, len(v))
    visits = pd.DataFrame({"i": subj, "v": v, "day": day, "date": date, "minutes": minutes})[keep]
    visits = visits.reset_index(drop=True)
    # object text pointing at one string per folder / subject (a block's tables share them)
    visits["folder"] = pd.Series(np.array([x[0] for x in VISITS], dtype=object)[visits["v"]], dtype=object)
    visits["vendor"] = pd.Series(np.array([x[3] for x in VISITS], dtype=object)[visits["v"]], dtype=object)
    visits["subject"] = pd.Series(s["subject"].to_numpy(dtype=object)[visits["i"]], dtype=object)
    return visits


def last_days(s: pd.DataFrame, visits: pd.DataFrame, rng) -> pd.DataFrame:
    """Study day and date of end of study (DS) per subject."""
    s = s.copy()
    last = visits.groupby("i")["day"].max()
    s["last_day"] = last.reindex(s.index).to_numpy()
    s.loc[s["withdrawn"], "last_day"] += rng.integers(10, 60)
    s["eos_date"] = s["d1"].to_numpy() + (s["last_day"].to_numpy() - 1).astype("timedelta64[D]")
    sf = s["screen_fail"].to_numpy()
    s.loc[sf, "eos_date"] = s.loc[sf, "consent"].to_numpy() + np.timedelta64(7, "D")
    return s


# ---------------------------------------------------------------- orchestration
BLOCK_SUBJECTS = 10_000
# the random stream of each per-record table within a block (when there are several blocks)
TABLE_STREAMS = ("vs", "ex_csa", "ex_il2", "ae", "insulin", "central_lab", "flow_cytometry")


@dataclass
class Block:
    """What a block of subjects needs from the rest of the study."""
    number: int
    last: bool
    kit_width: int
    kit_offset: int
    sample_offset: int
    partial_dates: list          # planted partial AE dates still to plant (shared, consumed)


def subject_blocks(rows: int, subjects: int, block_subjects: int) -> list[tuple[int, int]]:
    """Contiguous ranges of the subject frame (screen failures included): ceil(subjects / block_subjects)
    blocks of near-equal size, so that up to `block_subjects` randomized subjects make one block."""
    count = -(-subjects // block_subjects)
    bounds = [rows * k // count for k in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def block_view(s: pd.DataFrame, visits: pd.DataFrame, lo: int, hi: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subjects lo..hi-1 and their visits, renumbered from 0, with the planted cases they hold."""
    block = s.iloc[lo:hi].reset_index(drop=True)
    block.attrs = {case: (k - lo if lo <= k < hi else None) for case, k in s.attrs.items()}
    first, stop = np.searchsorted(visits["i"].to_numpy(), [lo, hi])
    part = visits.iloc[first:stop].reset_index(drop=True)
    part["i"] = part["i"] - lo
    return block, part


def generate(out_dir, seed: int = 20221, subjects: int = 24, block_subjects: int = BLOCK_SUBJECTS) -> dict:
    """Write the raw export under `out_dir` (edc/, vendor/); return summary counts.

    Subject-level draws are study-wide; the per-record tables are drawn and written block after block of
    subjects (`block_subjects` randomized subjects at most per block), so memory stays that of a block.
    With one block every table draws from the study's generator in turn; with several, table T of block
    k draws from `default_rng([seed, k, TABLE_STREAMS.index(T)])` (cdisc/demo/RAW_FORMAT.md).
    """
    if subjects < 6:
        raise ValueError(f"subjects must be at least 6 (planted cases need distinct subjects), got {subjects}")
    if block_subjects < 1:
        raise ValueError(f"block_subjects must be at least 1, got {block_subjects}")
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    (out / "edc").mkdir(parents=True, exist_ok=True)
    (out / "vendor").mkdir(parents=True, exist_ok=True)
    rand_list = randomization_list(rng, subjects)
    s = assign_arms(rng, make_subjects(rng, subjects), rand_list)
    visits = make_visits(rng, s)
    s = last_days(s, visits, rng)
    visits["accession"] = accession_numbers(visits)
    ranges = subject_blocks(len(s), subjects, block_subjects)

    def streams(number: int):
        if len(ranges) == 1:
            return lambda table: rng
        return lambda table: np.random.default_rng([seed, number, TABLE_STREAMS.index(table)])

    # study-wide numbering and planted cases that depend on every block
    injections, samples, candidates, bad = [], [], set(), set()
    for number, (lo, hi) in enumerate(ranges):
        sb, vb = block_view(s, visits, lo, hi)
        injections.append(len(il2_schedule(sb, vb)[0]))
        samples.append(int((vb["v"] >= 1).sum()))
        if len(ranges) > 1:
            these, not_these = ng_batch_candidates(streams(number)("central_lab"), sb, vb)
            candidates, bad = candidates | these, bad | not_these
    ng_batch = None
    if len(ranges) > 1:     # one block: central_lab draws it from the study's generator, as it always did
        eligible = sorted(candidates - bad)
        ng_batch = eligible[int(rng.integers(0, len(eligible)))]

    counts = {"randomized": int((~s["screen_fail"]).sum()), "screen_failures": int(s["screen_fail"].sum()),
              "withdrawn": int(s["withdrawn"].sum())}
    folders = [(oid, name, [f.upper() for f in FORM_ITEMS if oid in _form_folders(f)])
               for oid, name in [(v[0], v[1]) for v in VISITS] + [("LOG", "Logs"), ("EOT", "End of Treatment"),
                                                                   ("EOS", "End of Study")]]
    last_date = max(s["eos_date"].max(), visits["date"].max())
    odm = OdmWriter(out / "edc" / "odm_export.xml", STUDYID, {f.upper(): items for f, items in FORM_ITEMS.items()},
                    folders, FOLDER_RANK, f"{str(last_date)[:10]}T18:00:00", SITE)
    edc_files = {form: CsvFile(out / "edc" / f"{form}.csv", EDC_COLUMNS + items) for form, items in FORM_ITEMS.items()}
    flow_file = CsvFile(out / "vendor" / "flow_cytometry.csv", FLOW_COLUMNS)
    lab_parts = TransferParts(out / "vendor" / ".central_lab.parts")
    partial_dates = [pattern for pattern, _ in PARTIAL_DATES]
    try:
        for number, (lo, hi) in enumerate(ranges):
            block = Block(number, number == len(ranges) - 1, kit_width(sum(injections)), sum(injections[:number]),
                          sum(samples[:number]), partial_dates)
            sb, vb = block_view(s, visits, lo, hi)
            stream = streams(number)
            edc = make_edc(stream, sb, vb, block)
            for name, table in edc.items():
                edc_files[name].write(table)
            odm.write({name.upper(): (r, table) for r, (name, table) in enumerate(edc.items())})
            del edc
            lab_parts.write(central_lab(stream("central_lab"), sb, vb, STUDYID, ng_batch))
            flow_file.write(flow_cytometry(stream("flow_cytometry"), sb, vb, block.sample_offset))
    finally:
        for handle in [*edc_files.values(), flow_file]:
            handle.close()
        records = odm.close()
    counts.update({f"edc/{name}.csv": handle.rows for name, handle in edc_files.items()})
    counts["vendor/central_lab.csv"] = lab_parts.join(out / "vendor" / "central_lab.csv", LAB_COLUMNS)
    counts["vendor/flow_cytometry.csv"] = flow_file.rows
    # written last: its presence says the export is complete (benchmarks/bench_run.py relies on it)
    randomization = CsvFile(out / "vendor" / "randomization.csv", list(rand_list.columns))
    randomization.write(rand_list)
    randomization.close()
    counts["vendor/randomization.csv"] = randomization.rows
    counts["edc/odm_export.xml"] = records
    return counts


def _form_folders(form: str) -> set:
    visits = {v[0] for v in VISITS}
    return {"dm": {"SCR"}, "ic": {"SCR"}, "rand": {"D1"}, "sv": visits, "vs": visits,
            "ex_csa": {"LOG"}, "ex_il2": {"LOG"}, "ae": {"LOG"}, "insulin": visits - {"SCR"},
            "ds": {"EOT", "EOS"}}[form]


class CsvFile:
    """A text-only CSV written block after block: minimal quoting, LF line ends (the csv module is
    much faster than to_csv), header first."""

    def __init__(self, path: Path, columns: list, header: bool = True):
        self.columns, self.rows = list(columns), 0
        self.handle = open(path, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        if header:
            self.writer.writerow(self.columns)

    def write(self, table: pd.DataFrame) -> None:
        if list(table.columns) != self.columns:
            raise ValueError(f"{self.handle.name}: columns {list(table.columns)} are not {self.columns}")
        self.writer.writerows(zip(*(table[c].to_numpy(dtype=object) for c in self.columns)))
        self.rows += len(table)

    def close(self) -> None:
        self.handle.close()


class TransferParts:
    """central_lab.csv is sorted by TRANSFER first: each block's rows go to one part file per transfer
    (blocks come in subject order, so each part stays sorted by subject), joined in transfer order."""

    def __init__(self, folder: Path):
        self.folder, self.parts = folder, {}
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()

    def write(self, lab: pd.DataFrame) -> None:
        transfer = lab["TRANSFER"].to_numpy(dtype=object)
        starts = np.flatnonzero(np.r_[True, transfer[1:] != transfer[:-1]]) if len(lab) else []
        for first, stop in zip(starts, [*starts[1:], len(lab)]):
            name = transfer[first]
            if name not in self.parts:
                self.parts[name] = CsvFile(self.folder / f"{name}.csv", list(lab.columns), header=False)
            self.parts[name].write(lab.iloc[first:stop])

    def join(self, path: Path, columns: list) -> int:
        rows = 0
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerow(columns)
            for name in sorted(self.parts, key=lambda t: int(t[1:])):
                part = self.parts[name]
                part.close()
                rows += part.rows
                with open(part.handle.name, encoding="utf-8", newline="") as source:
                    shutil.copyfileobj(source, handle, 1 << 22)
        shutil.rmtree(self.folder)
        return rows


def _whole_number(minimum: int, why: str = ""):
    """An argparse type: a whole number of at least ``minimum`` (``why`` says why, in the message)."""
    def parse(text: str) -> int:
        try:
            count = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number") from None
        if count < minimum:
            raise argparse.ArgumentTypeError(f"at least {minimum}{why}, got {count}")
        return count
    return parse


_subject_count = _whole_number(6, " (the planted cases need distinct subjects)")
_block_size = _whole_number(1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="cdisc generate",
                                     description="Write the demo study's deterministic raw export.")
    parser.add_argument("--out", required=True, help="output folder (edc/ and vendor/ are created)")
    parser.add_argument("--seed", type=int, default=20221)
    parser.add_argument("--subjects", type=_subject_count, default=24,
                        help="number of randomized subjects (at least 6)")
    parser.add_argument("--block-subjects", type=_block_size, default=BLOCK_SUBJECTS,
                        help=f"randomized subjects per block (memory; default {BLOCK_SUBJECTS:,})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.out, seed=args.seed, subjects=args.subjects, block_subjects=args.block_subjects)
    print(f"wrote {os.fspath(args.out)} in {time.perf_counter() - started:.1f} s: "
          f"{counts['randomized']} randomized, {counts['screen_failures']} screen failures")
    return 0


__all__ = ["generate", "main", "FORM_ITEMS", "VISITS", "STUDYID"]


if __name__ == "__main__":
    raise SystemExit(main())
