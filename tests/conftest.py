"""Shared fixtures: the demo study's SDTM, built once per test session; copies of the built-in study to
change (see tests/spec_edits.py)."""
import shutil

import pytest


@pytest.fixture(scope="session")
def demo_sdtm():
    """(spec, raw export, SdtmResult) of the built-in demo study."""
    from cdisc.pipeline import build_sdtm_from_raw

    return build_sdtm_from_raw()


@pytest.fixture(scope="session")
def demo_datasets(demo_sdtm):
    return demo_sdtm[2].datasets


@pytest.fixture()
def spec(tmp_path, monkeypatch):
    """A copy of the built-in study spec in tmp_path/spec; the working directory is tmp_path."""
    from specs.loader import builtin_spec_dir

    folder = tmp_path / "spec"
    shutil.copytree(builtin_spec_dir(), folder)
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.fixture()
def study(spec, tmp_path):
    """(spec, raw): copies of the built-in study spec and of its raw CSV export (no ODM XML)."""
    from cdisc.pipeline import builtin_raw_dir

    raw = tmp_path / "raw"
    shutil.copytree(builtin_raw_dir(), raw, ignore=shutil.ignore_patterns("*.xml"))
    return spec, raw
