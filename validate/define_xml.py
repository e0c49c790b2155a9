"""Read Define-XML 1.0, 2.0 and 2.1 completely: standards and versions, datasets (class, structure, keys,
labels), variables (labels, types, lengths, roles, origins, methods, comments, codelists), value-level
metadata with its where clauses, methods, comments and codelists.

Parsed with lxml without entity expansion, DTD loading or network access, so a hostile define.xml
cannot read local files or call out. Element and attribute names are matched by local name, so the
1.0, 2.0 and 2.1 ``def:`` namespaces all work. A file that is not XML, or not ODM, is refused; anything
inside it that cannot be read (a reference to nothing, a bad number, an element this reader does not
know) is kept in ``DefineMeta.issues`` and reported as a finding, never skipped silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from specs.errors import DataError, Problem

NCI_CONTEXT = "nci:ExtCodeID"
# MetaDataVersion children this reader reads, or knows to carry nothing the checks use
READ = {"ItemGroupDef", "ItemDef", "CodeList", "MethodDef", "ComputationMethod", "CommentDef", "ValueListDef",
        "WhereClauseDef", "Standards"}
KNOWN = READ | {"leaf", "AnnotatedCRF", "SupplementalDoc", "AnalysisResultDisplays", "Include", "Protocol",
                "StudyEventDef", "FormDef", "ConditionDef", "Presentation", "ImputationMethod", "Description"}


@dataclass
class Issue:
    """Something in define.xml that could not be read: where, what, and how serious."""

    where: str
    message: str
    severity: str = "Error"


@dataclass
class ItemRefDef:
    """One variable of one dataset (or one value-level item) as an ItemRef declares it."""

    name: str
    item_oid: str
    order: int | None
    mandatory: bool
    key_sequence: int | None
    role: str | None = None
    method_oid: str | None = None
    where_clause_oids: list[str] = field(default_factory=list)  # value-level only


@dataclass
class ItemDef:
    oid: str
    name: str
    data_type: str
    length: int | None
    significant_digits: int | None
    label: str
    codelist_oid: str | None
    display_format: str | None
    origin: str | None = None  # CRF, Derived, Assigned, Protocol, Predecessor, Collected...
    origin_detail: str | None = None  # source / predecessor text / pages
    comment_oid: str | None = None
    value_list_oid: str | None = None
    method_oid: str | None = None  # Define-XML 1.0 ComputationMethodOID


@dataclass
class CodeListDef:
    oid: str
    name: str
    data_type: str
    code: str | None  # the CDISC codelist C-code (Alias nci:ExtCodeID), None for sponsor lists
    terms: dict[str, str | None] = field(default_factory=dict)  # coded value -> term C-code
    extended_values: set[str] = field(default_factory=set)  # terms flagged def:ExtendedValue="Yes"
    external: str | None = None  # ExternalCodeList dictionary (MedDRA...), terms then unknown
    external_version: str | None = None

    @property
    def extensible_hint(self) -> bool | None:
        """True when the list itself shows sponsor extensions; None when the XML cannot tell."""
        return True if self.extended_values else None


@dataclass
class ItemGroupDef:
    oid: str
    name: str
    label: str
    purpose: str
    has_no_data: bool
    items: list[ItemRefDef] = field(default_factory=list)
    domain: str | None = None
    dataset_class: str | None = None
    structure: str | None = None
    standard_oid: str | None = None
    comment_oid: str | None = None

    @property
    def keys(self) -> list[str]:
        keyed = sorted((i for i in self.items if i.key_sequence), key=lambda i: i.key_sequence)
        return [i.name for i in keyed]


@dataclass
class MethodDef:
    oid: str
    name: str
    type: str
    description: str


@dataclass
class RangeCheck:
    item_oid: str
    comparator: str
    values: list[str]


@dataclass
class DefineMeta:
    path: Path
    groups: dict[str, ItemGroupDef] = field(default_factory=dict)  # by dataset name
    items: dict[str, ItemDef] = field(default_factory=dict)  # by OID
    codelists: dict[str, CodeListDef] = field(default_factory=dict)  # by OID
    version: str | None = None  # Define-XML version: "1.0", "2.0", "2.1"
    standards: list[dict] = field(default_factory=list)  # name, version, type, publishing_set, oid
    methods: dict[str, MethodDef] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    value_lists: dict[str, list[ItemRefDef]] = field(default_factory=dict)
    where_clauses: dict[str, list[RangeCheck]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def item(self, dataset: str, variable: str) -> ItemDef | None:
        group = self.groups.get(dataset)
        if group is None:
            return None
        for ref in group.items:
            if ref.name == variable:
                return self.items.get(ref.item_oid)
        return None

    def codelist(self, dataset: str, variable: str) -> CodeListDef | None:
        item = self.item(dataset, variable)
        if item is None or not item.codelist_oid:
            return None
        return self.codelists.get(item.codelist_oid)

    def value_level(self, dataset: str, variable: str) -> list[tuple[ItemRefDef, ItemDef, list[RangeCheck]]]:
        """The value-level items of ``dataset.variable``: (ItemRef, ItemDef, where clause range checks)."""
        item = self.item(dataset, variable)
        if item is None or not item.value_list_oid:
            return []
        out = []
        for ref in self.value_lists.get(item.value_list_oid, []):
            checks = [c for oid in ref.where_clause_oids for c in self.where_clauses.get(oid, [])]
            if ref.item_oid in self.items:
                out.append((ref, self.items[ref.item_oid], checks))
        return out

    def merge(self, other: "DefineMeta") -> "DefineMeta":
        """Combine an SDTM and an ADaM define.xml into one view (OIDs are namespaced by file)."""
        merged = DefineMeta(self.path, version=self.version or other.version)
        for meta in (self, other):
            tag = f"{meta.path.parent.name}/{meta.path.name}#"

            def t(oid):
                return tag + oid if oid else oid

            for oid, item in meta.items.items():
                merged.items[t(oid)] = ItemDef(**{**item.__dict__, "oid": t(oid), "codelist_oid": t(item.codelist_oid),
                                                  "value_list_oid": t(item.value_list_oid),
                                                  "comment_oid": t(item.comment_oid), "method_oid": t(item.method_oid)})
            for oid, cl in meta.codelists.items():
                merged.codelists[t(oid)] = CodeListDef(**{**cl.__dict__, "oid": t(oid)})

            def refs(items):
                return [ItemRefDef(**{**r.__dict__, "item_oid": t(r.item_oid), "method_oid": t(r.method_oid),
                                      "where_clause_oids": [t(w) for w in r.where_clause_oids]}) for r in items]

            for name, group in meta.groups.items():
                merged.groups[name] = ItemGroupDef(**{**group.__dict__, "items": refs(group.items)})
            for oid, items in meta.value_lists.items():
                merged.value_lists[t(oid)] = refs(items)
            for oid, checks in meta.where_clauses.items():
                merged.where_clauses[t(oid)] = [RangeCheck(t(c.item_oid), c.comparator, c.values) for c in checks]
            merged.methods.update({t(k): v for k, v in meta.methods.items()})
            merged.comments.update({t(k): v for k, v in meta.comments.items()})
            merged.standards += meta.standards
            merged.issues += meta.issues
        return merged


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _attr(element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (def:Length vs Length)."""
    if name in element.attrib:
        return element.attrib[name]
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _text(element) -> str:
    """The first TranslatedText below a Description/Decode element (or the element's own text)."""
    if element is None:
        return ""
    for child in element.iter():
        if _local(child.tag) == "TranslatedText":
            return (child.text or "").strip()
    return " ".join((element.text or "").split())


