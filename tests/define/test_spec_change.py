"""One spec drives the XPT and define.xml: a changed label or codelist term shows in both."""
from __future__ import annotations

import shutil
from datetime import datetime

from lxml import etree

from define.xpt import read_xpt

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}


def test_a_label_and_a_codelist_term_changed_in_the_spec_appear_in_the_xpt_and_define_xml(tmp_path):
    from cdisc.pipeline import build_sdtm_from_raw
    from define.package import write_submission
    from specs.loader import builtin_spec_dir

    spec_dir = tmp_path / "spec"
    shutil.copytree(builtin_spec_dir(), spec_dir)
    sdtm_yaml = spec_dir / "sdtm.yaml"
    text = sdtm_yaml.read_text(encoding="utf-8")
    old_age = '{name: AGE, method:'
    old_ageu = '{name: AGEU, codelist: AGEU, map: {algorithm: hardcode_ct, value: YEARS}}'
    assert old_age in text and old_ageu in text
    text = text.replace(old_age, '{name: AGE, label: Age at Informed Consent, method:')
    text = text.replace(old_ageu, '{name: AGEU, codelist: AGEU, map: {algorithm: hardcode_ct, value: MONTHS}}')
    sdtm_yaml.write_text(text, encoding="utf-8")

    spec, raw, result = build_sdtm_from_raw(spec_dir)
    package = write_submission(tmp_path / "out", spec, result, created=datetime(2025, 1, 1), html=False)
    folder = package.folders["sdtm"]

    data, meta = read_xpt(folder / "dm.xpt")
    xpt = {v.name: v for v in meta.variables}
    assert xpt["AGE"].label == "Age at Informed Consent"
    assert set(data["AGEU"]) == {"MONTHS"} and xpt["AGEU"].length == 6

    tree = etree.parse(str(folder / "define.xml"))
    age = tree.xpath("//odm:ItemDef[@OID='IT.DM.AGE']/odm:Description/odm:TranslatedText", namespaces=NS)[0]
    assert age.text == "Age at Informed Consent"
    ageu = tree.xpath("//odm:ItemDef[@OID='IT.DM.AGEU']", namespaces=NS)[0]
    assert ageu.get("Length") == "6"
    terms = tree.xpath("//odm:CodeList[@OID='CL.AGEU']/odm:*[@CodedValue]", namespaces=NS)
    assert [(t.get("CodedValue"), t.xpath("odm:Alias/@Name", namespaces=NS)) for t in terms] == [("MONTHS", ["C29846"])]
