"""The neutral metadata model behind define.xml, Dataset-JSON and the package.

Two layers:

- *inputs* (``VariableInput``, ``DatasetInput``, ``ValueLevelRule``, ``StudyInput``): what a spec says,
  in words any standard can fill. ``define.adapters.from_sdtm`` and ``from_adam`` translate the SDTM and
  ADaM specs into them; ``define.build.build_define`` adds what only the data can tell.
- the *model* (``DefineModel`` and its parts): one object per Define-XML element (ItemGroupDef, ItemDef,
  CodeList, def:ValueListDef, def:WhereClauseDef, MethodDef, def:CommentDef, def:leaf), with every
  attribute already decided, so the XML writer only writes and the package only reads.

OIDs follow the CDISC examples: IG.<dataset>, IT.<dataset>.<variable>[.<value>], CL.<codelist>,
VL.<dataset>.<variable>, WC.<dataset>.<variable>.<value>, MT.<dataset>.<variable>, COM.<...>, LF.<...>.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from dataclasses import dataclass, field

import pandas as pd

# --- inputs: what the spec says ---------------------------------------------------------------------


@dataclass(frozen=True)
class OriginDef:
    type: str  # Collected, Derived, Assigned, Protocol, Predecessor, Not Available
    source: str | None = None  # Subject, Investigator, Vendor, Sponsor
    pages: str | None = None  # aCRF physical pages, "12 13"
    description: str | None = None  # e.g. the predecessor "DM.AGE"


@dataclass(frozen=True)
class VariableInput:
    name: str
    label: str
    sas_type: str  # "Char" or "Num"
    origin: OriginDef
    length: int | None = None  # declared Char length; None = the longest value written
    display_format: str | None = None  # "DATE9." for ADaM dates
    significant_digits: int | None = None  # declared; None = from the data
    codelist: str | None = None  # short name of a CT codelist, or an external dictionary (MedDRA)
    allowed_values: tuple[str, ...] = ()  # a sponsor list when there is no CT codelist
    method: str | None = None  # method text (Derived)
    comment: str | None = None
    role: str | None = None  # SDTM role
    mandatory: bool = False
    terms_from_data: bool = False  # a sponsor codelist of the values found in the data
    decode_from: str | None = None  # with terms_from_data: the variable whose values decode each term
    expected: bool = False  # SDTM core Exp: a variable with no value gets a comment saying so


@dataclass(frozen=True)
class ValueLevelRule:
    """Value-level metadata on ``target``: one entry per value of ``by`` found in the data.

    ``label_from`` names the variable whose value labels the entry (LBTEST for LBTESTCD, PARAM for
    PARAMCD); ``per_value`` overrides the entry of a value (SUPP-- QVAL per QNAM).
    """

    target: str
    by: str
    label_from: str | None = None
    per_value: dict = field(default_factory=dict)  # value (or DEFAULT_VALUE) -> VariableInput


DEFAULT_VALUE = "default"  # the per_value entry of every value without its own


@dataclass
class DatasetInput:
    name: str
    label: str
    purpose: str  # Tabulation / Analysis
    cls: str | None
    structure: str
    keys: list[str]
    variables: list[VariableInput]
    domain: str | None = None  # SDTM: the domain (the parent domain for SUPP--)
    comment: str | None = None
    build_method: str | None = None  # method text for Derived variables with no method of their own
    value_levels: list[ValueLevelRule] = field(default_factory=list)
    is_nonstandard: bool = False


@dataclass
class StudyInput:
    studyid: str
    name: str
    description: str
    protocol: str
    standard: tuple[str, str]  # ("SDTMIG", "3.4") or ("ADaMIG", "1.3")
    ct_versions: dict[str, str]  # publishing set -> date: {"SDTM": "2025-03-28", "ADaM": ...}
    dictionaries: dict[str, str] = field(default_factory=dict)  # {"MedDRA": "27.0"}
    define_version: str = "2.1.0"
    acrf: "Path | bytes | None" = None  # the annotated CRF (PDF file or its bytes) beside define.xml; None: no pages
    mandatory_from_data: bool = False  # ItemRef Mandatory = Yes only where the data hold no null (ADaM)


# --- the model: one object per Define-XML element ----------------------------------------------------


@dataclass
class Standard:
    oid: str
    name: str  # SDTMIG, ADaMIG, CDISC/NCI
    type: str  # IG or CT
    version: str
    publishing_set: str | None = None  # SDTM, ADaM (CT only)
    status: str = "Final"


@dataclass
class ItemDef:
    oid: str
    name: str
    label: str
    data_type: str
    sas_type: str  # Char / Num: what the XPT stores
    xpt_length: int | None = None  # Char bytes in the XPT (None for Num: always 8)
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    codelist_oid: str | None = None
    origin: OriginDef | None = None
    comment_oid: str | None = None
    value_list_oid: str | None = None


@dataclass
class ItemRef:
    item_oid: str
    order: int
    mandatory: bool
    key_sequence: int | None = None
    method_oid: str | None = None
    role: str | None = None
    where_clause_oid: str | None = None  # value-level entries only


@dataclass
class Leaf:
    id: str
    href: str
    title: str


@dataclass
class ItemGroupDef:
    oid: str
    name: str
    label: str
    purpose: str
    structure: str
    cls: str | None
    repeating: bool
    reference_data: bool
    items: list[ItemRef]
    leaf: Leaf
    domain: str | None = None
    standard_oid: str | None = None
    comment_oid: str | None = None
    has_no_data: bool = False
    is_nonstandard: bool = False
    keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RangeCheck:
    item_oid: str
    comparator: str  # EQ, NE, IN, NOTIN, ...
    values: tuple[str, ...]


@dataclass
class WhereClauseDef:
    oid: str
    checks: list[RangeCheck]
    dataset: str = ""  # where it applies (for the record-selection check)
    conditions: tuple = ()  # ((variable, comparator, values), ...) in data terms


@dataclass
class ValueListDef:
    oid: str
    items: list[ItemRef]


@dataclass
class CodeListItem:
    value: str
    code: str | None = None  # NCI C-code (None for sponsor terms)
    decode: str | None = None
    extended: bool = False  # a sponsor term added to an extensible CDISC codelist


@dataclass
class CodeList:
    oid: str
    name: str
    data_type: str  # text, integer, float
    items: list[CodeListItem] = field(default_factory=list)
    code: str | None = None  # the CDISC codelist C-code
    external: tuple[str, str] | None = None  # (dictionary, version), e.g. ("MedDRA", "27.0")
    standard_oid: str | None = None

    @property
    def decoded(self) -> bool:
        """CodeListItem with Decode when any term's decode differs from its value; EnumeratedItem otherwise."""
        return any(i.decode is not None and i.decode != i.value for i in self.items)


