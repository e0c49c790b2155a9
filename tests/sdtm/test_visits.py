"""Collected visit labels placed by pattern, unscheduled visits numbered by the design's rule."""

import numpy as np
import pandas as pd
import pytest

from sdtm.visits import place_visits
from specs.errors import SpecError
from specs.loader import load_study_spec
from specs.visit_match import patterns

VISITS = [
    {"visitnum": 1, "visit": "SCREENING", "visitdy": -14, "match": {"folder": "Screening"}},
    {"visitnum": 2, "visit": "WEEK 2", "visitdy": 15, "match": {"folder": [{"regex": r"w(ee)?k\s*0?2"}, "Visit 2"]}},
    {"visitnum": 3, "visit": "WEEK 4", "visitdy": 29, "match": {"folder": {"glob": "week 4*"}}},
    {"visitnum": 4, "visit": "END OF STUDY", "match": {"folder": {"glob": "E*"}, "vendor": "EOS"}},
]


def test_labels_match_by_text_regex_or_glob_case_and_spaces_ignored():
    labels = pd.Series(["screening ", "SCREENING", "Wk 02", "week2", "visit   2", "Week 4 (Day 29)", "WEEK 4",
                        "End of study", ""])
    placed = place_visits(labels, VISITS, None, "folder")
    assert list(placed["visitnum"][:8]) == [1, 1, 2, 2, 2, 3, 3, 4] and np.isnan(placed["visitnum"].iloc[8])
    assert list(placed["visit"]) == ["SCREENING", "SCREENING", "WEEK 2", "WEEK 2", "WEEK 2", "WEEK 4", "WEEK 4",
                                     "END OF STUDY", ""]
    assert list(placed["visitdy"][:3]) == [-14, -14, 15] and np.isnan(placed["visitdy"].iloc[7])
    assert set(placed["problem"]) == {""}


def test_unmatched_and_ambiguous_labels_are_problems():
    placed = place_visits(pd.Series(["Week 6", "Early termination", "Week 4"]), VISITS
                          + [{"visitnum": 5, "visit": "WEEK 4 BIS", "match": {"folder": "WEEK 4"}}], None, "folder")
    assert placed["problem"].iloc[0] == ("is not a visit of the schedule (design.visits match.folder: Screening, "
                                         r"regex w(ee)?k\s*0?2, Visit 2, glob week 4*, glob E*, WEEK 4)")
    assert placed["problem"].iloc[1] == ""  # E* (END OF STUDY)
    assert placed["problem"].iloc[2] == ("matches more than one visit of the schedule (design.visits: WEEK 4, "
                                         "WEEK 4 BIS)")


def test_unscheduled_visits_numbered_from_the_label():
    rule = {"match": {"folder": {"glob": "unsch*"}}, "visit": "UNSCHEDULED"}
    placed = place_visits(pd.Series(["Unscheduled 4.1", "UNSCHEDULED  2", "Unscheduled", "Visit 2"]), VISITS, rule,
                          "folder")
    assert list(placed["visitnum"][:2]) == [4.1, 2.0] and placed["visitnum"].iloc[3] == 2.0
    assert list(placed["visit"]) == ["UNSCHEDULED 4.1", "UNSCHEDULED 2", "", "WEEK 2"]
    assert placed["visitdy"][:2].isna().all()
    assert placed["problem"].iloc[2] == ("is an unscheduled visit with no number in its label to number it by "
                                         "(design.unscheduled)")


def test_unscheduled_visits_numbered_after_the_last_scheduled_visit():
    # the schedule ends at VISITNUM 4: 'Unsched visit 1 (day 30)' -> 4 + 1 x 0.1 = 4.1; group 'number' picks 3
    rule = {"match": {"folder": [{"regex": r"unsch\w* visit (?P<number>\d+).*"}, {"glob": "unsch*"}]},
            "number": "after_last", "step": 0.1}
    placed = place_visits(pd.Series(["Unsched visit 1 (day 30)", "unscheduled visit 3", "Unsch 2"]), VISITS, rule,
                          "folder")
    assert list(placed["visitnum"]) == [4.1, 4.3, 4.2]
    assert list(placed["visit"]) == ["UNSCHEDULED 1", "UNSCHEDULED 3", "UNSCHEDULED 2"]


def test_bad_patterns_are_described():
    with pytest.raises(ValueError, match=r"regex 'week \(' does not compile"):
        patterns({"regex": "week ("})
    with pytest.raises(ValueError, match="is not a label"):
        patterns({"exact": "x"})


def test_visit_patterns_are_checked_at_load(spec):
    study = spec / "study.yaml"
    text = study.read_text(encoding="utf-8")
    text = text.replace("match: {folder: D1, vendor: DAY 1}", "match: {folder: D1, vendor: [DAY 1, {regex: 'day ('}]}")
    text = text.replace("match: {folder: D63, vendor: DAY 63}", "match: {folder: d1, vendor: DAY 63}")
    text = text.replace("  visits:\n", "  unscheduled: {match: {folder: {glob: 'UNS*'}}, number: label}\n  visits:\n", 1)
    study.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as error:
        load_study_spec(spec)
    assert [str(p) for p in error.value.problems] == [
        "spec/study.yaml: design.visits[1].match.vendor: regex 'day (' does not compile: missing ), unterminated "
        "subpattern at position 4",
        "spec/study.yaml: design.visits[2].match.folder: 'd1' is also the label of DAY 1 (case and spaces ignored)"]
