"""Arms by the design's explicit labels, the actual arm from the collected actual treatment, and actual
arms from SE element sequences the design lists (no prefix rule)."""
import pandas as pd

from sdtm.arms import actual_arm_collected, match_arms
from sdtm.design import actual_arm
from sdtm.engine import DERIVATIONS
from sdtm.derivations import DeriveContext

# arm codes that share no prefix with what sites collect: the design says which text is which arm
ARMS = [
    {"armcd": "XAN_HI", "arm": "Xanomeline High Dose", "elements": ["SCRN", "HI"],
     "match": {"actual": ["Xanomeline 81 mg", {"glob": "xan* high*"}], "crf": "High"}},
    {"armcd": "PBO", "arm": "Placebo", "elements": ["SCRN", "PBO"],
     "match": {"actual": [{"regex": r"placebo( tablet)?"}, "Pbo"], "crf": "Placebo"}},
    {"armcd": "XAN_LO", "arm": "Xanomeline Low Dose", "elements": ["SCRN", "LO"],
     "match": {"actual": ["Xanomeline 54 mg", {"glob": "xan* low*"}]}},
]


def test_collected_texts_name_arms_by_label_regex_or_glob():
    armcd, problem = match_arms(pd.Series(["xanomeline  81 MG", "Placebo tablet", "PBO", "Xan. low dose", "",
                                           "Xanomeline 100 mg"]), ARMS, "actual")
    assert list(armcd) == ["XAN_HI", "PBO", "PBO", "XAN_LO", "", ""]
    assert list(problem[:5]) == ["", "", "", "", ""]
    assert problem[5] == ("is not an arm of design.arms (match.actual: XAN_HI: Xanomeline 81 mg | glob xan* high*; "
                          r"PBO: regex placebo( tablet)? | Pbo; XAN_LO: Xanomeline 54 mg | glob xan* low*)")


def test_a_text_naming_two_arms_is_a_problem():
    arms = ARMS + [{"armcd": "XAN", "arm": "Xanomeline", "elements": ["SCRN"], "match": {"actual": {"glob": "xan*"}}}]
    _, problem = match_arms(pd.Series(["Xanomeline 54 mg"]), arms, "actual")
    assert problem[0] == "matches more than one arm of design.arms (XAN_LO, XAN)"


def test_actual_arm_from_the_collected_actual_treatment():
    # S1 as randomized; S2 randomized to placebo, given the high dose; S3 randomized, nothing given;
    # S4 never randomized, nothing given; S5 given placebo without being randomized; S6 an unknown text
    dm = pd.DataFrame({"USUBJID": ["S1", "S2", "S3", "S4", "S5", "S6"],
                       "ARMCD": ["XAN_LO", "PBO", "PBO", "", "", "PBO"]})
    collected = pd.Series(["Xanomeline 54 mg", "xanomeline high dose", "", "", "placebo", "Vitamin C"])
    result, problem = actual_arm_collected(dm, collected, ARMS, "actual")
    assert list(result["ACTARMCD"]) == ["XAN_LO", "XAN_HI", "", "", "", ""]
    assert list(result["ACTARM"]) == ["Xanomeline Low Dose", "Xanomeline High Dose", "", "", "", ""]
    assert list(result["ARMNRS"]) == ["", "", "ASSIGNED, NOT TREATED", "SCREEN FAILURE", "UNPLANNED TREATMENT", ""]
    assert list(result["ACTARMUD"]) == ["", "", "", "", "placebo", ""]
    assert list(problem[:5]) == [""] * 5 and problem[5].startswith("is not an arm of design.arms (match.actual: ")


