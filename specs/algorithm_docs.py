"""What each algorithm of the vocabulary (``specs.vocabulary.ALGORITHMS``) means to a spec writer: the
meaning of each argument and one worked example, as data. ``docs/spec-reference.md`` is generated from it
(``python -m specs.reference_doc``), and tests hold it to the truth:

- every algorithm of the vocabulary has an entry here and every argument a description (an algorithm's
  own text in ``arguments``, else the shared one in ``COMMON_ARGUMENTS``);
- every example is run through the real algorithm (tests/sdtm/test_algorithm_examples.py) and must give
  the documented output.

Whoever adds an algorithm or an argument documents it here in the same commit.

An example: ``records`` are the raw records (map-kind) or the domain's mapped records (derive-kind),
column -> values; ``output`` the value the algorithm gives each record (None: empty). ``context`` holds
what else it reads, each key as the spec writes it: ``codelist`` (the variable's codelist), ``visits``,
``arms`` and ``elements`` (study.yaml design), ``timepoints`` and ``standard_units`` (the sdtm.yaml
domain), ``lookups`` (study.yaml lookups), ``variables`` (the domain's other variables with their
codelists), ``domains`` (other SDTM domains, column -> values).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    domain: str
    variable: str
    args: dict  # the mapping's arguments, without 'algorithm'
    records: dict  # column -> values
    output: list  # one value per record; None is empty
    context: dict = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class AlgorithmDoc:
    arguments: dict  # argument -> its meaning for this algorithm (else COMMON_ARGUMENTS)
    example: Example


# The meaning an argument name has wherever an algorithm does not say otherwise.
COMMON_ARGUMENTS = {
    "source": "The raw column read, named as the export names it (no backticks needed here).",
    "expr": "An expression computed from the raw record, instead of `source` (see "
            "[Conditions, expressions and templates](#conditions-expressions-and-templates)).",
    "terms": "A recoding table, collected value -> value, applied to the value read before anything else "
             "(values not listed are kept).",
    "codelist": "The codelist whose terms the values must be (its submission value, e.g. `SEX`); default: the "
                "variable's own `codelist`.",
    "value": "The value every record gets (text, or a number for a Num variable).",
    "match": "Which `match` key of the visits in study.yaml `design.visits` the collected value is compared "
             "with (default `folder`; e.g. `vendor` for a lab transfer's visit labels). Each visit gives there the "
             "label, a `{regex: ...}` or a `{glob: ...}` (or a list of these), matching the whole label with case "
             "and spaces ignored; a label no visit matches is an unscheduled visit when `design.unscheduled` "
             "matches it (numbered from its label, or after the last scheduled visit with `number: after_last`), "
             "otherwise an error of its record, as is a label two visits match.",
    "by": "Variables of the domain that, with USUBJID, form the groups.",
    "dtc": "The --DTC variable of the domain (ISO 8601) the value is computed from.",
    "testcd": "The --TESTCD variable of the domain.",
    "orresu": "The --ORRESU variable of the domain (the unit as collected).",
    "on_invalid": "What a value that is not a number does: `error` (default: the run stops with the record "
                  "located) or the policy named for this algorithm (each such record listed as a warning in "
                  "the run report).",
}

# Arguments of the actual-arm algorithms (derive_actarmcd, derive_actarm, derive_armnrs, derive_actarmud: all
# four with the same arguments).
_ACTUAL_ARM_ARGS = {
    "source": "A raw column of the domain holding the collected actual treatment: the actual arm is the arm "
              "whose `design.arms[].match.<match>` labels name it (empty: not treated); a text naming no arm, "
              "or two, is an error of its record. Without it, the actual arm comes from the subject's SE elements.",
    "match": "Which `match` key of `design.arms` names the collected actual treatment (default `actual`).",
    "sequences": "Without `source`: `prefix` (default) matches an arm's SE elements or their leading part (a "
                 "subject who left early); `listed` matches only an arm's elements or the sequences its "
                 "`design.arms[].sequences` lists.",
}
_ARM_MATCH = ("With `match`, the key of `design.arms[].match` whose labels (a label, `{regex: ...}` or "
              "`{glob: ...}`, case and spaces ignored) name the collected arm text, instead of the randomization "
              "code; a text naming no arm, or two, is an error of its record.")

# Arguments of the baseline flags (derive_blfl, derive_lobxfl).
_BASELINE = {
    "by": "Variables that, with USUBJID, form the groups in which one record is flagged (e.g. `[VSTESTCD]`, "
          "`[LBTESTCD, LBSPEC]`).",
    "dtc": "The --DTC variable ordering the records and compared with the reference.",
    "result": "The result variable (--ORRES): a record without a result ('', ND, NOT DONE) is never flagged.",
    "reference": "The DM variable holding the subject's reference date/time.",
    "stat": "The --STAT variable: a record with NOT DONE is never flagged.",
    "visits": "VISIT values at which a record on the reference date with a time unknown counts as before it.",
    "tpt": "The --TPT variable, for `timepoints`.",
    "timepoints": "Values of `tpt` at which a record on the reference date with a time unknown counts as "
                  "before it (with `visits` too, both must hold).",
    "same_day": "`listed` (default): a record on the reference date with a time unknown counts only at the "
                "listed visits/time points; `before`: it always counts.",
}

_SCHEDULE = [
    {"visitnum": 1, "visit": "SCREENING", "visitdy": -14, "match": {"folder": "SCR", "vendor": "SCREENING"}},
    {"visitnum": 2, "visit": "DAY 1", "visitdy": 1, "match": {"folder": "D1", "vendor": "DAY 1"}},
]
_ARMS = [
    {"armcd": "IL2", "arm": "Ciclosporin then ILT-101", "randomization_code": "A",
     "elements": ["SCRN", "CSA", "IL2"]},
    {"armcd": "PBO", "arm": "Ciclosporin then placebo", "randomization_code": "B",
     "elements": ["SCRN", "CSA", "PBO"]},
]
_ELEMENTS = [
    {"etcd": "SCRN", "element": "Screening", "epoch": "SCREENING",
     "start": {"domain": "DM", "variable": "RFICDTC", "pick": "first"}},
    {"etcd": "CSA", "element": "Ciclosporin", "epoch": "TREATMENT",
     "start": {"domain": "EX", "variable": "EXSTDTC", "pick": "first"}},
    {"etcd": "IL2", "element": "ILT-101", "epoch": "TREATMENT",
     "start": {"domain": "EX", "variable": "EXSTDTC", "pick": "first", "where": "EXTRT == 'ILT-101'"}},
    {"etcd": "PBO", "element": "Placebo", "epoch": "TREATMENT",
     "start": {"domain": "EX", "variable": "EXSTDTC", "pick": "first", "where": "EXTRT == 'PLACEBO'"}},
]
_ACTUAL_ARM_RECORDS = {"USUBJID": ["S-1", "S-2", "S-3", "S-4", "S-5"], "ARMCD": ["IL2", "PBO", "", "IL2", "PBO"]}
_ACTUAL_ARM_CONTEXT = {
    "arms": _ARMS, "elements": _ELEMENTS,
    "domains": {"SE": {"USUBJID": ["S-1", "S-1", "S-1", "S-2", "S-2", "S-2", "S-3", "S-4", "S-5", "S-5", "S-5",
                                   "S-5"],
                       "SESEQ": [1, 2, 3, 1, 2, 3, 1, 1, 1, 2, 3, 4],
                       "ETCD": ["SCRN", "CSA", "IL2", "SCRN", "CSA", "IL2", "SCRN", "SCRN", "SCRN", "CSA", "PBO",
                                "IL2"]}},
}
_ACTUAL_ARM_NOTE = ("SE gives the elements each subject went through. S-1 went through its planned arm; S-2, "
                    "randomized to placebo, was given ILT-101; S-3 was never randomized; S-4 was randomized and "
                    "never treated; S-5 was given placebo, then ILT-101.")
_TIMEPOINTS = [
    {"label": "Pre-dose", "tpt": "PRE-DOSE", "tptnum": 1, "eltm": "-PT15M", "tptref": "DOSE"},
    {"label": "30 min post-dose", "tpt": "30 MIN POST-DOSE", "tptnum": 2, "eltm": "PT30M", "tptref": "DOSE"},
]
_UNITS = {"GLUC": {"unit": "mmol/L", "decimals": 2, "factors": {"mg/dL": 0.0555}}}

ALGORITHM_DOCS: dict[str, AlgorithmDoc] = {
    "assign_no_ct": AlgorithmDoc(
        {"default": "The value given when the value read is empty."},
        Example("AE", "AETERM", {"expr": "upper(trim(`IT.AETERM`))"},
                {"IT.AETERM": [" Headache", "nausea", ""]}, ["HEADACHE", "NAUSEA", None])),
    "assign_ct": AlgorithmDoc(
        {},
        Example("DM", "SEX", {"source": "GENDER", "terms": {"Woman": "F"}, "codelist": "SEX"},
                {"GENDER": ["Female", "Woman", "M"]}, ["F", "F", "M"],
                note="A value that is not a submission value is matched with the terms' synonyms and decodes, "
                     "then with the study CT's collected texts (case ignored); a value of no term is an error for "
                     "a non-extensible codelist and a sponsor term, listed in the run report, for an extensible "
                     "one, unless it spells one of the codelist's terms with other accents, case or spacing "
                     "('COMPLÉTED'): that is an error too.")),
    "hardcode_no_ct": AlgorithmDoc(
        {},
        Example("CM", "CMPRESP", {"value": "Y"}, {"CMTRT": ["ASPIRIN", "INSULIN"]}, ["Y", "Y"])),
    "hardcode_ct": AlgorithmDoc(
        {},
        Example("VS", "VSPOS", {"value": "SITTING", "codelist": "POSITION"}, {"SYSBP": ["120", "135"]},
                ["SITTING", "SITTING"])),
    "assign_numeric": AlgorithmDoc(
        {"on_invalid": "`error` (default: the run stops, the record located) or `missing` (left empty, the "
                       "record listed as a warning in the run report)."},
        Example("VS", "VSSTRESN", {"expr": "round((number(TEMP_F) - 32) * 5 / 9, 1)"},
                {"TEMP_F": ["98.6", "101.3", ""]}, [37.0, 38.5, None])),
    "assign_datetime": AlgorithmDoc(
        {"date": "The raw column holding the date (or the date and time).",
         "format": "A [date format](#date-and-time-formats), or a list of them tried in order; a date format, a "
                   "space and a time format read date and time from one column.",
         "time": "The raw column holding the time, when it is collected apart.",
         "time_format": "The [time format(s)](#date-and-time-formats) of `time` (default `[HH:MM, HH:MM:SS]`).",
         "cutoff_2000": "Two-digit years up to this are 20YY, later ones 19YY (default 68, as sdtm.oak)."},
        Example("AE", "AESTDTC", {"date": "AESTDAT", "format": ["DD-MON-YYYY", "DD-MON-YY"], "time": "AESTTIM"},
                {"AESTDAT": ["15-Sep-2020", "UN-Sep-2020", "4-Oct-20", ""], "AESTTIM": ["7:25", "", "14:05", ""]},
                ["2020-09-15T07:25", "2020-09", "2020-10-04T14:05", None])),
    "assign_template": AlgorithmDoc(
        {"template": "Text with `{expression}` fields (`{{` and `}}` for braces); empty when a field is "
                     "empty."},
        Example("DM", "USUBJID", {"template": "CDISC01-{split(PATNUM, '-', 1)}-{split(PATNUM, '-', 2)}"},
                {"PATNUM": ["701-1015", "702-2001", ""]}, ["CDISC01-701-1015", "CDISC01-702-2001", None])),
    "assign_duration": AlgorithmDoc(
        {"minutes": "The raw column holding a number of minutes (negative: before)."},
        Example("PC", "PCELTM", {"minutes": "MINUTES"}, {"MINUTES": ["15", "-10", "90", ""]},
                ["PT15M", "-PT10M", "PT1H30M", None])),
    "condition_add": AlgorithmDoc(
        {"cases": "A list of `{when: condition, then: mapping}`: the first case whose condition holds gives "
                  "the record its value, by its own mapping (any map-kind algorithm).",
         "otherwise": "The mapping of records that no case takes (default: empty)."},
        Example("VS", "VSPOS",
                {"cases": [{"when": "POSITION in ('1', '2')",
                            "then": {"algorithm": "assign_no_ct", "source": "POSITION", "terms": {
                                "1": "SITTING", "2": "STANDING"}}}],
                 "otherwise": {"algorithm": "hardcode_no_ct", "value": "SUPINE"}},
                {"POSITION": ["1", "2", "9"]}, ["SITTING", "STANDING", "SUPINE"])),
    "derive_usubjid": AlgorithmDoc(
        {"source": "The raw column holding the subject number."},
        Example("DM", "USUBJID", {"source": "Subject"}, {"Subject": ["01-003", ""]}, ["CDISC01-01-003", None],
                {"studyid": "CDISC01"}, note="STUDYID is the study's (study.yaml study.studyid).")),
    "derive_visitnum": AlgorithmDoc(
        {"source": "The raw column holding the collected visit (EDC folder, vendor label)."},
        Example("VS", "VISITNUM", {"source": "Folder"}, {"Folder": ["SCR", "D1"]}, [1, 2], {"visits": _SCHEDULE})),
    "derive_visit": AlgorithmDoc(
        {"source": "The raw column holding the collected visit (EDC folder, vendor label)."},
        Example("LB", "VISIT", {"source": "VISIT_LABEL", "match": "vendor"},
                {"VISIT_LABEL": ["SCREENING", "DAY 1"]}, ["SCREENING", "DAY 1"], {"visits": _SCHEDULE})),
    "derive_visitdy": AlgorithmDoc(
        {"source": "The raw column holding the collected visit (EDC folder, vendor label)."},
        Example("VS", "VISITDY", {"source": "Folder"}, {"Folder": ["SCR", "D1"]}, [-14, 1], {"visits": _SCHEDULE})),
    "derive_tpt": AlgorithmDoc(
        {"source": "The raw column holding the collected time point label."},
        Example("PC", "PCTPT", {"source": "TIMEPOINT"}, {"TIMEPOINT": ["pre-dose", "30 min  POST-DOSE"]},
                ["PRE-DOSE", "30 MIN POST-DOSE"], {"timepoints": _TIMEPOINTS})),
    "derive_tptnum": AlgorithmDoc(
        {"source": "The raw column holding the collected time point label."},
        Example("PC", "PCTPTNUM", {"source": "TIMEPOINT"}, {"TIMEPOINT": ["Pre-dose", "30 min post-dose"]},
                [1, 2], {"timepoints": _TIMEPOINTS})),
    "derive_eltm": AlgorithmDoc(
        {"source": "The raw column holding the collected time point label."},
        Example("PC", "PCELTM", {"source": "TIMEPOINT"}, {"TIMEPOINT": ["Pre-dose", "30 min post-dose"]},
                ["-PT15M", "PT30M"], {"timepoints": _TIMEPOINTS})),
    "derive_tptref": AlgorithmDoc(
        {"source": "The raw column holding the collected time point label."},
        Example("PC", "PCTPTREF", {"source": "TIMEPOINT"}, {"TIMEPOINT": ["Pre-dose", "30 min post-dose"]},
                ["DOSE", "DOSE"], {"timepoints": _TIMEPOINTS})),
    "derive_armcd": AlgorithmDoc(
        {"source": "The raw column holding the randomization code (design.arms randomization_code).",
         "match": _ARM_MATCH},
        Example("DM", "ARMCD", {"source": "RAND_CODE"}, {"RAND_CODE": ["A", "B", ""]}, ["IL2", "PBO", None],
                {"arms": _ARMS})),
    "derive_arm": AlgorithmDoc(
        {"source": "The raw column holding the randomization code (design.arms randomization_code).",
         "match": _ARM_MATCH},
        Example("DM", "ARM", {"source": "RAND_CODE"}, {"RAND_CODE": ["A", "B"]},
                ["Ciclosporin then ILT-101", "Ciclosporin then placebo"], {"arms": _ARMS})),
    "derive_test_name": AlgorithmDoc(
        {"codelist": "The codelist of test names (default: the variable's own codelist)."},
        Example("VS", "VSTEST", {"testcd": "VSTESTCD"}, {"VSTESTCD": ["SYSBP", "PULSE"]},
                ["Systolic Blood Pressure", "Pulse Rate"],
                {"variables": [{"name": "VSTESTCD", "codelist": "VSTESTCD"},
                               {"name": "VSTEST", "codelist": "VSTEST"}]})),
    "derive_stresc": AlgorithmDoc(
        {"orres": "The --ORRES variable of the domain (the result as collected).",
         "on_invalid": "`error` (default: a result that is not a number, for a test with a standard unit, stops "
                       "the run) or `text` (kept as text, each listed as a warning in the run report)."},
        Example("LB", "LBSTRESC", {"orres": "LBORRES", "orresu": "LBORRESU", "testcd": "LBTESTCD"},
                {"LBTESTCD": ["GLUC", "GLUC", "GLUC"], "LBORRES": ["90", "5.1", "<20"],
                 "LBORRESU": ["mg/dL", "mmol/L", "mg/dL"]},
                ["5.00", "5.1", "<1.11"], {"standard_units": _UNITS},
                note="See [Unit conversions](#unit-conversions).")),
    "derive_stresn": AlgorithmDoc(
        {"stresc": "The --STRESC variable of the domain."},
        Example("LB", "LBSTRESN", {"stresc": "LBSTRESC"}, {"LBSTRESC": ["5.00", "<1.11", "NEGATIVE"]},
                [5.0, None, None])),
    "derive_stresu": AlgorithmDoc(
        {},
        Example("LB", "LBSTRESU", {"orresu": "LBORRESU", "testcd": "LBTESTCD"},
                {"LBTESTCD": ["GLUC", "GLUC", "HBA1C"], "LBORRESU": ["mg/dL", "mmol/L", "%"]},
                ["mmol/L", "mmol/L", "%"], {"standard_units": _UNITS})),
    "derive_stnr": AlgorithmDoc(
        {"ornr": "The --ORNRLO or --ORNRHI variable of the domain (the limit as collected).",
         "source": "A raw column holding the limit, instead of `ornr` (a limit of quantitation no variable "
                   "holds).",
         "on_invalid": "`error` (default: a limit that is not a number stops the run) or `missing` (left empty, "
                       "listed as a warning in the run report)."},
        Example("LB", "LBSTNRLO", {"ornr": "LBORNRLO", "orresu": "LBORRESU", "testcd": "LBTESTCD"},
                {"LBTESTCD": ["GLUC", "GLUC"], "LBORNRLO": ["70", "3.9"], "LBORRESU": ["mg/dL", "mmol/L"]},
                [3.89, 3.9], {"standard_units": _UNITS})),
    "derive_nrind": AlgorithmDoc(
        {"stresn": "The --STRESN variable of the domain.", "lo": "The --STNRLO variable of the domain.",
         "hi": "The --STNRHI variable of the domain.",
         "stresc": "The --STRESC variable: with it, a result reported beyond a limit ('<0.02') is LOW or HIGH "
                   "when the range decides it."},
        Example("LB", "LBNRIND", {"stresn": "LBSTRESN", "lo": "LBSTNRLO", "hi": "LBSTNRHI", "stresc": "LBSTRESC"},
                {"LBSTRESC": ["3.2", "5.0", "7.9", "<0.02", "5.0"], "LBSTRESN": [3.2, 5.0, 7.9, None, 5.0],
                 "LBSTNRLO": [3.9, 3.9, 3.9, 0.5, None], "LBSTNRHI": [5.5, 5.5, 5.5, 5.5, None]},
                ["LOW", "NORMAL", "HIGH", "LOW", None])),
    "derive_rftdtc": AlgorithmDoc(
        {"eltm": "The --ELTM variable of the domain (planned elapsed time, ISO 8601 duration).",
         "by": "Variables that, with USUBJID, form the groups sharing one reference time (e.g. `[VISITNUM]`)."},
        Example("LB", "LBRFTDTC", {"dtc": "LBDTC", "eltm": "LBELTM", "by": ["VISITNUM"]},
                {"USUBJID": ["S-1", "S-1", "S-1"], "VISITNUM": [3, 3, 3],
                 "LBDTC": ["2023-01-10T09:40", "2023-01-10T10:05", ""], "LBELTM": ["-PT10M", "PT15M", "PT30M"]},
                ["2023-01-10T09:50", "2023-01-10T09:50", "2023-01-10T09:50"],
                note="The third sample was not drawn: it takes the time its group agrees on.")),
    "derive_rf_date": AlgorithmDoc(
        {"sources": "A list of `{domain, variable, where}`: the dates looked at (`where`, a condition on that "
                    "domain's variables, keeps some of its records).",
         "pick": "`first` or `last`: the earliest or the latest of them, per subject."},
        Example("DM", "RFXSTDTC", {"sources": [{"domain": "EX", "variable": "EXSTDTC"}], "pick": "first"},
                {"USUBJID": ["S-1", "S-2"]}, ["2023-01-03", None],
                {"domains": {"EX": {"USUBJID": ["S-1", "S-1"], "EXSTDTC": ["2023-01-05", "2023-01-03"]}}})),
    "derive_exist_flag": AlgorithmDoc(
        {"sources": "A list of `{domain, where}`: a subject with a record there (meeting `where`) gets 'Y'."},
        Example("DM", "DTHFL", {"sources": [{"domain": "DS", "where": "DSDECOD == 'DEATH'"}]},
                {"USUBJID": ["S-1", "S-2"]}, [None, "Y"],
                {"domains": {"DS": {"USUBJID": ["S-1", "S-2"], "DSDECOD": ["COMPLETED", "DEATH"]}}})),
    "derive_age": AlgorithmDoc(
        {"birth": "The birth date variable (BRTHDTC).", "ref": "The reference date variable (e.g. RFSTDTC)."},
        Example("DM", "AGE", {"birth": "BRTHDTC", "ref": "RFSTDTC"},
                {"BRTHDTC": ["1990-06-15", "1990-06-15", "1990"], "RFSTDTC": ["2023-06-14", "2023-06-15",
                                                                            "2023-06-15"]},
                [32, 33, None])),
    "derive_actarmcd": AlgorithmDoc(
        _ACTUAL_ARM_ARGS, Example("DM", "ACTARMCD", {}, _ACTUAL_ARM_RECORDS, ["IL2", "IL2", None, None, None], _ACTUAL_ARM_CONTEXT,
                    _ACTUAL_ARM_NOTE)),
    "derive_actarm": AlgorithmDoc(
        _ACTUAL_ARM_ARGS, Example("DM", "ACTARM", {}, _ACTUAL_ARM_RECORDS, ["Ciclosporin then ILT-101", "Ciclosporin then ILT-101", None, None, None],
                    _ACTUAL_ARM_CONTEXT, _ACTUAL_ARM_NOTE)),
    "derive_armnrs": AlgorithmDoc(
        _ACTUAL_ARM_ARGS, Example("DM", "ARMNRS", {}, _ACTUAL_ARM_RECORDS,
                    [None, None, "SCREEN FAILURE", "ASSIGNED, NOT TREATED", "UNPLANNED TREATMENT"], _ACTUAL_ARM_CONTEXT,
                    _ACTUAL_ARM_NOTE)),
    "derive_actarmud": AlgorithmDoc(
        _ACTUAL_ARM_ARGS, Example("DM", "ACTARMUD", {}, _ACTUAL_ARM_RECORDS, [None, None, None, None, "SCRN -> CSA -> PBO -> IL2"],
                    _ACTUAL_ARM_CONTEXT, _ACTUAL_ARM_NOTE)),
    "derive_study_day": AlgorithmDoc(
        {},
        Example("AE", "AESTDY", {"dtc": "AESTDTC"},
                {"USUBJID": ["S-1", "S-1", "S-1", "S-1"], "AESTDTC": ["2023-01-10", "2023-01-09", "2023-01-20T08:00",
                                                                      "2023-01"]},
                [1, -1, 11, None], {"domains": {"DM": {"USUBJID": ["S-1"], "RFSTDTC": ["2023-01-10"]}}})),
    "derive_epoch": AlgorithmDoc(
        {"same_day": "Where a record goes on the day an element starts when its time or the element's start time "
                     "is not known: `later` (default: the element that starts that day), `earlier` (the element "
                     "that ends that day) or `null` (EPOCH left empty)."},
        Example("AE", "EPOCH", {"dtc": "AESTDTC"},
                {"USUBJID": ["S-1", "S-1", "S-1", "S-1"], "AESTDTC": ["2023-01-02", "2023-01-10", "2023-02-01",
                                                                      "2023-01"]},
                ["SCREENING", "TREATMENT", "TREATMENT", None],
                {"domains": {"SE": {"USUBJID": ["S-1", "S-1"], "ETCD": ["SCRN", "CSA"], "TAETORD": [1, 2],
                                    "EPOCH": ["SCREENING", "TREATMENT"],
                                    "SESTDTC": ["2023-01-01", "2023-01-10"], "SEENDTC": ["2023-01-10", "2023-02-01"]}}},
                note="2023-01-10 ends screening and starts treatment, with no time: same_day `later` puts it in "
                     "treatment; the last element includes its end date; 2023-01 spans the transition.")),
    "derive_blfl": AlgorithmDoc(
        dict(_BASELINE),
        Example("VS", "VSBLFL", {"by": ["VSTESTCD"], "dtc": "VSDTC", "result": "VSORRES"},
                {"USUBJID": ["S-1", "S-1", "S-1", "S-1"], "VSTESTCD": ["SYSBP", "SYSBP", "SYSBP", "SYSBP"],
                 "VISIT": ["SCREENING", "SCREENING", "DAY 1", "DAY 1"],
                 "VSDTC": ["2023-01-02", "2023-01-05", "2023-01-10T07:30", "2023-01-10T09:00"],
                 "VSORRES": ["120", "", "118", "121"]},
                [None, None, "Y", None],
                {"domains": {"DM": {"USUBJID": ["S-1"], "RFSTDTC": ["2023-01-10T08:00"]}}},
                note="The record of 2023-01-05 has no result; the one at 09:00 comes after the first dose.")),
    "derive_lobxfl": AlgorithmDoc(
        dict(_BASELINE),
        Example("VS", "VSLOBXFL", {"by": ["VSTESTCD"], "dtc": "VSDTC", "result": "VSORRES",
                                   "visits": ["DAY 1"]},
                {"USUBJID": ["S-1", "S-1", "S-1"], "VSTESTCD": ["PULSE", "PULSE", "PULSE"],
                 "VISIT": ["SCREENING", "DAY 1", "DAY 8"], "VSDTC": ["2023-01-02", "2023-01-10", "2023-01-17"],
                 "VSORRES": ["72", "70", "68"]},
                [None, "Y", None],
                {"domains": {"DM": {"USUBJID": ["S-1"], "RFXSTDTC": ["2023-01-10T08:00"]}}},
                note="On the day of the first dose with its time unknown, the DAY 1 record counts as before it "
                     "(visits).")),
    "derive_seq": AlgorithmDoc(
        {"order": "Variables giving the order of the records within the group (ties keep record order).",
         "by": "The groups (default `[USUBJID]`)."},
        Example("AE", "AESEQ", {"order": ["AESTDTC", "AETERM"]},
                {"USUBJID": ["S-1", "S-1", "S-2"], "AESTDTC": ["2023-02-01", "2023-01-15", "2023-01-20"],
                 "AETERM": ["NAUSEA", "HEADACHE", "RASH"]},
                [2, 1, 1])),
}


def argument_text(algorithm: str, argument: str) -> str | None:
    """The meaning of an argument of an algorithm (None when nobody wrote it)."""
    doc = ALGORITHM_DOCS.get(algorithm)
    if doc is not None and argument in doc.arguments:
        return doc.arguments[argument]
    return COMMON_ARGUMENTS.get(argument)
