"""CDISC ODM 1.3.2 exports: the clinical data as one text table per form, transactions applied.

The data elements (SubjectData, StudyEventData, FormData, ItemGroupData, ItemData) are applied in
document order, as ODM 1.3.2 says, each identified within its parent by its OID and repeat key
(SubjectKey; StudyEventOID + StudyEventRepeatKey; FormOID + FormRepeatKey; ItemGroupOID +
ItemGroupRepeatKey; ItemOID). An element without a TransactionType takes its parent's:

- Insert: a new entity (an error if it exists, or if its parent does not);
- Update: an existing entity, the items given set, the others kept (an error if it does not exist);
- Upsert: Update if it exists, else Insert;
- Remove: an existing entity deleted with everything under it (an error if it does not exist; a
  descendant may only say Remove again);
- Context: data resent unchanged, for context (an error if it does not exist or differs).

In a Snapshot file (FileType="Snapshot") an element may have no TransactionType at all: a subject,
visit or form met again adds to the same one, a record (ItemGroupData) met again is an error (a
snapshot holds each record once). In a Transactional file the SubjectData must say its TransactionType.
An error is never a guess: a file that updates or removes what it does not hold itself (a delta against
an earlier export) cannot be read alone, and says so with the line. At item level an Update or Remove
of an item the record does not have yet simply sets or clears it (the record is known whole).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from lxml import etree

from sdtm.readers import EDC_COLUMNS, frame_to_text
from specs.errors import Problem, RawDataError

TRANSACTION_TYPES = ("Insert", "Update", "Remove", "Upsert", "Context")
SNAPSHOT = "Snapshot"  # an element with no TransactionType in a Snapshot file
FILE_TYPES = ("Snapshot", "Transactional")
REPEAT_COLUMNS = {"StudyEventData": "StudyEventRepeatKey", "FormData": "FormRepeatKey"}
LIMIT = 50


def _local(tag) -> str:
    """'{namespace}Name' -> 'Name' (comments and processing instructions have no str tag)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


class _Entity:
    """A subject, visit, form or record (ItemGroupData) as the transactions leave it."""

    __slots__ = ("label", "line", "children", "items", "site")

    def __init__(self, label: str, line: int):
        self.label, self.line = label, line
        self.children: dict = {}
        self.items: dict[str, str] = {}
        self.site = ""


