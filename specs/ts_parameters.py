"""Trial Summary (TS) parameters: where a parameter's value comes from (a CDISC codelist or a dictionary such
as UNII or MED-RT), the parameters FDA's Study Data Technical Conformance Guide expects in the TS of an
interventional study, and the ISO 21090 null flavors of TSVALNF.

A parameter the study spec does not give is not made up: TS carries it with TSVAL null and TSVALNF = NI
(no information, ISO 21090's default null flavor), SDTMIG 3.4 section 7.4.2.1.
"""
from __future__ import annotations

# ISO 21090 NullFlavor (the value domain SDTMIG 3.4 gives TSVALNF)
NULL_FLAVORS = {
    "NI": "no information", "INV": "invalid", "DER": "derived", "OTH": "other", "PINF": "positive infinity",
    "NINF": "negative infinity", "UNC": "unencoded", "MSK": "masked", "NA": "not applicable", "UNK": "unknown",
    "ASKU": "asked but unknown", "NAV": "temporarily unavailable", "NASK": "not asked", "QS": "sufficient quantity",
    "TRC": "trace", "NP": "not present",
}
DEFAULT_NULL_FLAVOR = "NI"

# Parameters whose TSVAL is a term of a CDISC codelist: TSVALCD is its NCI code, TSVCDREF 'CDISC CT'
CDISC_CT = "CDISC CT"
CODELIST_OF = {
    "ADAPT": "NY", "ADDON": "NY", "EXTTIND": "NY", "HLTSUBJI": "NY", "PDPSTIND": "NY", "PDSTIND": "NY",
    "PIPIND": "NY", "RANDOM": "NY", "RDIND": "NY", "DOSFRM": "FRM", "DOSFRQ": "FREQ", "DOSU": "UNIT",
    "ROUTE": "ROUTE", "INTMODEL": "INTMODEL", "INTTYPE": "INTTYPE", "SEXPOP": "SEXPOP", "STYPE": "STYPE",
    "TBLIND": "TBLIND", "TCNTRL": "TCNTRL", "TINDTP": "TINDTP", "TPHASE": "TPHASE", "TTYPE": "TTYPE",
}
# Parameters whose TSVAL is coded in a dictionary (TSVCDREF): substances in UNII, the pharmacologic class in
# MED-RT (FDA's Established Pharmacologic Class), indications in SNOMED CT, countries in ISO 3166-1 alpha-3
DICTIONARY_OF = {
    "TRT": "UNII", "CURTRT": "UNII", "COMPTRT": "UNII", "PCLAS": "MED-RT", "INDIC": "SNOMED", "TDIGRP": "SNOMED",
    "FCNTRY": "ISO 3166",
}
# values that name no substance, so have no UNII code (a placebo comparator)
UNCODED_VALUES = {"COMPTRT": {"PLACEBO"}}

# What FDA's Technical Conformance Guide (TS section) and the SDTMIG TS examples expect in the TS of an
# interventional study; DCUTDTC/DCUTDESC come with a data cut.
EXPECTED_INTERVENTIONAL = (
    "ACTSUB", "ADAPT", "ADDON", "AGEMAX", "AGEMIN", "COMPTRT", "CURTRT", "DOSE", "DOSFRQ", "DOSU", "EXTTIND",
    "FCNTRY", "HLTSUBJI", "INDIC", "INTMODEL", "INTTYPE", "LENGTH", "NARMS", "OBJPRIM", "OBJSEC", "OUTMSPRI",
    "OUTMSSEC", "PCLAS", "PDPSTIND", "PDSTIND", "PIPIND", "PLANSUB", "RANDOM", "RANDQT", "RDIND", "REGID",
    "ROUTE", "SDTIGVER", "SDTMVER", "SENDTC", "SEXPOP", "SPONSOR", "SSTDTC", "STOPRULE", "STRATFCT", "STYPE",
    "TBLIND", "TCNTRL", "TDIGRP", "TINDTP", "TITLE", "TPHASE", "TRT", "TTYPE",
)
# words that stand for a missing value: SDTMIG 7.4.2.1 puts them in TSVALNF, never in TSVAL
NULL_WORDS = {"NONE", "UNKNOWN", "UNK", "N/A", "NA", "NOT APPLICABLE", "NOT KNOWN", "UNBOUNDED", "NULL", "-"}


