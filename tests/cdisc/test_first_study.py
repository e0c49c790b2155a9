"""docs/first-study.md stays true: its final spec runs end to end on its raw folder, and every excerpt,
error and output it shows is what the files hold and what `cdisc run` prints."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from cdisc.cli import main

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "docs" / "first-study.md"
EXAMPLE = ROOT / "docs" / "examples" / "first-study"
BLOCK = re.compile(r"<!-- (excerpt|output|error): (.+?) -->\n```[a-z]*\n(.*?)```", re.S)


def blocks(kind: str) -> list[tuple[str, str]]:
    return [(what, text) for k, what, text in BLOCK.findall(WALKTHROUGH.read_text(encoding="utf-8")) if k == kind]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """`cdisc run --spec spec --raw raw --sdtm-only --out out` in a copy of docs/examples/first-study."""
    folder = tmp_path_factory.mktemp("first-study")
    shutil.copytree(EXAMPLE, folder, dirs_exist_ok=True)
    return folder


def run(folder: Path, capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.chdir(folder)
    code = main(["run", "--spec", "spec", "--raw", "raw", "--sdtm-only", "--out", "out"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_final_spec_runs_end_to_end_and_prints_what_the_walkthrough_shows(first_run, capsys, monkeypatch):
    code, out, err = run(first_run, capsys, monkeypatch)
    assert code == 0, err
    assert (first_run / "out" / "m5" / "datasets" / "cdisc01" / "tabulations" / "sdtm" / "define.xml").is_file()
    printed = out.splitlines()
    [(_, shown)] = blocks("output")
    for line in shown.splitlines():
        assert line in printed, f"docs/first-study.md shows a line `cdisc run` no longer prints: {line!r}"
    assert "records not mapped" not in out


def test_every_excerpt_is_in_its_file():
    excerpts = blocks("excerpt")
    assert len(excerpts) >= 10
    for file, text in excerpts:
        assert text in (EXAMPLE / file).read_text(encoding="utf-8"), \
            f"docs/first-study.md shows an excerpt of {file} that the file no longer holds:\n{text}"


def test_the_error_shown_is_the_error_given(tmp_path, capsys, monkeypatch):
    [(change, shown)] = blocks("error")
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    sdtm = tmp_path / "spec" / "sdtm.yaml"
    sdtm.write_text(sdtm.read_text(encoding="utf-8").replace("format: DD-MON-YYYY", change, 1), encoding="utf-8")
    code, _, err = run(tmp_path, capsys, monkeypatch)
    assert code == 1
    expected = shown.rstrip("\n").removesuffix("...")
    assert err.startswith(expected), err
    assert "see docs/spec-reference.md#date-and-time-formats" in err


def test_the_readme_links_the_walkthrough_and_the_reference():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/first-study.md)" in readme and "(docs/spec-reference.md)" in readme