class _Transactions:
    """Applies the data elements of one file, in document order, to the entities they name."""

    def __init__(self, path: Path):
        self.path = path
        self.file_type = SNAPSHOT
        self.root = _Entity("the file", 0)
        # per open level: (entity or None, effective type or "" after a problem, label, line where that
        # type was said)
        self.stack: list[tuple[_Entity | None, str, str, int]] = []
        self.problems: list[Problem] = []
        self.more = 0

    def problem(self, line: int | None, message: str) -> None:
        if len(self.problems) < LIMIT:
            self.problems.append(Problem(f"{self.path}: line {line or '?'}", message))
        else:
            self.more += 1

    def label(self, short: str) -> str:
        """'SubjectData SubjectKey="01-001", StudyEventData StudyEventOID="SCR", ...' for messages."""
        return ", ".join([label for _, _, label, _ in self.stack] + [short])

    def _type(self, own: str | None, line: int, label: str) -> str | None:
        """The effective TransactionType of an element (its own or its parent's); None after a problem."""
        if own is not None and own not in TRANSACTION_TYPES:
            self.problem(line, f"{label}: TransactionType '{own}' is not one of {', '.join(TRANSACTION_TYPES)}")
            return None
        if not self.stack:
            if own is None and self.file_type == "Transactional":
                self.problem(line, f"{label} has no TransactionType; in a Transactional file (FileType="
                                   f"\"Transactional\") each SubjectData must say what it does "
                                   f"({', '.join(TRANSACTION_TYPES)})")
                return None
            return own or SNAPSHOT
        _, inherited, _, said = self.stack[-1]
        if inherited == "":
            return None  # the parent's problem is reported
        if inherited == "Remove" and own not in (None, "Remove"):
            self.problem(line, f"{label} says TransactionType {own} inside the Remove of line {said}: "
                               f"what a Remove contains is removed with it")
            return None
        return own or inherited

    def _missing(self, line: int, kind: str, label: str) -> None:
        self.problem(line, f"{kind} of {label}, which no earlier element of this file holds: a file that "
                           f"changes data sent in an earlier export cannot be read alone (export a snapshot, "
                           f"or every transaction from the first)")

    def open(self, element, key: tuple, short: str) -> None:
        """A SubjectData, StudyEventData or FormData begins: apply it to its entity."""
        parent = self.stack[-1][0] if self.stack else self.root
        line = element.sourceline
        label = self.label(short)
        kind = self._type(element.get("TransactionType"), line, label)
        entity = None
        if parent is not None and kind is not None:
            existing = parent.children.get(key)
            if kind == "Insert" and existing is not None:
                self.problem(line, f"Insert of {label}, which line {existing.line} already holds (Update, "
                                   f"Upsert, or Remove it first)")
                kind = None
            elif kind in ("Update", "Context", "Remove") and existing is None:
                self._missing(line, kind, label)
                kind = None
            elif kind == "Remove":
                del parent.children[key]
            else:
                entity = existing or parent.children.setdefault(key, _Entity(label, line))
        said = line if element.get("TransactionType") or not self.stack else self.stack[-1][3]
        self.stack.append((entity, kind or "", short, said))

    def close(self) -> None:
        self.stack.pop()

    def site(self, element) -> None:
        entity, kind = self.stack[-1][:2] if self.stack else (None, "")
        if entity is not None and kind != "Context":
            entity.site = element.get("LocationOID", "")

    def record(self, element, key: tuple, short: str) -> None:
        """An ItemGroupData ends: apply it and its ItemData to the record it names."""
        form = self.stack[-1][0] if self.stack else None
        line = element.sourceline
        label = self.label(short)
        kind = self._type(element.get("TransactionType"), line, label)
        if kind is None or (form is None and kind != "Remove"):
            return
        existing = form.children.get(key) if form is not None else None
        if existing is not None and kind in ("Insert", SNAPSHOT):
            why = "a snapshot holds each record once" if kind == SNAPSHOT else "Update, Upsert, or Remove it first"
            self.problem(line, f"{'Insert of ' if kind == 'Insert' else ''}{label} again (first at line "
                               f"{existing.line}): {why}")
            return
        if form is not None and existing is None and kind in ("Update", "Context", "Remove"):
            self._missing(line, kind, label)
            return
        if kind == "Remove" and form is not None:
            del form.children[key]
        record = existing or _Entity(label, line)
        given: dict[str, int] = {}
        for item in element.iterchildren():
            name = _local(item.tag)
            if name.startswith("ItemData"):  # not AuditRecord, Signature, Annotation, MeasurementUnitRef
                self._item(record, item, name, kind, existing is None, label, given)
        if form is not None and kind != "Remove" and existing is None:
            form.children[key] = record

    def _item(self, record: _Entity, item, name: str, group_kind: str, new: bool, label: str,
              given: dict) -> None:
        oid = item.get("ItemOID", "")
        line = item.sourceline
        label = f"{label}, ItemData ItemOID=\"{oid}\""
        own = item.get("TransactionType")
        if own is not None and own not in TRANSACTION_TYPES:
            self.problem(line, f"{label}: TransactionType '{own}' is not one of {', '.join(TRANSACTION_TYPES)}")
            return
        if group_kind == "Remove":
            if own not in (None, "Remove"):
                self.problem(line, f"{label} says TransactionType {own} inside the Remove of its ItemGroupData")
            return
        if oid in given:
            self.problem(line, f"{label} again in one ItemGroupData (first at line {given[oid]})")
            return
        given[oid] = line
        kind = own or group_kind
        if item.get("IsNull") == "Yes":
            value = ""
        elif name == "ItemData":
            value = item.get("Value")
            value = (item.text or "") if value is None else value
        else:  # ItemDataString, ItemDataInteger, ...: the value is the text
            value = item.text or ""
        current = record.items.get(oid, "")
        if kind == "Context":
            if current != value:
                self.problem(line, f"Context {label} is '{value}', but the data hold '{current}' (Context "
                                   f"resends data unchanged)")
        elif kind == "Remove":
            record.items.pop(oid, None)
        elif kind == "Insert" and not new and current != "":
            self.problem(line, f"Insert of {label}, which already holds '{current}' (Update or Upsert it)")
        else:
            record.items[oid] = value


