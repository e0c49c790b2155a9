"""docs/spec-reference.md is what specs.reference_doc generates, and every section the code points at exists."""
import re
from pathlib import Path

from specs import reference_doc
from specs.reference_doc import COMMAND, anchor, anchors, main, render

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "spec-reference.md"
PACKAGES = ("adam", "cdisc", "define", "sasxport", "sdtm", "specs", "validate")
CITED = re.compile(r"spec-reference\.md#([A-Za-z0-9_-]+)")


def test_committed_reference_is_up_to_date():
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert committed == render(), f"docs/spec-reference.md is stale: regenerate it with `{COMMAND}` and commit it"


def test_generation_is_deterministic():
    assert render() == render()


def _cited() -> dict[str, list[str]]:
    """anchor -> the files citing docs/spec-reference.md#anchor (code, README, the other docs)."""
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    files += [ROOT / "README.md", *[p for p in (ROOT / "docs").rglob("*.md") if p != REFERENCE]]
    cited: dict[str, list[str]] = {}
    for path in files:
        for found in CITED.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(found, []).append(str(path.relative_to(ROOT)))
    return cited


def test_every_section_the_code_cites_exists():
    cited = _cited()
    assert {"date-and-time-formats", "lookup-tables", "functions", "algorithms",
            "study-controlled-terminology"} <= set(cited)
    missing = {a: files for a, files in cited.items() if a not in anchors(render())}
    assert missing == {}, "sections cited but not in docs/spec-reference.md: " + str(missing)


def test_every_algorithm_has_its_own_section():
    from specs.vocabulary import ALGORITHMS

    assert {anchor(name) for name in ALGORITHMS} <= anchors(render())


def test_anchors_follow_github_rules():
    text = "# A b\n## Conditions, expressions and templates\n```\n# not a heading\n```\n## A b\n### derive_seq\n"
    assert anchors(text) == {"a-b", "conditions-expressions-and-templates", "a-b-1", "derive_seq"}


def test_check_says_how_to_regenerate(tmp_path, capsys):
    stale = tmp_path / "spec-reference.md"
    stale.write_text("old\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert capsys.readouterr().err == f"{stale} is stale: regenerate it with {COMMAND}\n"
    assert main(["--out", str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == render()


def test_schema_keys_and_their_descriptions_are_listed():
    text = render()
    assert "| `sources.<name>.decimal` | one of `.`, `,` |  | the decimal mark of the numbers in this source" in text
    assert "| `domains.<name>.variables[].map.algorithm` | string | yes |" in text
    assert reference_doc.anchor("Date and time formats") == "date-and-time-formats"


def test_main_spec_errors_point_at_their_section():
    from specs.ct import load_ct
    from specs.semantics import check_mapping
    from specs.vocabulary import ALGORITHMS, date_format_problem

    problems = []
    check_mapping({"algorithm": "assign_sometimes"}, "domains.AE.variables[3].map", {"map", "derive"}, None,
                  problems)
    check_mapping({"algorithm": "hardcode_ct", "value": "LEFT ARM", "codelist": "LOCX"},
                  "domains.VS.variables[5].map", {"map", "derive"}, load_ct(), problems)
    assert [str(p) for p in problems] == [
        f"domains.AE.variables[3].map.algorithm: unknown algorithm 'assign_sometimes' (known: "
        f"{', '.join(sorted(ALGORITHMS))}; see docs/spec-reference.md#algorithms)",
        "domains.VS.variables[5].map.codelist: codelist 'LOCX' is not in the study CT (neither the CDISC CT of "
        "study.ct.sdtm nor a file of study.ct.files has it: a study adds its own codelists and terms in a CSV file "
        "listed in study.yaml study.ct.files; see docs/spec-reference.md#study-controlled-terminology)"]
    assert date_format_problem("DD.MON.YY").startswith("unknown date format 'DD.MON.YY' (known: YYYY-MM-DD, ")