def code_system(parmcd: str) -> str | None:
    """'CDISC CT', a dictionary name, or None when the parameter's value is free text, a number or a date."""
    if parmcd in CODELIST_OF:
        return CDISC_CT
    return DICTIONARY_OF.get(parmcd)


def check_ts_items(items: list[dict], ct=None) -> list[tuple[int, str, str]]:
    """Problems of the TS entries of a study spec: (entry index, field, message).

    An entry gives exactly one of val, valnf, from; valnf is an ISO 21090 null flavor; a value that stands
    for a missing one ('NONE') is a null flavor instead; a coded parameter's value carries its code (valcd)
    and the code system it expects (vcdref); a CDISC CT value is a term of its codelist with its NCI code."""
    problems = []
    for index, item in enumerate(items):
        code = item.get("parmcd", "")
        given = [k for k in ("val", "valnf", "from") if item.get(k) not in (None, "")]
        if len(given) != 1:
            problems.append((index, "parmcd", f"{code}: give exactly one of val, valnf (ISO 21090 null flavor) "
                                              f"and from, not {' and '.join(given) or 'none'}"))
            continue
        if "valnf" in given:
            if item["valnf"] not in NULL_FLAVORS:
                problems.append((index, "valnf", f"{code}: '{item['valnf']}' is not an ISO 21090 null flavor "
                                                 f"({', '.join(NULL_FLAVORS)})"))
            continue
        if "val" not in given:
            continue
        value = str(item["val"])
        system = code_system(code)
        if value.strip().upper() in NULL_WORDS and not (system == CDISC_CT and ct is not None and ct.has(
                CODELIST_OF[code]) and value in ct.codelist(CODELIST_OF[code]).terms):
            problems.append((index, "val", f"{code}: '{value}' stands for a missing value: give valnf (an ISO 21090 "
                                           f"null flavor, e.g. NA or NI) instead (SDTMIG 7.4.2.1)"))
            continue
        if system is None or value in UNCODED_VALUES.get(code, ()):
            continue
        if not item.get("valcd"):
            problems.append((index, "valcd", f"{code}: '{value}' comes from {system}: give its code (valcd) and "
                                             f"vcdref: {system}, or valnf when the code is not known"))
        if item.get("vcdref") != system:
            problems.append((index, "vcdref", f"{code}: the code system is {system}, not "
                                              f"'{item.get('vcdref') or ''}'"))
        if system == CDISC_CT and ct is not None and ct.has(CODELIST_OF[code]):
            codelist = ct.codelist(CODELIST_OF[code])
            terms = codelist.terms
            if value not in terms:
                if not codelist.extensible:  # a sponsor's term of an extensible codelist has no NCI code to check
                    problems.append((index, "val", f"{code}: '{value}' is not a term of codelist "
                                                   f"{CODELIST_OF[code]}"))
            elif item.get("valcd") and item["valcd"] != terms[value].code:
                problems.append((index, "valcd", f"{code}: '{value}' is {terms[value].code} in codelist "
                                                 f"{CODELIST_OF[code]}, not {item['valcd']}"))
    return problems


def missing_expected(parmcds, stype: str | None) -> list[str]:
    """The parameters expected in the TS of a study of type ``stype`` (TS STYPE) that ``parmcds`` lacks, in
    the order of EXPECTED_INTERVENTIONAL (none for a study that is not interventional)."""
    if stype != "INTERVENTIONAL":
        return []
    present = set(parmcds)
    return [code for code in EXPECTED_INTERVENTIONAL if code not in present]
