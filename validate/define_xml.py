"""Read the metadata of a Define-XML 2.0/2.1 file: datasets, variables, codelists, keys.

Parsed with lxml without entity expansion, DTD loading or network access, so a hostile define.xml
cannot read local files or call out. Element names are matched by local name, so both the 2.0 and
2.1 ``def:`` namespaces work.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from specs.errors import DataError, Problem

NCI_CONTEXT = "nci:ExtCodeID"


@dataclass
class ItemRefDef:
    """One variable of one dataset as declared in its ItemGroupDef."""

    name: str
    item_oid: str
    order: int | None
    mandatory: bool
    key_sequence: int | None


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


@dataclass
class CodeListDef:
    oid: str
    name: str
    data_type: str
    code: str | None  # the CDISC codelist C-code (Alias nci:ExtCodeID), None for sponsor lists
    terms: dict[str, str | None] = field(default_factory=dict)  # coded value -> term C-code
    extended_values: set[str] = field(default_factory=set)  # terms flagged def:ExtendedValue="Yes"
    external: str | None = None  # ExternalCodeList dictionary (MedDRA...), terms then unknown

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

    @property
    def keys(self) -> list[str]:
        keyed = sorted((i for i in self.items if i.key_sequence), key=lambda i: i.key_sequence)
        return [i.name for i in keyed]


@dataclass
class DefineMeta:
    path: Path
    groups: dict[str, ItemGroupDef] = field(default_factory=dict)  # by dataset name
    items: dict[str, ItemDef] = field(default_factory=dict)  # by OID
    codelists: dict[str, CodeListDef] = field(default_factory=dict)  # by OID

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

    def merge(self, other: "DefineMeta") -> "DefineMeta":
        """Combine an SDTM and an ADaM define.xml into one view (OIDs are namespaced by file)."""
        merged = DefineMeta(self.path)
        for meta in (self, other):
            tag = f"{meta.path.parent.name}/{meta.path.name}#"
            for oid, item in meta.items.items():
                merged.items[tag + oid] = ItemDef(**{**item.__dict__, "oid": tag + oid,
                                                     "codelist_oid": tag + item.codelist_oid if item.codelist_oid else None})
            for oid, cl in meta.codelists.items():
                merged.codelists[tag + oid] = CodeListDef(**{**cl.__dict__, "oid": tag + oid})
            for name, group in meta.groups.items():
                items = [ItemRefDef(**{**r.__dict__, "item_oid": tag + r.item_oid}) for r in group.items]
                merged.groups[name] = ItemGroupDef(group.oid, group.name, group.label, group.purpose,
                                                   group.has_no_data, items)
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


def _int(value: str | None, where: str, problems: list[Problem]) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        problems.append(Problem(where, f"{value!r} is not an integer"))
        return None


def _text(element) -> str:
    """The first TranslatedText below a Description/Decode element."""
    if element is None:
        return ""
    for child in element.iter():
        if _local(child.tag) == "TranslatedText":
            return (child.text or "").strip()
    return ""


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


def read_define(path: str | Path) -> DefineMeta:
    """Parse ``path``; a file that is not well-formed Define-XML raises DataError naming it."""
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

    problems: list[Problem] = []
    meta = DefineMeta(path)
    for element in mdv:
        kind = _local(element.tag)
        oid = element.get("OID") or ""
        where = f"{path.name}: {kind} {oid}"
        if kind == "ItemDef":
            cl_ref = _child(element, "CodeListRef")
            meta.items[oid] = ItemDef(
                oid=oid, name=element.get("Name") or "", data_type=element.get("DataType") or "",
                length=_int(element.get("Length"), f"{where} Length", problems),
                significant_digits=_int(element.get("SignificantDigits"), f"{where} SignificantDigits", problems),
                label=_text(_child(element, "Description")),
                codelist_oid=cl_ref.get("CodeListOID") if cl_ref is not None else None,
                display_format=_attr(element, "DisplayFormat"))
        elif kind == "CodeList":
            cl = CodeListDef(oid=oid, name=element.get("Name") or "", data_type=element.get("DataType") or "",
                             code=_nci_alias(element))
            external = _child(element, "ExternalCodeList")
            if external is not None:
                cl.external = external.get("Dictionary") or "external"
            for term in element:
                if _local(term.tag) in ("CodeListItem", "EnumeratedItem"):
                    value = term.get("CodedValue")
                    if value is None:
                        problems.append(Problem(where, "a term has no CodedValue"))
                        continue
                    cl.terms[value] = _nci_alias(term)
                    if _attr(term, "ExtendedValue") == "Yes":
                        cl.extended_values.add(value)
            meta.codelists[oid] = cl
    for element in mdv:
        if _local(element.tag) != "ItemGroupDef":
            continue
        oid = element.get("OID") or ""
        name = element.get("Name") or element.get("SASDatasetName") or ""
        group = ItemGroupDef(oid=oid, name=name.upper(), label=_text(_child(element, "Description")),
                             purpose=element.get("Purpose") or "",
                             has_no_data=_attr(element, "HasNoData") == "Yes")
        for ref in _children(element, "ItemRef"):
            item_oid = ref.get("ItemOID") or ""
            item = meta.items.get(item_oid)
            if item is None:
                problems.append(Problem(f"{path.name}: ItemGroupDef {name}", f"ItemRef {item_oid!r} has no ItemDef"))
                continue
            group.items.append(ItemRefDef(
                name=item.name, item_oid=item_oid,
                order=_int(ref.get("OrderNumber"), f"{path.name}: {name}.{item.name} OrderNumber", problems),
                mandatory=ref.get("Mandatory") == "Yes",
                key_sequence=_int(ref.get("KeySequence"), f"{path.name}: {name}.{item.name} KeySequence", problems)))
        meta.groups[group.name] = group
    for item in meta.items.values():
        if item.codelist_oid and item.codelist_oid not in meta.codelists:
            problems.append(Problem(f"{path.name}: ItemDef {item.oid}", f"CodeListRef {item.codelist_oid!r} has no CodeList"))
    if problems:
        raise DataError(problems, title="define.xml errors")
    return meta