def read_odm(path) -> dict[str, pd.DataFrame]:
    """CDISC ODM 1.3.2 ClinicalData -> one text table per form OID, the same table as the form's CSV.

    Columns: Subject, SiteNumber, Folder, Form, RecordPosition (plus StudyEventRepeatKey and FormRepeatKey
    in a form whose visits or forms repeat), then the form's items in MetaDataVersion order (ItemGroupDef
    ItemRefs by OrderNumber; the column is the ItemDef Name). A missing ItemGroupRepeatKey is
    RecordPosition 1; an absent ItemData is "". Transactions are applied (see the module). Streams with
    iterparse (entities not resolved, no network, no DTD), so large exports fit in memory.
    """
    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    odm = _Parse(path)
    for _ in odm.run():
        pass
    odm.raise_problems()
    return _odm_tables(path, odm.item_names, odm.group_refs, odm.form_groups, _rows(odm.data.root))


class _Parse:
    """One pass of iterparse over an ODM file: the metadata (item names, item groups, forms) and the
    transactions applied (``data``). ``run(batch)`` yields after every ``batch`` subjects closed (never when
    batch is None); the caller may take the closed subjects then (stream_odm)."""

    def __init__(self, path: Path):
        self.path = path
        self.item_names: dict[str, str] = {}          # ItemOID -> Name
        self.group_refs: dict[str, list] = {}         # ItemGroupOID -> [(order, document position, ItemOID)]
        self.form_groups: dict[str, list[str]] = {}   # FormOID -> ItemGroupOIDs
        self.data = _Transactions(path)
        self.metadata_read = False  # a MetaDataVersion ended
        self.taken: set[str] = set()  # subjects handed out (stream_odm): one met again cannot be streamed

    def raise_problems(self) -> None:
        data = self.data
        if data.problems:
            more = [Problem(str(self.path), f"... and {data.more} more transaction problems")] if data.more else []
            raise RawDataError(data.problems + more)

    def run(self, batch: int | None = None):
        from sdtm.readers import NotStreamed

        path, data = self.path, self.data
        item_names, group_refs, form_groups = self.item_names, self.group_refs, self.form_groups
        study = None
        subject = ""
        closed = 0
        watched = [f"{{*}}{tag}" for tag in ("ODM", "ClinicalData", "SubjectData", "SiteRef", "StudyEventData",
                                             "FormData", "ItemGroupData", "ItemDef", "ItemGroupDef", "FormDef",
                                             "MetaDataVersion")]
        context = etree.iterparse(str(path), events=("start", "end"), tag=watched, resolve_entities=False,
                                  no_network=True, huge_tree=True, load_dtd=False, remove_comments=True)
        try:
            for event, element in context:
                name = _local(element.tag)
                attrib = element.attrib
                if event == "start":
                    if name == "ODM":
                        data.file_type = attrib.get("FileType", SNAPSHOT)
                        if data.file_type not in FILE_TYPES:
                            raise RawDataError([Problem(f"{path}: line {element.sourceline}",
                                                        f"FileType '{data.file_type}' is not Snapshot or Transactional")])
                    elif name == "ClinicalData":
                        if study is not None and attrib.get("StudyOID") != study:
                            data.problem(element.sourceline, f"ClinicalData of study '{attrib.get('StudyOID')}' after "
                                                             f"that of study '{study}': export one study per file")
                        study = attrib.get("StudyOID", "")
                    elif name == "SubjectData":
                        subject = attrib.get("SubjectKey", "")
                        if subject in self.taken:
                            raise NotStreamed(f"subject {subject} met again after it was handed out")
                        data.open(element, (subject,), f'SubjectData SubjectKey="{subject}"')
                    elif name == "SiteRef":
                        data.site(element)
                    elif name in ("StudyEventData", "FormData"):
                        oid_attribute = "StudyEventOID" if name == "StudyEventData" else "FormOID"
                        repeat_attribute = REPEAT_COLUMNS[name]
                        short = f'{name} {oid_attribute}="{attrib.get(oid_attribute, "")}"'
                        if attrib.get(repeat_attribute) is not None:
                            short += f' {repeat_attribute}="{attrib.get(repeat_attribute)}"'
                        data.open(element, (attrib.get(oid_attribute, ""), attrib.get(repeat_attribute, "")), short)
                    continue
                if self.taken and name in ("ItemDef", "ItemGroupDef", "FormDef", "MetaDataVersion"):
                    raise NotStreamed("metadata after clinical data handed out")
                if name in ("SubjectData", "StudyEventData", "FormData"):
                    data.close()
                    if name == "SubjectData":
                        element.clear()
                        # drop the finished siblings too, so memory stays flat over thousands of subjects
                        while element.getprevious() is not None:
                            del element.getparent()[0]
                        closed += 1
                        if batch is not None and closed >= batch and not data.stack:
                            closed = 0
                            yield None
                elif name == "ItemGroupData":
                    repeat = attrib.get("ItemGroupRepeatKey", "1") or "1"
                    oid = attrib.get("ItemGroupOID", "")
                    data.record(element, (oid, repeat), f'ItemGroupData ItemGroupOID="{oid}" ItemGroupRepeatKey="{repeat}"')
                    element.clear()
                elif name == "ItemDef":
                    item_names[attrib.get("OID", "")] = attrib.get("Name", "")
                elif name == "ItemGroupDef":
                    refs = [(int(ref.get("OrderNumber", "0") or 0), i, ref.get("ItemOID", ""))
                            for i, ref in enumerate(child for child in element if _local(child.tag) == "ItemRef")]
                    group_refs[attrib.get("OID", "")] = refs
                elif name == "FormDef":
                    form_groups[attrib.get("OID", "")] = [
                        child.get("ItemGroupOID", "") for child in element if _local(child.tag) == "ItemGroupRef"]
                elif name == "MetaDataVersion":
                    self.metadata_read = True
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if exc.lineno is not None else "?"
            raise RawDataError([f"{path}: line {line}: malformed XML ({exc.msg})"]) from None


