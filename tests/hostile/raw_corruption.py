"""Random single-cell corruptions of a raw export, and how a build of SDTM must answer each: refuse it
with a message that locates it, or accept it with every record still accounted for and no value changed
other than to the corrupted text itself (a corrupted value may be carried as typed, never silently
turned into something else). Corruptions are checked in batches of cases on different subjects, so that
each case's outcome is read from the records of its own subjects: the cases stay independent, and a few
builds check a few hundred cases; a batch that cannot be read that way is split in two."""
from __future__ import annotations

import re
import traceback
from dataclasses import dataclass

import numpy as np
import pandas as pd

from specs.errors import CdiscError

KINDS = ("junk", "decimal_comma", "lower", "padded", "empty", "accent", "duplicate_key")
NOT_COMPARED = re.compile(r"^([A-Z]{2}SEQ|IDVARVAL)$")  # renumbered when records are added or removed
SUBJECT_KEY = re.compile(r"\b(?:Subject|SUBJECT)=([^,)]+)")


@dataclass
class Case:
    number: int
    table: str
    row: int  # position in the located table
    column: str
    kind: str
    old: str
    new: str
    location: str  # "edc/ae.csv row 12"
    subjects: frozenset = frozenset()  # USUBJIDs whose records the corruption may change
    other_location: str = ""  # duplicate_key: the record whose key is copied
    studyid: str = ""
    outcome: str = ""

    @property
    def id(self) -> str:
        return f"{self.number:03d}-{self.table}-{self.column}-{self.kind}"

    @property
    def token(self) -> str | None:
        """The text that may appear in the output where the old value was (None: any change of the
        subject's records is a consequence a build may draw, e.g. from an empty date)."""
        return None if self.kind in ("empty", "duplicate_key") else self.new


def subject_of(table: pd.DataFrame, rows, studyid: str, lookup: dict[str, str]) -> list[str]:
    column = next((c for c in ("Subject", "SUBJECT") if c in table.columns), None)
    if column is not None:
        return [f"{studyid}-{table[column].iloc[r]}" for r in rows]
    if "RANDNO" in table.columns:  # a lookup table: the subject given that number
        return [f"{studyid}-{lookup[table['RANDNO'].iloc[r]]}" for r in rows if table["RANDNO"].iloc[r] in lookup]
    return []


