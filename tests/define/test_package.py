"""The m5 package layout, and the split of datasets over the size limit (tested with a tiny limit)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from define.package import plan_split, write_package
from define.xpt import read_xpt


def test_layout_of_the_sdtm_folder(demo):
    assert demo.folder.as_posix().endswith("m5/datasets/nct05153070/tabulations/sdtm")
    for name in ("define.xml", "define2-1.xsl", "define.html", "dm.xpt", "dm.json", "lb.xpt", "suppae.xpt"):
        assert (demo.folder / name).is_file(), name
    assert not (demo.folder / "split").exists()  # nothing near 5 GB


def test_plan_split_packs_whole_groups_under_the_limit():
    data = pd.DataFrame({"LBTESTCD": ["B"] * 3 + ["A"] * 2 + ["C"] * 4})
    # 10 bytes a row, 5 bytes of headers, limit 40: A (20) + B (30) > 35 -> new piece; C alone (40) stays whole
    assert plan_split(data, "LBTESTCD", 10, 5, 40) == [["A"], ["B"], ["C"]]
    assert plan_split(data, "LBTESTCD", 10, 5, 60) == [["A", "B"], ["C"]]


def test_a_dataset_over_the_limit_is_split_by_a_grouping_variable(demo, tmp_path):
    lb_size = (demo.folder / "lb.xpt").stat().st_size
    limit = lb_size // 3
    package = write_package(tmp_path, sdtm=demo.model, created=datetime(2025, 1, 1), size_limit=limit, html=False)
    folder = package.folders["sdtm"]
    full, _ = read_xpt(folder / "lb.xpt")  # the full dataset is kept
    pieces = sorted((folder / "split").glob("lb*.xpt"))
    assert len(pieces) >= 2
    frames = []
    for number, path in enumerate(pieces, start=1):
        data, meta = read_xpt(path)
        assert meta.dataset_name == f"LB{number}" and path.name == f"lb{number}.xpt"
        frames.append(data)
    # LBCAT has one value (CHEMISTRY), so the split is by test code; no test is cut in two
    tests = [set(f["LBTESTCD"]) for f in frames]
    assert all(not (a & b) for i, a in enumerate(tests) for b in tests[i + 1:])
    together = pd.concat(frames, ignore_index=True)
    assert together["LBSEQ"].groupby(together["USUBJID"]).apply(lambda s: s.is_unique).all()
    keys = ["USUBJID", "LBSEQ"]
    pd.testing.assert_frame_equal(together.sort_values(keys).reset_index(drop=True),
                                  full.sort_values(keys).reset_index(drop=True))
    assert any(note.startswith("LB: ") and "split by LBTESTCD" in note for note in package.notes)
