"""Publishing: a new output replaces the old one whole, one run at a time; a killed run changes nothing
a reader can see and leaves nothing the next run does not remove."""
from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from cdisc.pipeline import Publication, publishing
from cdisc.publish import STATE, OutputBusy, OutputFolder, OutputLock

FORK = multiprocessing.get_context("fork")


def tree(folder: Path) -> dict[str, bytes]:
    """What a reader of folder sees: every file reached through its links, the state folder left out."""
    seen = {}
    for base, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != STATE)
        for name in files:
            path = Path(base) / name
            if path.exists():  # a link to a name the published version does not have reads as absent
                seen[path.relative_to(folder).as_posix()] = path.read_bytes()
    return seen


def write_output(staging: Path, label: str, names=("dm", "ae", "lb")) -> None:
    (staging / "sdtm").mkdir()
    for name in names:
        (staging / "sdtm" / f"{name}.xpt").write_bytes(f"{label} {name}\n".encode() * 100)
    (staging / "manifest.json").write_text(f'{{"run": "{label}"}}\n')


def publish_output(out: Path, label: str, names=("dm", "ae", "lb"), cut: str | None = None) -> None:
    target = out / "cuts" / cut if cut else out
    with publishing(target, slot=cut is not None) as staging:
        write_output(staging, label, names)


def debris(out: Path) -> list[str]:
    """What the state folder holds beyond the published versions and the current link."""
    folder = OutputFolder(out)
    keep = folder.referenced() | {"current"}
    return sorted(p.name for p in (out / STATE).iterdir() if p.name not in keep) if (out / STATE).exists() else []


def test_a_run_replaces_the_output_whole_and_keeps_the_paths(tmp_path):
    out = tmp_path / "out"
    publish_output(out, "old", names=("dm", "ae", "lb"))
    assert (out / "sdtm" / "dm.xpt").read_bytes().startswith(b"old dm")
    publish_output(out, "new", names=("dm", "ae"))
    assert tree(out) == {"sdtm/dm.xpt": b"new dm\n" * 100, "sdtm/ae.xpt": b"new ae\n" * 100,
                         "manifest.json": b'{"run": "new"}\n'}
    assert (out / "sdtm").is_symlink() and os.readlink(out / "sdtm") == ".cdisc/current/sdtm"
    assert debris(out) == [] and len(list((out / STATE).glob("v-*"))) == 1


def test_a_run_that_fails_changes_nothing_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    publish_output(out, "old")
    before = tree(out)
    with pytest.raises(RuntimeError):
        with publishing(out) as staging:
            write_output(staging, "new")
            raise RuntimeError("a step failed")
    assert tree(out) == before and debris(out) == []


def test_cuts_are_their_own_versions_and_outlive_plain_runs(tmp_path):
    out = tmp_path / "out"
    publish_output(out, "cut1", cut="2023-06-30")
    publish_output(out, "plain")
    publish_output(out, "cut2", cut="2023-12-31")
    publish_output(out, "plain again")
    seen = tree(out)
    assert seen["cuts/2023-06-30/sdtm/dm.xpt"].startswith(b"cut1 dm")
    assert seen["cuts/2023-12-31/sdtm/dm.xpt"].startswith(b"cut2 dm")
    assert seen["sdtm/dm.xpt"].startswith(b"plain again dm")
    assert os.readlink(out / "cuts" / "2023-06-30").startswith("../.cdisc/v-")
    assert debris(out) == [] and len(list((out / STATE).glob("v-*"))) == 3


def test_an_output_written_by_an_older_version_is_replaced(tmp_path):
    out = tmp_path / "out"
    (out / "sdtm").mkdir(parents=True)
    (out / "sdtm" / "dm.xpt").write_text("legacy")
    (out / "cuts" / "2023-06-30" / "sdtm").mkdir(parents=True)
    (out / "notes.txt").write_text("the user's own file")
    publish_output(out, "new")
    publish_output(out, "cut", cut="2023-06-30")
    assert tree(out)["sdtm/dm.xpt"].startswith(b"new dm") and (out / "notes.txt").read_text() == "the user's own file"
    assert tree(out)["cuts/2023-06-30/sdtm/dm.xpt"].startswith(b"cut dm")
    assert debris(out) == []


