"""The fixed vocabulary of mapping algorithms a spec may name, with their arguments.

The names follow sdtm.oak: the name in the spec is the name of the function in ``sdtm.algorithms``
(map-kind: from the raw record) or ``sdtm.derivations`` (derive-kind: from mapped variables and other
domains). ``sdtm`` checks at import that it implements exactly this vocabulary.

Each entry: kind, required arguments, optional arguments, origin it implies, a one-line description
(used as the default Define-XML method text when the spec gives none). Each algorithm's arguments and a
worked example are documented in ``specs.algorithm_docs`` (a test fails for an undocumented one), and
docs/spec-reference.md is generated from both (``python -m specs.reference_doc --out docs/spec-reference.md``).
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Algorithm:
    name: str
    kind: str  # "map" (raw record -> value) or "derive" (mapped variables, other domains -> value)
    required: tuple[str, ...]
    optional: tuple[str, ...]
    origin: str  # Collected, Assigned, Derived
    description: str
    stage: int = 0  # derive-kind only: derivations run stage by stage across all domains
    defaults: dict = field(default_factory=dict)  # the value of an optional argument the spec leaves out
    one_of: tuple[tuple[str, ...], ...] = ()  # groups of optional arguments of which exactly one is given
    function: object = field(default=None, compare=False)  # a study plugin's function (specs.plugins)
    plugin: str | None = None  # the spec-folder file of a study plugin's algorithm


class AlgorithmRegistry(dict):
    """The built-in vocabulary, plus the algorithms of the study plugins of the spec in use (specs.plugins):
    a study's own names are known only while its spec is the one loaded or run."""

    def _study(self) -> dict:
        return _STUDY_ALGORITHMS.get()

    def __getitem__(self, name):
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        return self._study()[name]

    def get(self, name, default=None):
        return self[name] if name in self else default

    def __contains__(self, name) -> bool:
        return dict.__contains__(self, name) or name in self._study()

    def __iter__(self):
        yield from dict.__iter__(self)
        yield from self._study()

    def __len__(self) -> int:
        return dict.__len__(self) + len(self._study())

    def keys(self):
        return list(iter(self))

    def items(self):
        return [(name, self[name]) for name in self]

    def values(self):
        return [self[name] for name in self]

    def builtin(self, name: str) -> bool:
        return dict.__contains__(self, name)


_STUDY_ALGORITHMS: ContextVar[dict] = ContextVar("study_algorithms", default={})


def use_study_algorithms(algorithms: dict) -> None:
    """Make a spec's plugin algorithms (name -> Algorithm) the study ones in use (none: {})."""
    _STUDY_ALGORITHMS.set(dict(algorithms))


MAP = "map"
DERIVE = "derive"
# derive_blfl / derive_lobxfl: reference (a DM variable), stat and tpt (variables of the domain), visits
# and timepoints (values of VISIT and of tpt), same_day ('listed' or 'before'), see sdtm.timing.
# derive_epoch: where a record goes on the day an element starts when the order cannot be told.
EPOCH_SAME_DAY = ("later", "earlier", "null")
BASELINE_OPTIONS = ("reference", "stat", "visits", "tpt", "timepoints", "same_day")
# derive_actarmcd and its companions (ACTARM, ARMNRS, ACTARMUD; all four with the same arguments): source (a
# raw column of the domain: the collected actual treatment) and match (the key of design.arms[].match naming
# it), or sequences ('prefix': an arm's SE elements or their leading part; 'listed': its elements or the
# sequences design.arms[].sequences lists).
ACTUAL_ARM_OPTIONS = ("source", "match", "sequences")
ACTUAL_ARM_ALGORITHMS = ("derive_actarmcd", "derive_actarm", "derive_armnrs", "derive_actarmud")

