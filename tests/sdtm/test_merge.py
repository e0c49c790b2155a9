"""Merges: every record that finds no partner is reported (an error, or a warning when optional)."""
import pandas as pd

from sdtm.prepare import locate, merge_sources


def tables():
    dm = locate(pd.DataFrame({"Subject": ["01", "02", "03", "04"]}), "dm.csv", ["Subject"])
    rand = locate(pd.DataFrame({"Subject": ["01", "02", "04"], "RANDNO": ["R1", "R9", ""]}), "rand.csv", ["Subject"])
    lst = locate(pd.DataFrame({"RANDNO": ["R1", "R2"], "TRTCODE": ["A", "B"]}), "list.csv", ["RANDNO"])
    return dm, {"rand": rand, "randomization": lst}


def test_an_unmatched_key_is_an_error_and_an_optional_merge_a_warning():
    dm, sources = tables()
    problems, issues, warnings = [], [], []
    merges = [{"source": "rand", "by": ["Subject"], "columns": ["RANDNO"], "optional": True},
              {"source": "randomization", "by": ["RANDNO"], "columns": ["TRTCODE"]}]
    merged = merge_sources(dm, merges, sources, "DM", problems, issues, {"randomization"}, warnings)
    assert list(merged["TRTCODE"]) == ["A", "", "", ""]
    # 03 has no randomization form (a warning); its empty RANDNO is not reported again. 02's R9 is not in
    # the list, and 04's form has no RANDNO: both errors.
    assert [(w.key, w.reason, w.extra["detail"]) for w in warnings] == [
        ("row 3 (Subject=03)", "no record of rand with the same Subject (optional merge)", "Subject '03'")]
    assert [str(p) for p in problems] == [
        "dm.csv row 2 (Subject=02): DM: no record of randomization (list.csv) has RANDNO 'R9' (merge[1]; say "
        "optional: true if a record may have none)",
        "dm.csv row 4 (Subject=04): DM: RANDNO empty, so no record of randomization (list.csv) can be merged on "
        "RANDNO (merge[1]; say optional: true if a record may have none)"]
    assert issues == []  # R2 is unused, but the list is a lookup table


def test_a_merged_record_with_no_partner_is_listed_as_not_mapped():
    dm, sources = tables()
    problems, issues = [], []
    merge_sources(dm.iloc[:1], [{"source": "rand", "by": ["Subject"], "columns": ["RANDNO"]}], sources, "DM",
                  problems, issues)
    assert [(i.source, i.key, i.reason) for i in issues] == [
        ("rand.csv", "row 2 (Subject=02)", "no DM record matches on Subject"),
        ("rand.csv", "row 3 (Subject=04)", "no DM record matches on Subject")]
