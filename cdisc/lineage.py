"""The lineage table a run writes beside its datasets (out/lineage/), which ``cdisc explain`` reads.

``records.csv``: one row per mapped SDTM record (sdtm.lineage): dataset, position, USUBJID, --SEQ, and the
raw file, row and key it was made from. ADaM records name their SDTM records themselves (SRCDOM with
SRCSEQ, or SRCSEQL for a record derived from several, such as an AUC), so explain follows those.
``variables.csv``: one row per variable of every SDTM and ADaM dataset: where the spec defines it (file
and path), its algorithm and arguments, its codelist, its origin and the method text define.xml states
(the same function writes both, define.adapters). Written once per run from whole columns; the folder is
not one the validator reads (it reads sdtm/, adam/ and m5/).
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from specs.yaml_writer import flow

FOLDER = "lineage"
RECORDS, VARIABLES = "records.csv", "variables.csv"
VARIABLE_COLUMNS = ["DATASET", "VARIABLE", "LAYER", "SPEC", "ORIGIN", "ALGORITHM", "ARGUMENTS", "CODELIST",
                    "METHOD", "DESCRIPTION", "PREDECESSOR"]


def sdtm_variable_rows(spec, result) -> list[dict]:
    from define.adapters import _sdtm_variable, describe_map

    rows = []
    for name, dspec in result.specs.items():
        if name not in result.datasets:
            continue
        positions = {v.get("name"): i for i, v in enumerate((spec.domains.get(name) or {}).get("variables", []))}
        for variable in dspec.parent_variables:
            mapping = variable.map or {}
            # the spec file's name, not where it lies: the same output wherever the run starts
            where = f"sdtm.yaml: domains.{name}.variables[{positions[variable.name]}]" \
                if variable.name in positions else ""
            arguments = {k: v for k, v in mapping.items() if k != "algorithm"}
            rows.append({"DATASET": name, "VARIABLE": variable.name, "LAYER": "SDTM", "SPEC": where,
                         "ORIGIN": variable.origin.type, "ALGORITHM": mapping.get("algorithm", ""),
                         "ARGUMENTS": flow(arguments) if arguments else "", "CODELIST": variable.codelist or "",
                         "METHOD": _sdtm_variable(variable).method or "",
                         "DESCRIPTION": describe_map(mapping) or "", "PREDECESSOR": ""})
    return rows


def adam_variable_rows(adam_spec, adam_datasets) -> list[dict]:
    rows = []
    for name, dataset in adam_spec.datasets.items():
        if adam_datasets is None or name not in adam_datasets:
            continue
        steps = list(dict.fromkeys(s.get("step", "") for s in dataset.get("steps", []) if isinstance(s, dict)))
        for position, variable in enumerate(dataset.get("variables", [])):
            rows.append({"DATASET": name, "VARIABLE": variable["name"], "LAYER": "ADaM",
                         "SPEC": f"{Path(adam_spec.file).name}: datasets.{name}.variables[{position}]",
                         "ORIGIN": variable.get("origin", "Derived"), "ALGORITHM": "",
                         "ARGUMENTS": "", "CODELIST": str(variable.get("codelist") or ""),
                         "METHOD": variable.get("method") or "",
                         "DESCRIPTION": f"{name} is built by the steps {', '.join(steps)}" if steps else "",
                         "PREDECESSOR": str(variable.get("predecessor") or "")})
    return rows


def write_lineage(folder: Path, spec, result, adam_spec=None, adam_datasets=None) -> Path:
    out = Path(folder) / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    records = result.lineage if result.lineage is not None else pd.DataFrame()
    records.to_csv(out / RECORDS, index=False, lineterminator="\n")
    rows = sdtm_variable_rows(spec, result)
    if adam_spec is not None:
        rows += adam_variable_rows(adam_spec, adam_datasets)
    with open(out / VARIABLES, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, VARIABLE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out
