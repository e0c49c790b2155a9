"""Controlled terminology indexed by codelist C-code, from full NCI EVS packages or the bundled subset.

Rules need 'which values does codelist C66731 allow, and is it extensible'. Sources: the NCI EVS files
given on the command line (``--ct`` once per package: SDTM .txt, ADaM and Define-XML .csv; each is a full
package), else ``specs.ct.load_ct()`` (the subset shipped with the toolkit). A subset is never complete:
a codelist it does not carry is "not checked", never "not a codelist" (``Terminology.complete``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from specs.errors import DataError, Problem

CT_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
PUBLISHING_SETS = (("ADAM", "ADaM"), ("DEFINE", "Define-XML"), ("SEND", "SEND"), ("SDTM", "SDTM"))


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
    complete: bool = True  # False for a subset: a codelist it lacks may still be a CDISC codelist
    versions: dict = field(default_factory=dict)  # publishing set ("SDTM", "ADaM") -> package date

    def get(self, code: str | None) -> CodelistTerms | None:
        return self.by_code.get(code) if code else None

    def __len__(self) -> int:
        return len(self.by_code)

    def merge(self, other: "Terminology") -> "Terminology":
        merged = Terminology(dict(self.by_code), ", ".join(s for s in (self.source, other.source) if s),
                             self.complete and other.complete, {**self.versions, **other.versions})
        merged.by_code.update(other.by_code)
        return merged


def publishing_set(path: Path, heads: pd.DataFrame | None = None) -> str:
    """'SDTM', 'ADaM', 'Define-XML' or 'SEND' from the NCI file name (SDTM_Terminology_..., ADaM_CT_...)."""
    upper = path.name.upper()
    for token, name in PUBLISHING_SETS:
        if upper.startswith(token):
            return name
    return "SDTM"


def read_nci_file(path: str | Path) -> Terminology:
    """An NCI EVS CDISC terminology export (SDTM .txt tab-delimited, ADaM/Define .csv): one full package."""
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
    date = CT_DATE.search(path.name)
    ct = Terminology(source=str(path), versions={publishing_set(path): date.group(1)} if date else {})
    for code, short, name, ext in zip(heads["Code"], heads["CDISC Submission Value"], heads["Codelist Name"],
                                      heads["Codelist Extensible (Yes/No)"]):
        ct.by_code[code] = CodelistTerms(code, short, name, ext == "Yes", grouped.get(code, {}))
    return ct


def from_specs_ct(ct_object) -> Terminology | None:
    """Adapt a ``specs.ct.load_ct()`` object (the bundled subset) when it can list its codelists."""
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
    dates = getattr(ct_object, "package_dates", None) or getattr(ct_object, "_package_dates", None) or {}
    versions = {}
    for package, date in dict(dates).items():
        for token, name in PUBLISHING_SETS:
            if str(package).upper().startswith(token):
                versions[name] = date
    ct = Terminology(source="bundled CT subset (specs/ct)", complete=False, versions=versions)
    for cl in listing:
        if isinstance(cl, str):
            cl = ct_object.codelist(cl)
        terms = {value: getattr(term, "code", None) for value, term in getattr(cl, "terms", {}).items()}
        ct.by_code[cl.code] = CodelistTerms(cl.code, cl.short, getattr(cl, "name", cl.short), bool(cl.extensible), terms)
    return ct


def load_terminology(paths=None) -> Terminology | None:
    """CT from the NCI files ``paths`` (one path or several), else the bundled subset; None when there is none."""
    if paths:
        files = [paths] if isinstance(paths, (str, Path)) else list(paths)
        merged = None
        for file in files:
            ct = read_nci_file(file)
            merged = ct if merged is None else merged.merge(ct)
        return merged
    try:
        from specs.ct import load_ct

        adapted = from_specs_ct(load_ct())
        if adapted is not None and len(adapted):
            return adapted
    except Exception:  # noqa: BLE001 - no bundled subset means: no CT
        pass
    return None
