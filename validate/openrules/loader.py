"""Read CDISC Open Rules (``rule.yml``, the CORE rule format) into plain objects.

A rules folder holds one ``rule.yml`` per rule, directly or in sub-folders (``Published/CORE-000001/
rule.yml``). Files are read with PyYAML's safe loader; nothing in them is ever evaluated as code. A file
that is not a rule (no ``Core.Id`` or no ``Check``) is a located error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from specs.errors import Problem, SpecError

# the safe loader (no tags, no objects), in its C implementation when PyYAML was built with libyaml
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class MatchDataset:
    name: str
    keys: tuple  # of (left, right) variable names
    child: bool = False
    join: str = "inner"
    wildcard: str = "**"


@dataclass
class OpenRule:
    core_id: str
    path: Path
    description: str
    message: str
    rule_type: str
    sensitivity: str
    executability: str
    status: str
    check: dict
    scope: dict = field(default_factory=dict)
    operations: list = field(default_factory=list)
    match_datasets: list = field(default_factory=list)
    output_variables: list = field(default_factory=list)
    standards: dict = field(default_factory=dict)  # standard name -> versions it cites
    conformance_ids: tuple = ()  # CG.... ids cited for SDTMIG/ADaMIG
    fda_ids: tuple = ()  # FB.... / TR.... FDA business rule ids
    grouping_variables: list = field(default_factory=list)

    def applies_to(self, standard: str, version: str | None = None) -> bool:
        """True when the rule cites ``standard`` ('SDTMIG'), at ``version`` ('3.4') when given."""
        versions = self.standards.get(standard.upper())
        if versions is None:
            return False
        return version is None or version in versions

    @property
    def severity(self) -> str:
        """CORE rules carry no severity; a fully executable rule reports errors, a partial one warnings."""
        return "Error" if self.executability == "Fully Executable" else "Warning"


def _keys(raw) -> tuple:
    out = []
    for key in raw or []:
        if isinstance(key, dict):
            out.append((str(key.get("Left")), str(key.get("Right"))))
        else:
            out.append((str(key), str(key)))
    return tuple(out)


def _ids(authorities: list) -> tuple[dict, tuple, tuple]:
    standards: dict[str, set] = {}
    cg: list[str] = []
    fda: list[str] = []
    for authority in authorities or []:
        organization = str(authority.get("Organization", ""))
        for standard in authority.get("Standards") or []:
            name = str(standard.get("Name", "")).upper()
            version = str(standard.get("Version", ""))
            standards.setdefault(name, set()).add(version)
            for reference in standard.get("References") or []:
                rid = str((reference.get("Rule Identifier") or {}).get("Id", ""))
                if not rid:
                    continue
                target = fda if organization == "FDA" else cg if name in ("SDTMIG", "ADAMIG") else None
                if target is not None and rid not in target:
                    target.append(rid)
    return standards, tuple(cg), tuple(fda)


def parse_rule(data: dict, path: Path) -> OpenRule:
    """One rule from its parsed YAML; raises SpecError naming the file and the missing key."""
    problems = []
    if not isinstance(data, dict):
        raise SpecError([Problem(str(path), "not a CORE rule: the file is not a mapping")])
    core = data.get("Core") or {}
    if not core.get("Id"):
        problems.append(Problem(str(path), "Core.Id: missing"))
    if not isinstance(data.get("Check"), (dict, list)):
        problems.append(Problem(str(path), "Check: missing or not a condition tree"))
    if problems:
        raise SpecError(problems)
    standards, cg, fda = _ids(data.get("Authorities"))
    outcome = data.get("Outcome") or {}
    match = []
    for m in data.get("Match Datasets") or []:
        match.append(MatchDataset(name=str(m.get("Name")), keys=_keys(m.get("Keys")), child=bool(m.get("Child")),
                                  join=str(m.get("Join Type", "inner")).lower(), wildcard=str(m.get("Wildcard", "**"))))
    check = data["Check"]
    if isinstance(check, list):  # a bare list of conditions means all of them
        check = {"all": check}
    return OpenRule(
        core_id=str(core["Id"]), path=path, description=str(data.get("Description") or "").strip(),
        message=str(outcome.get("Message") or "").strip(), rule_type=str(data.get("Rule Type") or "Record Data"),
        sensitivity=str(data.get("Sensitivity") or "Record"), executability=str(data.get("Executability") or ""),
        status=str(core.get("Status") or ""), check=check, scope=data.get("Scope") or {},
        operations=list(data.get("Operations") or []), match_datasets=match,
        output_variables=[str(v) for v in outcome.get("Output Variables") or []],
        standards={k: frozenset(v) for k, v in standards.items()}, conformance_ids=cg, fda_ids=fda,
        grouping_variables=[str(v) for v in data.get("Grouping Variables") or []],
    )


def rule_files(folder: Path) -> list[Path]:
    """Every rule.yml under ``folder`` (or ``folder`` itself when it is one file), sorted."""
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(folder.rglob("rule.yml"))


def load_rules(folder: str | Path) -> list[OpenRule]:
    """All rules of a folder; every unreadable file is reported at once."""
    folder = Path(folder)
    if not folder.exists():
        raise SpecError([Problem(str(folder), "no such rules folder")])
    files = rule_files(folder)
    if not files:
        raise SpecError([Problem(str(folder), "no rule.yml files found")])
    rules, problems = [], []
    for file in files:
        try:
            with file.open(encoding="utf-8") as fh:
                data = yaml.load(fh, Loader=SAFE_LOADER)
            rules.append(parse_rule(data, file))
        except yaml.YAMLError as exc:
            problems.append(Problem(str(file), f"not valid YAML: {exc}"))
        except SpecError as exc:
            problems.extend(exc.problems)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(file), f"cannot be read: {exc}"))
    if problems:
        raise SpecError(problems, title="rule file errors")
    return rules
