"""The annotated CRF (acrf.pdf) generated from the EDC metadata and the study spec.

The forms, items and question text come from the ODM export's MetaDataVersion (FormDef, ItemGroupDef,
ItemDef/Question, StudyEventDef for the visits of each form); each item is annotated with the SDTM
variables the spec maps it to (``specs.raw_columns.raw_columns_used``: a variable's algorithm arguments,
its conditions, a melted column's test), or NOT SUBMITTED. The PDF has one section per form, each
starting on a new page; the page on which each annotation is drawn is recorded, and those pages are
the define.xml origins (``def:PDFPageRef Type="PhysicalRef"``) of the Collected variables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lxml import etree

from define.transliterate import to_ascii
from specs.errors import RawDataError, Problem

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
NOT_SUBMITTED = "NOT SUBMITTED"


@dataclass
class CrfItem:
    name: str
    question: str
    targets: list[str] = field(default_factory=list)  # "DM.SEX", "VS.VSORRES where VSTESTCD = WEIGHT"
    keys: list[str] = field(default_factory=list)  # the variables annotated, "DOMAIN.NAME" (define.xml origins)


@dataclass
class CrfForm:
    oid: str
    name: str
    events: list[str]
    items: list[CrfItem]
    domains: list[str] = field(default_factory=list)


@dataclass
class AnnotatedCrf:
    pdf: bytes
    pages: dict[str, list[int]]  # "DOMAIN.VARIABLE" -> physical pages where it is annotated
    forms: list[CrfForm]

    def pages_of(self, domain: str, variable: str) -> str | None:
        pages = self.pages.get(f"{domain}.{variable}")
        return " ".join(str(p) for p in pages) if pages else None


def _t(element, tag: str) -> list:
    return element.findall(f"{{{ODM_NS}}}{tag}")


def _text(element, path: str) -> str:
    found = element.find(path.replace("odm:", f"{{{ODM_NS}}}"))
    return "" if found is None or found.text is None else " ".join(found.text.split())


def read_odm_forms(path) -> list[CrfForm]:
    """The forms of an ODM 1.3.2 export's first MetaDataVersion (only the metadata is read)."""
    path = Path(path)
    try:
        events = etree.iterparse(str(path), events=("end",), tag=f"{{{ODM_NS}}}MetaDataVersion",
                                 resolve_entities=False, no_network=True, huge_tree=False)
        mdv = next((element for _, element in events), None)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise RawDataError([Problem(str(path), f"not readable ODM XML: {exc}")]) from None
    if mdv is None:
        raise RawDataError([Problem(str(path), "no MetaDataVersion: the ODM export has no form metadata")])
    items = {i.get("OID"): i for i in _t(mdv, "ItemDef")}
    groups = {g.get("OID"): g for g in _t(mdv, "ItemGroupDef")}
    visits: dict[str, list[str]] = {}
    for event in _t(mdv, "StudyEventDef"):
        for ref in _t(event, "FormRef"):
            visits.setdefault(ref.get("FormOID"), []).append(event.get("Name") or event.get("OID"))
    forms = []
    for form in _t(mdv, "FormDef"):
        crf_items = []
        for group_ref in _t(form, "ItemGroupRef"):
            group = groups.get(group_ref.get("ItemGroupOID"))
            if group is None:
                raise RawDataError([Problem(str(path), f"FormDef {form.get('OID')}: ItemGroupDef "
                                                       f"'{group_ref.get('ItemGroupOID')}' is not defined")])
            refs = sorted(_t(group, "ItemRef"), key=lambda r: int(r.get("OrderNumber") or 0))
            for ref in refs:
                item = items.get(ref.get("ItemOID"))
                if item is None:
                    raise RawDataError([Problem(str(path), f"ItemGroupDef {group.get('OID')}: ItemDef "
                                                           f"'{ref.get('ItemOID')}' is not defined")])
                crf_items.append(CrfItem(item.get("Name"), _text(item, "odm:Question/odm:TranslatedText")))
        forms.append(CrfForm(form.get("OID"), form.get("Name") or form.get("OID"),
                             visits.get(form.get("OID"), []), crf_items))
    return forms


def _sources(domain: dict) -> list[str]:
    value = domain.get("from")
    own = [] if value is None else ([value] if isinstance(value, str) else list(value))
    return own + [m["source"] for m in domain.get("merge", []) if isinstance(m, dict) and "source" in m]