def _child(element, name: str):
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element, name: str):
    return [child for child in element if _local(child.tag) == name]


def _nci_alias(element) -> str | None:
    for alias in _children(element, "Alias"):
        if alias.get("Context") == NCI_CONTEXT:
            return alias.get("Name")
    return None


class _Reader:
    def __init__(self, path: Path, mdv):
        self.path, self.mdv = path, mdv
        self.meta = DefineMeta(path)

    def issue(self, where: str, message: str, severity: str = "Error") -> None:
        self.meta.issues.append(Issue(f"{self.path.name}: {where}", message, severity))

    def integer(self, value: str | None, where: str) -> int | None:
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError:
            self.issue(where, f"{value!r} is not an integer")
            return None

    def item_ref(self, ref, where: str) -> ItemRefDef:
        item_oid = ref.get("ItemOID") or ""
        item = self.meta.items.get(item_oid)
        return ItemRefDef(
            name=item.name if item else "", item_oid=item_oid,
            order=self.integer(ref.get("OrderNumber"), f"{where} OrderNumber"),
            mandatory=ref.get("Mandatory") == "Yes",
            key_sequence=self.integer(ref.get("KeySequence"), f"{where} KeySequence"),
            role=ref.get("Role") or None, method_oid=ref.get("MethodOID") or None,
            where_clause_oids=[w.get("WhereClauseOID") for w in _children(ref, "WhereClauseRef") if w.get("WhereClauseOID")])

    def read(self) -> DefineMeta:
        meta, mdv = self.meta, self.mdv
        meta.version = _define_version(mdv)
        standard_name, standard_version = _attr(mdv, "StandardName"), _attr(mdv, "StandardVersion")
        if standard_name or standard_version:  # Define-XML 1.0 and 2.0
            meta.standards.append({"name": standard_name or "", "version": standard_version or "", "type": "IG",
                                   "publishing_set": None, "oid": None})
        for element in mdv:
            kind = _local(element.tag)
            if kind not in KNOWN:
                if isinstance(element.tag, str):
                    self.issue(f"MetaDataVersion/{kind}", f"element <{kind}> is not read by the validator", "Notice")
                continue
            if kind != "WhereClauseDef":  # read after the ItemDefs its range checks name
                getattr(self, f"read_{kind}", lambda e: None)(element)
        for element in _children(mdv, "WhereClauseDef"):
            self.read_WhereClauseDef(element)
        for element in _children(mdv, "ValueListDef"):
            self.read_value_list(element)
        for element in _children(mdv, "ItemGroupDef"):
            self.read_group(element)
        self.check_references()
        return meta

    def read_Standards(self, element) -> None:
        for std in _children(element, "Standard"):
            self.meta.standards.append({"name": std.get("Name") or "", "version": std.get("Version") or "",
                                        "type": std.get("Type") or "", "publishing_set": std.get("PublishingSet"),
                                        "oid": std.get("OID")})

    def read_ItemDef(self, element) -> None:
        oid = element.get("OID") or ""
        where = f"ItemDef {oid}"
        cl_ref = _child(element, "CodeListRef")
        vl_ref = _child(element, "ValueListRef")
        origin = _child(element, "Origin")
        if origin is not None:  # Define-XML 2.x
            origin_type = origin.get("Type")
            detail = origin.get("Source") or _text(_child(origin, "Description"))
            pages = [p.get("PageRefs") or p.get("FirstPage") for d in _children(origin, "DocumentRef")
                     for p in _children(d, "PDFPageRef")]
            if pages and any(pages):
                detail = ", ".join(x for x in [detail, "pages " + " ".join(p for p in pages if p)] if x)
        else:  # Define-XML 1.0: def:Origin="CRF Page 5" as an attribute
            origin_text = _attr(element, "Origin")
            origin_type = origin_text.split()[0] if origin_text else None
            detail = origin_text
        label = _text(_child(element, "Description")) or _attr(element, "Label") or ""
        self.meta.items[oid] = ItemDef(
            oid=oid, name=element.get("Name") or "", data_type=element.get("DataType") or "",
            length=self.integer(element.get("Length"), f"{where} Length"),
            significant_digits=self.integer(element.get("SignificantDigits"), f"{where} SignificantDigits"),
            label=label, codelist_oid=cl_ref.get("CodeListOID") if cl_ref is not None else None,
            display_format=_attr(element, "DisplayFormat"), origin=origin_type, origin_detail=detail or None,
            comment_oid=_attr(element, "CommentOID") or self.inline_comment(oid, element.get("Comment")),
            value_list_oid=_attr(vl_ref, "ValueListOID") if vl_ref is not None else None,
            method_oid=_attr(element, "ComputationMethodOID"))

    def inline_comment(self, oid: str, text: str | None) -> str | None:
        """Define-XML 1.0 writes a comment as an attribute: keep it as a comment of its own."""
        if not text or not text.strip():
            return None
        self.meta.comments[f"{oid}.Comment"] = text.strip()
        return f"{oid}.Comment"

    def read_CodeList(self, element) -> None:
        oid = element.get("OID") or ""
        where = f"CodeList {oid}"
        cl = CodeListDef(oid=oid, name=element.get("Name") or "", data_type=element.get("DataType") or "",
                         code=_nci_alias(element))
        external = _child(element, "ExternalCodeList")
        if external is not None:
            cl.external = external.get("Dictionary") or "external"
            cl.external_version = external.get("Version")
        for term in element:
            if _local(term.tag) in ("CodeListItem", "EnumeratedItem"):
                value = term.get("CodedValue")
                if value is None:
                    self.issue(where, "a term has no CodedValue")
                    continue
                cl.terms[value] = _nci_alias(term)
                if _attr(term, "ExtendedValue") == "Yes":
                    cl.extended_values.add(value)
        self.meta.codelists[oid] = cl

    def read_MethodDef(self, element) -> None:
        oid = element.get("OID") or ""
        self.meta.methods[oid] = MethodDef(oid, element.get("Name") or "", element.get("Type") or "",
                                           _text(_child(element, "Description")))

    def read_ComputationMethod(self, element) -> None:  # Define-XML 1.0
        oid = element.get("OID") or ""
        self.meta.methods[oid] = MethodDef(oid, oid, "Computation", " ".join("".join(element.itertext()).split()))

    def read_CommentDef(self, element) -> None:
        self.meta.comments[element.get("OID") or ""] = _text(_child(element, "Description"))

    def read_WhereClauseDef(self, element) -> None:
        oid = element.get("OID") or ""
        checks = []
        for check in _children(element, "RangeCheck"):
            item_oid = _attr(check, "ItemOID") or ""
            values = [(v.text or "").strip() for v in _children(check, "CheckValue")]
            checks.append(RangeCheck(item_oid, check.get("Comparator") or "", values))
            if item_oid not in self.meta.items:
                self.issue(f"WhereClauseDef {oid}", f"RangeCheck refers to ItemOID {item_oid!r}, which has no ItemDef")
        self.meta.where_clauses[oid] = checks

    def read_value_list(self, element) -> None:
        oid = element.get("OID") or ""
        refs = []
        for ref in _children(element, "ItemRef"):
            parsed = self.item_ref(ref, f"ValueListDef {oid} ItemRef {ref.get('ItemOID')}")
            if parsed.item_oid not in self.meta.items:
                self.issue(f"ValueListDef {oid}", f"ItemRef {parsed.item_oid!r} has no ItemDef")
                continue
            refs.append(parsed)
        self.meta.value_lists[oid] = refs

    def read_group(self, element) -> None:
        oid = element.get("OID") or ""
        name = (element.get("Name") or element.get("SASDatasetName") or "").upper()
        cls = _child(element, "Class")  # 2.1: <def:Class Name="..."/>; 2.0/1.0: def:Class attribute
        group = ItemGroupDef(
            oid=oid, name=name, label=_text(_child(element, "Description")) or _attr(element, "Label") or "",
            purpose=element.get("Purpose") or "", has_no_data=_attr(element, "HasNoData") == "Yes",
            domain=element.get("Domain"), dataset_class=cls.get("Name") if cls is not None else _attr(element, "Class"),
            structure=_attr(element, "Structure"), standard_oid=_attr(element, "StandardOID"),
            comment_oid=_attr(element, "CommentOID"))
        for ref in _children(element, "ItemRef"):
            parsed = self.item_ref(ref, f"{name}.{ref.get('ItemOID')}")
            if parsed.item_oid not in self.meta.items:
                self.issue(f"ItemGroupDef {name}", f"ItemRef {parsed.item_oid!r} has no ItemDef")
                continue
            group.items.append(parsed)
        domain_keys = _attr(element, "DomainKeys")  # Define-XML 1.0 names the keys on the dataset
        if domain_keys and not group.keys:
            order = [k.strip() for k in domain_keys.split(",") if k.strip()]
            for ref in group.items:
                if ref.name in order:
                    ref.key_sequence = order.index(ref.name) + 1
            missing = [k for k in order if k not in {r.name for r in group.items}]
            if missing:
                self.issue(f"ItemGroupDef {name}", f"def:DomainKeys names {', '.join(missing)}, not variables of the dataset")
        if name in self.meta.groups:
            self.issue(f"ItemGroupDef {name}", "a second ItemGroupDef with the same Name: only the first is used")
            return
        self.meta.groups[name] = group

    def check_references(self) -> None:
        meta = self.meta
        for item in meta.items.values():
            if item.codelist_oid and item.codelist_oid not in meta.codelists:
                self.issue(f"ItemDef {item.oid}", f"CodeListRef {item.codelist_oid!r} has no CodeList")
            if item.value_list_oid and item.value_list_oid not in meta.value_lists:
                self.issue(f"ItemDef {item.oid}", f"ValueListRef {item.value_list_oid!r} has no ValueListDef")
            if item.comment_oid and item.comment_oid not in meta.comments:
                self.issue(f"ItemDef {item.oid}", f"CommentOID {item.comment_oid!r} has no CommentDef")
            if item.method_oid and item.method_oid not in meta.methods:
                self.issue(f"ItemDef {item.oid}", f"ComputationMethodOID {item.method_oid!r} has no method")
        refs = [(f"ItemGroupDef {g.name}", r) for g in meta.groups.values() for r in g.items]
        refs += [(f"ValueListDef {oid}", r) for oid, items in meta.value_lists.items() for r in items]
        for where, ref in refs:
            if ref.method_oid and ref.method_oid not in meta.methods:
                self.issue(where, f"ItemRef {ref.item_oid}: MethodOID {ref.method_oid!r} has no MethodDef")
            for oid in ref.where_clause_oids:
                if oid not in meta.where_clauses:
                    self.issue(where, f"ItemRef {ref.item_oid}: WhereClauseOID {oid!r} has no WhereClauseDef")


def _define_version(mdv) -> str | None:
    declared = _attr(mdv, "DefineVersion")
    if declared:
        return ".".join(declared.split(".")[:2])
    namespaces = {k: v for k, v in mdv.nsmap.items() if v}
    for uri in namespaces.values():
        if "/ns/def/v" in uri:
            return uri.rsplit("/v", 1)[1]
    return None


def read_define(path: str | Path) -> DefineMeta:
    """Parse ``path``; a file that is not well-formed ODM XML raises DataError naming it. What cannot be read
    inside it is in ``issues``."""
    path = Path(path)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise DataError([Problem(str(path), f"not a readable define.xml: {exc}")]) from None
    if _local(root.tag) != "ODM":
        raise DataError([Problem(str(path), f"root element is <{_local(root.tag)}>, expected <ODM>")])
    mdv = next((e for e in root.iter() if _local(e.tag) == "MetaDataVersion"), None)
    if mdv is None:
        raise DataError([Problem(str(path), "no Study/MetaDataVersion element")])
    return _Reader(path, mdv).read()
