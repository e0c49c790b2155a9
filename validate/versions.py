"""Which standard versions a package is checked against: SDTMIG, ADaMIG and controlled terminology.

Sources, first found wins: the command line (``--ig 3.2``, ``--ig "ADaMIG 1.1"``), define.xml (2.1
def:Standards, 2.0/1.0 def:StandardName/def:StandardVersion), TS (SDTIGVER; CDISC CT versions in
TSVCDVER). A package that declares nothing is checked against the version whose metadata is shipped,
and the report says it was assumed. A declared version whose metadata is not shipped is never replaced
by another: the rules that need that metadata report "not checked".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from specs.errors import DataError, Problem

from validate.standards import DEFAULT_VERSIONS, available_versions

VERSION = re.compile(r"(\d+(?:\.\d+)+)")
CT_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
STANDARD_ALIASES = {"sdtmig": ("SDTMIG", "SDTM-IG", "SDTM IG", "CDISC SDTM", "SDTM"),
                    "adamig": ("ADAMIG", "ADAM-IG", "ADAM IG", "CDISC ADAM", "ADAM")}


@dataclass
class Versions:
    sdtmig: str | None = None
    adamig: str | None = None
    ct: dict = field(default_factory=dict)  # publishing set ("SDTM", "ADaM", "Define-XML") -> declared date
    ct_checked: dict = field(default_factory=dict)  # publishing set -> date of the CT file used
    define: str | None = None  # Define-XML version of define.xml
    sources: dict = field(default_factory=dict)  # "SDTMIG" -> where the version came from
    notes: list = field(default_factory=list)

    @property
    def metadata(self) -> dict:
        """need -> whether the IG variable metadata of the version is available."""
        return {"sdtmig": self.sdtmig in available_versions("sdtmig"),
                "adamig": self.adamig in available_versions("adamig")}

    @staticmethod
    def supported(need: str) -> list[str]:
        return available_versions(need)

    def ct_mismatch(self, publishing_set: str = "SDTM") -> str | None:
        """'the package declares SDTM CT 2014-09-26, checked against 2025-03-28', or None when they agree
        or either is unknown."""
        declared, used = self.ct.get(publishing_set), self.ct_checked.get(publishing_set)
        if declared and used and declared != used:
            return f"the package declares {publishing_set} CT {declared}, checked against {used}"
        return None

    def describe(self) -> dict:
        out = {}
        for name in ("SDTMIG", "ADaMIG"):
            version = getattr(self, name.lower())
            if version:
                available = self.metadata[name.lower()]
                out[name] = f"{version} ({self.sources.get(name, '')}" + ("" if available else
                                                                         "; no metadata shipped: IG rules not checked") + ")"
        for ps, date in sorted(self.ct.items()):
            out[f"{ps} CT declared"] = date
        for ps, date in sorted(self.ct_checked.items()):
            out[f"{ps} CT used"] = date
        if self.define:
            out["Define-XML"] = self.define
        return out


def normalize(version: str | None) -> str | None:
    """'v3.2', 'SDTMIG 3.2', '3.2.0'? -> '3.2' (trailing '.0' of a 3-part version kept as written)."""
    if not version:
        return None
    match = VERSION.search(str(version))
    return match.group(1) if match else None


def _which(name: str) -> str | None:
    upper = name.strip().upper()
    for need, aliases in STANDARD_ALIASES.items():
        if any(upper == a or upper.startswith(a + " ") or upper.startswith(a + "-") and a != "SDTM" for a in aliases):
            return need
    return None


def parse_ig_flag(text: str) -> tuple[str, str]:
    """'3.2' -> ('sdtmig', '3.2'); 'ADaMIG 1.1' / 'adamig=1.1' -> ('adamig', '1.1')."""
    version = normalize(text)
    if version is None:
        raise DataError([Problem("--ig", f"{text!r} names no version (examples: 3.2, 'SDTMIG 3.3', 'ADaMIG 1.1')")])
    name = re.split(r"[\s=:]+", text.strip())[0] if not text.strip()[:1].isdigit() else ""
    need = _which(name) if name else ("adamig" if version.startswith("1.") else "sdtmig")
    if need is None:
        raise DataError([Problem("--ig", f"{text!r}: unknown standard {name!r} (SDTMIG or ADaMIG)")])
    return need, version


def _from_define(package) -> dict:
    define = package.define
    found = {}
    # several IG standards (a define mixing SDTMIG 3.1.2 and 3.2 datasets): the one most datasets follow
    used = {}
    for group in getattr(define, "groups", {}).values():
        if group.standard_oid:
            used[group.standard_oid] = used.get(group.standard_oid, 0) + 1
    standards = sorted(getattr(define, "standards", []) or [], key=lambda s: -used.get(s.get("oid"), 0))
    for std in standards:
        kind = (std.get("type") or "").upper()
        if kind == "CT":
            date = CT_DATE.search(std.get("version") or "")
            if date:
                found.setdefault(("ct", std.get("publishing_set") or "SDTM"), date.group(1))
            continue
        need = _which(std.get("name") or "")
        version = normalize(std.get("version"))
        if need and version:
            found.setdefault(need, version)
    return found


def _from_ts(package) -> dict:
    ts = package.datasets.get("TS")
    found = {}
    if ts is None or not {"TSPARMCD", "TSVAL"} <= set(ts.columns):
        return found
    igver = ts.loc[ts["TSPARMCD"] == "SDTIGVER", "TSVAL"].dropna()
    if len(igver) and normalize(igver.iloc[0]):
        found["sdtmig"] = normalize(igver.iloc[0])
    if {"TSVCDREF", "TSVCDVER"} <= set(ts.columns):
        refs = ts[["TSVCDREF", "TSVCDVER"]].dropna().drop_duplicates()
        for ref, ver in zip(refs["TSVCDREF"], refs["TSVCDVER"]):
            date = CT_DATE.search(str(ver))
            if str(ref).upper().startswith("CDISC") and date:
                found.setdefault(("ct", "SDTM"), date.group(1))
    return found


def detect_versions(package, terminology=None, flags: list[str] | None = None) -> Versions:
    """The versions ``package`` is checked against, with where each came from."""
    versions = Versions()
    define = getattr(package, "define", None)
    versions.define = getattr(define, "version", None)
    declared_flags = dict(parse_ig_flag(f) for f in flags or [])
    from_define, from_ts = _from_define(package) if define is not None else {}, _from_ts(package)
    for need, label in (("sdtmig", "SDTMIG"), ("adamig", "ADaMIG")):
        if not (package.sdtm() if need == "sdtmig" else package.adam()) and need not in declared_flags:
            continue  # no dataset of that standard: no version to state
        if need in declared_flags:
            versions.sources[label] = "--ig"
            value = declared_flags[need]
            for other, where in ((from_define, "define.xml"), (from_ts, "TS SDTIGVER")):
                if other.get(need) and other[need] != value:
                    versions.notes.append(f"{label} {value} given with --ig; {where} declares {other[need]}")
        elif need in from_define:
            value = from_define[need]
            versions.sources[label] = "define.xml"
            if from_ts.get(need) and from_ts[need] != value:
                versions.notes.append(f"define.xml declares {label} {value} but TS SDTIGVER says {from_ts[need]}")
        elif need in from_ts:
            value, versions.sources[label] = from_ts[need], "TS SDTIGVER"
        else:
            value, versions.sources[label] = DEFAULT_VERSIONS[need], "assumed: the package does not declare it"
        setattr(versions, need, value)
    for source in (from_define, from_ts):
        for key, date in source.items():
            if isinstance(key, tuple):
                versions.ct.setdefault(key[1], date)
    if terminology is not None:
        versions.ct_checked.update(getattr(terminology, "versions", {}) or {})
    for publishing_set in sorted(versions.ct):
        mismatch = versions.ct_mismatch(publishing_set)
        if mismatch:
            versions.notes.append(mismatch + ": terms outside a non-extensible codelist are Warnings, not Errors")
    for need, label in (("sdtmig", "SDTMIG"), ("adamig", "ADaMIG")):
        has_data = package.sdtm() if need == "sdtmig" else package.adam()
        if has_data and not versions.metadata[need]:
            versions.notes.append(f"{label} {getattr(versions, need)}: no variable metadata shipped (available: "
                                  f"{', '.join(available_versions(need)) or 'none'}); rules that need it are not checked")
    return versions
