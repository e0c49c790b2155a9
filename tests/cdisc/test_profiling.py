"""The benchmark's profile of a run across its processes (cdisc.profiling)."""
from __future__ import annotations

import functools
import sys

from cdisc.profiling import ENV, _package, in_workers, profiled, top


def test_nothing_is_profiled_unless_the_variable_names_a_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with profiled("cdisc"):
        sum(range(10))
    assert in_workers(len) is len
    assert list(tmp_path.iterdir()) == []


def test_each_profiled_block_writes_its_own_file_and_top_merges_them(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "prof"))
    for _ in range(2):
        with profiled("cdisc"):
            sorted(range(1000), key=lambda n: -n)
    assert len(list((tmp_path / "prof").glob("cdisc-*.prof"))) == 2
    table = top(tmp_path / "prof", lines=5)
    assert table.startswith("2 profile(s), ")
    assert "<lambda>" in table  # (2,000 calls of the key function, the profiles added together)
    assert "2000" in table.split("<lambda>")[0].splitlines()[-1]
    assert top(tmp_path / "none") == "no profile was written"


def test_a_chunk_task_in_a_worker_process_writes_its_profile(tmp_path, monkeypatch):
    from cdisc.chunks.pool import Workers

    monkeypatch.setenv(ENV, str(tmp_path))  # (the spawned workers inherit it)
    assert isinstance(in_workers(str), functools.partial)
    with Workers(2) as workers:
        assert workers.run(str, [1, 2]) == ["1", "2"]
    assert len(list(tmp_path.glob("str-*.prof"))) == 2


def test_the_package_of_a_profiled_function():
    assert _package("/venv/lib/python3.11/site-packages/pandas/core/frame.py") == "pandas"
    assert _package(sys.modules["cdisc.profiling"].__file__) == "cdisc"
    assert _package("~") == "python"
    assert _package("<frozen importlib._bootstrap>") == "python"
