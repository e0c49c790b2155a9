"""define.html: define.xml rendered through the CDISC Define-XML 2.1 stylesheet (lxml XSLT).

The stylesheet is also copied beside define.xml, which names it in an xml-stylesheet instruction, so
a browser opening define.xml renders the same page.
"""
from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

from lxml import etree

from define.xml import STYLESHEET, resource_path


@lru_cache(maxsize=1)
def _transform() -> etree.XSLT:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    access = etree.XSLTAccessControl(read_file=True, write_file=False, create_dir=False, read_network=False,
                                     write_network=False)
    return etree.XSLT(etree.parse(str(resource_path(STYLESHEET)), parser), access_control=access)


def copy_stylesheet(folder) -> Path:
    """Put define2-1.xsl in ``folder`` (beside define.xml); returns its path."""
    target = Path(folder) / STYLESHEET
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(resource_path(STYLESHEET), target)
    return target


def render_html(define_path, html_path=None) -> Path:
    """Render ``define_path`` to ``html_path`` (default: define.html beside it), atomically."""
    define_path = Path(define_path)
    html_path = Path(html_path) if html_path else define_path.with_suffix(".html")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    result = _transform()(etree.parse(str(define_path), parser))
    partial = html_path.with_name(html_path.name + ".partial")
    partial.write_bytes(bytes(result))
    partial.replace(html_path)
    return html_path
