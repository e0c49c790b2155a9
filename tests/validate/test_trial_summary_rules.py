"""TS values (validate/rules/trial_summary.py): hand-typed TS frames that pass and that fail."""
from __future__ import annotations


from pathlib import Path

import pandas as pd

from specs.ts_parameters import EXPECTED_INTERVENTIONAL
from validate.package import DatasetMeta, Package, VariableMeta
from validate.registry import run_rules
from validate.terminology import load_terminology

CT = load_terminology()  # the bundled subset, as cdisc validate reads it


def frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame(columns).astype({c: object for c in columns if c != "TSSEQ"})


def package(**frames) -> Package:
    pkg = Package(root=Path("."))
    for name, df in frames.items():
        meta = DatasetMeta(name=name, label=name, path=Path(f"{name.lower()}.xpt"))
        for order, col in enumerate(df.columns, start=1):
            kind = "Num" if df[col].dtype == "float64" else "Char"
            meta.variables[col] = VariableMeta(col, col, kind, 8 if kind == "Num" else 20, "", order)
        pkg.datasets[name], pkg.meta[name] = df, meta
    return pkg


def ts(rows: list[tuple]) -> object:
    """rows: (TSPARMCD, TSVAL, TSVALNF, TSVALCD, TSVCDREF)."""
    columns = list(zip(*rows))
    return frame({"STUDYID": ["S"] * len(rows), "DOMAIN": ["TS"] * len(rows), "TSSEQ": [1.0] * len(rows),
                  "TSPARMCD": list(columns[0]), "TSVAL": list(columns[1]), "TSVALNF": list(columns[2]),
                  "TSVALCD": list(columns[3]), "TSVCDREF": list(columns[4])})


def messages(rule_id: str, data, ct=CT) -> list[str]:
    return run_rules(package(TS=data), ct, [rule_id])["message"].tolist()


GOOD = [("STYPE", "INTERVENTIONAL", None, "C98388", "CDISC CT"), ("TRT", "CICLOSPORIN", None, "83HN0GTJ6D", "UNII"),
        ("COMPTRT", "PLACEBO", None, None, None), ("PCLAS", None, "UNK", None, None),
        ("TITLE", "A trial", None, None, None), ("ADDON", "NA", None, "C48660", "CDISC CT")]


def test_cv0208_a_coded_value_has_its_code_and_code_system():
    assert messages("CV0208", ts(GOOD)) == []
    bad = GOOD + [("PCLAS", "Interleukin-2 [EPC]", None, None, None),
                  ("INDIC", "Type 1 diabetes mellitus", None, "46635009", "SNOMED CT"),
                  ("TBLIND", "DOUBLE BLIND", None, "C15228", None)]
    assert messages("CV0208", ts(bad)) == [
        "TS PCLAS = 'Interleukin-2 [EPC]' comes from MED-RT: TSVALCD is null and TSVCDREF is '', not MED-RT",
        "TS INDIC = 'Type 1 diabetes mellitus' comes from SNOMED: TSVCDREF is 'SNOMED CT', not SNOMED",
        "TS TBLIND = 'DOUBLE BLIND' comes from CDISC CT: TSVCDREF is '', not CDISC CT"]


def test_cv0209_a_word_for_a_missing_value_is_a_null_flavor():
    assert messages("CV0209", ts(GOOD)) == []  # ADDON = NA is a term of NY, not a null flavor
    assert messages("CV0209", ts(GOOD + [("STOPRULE", "NONE", None, None, None)])) == [
        "TS STOPRULE: TSVAL = 'NONE' stands for a missing value; TSVAL is null and TSVALNF holds the ISO 21090 "
        "null flavor instead (SDTMIG 7.4.2.1)"]


def test_cv0210_a_value_or_a_null_flavor():
    assert messages("CV0210", ts(GOOD)) == []
    bad = [("ADAPT", None, None, None, None), ("RDIND", None, "MAYBE", None, None), ("AGEMAX", "P35Y", "PINF", None, None)]
    assert messages("CV0210", ts(bad)) == [
        "TS ADAPT: TSVAL and TSVALNF are both null", "TS RDIND: TSVALNF = 'MAYBE' is not an ISO 21090 null flavor",
        "TS AGEMAX: TSVAL = 'P35Y' and TSVALNF = 'PINF': a null flavor only for a null value"]


def test_cv0211_the_parameters_of_an_interventional_study():
    found = run_rules(package(TS=ts(GOOD)), CT, ["CV0211"])
    assert "ADAPT" in set(found["value"]) and "TRT" not in set(found["value"])
    assert found["message"].iloc[0] == ("TS has no ACTSUB parameter, which FDA's Technical Conformance Guide "
                                        "expects for an interventional study (a value, or TSVALNF when there is none)")
    complete = ts([(code, "x", None, None, None) for code in EXPECTED_INTERVENTIONAL if code != "STYPE"]
                  + [("STYPE", "INTERVENTIONAL", None, "C98388", "CDISC CT")])
    assert run_rules(package(TS=complete), CT, ["CV0211"]).empty
    observational = ts([("STYPE", "OBSERVATIONAL", None, "C16084", "CDISC CT")])
    assert run_rules(package(TS=observational), CT, ["CV0211"]).empty
