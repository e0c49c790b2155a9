"""`cdisc run` as a process: exit statuses, signals, a full disk, a read-only folder, a busy folder."""
from __future__ import annotations

import errno
import io
import multiprocessing
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from cdisc.cli import main
from cdisc.publish import STATE, OutputLock

FORK = multiprocessing.get_context("fork")


@pytest.fixture()
def previous(tmp_path, monkeypatch):
    """An output folder holding an earlier run's output; the working folder is tmp_path."""
    out = tmp_path / "out"
    (out / "sdtm").mkdir(parents=True)
    (out / "sdtm" / "previous.txt").write_text("an earlier run")
    monkeypatch.chdir(tmp_path)
    return out


def untouched(out: Path) -> bool:
    return sorted(p.name for p in out.iterdir()) == ["sdtm"] and \
        [p.name for p in (out / "sdtm").iterdir()] == ["previous.txt"]


def test_a_full_disk_names_the_operation_and_the_file(previous, monkeypatch, capsys):
    import define.xpt

    def full(data, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(define.xpt, "write_xpt", full)
    monkeypatch.setattr(define.xpt, "write_xpt_parts", full)  # (a dataset written from its chunks' files)
    assert main(["run", "--out", "out", "--sdtm-only"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: writing 17 SDTM datasets: out/.cdisc/v-")
    assert "/sdtm/dm.xpt: No space left on device\nnothing was published: out is as it was\n" in err
    assert untouched(previous)


def test_a_read_only_output_folder(previous, monkeypatch, capsys):
    real_mkdir = os.mkdir

    def read_only(path, *args, **kwargs):
        if str(path).startswith("out"):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only)
    assert main(["run", "--out", "out", "--sdtm-only"]) == 1
    assert capsys.readouterr().err == ("error: locking out: out/.cdisc: Read-only file system\n"
                                       "nothing was published: out is as it was\n")
    assert untouched(previous)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_folder_without_write_permission(previous, capsys):
    previous.chmod(0o555)
    try:
        assert main(["run", "--out", "out", "--sdtm-only"]) == 1
    finally:
        previous.chmod(0o755)
    assert capsys.readouterr().err.startswith("error: locking out: out/.cdisc: Permission denied\n")


def test_a_busy_output_folder_says_who_holds_it(previous, capsys):
    with OutputLock(previous, command="cdisc run --out out --cut 2023-06-30"):
        assert main(["run", "--out", "out", "--sdtm-only"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: 1 output folder in use:\n  out: another run is writing this folder (pid {os.getpid()} on ")
    assert ": cdisc run --out out --cut 2023-06-30); try again when it has finished\n" in err
    assert untouched(previous)


def test_published_with_validation_errors_has_its_own_exit_status(previous, monkeypatch, capsys):
    import cdisc.pipeline

    monkeypatch.setattr(cdisc.pipeline, "run", lambda *a, **k: cdisc.pipeline.RunResult(None, None, Path("out"), [], 2))
    assert main(["run", "--out", "out"]) == 3
    assert capsys.readouterr().err == ("published out WITH 2 validation error(s): the output is complete but does not "
                                       "conform; the errors are listed in out/validation\n")


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    printed = capsys.readouterr().out
    assert "3    published with validation errors" in printed and "1    failed: nothing was published" in printed


def test_ctrl_c_after_publishing_does_not_claim_nothing_changed(previous, monkeypatch, capsys):
    import cdisc.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cdisc.pipeline, "print_run_report", interrupted)
    assert main(["run", "--out", "out", "--sdtm-only"]) == 130
    assert capsys.readouterr().err == "interrupted while publishing out; out holds the new output (published " \
                                      "before the stop)\n"
    assert (previous / "sdtm" / "dm.xpt").is_file()


def _run_to(out: str, log: str) -> None:
    # Ctrl-C as a terminal delivers it: a test run started in the background by a non-interactive shell
    # inherits SIGINT ignored (POSIX), and the run rightly keeps ignoring it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with open(log, "w") as handle:
        sys.stdout, sys.stderr = io.StringIO(), handle
        code = main(["run", "--out", out, "--sdtm-only"])
        handle.flush()
    os._exit(code)


@pytest.mark.parametrize("signum, status, said", [(signal.SIGTERM, 143, "stopped (SIGTERM)"),
                                                   (signal.SIGINT, 130, "interrupted")])
def test_a_signal_during_the_run_cleans_up(previous, tmp_path, signum, status, said):
    log = tmp_path / "stderr.txt"
    child = FORK.Process(target=_run_to, args=("out", str(log)))
    child.start()
    deadline = time.monotonic() + 120
    while not list((previous / STATE).glob("v-*")) and time.monotonic() < deadline:
        time.sleep(0.02)  # the run is writing its version folder
    os.kill(child.pid, signum)
    child.join(120)
    assert child.exitcode == status
    message = log.read_text()
    assert message.startswith(f"{said} while ") and message.endswith("; nothing was published: out is as it was\n")
    assert untouched(previous) and not (previous / STATE).exists()


def test_pyarrow_leaves_signals_to_the_run(monkeypatch):
    # with pyarrow's own handlers, a signal landing in a CSV read became an error taken for an unreadable
    # file, and the run carried on to exit 0 (seen in CI as the SIGINT case of the test above)
    import pyarrow

    from cdisc.cli import sigterm_as_exception

    calls = []
    monkeypatch.setattr(pyarrow, "enable_signal_handlers", calls.append)
    with sigterm_as_exception():
        assert calls == [False]
    assert calls == [False, True]
