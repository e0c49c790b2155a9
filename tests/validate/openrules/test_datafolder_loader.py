"""Reading CORE test-case data folders, and reading rule.yml files."""
from __future__ import annotations

import numpy as np
import pytest

from core_folder import write_core_folder
from specs.errors import DataError, SpecError
from validate.openrules.loader import load_rules, parse_rule
from validate.package import load_package


def test_core_folder_is_read_with_the_declared_types(tmp_path):
    folder = write_core_folder(tmp_path / "data", {"AE": {
        "STUDYID": ["S", "S", "S"], "DOMAIN": ["AE", "AE", "AE"], "USUBJID": ["S-1", "S-1", "S-2"],
        "AESEQ": ["1", ".", ""], "AETERM": ["HEADACHE", "", "  "]}}, numeric=("AESEQ",))
    package = load_package(folder)
    ae = package.datasets["AE"]
    assert package.properties["product"] == "SDTMIG" and package.properties["version"] == "3-4"
    assert ae["AESEQ"].tolist()[0] == 1.0 and np.isnan(ae["AESEQ"].iloc[1]) and np.isnan(ae["AESEQ"].iloc[2])
    assert ae["AETERM"].tolist()[:1] == ["HEADACHE"] and ae["AETERM"].isna().tolist() == [False, True, False]
    assert ae["AETERM"].iloc[2] == "  "  # a cell of spaces is a value in a CSV
    assert package.meta["AE"].variables["AESEQ"].type == "Num" and package.meta["AE"].label == "Adverse Events"


def test_text_in_a_numeric_variable_is_a_located_error(tmp_path):
    folder = write_core_folder(tmp_path / "data", {"LB": {"LBSEQ": ["1", "<5", "x"]}}, numeric=("LBSEQ",))
    with pytest.raises(DataError) as err:
        load_package(folder)
    assert "lb.csv: row 3, column LBSEQ: '<5' is not a number but _variables.csv declares LBSEQ Num (2 such cells)" \
        in str(err.value)


def test_listed_dataset_without_its_file_and_short_rows(tmp_path):
    folder = write_core_folder(tmp_path / "data", {"DM": {"USUBJID": ["S-1"], "SEX": ["F"]}})
    (folder / "dm.csv").write_text("USUBJID,SEX,AGE\nS-1,F\nS-2\n")
    package = load_package(folder)
    assert package.datasets["DM"]["AGE"].isna().all()
    assert package.notes == ["dm.csv: 2 row(s) shorter than the header (first: row 2); the missing trailing cells "
                             "are read as empty"]
    (folder / "_datasets.csv").write_text("Filename,Label\ndm,Demographics\nae,Adverse Events\n")
    with pytest.raises(DataError, match="lists 'ae' but there is no ae.csv"):
        load_package(folder)


RULE = {
    "Authorities": [
        {"Organization": "CDISC", "Standards": [{"Name": "SDTMIG", "Version": "3.4", "References": [
            {"Rule Identifier": {"Id": "CG0628", "Version": "1"}}]}]},
        {"Organization": "FDA", "Standards": [{"Name": "SDTMIG", "Version": "3.4", "References": [
            {"Rule Identifier": {"Id": "FB0606", "Version": "1"}}]}]}],
    "Check": {"all": [{"name": "--EXCLFL", "operator": "exists"}]},
    "Core": {"Id": "CORE-000055", "Status": "Published", "Version": "1"},
    "Executability": "Fully Executable", "Outcome": {"Message": "--EXCLFL is present."},
    "Rule Type": "Record Data", "Scope": {"Classes": {"Include": ["FINDINGS"]}}, "Sensitivity": "Dataset",
}


def test_a_rule_carries_its_core_conformance_and_fda_ids(tmp_path):
    rule = parse_rule(RULE, tmp_path / "rule.yml")
    assert (rule.core_id, rule.conformance_ids, rule.fda_ids) == ("CORE-000055", ("CG0628",), ("FB0606",))
    assert rule.applies_to("SDTMIG", "3.4") and not rule.applies_to("ADaMIG")
    assert rule.severity == "Error" and rule.sensitivity == "Dataset"


def test_unreadable_rule_files_are_all_reported_with_their_path(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "rule.yml").write_text("Check: [unclosed\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "rule.yml").write_text("Core:\n  Status: Draft\n")
    with pytest.raises(SpecError) as err:
        load_rules(tmp_path)
    text = str(err.value)
    assert "3 rule file errors" in text and "a/rule.yml: not valid YAML" in text
    assert "b/rule.yml: Core.Id: missing" in text and "b/rule.yml: Check: missing or not a condition tree" in text


def test_yaml_tags_are_not_constructed(tmp_path):
    (tmp_path / "rule.yml").write_text("Core: !!python/object/apply:os.system ['echo no']\nCheck: {all: []}\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_rules(tmp_path)
