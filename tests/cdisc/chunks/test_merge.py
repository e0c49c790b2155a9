"""The chunks' results joined by hand (cdisc.chunks.merge): the order check, notes, sequences, cut logs."""
import pandas as pd
import pytest

from cdisc.chunks.merge import check_order, merge_cut_logs, merge_notes, merge_sequences
from sdtm.notes import Count, Note, Values
from specs.errors import DataError


def test_order_checked_at_the_join():
    edges = [(("S", "A-1"), ("S", "A-3")), None, (("S", "A-4"), ("S", "A-9"))]
    check_order("LB", edges, ["A-1", "A-4", "A-4"])
    misordered = [(("S", "A-1"), ("S", "A-5")), (("S", "A-4"), ("S", "A-9"))]
    with pytest.raises(DataError) as error:
        check_order("LB", misordered, ["A-1", "A-4"])
    assert str(error.value.problems[0].where) == "LB, chunk 2 (subjects from 'A-4')"
    assert error.value.problems[0].message == (
        "its first record ('S', 'A-4') does not come after the last record ('S', 'A-5') of chunk 1: the chunks of "
        "LB do not join into its sort order")
    unsorted = [((), ()), None, ((), ())]
    check_order("TX", [None, ((), ()), None], ["A-1", "A-4", "A-7"], [], "sdtm.yaml: domains.TX.sort")
    with pytest.raises(DataError) as error:
        check_order("TX", unsorted, ["A-1", "A-4", "A-7"], [], "sdtm.yaml: domains.TX.sort")
    assert str(error.value.problems[0]) == (
        "sdtm.yaml: domains.TX.sort: TX is not sorted by USUBJID: its records in 3 chunks of subjects cannot be "
        "joined in its order (run with --chunk-subjects above the number of subjects)")


def test_notes_join_their_counts_and_values():
    """Each chunk's notes in the order of the code path (stages ending at 1, 2, 2, 4); a note of one chunk
    only goes by its stage and domain among the others."""
    first = ["spec note", Note("LB.LBDTC from column D: ", Count(1), " two-digit year"),
             Note("LB: ", Count(2), " NOT DONE"), Note("AE.AEOUT: values ", Values({"b"}), " added")]
    second = ["spec note", Note("AE.AEDTC from column D: ", Count(4), " two-digit year"),
              Note("LB: ", Count(3), " NOT DONE"), Note("VS: ", Count(1), " NOT DONE"),
              Note("AE.AEOUT: values ", Values({"a", "b"}), " added")]
    merged = merge_notes([(first, [1, 2, 2, 3]), (second, [1, 2, 2, 4])], ["DM", "AE", "LB", "VS"])
    assert merged == ["spec note", "AE.AEDTC from column D: 4 two-digit year", "LB.LBDTC from column D: 1 two-digit year",
                      "LB: 5 NOT DONE", "VS: 1 NOT DONE", "AE.AEOUT: values 'a', 'b' added"]


def test_merge_sequences_keeps_each_lists_order():
    assert merge_sequences([["a", "c"], ["a", "b", "c", "d"], ["e"]], str) == ["a", "b", "c", "d", "e"]
    # a list sharing nothing: by rank among the others
    assert merge_sequences([["a2", "c2"], ["b2"]], str, rank=lambda k: k[0]) == ["a2", "b2", "c2"]


def test_cut_logs_join_by_domain_and_change():
    def log(rows):
        return pd.DataFrame([dict(zip(["domain", "source", "row", "key", "usubjid", "action", "variable", "old",
                                       "new", "reason"], r)) for r in rows])

    first = log([("DM", "dm", 2, "k", "S1", "removed", "", "", "", "subject entered after the cut"),
                 ("LB", "lab", 5, "k", "S1", "removed", "LBDTC", "x", "", "after the cut")])
    second = log([("LB", "lab", 3, "k", "S3", "removed", "LBDTC", "y", "", "after the cut"),
                  ("LB", "lab", 4, "k", "S3", "removed", "VISITNUM", "3", "", "collected at a visit after the cut (SV)")])
    third = log([("AE", "ae", 7, "k", "S5", "changed", "AEENDTC", "z", "", "ongoing at the cut")])
    merged = merge_cut_logs([first, None, second, third], ["DM", "AE", "LB"])
    assert merged["row"].tolist() == [2, 7, 5, 3, 4]