def make_cases(tables: dict[str, pd.DataFrame], keys: dict[str, list[str]], studyid: str, count: int,
               seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    names = sorted(tables)
    rand = next((t for t in tables.values() if {"RANDNO", "Subject"} <= set(t.columns)), None)
    lookup = dict(zip(rand["RANDNO"], rand["Subject"])) if rand is not None else {}
    cases = []
    for number in range(count):
        name = names[rng.integers(len(names))]
        table = tables[name]
        columns = [c for c in table.columns if not c.startswith("__")]  # the readers' own columns
        row = int(rng.integers(len(table)))
        kind = KINDS[rng.integers(len(KINDS))]
        column = columns[rng.integers(len(columns))]
        old = str(table.iloc[row][column])
        other, other_location = row, ""
        if kind == "duplicate_key":
            other = int(rng.integers(len(table)))
            other = other if other != row else (row + 1) % len(table)
            column = "+".join(keys[name])
            old = " | ".join(str(table.iloc[row][k]) for k in keys[name])
            new = " | ".join(str(table.iloc[other][k]) for k in keys[name])
            other_location = f"{table['__file'].iloc[other]} row {table['__row'].iloc[other]}"
        elif kind == "decimal_comma":
            new = old.replace(".", ",") if re.fullmatch(r"-?\d+\.\d+", old) else f"{old or 1},5"
        elif kind == "lower":
            new = old.lower() if old.lower() != old else f"{old}x".lower()
        elif kind == "padded":
            new = f" {old} "
        elif kind == "accent":
            new = f"{old}é"
        elif kind == "empty" and old != "":
            new = ""
        else:
            kind, new = "junk", f"zq{number:03d}x"
        subjects = set(subject_of(table, [row, other], studyid, lookup))
        if kind in ("junk", "decimal_comma", "lower", "accent", "padded") and column in ("Subject", "SUBJECT"):
            subjects.add(f"{studyid}-{new}")
        cases.append(Case(number, name, row, column, kind, old, new,
                          f"{table['__file'].iloc[row]} row {table['__row'].iloc[row]}", frozenset(subjects),
                          other_location, studyid))
    return cases


def corrupt(tables: dict[str, pd.DataFrame], cases: list[Case], keys: dict[str, list[str]]) -> dict:
    out = dict(tables)
    for case in cases:
        if out[case.table] is tables[case.table]:
            out[case.table] = tables[case.table].copy()
        table = out[case.table]
        if case.kind == "duplicate_key":
            for key, value in zip(keys[case.table], case.new.split(" | ")):
                table.iloc[case.row, table.columns.get_loc(key)] = value
        else:
            table.iloc[case.row, table.columns.get_loc(case.column)] = case.new
    return out


# --- reading a build's answer -------------------------------------------------------------------------

def _rows(frame: pd.DataFrame) -> tuple[list[tuple], list[str]]:
    columns = [c for c in frame.columns if not NOT_COMPARED.match(c)]
    text = frame[columns].astype(object).where(frame[columns].notna(), "").astype(str)
    return list(map(tuple, text.to_numpy())), columns


def unexplained_changes(base: dict, result: dict, cases: list[Case]) -> dict[str, str]:
    """{USUBJID or '' (a dataset without subjects): the first change no case's token explains}."""
    tokens = {}
    for case in cases:
        for subject in case.subjects:
            tokens.setdefault(subject, []).append(case.token)
    found: dict[str, str] = {}
    for name, frame in result.items():
        old = base[name]
        if old.equals(frame):
            continue
        old_rows, columns = _rows(old)
        new_rows, _ = _rows(frame)
        counts = pd.Series(old_rows, dtype=object).value_counts().sub(
            pd.Series(new_rows, dtype=object).value_counts(), fill_value=0)
        gone = [r for r, n in counts.items() for _ in range(int(n)) if n > 0]
        came = [r for r, n in counts.items() for _ in range(int(-n)) if n < 0]
        where = columns.index("USUBJID") if "USUBJID" in columns else None
        for row in gone + came:  # each changed record, by its subject
            subject = row[where] if where is not None else ""
            allowed = tokens.get(subject)
            if allowed is None:
                found.setdefault(subject, f"{name}: record changed on a subject no case touched: {row[:6]}")
                continue
            if None in allowed:
                continue  # an emptied value or a moved key may change its subject's records
            if row in came:
                partners = [g for g in gone if g[where] == subject and len(g) == len(row)]
                texts = {t for t in allowed} | {t.strip() for t in allowed} | {t.strip().upper() for t in allowed}
                texts.discard("")
                ok = any(all(a == b or any(t in b for t in texts) for a, b in zip(g, row)) for g in partners)
                if not ok:
                    near = min(partners, key=lambda g: sum(a != b for a, b in zip(g, row))) if partners else ()
                    diff = [(columns[i], a, b) for i, (a, b) in enumerate(zip(near, row)) if a != b][:4]
                    found.setdefault(subject, f"{name}: {diff or 'record added ' + str(row[:6])}")
            elif not any(c[where] == subject and len(c) == len(row) for c in came):
                found.setdefault(subject, f"{name}: record removed {row[:6]}")
    return found


def accounting(base, result) -> dict[str, str]:
    """{USUBJID: domain whose records out + records listed as not mapped changed for that subject}."""
    def counts(build) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for report in build.reports:
            data = build.datasets[report.domain]
            for subject, n in data["USUBJID"].value_counts().items() if "USUBJID" in data else []:
                out[(report.domain, subject)] = out.get((report.domain, subject), 0) + int(n)
            for issue in report.not_mapped:
                match = SUBJECT_KEY.search(issue.key)
                subject = f"{build.datasets['DM']['STUDYID'].iloc[0] if len(build.datasets['DM']) else ''}-" \
                          f"{match.group(1)}" if match else ""
                out[(report.domain, subject)] = out.get((report.domain, subject), 0) + 1
        return out

    before, after = counts(base), counts(result)
    found = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key, 0) != after.get(key, 0):
            found.setdefault(key[1], f"{key[0]}: {before.get(key, 0)} records mapped or listed, now {after.get(key, 0)}")
    return found


