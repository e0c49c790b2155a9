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
    counts = {"B": 3, "A": 2, "C": 4}
    # 10 bytes a row, 5 bytes of headers, limit 40: A (20) + B (30) > 35 -> new piece; C alone (40) stays whole
    assert plan_split(counts, 10, 5, 40) == [["A"], ["B"], ["C"]]
    assert plan_split(counts, 10, 5, 60) == [["A", "B"], ["C"]]


# an ADLB of 7 records, 2 Char variables of 8 and a Num: 24 bytes a record (shorter than 80: counted in the data)
ADLB = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S2", "S2", "S2", "S3"],
                     "PARAMCD": ["HGB", "ALT", "", "HGB", "ALT", "AST", "HGB"],
                     "AVAL": [13.5, 31.0, None, 12.0, 28.0, 19.0, 14.5]})


def _model(frame, lengths):
    from types import SimpleNamespace

    from define.xpt import XptVariable

    variables = [XptVariable(c, c.title(), "Num" if c == "AVAL" else "Char", lengths.get(c)) for c in frame.columns]
    return SimpleNamespace(xpt_variables=lambda name: variables, group=lambda name: SimpleNamespace(label="Lab"),
                           data={"ADLB": frame}), variables


def test_the_pieces_are_cut_from_the_file_a_block_at_a_time_with_the_bytes_of_the_pieces_written_whole(tmp_path):
    from define.package import write_split
    from define.xpt import write_xpt

    model, variables = _model(ADLB, {"USUBJID": 8, "PARAMCD": 8})
    created = datetime(2025, 1, 1)
    write_xpt(ADLB, tmp_path / "adlb.xpt", dataset_name="ADLB", dataset_label="Lab", variables=variables,
              created=created)
    # 8 header records, 3 NAMESTRs (420 bytes padded to 480), OBS: 1200; 7 x 24 = 168 bytes of records padded to 80
    size = (tmp_path / "adlb.xpt").stat().st_size
    assert size == 1440
    # limit 1250: the headers and padding (1440 - 168 = 1272) pass it alone: each value ("", ALT, AST, HGB) its
    # piece, each still over it (1200 + 24 to 72 bytes, padded: 1280); blocks of 50 bytes: 2 records at a time
    files, notes = write_split(model, "ADLB", tmp_path, size, 1250, created, block=50)
    assert [f.name for f in files] == ["adlb1.xpt", "adlb2.xpt", "adlb3.xpt", "adlb4.xpt"]
    pieces = [ADLB[ADLB["PARAMCD"] == value] for value in ("", "ALT", "AST", "HGB")]
    for number, (path, piece) in enumerate(zip(files, pieces), start=1):
        expected = tmp_path / f"expected{number}.xpt"
        write_xpt(piece.reset_index(drop=True), expected, dataset_name=f"ADLB{number}", dataset_label="Lab",
                  variables=variables, created=created)
        assert path.read_bytes() == expected.read_bytes(), path.name
    assert notes == ["ADLB: 1440 bytes, over the 1250-byte limit: split by PARAMCD into "
                     "split/adlb1.xpt (PARAMCD ; 1 records) still over the limit: one PARAMCD value cannot be split "
                     "further; split/adlb2.xpt (PARAMCD ALT; 2 records) still over the limit: one PARAMCD value cannot "
                     "be split further; split/adlb3.xpt (PARAMCD AST; 1 records) still over the limit: one PARAMCD "
                     "value cannot be split further; split/adlb4.xpt (PARAMCD HGB; 3 records) still over the limit: "
                     "one PARAMCD value cannot be split further"]


def test_pieces_pack_values_under_the_limit_in_sorted_order(tmp_path):
    from define.package import write_split
    from define.xpt import read_xpt, write_xpt

    model, variables = _model(ADLB, {"USUBJID": 8, "PARAMCD": 8})
    created = datetime(2025, 1, 1)
    write_xpt(ADLB, tmp_path / "adlb.xpt", dataset_name="ADLB", dataset_label="Lab", variables=variables,
              created=created)
    # overhead 1272; limit 1272 + 3 x 24 = 1344: "" (1) + ALT (2) = 3 records, then AST (1), then HGB (3) alone
    files, notes = write_split(model, "ADLB", tmp_path, 1440, 1344, created, block=24)
    assert [read_xpt(f)[0]["PARAMCD"].tolist() for f in files] == [["ALT", "", "ALT"], ["AST"], ["HGB", "HGB", "HGB"]]
    assert [read_xpt(f)[1].dataset_name for f in files] == ["ADLB1", "ADLB2", "ADLB3"]
    assert notes[0].endswith("split/adlb3.xpt (PARAMCD HGB; 3 records)")


def test_no_grouping_variable_with_two_values_no_split(tmp_path):
    from define.package import write_split
    from define.xpt import write_xpt

    one = ADLB.assign(PARAMCD="HGB", USUBJID="S1")
    model, variables = _model(one, {"USUBJID": 8, "PARAMCD": 8})
    write_xpt(one, tmp_path / "adlb.xpt", dataset_name="ADLB", dataset_label="Lab", variables=variables,
              created=datetime(2025, 1, 1))
    assert write_split(model, "ADLB", tmp_path, 1440, 1250, datetime(2025, 1, 1), block=50) == \
        ([], ["ADLB: 1440 bytes, over the 1250-byte limit, but no grouping variable to split on"])
    assert not (tmp_path / "split").exists()


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
