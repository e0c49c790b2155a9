"""The validator reads the folders cdisc run writes: an output folder through its package, cuts one by one."""
import json

import pytest

from specs.errors import DataError
from validate.package import load_package
from validate.run_outputs import dataset_folders
from validate_study import clean_frames, write_package


def make_output(folder, with_m5=True):
    frames = clean_frames()
    write_package(folder / "sdtm", {n: f for n, f in frames.items() if not n.startswith("AD")})
    write_package(folder / "adam", {n: f for n, f in frames.items() if n.startswith("AD")})
    if with_m5:
        write_package(folder / "m5" / "datasets" / "s" / "tabulations" / "sdtm", frames)
    (folder / "manifest.json").write_text(json.dumps({"manifest_version": 1, "outputs": []}))
    (folder / "keys.json").write_text(json.dumps({"DM": ["USUBJID"]}))
    return folder


def test_a_run_output_is_read_through_its_package(tmp_path):
    out = make_output(tmp_path / "out")
    assert dataset_folders(out) == [out / "m5"]
    package = load_package(out)
    assert package.notes == ["an output folder of cdisc run: validated m5/"]
    assert "DM" in package.datasets and "ADSL" in package.datasets


def test_without_a_package_sdtm_and_adam_are_read(tmp_path):
    out = make_output(tmp_path / "out", with_m5=False)
    assert dataset_folders(out) == [out / "sdtm", out / "adam"]
    assert {"DM", "ADSL"} <= set(load_package(out).datasets)


def test_a_folder_of_cuts_names_each_cut(tmp_path):
    make_output(tmp_path / "cuts" / "2023-06-30")
    make_output(tmp_path / "cuts" / "2023-12-31")
    with pytest.raises(DataError) as error:
        load_package(tmp_path / "cuts")
    assert str(error.value).endswith("cuts: holds 2 separate output(s) of cdisc run (2023-06-30, 2023-12-31): "
                                     "validate each of them")