@dataclass
class MethodDef:
    oid: str
    name: str
    description: str
    type: str = "Computation"


@dataclass
class CommentDef:
    oid: str
    description: str


@dataclass
class DefineModel:
    study: StudyInput
    purpose: str  # Tabulation (SDTM) / Analysis (ADaM)
    standards: list[Standard]
    groups: list[ItemGroupDef]
    items: dict[str, ItemDef]  # by OID, dataset variables first, then value-level items
    value_lists: list[ValueListDef] = field(default_factory=list)
    where_clauses: list[WhereClauseDef] = field(default_factory=list)
    codelists: list[CodeList] = field(default_factory=list)
    methods: list[MethodDef] = field(default_factory=list)
    comments: list[CommentDef] = field(default_factory=list)
    documents: list[Leaf] = field(default_factory=list)  # aCRF, reviewer's guide
    # the datasets described: a dict, or a read-only Mapping that loads a dataset on each access (read
    # them one at a time; what needs their values once is worked out in define.build's single pass)
    data: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    summaries: dict = field(default_factory=dict, repr=False)  # dataset -> define.guides.DatasetSummary
    analysis_results: list = field(default_factory=list)  # define.arm.ResultDisplay (ARM 1.0), ADaM only
    result_documents: list[Leaf] = field(default_factory=list)  # SAP, CSR... the analysis results refer to

    @property
    def mdv_oid(self) -> str:
        ig, version = self.study.standard
        return f"MDV.{self.study.studyid}.{ig}.{version}"

    def group(self, name: str) -> ItemGroupDef:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def variables(self, name: str) -> list[ItemDef]:
        """The ItemDefs of dataset ``name`` in column order."""
        return [self.items[ref.item_oid] for ref in sorted(self.group(name).items, key=lambda r: r.order)]

    def xpt_variables(self, name: str) -> list:
        """``define.xpt.XptVariable`` list of a dataset: names, labels, types, lengths, formats as in define.xml."""
        from define.xpt import XptVariable

        return [XptVariable(i.name, i.label, i.sas_type, i.xpt_length if i.sas_type == "Char" else None,
                            i.display_format) for i in self.variables(name)]


def from_sdtm(spec, result, ct=None) -> DefineModel:
    """The define model of an SDTM build (see ``define.adapters.from_sdtm``)."""
    from define.adapters import from_sdtm as adapt

    return adapt(spec, result, ct)


def from_adam(adam_spec, datasets, study: dict, ct=None) -> DefineModel:
    """The define model of an ADaM build (see ``define.adapters.from_adam``)."""
    from define.adapters import from_adam as adapt

    return adapt(adam_spec, datasets, study, ct)
