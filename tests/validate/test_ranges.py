"""A large dataset checked in ranges of whole subjects reports what the whole dataset read at once reports:
the same findings (rows, record numbers of the whole dataset, messages, order) and the same rule record,
here with ranges forced down to a few records."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import validate.parallel as parallel
import validate.ranges as ranges
from validate.lazy import LazyDatasets
from validate.package import load_package
from validate.registry import RULES, run_rules
from validate_study import S1, S2, S3, clean_frames, stub_ct, write_define, write_package
from test_lazy_package import planted, record, split_lb, whole, write_planted_package

PUBLISHED = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "cdisc-open-rules" / "Published"


def test_ranges_end_where_a_subject_ends():
    subjects = pd.Series(["A", "A", "B", "C", "C", "C", "D"])
    assert ranges.subject_ranges(subjects, 2) == [(0, 2), (2, 6), (6, 7)]
    assert ranges.subject_ranges(subjects, 1) == [(0, 2), (2, 3), (3, 6), (6, 7)]
    assert ranges.subject_ranges(subjects, 100) == [(0, 7)]
    assert ranges.subject_ranges(pd.Series([None, None, "A"]), 1) == [(0, 2), (2, 3)]  # missing: one group
    assert ranges.subject_ranges(pd.Series(["A", "B", "A"]), 1) is None  # A's records apart
    assert ranges.subject_ranges(pd.Series([], dtype=object), 3) == []


def test_every_per_dataset_rule_says_how_it_runs_by_range():
    assert all(ranges.mode(r, None, "LB") in ranges.MODES for r in RULES.values()
               if r.per_dataset and not callable(r.by_range))


def test_which_datasets_are_read_in_ranges(tmp_path, monkeypatch):
    write_planted_package(tmp_path / "pkg", split=True)
    package = load_package(tmp_path / "pkg")
    monkeypatch.setenv(ranges.RANGE_RECORDS_VARIABLE, "1")
    chosen = {tuple(unit): ranges.range_records(package, unit) for unit in package.units()}
    # a split domain's parts go together; DM, SV, TA, TV and SUPP-- are looked up by name by other rules
    assert {unit for unit, per in chosen.items() if per} == {("ADLB",), ("AE",), ("EX",)}
    monkeypatch.delenv(ranges.RANGE_RECORDS_VARIABLE)
    monkeypatch.setattr(ranges, "RANGE_BYTES", 210)  # ADLB: 4 records in 404 bytes, AE: 2 in 336
    assert ranges.range_records(package, ["ADLB"]) == 2 and ranges.range_records(package, ["AE"]) == 1
    monkeypatch.setattr(ranges, "RANGE_BYTES", 404)
    assert ranges.range_records(package, ["ADLB"]) is None  # fits in one range: read whole


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("per", ["1", "2", "3"])
def test_ranges_find_what_the_whole_dataset_finds(tmp_path, split, per, monkeypatch):
    write_planted_package(tmp_path / "pkg", split)
    held = run_rules(whole(load_package(tmp_path / "pkg")), stub_ct())
    monkeypatch.setenv(ranges.RANGE_RECORDS_VARIABLE, per)
    monkeypatch.setenv(parallel.PROCESSES_VARIABLE, "1")
    package = load_package(tmp_path / "pkg")
    ranged = run_rules(package, stub_ct())
    assert any("of whole subjects" in note for note in package.notes)
    pd.testing.assert_frame_equal(ranged, held)
    assert record(ranged) == record(held)
    assert set(package.datasets.reads.values()) == {1}  # each dataset read once (ADLB range by range)


def many_defects() -> dict[str, pd.DataFrame]:
    """Defects of the rules that look beyond one record: repeated keys and records in two subjects, units
    per test, baselines, PARAMCD/PARAM and BASETYPE over the dataset, lengths, subjects without baseline."""
    frames = planted()
    lb = frames["LB"]
    lb = pd.concat([lb, lb.iloc[[0, 4]]], ignore_index=True).sort_values("USUBJID", kind="stable").reset_index(drop=True)
    lb.loc[lb.index[-1], "LBSTRESU"] = "mg/dL"                          # CV0203 against the other ranges
    frames["LB"] = lb                                                    # CV0108, SD1117, SD0005 in two subjects
    adlb = frames["ADLB"]
    adlb = pd.concat([adlb, adlb.iloc[[0]].assign(USUBJID=S3, PARAM="Other name")], ignore_index=True)
    adlb.loc[1, "ABLFL"] = "Y"                                           # CV0407
    adlb.loc[3, "BASE"] = 5.0                                            # CV0408
    adlb.loc[len(adlb) - 1, "BASETYPE"] = "LAST"                         # CV0409 across ranges
    frames["ADLB"] = adlb                                                # CV0412 across ranges
    frames["AE"].loc[0, "AETERM"] = "HEADACHE " + "X" * 30               # the longest AETERM in one range
    return frames


@pytest.mark.parametrize("per", ["1", "2", "4"])
def test_rules_on_the_whole_dataset_find_across_ranges_what_they_find_at_once(tmp_path, per, monkeypatch):
    frames = many_defects()
    write_package(tmp_path / "pkg", frames)
    write_define(tmp_path / "pkg" / "define.xml", frames)
    held = run_rules(whole(load_package(tmp_path / "pkg")), stub_ct())
    assert {"CV0108", "SD1117", "SD0005", "CV0203", "CV0407", "CV0408", "CV0409",
            "CV0412"} <= set(held["rule"])  # and no CV0106: each length is the longest value of the dataset,
    # not of a range
    for processes in ("1", "2"):
        monkeypatch.setenv(ranges.RANGE_RECORDS_VARIABLE, per)
        monkeypatch.setenv(parallel.PROCESSES_VARIABLE, processes)
        monkeypatch.setattr(parallel, "PARALLEL_BYTES", 0)
        ranged = run_rules(load_package(tmp_path / "pkg"), stub_ct())
        pd.testing.assert_frame_equal(ranged, held)
        assert record(ranged) == record(held)


def test_a_dataset_whose_subjects_are_not_together_is_validated_whole(tmp_path, monkeypatch):
    frames = clean_frames()
    frames["LB"] = frames["LB"].iloc[[0, 3, 1, 2, 4]].reset_index(drop=True)  # S1, S2, S1...
    assert frames["LB"]["USUBJID"].tolist()[:3] == [S1, S2, S1]
    write_package(tmp_path / "pkg", frames)
    held = run_rules(whole(load_package(tmp_path / "pkg")), stub_ct())
    monkeypatch.setenv(ranges.RANGE_RECORDS_VARIABLE, "1")
    monkeypatch.setenv(parallel.PROCESSES_VARIABLE, "1")
    package = load_package(tmp_path / "pkg")
    ranged = run_rules(package, stub_ct())
    assert "LB: its subjects' records are not together (USUBJID not sorted): validated whole" in package.notes
    pd.testing.assert_frame_equal(ranged, held)
    assert record(ranged) == record(held)


def test_the_encoding_is_the_whole_files():
    text = ranges._Text(None)
    ascii_range, utf8_range = pd.DataFrame({"A": ["x"]}), pd.DataFrame({"A": ["é"]})
    ascii_range.attrs["encoding"] = utf8_range.attrs["encoding"] = "utf-8"
    cp1252_range = pd.DataFrame({"A": ["é"]})
    cp1252_range.attrs["encoding"] = "cp1252"
    text.check(ascii_range)
    text.check(cp1252_range)  # the ranges after it are read as cp1252
    assert text.encoding == "cp1252"
    text = ranges._Text(None)
    text.check(utf8_range)
    with pytest.raises(ranges.Reencode):  # non-ASCII read as UTF-8 before: the ranges are read again
        text.check(cp1252_range)


def lazily(package):
    """A package held in memory (a CORE test case) as if read from files, ranges sliced from its frames."""
    datasets = LazyDatasets()
    for name in list(package.datasets):
        df = package.datasets[name]

        def read(columns=None, rows=None, encoding=None, df=df):
            out = df if columns is None else df[list(columns)]
            return out if rows is None else out.iloc[rows[0]:rows[1]].reset_index(drop=True)

        datasets.add(name, reader=read, columns=list(df.columns), records=len(df), size=len(df))
    package.datasets = datasets
    return package


CASES = sorted(PUBLISHED.glob("*/*/*/data"))[::40] if PUBLISHED.is_dir() else []


@pytest.mark.skipif(not CASES, reason="../shared/reference/cdisc-open-rules not present")
def test_the_open_rules_test_packages_give_the_same_findings_in_ranges(monkeypatch):
    monkeypatch.setenv(parallel.PROCESSES_VARIABLE, "1")
    checked = 0
    for folder in CASES:
        monkeypatch.delenv(ranges.RANGE_RECORDS_VARIABLE, raising=False)
        held = run_rules(load_package(folder))
        monkeypatch.setenv(ranges.RANGE_RECORDS_VARIABLE, "3")
        package = lazily(load_package(folder))
        ranged = run_rules(package)
        pd.testing.assert_frame_equal(ranged, held, obj=str(folder))
        assert record(ranged) == record(held), folder
        checked += any("of whole subjects" in note for note in package.notes)
    assert checked >= len(CASES) // 3  # the others have no dataset of more than 3 records with USUBJID


CORE_000540 = PUBLISHED / "CORE-000540" / "positive" / "02" / "data"


@pytest.mark.skipif(not CORE_000540.is_dir(), reason="../shared/reference/cdisc-open-rules not present")
def test_split_parts_apart_in_the_package_give_the_same_order_whole_and_unit_by_unit(monkeypatch):
    """_datasets.csv lists FACM, CM, FAMH, MH: FACM and FAMH are one unit (the split FA domain). Held whole, a
    rule met the datasets in listed order (CV0106: FACM, CM, FAMH); unit by unit in unit order (FACM, FAMH,
    CM). The package is put in unit order when loaded, so both give the same findings in the same order."""
    monkeypatch.setenv(parallel.PROCESSES_VARIABLE, "1")
    package = load_package(CORE_000540)
    assert list(package.datasets) == list(package.meta) == ["FACM", "FAMH", "CM", "MH"]
    held = run_rules(whole(load_package(CORE_000540)))
    unit_by_unit = run_rules(lazily(load_package(CORE_000540)))
    pd.testing.assert_frame_equal(unit_by_unit, held)
    cv0106 = held[held["rule"] == "CV0106"]
    assert list(zip(cv0106["dataset"], cv0106["variable"], cv0106["value"])) == [
        ("FACM", "FALNKGRP", "200"), ("FAMH", "FALNKGRP", "200"), ("CM", "CMTRT", "200"), ("CM", "CMINDC", "200"),
        ("CM", "CMROUTE", "24")]


def test_the_parts_of_a_split_domain_follow_one_another_in_the_package():
    from validate.package import Package

    frames = {name: pd.DataFrame({"USUBJID": ["S1"]}) for name in ("FACM", "CM", "FAMH", "SUPPFACM", "MH", "SUPPFAMH")}
    package = Package(root=Path("."), datasets=dict(frames), meta={name: name for name in frames}).in_unit_order()
    assert list(package.datasets) == list(package.meta) == ["FACM", "FAMH", "CM", "SUPPFACM", "SUPPFAMH", "MH"]
    lazy = LazyDatasets()
    for name, frame in frames.items():
        lazy.add(name, reader=lambda columns=None, rows=None, encoding=None, f=frame: f, columns=["USUBJID"],
                 records=1, size=1)
    package = Package(root=Path("."), datasets=lazy, meta={}).in_unit_order()
    assert list(package.datasets) == ["FACM", "FAMH", "CM", "SUPPFACM", "SUPPFAMH", "MH"]