def test_actual_arm_from_listed_element_sequences_not_a_prefix_rule():
    design = {"arms": [{"armcd": "A", "arm": "Drug", "elements": ["SCRN", "TRT", "FU"],
                        "sequences": [["SCRN", "TRT"]]},
                       {"armcd": "B", "arm": "Drug then rescue", "elements": ["SCRN", "TRT", "RESC", "FU"]}],
              "elements": [{"etcd": e, "start": {"domain": "EX"}} for e in ["TRT", "RESC", "FU"]]
              + [{"etcd": "SCRN", "start": {"domain": "DM"}}]}
    dm = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "ARMCD": ["A", "B", "B"]})
    se = pd.DataFrame({"USUBJID": ["S1", "S1", "S2", "S2", "S2", "S3", "S3"],
                       "SESEQ": [1, 2, 1, 2, 3, 1, 2], "ETCD": ["SCRN", "TRT", "SCRN", "TRT", "RESC", "SCRN", "TRT"]})
    # prefix rule: S2 (SCRN>TRT>RESC) left early from B; S3 (SCRN>TRT) fits both, the planned B wins
    prefix = actual_arm(dm, se, design)
    assert list(prefix["ACTARMCD"]) == ["A", "B", "B"]
    # listed: only each arm's elements and the sequences it lists: S2 fits none, S3 is A's listed sequence
    listed = actual_arm(dm, se, design, "listed")
    assert list(listed["ACTARMCD"]) == ["A", "", "A"]
    assert list(listed["ARMNRS"]) == ["", "UNPLANNED TREATMENT", ""]
    assert list(listed["ACTARMUD"]) == ["", "SCRN -> TRT -> RESC", ""]


def test_derive_actarmcd_with_a_source_reports_texts_it_cannot_place():
    data = pd.DataFrame({"USUBJID": ["S1", "S2"], "ARMCD": ["PBO", "PBO"],
                         "__file": ["dm.csv", "dm.csv"], "__row": [2, 3], "__key": ["S1", "S2"]})
    records = pd.DataFrame({"ACTTRT": ["Pbo", "aspirin"]})
    ctx = DeriveContext("DM", "ACTARMCD", {}, {"variables": []}, None, {"arms": ARMS}, records=records)
    values = DERIVATIONS["derive_actarmcd"](data, {"source": "ACTTRT"}, ctx)
    assert list(values) == ["PBO", ""]
    assert [str(p) for p in ctx.problems] == [
        "dm.csv row 3 (S2): DM.ACTARMCD from raw column ACTTRT: 'aspirin' is not an arm of design.arms "
        "(match.actual: XAN_HI: Xanomeline 81 mg | glob xan* high*; PBO: regex placebo( tablet)? | Pbo; XAN_LO: "
        "Xanomeline 54 mg | glob xan* low*)"]
    assert list(DERIVATIONS["derive_armnrs"](data, {"source": "ACTTRT"}, ctx)) == ["", ""]
    assert len(ctx.problems) == 1  # reported once, by ACTARMCD


def test_arm_matching_is_checked_at_load(tmp_path, monkeypatch):
    import shutil

    import pytest

    from specs.errors import SpecError
    from specs.loader import builtin_spec_dir, load_study_spec

    folder = tmp_path / "spec"
    shutil.copytree(builtin_spec_dir(), folder)
    monkeypatch.chdir(tmp_path)
    sdtm = folder / "sdtm.yaml"
    text = sdtm.read_text(encoding="utf-8")
    text = text.replace("{name: ACTARMCD, map: {algorithm: derive_actarmcd}}",
                        "{name: ACTARMCD, map: {algorithm: derive_actarmcd, source: TRTCODE, sequences: all}}")
    text = text.replace("{name: ARMCD, map: {algorithm: derive_armcd, source: TRTCODE}}",
                        "{name: ARMCD, map: {algorithm: derive_armcd, source: TRTCODE, match: crf}}")
    sdtm.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as error:
        load_study_spec(folder)
    messages = [str(p) for p in error.value.problems]
    assert any(m.endswith("map.match: no arm of design.arms has match.crf (give each arm's labels there)")
               for m in messages)
    assert any(m.endswith("map.sequences: 'all' is not 'prefix' or 'listed'") for m in messages)
    assert any(m.endswith("derive_actarmcd, derive_actarm, derive_armnrs, derive_actarmud must read the actual "
                          "arm alike (the same source, match and sequences)") for m in messages)
    assert any(m.endswith("map.match: no arm of design.arms has match.actual (give each arm's labels there)")
               for m in messages)
