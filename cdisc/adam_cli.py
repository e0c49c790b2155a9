"""`cdisc adam SDTM_DIR`: ADaM from any folder of SDTMIG XPT files, ours or another tool's."""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from cdisc.pipeline import Progress, Publication, publishing
from specs.loader import display_path


def run_adam(sdtm_dir, spec_path=None, out_dir="out/adam", created: datetime | None = None,
             publication: Publication | None = None) -> int:
    from adam.build import build_adam, read_sdtm_folder, write_adam_xpt
    from adam.spec import load_adam_spec

    progress = Progress()
    spec = load_adam_spec(spec_path)
    progress.step(f"reading SDTM from {sdtm_dir}")
    datasets = build_adam(read_sdtm_folder(sdtm_dir), spec)
    with publishing(Path(out_dir), publication, slot=True) as staging:  # the folder replaced whole
        write_adam_xpt(datasets, staging, spec, created=created or datetime(2000, 1, 1))
    print(f"ADaM written to {display_path(Path(out_dir))}: " +
          ", ".join(f"{name} ({len(frame)} records)" for name, frame in datasets.items()), file=sys.stdout)
    return 0