def annotate(spec, forms: list[CrfForm]) -> list[CrfForm]:
    """Each item's SDTM targets from the spec (in place; also returned)."""
    from specs.raw_columns import raw_columns_used

    form_of = {key: (source.get("odm") or {}).get("form") for key, source in spec.sources.items()}
    by_form = {f.oid: f for f in forms}
    for name, domain in spec.domains.items():
        fed = [by_form[form_of[s]] for s in _sources(domain) if form_of.get(s) in by_form]
        if not fed:
            continue
        variables = domain.get("variables", [])
        melt = domain.get("melt") or {}
        reads_value = [v["name"] for v in variables if (v.get("map") or {}).get("source") == melt.get("value")]
        testcd = next((v["name"] for v in variables if (v.get("map") or {}).get("source") == melt.get("name")), None)
        for path, column in raw_columns_used(domain):
            if path[0] == "variables":
                variable = variables[path[1]]
                key = f"{name}.{variable['name']}"
                text = f"SUPP{name}.QVAL where QNAM = {variable['name']}" if variable.get("supp") else key
                targets = [(text, key)]
            elif path[0] == "melt":
                code = (melt.get("columns") or {}).get(column, column)
                where = f" where {testcd} = {code}" if testcd else ""
                targets = [(f"{name}.{v}{where}", f"{name}.{v}") for v in reads_value]
            elif path[0] == "where":
                targets = [(f"{name}: records selected on this item", None)]
            else:
                continue
            for form in fed:
                for item in form.items:
                    if item.name == column:
                        for text, key in targets:
                            if text not in item.targets:
                                item.targets.append(text)
                            if key and key not in item.keys:
                                item.keys.append(key)
                        if name not in form.domains:
                            form.domains.append(name)
    return forms


def write_acrf(forms: list[CrfForm], title: str, domain_labels: dict[str, str] | None = None,
               created: datetime | None = None) -> AnnotatedCrf:
    """The PDF of ``forms`` and the pages where each SDTM variable is annotated."""
    from fpdf import FPDF
    from fpdf.enums import MethodReturnValue

    labels = domain_labels or {}
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(created or datetime(2000, 1, 1))  # the run's date, never the clock: same bytes on a rerun
    pdf.set_title(to_ascii(f"Annotated CRF - {title}"))
    pdf.set_creator("cdisc-toolkit")
    widths = (82, 34, 74)
    pages: dict[str, list[int]] = {}
    line = 4.2

    def lines(text: str, width: float) -> list[str]:
        return pdf.multi_cell(width - 2, line, to_ascii(text) or " ", dry_run=True,
                              output=MethodReturnValue.LINES) or [" "]

    def header(form: CrfForm, continued: bool) -> None:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(0, 8, to_ascii(f"{form.name} ({form.oid})" + (" - continued" if continued else "")),
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        if form.events:
            for text in lines("Visits: " + ", ".join(form.events), sum(widths)):
                pdf.cell(0, line, text, new_x="LMARGIN", new_y="NEXT")
        if form.domains:
            pdf.set_fill_color(255, 236, 179)
            pdf.set_font("Helvetica", "B", 9)
            for domain in form.domains:
                text = to_ascii(f"{domain} = {labels.get(domain, domain)}")
                pdf.cell(pdf.get_string_width(text) + 4, 6, text, border=1, fill=True, new_x="LMARGIN",
                         new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 9)
        pdf.set_fill_color(220, 220, 220)
        for width, text in zip(widths, ("Question", "Item", "SDTM annotation")):
            pdf.cell(width, 6, text, border=1, fill=True)
        pdf.ln(6)

    for form in forms:
        header(form, False)
        for item in form.items:
            pdf.set_font("Helvetica", "", 9)
            cells = [lines(item.question or item.name, widths[0]), lines(item.name, widths[1]),
                     lines("; ".join(item.targets) or NOT_SUBMITTED, widths[2])]
            height = max(len(c) for c in cells) * line + 2
            if pdf.get_y() + height > pdf.page_break_trigger:
                header(form, True)
                pdf.set_font("Helvetica", "", 9)
            x, y = pdf.get_x(), pdf.get_y()
            for index, (width, text) in enumerate(zip(widths, cells)):
                if index == 2:
                    pdf.set_fill_color(*((207, 226, 255) if item.targets else (235, 235, 235)))
                    pdf.rect(x, y, width, height, style="DF")
                else:
                    pdf.rect(x, y, width, height)
                pdf.set_xy(x + 1, y + 1)
                pdf.multi_cell(width - 2, line, "\n".join(text), new_x="RIGHT", new_y="TOP")
                x += width
            pdf.set_xy(pdf.l_margin, y + height)
            for variable in item.keys:
                found = pages.setdefault(variable, [])
                if pdf.page_no() not in found:
                    found.append(pdf.page_no())
    return AnnotatedCrf(bytes(pdf.output()), {k: sorted(v) for k, v in pages.items()}, forms)


def build_acrf(spec, raw_dir, created: datetime | None = None) -> AnnotatedCrf | None:
    """The annotated CRF of the study's EDC forms, from the ODM export the spec's sources name
    (``odm: {path, form}``); None when no source has one."""
    paths = list(dict.fromkeys((source.get("odm") or {}).get("path") for source in spec.sources.values()
                               if (source.get("odm") or {}).get("path")))
    if not paths or raw_dir is None:
        return None
    forms = []
    for relative in paths:
        path = Path(raw_dir) / relative
        if not path.is_file():
            return None  # the run reads the CSV forms; without the ODM export there is no EDC metadata
        forms += read_odm_forms(path)
    wanted = {(source.get("odm") or {}).get("form") for source in spec.sources.values()}
    forms = [f for f in forms if f.oid in wanted]
    labels = {name: domain.get("label", name) for name, domain in spec.domains.items()}
    title = spec.study.get("name", spec.studyid) if isinstance(spec.study, dict) else spec.studyid
    return write_acrf(annotate(spec, forms), f"{spec.studyid} {title}", labels, created)