ALGORITHMS: AlgorithmRegistry = AlgorithmRegistry({
    a.name: a
    for a in [
        # map-kind: computed from the raw record; `source` names raw columns
        Algorithm("assign_no_ct", MAP, (), ("source", "expr", "terms", "default"), "Collected",
                  "Copied from the collected value{expr}{terms}.", one_of=(("source", "expr"),)),
        Algorithm("assign_ct", MAP, (), ("source", "expr", "terms", "codelist"), "Collected",
                  "Collected value mapped to its controlled term{expr}{terms}.", one_of=(("source", "expr"),)),
        Algorithm("hardcode_no_ct", MAP, ("value",), (), "Assigned", "Assigned the value '{value}'."),
        Algorithm("hardcode_ct", MAP, ("value",), ("codelist",), "Assigned",
                  "Assigned the controlled term '{value}'."),
        Algorithm("assign_numeric", MAP, (), ("source", "expr", "on_invalid"), "Collected",
                  "Collected numeric value{expr}.", one_of=(("source", "expr"),)),
        Algorithm("assign_datetime", MAP, ("date", "format"), ("time", "time_format", "cutoff_2000"), "Collected",
                  "ISO 8601 date/time from the collected date ({format}){time}; unknown parts (UN/UNK) left out."),
        Algorithm("assign_template", MAP, ("template",), (), "Derived",
                  "Built from collected values as '{template}'."),
        Algorithm("assign_duration", MAP, ("minutes",), (), "Derived",
                  "ISO 8601 duration from the number of minutes in {minutes}."),
        Algorithm("condition_add", MAP, ("cases",), ("otherwise",), "Derived",
                  "Mapped by condition: {cases}."),
        Algorithm("derive_usubjid", MAP, ("source",), (), "Derived",
                  "Concatenation of STUDYID and the subject number, separated by '-'."),
        Algorithm("derive_visitnum", MAP, ("source",), ("match",), "Derived",
                  "Visit number of the planned visit in the trial design (TV) whose label, regex or glob "
                  "(design.visits match.{match}; case and spaces ignored) matches the collected {source}; an "
                  "unscheduled visit numbered by design.unscheduled (from its label, or after the last "
                  "scheduled visit).", defaults={"match": "folder"}),
        Algorithm("derive_visit", MAP, ("source",), ("match",), "Derived",
                  "Visit name of the planned visit in the trial design (TV) matching the collected {source} "
                  "(design.visits match.{match}); 'UNSCHEDULED n' for an unscheduled visit.",
                  defaults={"match": "folder"}),
        Algorithm("derive_visitdy", MAP, ("source",), ("match",), "Derived",
                  "Planned study day of the visit in the trial design (TV) matching the collected {source}; "
                  "null for an unscheduled visit.", defaults={"match": "folder"}),
        Algorithm("derive_tpt", MAP, ("source",), (), "Derived",
                  "Planned time point name from the domain's time point table, matching the collected "
                  "{source} (case and spaces ignored)."),
        Algorithm("derive_tptnum", MAP, ("source",), (), "Derived",
                  "Planned time point number from the domain's time point table for the collected {source}."),
        Algorithm("derive_eltm", MAP, ("source",), (), "Derived",
                  "Planned elapsed time (ISO 8601) from the domain's time point table for the collected "
                  "{source}."),
        Algorithm("derive_tptref", MAP, ("source",), (), "Derived",
                  "Time point reference from the domain's time point table for the collected {source}."),
        Algorithm("derive_armcd", MAP, ("source",), ("match",), "Derived",
                  "Planned arm code from the randomization list (TA arms by randomization code, or with `match` "
                  "the arm whose design.arms match.{match} names the collected {source}); null when the subject "
                  "was not randomized."),
        Algorithm("derive_arm", MAP, ("source",), ("match",), "Derived",
                  "Planned arm from the randomization list (TA arms by randomization code, or with `match` by "
                  "design.arms match.{match})."),
        # derive-kind: computed from mapped variables (and other domains); run after all mapping
        Algorithm("derive_test_name", DERIVE, ("testcd",), ("codelist",), "Assigned",
                  "Test name paired with the test code in controlled terminology (same NCI C-code).", 10),
        Algorithm("derive_stresc", DERIVE, ("orres", "orresu", "testcd"), ("on_invalid",), "Derived",
                  "Result in the standard unit as text: converted by the test's conversion table (standard_units: "
                  "a factor, an offset, a formula or a molar mass per unit) and rounded to its decimals; '<x' "
                  "results keep their qualifier and convert x.", 10),
        Algorithm("derive_stresn", DERIVE, ("stresc",), (), "Derived",
                  "Numeric form of the standard result; null when it is not a plain number.", 11),
        Algorithm("derive_stresu", DERIVE, ("orresu", "testcd"), (), "Derived",
                  "Standard unit stated for the test; the original unit when none is stated.", 10),
        Algorithm("derive_stnr", DERIVE, ("orresu", "testcd"), ("ornr", "source", "on_invalid"), "Derived",
                  "Reference range limit or limit of quantitation ({ornr}{source}) converted to the standard "
                  "unit.", 10),
        Algorithm("derive_nrind", DERIVE, ("stresn", "lo", "hi"), ("stresc",), "Derived",
                  "LOW below the standard lower limit, HIGH above the upper limit, NORMAL between; "
                  "null without a result or a range{stresc}.", 12),
        Algorithm("derive_rftdtc", DERIVE, ("dtc", "eltm"), ("by",), "Derived",
                  "Date/time of the reference time point: {dtc} minus the planned elapsed time {eltm}, the "
                  "same for the records of a subject with the same {by} (those without a time take it from "
                  "the others).", 12),
        Algorithm("derive_rf_date", DERIVE, ("sources", "pick"), (), "Derived",
                  "The {pick} date of: {sources}.", 20),
        Algorithm("derive_exist_flag", DERIVE, ("sources",), (), "Derived",
                  "'Y' when the subject has a record in: {sources}; null otherwise.", 20),
        Algorithm("derive_age", DERIVE, ("birth", "ref"), (), "Derived",
                  "Age in completed years from the birth date {birth} to {ref}.", 30),
        Algorithm("derive_actarmcd", DERIVE, (), ACTUAL_ARM_OPTIONS, "Derived",
                  "Actual arm code: the arm of TA matching what the subject received, its SE elements (the "
                  "arm's elements or, by the spec's rule, their leading part or a sequence the design lists) or "
                  "the collected actual treatment as the design's arm labels name it; null with ARMNRS when the "
                  "subject was not treated.", 30,
                  {"sequences": "prefix", "match": "actual"}),
        Algorithm("derive_actarm", DERIVE, (), ACTUAL_ARM_OPTIONS, "Derived",
                  "Actual arm matching ACTARMCD in TA.", 31, {"sequences": "prefix", "match": "actual"}),
        Algorithm("derive_armnrs", DERIVE, (), ACTUAL_ARM_OPTIONS, "Derived",
                  "Reason ARM or ACTARM is null: SCREEN FAILURE (never randomized), ASSIGNED, NOT TREATED "
                  "(randomized, no exposure or no actual treatment collected), UNPLANNED TREATMENT (elements "
                  "matching no arm, or treated without being randomized).", 32,
                  {"sequences": "prefix", "match": "actual"}),
        Algorithm("derive_actarmud", DERIVE, (), ACTUAL_ARM_OPTIONS, "Derived",
                  "Description of an unplanned treatment: the subject's SE elements in order (or the collected "
                  "actual treatment).", 33, {"sequences": "prefix", "match": "actual"}),
        Algorithm("derive_study_day", DERIVE, ("dtc",), (), "Derived",
                  "Study day of {dtc} relative to DM.RFSTDTC: date - RFSTDTC + 1 on or after it, date - RFSTDTC "
                  "before it (no day 0); null for partial dates.", 40),
        Algorithm("derive_epoch", DERIVE, ("dtc",), ("same_day",), "Derived",
                  "Epoch of the subject's SE element with SESTDTC <= {dtc} < SEENDTC (the last element includes "
                  "its end date), compared to the minute when both have a time, otherwise by date. On the day an "
                  "element starts, when the time of {dtc} or of the element start is not known, the order cannot "
                  "be told and the record is placed by the rule same_day = {same_day} (later: in the element that "
                  "starts that day; earlier: in the element that ends that day; null: EPOCH left null, not "
                  "imputed). A partial date gets the epoch of the one element holding all its days, none when it "
                  "spans a transition; null before the first element.", 40, {"same_day": "later"}),
        Algorithm("derive_blfl", DERIVE, ("by", "dtc", "result"), BASELINE_OPTIONS, "Derived",
                  "'Y' on the last record with a result ({result}) per subject and {by} before DM.{reference} "
                  "(sdtm.oak's derive_blfl: an earlier date, or the same date and an earlier time; on the same "
                  "date with a time unknown, only at a baseline visit or time point).", 40,
                  {"reference": "RFSTDTC", "same_day": "listed"}),
        Algorithm("derive_lobxfl", DERIVE, ("by", "dtc", "result"), BASELINE_OPTIONS, "Derived",
                  "'Y' on the last record with a result ({result}) per subject and {by} before the first "
                  "exposure DM.{reference} (an earlier date, or the same date and an earlier time; on the "
                  "same date with a time unknown, only at a baseline visit or time point).", 40,
                  {"reference": "RFXSTDTC", "same_day": "listed"}),
        Algorithm("derive_seq", DERIVE, ("order",), ("by",), "Derived",
                  "Sequence number 1..n per subject in the order of {order}.", 50),
    ]
})

