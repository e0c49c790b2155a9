"""Controlled terminology indexed by codelist C-code, from a CT file or from ``specs.ct``.

Rules need 'which values does codelist C66731 allow, and is it extensible'. Sources, first found wins:
an NCI EVS file given on the command line (tab-delimited .txt or .csv), ``specs.ct.load_ct()``, or the
CT files shipped beside the standards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from specs.errors import DataError, Problem


@dataclass(frozen=True)
class CodelistTerms:
    code: str
    short: str
    name: str
    extensible: bool
    terms: dict = field(default_factory=dict)  # submission value -> term C-code

    @property
    def values(self) -> frozenset:
        return frozenset(self.terms)


@dataclass
class Terminology:
    by_code: dict[str, CodelistTerms] = field(default_factory=dict)
    source: str = ""

    def get(self, code: str | None) -> CodelistTerms | None:
        return self.by_code.get(code) if code else None

    def __len__(self) -> int:
        return len(self.by_code)


def read_nci_file(path: str | Path) -> Terminology:
    """An NCI EVS CDISC terminology export (SDTM .txt tab-delimited, ADaM/Define .csv)."""
    path = Path(path)
    try:
        sep = "\t" if path.suffix.lower() == ".txt" else ","
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError([Problem(str(path), f"not a readable CT file: {exc}")]) from None
    needed = {"Code", "Codelist Code", "Codelist Extensible (Yes/No)", "Codelist Name", "CDISC Submission Value"}
    if not needed <= set(raw.columns):
        raise DataError([Problem(str(path), f"not an NCI EVS CT export: columns {sorted(needed - set(raw.columns))} missing")])
    heads = raw[raw["Codelist Code"] == ""]
    terms = raw[raw["Codelist Code"] != ""]
    grouped = {code: dict(zip(g["CDISC Submission Value"], g["Code"])) for code, g in terms.groupby("Codelist Code")}
    ct = Terminology(source=str(path))
    for code, short, name, ext in zip(heads["Code"], heads["CDISC Submission Value"], heads["Codelist Name"],
                                      heads["Codelist Extensible (Yes/No)"]):
        ct.by_code[code] = CodelistTerms(code, short, name, ext == "Yes", grouped.get(code, {}))
    return ct


def from_specs_ct(ct_object) -> Terminology | None:
    """Adapt a ``specs.ct.load_ct()`` object when it can list its codelists."""
    listing = getattr(ct_object, "codelists", None)
    if callable(listing):
        listing = listing()
    if isinstance(listing, dict):
        listing = list(listing.values())
    if listing is None:
        try:
            listing = list(iter(ct_object))
        except TypeError:
            return None
    ct = Terminology(source="specs.ct")
    for cl in listing:
        if isinstance(cl, str):
            cl = ct_object.codelist(cl)
        terms = {value: getattr(term, "code", None) for value, term in getattr(cl, "terms", {}).items()}
        ct.by_code[cl.code] = CodelistTerms(cl.code, cl.short, getattr(cl, "name", cl.short), bool(cl.extensible), terms)
    return ct


def _shipped_files() -> list[Path]:
    folders = []
    try:
        import specs

        folders.append(Path(specs.__file__).parent / "ct")
    except ImportError:  # pragma: no cover
        pass
    for folder in folders:
        files = sorted(folder.glob("SDTM_Terminology_*.txt")) + sorted(folder.glob("ADaM_CT_*.csv"))
        if files:
            return files
    return []


def load_terminology(path: str | Path | None = None) -> Terminology | None:
    """CT from ``path``, else ``specs.ct``, else the shipped CT files; None when there is none."""
    if path is not None:
        return read_nci_file(path)
    try:
        from specs.ct import load_ct  # written alongside this package; optional until it lands

        adapted = from_specs_ct(load_ct())
        if adapted is not None and len(adapted):
            return adapted
    except Exception:  # noqa: BLE001 - any failure there just means: use the files
        pass
    files = _shipped_files()
    if not files:
        return None
    merged = Terminology(source=", ".join(f.name for f in files))
    for file in files:
        merged.by_code.update(read_nci_file(file).by_code)
    return merged
