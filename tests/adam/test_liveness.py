"""Liveness: a working frame keeps only the variables a later step, dataset or output reads."""
import pandas as pd

from adam.build import build_adam
from adam.liveness import ALL, Liveness, keep_only, library_names
from adam.spec import AdamSpec


def _spec(datasets: dict) -> AdamSpec:
    return AdamSpec("adam.yaml", {"study": "X", "datasets": datasets})


def _var(name: str, type_: str = "Char") -> dict:
    return {"name": name, "label": name, "type": type_}


WORK = {
    "LBW": {"output": False, "source": "LB", "steps": [
        {"step": "derive_vars_copy", "args": {"new_vars": {"PARAMCD": "LBTESTCD", "AVAL": "LBSTRESN"}}},
        {"step": "filter_records", "args": {"where": 'LBSTAT is empty'}}]},
    "ADLB": {"source": "LBW", "keys": ["USUBJID", "PARAMCD"],
             "variables": [_var("USUBJID"), _var("PARAMCD"), _var("AVAL", "Num")], "steps": []},
}


def test_a_variable_is_kept_while_a_later_step_or_the_output_reads_it():
    live = Liveness(WORK)
    start = live.after("LBW", -1)
    assert {"LBTESTCD", "LBSTRESN", "LBSTAT", "USUBJID"} <= start and "LBORRES" not in start
    after_copy = live.after("LBW", 0)
    assert "LBSTAT" in after_copy and "LBTESTCD" not in after_copy  # read by the copy, then never again
    assert "LBSTAT" not in live.after("LBW", 1) and {"PARAMCD", "AVAL"} <= live.after("LBW", 1)
    assert "LBORRES" not in live.kept("LB", 0) and "LBSTAT" in live.kept("LB", 0)
    assert live.kept("LB", 1) == set()  # read by no dataset from position 1 on


def test_library_defaults_count_as_read():
    names = library_names()
    assert {"AVAL", "BASE", "ABLFL", "APERSDT", "APEREDT", "SRCSEQ", "QNAM", "IDVAR"} <= names
    assert "LBORRES" not in names


def test_a_step_taking_every_variable_of_a_dataset_keeps_them_all():
    datasets = {
        "W": {"output": False, "source": "DM", "steps": []},
        "A": {"source": "AE", "variables": [_var("USUBJID")], "steps": [
            {"step": "derive_vars_merged", "args": {"dataset_add": "W", "by_vars": ["USUBJID"]}},
            {"step": "derive_vars_supp", "args": {"dataset_add": "SUPPAE"}}]},
    }
    live = Liveness(datasets)
    assert live.kept("W", 1) is ALL and live.kept("DM", 0) is ALL  # new_vars omitted: all of W's
    assert live.after("A", -1) is ALL  # derive_vars_supp reads the variables IDVAR names
    assert live.kept("SUPPAE", 1) is ALL


def test_keep_only_copies_no_data_and_keeps_the_name():
    df = pd.DataFrame({"A": [1.0, 2.0], "B": ["x", "y"], "C": [3, 4]})
    df.attrs = {"name": "LBW"}
    assert keep_only(df, ALL) is df and keep_only(df, {"A", "B", "C", "D"}) is df
    out = keep_only(df, {"C", "A"})
    assert list(out.columns) == ["A", "C"] and out.attrs == {"name": "LBW"}


def test_build_drops_unread_variables_and_gives_the_same_output():
    lb = pd.DataFrame({"USUBJID": ["S1", "S1", "S2"], "LBTESTCD": ["ALT", "AST", "ALT"],
                       "LBSTRESN": [10.0, 20.0, 30.0], "LBSTAT": [pd.NA, pd.NA, "NOT DONE"],
                       "LBORRES": ["10", "20", "30"]}).astype({"LBSTAT": "string"})
    given = {"LB": lb}
    out = build_adam(given, _spec(WORK), release=True)
    assert out["ADLB"].to_dict("list") == {"USUBJID": ["S1", "S1"], "PARAMCD": ["ALT", "AST"], "AVAL": [10.0, 20.0]}
    assert given == {} and list(lb.columns) == ["USUBJID", "LBTESTCD", "LBSTRESN", "LBSTAT", "LBORRES"]


def test_take_runs_gives_the_rows_of_a_take_whether_it_slices_or_takes():
    import numpy as np

    from adam.derive.keys import take_runs

    n = 60_000  # above the size where slices are stacked
    df = pd.DataFrame({"T": pd.Series(np.array(["a", "b", None], dtype=object)[np.arange(n) % 3], dtype="str"),
                       "N": np.arange(n, dtype="float64")}, index=np.arange(n) + 7)
    runs = np.concatenate([np.arange(0, 100), np.arange(200, n), np.arange(100, 200), np.arange(100, 200)])
    for positions in (runs, runs[::-1], np.array([], dtype=np.intp)):
        pd.testing.assert_frame_equal(take_runs(df, positions), df.take(positions).reset_index(drop=True))
