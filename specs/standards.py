"""SDTMIG 3.4 and ADaMIG 1.3 metadata: dataset and variable attributes from the CDISC Library exports.

The CSVs in ``specs/standards/`` are copies of CDISC Library exports (see its README). They name every
SDTM variable in full per domain (``LBTESTCD``, not ``--TESTCD``); SUPP-- datasets share one entry,
``SUPPQUAL``. ADaMIG names carry placeholders (``TRTxxP``, ``ANLzzFL``, ``CRITy``, ``PxxSw``) and BDS
timing suffixes (``*DT``), which are matched by pattern.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("standards")
SDTMIG_VARIABLES = DATA_DIR / "sdtmig-3.4-variables.csv"
SDTMIG_DATASETS = DATA_DIR / "sdtmig-3.4-datasets.csv"
ADAMIG_VARIABLES = DATA_DIR / "adamig-1.3-variables.csv"

ADAM_STRUCTURES = {
    "ADSL": "Subject-Level Analysis Dataset",
    "BDS": "Basic Data Structure",
}


@dataclass(frozen=True)
class DatasetMeta:
    name: str
    label: str
    class_: str
    structure: str


@dataclass(frozen=True)
class VariableMeta:
    name: str
    label: str
    type: str  # "Char" or "Num"
    core: str  # "Req", "Exp", "Perm" (ADaM also "Cond")
    codelists: tuple[str, ...]  # CDISC CT codelist C-codes
    role: str  # SDTM role; for ADaM, the ADaMIG variable set ("Timing", "Flag", ...)
    order: int  # 1-based position in the domain or data structure
    standard_name: str = ""  # the IG's name when it differs: "ANLzzFL" for ANL01FL, "SUPPQUAL"
    codelist_names: tuple[str, ...] = ()  # codelist submission values, when the IG gives them
    described_value_domain: str = ""  # "ISO 8601 datetime or interval", "MedDRA", ...


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"[;,]", text) if p.strip())


# --------------------------------------------------------------------------------------------- SDTM
@lru_cache(maxsize=None)
def _sdtm_datasets() -> dict[str, DatasetMeta]:
    return {
        r["Dataset Name"]: DatasetMeta(r["Dataset Name"], r["Dataset Label"], r["Class"], r["Structure"])
        for r in _read(SDTMIG_DATASETS)
    }


@lru_cache(maxsize=None)
def _sdtm_variables() -> dict[str, dict[str, VariableMeta]]:
    table: dict[str, dict[str, VariableMeta]] = {}
    for r in _read(SDTMIG_VARIABLES):
        meta = VariableMeta(
            name=r["Variable Name"],
            label=r["Variable Label"],
            type=r["Type"],
            core=r["Core"],
            codelists=_split(r["CDISC CT Codelist Code(s)"]),
            role=r["Role"],
            order=int(r["Variable Order"]),
            codelist_names=_split(r.get("Codelist Submission Values", "")),
            described_value_domain=r.get("Described Value Domain(s)", ""),
        )
        table.setdefault(r["Dataset Name"], {})[meta.name] = meta
    for variables in table.values():  # keep the standard order whatever the file order
        ordered = sorted(variables.values(), key=lambda v: v.order)
        variables.clear()
        variables.update((v.name, v) for v in ordered)
    return table


def _sdtm_key(domain: str) -> str:
    """The IG entry for a dataset name: SUPPAE, SUPPDM ... share SUPPQUAL."""
    domain = domain.strip().upper()
    return "SUPPQUAL" if domain.startswith("SUPP") and domain != "SUPPQUAL" else domain


def sdtmig_dataset(domain: str) -> DatasetMeta | None:
    """Class, label and structure of an SDTMIG 3.4 dataset; SUPPxx gets the SUPPQUAL entry with its
    "[domain name]" filled in ("Supplemental Qualifiers for AE"). None for a domain the IG lacks."""
    name = domain.strip().upper()
    meta = _sdtm_datasets().get(_sdtm_key(name))
    if meta is None or meta.name == name:
        return meta
    return replace(meta, name=name, label=meta.label.replace("[domain name]", name[4:]))


def sdtmig_variables(domain: str) -> list[VariableMeta]:
    """The IG's variables of a domain in standard order (empty for a domain the IG lacks)."""
    return list(_sdtm_variables().get(_sdtm_key(domain), {}).values())


# TSVALn / COVALn hold the 200-character overflow of TSVAL / COVAL (SDTMIG 4.5.3.2)
_OVERFLOW = re.compile(r"^(TSVAL|COVAL)(\d+)$")


def sdtmig_variable(domain: str, name: str) -> VariableMeta | None:
    """A variable's SDTMIG 3.4 attributes, or None when the IG does not define it for that domain."""
    key = _sdtm_key(domain)
    variables = _sdtm_variables().get(key, {})
    name = name.strip().upper()
    if name in variables:
        return variables[name]
    overflow = _OVERFLOW.match(name)
    if overflow and overflow.group(1) in variables:
        base = variables[overflow.group(1)]
        return replace(base, name=name, label=f"{base.label} {overflow.group(2)}", core="Perm",
                       standard_name=base.name)
    return None


@lru_cache(maxsize=None)
def _roles_by_name() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """(role of each variable name used in the IG, role of each --suffix per class) for roles of variables
    a domain takes from the SDTM model (VISITNUM in CM, LBLLOQ in LB): the first the IG gives."""
    by_name: dict[str, str] = {}
    by_suffix: dict[tuple[str, str], str] = {}
    classes = {n: d.class_ for n, d in _sdtm_datasets().items()}
    for domain, variables in _sdtm_variables().items():
        for meta in variables.values():
            if not meta.role:
                continue
            by_name.setdefault(meta.name, meta.role)
            if len(domain) == 2 and meta.name.startswith(domain):
                by_suffix.setdefault((classes.get(domain, ""), meta.name[2:]), meta.role)
    return by_name, by_suffix


