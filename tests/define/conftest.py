"""The demo study's define model and package, built once per test session (on the shared demo SDTM)."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from lxml import etree

CREATED = datetime(2025, 3, 28, 12, 0, 0)
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink", "arm": "http://www.cdisc.org/ns/arm/v1.0"}


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


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page of a PDF as fpdf2 writes it (page tree order; Flate content streams; text
    shown with Tj), one line per text run: enough to check where a text is, without a PDF library."""
    import re
    import zlib

    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF"), "not a complete PDF"
    # each object's dictionary; a stream is read by its /Length (compressed bytes may hold any text)
    positions = {int(m.group(1)): m.end() for m in re.finditer(rb"(?m)^(\d+) 0 obj", content)}

    def head(number: int) -> bytes:
        start = positions[number]
        ends = [i for i in (content.find(b"stream", start), content.find(b"endobj", start)) if i >= 0]
        return content[start:min(ends)]

    tree = next(head(n) for n in positions if re.search(rb"/Type\s*/Pages\b", head(n)))
    kids = [int(k) for k in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids\s*\[(.*?)\]", tree, re.S).group(1))]
    pages = []
    for kid in kids:
        contents = int(re.search(rb"/Contents (\d+) 0 R", head(kid)).group(1))
        dictionary = head(contents)
        length = int(re.search(rb"/Length (\d+)", dictionary).group(1))
        begin = content.index(b"stream", positions[contents]) + len(b"stream")
        begin += 2 if content[begin:begin + 2] == b"\r\n" else 1
        stream = content[begin:begin + length]
        if b"/FlateDecode" in dictionary:
            stream = zlib.decompress(stream)
        runs = re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", stream, re.S)
        pages.append("\n".join(r.replace(rb"\(", b"(").replace(rb"\)", b")").replace(rb"\\", b"\\")
                               .decode("latin-1") for r in runs))
    return pages


@pytest.fixture(scope="session")
def demo_acrf(demo_sdtm):
    """The annotated CRF generated from the built-in raw export's ODM metadata."""
    from cdisc.pipeline import builtin_raw_dir
    from define.acrf import build_acrf

    return build_acrf(demo_sdtm[0], builtin_raw_dir(), CREATED)


@pytest.fixture(scope="session")
def demo_submission(demo, tmp_path_factory):
    """The demo's SDTM and ADaM package as `cdisc run` writes it: XPT and Dataset-JSON, define.xml with
    analysis results, the aCRF from the raw export's ODM metadata, the reviewer's guides."""
    from adam.build import build_adam
    from adam.spec import load_adam_spec
    from cdisc.pipeline import builtin_raw_dir
    from define.package import write_submission

    adam_spec = load_adam_spec()
    datasets = build_adam(demo.result.datasets, adam_spec)
    root = tmp_path_factory.mktemp("submission")
    package = write_submission(root, demo.spec, demo.result, adam_spec=adam_spec, adam_datasets=datasets,
                               ct=demo.ct, created=CREATED, formats="xpt,json", raw_dir=builtin_raw_dir(),
                               guides=True)
    return package, datasets, adam_spec


@pytest.fixture(scope="session")
def demo_guides(demo_submission, demo):
    """The package's reviewer's guides written again with the validator's findings, as the run does."""
    from define.guides import write_guides
    from validate.cli import validate

    package, _, adam_spec = demo_submission
    found = {key: validate(folder)[1] for key, folder in package.folders.items()}
    write_guides(package.folders, demo.spec, package.models, adam_spec, found, CREATED)
    return package, found