def stream_odm(path, batch_subjects: int = 1000):
    """An ODM 1.3.2 export as read_odm's tables a batch of subjects at a time: dicts FormOID -> the records of
    the subjects closed since the last one (read_odm's columns; each form's rows in read_odm's order), never
    the whole file's records in memory. At least one dict. What a batch cannot tell alone raises
    NotStreamed (possibly after some dicts: the caller drops them and reads the file whole, read_odm, which
    says what is wrong): any problem of the file, a subject met again after its batch was handed out (read_odm
    adds to it), metadata after the first batch or none before it, and StudyEventRepeatKey or FormRepeatKey
    anywhere in the file (read_odm gives a form those columns only when one of its records uses them)."""
    import mmap

    from sdtm.readers import NotStreamed

    path = Path(path)
    if not path.is_file():
        raise RawDataError([f"{path}: file not found"])
    with open(path, "rb") as handle:
        if path.stat().st_size:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as raw:
                if any(raw.find(key.encode()) >= 0 for key in REPEAT_COLUMNS.values()):
                    raise NotStreamed("repeat keys of visits or forms")
    odm = _Parse(path)
    handed = False
    try:
        for _ in odm.run(batch_subjects):
            tables = _taken(odm)
            if tables is not None:
                handed = True
                yield tables
        odm.raise_problems()  # (also those of elements that left no subject behind, a Remove)
        if odm.data.root.children or not handed:
            yield _taken(odm, always=True)
    except RawDataError as exc:
        raise NotStreamed(str(exc)) from None


