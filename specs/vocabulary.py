"""The fixed vocabulary of mapping algorithms a spec may name, with their arguments.

The names follow sdtm.oak: the name in the spec is the name of the function in ``sdtm.algorithms``
(map-kind: from the raw record) or ``sdtm.derivations`` (derive-kind: from mapped variables and other
domains). ``sdtm`` checks at import that it implements exactly this vocabulary.

Each entry: kind, required arguments, optional arguments, origin it implies, a one-line description
(used as the default Define-XML method text when the spec gives none).
"""
from __future__ import annotations

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


MAP = "map"
DERIVE = "derive"
# derive_blfl / derive_lobxfl: reference (a DM variable), stat and tpt (variables of the domain), visits
# and timepoints (values of VISIT and of tpt), same_day ('listed' or 'before'), see sdtm.derivations.
BASELINE_OPTIONS = ("reference", "stat", "visits", "tpt", "timepoints", "same_day")

ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in [
        # map-kind: computed from the raw record; `source` names raw columns
        Algorithm("assign_no_ct", MAP, ("source",), ("terms", "default"), "Collected",
                  "Copied from the collected value{terms}."),
        Algorithm("assign_ct", MAP, ("source",), ("terms", "codelist"), "Collected",
                  "Collected value mapped to its controlled term{terms}."),
        Algorithm("hardcode_no_ct", MAP, ("value",), (), "Assigned", "Assigned the value '{value}'."),
        Algorithm("hardcode_ct", MAP, ("value",), ("codelist",), "Assigned",
                  "Assigned the controlled term '{value}'."),
        Algorithm("assign_numeric", MAP, ("source",), (), "Collected", "Collected numeric value."),
        Algorithm("assign_datetime", MAP, ("date",), ("time", "format"), "Collected",
                  "ISO 8601 date/time from the collected date{time}; unknown parts (UN/UNK) left out."),
        Algorithm("assign_template", MAP, ("template",), (), "Derived",
                  "Built from collected values as '{template}'."),
        Algorithm("assign_duration", MAP, ("minutes",), (), "Derived",
                  "ISO 8601 duration from the number of minutes in {minutes}."),
        Algorithm("condition_add", MAP, ("cases",), ("otherwise",), "Derived",
                  "Mapped by condition: {cases}."),
        Algorithm("derive_usubjid", MAP, ("source",), (), "Derived",
                  "Concatenation of STUDYID and the subject number, separated by '-'."),
        Algorithm("derive_visitnum", MAP, ("source",), ("match",), "Derived",
                  "Visit number of the planned visit in the trial design (TV) matching the collected visit."),
        Algorithm("derive_visit", MAP, ("source",), ("match",), "Derived",
                  "Visit name of the planned visit in the trial design (TV) matching the collected visit."),
        Algorithm("derive_visitdy", MAP, ("source",), ("match",), "Derived",
                  "Planned study day of the visit in the trial design (TV)."),
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
        Algorithm("derive_armcd", MAP, ("source",), (), "Derived",
                  "Planned arm code from the randomization list (TA arms by randomization code); null when "
                  "the subject was not randomized."),
        Algorithm("derive_arm", MAP, ("source",), (), "Derived",
                  "Planned arm from the randomization list (TA arms by randomization code)."),
        # derive-kind: computed from mapped variables (and other domains); run after all mapping
        Algorithm("derive_test_name", DERIVE, ("testcd",), ("codelist",), "Assigned",
                  "Test name paired with the test code in controlled terminology (same NCI C-code).", 10),
        Algorithm("derive_stresc", DERIVE, ("orres", "orresu", "testcd"), (), "Derived",
                  "Result in the standard unit as text: converted by the factor stated per unit for the test; "
                  "'<x' results keep their qualifier and convert x.", 10),
        Algorithm("derive_stresn", DERIVE, ("stresc",), (), "Derived",
                  "Numeric form of the standard result; null when it is not a plain number.", 11),
        Algorithm("derive_stresu", DERIVE, ("orresu", "testcd"), (), "Derived",
                  "Standard unit stated for the test; the original unit when none is stated.", 10),
        Algorithm("derive_stnr", DERIVE, ("ornr", "orresu", "testcd"), (), "Derived",
                  "Reference range limit converted to the standard unit.", 10),
        Algorithm("derive_nrind", DERIVE, ("stresn", "lo", "hi"), (), "Derived",
                  "LOW below the standard lower limit, HIGH above the upper limit, NORMAL between; "
                  "null without a result or a range.", 12),
        Algorithm("derive_rf_date", DERIVE, ("sources", "pick"), (), "Derived",
                  "The {pick} date of: {sources}.", 20),
        Algorithm("derive_exist_flag", DERIVE, ("sources",), (), "Derived",
                  "'Y' when the subject has a record in: {sources}; null otherwise.", 20),
        Algorithm("derive_age", DERIVE, ("birth", "ref"), (), "Derived",
                  "Age in completed years from the birth date {birth} to {ref}.", 30),
        Algorithm("derive_actarmcd", DERIVE, (), (), "Derived",
                  "Actual arm code: the arm of TA whose elements match the subject's SE elements; null with "
                  "ARMNRS when the subject was not treated.", 30),
        Algorithm("derive_actarm", DERIVE, (), (), "Derived", "Actual arm matching ACTARMCD in TA.", 31),
        Algorithm("derive_armnrs", DERIVE, (), (), "Derived",
                  "Reason ARM or ACTARM is null: SCREEN FAILURE (never randomized), ASSIGNED, NOT TREATED "
                  "(randomized, no exposure), UNPLANNED TREATMENT (elements matching no arm).", 32),
        Algorithm("derive_actarmud", DERIVE, (), (), "Derived",
                  "Description of an unplanned treatment: the subject's SE elements in order.", 33),
        Algorithm("derive_study_day", DERIVE, ("dtc",), (), "Derived",
                  "Study day of {dtc} relative to DM.RFSTDTC: date - RFSTDTC + 1 on or after it, date - RFSTDTC "
                  "before it (no day 0); null for partial dates.", 40),
        Algorithm("derive_epoch", DERIVE, ("dtc",), (), "Derived",
                  "Epoch of the subject's SE element whose start date is on or before the date of {dtc} and whose "
                  "end date is after it (the last element includes its end date); null for partial dates and "
                  "dates before the first element.", 40),
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
}

# Domains built from the trial design (study.yaml) or from other domains rather than from one raw source.
BUILDS = {
    "derive_ts": "Trial Summary from the study's TS parameters.",
    "derive_ta": "Trial Arms from the design's arms and their elements.",
    "derive_te": "Trial Elements from the design's elements.",
    "derive_tv": "Trial Visits from the design's visit schedule.",
    "derive_ti": "Trial Inclusion/Exclusion Criteria from the design's criteria.",
    "derive_se": "Subject Elements: each element starts at the date its rule gives and ends where the next "
                 "starts; the last ends at DM.RFPENDTC.",
}
BUILD_STAGE = {"derive_se": 25}
