"""ODM 1.3.2 transactions (sdtm.odm): small hand-written files, one data element a line, so that the
lines in the messages can be read off the text."""
import pandas as pd
import pytest

from sdtm.odm import read_odm
from specs.errors import RawDataError

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="{file_type}" FileOID="F" ODMVersion="1.3.2" CreationDateTime="2024-01-01T00:00:00">
<Study OID="S"><MetaDataVersion OID="MDV.1" Name="m">
<FormDef OID="AE" Name="AE" Repeating="Yes"><ItemGroupRef ItemGroupOID="AE" Mandatory="Yes"/></FormDef>
<FormDef OID="DM" Name="DM" Repeating="No"><ItemGroupRef ItemGroupOID="DM" Mandatory="Yes"/></FormDef>
<ItemGroupDef OID="AE" Name="AE" Repeating="Yes"><ItemRef ItemOID="AE.AETERM" OrderNumber="1" Mandatory="No"/><ItemRef ItemOID="AE.AESEV" OrderNumber="2" Mandatory="No"/></ItemGroupDef>
<ItemGroupDef OID="DM" Name="DM" Repeating="No"><ItemRef ItemOID="DM.SEX" OrderNumber="1" Mandatory="No"/></ItemGroupDef>
<ItemDef OID="AE.AETERM" Name="AETERM" DataType="text"/><ItemDef OID="AE.AESEV" Name="AESEV" DataType="text"/>
<ItemDef OID="DM.SEX" Name="SEX" DataType="text"/>
</MetaDataVersion></Study>
<ClinicalData StudyOID="S" MetaDataVersionOID="MDV.1">
"""
LINE_OF_BODY = HEAD.count("\n") + 1  # the first line after the head


def ae(repeat, term, sev, kind=""):
    kind = f' TransactionType="{kind}"' if kind else ""
    items = "".join(f'<ItemData ItemOID="AE.{k}" Value="{v}"/>' for k, v in (("AETERM", term), ("AESEV", sev)) if v)
    return f'<ItemGroupData ItemGroupOID="AE" ItemGroupRepeatKey="{repeat}"{kind}>{items}</ItemGroupData>'


def subject(key, kind, *groups, event="LOG", form="AE", event_kind="", form_kind=""):
    """One SubjectData, its visit and form each on its own line, then one line per ItemGroupData."""
    def attr(k):
        return f' TransactionType="{k}"' if k else ""
    return [f'<SubjectData SubjectKey="{key}"{attr(kind)}><SiteRef LocationOID="01"/>',
            f'<StudyEventData StudyEventOID="{event}"{attr(event_kind)}>',
            f'<FormData FormOID="{form}"{attr(form_kind)}>', *groups, "</FormData></StudyEventData></SubjectData>"]


def write(tmp_path, lines, file_type="Transactional"):
    path = tmp_path / "odm.xml"
    path.write_text(HEAD.format(file_type=file_type) + "\n".join(lines) + "\n</ClinicalData></ODM>\n", encoding="utf-8")
    return path


def line_of(lines, text):
    """The file line of the n-th body line holding text (the first)."""
    return LINE_OF_BODY + next(i for i, line in enumerate(lines) if text in line)


def rows(table):
    return [tuple(r) for r in table[["Subject", "Folder", "RecordPosition", "AETERM", "AESEV"]].to_numpy()]


def refused(path):
    with pytest.raises(RawDataError) as error:
        read_odm(path)
    return [str(p) for p in error.value.problems]


def test_transactions_are_applied_in_document_order(tmp_path):
    lines = (subject("01-001", "Insert", ae(1, "Headache", "Mild"), ae(2, "Nausea", "Mild"))
             + subject("01-001", "Update", ae(1, "", "Severe"), ae(2, "", "", "Remove"), ae(3, "Rash", "Mild", "Upsert"))
             + subject("01-002", "Upsert", ae(1, "Fever", "Mild")))
    table = read_odm(write(tmp_path, lines))["AE"]
    # record 1 keeps its term and takes the new severity; record 2 is gone; record 3 is new
    assert rows(table) == [("01-001", "LOG", "1", "Headache", "Severe"), ("01-001", "LOG", "3", "Rash", "Mild"),
                           ("01-002", "LOG", "1", "Fever", "Mild")]
    assert list(table.columns) == ["Subject", "SiteNumber", "Folder", "Form", "RecordPosition", "AETERM", "AESEV"]


def test_a_removed_subject_loses_every_record_and_may_be_inserted_again(tmp_path):
    lines = (subject("01-001", "Insert", ae(1, "Headache", "Mild"))
             + subject("01-002", "Insert", ae(1, "Fever", "Mild"))
             + ['<SubjectData SubjectKey="01-001" TransactionType="Remove"></SubjectData>']
             + subject("01-003", "Insert", ae(1, "Rash", "Mild")))
    assert rows(read_odm(write(tmp_path, lines))["AE"]) == [("01-002", "LOG", "1", "Fever", "Mild"),
                                                             ("01-003", "LOG", "1", "Rash", "Mild")]
    lines += subject("01-001", "Insert", ae(1, "Headache", "Moderate"))
    assert rows(read_odm(write(tmp_path, lines))["AE"])[-1] == ("01-001", "LOG", "1", "Headache", "Moderate")


def test_a_removed_form_takes_its_records_and_an_item_may_be_removed_or_nulled(tmp_path):
    lines = (subject("01-001", "Insert", ae(1, "Headache", "Mild"), ae(2, "Nausea", "Mild"))
             + subject("01-001", "Update", form_kind="Remove")
             + subject("01-002", "Insert", ae(1, "Fever", "Mild"))
             + subject("01-002", "Update", '<ItemGroupData ItemGroupOID="AE" ItemGroupRepeatKey="1">'
                                           '<ItemData ItemOID="AE.AESEV" TransactionType="Remove"/></ItemGroupData>')
             + subject("01-003", "Insert", '<ItemGroupData ItemGroupOID="AE" ItemGroupRepeatKey="1">'
                                           '<ItemDataString ItemOID="AE.AETERM">Cough</ItemDataString>'
                                           '<ItemData ItemOID="AE.AESEV" IsNull="Yes"/></ItemGroupData>'))
    assert rows(read_odm(write(tmp_path, lines))["AE"]) == [("01-002", "LOG", "1", "Fever", ""),
                                                             ("01-003", "LOG", "1", "Cough", "")]


def test_context_resends_data_unchanged(tmp_path):
    lines = (subject("01-001", "Insert", ae(1, "Headache", "Mild"))
             + subject("01-001", "Context", ae(1, "Headache", "Mild")))
    assert rows(read_odm(write(tmp_path, lines))["AE"]) == [("01-001", "LOG", "1", "Headache", "Mild")]
    lines += subject("01-001", "Context", ae(1, "Headache", "Severe"))
    assert refused(write(tmp_path, lines)) == [
        f'{tmp_path}/odm.xml: line {line_of(lines, "Severe")}: Context SubjectData SubjectKey="01-001", '
        'StudyEventData StudyEventOID="LOG", FormData FormOID="AE", ItemGroupData ItemGroupOID="AE" '
        'ItemGroupRepeatKey="1", ItemData ItemOID="AE.AESEV" is \'Severe\', but the data hold \'Mild\' (Context '
        'resends data unchanged)']


def test_changing_what_the_file_does_not_hold_is_refused(tmp_path):
    # a delta against an earlier export: the record to remove was sent in another file
    lines = (subject("01-001", "Insert", ae(1, "Headache", "Mild"))
             + subject("01-001", "Update", ae(2, "", "", "Remove")))
    assert refused(write(tmp_path, lines)) == [
        f'{tmp_path}/odm.xml: line {line_of(lines, "Remove")}: Remove of SubjectData SubjectKey="01-001", '
        'StudyEventData StudyEventOID="LOG", FormData FormOID="AE", ItemGroupData ItemGroupOID="AE" '
        'ItemGroupRepeatKey="2", which no earlier element of this file holds: a file that changes data sent in '
        'an earlier export cannot be read alone (export a snapshot, or every transaction from the first)']
    lines = subject("01-009", "Update", ae(1, "Headache", "Mild"))
    assert refused(write(tmp_path, lines)) == [
        f'{tmp_path}/odm.xml: line {LINE_OF_BODY}: Update of SubjectData SubjectKey="01-009", which no earlier '
        'element of this file holds: a file that changes data sent in an earlier export cannot be read alone '
        '(export a snapshot, or every transaction from the first)']


def test_an_insert_of_what_exists_and_a_change_inside_a_remove_are_refused(tmp_path):
    lines = (subject("01-001", "Insert", ae(1, "Headache", "Mild"))
             + subject("01-001", "Upsert", ae(1, "Headache", "Mild", "Insert")))
    again = line_of(lines, 'TransactionType="Insert"><Item')
    assert refused(write(tmp_path, lines)) == [
        f'{tmp_path}/odm.xml: line {again}: Insert of SubjectData '
        'SubjectKey="01-001", StudyEventData StudyEventOID="LOG", FormData FormOID="AE", ItemGroupData '
        'ItemGroupOID="AE" ItemGroupRepeatKey="1" again (first at line '
        f'{line_of(lines, "Headache")}): Update, Upsert, or Remove it first']
    lines = (subject("01-001", "Insert", ae(1, "Headache", "Mild"))
             + subject("01-001", "Remove", ae(1, "Headache", "Mild", "Update")))
    assert refused(write(tmp_path, lines)) == [
        f'{tmp_path}/odm.xml: line {line_of(lines, "Update")}: SubjectData SubjectKey="01-001", StudyEventData '
        'StudyEventOID="LOG", FormData FormOID="AE", ItemGroupData ItemGroupOID="AE" ItemGroupRepeatKey="1" says '
        f'TransactionType Update inside the Remove of line {line_of(lines, "Remove")}: what a Remove contains is removed with it']


def test_a_transactional_file_must_say_what_each_subject_does(tmp_path):
    lines = subject("01-001", "", ae(1, "Headache", "Mild"))
    assert refused(write(tmp_path, lines)) == [
        f'{tmp_path}/odm.xml: line {LINE_OF_BODY}: SubjectData SubjectKey="01-001" has no TransactionType; in a '
        'Transactional file (FileType="Transactional") each SubjectData must say what it does (Insert, Update, '
        'Remove, Upsert, Context)']
    lines = subject("01-001", "Delete", ae(1, "Headache", "Mild"))
    assert refused(write(tmp_path, lines)) == [
        f'{tmp_path}/odm.xml: line {LINE_OF_BODY}: SubjectData SubjectKey="01-001": TransactionType \'Delete\' is '
        'not one of Insert, Update, Remove, Upsert, Context']


def test_a_snapshot_holds_each_record_once_and_applies_what_it_says(tmp_path):
    lines = (subject("01-001", "", ae(1, "Headache", "Mild"))
             + subject("01-001", "", ae(1, "Headache", "Severe")))
    assert refused(write(tmp_path, lines, "Snapshot")) == [
        f'{tmp_path}/odm.xml: line {line_of(lines, "Severe")}: SubjectData SubjectKey="01-001", StudyEventData '
        'StudyEventOID="LOG", FormData FormOID="AE", ItemGroupData ItemGroupOID="AE" ItemGroupRepeatKey="1" again '
        f'(first at line {line_of(lines, "Mild")}): a snapshot holds each record once']
    # a subject met again adds to the same subject; a Remove in a snapshot is applied, not ignored
    lines = (subject("01-001", "", ae(1, "Headache", "Mild"), ae(2, "Nausea", "Mild"))
             + subject("01-001", "", ae(2, "", "", "Remove"), event="LOG"))
    assert rows(read_odm(write(tmp_path, lines, "Snapshot"))["AE"]) == [("01-001", "LOG", "1", "Headache", "Mild")]


def test_repeated_visits_and_forms_are_columns_of_their_form(tmp_path):
    lines = ['<SubjectData SubjectKey="01-001"><SiteRef LocationOID="01"/>',
             '<StudyEventData StudyEventOID="UNS" StudyEventRepeatKey="1"><FormData FormOID="AE">',
             ae(1, "Headache", "Mild"), "</FormData></StudyEventData>",
             '<StudyEventData StudyEventOID="UNS" StudyEventRepeatKey="2"><FormData FormOID="AE">',
             ae(1, "Fever", "Mild"), "</FormData></StudyEventData></SubjectData>"]
    table = read_odm(write(tmp_path, lines, "Snapshot"))["AE"]
    assert list(table.columns[:6]) == ["Subject", "SiteNumber", "Folder", "StudyEventRepeatKey", "Form",
                                       "RecordPosition"]
    assert list(zip(table["StudyEventRepeatKey"], table["AETERM"])) == [("1", "Headache"), ("2", "Fever")]
    assert list(read_odm(write(tmp_path, lines, "Snapshot"))["DM"].columns) == [
        "Subject", "SiteNumber", "Folder", "Form", "RecordPosition", "SEX"]
    assert isinstance(table, pd.DataFrame)


# ------------------------------------------------------------------------- a batch of subjects at a time (stream_odm)
def dm(sex):
    return f'<ItemGroupData ItemGroupOID="DM" ItemGroupRepeatKey="1"><ItemData ItemOID="DM.SEX" Value="{sex}"/></ItemGroupData>'


def streamed(path, batch):
    from sdtm.odm import stream_odm

    return [{form: table for form, table in tables.items()} for tables in stream_odm(path, batch)]


def test_stream_odm_hands_out_the_whole_read_a_batch_of_closed_subjects_at_a_time(tmp_path):
    # batches of 2 SubjectData closed: 01-001 twice (updated within its batch), then 01-002 and 01-003; 01-004
    # inserted and removed (nothing to hand out), inserted again with 01-005 (DM only); nothing after
    lines = (subject("01-001", "Insert", ae(1, "Headache", "Mild"), ae(2, "Nausea", "Mild"))
             + subject("01-001", "Update", ae(1, "", "Severe"), ae(2, "", "", "Remove"))
             + subject("01-002", "Insert", ae(1, "Fever", "Mild"))
             + subject("01-003", "Insert", ae(1, "Rash", "Mild"))
             + subject("01-004", "Insert", dm("F"), event="SCR", form="DM")
             + ['<SubjectData SubjectKey="01-004" TransactionType="Remove"></SubjectData>']
             + subject("01-004", "Insert", ae(1, "Cough", "Moderate"))
             + subject("01-005", "Insert", dm("M"), event="SCR", form="DM"))
    path = write(tmp_path, lines)
    batches = streamed(path, 2)
    assert [list(tables) for tables in batches] == [["AE", "DM"]] * 3
    assert [rows(tables["AE"]) for tables in batches] == [
        [("01-001", "LOG", "1", "Headache", "Severe")],
        [("01-002", "LOG", "1", "Fever", "Mild"), ("01-003", "LOG", "1", "Rash", "Mild")],
        [("01-004", "LOG", "1", "Cough", "Moderate")]]
    assert [tables["DM"][["Subject", "Folder", "SEX"]].values.tolist() for tables in batches] == [
        [], [], [["01-005", "SCR", "M"]]]
    whole = read_odm(path)
    for form in ("AE", "DM"):  # the batches one after the other: the whole read's table, its columns and types
        pd.testing.assert_frame_equal(pd.concat([tables[form] for tables in batches], ignore_index=True), whole[form])
    one = streamed(path, 100)  # all in one batch, handed out at the end
    assert len(one) == 1 and all(one[0][form].equals(whole[form]) for form in whole)


def test_stream_odm_leaves_to_the_whole_read_what_a_batch_cannot_tell(tmp_path):
    from sdtm.odm import stream_odm
    from sdtm.readers import NotStreamed

    def stops(lines):
        """(how many dicts were handed out before NotStreamed, its reason), 2 SubjectData a batch."""
        got = []
        with pytest.raises(NotStreamed) as why:
            for tables in stream_odm(write(tmp_path, lines), 2):
                got.append(tables)
        return len(got), str(why.value)

    first = subject("01-001", "Insert", ae(1, "Headache", "Mild")) + subject("01-002", "Insert", ae(1, "Fever", "Mild"))
    # a subject met again after its batch was handed out: the whole read adds to it
    lines = first + subject("01-001", "Update", ae(1, "", "Severe"))
    assert stops(lines) == (1, "subject 01-001 met again after it was handed out")
    assert rows(read_odm(write(tmp_path, lines))["AE"])[0] == ("01-001", "LOG", "1", "Headache", "Severe")
    # a transaction problem, an ItemData the metadata do not declare, a truncated file, each in the second batch:
    # the whole read's message (01-003's lines: SubjectData at LINE_OF_BODY + 10, its ItemGroupData at + 13)
    third = subject("01-003", "Insert", ae(1, "Rash", "Mild"))
    lines = first + third + third
    assert stops(lines)[0] == 1
    assert refused(write(tmp_path, lines)) == [
        f'{tmp_path}/odm.xml: line {LINE_OF_BODY + 15}: Insert of SubjectData SubjectKey="01-003", which line '
        f'{LINE_OF_BODY + 10} already holds (Update, Upsert, or Remove it first)']
    lines = first + subject("01-003", "Insert", '<ItemGroupData ItemGroupOID="AE" ItemGroupRepeatKey="1">'
                                                '<ItemData ItemOID="AE.AEOUT" Value="Resolved"/></ItemGroupData>')
    assert stops(lines) == (1, f"1 raw data error:\n  {tmp_path}/odm.xml: form AE: ItemData AE.AEOUT not declared "
                               f"in the form's ItemGroupDef")
    assert refused(write(tmp_path, lines)) == [
        f"{tmp_path}/odm.xml: form AE: ItemData AE.AEOUT not declared in the form's ItemGroupDef"]
    path = write(tmp_path, first + third)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("</ItemGroupData>", text.index("Rash"))], encoding="utf-8")  # ends in a record
    message = (f"{tmp_path}/odm.xml: line {LINE_OF_BODY + 13}: malformed XML (Premature end of data in tag "
               f"ItemGroupData line {LINE_OF_BODY + 13}, line {LINE_OF_BODY + 13}, column 144)")  # (143 characters)
    assert refused(path) == [message]
    got = []
    with pytest.raises(NotStreamed) as why:
        for tables in stream_odm(path, 2):
            got.append(tables)
    assert (len(got), str(why.value)) == (1, f"1 raw data error:\n  {message}")
    # a repeated visit anywhere in the file: the whole read makes it a column only of forms that use it
    lines = first + ['<SubjectData SubjectKey="01-003" TransactionType="Insert"><StudyEventData StudyEventOID="UNS" '
                     'StudyEventRepeatKey="1"><FormData FormOID="AE">', ae(1, "Rash", "Mild"),
                     "</FormData></StudyEventData></SubjectData>"]
    assert stops(lines) == (0, "repeat keys of visits or forms")