def _taken(odm: "_Parse", always: bool = False) -> dict[str, pd.DataFrame] | None:
    """The tables of the subjects closed so far, forgotten by the parse (None when there are none)."""
    from sdtm.readers import NotStreamed

    root = odm.data.root
    if not root.children and not always:
        return None
    odm.raise_problems()  # (a RawDataError: NotStreamed to stream_odm's caller)
    if not odm.metadata_read:
        raise NotStreamed("clinical data before the metadata")
    tables = _odm_tables(odm.path, odm.item_names, odm.group_refs, odm.form_groups, _rows(root))
    odm.taken.update(key for (key,) in root.children)
    root.children.clear()
    return tables


def _rows(root: _Entity) -> dict[str, list[dict]]:
    """FormOID -> its records, as the transactions left them (subjects, visits, forms, records in the
    order each was first inserted)."""
    rows: dict[str, list[dict]] = {}
    for (subject_key,), subject in root.children.items():
        for (event_oid, event_repeat), event in subject.children.items():
            for (form_oid, form_repeat), form in event.children.items():
                for (_, group_repeat), record in form.children.items():
                    rows.setdefault(form_oid, []).append({
                        "Subject": subject_key, "SiteNumber": subject.site, "Folder": event_oid,
                        "StudyEventRepeatKey": event_repeat, "Form": form_oid, "FormRepeatKey": form_repeat,
                        "RecordPosition": group_repeat, **record.items})
    return rows


def _odm_tables(path: Path, item_names: dict, group_refs: dict, form_groups: dict, rows: dict) -> dict[str, pd.DataFrame]:
    def columns_of(form_oid: str) -> list[tuple[str, str]]:
        """(ItemOID, column name) of a form's items, in metadata order."""
        groups = form_groups.get(form_oid) or [form_oid]
        refs = []
        for group in groups:
            refs.extend(oid for _, _, oid in sorted(group_refs.get(group, [])))
        if not refs:  # no ItemGroupDef: ItemDefs named <FORM>.<COLUMN>, in document order
            refs = [oid for oid in item_names if oid.startswith(form_oid + ".")]
        out = []
        for oid in refs:
            column = item_names.get(oid) or oid.split(".", 1)[-1]
            if column not in EDC_COLUMNS and column not in (c for _, c in out):
                out.append((oid, column))
        return out

    structural = set(EDC_COLUMNS) | set(REPEAT_COLUMNS.values())
    tables = {}
    for form_oid in list(form_groups) + [f for f in rows if f not in form_groups]:
        items = columns_of(form_oid)
        known = {oid for oid, _ in items}
        records = rows.get(form_oid, [])
        unknown = sorted({key for rec in records for key in rec if key not in known and key not in structural})
        if unknown:
            raise RawDataError([f"{path}: form {form_oid}: ItemData {', '.join(unknown)} not declared "
                                f"in the form's ItemGroupDef"])
        repeats = {c for c in REPEAT_COLUMNS.values() if any(rec[c] for rec in records)}  # only where used
        order = ["Subject", "SiteNumber", "Folder", "StudyEventRepeatKey", "Form", "FormRepeatKey", "RecordPosition"]
        data = {column: [rec.get(column, "") for rec in records] for column in order
                if column in EDC_COLUMNS or column in repeats}
        for oid, column in items:
            data[column] = [rec.get(oid, "") for rec in records]
        tables[form_oid] = frame_to_text(pd.DataFrame(data, dtype=object))
    return tables
