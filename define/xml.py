"""Write a DefineModel as Define-XML 2.1 (lxml), and validate a define.xml against the 2.1 XSD.

The document is a pure function of the model and ``created``: no clock, no random OIDs, elements in the
model's order, so the same build always gives the same bytes. The namespaces, element order and OID
style follow the CDISC examples (defineV21-SDTM.xml, defineV21-ADaM.xml).
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lxml import etree

from define.model import CodeList, DefineModel, ItemDef, ItemGroupDef, ItemRef, Leaf, OriginDef, WhereClauseDef

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "xlink": XLINK_NS, "def": DEF_NS}
STYLESHEET = "define2-1.xsl"
ORIGINATOR = "cdisc-toolkit"
ISO_TYPES = {"date", "datetime", "time", "partialDate", "partialTime", "partialDatetime", "incompleteDatetime",
             "durationDatetime", "intervalDatetime"}


def resource_path(*parts: str) -> Path:
    return Path(str(resources.files("define").joinpath("resources", *parts)))


def _o(tag: str, parent=None, nsmap=None, **attrs):
    attrs = {k: str(v) for k, v in attrs.items() if v is not None}
    name = f"{{{ODM_NS}}}{tag}"
    return etree.SubElement(parent, name, attrs) if parent is not None else etree.Element(name, attrs,
                                                                                          nsmap=nsmap or NSMAP)


def _d(tag: str, parent, **attrs):
    attrs = {k: str(v) for k, v in attrs.items() if v is not None}
    return etree.SubElement(parent, f"{{{DEF_NS}}}{tag}", attrs)


def _def_attrs(**attrs) -> dict:
    return {f"{{{DEF_NS}}}{k}": v for k, v in attrs.items()}


def _text(parent, tag: str, text: str):
    holder = _o(tag, parent)
    _o("TranslatedText", holder, **{XML_LANG: "en"}).text = text
    return holder


def _set(element, **attrs) -> None:
    for key, value in attrs.items():
        if value is not None:
            element.set(key, str(value))


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _item_ref(parent, ref: ItemRef, with_role: bool) -> None:
    element = _o("ItemRef", parent, ItemOID=ref.item_oid, OrderNumber=ref.order, Mandatory=_yes(ref.mandatory),
                 KeySequence=ref.key_sequence, MethodOID=ref.method_oid,
                 Role=ref.role if with_role else None)
    if ref.where_clause_oid:
        _d("WhereClauseRef", element, WhereClauseOID=ref.where_clause_oid)


def _leaf(parent, leaf: Leaf) -> None:
    element = _d("leaf", parent, ID=leaf.id)
    element.set(f"{{{XLINK_NS}}}href", leaf.href)
    _d("title", element).text = leaf.title


def _group(parent, group: ItemGroupDef, tabulation: bool) -> None:
    element = _o("ItemGroupDef", parent, OID=group.oid, Domain=group.domain if tabulation else None, Name=group.name,
                 Repeating=_yes(group.repeating), IsReferenceData=_yes(group.reference_data),
                 SASDatasetName=group.name, Purpose=group.purpose)
    for key, value in _def_attrs(Structure=group.structure, StandardOID=group.standard_oid,
                                 IsNonStandard="Yes" if group.is_nonstandard else None,
                                 HasNoData="Yes" if group.has_no_data else None,
                                 CommentOID=group.comment_oid, ArchiveLocationID=group.leaf.id).items():
        _set(element, **{key: value})
    _text(element, "Description", group.label)
    for ref in group.items:
        _item_ref(element, ref, with_role=tabulation)
    if group.cls:
        _d("Class", element, Name=group.cls)
    _leaf(element, group.leaf)


def _origin(parent, origin: OriginDef | None, acrf: bool) -> None:
    if origin is None:
        return
    element = _d("Origin", parent, Type=origin.type, Source=origin.source)
    if origin.description:
        _text(element, "Description", origin.description)
    if origin.pages and acrf:
        ref = _d("DocumentRef", element, leafID="LF.acrf")
        _d("PDFPageRef", ref, PageRefs=origin.pages, Type="PhysicalRef")


def _item(parent, item: ItemDef, acrf: bool) -> None:
    length = None if item.data_type in ISO_TYPES else item.length
    element = _o("ItemDef", parent, OID=item.oid, Name=item.name, DataType=item.data_type, Length=length,
                 SignificantDigits=item.significant_digits if item.data_type == "float" else None,
                 SASFieldName=item.name)
    for key, value in _def_attrs(DisplayFormat=item.display_format, CommentOID=item.comment_oid).items():
        _set(element, **{key: value})
    _text(element, "Description", item.label)
    if item.codelist_oid:
        _o("CodeListRef", element, CodeListOID=item.codelist_oid)
    _origin(element, item.origin, acrf)
    if item.value_list_oid:
        _d("ValueListRef", element, ValueListOID=item.value_list_oid)


def _codelist(parent, codelist: CodeList) -> None:
    element = _o("CodeList", parent, OID=codelist.oid, Name=codelist.name, DataType=codelist.data_type)
    _set(element, **_def_attrs(StandardOID=codelist.standard_oid))
    if codelist.external:
        dictionary, version = codelist.external
        _o("ExternalCodeList", element, Dictionary=dictionary, Version=version)
        return
    decoded = codelist.decoded
    for term in codelist.items:
        item = _o("CodeListItem" if decoded else "EnumeratedItem", element, CodedValue=term.value)
        if term.extended:
            item.set(f"{{{DEF_NS}}}ExtendedValue", "Yes")
        if decoded:
            _text(item, "Decode", term.decode or term.value)
        if term.code and not term.extended:
            _o("Alias", item, Context="nci:ExtCodeID", Name=term.code)
    if codelist.code:
        _o("Alias", element, Context="nci:ExtCodeID", Name=codelist.code)


def _where(parent, clause: WhereClauseDef) -> None:
    element = _d("WhereClauseDef", parent, OID=clause.oid)
    for check in clause.checks:
        rc = _o("RangeCheck", element, Comparator=check.comparator, SoftHard="Soft")
        rc.set(f"{{{DEF_NS}}}ItemOID", check.item_oid)
        for value in check.values:
            _o("CheckValue", rc).text = value


def define_tree(model: DefineModel, created: datetime | str) -> etree._ElementTree:
    """The Define-XML 2.1 document of ``model``; ``created`` is its CreationDateTime."""
    study = model.study
    stamp = created if isinstance(created, str) else created.replace(microsecond=0, tzinfo=None).isoformat()
    kind = "SDTM" if model.purpose == "Tabulation" else "ADaM"
    from define.arm import ARM_NS, write_arm

    root = _o("ODM", nsmap={**NSMAP, "arm": ARM_NS} if model.analysis_results else NSMAP,
              ODMVersion="1.3.2", FileType="Snapshot",
              FileOID=f"{study.studyid}.{kind}.Define-XML_{study.define_version}", CreationDateTime=stamp,
              Originator=ORIGINATOR, SourceSystem=ORIGINATOR, SourceSystemVersion=_version())
    root.set(f"{{{DEF_NS}}}Context", "Submission")
    study_el = _o("Study", root, OID=f"STDY.{study.studyid}")
    globals_el = _o("GlobalVariables", study_el)
    _o("StudyName", globals_el).text = study.name
    _o("StudyDescription", globals_el).text = study.description
    _o("ProtocolName", globals_el).text = study.protocol
    mdv = _o("MetaDataVersion", study_el, OID=model.mdv_oid, Name=f"Study {study.studyid}, {kind} Data Definitions",
             Description=f"{kind} data definitions of study {study.studyid}")
    mdv.set(f"{{{DEF_NS}}}DefineVersion", study.define_version)
    standards = _d("Standards", mdv)
    for s in model.standards:
        _d("Standard", standards, OID=s.oid, Name=s.name, Type=s.type, PublishingSet=s.publishing_set,
           Version=s.version, Status=s.status)
    acrf = any(d.id == "LF.acrf" for d in model.documents)
    if acrf and model.purpose == "Tabulation":
        _d("DocumentRef", _d("AnnotatedCRF", mdv), leafID="LF.acrf")
    supplemental = [d for d in model.documents if d.id != "LF.acrf"]  # reviewer's guides
    if supplemental:
        holder = _d("SupplementalDoc", mdv)
        for leaf in supplemental:
            _d("DocumentRef", holder, leafID=leaf.id)
    for value_list in model.value_lists:
        element = _d("ValueListDef", mdv, OID=value_list.oid)
        for ref in value_list.items:
            _item_ref(element, ref, with_role=False)
    for clause in model.where_clauses:
        _where(mdv, clause)
    for group in model.groups:
        _group(mdv, group, model.purpose == "Tabulation")
    for item in model.items.values():
        _item(mdv, item, acrf)
    for codelist in model.codelists:
        _codelist(mdv, codelist)
    for method in model.methods:
        element = _o("MethodDef", mdv, OID=method.oid, Name=method.name, Type=method.type)
        _text(element, "Description", method.description)
    for comment in model.comments:
        _text(_d("CommentDef", mdv, OID=comment.oid), "Description", comment.description)
    for leaf in model.documents + model.result_documents:
        _leaf(mdv, leaf)
    if model.analysis_results:
        write_arm(mdv, model, _o, _d, _text)
    return etree.ElementTree(root)


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("cdisc-toolkit")
    except Exception:
        return "0"


def write_define(model: DefineModel, path, created: datetime | str, stylesheet: str | None = STYLESHEET) -> Path:
    """Write define.xml (UTF-8, with an xml-stylesheet instruction for ``stylesheet``) atomically."""
    path = Path(path)
    tree = define_tree(model, created)
    if stylesheet:
        instruction = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{stylesheet}"')
        tree.getroot().addprevious(instruction)
    content = etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    partial.replace(path)
    return path


@lru_cache(maxsize=2)
def define_schema(arm: bool = False) -> etree.XMLSchema:
    """The Define-XML 2.1 XSD, or with ``arm`` the ARM 1.0 XSD that extends it (shipped in
    define/resources/schema; no network access)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = resource_path("schema", *(("cdisc-arm-1.0", "arm1-0-0.xsd") if arm else
                                     ("cdisc-define-2.1", "define2-1-0.xsd")))
    return etree.XMLSchema(etree.parse(str(root), parser))


def validate_define(path) -> list[str]:
    """XSD errors of a define.xml as 'line N: message' (empty list: valid)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        document = etree.parse(str(path), parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        return [f"{path}: not readable XML: {exc}"]
    schema = define_schema(arm="arm" in (document.getroot().nsmap or {}))
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
