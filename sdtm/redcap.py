"""REDCap exports: the records CSV read one instrument at a time, through the project's data dictionary.

A REDCap project exports its records as one flat CSV (one row per record and event, and per instance of
a repeating instrument; every field of every instrument is a column) and describes them in its data
dictionary CSV. A source of study.yaml with ``redcap: {dictionary: FILE, form: INSTRUMENT}`` is one
instrument of that export, as a table like any other raw table:

- its rows: those of the instrument's repeat instances (``redcap_repeat_instrument`` = the instrument),
  and the other rows that hold data of the instrument (a field filled, a checkbox checked or a status);
- its columns: ``record_id`` (the project's first field), the ``redcap_*`` columns, the instrument's
  fields, its ``<instrument>_complete`` status, and, for each checkbox field, a column named after the
  field holding the labels of the checked choices joined by ' | ' (``race`` = 'Asian | White' from
  ``race___2`` and ``race___5``), beside its 0/1 columns;
- coded values (radio, dropdown, checkbox, yes/no, true/false and the status) are decoded to their
  labels, as REDCap's own "labels" export does, unless the field is listed in ``codes`` (then the code
  stays, still checked against the dictionary). A code the dictionary does not declare is an error that
  names the file, the row, the record, the column and the value.

Rows keep their line in the records CSV (``attrs['rows']``, 1-based data rows), so that every message
and the run report point at the export as delivered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from specs.errors import Problem, RawDataError

NAME, FORM, TYPE, LABEL, CHOICES, VALIDATION = (
    "Variable / Field Name", "Form Name", "Field Type", "Field Label", "Choices, Calculations, OR Slider Labels",
    "Text Validation Type OR Show Slider Number")
REQUIRED = (NAME, FORM, TYPE, LABEL, CHOICES, VALIDATION)
SYSTEM = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group",
          "redcap_survey_identifier")
CHOICE_TYPES = ("radio", "dropdown", "checkbox")
FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
STATUS = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
NO_COLUMN = ("descriptive",)  # field types with no column in the records export
SEPARATOR = " | "  # between the checked labels of a checkbox field, as between choices in the dictionary


@dataclass(frozen=True)
class Field:
    name: str
    form: str
    type: str
    label: str
    choices: dict = field(default_factory=dict)  # code -> label (radio, dropdown, checkbox, yes/no)
    validation: str = ""


@dataclass
class Dictionary:
    fields: dict  # field name -> Field, in dictionary order
    label: str  # the file, for messages

    @property
    def record_id(self) -> str:
        return next(iter(self.fields))

    def forms(self) -> list[str]:
        return list(dict.fromkeys(f.form for f in self.fields.values()))

    def columns_of(self, form: str) -> dict[str, tuple[Field, str | None]]:
        """The export columns of a form's fields: column -> (field, checkbox code or None)."""
        out = {}
        for f in self.fields.values():
            if f.form != form or f.name == self.record_id or f.type in NO_COLUMN:
                continue
            if f.type == "checkbox":
                for code in f.choices:
                    out[checkbox_column(f.name, code)] = (f, code)
            else:
                out[f.name] = (f, None)
        return out


def checkbox_column(name: str, code: str) -> str:
    """REDCap's column for one choice of a checkbox field: race + 1 -> race___1 (code lower case, other
    characters than letters, digits and '_' as '_')."""
    return f"{name}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}"


def parse_choices(text: str) -> dict[str, str] | None:
    """'1, Male | 2, Female' -> {'1': 'Male', '2': 'Female'}; None when a choice has no code."""
    choices = {}
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        code, comma, label = part.partition(",")
        if not comma or not code.strip():
            return None
        choices[code.strip()] = label.strip()
    return choices


