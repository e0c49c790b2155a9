"""Run each open rule on its own positive and negative test packages and compare with the expected findings.

A rule folder holds ``positive/NN/data`` (no finding expected) and ``negative/NN/data`` (findings
expected), each with ``results/results.csv`` (Dataset, Record, Variable, Value: what CORE reported).
A case passes when the findings, as (dataset, record, variable) triples, equal the expected ones.
Values do not decide (CORE writes them as pandas shows them: 1.0 for 1), and neither do output
variables absent from the dataset: CORE lists them as "Not in dataset" in some results and not in others
for the same situation (CORE-000023 lists LBTOXGR, CORE-000328 omits CESTDY), depending on the engine
version that wrote the file.
"""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from specs.errors import CdiscError
from validate.openrules.engine import RunResult, run_rules
from validate.openrules.loader import OpenRule

NOT_IN_DATASET = "Not in dataset"


@dataclass
class CaseResult:
    rule: str
    kind: str  # positive / negative
    number: str
    passed: bool
    expected: Counter = field(default_factory=Counter)
    actual: Counter = field(default_factory=Counter)
    error: str = ""  # the package could not be read
    skips: list = field(default_factory=list)
    unverified: bool = False  # no results.csv: only "some finding" / "no finding" can be checked

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.number}"

    def difference(self, limit: int = 4) -> str:
        if self.error:
            return f"{self.name}: test data unreadable: {self.error}"
        if self.unverified:
            return (f"{self.name}: no results.csv; {sum(self.actual.values())} finding(s) reported"
                    + (" for positive data" if self.kind == "positive" else " for negative data"))
        missing = list((self.expected - self.actual).elements())
        extra = list((self.actual - self.expected).elements())
        parts = []
        if missing:
            parts.append(f"{len(missing)} expected finding(s) not reported, e.g. "
                         + "; ".join("/".join(x for x in t if x) for t in missing[:limit]))
        if extra:
            parts.append(f"{len(extra)} unexpected finding(s), e.g. "
                         + "; ".join("/".join(x for x in t if x) for t in extra[:limit]))
        if self.skips and not self.actual:
            parts.append("rule skipped: " + "; ".join(sorted({f"{s.dataset}: {s.reason}" for s in self.skips}))[:300])
        return f"{self.name}: " + ", ".join(parts)


def expected_findings(results_csv: Path) -> Counter | None:
    """The expected (dataset, record, variable) triples; None when the case ships no results.csv."""
    if not results_csv.is_file():
        return None
    with results_csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return Counter((r.get("Dataset") or "", (r.get("Record") or "").strip(), r.get("Variable") or "") for r in rows
                   if r.get("Value") != NOT_IN_DATASET)


def actual_findings(result: RunResult) -> Counter:
    out = Counter()
    for issue in result.issues:
        for variable, value in issue.values.items():
            if value == NOT_IN_DATASET:
                continue
            out[(issue.dataset, "" if issue.row is None else str(issue.row), variable)] += 1
    return out


def case_folders(rule_dir: Path) -> list[tuple[str, str, Path]]:
    out = []
    for kind in ("positive", "negative"):
        for case in sorted((rule_dir / kind).glob("*")) if (rule_dir / kind).is_dir() else []:
            if (case / "data").is_dir():
                out.append((kind, case.name, case))
    return out


def run_case(rule: OpenRule, kind: str, number: str, case: Path, terminology=None) -> CaseResult:
    from validate.package import load_package

    expected = expected_findings(case / "results" / "results.csv")
    unverified = expected is None
    try:
        package = load_package(case / "data")
    except CdiscError as exc:
        return CaseResult(rule.core_id, kind, number, False, expected or Counter(), Counter(),
                          error=" ".join(str(exc).split()), unverified=unverified)
    result = run_rules([rule], package, terminology)
    actual = actual_findings(result)
    # CORE writes a bare "PP,,," row when it could not run the rule on PP (a variable it names is absent):
    # our equivalent is a skip of that dataset
    for dataset, _row, _variable in [k for k in (expected or {}) if not k[2]]:
        if any(skip.dataset == dataset for skip in result.skips):
            actual[(dataset, "", "")] += expected[(dataset, "", "")]
    if unverified:  # test_data.md: positive data gives no output, negative data gives some
        passed = (not actual) if kind == "positive" else bool(actual)
        return CaseResult(rule.core_id, kind, number, passed, Counter(), actual, skips=result.skips, unverified=True)
    return CaseResult(rule.core_id, kind, number, actual == expected, expected, actual, skips=result.skips)


def run_rule_cases(rule: OpenRule, terminology=None) -> list[CaseResult]:
    return [run_case(rule, kind, number, case, terminology) for kind, number, case in case_folders(rule.path.parent)]
