"""The corpus of hostile inputs (cases.yaml): each case prepares a copy of the demo spec and raw export,
runs one command, and expects an exit status and a message, never a traceback; a failed run leaves the
previous output as it was."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from cdisc.cli import main
from cdisc.pipeline import builtin_raw_dir
from specs.loader import builtin_spec_dir

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))


def prepare(tmp: Path, steps: list[dict]) -> None:
    """Apply a case's setup steps to the copy of the spec and raw export in tmp."""
    for step in steps:
        (kind, target), = [(k, v) for k, v in step.items() if k in ("edit", "write", "write_hex", "remove",
                                                                   "mkdir", "symlink", "append")]
        path = tmp / target
        if kind == "edit":
            text = path.read_text(encoding="utf-8")
            assert step["old"] in text, (target, step["old"])
            path.write_text(text.replace(step["old"], step["new"] * step.get("repeat", 1), 1), encoding="utf-8")
        elif kind == "append":
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(step["text"])
        elif kind == "write":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(step["text"] * step.get("repeat", 1), encoding="utf-8")
        elif kind == "write_hex":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes.fromhex(step["hex"]))
        elif kind == "remove":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        elif kind == "mkdir":
            path.mkdir(parents=True, exist_ok=True)
        elif kind == "symlink":
            path.unlink(missing_ok=True)
            os.symlink(step["to"].format(tmp=tmp), path)


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_input(case, tmp_path, monkeypatch, capsys):
    shutil.copytree(builtin_spec_dir(), tmp_path / "spec")
    shutil.copytree(builtin_raw_dir(), tmp_path / "raw", ignore=shutil.ignore_patterns("*.xml"))
    (tmp_path / "out" / "sdtm").mkdir(parents=True)
    (tmp_path / "out" / "sdtm" / "previous.txt").write_text("an earlier run")
    prepare(tmp_path, case.get("setup", []))
    before = snapshot(tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    try:
        code = main([str(a) for a in case["command"]])
    except SystemExit as exc:  # argparse refusing the arguments
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    assert code == case["exit"], err
    shown = " ".join((out + err).split())  # the pinned message, whatever the line breaks
    for message in ([case["message"]] if isinstance(case["message"], str) else case["message"]):
        assert " ".join(message.split()) in shown, err
    assert len(err) < case.get("max_chars", 20_000)
    if case["exit"] != 0:
        assert snapshot(tmp_path / "out") == before
        assert not (tmp_path / "out" / ".cdisc").exists()
