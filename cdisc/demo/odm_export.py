"""Write EDC form tables as a CDISC ODM 1.3.2 snapshot, streamed as string chunks.

Each form table has the EDC columns (Subject, SiteNumber, Folder, Form, RecordPosition) then its
item columns, all text. Contract: cdisc/demo/RAW_FORMAT.md, section "ODM export".
"""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from cdisc.demo.crf_text import FORM_NAMES, QUESTIONS

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
EDC_COLUMNS = ["Subject", "SiteNumber", "Folder", "Form", "RecordPosition"]


def _escape(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _item_groups(form_oid: str, table: pd.DataFrame) -> np.ndarray:
    """One `<ItemGroupData>` string per record, ItemData only for non-empty items.

    Each column is factorized so that a distinct value is escaped and wrapped only once.
    """
    body = np.full(len(table), "", dtype=object)
    for column in table.columns[len(EDC_COLUMNS):]:
        codes, uniques = pd.factorize(table[column].to_numpy(dtype=object))
        pieces = np.array([f'<ItemData ItemOID="{form_oid}.{column}" Value="{_escape(str(u))}"/>'
                           if str(u) != "" else "" for u in uniques] + [""], dtype=object)
        body = body + pieces[codes]
    keys = table["RecordPosition"].to_numpy(dtype=object)
    return (f'<ItemGroupData ItemGroupOID="IG.{form_oid}" ItemGroupRepeatKey="' + keys + '">'
            + body + "</ItemGroupData>\n")


def _metadata(study_oid, forms, folders) -> str:
    out = [f'<Study OID={quoteattr(study_oid)}>\n<GlobalVariables><StudyName>{study_oid}</StudyName>'
           f'<StudyDescription>Demo raw export of {study_oid}</StudyDescription>'
           f'<ProtocolName>{study_oid}</ProtocolName></GlobalVariables>\n'
           '<MetaDataVersion OID="MDV.1" Name="EDC metadata">\n<Protocol>\n']
    out += [f'<StudyEventRef StudyEventOID="{oid}" OrderNumber="{n}" Mandatory="No"/>\n'
            for n, (oid, _, _) in enumerate(folders, 1)]
    out.append("</Protocol>\n")
    for oid, name, form_oids in folders:
        kind = "Common" if oid in ("LOG", "EOS") else "Scheduled"
        out.append(f'<StudyEventDef OID="{oid}" Name={quoteattr(name)} Repeating="No" Type="{kind}">\n')
        out += [f'<FormRef FormOID="{f}" OrderNumber="{n}" Mandatory="No"/>\n'
                for n, f in enumerate(form_oids, 1)]
        out.append("</StudyEventDef>\n")
    for oid, (_, table) in forms.items():
        out.append(f'<FormDef OID="{oid}" Name={quoteattr(FORM_NAMES.get(oid, oid))} Repeating="No">'
                   f'<ItemGroupRef ItemGroupOID="IG.{oid}" Mandatory="Yes"/></FormDef>\n')
    for oid, (_, table) in forms.items():
        out.append(f'<ItemGroupDef OID="IG.{oid}" Name="{oid}" Repeating="Yes">\n')  # OIDs unique per ODM
        out += [f'<ItemRef ItemOID="{oid}.{c}" OrderNumber="{n}" Mandatory="No"/>\n'
                for n, c in enumerate(table.columns[len(EDC_COLUMNS):], 1)]
        out.append("</ItemGroupDef>\n")
    for oid, (_, table) in forms.items():
        questions = QUESTIONS.get(oid, {})
        out += [f'<ItemDef OID="{oid}.{c}" Name="{c}" DataType="text">'
                f'<Question><TranslatedText xml:lang="en">{_escape(questions[c])}</TranslatedText></Question>'
                '</ItemDef>\n' if c in questions else f'<ItemDef OID="{oid}.{c}" Name="{c}" DataType="text"/>\n'
                for c in table.columns[len(EDC_COLUMNS):]]
    out.append("</MetaDataVersion>\n</Study>\n")
    return "".join(out)


def write_odm(path, study_oid: str, forms: dict, folders: list, folder_rank: dict,
              creation_datetime: str, site: str) -> int:
    """Write `forms` ({form OID: (form rank, table)}) to `path`; return the ItemGroupData count.

    `folders` lists (folder OID, folder name, form OIDs in that folder) in visit order; records
    are written by subject, folder order, form order and record position.
    """
    parts = []
    for oid, (rank, table) in forms.items():
        if len(table) == 0:
            continue
        parts.append(pd.DataFrame({
            "subject": table["Subject"].to_numpy(dtype=object),
            "folder": table["Folder"].to_numpy(dtype=object),
            "folder_rank": table["Folder"].map(folder_rank).to_numpy(dtype=int),
            "form": oid, "form_rank": rank,
            "position": table["RecordPosition"].astype(int).to_numpy(),
            "xml": _item_groups(oid, table)}))
    records = pd.concat(parts, ignore_index=True)
    order = np.lexsort((records["position"], records["form_rank"], records["folder_rank"],
                        records["subject"].to_numpy(dtype=str)))
    records = records.iloc[order].reset_index(drop=True)

    subject = records["subject"].to_numpy(dtype=object)
    folder = records["folder"].to_numpy(dtype=object)
    form = records["form"].to_numpy(dtype=object)
    new_subject = np.r_[True, subject[1:] != subject[:-1]]
    new_event = new_subject | np.r_[True, folder[1:] != folder[:-1]]
    new_form = new_event | np.r_[True, form[1:] != form[:-1]]
    not_first = np.r_[False, np.ones(len(records) - 1, dtype=bool)]
    empty = np.full(len(records), "", dtype=object)
    prefix = (np.where(new_form & not_first, "</FormData>\n", empty)
              + np.where(new_event & not_first, "</StudyEventData>\n", empty)
              + np.where(new_subject & not_first, "</SubjectData>\n", empty)
              + np.where(new_subject, '<SubjectData SubjectKey="' + subject
                         + f'"><SiteRef LocationOID="{site}"/>\n', empty)
              + np.where(new_event, '<StudyEventData StudyEventOID="' + folder + '">\n', empty)
              + np.where(new_form, '<FormData FormOID="' + form + '">\n', empty))
    lines = prefix + records["xml"].to_numpy(dtype=object)

    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ODM xmlns="{ODM_NS}" FileType="Snapshot" FileOID="{study_oid}.EDC.SNAPSHOT" '
            f'CreationDateTime="{creation_datetime}" ODMVersion="1.3.2" '
            'Originator="cdisc.demo.generator">\n'
            + _metadata(study_oid, forms, folders)
            + f'<AdminData StudyOID="{study_oid}"><Location OID="{site}" Name="Site {site}" '
            f'LocationType="Site"><MetaDataVersionRef StudyOID="{study_oid}" '
            f'MetaDataVersionOID="MDV.1" EffectiveDate="{creation_datetime[:10]}"/></Location>'
            '</AdminData>\n'
            f'<ClinicalData StudyOID="{study_oid}" MetaDataVersionOID="MDV.1">\n')
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(head)
        for start in range(0, len(lines), 50_000):
            handle.write("".join(lines[start:start + 50_000]))
        handle.write("</FormData>\n</StudyEventData>\n</SubjectData>\n</ClinicalData>\n</ODM>\n")
    return len(records)
