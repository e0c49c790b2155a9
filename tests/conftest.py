"""Shared fixtures: the demo study's SDTM, built once per test session."""
import pytest


@pytest.fixture(scope="session")
def demo_sdtm():
    """(spec, raw export, SdtmResult) of the built-in demo study."""
    from cdisc.pipeline import build_sdtm_from_raw

    return build_sdtm_from_raw()


@pytest.fixture(scope="session")
def demo_datasets(demo_sdtm):
    return demo_sdtm[2].datasets
