"""Late mappings: map-kind mappings that read mapped SDTM variables (``DOMAIN.NAME``), computed in the
derivation stages once what they read exists (``specs.references`` works out when).

A variable of the same domain is read record by record; a variable of another domain is the value of
the subject's record there (by USUBJID), so that domain must hold one record per subject, as DM does.
"""
from __future__ import annotations

import pandas as pd

from specs.errors import Problem


def referenced_values(datasets: dict[str, pd.DataFrame], domain: str, keys, where: str
                      ) -> tuple[dict[str, pd.Series], list[Problem]]:
    """'DOMAIN.NAME' -> values aligned with the records of ``domain``."""
    data = datasets[domain]
    values: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    for key in sorted(keys):
        other, name = key.split(".", 1)
        if other == domain:
            values[key] = data[name]
            continue
        records = datasets[other]
        if "USUBJID" not in data or "USUBJID" not in records:
            problems.append(Problem(where, f"{key}: {other} and {domain} are linked by USUBJID, which one of them "
                                           f"lacks"))
            continue
        repeated = records["USUBJID"][records["USUBJID"].duplicated(keep=False)]
        if len(repeated):
            problems.append(Problem(where, f"{key}: {other} has {repeated.nunique()} subject(s) with several records "
                                           f"(e.g. {repeated.iloc[0]}); another domain's variable is read from the "
                                           f"subject's one record there, as in DM"))
            continue
        per_subject = pd.Series(records[name].to_numpy(), index=records["USUBJID"].to_numpy())
        values[key] = data["USUBJID"].map(per_subject)
    return values, problems