def names_the_cell(case: Case, text: str) -> bool:
    where = [case.location] + ([case.other_location] if case.other_location else [])
    if any(re.search(re.escape(w) + r"\b", text) for w in where):
        return True
    if " row " not in text:
        return False
    if case.kind != "empty" and f"'{case.new}'" in text:  # the value, where it went
        return True
    if len(case.old) >= 3 and f"'{case.old}'" in text:  # a key that lost its partner, where it is used
        return True
    subjects = {s[len(case.studyid) + 1:] for s in case.subjects}  # the column, on its subject's records
    return re.search(rf"\b{re.escape(case.column)}\b", text) is not None and \
        any(f"Subject={s}," in text or f"SUBJECT={s}," in text for s in subjects)


@dataclass
class Checker:
    """Checks batches of cases with ``build`` (tables -> SDTM result, raising CdiscError to refuse)."""

    build: object
    tables: dict
    keys: dict
    base: object = None
    builds: int = 0
    split: bool = True

    def __post_init__(self):
        self.base = self.build(self.tables)

    def _build(self, cases):
        self.builds += 1
        try:
            return self.build(corrupt(self.tables, cases, self.keys)), None
        except CdiscError as exc:
            return None, exc
        except Exception as exc:  # what the user would see as a traceback
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            return None, (f"traceback: {type(exc).__name__}: {str(exc)[:200]} "
                          f"({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})")

    def check(self, cases: list[Case], split: bool = True) -> None:
        """Each case's outcome: 'refused', 'accepted', or what went wrong. Without ``split`` (cases known to
        fail), what cannot be told case by case is the outcome of the whole batch."""
        if not cases:
            return
        self.split = split
        result, error = self._build(cases)
        if isinstance(error, str):
            return self._fail_or_split(cases, error)
        if error is not None:
            text = str(error)
            if any(not p.where for p in getattr(error, "problems", [])):
                return self._fail_or_split(cases, f"a message that locates nothing: {text[:300]}")
            named = [c for c in cases if names_the_cell(c, text)]
            for case in named:
                case.outcome = "refused"
            rest = [c for c in cases if c not in named]
            if not named:
                return self._fail_or_split(cases, f"refused without naming the cell: {text[:300]}")
            return self.check(rest, split)
        problems = {**unexplained_changes(self.base.datasets, result.datasets, cases),
                    **accounting(self.base, result)}
        touched = set().union(*(c.subjects for c in cases))
        stray = [k for k in problems if k not in touched]  # a change no case of the batch can own
        if stray and len(cases) > 1 and split:
            return self._split(cases)
        for case in cases:
            hit = [problems[s] for s in sorted(case.subjects) if s in problems] + [problems[s] for s in stray]
            case.outcome = f"accepted, but {hit[0]}" if hit else "accepted"

    def _fail_or_split(self, cases, why):
        if len(cases) == 1 or not self.split:
            for case in cases:
                case.outcome = why if len(cases) == 1 else f"in a batch that failed: {why}"
        else:
            self._split(cases)

    def _split(self, cases):
        half = len(cases) // 2
        self.check(cases[:half])
        self.check(cases[half:])


def batches(cases: list[Case], size: int) -> list[list[Case]]:
    """Cases grouped so that no two in a group share a subject or a record."""
    groups: list[tuple[list[Case], set]] = []
    for case in cases:
        touched = set(case.subjects) | {(case.table, case.row)} | ({""} if not case.subjects else set())
        for group, used in groups:
            if len(group) < size and not (touched & used):
                group.append(case)
                used |= touched
                break
        else:
            groups.append(([case], set(touched)))
    return [g for g, _ in groups]
