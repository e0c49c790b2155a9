"""The ADaM side: define.xml from adam.yaml and the ADaM build, DATE9. dates, AVAL by PARAMCD, package."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from lxml import etree

from define.build import where_clause_mask
from define.datasetjson import read_dataset_json, validate_dataset_json
from define.xml import validate_define
from define.xpt import read_xpt

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}


@pytest.fixture(scope="module")
def adam_package(demo, tmp_path_factory):
    from adam.build import build_adam
    from adam.spec import load_adam_spec
    from define.package import write_submission

    adam_spec = load_adam_spec()
    datasets = build_adam(demo.result.datasets, adam_spec)
    root = tmp_path_factory.mktemp("adam")
    package = write_submission(root, demo.spec, demo.result, adam_spec=adam_spec, adam_datasets=datasets,
                               ct=demo.ct, created=datetime(2025, 3, 28), formats="xpt,json")
    return package, datasets


def test_both_define_xml_are_valid_and_rendered(adam_package):
    package, _ = adam_package
    assert package.folders["adam"].as_posix().endswith("m5/datasets/nct05153070/analysis/adam/datasets")
    for folder in package.folders.values():
        assert validate_define(folder / "define.xml") == []
        assert (folder / "define.html").stat().st_size > 10_000
        assert (folder / "define2-1.xsl").is_file()


def test_adam_dates_are_integers_with_date9(adam_package):
    package, datasets = adam_package
    tree = etree.parse(str(package.folders["adam"] / "define.xml"))
    trtsdt = tree.xpath("//odm:ItemDef[@OID='IT.ADSL.TRTSDT']", namespaces=NS)[0]
    # days since 1960-01-01 for 2022-2026 dates are 5 digits (2022-09-21 = 22909)
    assert (trtsdt.get("DataType"), trtsdt.get("Length"), trtsdt.get("{http://www.cdisc.org/ns/def/v2.1}DisplayFormat")) \
        == ("integer", "5", "DATE9.")
    _, meta = read_xpt(package.folders["adam"] / "adsl.xpt")
    assert {v.name: v.format for v in meta.variables}["TRTSDT"] == "DATE9."
    data, json_meta = read_dataset_json(package.folders["adam"] / "adsl.json")
    column = {c.name: c for c in json_meta.columns}["TRTSDT"]
    assert (column.dataType, column.targetDataType) == ("date", "integer")
    pd.testing.assert_series_equal(data["TRTSDT"], datasets["ADSL"]["TRTSDT"].reset_index(drop=True),
                                   check_dtype=False)


def test_aval_is_described_per_paramcd_and_every_clause_selects_records(adam_package, demo):
    from define.adapters import from_adam
    from adam.spec import load_adam_spec

    package, datasets = adam_package
    model = from_adam(load_adam_spec(), datasets, demo.spec.study, demo.ct)
    value_lists = {v.oid: v for v in model.value_lists}
    assert {"VL.ADLB.AVAL", "VL.ADEFF.AVAL"} <= set(value_lists)
    paramcds = sorted(datasets["ADLB"]["PARAMCD"].dropna().unique())
    assert [r.where_clause_oid for r in value_lists["VL.ADLB.AVAL"].items] == \
        [f"WC.ADLB.PARAMCD.{p}" for p in paramcds]
    for clause in model.where_clauses:
        assert where_clause_mask(datasets[clause.dataset], clause).any(), clause.oid


def test_every_adam_dataset_json_is_schema_valid(adam_package):
    package, datasets = adam_package
    for name in datasets:
        assert validate_dataset_json(package.folders["adam"] / f"{name.lower()}.json") == [], name
