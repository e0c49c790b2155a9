"""Every CDISC Open Rule on its own positive and negative test packages (../shared beside the clone).

The target: at least 95% of the Fully Executable SDTMIG 3.4 rules pass all their cases; every rule that does
not is explained in validate/openrules/known_failures.yaml, and docs/rule-coverage.md is what this run gives.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from validate.openrules import coverage

ROOT = Path(__file__).resolve().parents[3]
PUBLISHED = ROOT.parent / "shared" / "reference" / "cdisc-open-rules" / "Published"

pytestmark = [pytest.mark.openrules,
              pytest.mark.skipif(not PUBLISHED.is_dir(), reason="../shared/reference/cdisc-open-rules not present")]


@pytest.fixture(scope="module")
def outcomes():
    return coverage.run_coverage(PUBLISHED)


def test_at_least_95_percent_of_the_fully_executable_sdtmig_rules_pass_all_their_cases(outcomes):
    counted = [o for o in outcomes if o.counted]
    assert len(counted) == 314
    passing = [o.rule.core_id for o in counted if o.passed]
    assert len(passing) / len(counted) >= coverage.TARGET, f"{len(passing)} of {len(counted)} pass"


def test_every_rule_that_fails_is_explained_and_every_explanation_is_still_needed(outcomes):
    known = coverage.known_failures()
    failing = {o.rule.core_id for o in outcomes if not o.passed}
    unexplained = sorted(failing - set(known))
    stale = sorted(set(known) - failing)
    assert not unexplained, "rules failing without a reason in known_failures.yaml: " + "; ".join(
        f"{o.rule.core_id}: " + " || ".join(c.difference() for c in o.cases if not c.passed)
        for o in outcomes if o.rule.core_id in unexplained)
    assert not stale, f"rules listed in known_failures.yaml that now pass: {stale}"
    assert {entry["category"] for entry in known.values()} <= set(coverage.CATEGORIES)


def test_the_coverage_table_in_the_docs_is_current(outcomes):
    expected = coverage.render(outcomes)
    current = (ROOT / "docs" / "rule-coverage.md").read_text(encoding="utf-8")
    assert current == expected, ("docs/rule-coverage.md is stale: run python -m validate.openrules.coverage "
                                 "../shared/reference/cdisc-open-rules/Published --out docs/rule-coverage.md")