def sdtm_model_role(domain: str, name: str) -> str | None:
    """The SDTM role of a variable the IG does not list for the domain but that the model allows: the role
    the IG gives the same name elsewhere (VISITNUM: Timing), else that of the same --suffix in a domain of
    the same class (LBLLOQ as PCLLOQ: Variable Qualifier). None when the IG uses neither."""
    by_name, by_suffix = _roles_by_name()
    name = name.strip().upper()
    if name in by_name:
        return by_name[name]
    meta = sdtmig_dataset(domain)
    if meta is None or len(domain) != 2 or not name.startswith(domain.upper()):
        return None
    return by_suffix.get((meta.class_, name[2:]))


# --------------------------------------------------------------------------------------------- ADaM
# ADaMIG placeholders: xx and zz are two digits (01-99); y and w are 1-99 without zero-padding.
_PLACEHOLDERS = {"xx": r"\d{2}", "zz": r"\d{2}", "y": r"[1-9]\d?", "w": r"[1-9]\d?"}
_TEMPLATE_TOKEN = re.compile(r"xx|zz|y|w|\*|[A-Z0-9]+")


@dataclass(frozen=True)
class _Template:
    pattern: re.Pattern
    meta: VariableMeta
    starred: bool  # "*DT": any prefix; the weakest kind of match
    literal_length: int  # the longer the fixed part, the more specific the template


def _template(meta: VariableMeta) -> _Template | None:
    tokens = _TEMPLATE_TOKEN.findall(meta.name)
    if "".join(tokens) != meta.name or all(t.isupper() or t.isdigit() for t in tokens):
        return None  # a plain name, matched exactly
    parts, seen = [], set()
    for token in tokens:
        if token == "*":
            parts.append(r"(?P<star>[A-Z][A-Z0-9]*?)")
        elif token in _PLACEHOLDERS:
            # a placeholder used twice must take the same value both times
            parts.append(f"(?P={token})" if token in seen else f"(?P<{token}>{_PLACEHOLDERS[token]})")
            seen.add(token)
        else:
            parts.append(re.escape(token))
    literal = sum(len(t) for t in tokens if t.isupper() or t.isdigit())
    return _Template(re.compile("^" + "".join(parts) + "$"), meta, "*" in tokens, literal)


@lru_cache(maxsize=None)
def _adam_variables() -> dict[str, tuple[dict[str, VariableMeta], list[_Template]]]:
    rows: dict[str, list[dict[str, str]]] = {}
    for r in _read(ADAMIG_VARIABLES):
        rows.setdefault(r["Data Structure Name"], []).append(r)
    table = {}
    for structure, records in rows.items():
        exact: dict[str, VariableMeta] = {}
        templates: list[_Template] = []
        for order, r in enumerate(records, start=1):
            meta = VariableMeta(
                name=r["Variable Name"],
                label=r["Variable Label"],
                type=r["Type"],
                core=r["Core"],
                codelists=_split(r["CDISC CT Codelist Code(s)"]),
                role=r["Variable Set"],
                order=order,
                codelist_names=_split(r.get("CDISC CT Codelist Submission Value(s)", "")),
                described_value_domain=r.get("Described Value Domain(s)", ""),
            )
            template = _template(meta)
            if template is None:
                exact[meta.name] = meta
            else:
                templates.append(template)
        # non-starred before starred, then the most specific first; stable keeps the IG's order
        templates.sort(key=lambda t: (t.starred, -t.literal_length))
        table[structure] = (exact, templates)
    return table


def _adam_structure(structure: str) -> str:
    table = _adam_variables()
    wanted = structure.strip()
    full = ADAM_STRUCTURES.get(wanted.upper(), wanted)
    for known in table:
        if known.lower() == full.lower():
            return known
    choices = ", ".join(list(ADAM_STRUCTURES) + list(table))
    raise LookupError(f"'{structure}' is not an ADaMIG 1.3 data structure in the variable metadata ({choices})")


def _fill_label(label: str, values: dict[str, str]) -> str:
    return re.sub(r"\b(xx|zz|y|w)\b", lambda m: values.get(m.group(1)) or m.group(0), label)


def adamig_variables(structure: str) -> list[VariableMeta]:
    """The ADaMIG 1.3 variables of a structure in the IG's order, placeholders unresolved."""
    exact, templates = _adam_variables()[_adam_structure(structure)]
    return sorted([*exact.values(), *(t.meta for t in templates)], key=lambda v: v.order)


def adamig_variable(structure: str, name: str) -> VariableMeta | None:
    """A variable's ADaMIG 1.3 attributes in ``structure`` ("ADSL", "BDS" or the IG's "Data Structure
    Name"); ``ANL01FL`` finds ``ANLzzFL``, ``TRT01P`` finds ``TRTxxP``, ``LBDTF`` finds ``*DTF``.
    The result carries the requested name, the IG's name in ``standard_name`` and a label with the
    placeholders filled in. None when the IG does not define the variable."""
    exact, templates = _adam_variables()[_adam_structure(structure)]
    name = name.strip().upper()
    if name in exact:
        return exact[name]
    for template in templates:
        found = template.pattern.match(name)
        if found:
            values = {k: v for k, v in found.groupdict().items() if k != "star" and v}
            meta = template.meta
            return replace(meta, name=name, label=_fill_label(meta.label, values), standard_name=meta.name)
    return None
