"""A package read from files is checked one unit at a time (a dataset, or the parts of a split domain),
each dataset read when a rule needs it and let go after: the findings and the record of every rule are
those of the same package held whole in memory, rule by rule."""
from __future__ import annotations

import pandas as pd
import pytest

import validate.registry as registry
from specs.errors import DataError
from validate.package import LazyDatasets, load_package
from validate.registry import run_rules
from validate_study import clean_frames, stub_ct, write_define, write_package


def planted() -> dict[str, pd.DataFrame]:
    frames = clean_frames()
    frames["DM"].loc[1, "SEX"] = "MALE"                       # CT2001
    frames["AE"].loc[0, "AESTDTC"] = "2024-01-11 10:00"       # SD0003
    frames["AE"].loc[1, "USUBJID"] = "XYZ-01-009"             # SD0064
    frames["AE"].loc[1, "EPOCH"] = "TREATMNT"                 # CV0302
    frames["LB"].loc[2, "VISIT"] = "WEEK 2"                   # CV0301 (across datasets)
    frames["EX"].loc[1, "EXSTDTC"] = "2024-01-16"             # CV0306 (DM against EX)
    frames["SUPPAE"].loc[0, "IDVARVAL"] = "7"                 # CV0305
    frames["ADLB"].loc[3, "CHG"] = 0.7                        # CV0410
    return frames


def split_lb(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """LB as two parts whose LBSEQ repeat across them (SD0005 looks at the domain)."""
    lb = frames.pop("LB")
    frames["LBCH"], frames["LBHE"] = lb.iloc[[0, 1, 3]].reset_index(drop=True), lb.iloc[[2, 4]].reset_index(drop=True)
    frames["LBHE"].loc[1, "LBSEQ"] = 1.0
    frames["LBHE"]["LBTEST"] = frames["LBHE"]["LBTEST"] + " (whole blood)"  # another length than in LBCH
    return frames


def whole(package):
    """The same package with every dataset read and held: the rules run one after the other over it."""
    package.datasets = {name: package.datasets[name] for name in package.datasets}
    return package


def write_planted_package(folder, split):
    """The planted datasets written as a package; split: LB as split domain files, and no define.xml."""
    frames = split_lb(planted()) if split else planted()
    write_package(folder, frames)
    if not split:
        write_define(folder / "define.xml", frames)


def record(findings):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in findings.attrs["rules"]]


@pytest.mark.parametrize("split", [False, True])
def test_unit_by_unit_finds_what_one_pass_over_the_whole_package_finds(tmp_path, split, monkeypatch):
    write_planted_package(tmp_path / "pkg", split)
    package = load_package(tmp_path / "pkg")
    assert isinstance(package.datasets, LazyDatasets) and not any(map(package.datasets.is_read, package.datasets))
    lazy = run_rules(package, stub_ct())
    assert set(package.datasets.reads.values()) == {1}  # each dataset read once
    held = run_rules(whole(load_package(tmp_path / "pkg")), stub_ct())
    pd.testing.assert_frame_equal(lazy, held)
    assert record(lazy) == record(held)
    expected = {"CT2001", "SD0003", "SD0064", "CV0302", "CV0301", "CV0306", "CV0305", "CV0410"}
    assert expected | ({"SD0005", "CV0110"} if split else set()) <= set(lazy["rule"])
    # nothing kept between units, nothing read ahead: the same again
    monkeypatch.setattr(registry, "READ_AHEAD_BYTES", 0)
    monkeypatch.setattr(registry, "SMALL_UNIT_BYTES", 0)
    package = load_package(tmp_path / "pkg")
    package.datasets.budget = 0
    again = run_rules(package, stub_ct())
    pd.testing.assert_frame_equal(again, held)
    assert record(again) == record(held)
    assert not any(map(package.datasets.is_read, package.datasets))


