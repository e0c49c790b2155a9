"""What a raw column name says: the SDTM domain of a form and the SDTM variable of a column, each with a
confidence and the reason (for ``cdisc spec draft``).

Names are read as CDASH and SDTMIG write them (AESTDAT, AETERM, VSORRES, SEX), after the EDC's own
decorations are taken off (``IT.`` before, ``_RAW`` / ``_STD`` after). The tables below are general
EDC and vendor habits, never one study's names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from specs.standards import _sdtm_datasets, sdtmig_variable, sdtmig_variables

EDC_PREFIXES = ("IT.",)
EDC_SUFFIXES = ("_RAW", "_STD")
# Subject, site and visit columns as EDCs and vendors name them, most specific first.
SUBJECT_NAMES = ("USUBJID", "SUBJID", "SUBJECT", "SUBJECTID", "SUBJECT_ID", "SUBJNUM", "PATNUM", "PATIENT",
                 "PATID", "PATIENT_ID", "RECORD_ID", "SUBJ")
SITE_NAMES = ("SITEID", "SITENUMBER", "SITE", "SITE_ID", "SITENO", "SITENUM", "CENTRE", "CENTER", "SITENM")
VISIT_NAMES = ("FOLDER", "INSTANCE", "VISIT", "VISITNAME", "VISIT_NAME", "FOLDERNAME", "VISNAM", "EVENT",
               "REDCAP_EVENT_NAME")
RECORD_NAMES = ("RECORDPOSITION", "RECPOS", "RECORDID", "RECORD_POSITION", "SEQ", "LINE", "ITEMGROUPREPEATKEY",
                "REDCAP_REPEAT_INSTANCE")
# Form and file names that say their domain (words of the file name, lower case).
FORM_WORDS = {"ae": "AE", "adverse": "AE", "aes": "AE", "cm": "CM", "conmed": "CM", "conmeds": "CM",
              "medication": "CM", "medications": "CM", "dm": "DM", "demog": "DM", "demographics": "DM",
              "demography": "DM", "vs": "VS", "vital": "VS", "vitals": "VS", "lb": "LB", "lab": "LB", "labs": "LB",
              "laboratory": "LB", "ex": "EX", "exposure": "EX", "dosing": "EX", "ds": "DS", "disposition": "DS",
              "mh": "MH", "history": "MH", "eg": "EG", "ecg": "EG", "pe": "PE", "sv": "SV", "ic": "DS",
              "consent": "DS", "qs": "QS", "pr": "PR", "procedures": "PR"}
# Long findings as vendors name their columns -> the --XXX suffix of the findings domain.
FINDINGS_NAMES = {"TESTCODE": "TESTCD", "TESTCD": "TESTCD", "TEST_CODE": "TESTCD", "TESTNAME": "TEST",
                  "TEST": "TEST", "TEST_NAME": "TEST", "RESULT": "ORRES", "RESULTS": "ORRES", "RES": "ORRES",
                  "VALUE": "ORRES", "UNIT": "ORRESU", "UNITS": "ORRESU", "RESULT_UNIT": "ORRESU",
                  "REFLOW": "ORNRLO", "RANGE_LOW": "ORNRLO", "LOW": "ORNRLO", "REFHIGH": "ORNRHI",
                  "RANGE_HIGH": "ORNRHI", "HIGH": "ORNRHI", "SPECIMEN": "SPEC", "SPEC": "SPEC", "STATUS": "STAT",
                  "LLOQ": "LLOQ", "METHOD": "METHOD", "FASTING": "FAST", "CATEGORY": "CAT"}
# Dictionary-coded term columns (AETERM_PT ...): the MedDRA level -> the variable suffix(es).
CODED_SUFFIXES = {"LLT": ("LLT",), "LLT_CODE": ("LLTCD",), "PT": ("DECOD",), "PT_CODE": ("PTCD",),
                  "HLT": ("HLT",), "HLT_CODE": ("HLTCD",), "HLGT": ("HLGT",), "HLGT_CODE": ("HLGTCD",),
                  "SOC": ("BODSYS", "SOC"), "SOC_CODE": ("BDSYCD", "SOCCD")}
# CDASH collection names -> SDTM (dates and times are joined into --DTC by the draft's date step).
CDASH_DATES = (("STDAT", "STDTC"), ("ENDAT", "ENDTC"), ("DAT", "DTC"))
CDASH_TIMES = (("STTIM", "STDTC"), ("ENTIM", "ENDTC"), ("TIM", "DTC"))
DATE_SUFFIX = re.compile(r"(DAT|DATE|DT|DR|D)$")
TIME_SUFFIX = re.compile(r"(TIM|TIME|TM)$")


@dataclass
class Proposal:
    """A column (or columns) proposed for a variable."""

    variable: str
    column: str
    confidence: float
    reason: str


def normalize(name: str) -> tuple[str, str]:
    """(the name without the EDC's decorations, upper case; what was taken off)."""
    text, removed = str(name).strip().upper(), []
    for prefix in EDC_PREFIXES:
        if text.startswith(prefix) and len(text) > len(prefix):
            text, removed = text[len(prefix):], removed + [prefix]
    for suffix in EDC_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text, removed = text[:-len(suffix)], removed + [suffix]
    return text, " and ".join(f"'{r}'" for r in removed)


@lru_cache(maxsize=None)
def domain_codes() -> frozenset[str]:
    """The SDTMIG's two-letter domains (not the SUPP, trial design or relationship datasets)."""
    return frozenset(name for name, meta in _sdtm_datasets().items()
                     if len(name) == 2 and meta.class_.upper() not in ("TRIAL DESIGN", "RELATIONSHIP",
                                                                       "STUDY REFERENCE"))


def domain_class(domain: str) -> str:
    meta = _sdtm_datasets().get(domain)
    return meta.class_.upper() if meta else ""


def first_named(columns, names) -> str | None:
    """The first column whose normalized name is in names, in the order of names."""
    by_name = {}
    for column in columns:
        by_name.setdefault(normalize(column)[0], column)
    return next((by_name[n] for n in names if n in by_name), None)


def domain_from_names(stem: str, columns) -> tuple[str | None, float, str]:
    """(domain, confidence, reason) of a form from its columns' prefixes and its file or form name."""
    votes: dict[str, int] = {}
    for column in columns:
        name = normalize(column)[0]
        prefix = name[:2]
        if prefix in domain_codes() and len(name) > 2 and (sdtmig_variable(prefix, name) is not None
                                                           or _cdash_target(prefix, name) is not None):
            votes[prefix] = votes.get(prefix, 0) + 1
    words = [w for w in re.split(r"[^a-z0-9]+", stem.lower()) if w]
    by_word = next((FORM_WORDS[w] for w in words if w in FORM_WORDS), None)
    if stem.upper() in domain_codes():
        by_word = stem.upper()
    best = max(sorted(votes), key=lambda d: votes[d]) if votes else None
    if best and by_word == best:
        return best, 0.95, f"{votes[best]} column(s) named {best}xxx and the form name '{stem}'"
    if best and votes[best] >= 2:
        return best, 0.8, f"{votes[best]} column(s) named {best}xxx (CDASH/SDTMIG names)"
    if by_word:
        return by_word, 0.6, f"the form name '{stem}'"
    if best:
        return best, 0.5, f"one column named {best}xxx"
    return None, 0.0, "no column named as CDASH/SDTMIG names them and no known form name"


def _cdash_target(domain: str, name: str) -> str | None:
    for cdash, sdtm in CDASH_DATES:
        if name == domain + cdash and sdtmig_variable(domain, domain + sdtm):
            return domain + sdtm
    return None


def date_target(domain: str, column: str) -> str | None:
    """The --DTC variable a date column goes to (AESTDAT -> AESTDTC, VSDAT -> VSDTC, BRTHDAT -> BRTHDTC)."""
    name = normalize(column)[0]
    stem = DATE_SUFFIX.sub("", name)
    for candidate in (_cdash_target(domain, name), f"{stem}DTC", f"{domain}{stem}DTC"):
        if candidate and sdtmig_variable(domain, candidate):
            return candidate
    if name.startswith(domain):
        return f"{domain}DTC" if sdtmig_variable(domain, f"{domain}DTC") else None
    return None


def time_target(domain: str, column: str) -> str | None:
    name = normalize(column)[0]
    for cdash, sdtm in CDASH_TIMES:
        if name == domain + cdash and sdtmig_variable(domain, domain + sdtm):
            return domain + sdtm
    return None


def propose_variable(domain: str, column: str, findings_long: bool) -> list[Proposal]:
    """The variable(s) a column may hold in a domain, best first; empty when the name says nothing."""
    name, removed = normalize(column)
    decorated = f" (after taking off {removed})" if removed else ""
    if sdtmig_variable(domain, name):
        return [Proposal(name, column, 0.95 if not removed else 0.85,
                         f"the column is named as the SDTMIG variable{decorated}")]
    if sdtmig_variable(domain, domain + name) and len(name) >= 3:
        return [Proposal(domain + name, column, 0.75, f"{domain} + the column name is an SDTMIG variable{decorated}")]
    if findings_long and name in FINDINGS_NAMES and sdtmig_variable(domain, domain + FINDINGS_NAMES[name]):
        target = domain + FINDINGS_NAMES[name]
        return [Proposal(target, column, 0.7, f"'{name}' is how lab and vendor files name {target}")]
    for level, suffixes in CODED_SUFFIXES.items():
        if name.endswith("_" + level):
            base = name[:-len(level) - 1]
            if sdtmig_variable(domain, base) and base.endswith("TERM"):
                return [Proposal(domain + s, column, 0.8, f"the dictionary level {level} of {base}")
                        for s in suffixes if sdtmig_variable(domain, domain + s)]
    head = name.split("_")[0]
    if head != name and sdtmig_variable(domain, head):
        return [Proposal(head, column, 0.5, f"the column name starts with the SDTMIG variable {head}")]
    return []


def domain_variables(domain: str):
    return sdtmig_variables(domain)
