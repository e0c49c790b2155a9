"""The demo study's define model and package, built once per test session (on the shared demo SDTM)."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from lxml import etree

CREATED = datetime(2025, 3, 28, 12, 0, 0)
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink"}


@pytest.fixture(scope="session")
def demo(demo_sdtm, tmp_path_factory):
    from define.model import from_sdtm
    from define.package import write_package
    from specs.ct import load_ct

    spec, raw, result = demo_sdtm
    ct = load_ct()
    model = from_sdtm(spec, result, ct)
    root = tmp_path_factory.mktemp("package")
    package = write_package(root, sdtm=model, created=CREATED, formats=("xpt", "json"))
    folder = package.folders["sdtm"]
    tree = etree.parse(str(folder / "define.xml"))
    return SimpleNamespace(spec=spec, result=result, ct=ct, model=model, package=package, folder=folder, tree=tree,
                           created=CREATED)


@pytest.fixture(scope="session")
def xp():
    """xp(tree, xpath) -> the first match (asserting there is one); xp(tree, xpath, all=True) -> every match."""
    def find(tree, xpath: str, all: bool = False):
        found = tree.xpath(xpath, namespaces=NS)
        if all:
            return found
        assert found, f"nothing at {xpath}"
        return found[0]
    return find