def test_the_next_unit_is_read_ahead_when_the_pair_fits_or_one_of_them_is_small(tmp_path, monkeypatch):
    write_package(tmp_path / "pkg", clean_frames())
    package = load_package(tmp_path / "pkg")
    # bytes of records: ADLB 404, ADSL 126, AE 336, DM 414, EX 188, LB 775, SUPPAE 63, SV 365, TA 196, TV 88
    assert [sum(map(package.datasets.size, unit)) for unit in package.units()] == [404, 126, 336, 414, 188, 775, 63,
                                                                                  365, 196, 88]
    asked = []
    monkeypatch.setattr(LazyDatasets, "read_ahead", lambda self, names, executor: asked.append(list(names)))
    monkeypatch.setattr(registry, "READ_AHEAD_BYTES", 0)
    monkeypatch.setattr(registry, "SMALL_UNIT_BYTES", 100)  # SUPPAE (63) and TV (88) are small
    run_rules(package, stub_ct())
    assert asked == [["SUPPAE"], ["SV"], ["TV"]]  # beside LB, SUPPAE, TA
    asked.clear()
    monkeypatch.setattr(registry, "READ_AHEAD_BYTES", 530)  # the pairs of at most 530: ADLB+ADSL, ADSL+AE, SUPPAE+SV,
    # TA+TV
    monkeypatch.setattr(registry, "SMALL_UNIT_BYTES", 0)
    run_rules(load_package(tmp_path / "pkg"), stub_ct())
    assert asked == [["ADSL"], ["AE"], ["SV"], ["TV"]]


def test_units_are_the_datasets_and_the_parts_of_split_domains(tmp_path):
    write_package(tmp_path / "pkg", split_lb(clean_frames()))
    package = load_package(tmp_path / "pkg")
    assert package.units() == [["ADLB"], ["ADSL"], ["AE"], ["DM"], ["EX"], ["LBCH", "LBHE"], ["SUPPAE"], ["SV"],
                               ["TA"], ["TV"]]
    view = package.view(["LBCH", "LBHE"])
    assert list(view.datasets) == ["LBCH", "LBHE"] and list(view.sdtm()) == ["LBCH", "LBHE"]
    assert "DM" in view.datasets and len(view.datasets["DM"]) == 3  # looked up by name
    assert view.names() == package.names() and view.columns("DM") == list(clean_frames()["DM"].columns)


def test_columns_and_records_without_reading_the_values(tmp_path):
    write_package(tmp_path / "pkg", clean_frames())
    package = load_package(tmp_path / "pkg")
    assert package.columns("LB")[:4] == ["STUDYID", "DOMAIN", "USUBJID", "LBSEQ"] and package.records("LB") == 5
    assert package.key_variables("LB") == ["USUBJID", "LBSEQ"]
    some = package.projected({"VISIT"}).datasets["LB"]
    assert list(some.columns) == ["VISIT"] and not package.datasets.is_read("LB")
    assert package.projected({"VISIT"}).record_keys("LB", [1]).tolist() == ["USUBJID=XYZ-01-001, LBSEQ=2"]
    assert package.datasets.reads == {}
    assert len(package.datasets["LB"]) == 5 and package.datasets.reads == {"LB": 1}


def test_an_unreadable_dataset_stops_the_run_when_it_is_read(tmp_path):
    from specs.errors import DataError

    write_package(tmp_path / "pkg", clean_frames())
    path = tmp_path / "pkg" / "ae.xpt"
    path.write_bytes(path.read_bytes().replace(b"Nausea", b"Naus\x81a"))  # neither UTF-8 nor cp1252
    package = load_package(tmp_path / "pkg")
    with pytest.raises(DataError) as caught:
        run_rules(package, stub_ct())
    assert "ae.xpt" in str(caught.value) and "AETERM" in str(caught.value)


@pytest.mark.parametrize("split", [False, True])
def test_units_shared_with_a_second_process_find_what_one_process_finds(tmp_path, split, monkeypatch):
    import validate.parallel as parallel

    write_planted_package(tmp_path / "pkg", split)
    held = run_rules(whole(load_package(tmp_path / "pkg")), stub_ct())
    monkeypatch.setattr(parallel, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel, "STARTUP_BYTES", 0)
    monkeypatch.delenv(parallel.PROCESSES_VARIABLE, raising=False)
    package = load_package(tmp_path / "pkg")
    mine, theirs = parallel.plan(package, package.units())
    assert mine and theirs and sorted(mine + theirs) == list(range(len(package.units())))
    shared = run_rules(package, stub_ct())
    assert not package.datasets.reads.keys() >= {package.units()[i][0] for i in theirs}  # the worker read those
    pd.testing.assert_frame_equal(shared, held)
    assert record(shared) == record(held)


