"""Write a CORE test-case data/ folder (.env, _datasets.csv, _variables.csv, one CSV per dataset) for tests."""
from __future__ import annotations

import csv
from pathlib import Path

LABELS = {"AE": "Adverse Events", "DM": "Demographics", "LB": "Laboratory Test Results", "SUPPAE":
          "Supplemental Qualifiers for AE", "TV": "Trial Visits", "SV": "Subject Visits", "RELREC": "Related Records"}


def write_core_folder(folder: Path, datasets: dict[str, dict[str, list]], numeric: tuple = (),
                      env: str = "PRODUCT=SDTMIG\nVERSION=3-4\n") -> Path:
    """``datasets``: name -> {variable: values}; variables named in ``numeric`` are declared Num."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".env").write_text(env)
    with (folder / "_datasets.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Filename", "Label"])
        for name in datasets:
            writer.writerow([name.lower(), LABELS.get(name, name)])
    with (folder / "_variables.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["dataset", "variable", "label", "type", "length"])
        for name, columns in datasets.items():
            for variable in columns:
                writer.writerow([name.lower(), variable, variable.title(), "Num" if variable in numeric else "Char", 8])
    for name, columns in datasets.items():
        with (folder / f"{name.lower()}.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(columns))
            for row in zip(*columns.values()):
                writer.writerow(["" if v is None else v for v in row])
    return folder
