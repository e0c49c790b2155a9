"""The package as the rules see it: its datasets, the attributes each was written with (label, type,
length, format, order), define.xml when there is one, and how a rule names a dataset's domain, its units
and its records."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from validate.define_xml import DefineMeta
from validate.lazy import Focus, Projected, Selection
from validate.standards import SDTM_DOMAINS
from validate.values import as_text


@dataclass
class VariableMeta:
    name: str
    label: str
    type: str  # "Char" or "Num"
    length: int | None
    format: str
    order: int


@dataclass
class DatasetMeta:
    name: str
    label: str
    path: Path
    variables: dict[str, VariableMeta] = field(default_factory=dict)
    encoding: str = "utf-8"
    issues: list = field(default_factory=list)  # what the file declares and its rows contradict (CV0109)


@dataclass
class Package:
    root: Path
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict[str, DatasetMeta] = field(default_factory=dict)
    define: DefineMeta | None = None
    notes: list[str] = field(default_factory=list)
    properties: dict = field(default_factory=dict)  # what the source declares (a CORE .env: product, version)

    def standard(self, name: str) -> str:
        """'ADaM' or 'SDTM' for dataset ``name``."""
        if self.define is not None and name in self.define.groups:
            if self.define.groups[name].purpose == "Analysis":
                return "ADaM"
            if self.define.groups[name].purpose == "Tabulation":
                return "SDTM"
        return "ADaM" if name.startswith("AD") and name not in SDTM_DOMAINS else "SDTM"

    def sdtm(self) -> Mapping[str, pd.DataFrame]:
        return self._of_standard("SDTM")

    def adam(self) -> Mapping[str, pd.DataFrame]:
        return self._of_standard("ADaM")

    def _of_standard(self, standard: str) -> Mapping[str, pd.DataFrame]:
        if isinstance(self.datasets, dict):
            return {n: d for n, d in self.datasets.items() if self.standard(n) == standard}
        return Selection(self.datasets, [n for n in self.datasets if self.standard(n) == standard])

    def names(self) -> list[str]:
        """Every dataset of the package, also from a view that shows a rule some of them (``view``)."""
        everything = getattr(self.datasets, "everything", None)
        return list(everything() if everything is not None else self.datasets)

    def columns(self, name: str) -> list[str]:
        """The variables of dataset ``name`` in file order, without reading its values when it is not read yet."""
        columns = getattr(self.datasets, "columns", None)
        return list(columns(name) if columns is not None else self.datasets[name].columns)

    def records(self, name: str) -> int:
        records = getattr(self.datasets, "records", None)
        return int(records(name) if records is not None else len(self.datasets[name]))

    def units(self) -> list[list[str]]:
        """The datasets a rule that works dataset by dataset sees together, in package order: the parts of
        a split SDTM domain (LBCH, LBHE) and of its SUPP-- datasets are one unit each, every other dataset
        is one unit."""
        groups: dict[str, list[str]] = {}
        for name in self.names():
            groups.setdefault(self.unit_key(name), []).append(name)
        return list(groups.values())

    def in_unit_order(self) -> "Package":
        """The datasets (and their metadata) reordered so that the parts of a split domain follow one another
        where the first part stands (FACM, CM, FAMH -> FACM, FAMH, CM): a rule run over the whole package and
        one run unit by unit (``units``) then meet the datasets in the same order and give their findings in
        the same order. The loaders call it once define.xml is read (it tells SDTM from ADaM)."""
        order = [name for unit in self.units() for name in unit]
        if order == list(self.datasets):
            return self
        if isinstance(self.datasets, dict):
            self.datasets = {name: self.datasets[name] for name in order}
        else:
            self.datasets.reorder(order)
        self.meta = {**{name: self.meta[name] for name in order if name in self.meta},
                     **{name: meta for name, meta in self.meta.items() if name not in order}}
        return self

    def unit_key(self, name: str) -> str:
        if self.standard(name) != "SDTM":
            return f"ADaM:{name}"
        domain = self.domain(name)
        return ("SUPP" + name[4:6]) if domain == "SUPPQUAL" and name.startswith("SUPP") else domain

    def view(self, names: list[str]) -> "Package":
        """The package as a rule that works dataset by dataset sees it for ``names``: iterating its datasets
        (or their metadata) gives those, looking one up by name still finds any dataset."""
        return replace(self, datasets=Focus(self.datasets, names), meta=Focus(self.meta, names))

    def projected(self, columns) -> "Package":
        """The package with each dataset read as ``columns`` (those it has): for a rule across datasets that
        declares the columns it reads."""
        return replace(self, datasets=Projected(self, set(columns)))

    def domain(self, name: str) -> str:
        """The SDTM domain whose variables ``name`` holds: 'LB' for LB and split LBCH, 'SUPPQUAL' for SUPPAE."""
        if name.startswith("SUPP") or name.startswith("SQ"):
            return "SUPPQUAL"
        if name in SDTM_DOMAINS:
            return name
        if len(name) == 4 and name[:2] in SDTM_DOMAINS:
            return name[:2]
        return name

    def prefix(self, name: str) -> str:
        """The two-letter prefix of --variables ('LB' for LB, LBCH)."""
        return name[:2]

    def key_variables(self, name: str) -> list[str]:
        """Variables that identify a record in readable form (define.xml keys first)."""
        cols = set(self.columns(name))
        if self.define is not None and name in self.define.groups and self.define.groups[name].keys:
            keys = [k for k in self.define.groups[name].keys if k in cols]
            return [k for k in keys if k != "STUDYID"] or keys  # one study per package: STUDYID is noise
        if name in ("DM", "ADSL"):
            candidates = ["USUBJID"]
        elif self.domain(name) == "SUPPQUAL":
            candidates = ["RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"]
        elif name == "TS":
            candidates = ["TSPARMCD", "TSSEQ"]
        elif name == "TA":
            candidates = ["ARMCD", "TAETORD"]
        elif name == "TE":
            candidates = ["ETCD"]
        elif name == "TV":
            candidates = ["VISITNUM", "ARMCD"]
        elif name == "TI":
            candidates = ["IETESTCD"]
        elif name == "SV":
            candidates = ["USUBJID", "VISITNUM"]
        elif f"{self.prefix(name)}SEQ" in cols:
            candidates = ["USUBJID", f"{self.prefix(name)}SEQ"]
        elif "ASEQ" in cols:
            candidates = ["USUBJID", "ASEQ"]
        else:
            candidates = ["USUBJID", "PARAMCD", "BASETYPE", "AVISIT", "ATPT", "VISITNUM"]
        return [c for c in candidates if c in cols]

    def record_keys(self, name: str, rows: np.ndarray) -> pd.Series:
        """Readable keys ('USUBJID=01-003, LBSEQ=12') of the records at 0-based positions ``rows``."""
        df = self.datasets[name]
        keys = self.key_variables(name)
        rows = np.asarray(rows, dtype=np.int64)
        if not keys or len(rows) == 0:
            return pd.Series([""] * len(rows), dtype="object")
        if not set(keys) <= set(df.columns):  # a rule that read some columns only: the keys are read now
            df = self.datasets.key_columns(name, keys)
        out = None
        for i, var in enumerate(keys):
            piece = f"{', ' if i else ''}{var}=" + as_text(df[var].iloc[rows]).reset_index(drop=True)
            out = piece if out is None else out + piece
        return out.astype("object")