def read_dictionary(frame: pd.DataFrame, label: str) -> Dictionary:
    """A data dictionary CSV (read as text) -> Dictionary; its problems named by row and column."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise RawDataError([Problem(label, f"not a REDCap data dictionary: no column "
                                           f"{', '.join(repr(c) for c in missing)}")])
    problems, fields = [], {}
    for row, (name, form, kind, text, choices, validation) in enumerate(
            frame[list(REQUIRED)].itertuples(index=False, name=None), start=1):  # one row per field, not data
        at = f"{label} row {row}"
        if not name or not form or not kind:
            problems.append(Problem(at, f"a field needs '{NAME}', '{FORM}' and '{TYPE}'"))
            continue
        if name in fields:
            problems.append(Problem(at, f"column '{NAME}': field '{name}' is listed twice"))
            continue
        coded = FIXED_CHOICES.get(kind, {})
        if kind in CHOICE_TYPES:
            coded = parse_choices(choices)
            if not coded:
                problems.append(Problem(at, f"column '{CHOICES}': '{choices}' is not a list of choices "
                                            f"('1, Male | 2, Female')"))
                continue
        fields[name] = Field(name, form, kind, text, coded, validation)
    if problems:
        raise RawDataError(problems)
    if not fields:
        raise RawDataError([Problem(label, "the data dictionary lists no field")])
    return Dictionary(fields, label)


def check_columns(records: pd.DataFrame, dictionary: Dictionary, label: str) -> None:
    """Every column of the records export is a field, a checkbox choice, a status or a redcap_ column."""
    known = {dictionary.record_id, *SYSTEM}
    for form in dictionary.forms():
        known |= set(dictionary.columns_of(form)) | {f"{form}_complete"}
    unknown = [c for c in records.columns if c not in known]
    problems = [Problem(label, f"column '{c}' is not a field of the data dictionary {dictionary.label}")
                for c in unknown]
    if dictionary.record_id not in records.columns:
        problems.append(Problem(label, f"no column '{dictionary.record_id}' (the first field of the data "
                                       f"dictionary, the record id)"))
    if problems:
        raise RawDataError(problems)


def rows_of_form(records: pd.DataFrame, dictionary: Dictionary, form: str) -> np.ndarray:
    """Which rows are records of a form: its repeat instances, and the non-repeating rows holding its data."""
    columns = dictionary.columns_of(form)
    instrument = records["redcap_repeat_instrument"] if "redcap_repeat_instrument" in records else \
        pd.Series("", index=records.index)
    data = pd.Series(False, index=records.index)
    for column, (f, code) in columns.items():
        if column in records:
            data |= (records[column] == "1") if code is not None else (records[column] != "")
    status = f"{form}_complete"
    if status in records:
        data |= records[status] != ""
    return ((instrument == form) | ((instrument == "") & data)).to_numpy()


def _decode(values: pd.Series, choices: dict, column: str, label: str, rows: np.ndarray, keys: pd.Series,
            decode: bool, problems: list[Problem], limit: int = 20) -> pd.Series:
    """Codes -> labels (or codes kept), by dictionary lookup; an undeclared code is a located problem."""
    bad = (values != "") & ~values.isin(list(choices))
    declared = ", ".join(f"{c} {t}" for c, t in choices.items())
    for row, key, value in zip(rows[bad.to_numpy()][:limit], keys[bad].head(limit), values[bad].head(limit)):
        problems.append(Problem(f"{label} row {row} ({key})", f"column {column}: '{value}' is not a code of the "
                                                              f"data dictionary ({declared})"))
    return values.map(choices).where(values.isin(list(choices)), values).astype(object) if decode else values


def read_form(records: pd.DataFrame, dictionary: Dictionary, form: str, label: str,
              codes: tuple[str, ...] = ()) -> pd.DataFrame:
    """One instrument of a records export (read as text) as its own table; see the module doc."""
    if form not in dictionary.forms():
        raise RawDataError([Problem(label, f"no instrument '{form}' in the data dictionary {dictionary.label} "
                                           f"(instruments: {', '.join(dictionary.forms())})")])
    unknown = [c for c in codes if c not in dictionary.fields or dictionary.fields[c].form != form]
    if unknown:
        raise RawDataError([Problem(label, f"redcap.codes: {', '.join(unknown)} not a field of instrument '{form}'")])
    check_columns(records, dictionary, label)
    picked = rows_of_form(records, dictionary, form)
    table = records[picked]
    rows = np.flatnonzero(picked) + 1
    record_id = dictionary.record_id
    keys = record_id + "=" + table[record_id].astype(str)
    if "redcap_event_name" in table:
        keys = keys + ", redcap_event_name=" + table["redcap_event_name"].astype(str)
    if "redcap_repeat_instance" in table:
        keys = keys + np.where(table["redcap_repeat_instance"] != "",
                               ", redcap_repeat_instance=" + table["redcap_repeat_instance"].astype(str), "")
    out = {c: table[c] for c in [record_id, *SYSTEM] if c in table}
    problems: list[Problem] = []
    checked: dict[str, list[pd.Series]] = {}
    columns = dictionary.columns_of(form)
    last_choice = {f.name: column for column, (f, code) in columns.items() if code is not None}
    for column, (f, code) in columns.items():
        if column not in table:
            continue
        values = table[column]
        if code is not None:  # a checkbox choice: 0 or 1 (empty in rows where the instrument is absent)
            _decode(values, {"0": "unchecked", "1": "checked"}, column, label, rows, keys, False, problems)
            name = f.choices[code] if f.name not in codes else code
            checked.setdefault(f.name, []).append(pd.Series(np.where(values == "1", name, ""), index=values.index))
        elif f.choices:
            values = _decode(values, f.choices, column, label, rows, keys, f.name not in codes, problems)
        out[column] = values
        if last_choice.get(f.name) == column:  # after its 0/1 columns: the field itself, its checked labels
            out[f.name] = _joined(checked[f.name])
    status = f"{form}_complete"
    if status in table:
        out[status] = _decode(table[status], STATUS, status, label, rows, keys, True, problems)
    if problems:
        raise RawDataError(problems)
    frame = pd.DataFrame(out, index=table.index).reset_index(drop=True)
    frame.attrs["rows"] = rows
    return frame


def _joined(parts: list[pd.Series]) -> pd.Series:
    """The checked labels of a checkbox field, in the dictionary's order, joined by ' | '."""
    joined = parts[0].astype(object)
    for part in parts[1:]:
        joined = joined.where(part == "", joined + np.where(joined == "", "", SEPARATOR) + part)
    return joined