def test_the_units_are_shared_by_size_the_worker_counted_as_starting_later(tmp_path, monkeypatch):
    import validate.parallel as parallel

    write_package(tmp_path / "pkg", clean_frames())
    package = load_package(tmp_path / "pkg")
    units = [["A"], ["B"], ["C"], ["D"]]
    sizes = {"A": 100, "B": 40, "C": 30, "D": 25}
    package.datasets.size = lambda name: sizes[name]
    monkeypatch.delenv(parallel.PROCESSES_VARIABLE, raising=False)
    monkeypatch.setattr(parallel, "STARTUP_BYTES", 20)
    # A here (100); B to the worker (20 + 40 = 60), C too (90), D too (115)
    assert parallel.plan(package, units, threshold=0) == ([0], [1, 2, 3])
    assert parallel.plan(package, units, threshold=196) is None  # 195 bytes: one process
    # a unit of more than half the largest stays here: never two large ones in memory at once
    sizes["B"] = 60
    assert parallel.plan(package, units, threshold=0) == ([0, 1], [2, 3])
    monkeypatch.setenv(parallel.PROCESSES_VARIABLE, "1")
    assert parallel.plan(package, units, threshold=0) is None


def test_an_unreadable_dataset_in_the_second_process_stops_the_run_as_in_one(tmp_path, monkeypatch):
    import validate.parallel as parallel
    from specs.errors import DataError

    write_package(tmp_path / "pkg", clean_frames())
    path = tmp_path / "pkg" / "ae.xpt"
    path.write_bytes(path.read_bytes().replace(b"Nausea", b"Naus\x81a"))
    package = load_package(tmp_path / "pkg")
    units = package.units()
    ae = units.index(["AE"])
    # AE checked by the worker, which fails on it: its units are checked here, the error is the same
    monkeypatch.setattr(parallel, "plan", lambda *_: ([i for i in range(len(units)) if i != ae], [ae]))
    with pytest.raises(DataError) as caught:
        run_rules(package, stub_ct())
    assert "ae.xpt" in str(caught.value) and "AETERM" in str(caught.value)


def test_the_parts_in_fdas_split_folder_are_checked_against_the_whole_not_validated_again(tmp_path):
    frames = planted()
    write_planted_package(tmp_path / "pkg", split=False)
    adlb = frames["ADLB"]
    write_package(tmp_path / "pkg" / "split", {"ADLB1": adlb.iloc[:2].reset_index(drop=True),
                                               "ADLB2": adlb.iloc[2:].reset_index(drop=True)})
    package = load_package(tmp_path / "pkg")
    assert "ADLB1" not in package.datasets and "ADLB2" not in package.datasets
    assert ("ADLB: split/adlb1.xpt, split/adlb2.xpt checked against adlb.xpt (the same variables, its records "
            "between them); the whole dataset validated") in package.notes
    without = tmp_path / "without"
    write_planted_package(without, split=False)
    pd.testing.assert_frame_equal(run_rules(package, stub_ct()), run_rules(load_package(without), stub_ct()))


def test_parts_that_do_not_add_up_to_the_whole_are_an_error_naming_the_folder(tmp_path):
    frames = planted()
    write_planted_package(tmp_path / "pkg", split=False)
    adlb = frames["ADLB"]
    write_package(tmp_path / "pkg" / "split", {"ADLB1": adlb.iloc[:2].reset_index(drop=True),
                                               "ADLB2": adlb.iloc[3:].drop(columns="CHG").reset_index(drop=True)})
    with pytest.raises(DataError) as caught:
        load_package(tmp_path / "pkg")
    message = str(caught.value)
    assert f"parts of ADLB hold {len(adlb) - 1} records between them, the whole {len(adlb)}" in message
    assert "adlb2.xpt" in message and "a part of ADLB whose variables differ from the whole's" in message