# Domains built from the trial design (study.yaml) or from other domains rather than from one raw source.
BUILDS = {
    "derive_ts": "Trial Summary from the study's TS parameters.",
    "derive_ta": "Trial Arms from the design's arms and their elements.",
    "derive_te": "Trial Elements from the design's elements.",
    "derive_tv": "Trial Visits from the design's visit schedule.",
    "derive_ti": "Trial Inclusion/Exclusion Criteria from the design's criteria.",
    "derive_se": "Subject Elements: each element starts at the date and time of the event its rule gives (as "
                 "precisely as that event was collected; a date only when shifted by days) and ends where the "
                 "next starts; the last ends at DM.RFPENDTC.",
}
BUILD_STAGE = {"derive_se": 25}

# ------------------------------------------------------------------------- collected date and time formats
# The names a spec may give in assign_datetime's `format` (a list is tried in order). A date format also
# reads its own partials without markers (the day, then the day and month left out: 'Sep-2020' and
# '2020' in DD-MON-YYYY) and unknown parts marked UN, UNK, UK, NK, UNKN or '--'. MON is an English month
# name or its first three letters, any case. YY is a two-digit year, read with the spec's cutoff_2000.
DATE_FORMATS: dict[str, str] = {
    "YYYY-MM-DD": "2020-09-15, 2020-09, 2020",
    "YYYYMMDD": "20200915",
    "YYYY/MM/DD": "2020/09/15",
    "DD/MM/YYYY": "15/09/2020, UN/09/2020, 09/2020",
    "MM/DD/YYYY": "09/15/2020, 9/15/2020",
    "DD-MM-YYYY": "15-09-2020",
    "MM-DD-YYYY": "09-15-2020",
    "DD.MM.YYYY": "15.09.2020",
    "DD/MM/YY": "15/09/20",
    "MM/DD/YY": "09/15/20, 2/17/21",
    "DD-MON-YYYY": "15-SEP-2020, 4-Oct-2020, UN-UNK-2019, Sep-2020",
    "DD-MON-YY": "15-Sep-20",
    "DD MON YYYY": "15 Sep 2020",
    "DD/MON/YYYY": "15/Sep/2020",
    "DDMONYYYY": "15SEP2020 (SAS DATE9.)",
    "DATE9.": "15SEP2020 (the SAS format name for DDMONYYYY)",
    "ISO 8601": "2020-09-15T07:25:30, 2020-09-15T07:25, 2020-09-15, 2020-09, 2020 (date and time in one column)",
}
# Times, in `time_format` (a separate time column) or after a date format and a space in `format` (date
# and time in one column: 'DD-MON-YYYY HH:MM' reads '15-Sep-2020 7:25'). HH is one or two digits.
TIME_FORMATS: dict[str, str] = {
    "HH:MM": "7:25, 07:25, 19:05",
    "HH:MM:SS": "07:25:30",
    "HH:MM AM/PM": "7:25 PM, 07:25am, 12:05 AM",
    "HH:MM:SS AM/PM": "7:25:30 PM",
    "HHMM": "0725",
}
DEFAULT_TIME_FORMATS = ("HH:MM", "HH:MM:SS")
# Two-digit years: YY <= cutoff_2000 is 20YY, otherwise 19YY (sdtm.oak's rule and default); a spec may
# set its own per mapping, and every variable read with two-digit years is named in the run report.
CUTOFF_2000 = 68
UNKNOWN_MARKERS = ("UN", "UNK", "UK", "NK", "UNKN", "--", "----")


