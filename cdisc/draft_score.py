"""How much of a hand-written spec a drafted spec proposes correctly (``cdisc spec draft --compare``).

A variable of a hand-written domain that reads a raw source counts as proposed correctly when the draft
has the same variable in a domain made from the same raw file, reading the same raw columns (source,
date, time), with the same algorithm where the two are comparable: a hand-written condition_add is
compared by the columns its cases read, and the algorithms that read no raw column (derive_seq,
derive_study_day, hardcode_no_ct ...) by the algorithm alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from specs.errors import Problem, SpecError
from specs.loader import read_yaml

COLUMN_ARGS = ("source", "date", "time")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


@dataclass
class Score:
    correct: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def line(self) -> str:
        return f"{self.correct} of {self.total} variables proposed correctly ({self.fraction:.0%})"


def _columns(mapping: dict) -> set[str]:
    return {str(mapping[k]) for k in COLUMN_ARGS if isinstance(mapping, dict) and k in mapping}


def _case_columns(mapping: dict) -> set[str]:
    """The raw columns the cases of a condition_add read: in what they assign and in their conditions
    (every name of a condition counts: a column the draft maps is compared against them)."""
    found = set()
    for case in mapping.get("cases", []) if isinstance(mapping, dict) else []:
        found |= _columns(case.get("then", {}))
        found |= set(_NAME.findall(re.sub(r"'[^']*'", "", str(case.get("when", "")))))
    otherwise = mapping.get("otherwise") if isinstance(mapping, dict) else None
    return found | (_columns(otherwise) if isinstance(otherwise, dict) else set())


def _paths(document: dict) -> dict[str, str]:
    return {name: str(source.get("path", "")) for name, source in (document.get("sources") or {}).items()}


def _domain_files(sdtm: dict, paths: dict[str, str]) -> dict[str, set[str]]:
    files = {}
    for name, domain in (sdtm.get("domains") or {}).items():
        sources = domain.get("from")
        sources = [sources] if isinstance(sources, str) else list(sources or [])
        files[name] = {paths.get(s, "") for s in sources}
    return files


def _read(folder: Path) -> tuple[dict, dict]:
    problems: list[Problem] = []
    study, sdtm = read_yaml(folder / "study.yaml", problems), read_yaml(folder / "sdtm.yaml", problems)
    if problems:
        raise SpecError(problems)
    return study, sdtm


def compare_specs(draft_dir, hand_dir) -> Score:
    draft_study, draft_sdtm = _read(Path(draft_dir))
    hand_study, hand_sdtm = _read(Path(hand_dir))
    draft_files = _domain_files(draft_sdtm, _paths(draft_study))
    hand_files = _domain_files(hand_sdtm, _paths(hand_study))
    score = Score()
    for name, domain in (hand_sdtm.get("domains") or {}).items():
        if not domain.get("from"):
            continue  # trial design and domains built from other domains: not drafted from raw files
        drafted = (draft_sdtm.get("domains") or {}).get(name) or {}
        same_file = bool(hand_files[name] & draft_files.get(name, set()))
        proposed = {v.get("name"): v.get("map") or {} for v in drafted.get("variables", [])}
        for variable in domain.get("variables", []):
            mapping = variable.get("map")
            if not mapping:
                continue  # not mapped by hand either (Not Available, or made by the domain's build)
            score.total += 1
            mine = proposed.get(variable["name"])
            if same_file and mine is not None and _agrees(mapping, mine):
                score.correct += 1
            else:
                score.misses.append(f"{name}.{variable['name']}")
    return score


def _agrees(hand: dict, draft: dict) -> bool:
    if hand.get("algorithm") == "condition_add":
        columns = _case_columns(hand)
        return bool(columns) and _columns(draft) <= columns and bool(_columns(draft))
    if _columns(hand) != _columns(draft):
        return False
    return hand.get("algorithm") == draft.get("algorithm")
