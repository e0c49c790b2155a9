"""What define.xml says equals what was written: every dataset and variable of the XPT files (name, label,
type, length, order), every codelist value used in the data, every Dataset-JSON file."""
from __future__ import annotations

import pandas as pd

from define.datasetjson import read_dataset_json, validate_dataset_json
from define.xpt import read_xpt

NUMERIC = {"integer", "float"}
ISO = {"date", "datetime", "time", "partialDate", "partialTime", "partialDatetime", "incompleteDatetime",
       "durationDatetime", "intervalDatetime"}


def _groups(tree, xp):
    return {g.get("Name"): g for g in xp(tree, "//odm:ItemGroupDef", all=True)}


def test_every_dataset_in_define_xml_is_an_xpt_file_and_back(demo, xp):
    groups = _groups(demo.tree, xp)
    files = {p.stem.upper() for p in demo.folder.glob("*.xpt")}
    assert set(groups) == files == set(demo.result.datasets)
    for name, group in groups.items():
        assert xp(group, "def:leaf").get("{http://www.w3.org/1999/xlink}href") == f"{name.lower()}.xpt"


def test_every_variable_matches_the_xpt_written(demo, xp):
    for name, group in _groups(demo.tree, xp).items():
        data, meta = read_xpt(demo.folder / f"{name.lower()}.xpt")
        assert meta.dataset_name == name
        assert meta.dataset_label == xp(group, "odm:Description/odm:TranslatedText").text
        refs = sorted(xp(group, "odm:ItemRef", all=True), key=lambda r: int(r.get("OrderNumber")))
        assert [int(r.get("OrderNumber")) for r in refs] == list(range(1, len(refs) + 1))
        items = [xp(demo.tree, f"//odm:ItemDef[@OID='{r.get('ItemOID')}']") for r in refs]
        assert [i.get("Name") for i in items] == [v.name for v in meta.variables], name
        for item, var in zip(items, meta.variables):
            where = f"{name}.{var.name}"
            assert xp(item, "odm:Description/odm:TranslatedText").text == var.label, where
            data_type = item.get("DataType")
            assert var.type == ("Num" if data_type in NUMERIC else "Char"), where
            if data_type == "text":
                assert int(item.get("Length")) == var.length, where
            if data_type in ISO:
                assert item.get("Length") is None, where
        assert len(data) == len(demo.result.datasets[name])


def test_every_codelist_value_used_is_in_its_codelist(demo, xp):
    checked = 0
    for name, group in _groups(demo.tree, xp).items():
        data = demo.result.datasets[name]
        for ref in xp(group, "odm:ItemRef", all=True):
            item = xp(demo.tree, f"//odm:ItemDef[@OID='{ref.get('ItemOID')}']")
            codelist_ref = xp(item, "odm:CodeListRef", all=True)
            if not codelist_ref:
                continue
            codelist = xp(demo.tree, f"//odm:CodeList[@OID='{codelist_ref[0].get('CodeListOID')}']")
            if xp(codelist, "odm:ExternalCodeList", all=True):
                continue
            coded = {i.get("CodedValue") for i in xp(codelist, "odm:CodeListItem|odm:EnumeratedItem", all=True)}
            values = data[item.get("Name")].astype("string").fillna("")
            used = set(values[values != ""])
            assert used <= coded, (name, item.get("Name"), used - coded)
            checked += 1
    assert checked > 30


def test_every_dataset_json_is_valid_and_reads_back_as_written(demo):
    for name, frame in demo.result.datasets.items():
        path = demo.folder / f"{name.lower()}.json"
        assert validate_dataset_json(path) == [], name
        data, meta = read_dataset_json(path)
        assert (meta.name, meta.item_group_oid, meta.records) == (name, f"IG.{name}", len(frame))
        pd.testing.assert_frame_equal(data, frame.reset_index(drop=True), check_dtype=False)
        _, xpt_meta = read_xpt(demo.folder / f"{name.lower()}.xpt")
        assert [(v.name, v.label, v.type, v.length if v.type == "Char" else None) for v in meta.xpt_variables()] == \
            [(v.name, v.label, v.type, v.length if v.type == "Char" else None) for v in xpt_meta.variables]


def test_define_html_and_the_stylesheet_sit_beside_define_xml(demo):
    html = (demo.folder / "define.html").read_text(encoding="utf-8")
    assert "<html" in html and "Relationship to Ciclosporin" in html and "Laboratory Test Results" in html
    assert (demo.folder / "define2-1.xsl").read_bytes()[:5] == b"<?xml"