def split_datetime_format(name: str) -> tuple[str, str | None] | None:
    """'DD-MON-YYYY HH:MM' -> ('DD-MON-YYYY', 'HH:MM'); 'DD/MM/YYYY' -> ('DD/MM/YYYY', None); None if unknown."""
    if name in DATE_FORMATS:
        return name, None
    for date_name in DATE_FORMATS:
        if date_name != "ISO 8601" and name.startswith(date_name + " ") and \
                name[len(date_name) + 1:] in TIME_FORMATS:
            return date_name, name[len(date_name) + 1:]
    return None


def date_format_problem(name) -> str | None:
    """None when `name` is a known date format or '<date format> <time format>'; else the message."""
    if isinstance(name, str) and split_datetime_format(name) is not None:
        return None
    return (f"unknown date format {name!r} (known: {', '.join(DATE_FORMATS)}; a date format followed by a "
            f"space and a time format ({', '.join(TIME_FORMATS)}) reads date and time in one column; see "
            f"docs/spec-reference.md#date-and-time-formats)")


def time_format_problem(name) -> str | None:
    if isinstance(name, str) and name in TIME_FORMATS:
        return None
    return (f"unknown time format {name!r} (known: {', '.join(TIME_FORMATS)}; see "
            f"docs/spec-reference.md#date-and-time-formats)")

