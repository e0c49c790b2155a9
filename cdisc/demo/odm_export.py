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


def _metadata(study_oid, form_columns, folders) -> str:
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
    for oid in form_columns:
        out.append(f'<FormDef OID="{oid}" Name={quoteattr(FORM_NAMES.get(oid, oid))} Repeating="No">'
                   f'<ItemGroupRef ItemGroupOID="IG.{oid}" Mandatory="Yes"/></FormDef>\n')
    for oid, columns in form_columns.items():
        out.append(f'<ItemGroupDef OID="IG.{oid}" Name="{oid}" Repeating="Yes">\n')  # OIDs unique per ODM
        out += [f'<ItemRef ItemOID="{oid}.{c}" OrderNumber="{n}" Mandatory="No"/>\n'
                for n, c in enumerate(columns, 1)]
        out.append("</ItemGroupDef>\n")
    for oid, columns in form_columns.items():
        questions = QUESTIONS.get(oid, {})
        out += [f'<ItemDef OID="{oid}.{c}" Name="{c}" DataType="text">'
                f'<Question><TranslatedText xml:lang="en">{_escape(questions[c])}</TranslatedText></Question>'
                '</ItemDef>\n' if c in questions else f'<ItemDef OID="{oid}.{c}" Name="{c}" DataType="text"/>\n'
                for c in columns]
    out.append("</MetaDataVersion>\n</Study>\n")
    return "".join(out)


class OdmWriter:
    """Stream a CDISC ODM 1.3.2 snapshot: header and metadata once, `ClinicalData` block after block.

    `form_columns` ({form OID: item columns}) and `folders` ((folder OID, folder name, form OIDs in that
    folder) in visit order) make the metadata; each `write` takes a block of subjects' form tables
    ({form OID: (form rank, table)}), whose subjects all sort after the previous block's. Records are
    written by subject, folder order, form order and record position, `chunk` records at a time.
    """

    def __init__(self, path, study_oid: str, form_columns: dict, folders: list, folder_rank: dict,
                 creation_datetime: str, site: str, chunk: int = 50_000):
        self.folder_rank, self.site, self.chunk, self.records = folder_rank, site, chunk, 0
        self.handle = open(path, "w", encoding="utf-8", newline="\n")
        self.handle.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ODM xmlns="{ODM_NS}" FileType="Snapshot" FileOID="{study_oid}.EDC.SNAPSHOT" '
            f'CreationDateTime="{creation_datetime}" ODMVersion="1.3.2" '
            'Originator="cdisc.demo.generator">\n'
            + _metadata(study_oid, form_columns, folders)
            + f'<AdminData StudyOID="{study_oid}"><Location OID="{site}" Name="Site {site}" '
            f'LocationType="Site"><MetaDataVersionRef StudyOID="{study_oid}" '
            f'MetaDataVersionOID="MDV.1" EffectiveDate="{creation_datetime[:10]}"/></Location>'
            '</AdminData>\n'
            f'<ClinicalData StudyOID="{study_oid}" MetaDataVersionOID="MDV.1">\n')

    def write(self, forms: dict) -> int:
        """Append the block's records; return their count."""
        tables = [table for _, table in forms.values()]
        if not any(len(table) for table in tables):
            return 0
        subject = np.concatenate([table["Subject"].to_numpy(dtype=object) for table in tables])
        folder = np.concatenate([table["Folder"].to_numpy(dtype=object) for table in tables])
        form = np.concatenate([np.full(len(table), number) for number, table in enumerate(tables)])
        rank = np.array([rank for rank, _ in forms.values()])[form]
        folder_rank = pd.Series(folder).map(self.folder_rank).to_numpy(dtype=int)
        position = np.concatenate([table["RecordPosition"].to_numpy(dtype=str).astype(int) for table in tables])
        row = np.concatenate([np.arange(len(table)) for table in tables])
        order = np.lexsort((position, rank, folder_rank, subject.astype(str)))
        subject, folder, form, row = subject[order], folder[order], form[order], row[order]
        del rank, folder_rank, position, order
        oids = np.array(list(forms), dtype=object)
        new_subject = np.r_[True, subject[1:] != subject[:-1]]
        new_event = new_subject | np.r_[True, folder[1:] != folder[:-1]]
        new_form = new_event | np.r_[True, form[1:] != form[:-1]]
        not_first = np.r_[self.records > 0, np.ones(len(subject) - 1, dtype=bool)]
        for start in range(0, len(subject), self.chunk):
            part = slice(start, start + self.chunk)
            xml = np.empty(len(subject[part]), dtype=object)
            for number in np.unique(form[part]):
                these = form[part] == number
                xml[these] = _item_groups(oids[number], tables[number].iloc[row[part][these]])
            empty = np.full(len(xml), "", dtype=object)
            first, new_f, new_e, new_s = not_first[part], new_form[part], new_event[part], new_subject[part]
            prefix = (np.where(new_f & first, "</FormData>\n", empty)
                      + np.where(new_e & first, "</StudyEventData>\n", empty)
                      + np.where(new_s & first, "</SubjectData>\n", empty)
                      + np.where(new_s, '<SubjectData SubjectKey="' + subject[part]
                                 + f'"><SiteRef LocationOID="{self.site}"/>\n', empty)
                      + np.where(new_e, '<StudyEventData StudyEventOID="' + folder[part] + '">\n', empty)
                      + np.where(new_f, '<FormData FormOID="' + oids[form[part]] + '">\n', empty))
            self.handle.write("".join(prefix + xml))
        self.records += len(subject)
        return len(subject)

    def close(self) -> int:
        """Close the last subject and the document; return the ItemGroupData count."""
        self.handle.write("</FormData>\n</StudyEventData>\n</SubjectData>\n</ClinicalData>\n</ODM>\n")
        self.handle.close()
        return self.records
