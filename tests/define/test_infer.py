"""Metadata inference works once per distinct value: the same attributes whatever the text type of the
column (Python objects, pyarrow strings, categories), values worked out by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from define.build import build_define, value_in
from define.infer import DistinctText, TextColumn, char_attributes, numeric_attributes, value_attributes
from define.model import DatasetInput, OriginDef, StudyInput, ValueLevelRule, VariableInput
from specs.errors import DataError

RAW = ["B", None, "  ", "Céphalée", "B", "", "≥5", "A", "B"]
TEXT_TYPES = {"object": lambda v: pd.Series(v, dtype=object), "str": lambda v: pd.Series(v, dtype="str"),
              "category": lambda v: pd.Series(v, dtype="category")}


@pytest.mark.parametrize("kind", TEXT_TYPES)
def test_a_column_is_read_once_per_distinct_value(kind):
    column = TextColumn.of(TEXT_TYPES[kind](RAW))
    # NA, "" and blanks are missing; values in order of first appearance
    assert column.values == ["B", "Céphalée", "≥5", "A"]
    assert column.codes.tolist() == [0, -1, -1, 1, 0, -1, 2, 3, 0]
    assert column.present == 6
    assert column.ascii_lengths.tolist() == [1, 8, 3, 1]  # '≥5' is stored as '>=5'
    assert char_attributes("AETERM", column) == char_attributes("AETERM", TEXT_TYPES[kind](RAW))
    attributes, xpt_length = char_attributes("AETERM", column)
    assert (attributes.data_type, attributes.length, xpt_length) == ("text", 8, 8)


@pytest.mark.parametrize("kind", TEXT_TYPES)
def test_the_distinct_values_alone_are_those_of_the_column_read_whole(kind):
    column = DistinctText.of(TEXT_TYPES[kind](RAW))
    assert isinstance(column, DistinctText) == (kind == "str")  # (Arrow text; any other kind: TextColumn)
    assert column.values == ["B", "Céphalée", "≥5", "A"]
    assert (column.present, len(column)) == (6, 9)
    assert column.ascii_lengths.tolist() == [1, 8, 3, 1]
    assert column.codes.tolist() == [0, -1, -1, 1, 0, -1, 2, 3, 0]  # (worked out when asked for)
    kept = DistinctText.of(TEXT_TYPES[kind](RAW), drop_blank=False)
    assert kept.values == ["B", "  ", "Céphalée", "≥5", "A"] and kept.present == 7


def test_a_subset_has_its_own_values_in_their_order():
    column = TextColumn.of(pd.Series(RAW, dtype=object))
    subset = column.take(np.array([6, 7, 8, 1]))
    assert subset.values == ["≥5", "A", "B"]
    assert subset.codes.tolist() == [0, 1, 2, -1]
    assert subset.rows.tolist() == [6, 7, 8, 1]
    assert subset.ascii_lengths.tolist() == [3, 1, 1]
    assert subset.present == 3 and len(subset) == 4


def test_blanks_kept_when_asked_and_non_text_values_read_as_text():
    column = TextColumn.of(pd.Series(["x", 1.0, "  ", None, 1.0, True], dtype=object), drop_blank=False)
    assert column.values == ["x", "1.0", "  ", "True"]
    assert column.codes.tolist() == [0, 1, 2, -1, 1, 3]


def test_numbers_as_codelist_values():
    column = TextColumn.of_numbers(np.array([1.0, 2.5, np.nan, -0.0, 0.0, 1.0]))
    assert column.values == ["1", "2.5", "0"]
    assert column.codes.tolist() == [0, 1, -1, 2, 2, 0]


def test_dates_text_numbers_and_numbers():
    dates = pd.Series(["2024-01-05", "2024-01", "", "2024-02-03T10:15"], dtype="str")
    assert char_attributes("LBDTC", dates)[0].data_type == "partialDatetime"
    assert value_attributes("Char", pd.Series([" 11.0", "7.25", None], dtype=object)) == \
        value_attributes("Char", TextColumn.of(pd.Series([" 11.0", "7.25", None], dtype="str")))
    attrs = value_attributes("Char", pd.Series([" 11.0", "7.25", None], dtype=object))
    assert (attrs.data_type, attrs.length, attrs.significant_digits) == ("float", 4, 2)
    attrs = numeric_attributes(np.array([3.0, -12.0, np.nan, 3.0, 0.125]))
    assert (attrs.data_type, attrs.length, attrs.significant_digits) == ("float", 7, 3)


ADAM = StudyInput("S1", "S1", "Study S1", "S1", ("ADaMIG", "1.3"), {}, mandatory_from_data=True)
DERIVED = OriginDef("Derived")


def _adlb(frame: pd.DataFrame):
    variables = [VariableInput("USUBJID", "Unique Subject Identifier", "Char", DERIVED),
                 VariableInput("PARAMCD", "Parameter Code", "Char", DERIVED, terms_from_data=True,
                               decode_from="PARAM"),
                 VariableInput("PARAM", "Parameter", "Char", DERIVED),
                 VariableInput("AVALC", "Analysis Value (C)", "Char", DERIVED),
                 VariableInput("AVAL", "Analysis Value", "Num", DERIVED)]
    spec = DatasetInput("ADLB", "Lab Analysis", "Analysis", "BASIC DATA STRUCTURE", "One record per subject per "
                        "parameter", ["USUBJID", "PARAMCD"], variables,
                        value_levels=[ValueLevelRule("AVAL", "PARAMCD", "PARAM"),
                                      ValueLevelRule("AVALC", "PARAMCD", "PARAM")])
    return build_define(ADAM, "Analysis", [spec], {"ADLB": frame})


@pytest.mark.parametrize("kind", ["object", "str"])
def test_value_level_metadata_per_parameter(kind):
    frame = pd.DataFrame({
        "USUBJID": ["S1-1", "S1-1", "S1-2", "S1-2", "S1-3"],
        "PARAMCD": ["HBA1C", "GLUC", "HBA1C", "GLUC", "CPEP"],
        "PARAM": ["", "Glucose (mmol/L)", "HbA1c (%)", "Glucose (mmol/L)", "C-peptide"],
        "AVALC": ["6.5", "", "7.25", "", "LOW"],
        "AVAL": [6.5, 5.0, 7.25, 12.0, np.nan]}).astype({c: kind for c in ("USUBJID", "PARAMCD", "PARAM", "AVALC")})
    model = _adlb(frame)
    items = model.items
    # AVAL: CPEP has no number, so no entry; GLUC integers (width 2), HBA1C 2 decimals
    assert [(r.item_oid, r.mandatory) for r in next(v for v in model.value_lists if v.oid == "VL.ADLB.AVAL").items] \
        == [("IT.ADLB.AVAL.GLUC", True), ("IT.ADLB.AVAL.HBA1C", True)]
    assert (items["IT.ADLB.AVAL.GLUC"].data_type, items["IT.ADLB.AVAL.GLUC"].length) == ("integer", 2)
    hba1c = items["IT.ADLB.AVAL.HBA1C"]
    assert (hba1c.data_type, hba1c.length, hba1c.significant_digits, hba1c.label) == ("float", 4, 2, "HbA1c (%)")
    # AVALC: text per parameter; GLUC has none
    assert [(r.item_oid, r.mandatory) for r in next(v for v in model.value_lists if v.oid == "VL.ADLB.AVALC").items] \
        == [("IT.ADLB.AVALC.CPEP", True), ("IT.ADLB.AVALC.HBA1C", True)]
    assert (items["IT.ADLB.AVALC.CPEP"].data_type, items["IT.ADLB.AVALC.CPEP"].length) == ("text", 3)
    assert (items["IT.ADLB.AVALC.HBA1C"].data_type, items["IT.ADLB.AVALC.HBA1C"].length) == ("float", 4)
    # whole variables: lengths are the longest values, mandatory only when every record has a value
    assert [(i.name, i.length) for i in items.values() if i.oid.count(".") == 2] == \
        [("USUBJID", 4), ("PARAMCD", 5), ("PARAM", 16), ("AVALC", 4), ("AVAL", 5)]
    assert [r.mandatory for r in model.groups[0].items] == [True, True, False, False, False]
    # the data codelist of PARAMCD, decoded by PARAM (a record without PARAM decodes nothing)
    (codelist,) = model.codelists
    assert [(i.value, i.decode) for i in codelist.items] == \
        [("CPEP", "C-peptide"), ("GLUC", "Glucose (mmol/L)"), ("HBA1C", "HbA1c (%)")]
    assert [c.oid for c in model.where_clauses] == \
        ["WC.ADLB.PARAMCD.GLUC", "WC.ADLB.PARAMCD.HBA1C", "WC.ADLB.PARAMCD.CPEP"]


def test_a_term_with_two_decodes_is_refused():
    frame = pd.DataFrame({"USUBJID": ["S1-1", "S1-2", "S1-3"], "PARAMCD": ["GLUC", "GLUC", "HBA1C"],
                          "PARAM": ["Glucose", "Glucose (mmol/L)", "HbA1c"], "AVALC": ["", "", ""],
                          "AVAL": [5.0, 6.0, 7.0]})
    with pytest.raises(DataError) as caught:
        _adlb(frame)
    assert str(caught.value) == ("1 spec/data conflict:\n  ADLB.PARAMCD: value 'GLUC' has more than one PARAM "
                                 "('Glucose', 'Glucose (mmol/L)'): a codelist term has one decode")


def test_value_in_reads_numbers_as_define_xml_writes_them():
    assert value_in(pd.Series([67.0, 2.5, np.nan]), ["67", ""]).tolist() == [True, False, True]
    assert value_in(pd.Series(["A", None, " "], dtype="str"), ["", " "]).tolist() == [False, True, True]
