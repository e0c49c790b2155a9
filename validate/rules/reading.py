"""What a dataset file declares about itself and its rows contradict (Dataset-JSON records, column types)."""
from __future__ import annotations

import pandas as pd

from validate.registry import Context, rule


@rule(id="CV0109", severity="Error", standard="Dataset-JSON 1.1", scope="any",
      message="{message}")
def dataset_file_consistent(context: Context) -> pd.DataFrame:
    """A Dataset-JSON file's declared record count equals its rows, and each column's values fit its
    declared dataType (one finding per column, with the number of values that do not)."""
    rows = [{"dataset": name, "row": pd.NA, "key": "", **issue}
            for name, meta in context.package.meta.items() for issue in getattr(meta, "issues", [])]
    return pd.DataFrame(rows) if rows else None
