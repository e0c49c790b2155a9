"""A small REDCap longitudinal export, deterministic: the records CSV and its data dictionary CSV.

The third raw dialect the mapping language is proven on (specs/studies/redcap-example), after our EDC
export and sdtm.oak's Rave-like example: REDCap's flat layout, one row per record and event (and per
instance of a repeating instrument), with

- ``record_id``, ``redcap_event_name``, ``redcap_repeat_instrument``, ``redcap_repeat_instance``,
  ``redcap_data_access_group`` (the site), then every field of every instrument in dictionary order and
  a ``<instrument>_complete`` status (0 Incomplete, 1 Unverified, 2 Complete) after each instrument;
- choices exported as their codes (``1, Male | 2, Female`` in the dictionary), a checkbox field as one
  0/1 column per choice (``race___1`` .. ``race___6``), yes/no fields as 1/0;
- dates as REDCap writes them: YYYY-MM-DD, and M/D/YYYY in the fields validated as ``date_mdy``.

Events: screening, day 1, week 2, week 4, end of study, and a log event holding the repeating adverse
event instrument. Same seed and subject count give byte-identical files (one numpy Generator, no clock).

    python -m cdisc.demo.redcap --out DIR [--seed N] [--subjects N]
"""
from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

RECORDS_FILE = "REDCAPDEMO_DATA.csv"
DICTIONARY_FILE = "REDCAPDEMO_DataDictionary.csv"
DICTIONARY_COLUMNS = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
                      "Choices, Calculations, OR Slider Labels", "Field Note",
                      "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
                      "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
                      "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
                      "Field Annotation"]
