"""Trial Summary (TS) values: a coded parameter's value carries its code and code system, a missing value is
a null flavor (TSVALNF, ISO 21090) rather than a word standing for one, and an interventional study's TS has
the parameters FDA's Technical Conformance Guide expects (SDTMIG 3.4 section 7.4.2).

The parameter tables are the spec contract's (``specs.ts_parameters``), so the spec check at load and these
rules agree on what a TS value needs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.ts_parameters import (CODELIST_OF, NULL_FLAVORS, NULL_WORDS, UNCODED_VALUES, code_system,
                                 missing_expected)
from validate.registry import Context, NotChecked, concat, dataset_finding, fail, rule


def _ts(context: Context) -> pd.DataFrame:
    ts = context.package.datasets.get("TS")
    if ts is None or not {"TSPARMCD", "TSVAL"} <= set(ts.columns):
        raise NotChecked("no TS with TSPARMCD and TSVAL")
    return ts


def _text(ts: pd.DataFrame, name: str) -> pd.Series:
    if name not in ts.columns:
        return pd.Series("", index=ts.index, dtype=object)
    return ts[name].astype(object).where(ts[name].notna(), "").astype(str).str.strip()


@rule(id="CV0208", severity="Warning", standard="SDTMIG",
      message="TS {parmcd} = '{value}' comes from {system}: {problem}")
def coded_value_has_its_code(context: Context) -> pd.DataFrame:
    """The value of a parameter coded in CDISC CT or a dictionary (UNII, MED-RT, SNOMED, ISO 3166) has its code
    in TSVALCD and that code system in TSVCDREF (SDTMIG 7.4.2, TS assumptions 4 and 5)."""
    ts = _ts(context)
    code, value = _text(ts, "TSPARMCD"), _text(ts, "TSVAL")
    system = code.map({c: code_system(c) or "" for c in code.unique()})
    uncoded = pd.Series(False, index=ts.index)
    for parmcd, words in UNCODED_VALUES.items():  # a placebo comparator has no substance code
        uncoded |= (code == parmcd) & value.isin(list(words))
    checked = (system != "") & (value != "") & ~uncoded
    no_code = checked & (_text(ts, "TSVALCD") == "")
    other_system = checked & (_text(ts, "TSVCDREF") != system)
    problem = pd.Series("", index=ts.index, dtype=object)
    problem = problem.mask(other_system, "TSVCDREF is '" + _text(ts, "TSVCDREF") + "', not " + system)
    problem = problem.mask(no_code, "TSVALCD is null")
    problem = problem.mask(no_code & other_system, "TSVALCD is null and TSVCDREF is '" + _text(ts, "TSVCDREF")
                           + "', not " + system)
    bad = (no_code | other_system).to_numpy(dtype=bool)
    return fail(context.package, "TS", bad, "TSVALCD", values=value, parmcd=code, system=system, problem=problem)


@rule(id="CV0209", severity="Warning", standard="SDTMIG",
      message="TS {parmcd}: TSVAL = '{value}' stands for a missing value; TSVAL is null and TSVALNF holds the "
              "ISO 21090 null flavor instead (SDTMIG 7.4.2.1)")
def missing_value_is_a_null_flavor(context: Context) -> pd.DataFrame:
    """A word for a missing value ('NONE', 'UNKNOWN', 'N/A') is not a TSVAL: the value is null with TSVALNF
    (a term of the parameter's CDISC codelist that happens to be such a word is allowed, CG0649)."""
    ts = _ts(context)
    code, value = _text(ts, "TSPARMCD"), _text(ts, "TSVAL")
    null_word = value.str.upper().isin(NULL_WORDS)
    in_codelist = np.zeros(len(ts), dtype=bool)
    by_short = {c.short: c for c in context.ct.by_code.values()} if context.ct is not None else {}
    for parmcd, codelist in CODELIST_OF.items():
        rows = (code == parmcd).to_numpy()
        if rows.any() and codelist in by_short:
            in_codelist |= rows & value.isin(list(by_short[codelist].terms)).to_numpy()
    return fail(context.package, "TS", null_word.to_numpy(dtype=bool) & ~in_codelist, "TSVAL", parmcd=code)


@rule(id="CV0210", severity="Error", standard="SDTMIG",
      message="TS {parmcd}: {problem}")
def value_or_null_flavor(context: Context) -> pd.DataFrame:
    """Each TS record has either a value or an ISO 21090 null flavor, not both and not neither."""
    ts = _ts(context)
    code, value, flavor = _text(ts, "TSPARMCD"), _text(ts, "TSVAL"), _text(ts, "TSVALNF")
    problem = pd.Series("", index=ts.index, dtype=object)
    problem = problem.mask((flavor != "") & ~flavor.isin(list(NULL_FLAVORS)),
                           "TSVALNF = '" + flavor + "' is not an ISO 21090 null flavor")
    problem = problem.mask((value == "") & (flavor == ""), "TSVAL and TSVALNF are both null")
    problem = problem.mask((value != "") & (flavor != ""), "TSVAL = '" + value + "' and TSVALNF = '" + flavor
                           + "': a null flavor only for a null value")
    return fail(context.package, "TS", (problem != "").to_numpy(dtype=bool), "TSVALNF", parmcd=code,
                problem=problem)


@rule(id="CV0211", severity="Warning", standard="SDTMIG",
      message="TS has no {value} parameter, which FDA's Technical Conformance Guide expects for an "
              "interventional study (a value, or TSVALNF when there is none)")
def expected_parameters(context: Context) -> pd.DataFrame:
    """The TS of an interventional study (STYPE = INTERVENTIONAL) has each parameter the TCG expects."""
    ts = _ts(context)
    code, value = _text(ts, "TSPARMCD"), _text(ts, "TSVAL")
    stype = value[code == "STYPE"]
    missing = missing_expected(set(code), stype.iloc[0] if len(stype) else None)
    return concat([dataset_finding("TS", "TSPARMCD", parmcd) for parmcd in missing])

