"""A domain variable as every layer sees it: the spec's words, completed from SDTMIG 3.4 metadata.

Label, type and core default to the SDTMIG values, so a spec states only what the study decides;
whatever the spec states wins. The same object feeds the mapping, the XPT attributes, the Define-XML
and the checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from specs.vocabulary import ALGORITHMS, BUILDS


@dataclass(frozen=True)
class Origin:
    type: str
    source: str | None = None
    pages: str | None = None
    predecessor: str | None = None


@dataclass(frozen=True)
class VariableSpec:
    domain: str
    name: str
    label: str
    type: str  # "Char" or "Num"
    length: int | None  # None: the longest value written
    core: str | None
    codelist: str | None
    origin: Origin
    method: str | None
    comment: str | None
    role: str | None
    supp: dict | None
    map: dict | None
    order: int
    significant_digits: int | None = None
    keep: bool = False  # a Permissible variable kept even when no record has a value

    @property
    def algorithm(self) -> str | None:
        return self.map["algorithm"] if self.map else None


def _standard(domain: str, name: str):
    try:
        from specs.standards import sdtmig_variable
    except ImportError:  # pragma: no cover - standards metadata ships with the package
        return None
    lookup = "SUPPQUAL" if domain.startswith("SUPP") else domain
    try:
        return sdtmig_variable(lookup, name)
    except Exception:
        return None


def _model_role(domain: str, name: str) -> str | None:
    try:
        from specs.standards import sdtm_model_role
    except ImportError:  # pragma: no cover - standards metadata ships with the package
        return None
    return sdtm_model_role(domain, name)


COPYING = {"assign_no_ct", "assign_ct", "assign_numeric"}


def default_origin(variable: dict, build: str | None, from_domain: str | None = None) -> Origin:
    mapping = variable.get("map") or {}
    algorithm = mapping.get("algorithm")
    if from_domain and algorithm in COPYING and isinstance(mapping.get("source"), str):
        # EX from EC: a value copied from the earlier domain's variable
        return Origin("Predecessor", predecessor=f"{from_domain}.{mapping['source']}")
    if algorithm in ALGORITHMS:
        kind = ALGORITHMS[algorithm].origin
    elif build in BUILDS:
        kind = "Protocol" if build != "derive_se" else "Derived"
    else:
        kind = "Derived"
    return Origin(kind)


def make_origin(raw, variable: dict, build: str | None, from_domain: str | None = None) -> Origin:
    if raw is None:
        return default_origin(variable, build, from_domain)
    if isinstance(raw, str):
        return Origin(raw)
    return Origin(raw["type"], raw.get("source"), raw.get("pages"), raw.get("predecessor"))


def domain_variables(domain: str, domain_spec: dict) -> list[VariableSpec]:
    """The domain's variables in spec order, completed from SDTMIG metadata."""
    out = []
    for order, variable in enumerate(domain_spec["variables"], start=1):
        name = variable["name"]
        standard = _standard(domain, name)
        label = variable.get("label") or (standard.label if standard else None)
        vtype = variable.get("type") or (standard.type if standard else None)
        core = variable.get("core") or (standard.core if standard else None)
        role = variable.get("role") or (getattr(standard, "role", None) if standard else None) or \
            _model_role(domain, name)
        length = variable.get("length")
        out.append(
            VariableSpec(
                domain=domain,
                name=name,
                label=label or "",
                type=vtype or "Char",
                length=None if length in (None, "auto") else int(length),
                core=core,
                codelist=variable.get("codelist"),
                origin=make_origin(variable.get("origin"), variable, domain_spec.get("build"),
                                   domain_spec.get("from_domain")),
                method=variable.get("method"),
                comment=variable.get("comment"),
                role=role,
                supp=variable.get("supp"),
                map=variable.get("map"),
                order=order,
                significant_digits=variable.get("significant_digits"),
                keep=bool(variable.get("keep", False)),
            )
        )
    return out


@dataclass
class DomainSpec:
    name: str
    label: str
    cls: str | None
    structure: str | None
    keys: list[str]
    sort: list[str]
    variables: list[VariableSpec] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @property
    def parent_variables(self) -> list[VariableSpec]:
        """Variables that stay in the domain (the others go to SUPP--)."""
        return [v for v in self.variables if not v.supp]

    @property
    def supp_variables(self) -> list[VariableSpec]:
        return [v for v in self.variables if v.supp]


def domain_spec(name: str, raw: dict) -> DomainSpec:
    variables = domain_variables(name, raw)
    return DomainSpec(
        name=name,
        label=raw["label"],
        cls=raw.get("class"),
        structure=raw.get("structure"),
        keys=list(raw.get("keys", [])),
        sort=list(raw.get("sort", raw.get("keys", []))),
        variables=variables,
        raw=raw,
    )
