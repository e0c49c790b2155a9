"""Checks of the records a domain is built from: every raw record identifiable (its source keys not repeated)
and its declared values known, every mapped record of a subject of DM, and a domain's keys identifying one
record (checked once mapped, or once derived when a key is derived). Each problem names the raw file, row
and record key."""
from __future__ import annotations

import pandas as pd

from sdtm.prepare import repeated_keys, repeated_source_keys, undeclared_values
from sdtm.unique import text_of
from specs.errors import Problem


def duplicate_keys(data: pd.DataFrame, keys: list[str], domain: str, limit: int = 20) -> list[Problem]:
    """A record whose key variables repeat an earlier record's: one located problem naming both (the keys
    of a domain identify its records, in define.xml and for every merge by subject)."""
    if "__file" not in data:
        return []
    found, count = repeated_keys(data, keys, limit)
    if not count:  # (the location columns as Python objects only when there is a record to name)
        return []
    files, rows, located = data["__file"].to_numpy(), data["__row"].to_numpy(), data["__key"].to_numpy()
    problems = []
    for values, later, first in found:
        shown = ", ".join(f"{k} '{'' if pd.isna(v) else v}'" for k, v in zip(keys, values))
        problems.append(Problem(f"{files[later]} row {rows[later]} ({located[later]})",
                                f"{domain}: a second record with {shown}; the keys of {domain} ({', '.join(keys)}) "
                                f"must identify one record (first: {files[first]} row {rows[first]} "
                                f"({located[first]}))"))
    if count > limit:
        problems.append(Problem(str(files[found[0][1]]), f"... and {count - limit} more {domain} records "
                                                         f"with repeated keys"))
    return problems


def records_without_dm(data: pd.DataFrame, dm: pd.DataFrame, domain: str, limit: int = 20) -> list[Problem]:
    """A record whose USUBJID has no DM record: one located problem each (a typo in a subject number, a
    lower-cased or accented id, a subject never enrolled). Mapping it would file data under a subject
    the submission does not have; SDTMIG: every subject of the study has one DM record."""
    if "USUBJID" not in data or not len(data) or "__file" not in data:
        return []
    known = pd.unique(text_of(dm["USUBJID"].dropna()))
    subject = text_of(data["USUBJID"])
    orphan = ~subject.isin(known)
    if not orphan.any():
        return []
    lost = data[orphan]
    problems = [Problem(f"{f} row {r} ({k})", f"{domain}: USUBJID '{u}' has no DM record; every record must "
                                              f"belong to a subject of DM (check the subject identifier)")
                for f, r, k, u in zip(lost["__file"].head(limit), lost["__row"], lost["__key"], subject[orphan])]
    if len(lost) > limit:
        problems.append(Problem(str(lost["__file"].iloc[0]), f"... and {len(lost) - limit} more {domain} records "
                                                             f"of subjects with no DM record"))
    return problems


def raw_problems(spec, tables: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every raw record identifiable (its source keys not repeated), every declared value known: checked on
    each whole raw table (a run in subject chunks finds the same problems part by part: cdisc.chunks.checks)."""
    problems: list[Problem] = []
    declared = {n: source.get("values") or {} for n, source in spec.sources.items()}
    for source, table in tables.items():
        if source in spec.sources and "__file" in table:
            problems += repeated_source_keys(table, spec.sources[source]["keys"], source)
            problems += undeclared_values(table, declared[source], source)
    return problems