# ------------------------------------------------------------------------------------ unit conversions
# `standard_units.<TESTCD>` in a findings domain: the test's standard unit, the decimals its converted
# results are rounded to (halves away from zero, as SAS ROUND) and its conversion table: one entry per
# unit its results may be collected in. A result in a unit the table does not list is an error, never a
# value copied and labelled with the standard unit. Each entry gives exactly one of these:
UNIT_CONVERSIONS: dict[str, tuple[str, str]] = {
    "factor": ("standard = result x factor; with `offset`, standard = result x factor + offset. "
               "`factors: {unit: factor}` is the short form of `conversions: {unit: {factor: ...}}`.",
               "GLUC mg/dL to mmol/L: {factor: 0.0555}; TEMP F to C: {factor: 0.5555555556, offset: -17.7777777778}"),
    "formula": ("an expression of the expression grammar that reads the result as `x` (arithmetic, round(), "
                "numbers): the conversion of a unit with an offset written as it is known.",
                "TEMP F to C: {formula: '(x - 32) * 5 / 9'}: 98.6 F is 37.0 C"),
    "molar_mass": ("the analyte's molar mass in g/mol: between a mass concentration and a molar concentration "
                   "(either way; units of MASS_CONCENTRATION_UNITS and MOLAR_CONCENTRATION_UNITS), the factor "
                   "worked out from the two units' scales.",
                   "CPEPTIDE ng/mL to nmol/L: {molar_mass: 3020.3}: 1.51 ng/mL is 1.51 x 1000 / 3020.3 = "
                   "0.500 nmol/L; GLUC mg/dL to mmol/L: {molar_mass: 180.16}: 90 mg/dL is 0.9 / 180.16 x 1000 = 4.996 mmol/L (3 decimals)"),
}
# Mass concentrations in g/L and molar concentrations in mol/L (UNIT codelist spellings).
MASS_CONCENTRATION_UNITS: dict[str, float] = {
    "g/L": 1.0, "g/dL": 10.0, "g/mL": 1000.0, "mg/mL": 1.0, "mg/dL": 1e-2, "mg/L": 1e-3, "ug/mL": 1e-3,
    "ug/dL": 1e-5, "ug/L": 1e-6, "ng/mL": 1e-6, "ng/dL": 1e-8, "ng/L": 1e-9, "pg/mL": 1e-9, "pg/L": 1e-12,
}
MOLAR_CONCENTRATION_UNITS: dict[str, float] = {
    "mol/L": 1.0, "mmol/L": 1e-3, "umol/L": 1e-6, "nmol/L": 1e-9, "pmol/L": 1e-12, "fmol/L": 1e-15,
}
