"""The REDCap export generator writes REDCap's flat layout and data dictionary, deterministically."""
from __future__ import annotations

import pandas as pd
import pytest

from cdisc.demo.redcap import DICTIONARY_COLUMNS, DICTIONARY_FILE, RECORDS_FILE, generate, main


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    out = tmp_path_factory.mktemp("redcap")
    counts = generate(out)
    records = pd.read_csv(out / RECORDS_FILE, dtype=str, keep_default_na=False)
    dictionary = pd.read_csv(out / DICTIONARY_FILE, dtype=str, keep_default_na=False)
    return out, counts, records, dictionary


def test_same_seed_gives_identical_bytes_and_another_seed_other_data(export, tmp_path):
    out, *_ = export
    generate(tmp_path / "again")
    generate(tmp_path / "other", seed=7)
    for name in (RECORDS_FILE, DICTIONARY_FILE):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()
    assert (tmp_path / "other" / RECORDS_FILE).read_bytes() != (out / RECORDS_FILE).read_bytes()


def test_the_records_export_has_redcap_s_flat_layout(export):
    _, counts, records, dictionary = export
    assert list(records.columns[:5]) == ["record_id", "redcap_event_name", "redcap_repeat_instrument",
                                         "redcap_repeat_instance", "redcap_data_access_group"]
    assert [c for c in records.columns if c.startswith("race___")] == [f"race___{i}" for i in range(1, 7)]
    forms = list(dict.fromkeys(dictionary["Form Name"]))
    assert [c for c in records.columns if c.endswith("_complete")] == [f"{f}_complete" for f in forms]
    assert "enrollment_intro" not in records.columns  # a descriptive field has no column
    assert list(dictionary.columns) == DICTIONARY_COLUMNS
    assert dictionary.loc[dictionary["Variable / Field Name"] == "sex",
                          "Choices, Calculations, OR Slider Labels"].tolist() == ["1, Male | 2, Female"]
    repeats = records[records["redcap_repeat_instrument"] != ""]
    assert set(repeats["redcap_repeat_instrument"]) == {"adverse_events"}
    assert set(repeats["redcap_event_name"]) == {"logs_arm_1"}
    assert len(repeats) == counts["adverse_events"] > 0
    # instances number 1..n per record
    assert (repeats.groupby("record_id")["redcap_repeat_instance"].apply(
        lambda s: s.astype(int).tolist() == list(range(1, len(s) + 1)))).all()


def test_dates_are_written_as_their_validation_says(export):
    _, _, records, dictionary = export
    validation = dict(zip(dictionary["Variable / Field Name"], dictionary["Text Validation Type OR Show Slider Number"]))
    for field, kind in validation.items():
        values = records.loc[records[field] != "", field] if field in records else pd.Series(dtype=str)
        if kind == "date_ymd":
            assert values.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all() and len(values), field
        elif kind == "date_mdy":
            assert values.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").all() and len(values), field
    assert records["dob"].str.match(r"^\d/").any()  # months without a leading zero


def test_every_coded_value_is_a_declared_choice(export):
    _, _, records, dictionary = export
    coded = dictionary[dictionary["Field Type"].isin(["radio", "dropdown"])]
    for field, choices in zip(coded["Variable / Field Name"], coded["Choices, Calculations, OR Slider Labels"]):
        codes = {part.split(",")[0].strip() for part in choices.split("|")}
        assert set(records[field]) - {""} <= codes, field
    assert set(records["ae_serious"]) <= {"", "0", "1"}
    assert set(records["race___1"]) <= {"", "0", "1"}


def test_the_command_line(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--subjects", "2", "--seed", "3"]) == 0
    assert capsys.readouterr().out.startswith(f"REDCap export written to {tmp_path}: enrollment 2, ")
    assert (tmp_path / RECORDS_FILE).is_file() and (tmp_path / DICTIONARY_FILE).is_file()