def test_a_second_run_is_told_who_holds_the_folder(tmp_path):
    out = tmp_path / "out"
    with OutputLock(out, command="cdisc run --out out"):
        with pytest.raises(OutputBusy) as busy:
            publish_output(out, "second")
    message = str(busy.value)
    assert message.startswith("1 output folder in use:\n  ") and "out: another run is writing this folder (pid " \
        f"{os.getpid()} on " in message and message.endswith(": cdisc run --out out); try again when it has finished")
    assert not (out / STATE).exists()  # the holder removed its lock file, and the empty state folder
    publish_output(out, "now")


def test_the_publication_says_whether_the_output_changed(tmp_path):
    out, publication = tmp_path / "out", Publication()
    with publishing(out, publication) as staging:
        write_output(staging, "one")
        assert not publication.published()
    assert publication.published()
    assert not Publication().published()


# --- SIGKILL at every step of publishing, then at moments of a real run --------------------------------

MUTATIONS = ("mkdir", "rmdir", "rename", "replace", "symlink", "unlink", "open", "write", "ftruncate", "link")


def _kill_at(n: int, out: Path, label: str) -> None:
    """In a forked child: publish, killing the process at the n-th filesystem call."""
    count = [0]
    for name in MUTATIONS:
        real = getattr(os, name)

        def counted(*args, _real=real, **kwargs):
            count[0] += 1
            if count[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return _real(*args, **kwargs)
        setattr(os, name, counted)
    publish_output(out, label, names=("dm", "ae"))


def test_sigkill_at_every_step_of_a_publication(tmp_path):
    out = tmp_path / "out"
    publish_output(out, "old", cut="2023-06-30")
    publish_output(out, "old")
    old = tree(out)
    n, completed = 0, False
    while not completed:
        n += 1
        child = FORK.Process(target=_kill_at, args=(n, out, "new"))
        child.start()
        child.join(30)
        completed = child.exitcode == 0
        assert child.exitcode in (0, -signal.SIGKILL), child.exitcode
        seen = tree(out)
        assert seen == old or seen["sdtm/dm.xpt"].startswith(b"new dm"), n
        if seen != old:  # published: exactly the new output, cuts untouched
            assert set(seen) == {"sdtm/dm.xpt", "sdtm/ae.xpt", "manifest.json", "cuts/2023-06-30/sdtm/dm.xpt",
                                 "cuts/2023-06-30/sdtm/ae.xpt", "cuts/2023-06-30/sdtm/lb.xpt",
                                 "cuts/2023-06-30/manifest.json"}
        publish_output(out, "old")  # the next run: removes what the killed one left, and resets the output
        assert debris(out) == [] and tree(out) == old, n
    assert n > 10  # every lock, write, link and rename step was a moment of a kill


def _run(out: Path, raw: Path) -> None:
    import io
    import sys

    from cdisc.cli import main

    sys.stdout = sys.stderr = io.StringIO()
    os._exit(main(["run", "--raw", str(raw), "--out", str(out), "--sdtm-only"]))


def test_sigkill_at_moments_of_a_real_run(tmp_path):
    import shutil

    from cdisc.pipeline import builtin_raw_dir

    raw = tmp_path / "raw"
    shutil.copytree(builtin_raw_dir(), raw)  # the ODM export too: it makes acrf.pdf, as in the first run
    ae = raw / "edc" / "ae.csv"
    ae.write_text(ae.read_text(encoding="utf-8").replace("Moderate", "Mild", 1), encoding="utf-8")
    out = tmp_path / "out"
    started = time.perf_counter()
    child = FORK.Process(target=_run, args=(out, builtin_raw_dir()))
    child.start()
    child.join(300)
    assert child.exitcode == 0
    duration, old, seen = time.perf_counter() - started, tree(out), []
    for fraction in (0.5, 0.9):
        child = FORK.Process(target=_run, args=(out, raw))
        child.start()
        time.sleep(duration * fraction)
        os.kill(child.pid, signal.SIGKILL)
        child.join(60)
        seen.append(tree(out))
    child = FORK.Process(target=_run, args=(out, raw))  # the next run
    child.start()
    child.join(300)
    new = tree(out)
    assert child.exitcode == 0 and new != old and new.keys() == old.keys() and debris(out) == []
    for i, after_kill in enumerate(seen):
        assert after_kill in (old, new), i