SYSTEM_COLUMNS = ["redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                  "redcap_data_access_group"]

SEX = "1, Male | 2, Female"
ETHNICITY = "1, Hispanic or Latino | 2, Not Hispanic or Latino | 3, Not reported"
RACE = ("1, American Indian or Alaska Native | 2, Asian | 3, Black or African American | "
        "4, Native Hawaiian or Other Pacific Islander | 5, White | 6, Not reported")
POSITION = "1, Sitting | 2, Supine | 3, Standing"
FREQUENCY = "1, QD | 2, BID"
SEVERITY = "1, Mild | 2, Moderate | 3, Severe"
RELATED = "1, Not related | 2, Possibly related | 3, Related"
ACTION = "1, Dose not changed | 2, Drug interrupted | 3, Drug withdrawn"
OUTCOME = "1, Recovered/Resolved | 2, Recovering/Resolving | 3, Not recovered/Not resolved"
STATUS = "1, Completed | 2, Adverse event | 3, Withdrawal by subject | 4, Lost to follow-up"

# (field, form, type, label, choices, validation); record_id is the first field of the first instrument
FIELDS = [
    ("record_id", "enrollment", "text", "Record ID", "", ""),
    ("enrollment_intro", "enrollment", "descriptive", "Complete at the screening visit.", "", ""),
    ("consent_date", "enrollment", "text", "Date informed consent signed", "", "date_ymd"),
    ("dob", "enrollment", "text", "Date of birth", "", "date_mdy"),
    ("sex", "enrollment", "radio", "Sex", SEX, ""),
    ("ethnicity", "enrollment", "radio", "Ethnicity", ETHNICITY, ""),
    ("race", "enrollment", "checkbox", "Race (check all that apply)", RACE, ""),
    ("visit_date", "visit", "text", "Visit date", "", "date_ymd"),
    ("vs_date", "vital_signs", "text", "Date of vital signs", "", "date_ymd"),
    ("vs_position", "vital_signs", "radio", "Position during blood pressure", POSITION, ""),
    ("sysbp", "vital_signs", "text", "Systolic blood pressure (mmHg)", "", "integer"),
    ("diabp", "vital_signs", "text", "Diastolic blood pressure (mmHg)", "", "integer"),
    ("pulse", "vital_signs", "text", "Pulse (beats/min)", "", "integer"),
    ("temp", "vital_signs", "text", "Temperature (C)", "", "number_1dp"),
    ("weight", "vital_signs", "text", "Weight (kg)", "", "number_1dp"),
    ("ex_start", "study_drug", "text", "First dose since the last visit", "", "date_ymd"),
    ("ex_end", "study_drug", "text", "Last dose before the next visit", "", "date_mdy"),
    ("ex_dose", "study_drug", "text", "Dose per intake (mg)", "", "integer"),
    ("ex_freq", "study_drug", "dropdown", "Frequency", FREQUENCY, ""),
    ("ae_term", "adverse_events", "text", "Adverse event (verbatim)", "", ""),
    ("ae_decod", "adverse_events", "text", "MedDRA preferred term (coder)", "", ""),
    ("ae_soc", "adverse_events", "text", "MedDRA system organ class (coder)", "", ""),
    ("ae_start", "adverse_events", "text", "Start date", "", "date_ymd"),
    ("ae_end", "adverse_events", "text", "End date", "", "date_mdy"),
    ("ae_severity", "adverse_events", "radio", "Severity", SEVERITY, ""),
    ("ae_serious", "adverse_events", "yesno", "Serious?", "", ""),
    ("ae_related", "adverse_events", "radio", "Relationship to study drug", RELATED, ""),
    ("ae_action", "adverse_events", "dropdown", "Action taken with study drug", ACTION, ""),
    ("ae_outcome", "adverse_events", "radio", "Outcome", OUTCOME, ""),
    ("ds_date", "disposition", "text", "Date of completion or discontinuation", "", "date_ymd"),
    ("ds_status", "disposition", "radio", "Study completion status", STATUS, ""),
]
FORMS = list(dict.fromkeys(f[1] for f in FIELDS))
# unique event name, planned day after day 1 (screening: before), instruments designated to it
EVENTS = [("screening_arm_1", -7, ["enrollment", "visit", "vital_signs"]),
          ("day_1_arm_1", 0, ["visit", "vital_signs", "study_drug"]),
          ("week_2_arm_1", 14, ["visit", "vital_signs", "study_drug"]),
          ("week_4_arm_1", 28, ["visit", "vital_signs"]),
          ("end_of_study_arm_1", 42, ["visit", "disposition"])]
LOG_EVENT = "logs_arm_1"
SITES = ["site_101", "site_102"]
FIRST_CONSENT = np.datetime64("2025-03-03")
# verbatim term, MedDRA preferred term, system organ class
AE_TERMS = [("Headache", "Headache", "Nervous system disorders"),
            ("nausea", "Nausea", "Gastrointestinal disorders"),
            ("Tiredness", "Fatigue", "General disorders and administration site conditions"),
            ("Runny nose", "Rhinorrhoea", "Respiratory, thoracic and mediastinal disorders"),
            ("Dizzy when standing up", "Dizziness postural", "Nervous system disorders")]


def checkbox_columns(field: str, choices: str) -> list[str]:
    return [f"{field}___{part.split(',', 1)[0].strip().lower()}" for part in choices.split("|")]


def record_columns() -> list[str]:
    """The records CSV header: record_id, the system columns, each instrument's fields and status."""
    columns = ["record_id", *SYSTEM_COLUMNS]
    for form in FORMS:
        for name, field_form, kind, _, choices, _ in FIELDS:
            if field_form != form or name == "record_id" or kind == "descriptive":
                continue
            columns += checkbox_columns(name, choices) if kind == "checkbox" else [name]
        columns.append(f"{form}_complete")
    return columns


def ymd(day: np.datetime64) -> str:
    return str(np.datetime64(day, "D"))


def mdy(day: np.datetime64) -> str:
    """M/D/YYYY, as REDCap writes a date_mdy field here."""
    year, month, dom = str(np.datetime64(day, "D")).split("-")
    return f"{int(month)}/{int(dom)}/{year}"


def generate(out, seed: int = 20251130, subjects: int = 6) -> dict[str, int]:
    """Write the records CSV and the data dictionary CSV to ``out``; returns the rows per instrument."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns = record_columns()
    rows: list[dict] = []
    counts = {form: 0 for form in FORMS}
    races = np.array([1, 2, 3, 4, 5, 6])
    withdrawn = int(rng.integers(0, subjects)) if subjects > 2 else -1
    for index in range(subjects):  # a handful of subjects: a loop per subject and event reads best
        record = str(index + 1)
        site = SITES[index % len(SITES)]
        consent = FIRST_CONSENT + np.timedelta64(int(rng.integers(0, 60)), "D")
        day1 = consent + np.timedelta64(int(rng.integers(5, 10)), "D")
        birth = consent - np.timedelta64(int(rng.integers(18 * 366, 70 * 365)), "D")
        checked = {int(races[rng.choice(6, p=[.03, .1, .15, .02, .65, .05])])}
        if index % 4 == 1:  # some subjects report two races: RACE = MULTIPLE
            checked.add(int(rng.choice([2, 3, 5])))
        # the last scheduled event a subject reaches (the withdrawn one stops after week 2)
        events = EVENTS if index != withdrawn else [e for e in EVENTS if e[0] != "week_4_arm_1"]
        weight = float(np.round(rng.normal(75, 12), 1))
        dose = int(rng.choice([100, 200]))
        eos = day1 + np.timedelta64(42 if index != withdrawn else 20, "D")
        for event, day, forms in events:
            row = {c: "" for c in columns}
            row.update(record_id=record, redcap_event_name=event, redcap_data_access_group=site)
            for column in columns:
                if column.startswith("race___"):
                    row[column] = "0"
            when = consent if day < 0 else (eos if event == "end_of_study_arm_1" else
                                             day1 + np.timedelta64(day + int(rng.integers(-1, 2)) * (day > 0), "D"))
            for form in forms:
                counts[form] += 1
                row[f"{form}_complete"] = "2" if rng.random() > .1 else "1"
            if "enrollment" in forms:
                row.update(consent_date=ymd(consent), dob=mdy(birth), sex=str(int(rng.integers(1, 3))),
                           ethnicity=str(int(rng.choice([1, 2, 3], p=[.15, .8, .05]))))
                for code in checked:
                    row[f"race___{code}"] = "1"
            if "visit" in forms:
                row["visit_date"] = ymd(when)
            if "vital_signs" in forms:
                row.update(vs_date=ymd(when), vs_position=str(int(rng.choice([1, 2], p=[.8, .2]))),
                           sysbp=str(int(rng.normal(122, 12))), diabp=str(int(rng.normal(78, 8))),
                           pulse=str(int(rng.normal(70, 9))) if rng.random() > .15 else "",
                           temp=f"{rng.normal(36.7, .3):.1f}",
                           weight=f"{weight:.1f}" if event == "screening_arm_1" else "")
            if "study_drug" in forms:
                last = min(when + np.timedelta64(13, "D"), eos)
                row.update(ex_start=ymd(when), ex_end=mdy(last), ex_dose=str(dose),
                           ex_freq=str(int(rng.choice([1, 2], p=[.7, .3]))))
            if "disposition" in forms:
                row.update(ds_date=ymd(eos), ds_status="1" if index != withdrawn else "3")
            rows.append(row)
        for instance in range(1, int(rng.integers(0, 4)) + 1):  # the repeating adverse events
            term, decod, soc = AE_TERMS[int(rng.integers(0, len(AE_TERMS)))]
            start = day1 + np.timedelta64(int(rng.integers(1, (eos - day1).astype(int))), "D")
            ongoing = rng.random() < .25
            row = {c: "" for c in columns}
            row.update(record_id=record, redcap_event_name=LOG_EVENT, redcap_repeat_instrument="adverse_events",
                       redcap_repeat_instance=str(instance), redcap_data_access_group=site,
                       ae_term=term, ae_decod=decod, ae_soc=soc, ae_start=ymd(start),
                       ae_end="" if ongoing else mdy(start + np.timedelta64(int(rng.integers(0, 8)), "D")),
                       ae_severity=str(int(rng.choice([1, 2, 3], p=[.6, .3, .1]))),
                       ae_serious="1" if rng.random() < .1 else "0",
                       ae_related=str(int(rng.integers(1, 4))), ae_action="1",
                       ae_outcome="3" if ongoing else "1", adverse_events_complete="2")
            counts["adverse_events"] += 1
            rows.append(row)
    _write_csv(out / RECORDS_FILE, columns, [[row[c] for c in columns] for row in rows])
    dictionary = [[name, form, "", kind, label, choices, "", validation, "", "", "", "", "", "", "", "", "", ""]
                  for name, form, kind, label, choices, validation in FIELDS]
    _write_csv(out / DICTIONARY_FILE, DICTIONARY_COLUMNS, dictionary)
    return counts


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cdisc.demo.redcap",
                                     description="Write a small REDCap longitudinal export (records + data dictionary).")
    parser.add_argument("--out", required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=20251130)
    parser.add_argument("--subjects", type=int, default=6)
    args = parser.parse_args(argv)
    counts = generate(args.out, args.seed, args.subjects)
    print(f"REDCap export written to {args.out}: " + ", ".join(f"{form} {n}" for form, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
