"""The sources of a REDCap export read a record batch at a time into the chunks, as CSV files are.

A REDCap records export is one CSV file holding every instrument (sdtm.redcap); read_raw reads it whole and
cuts each instrument a source reads out of it. Here it is read once, a record batch at a time (the CSV reader's
batches, sdtm.readers.stream_csv_source), and each batch is cut into the instruments the spec's sources read
(sdtm.redcap.read_form on the batch: the rows of the instrument, its fields decoded through the data
dictionary), each record located by its line in the export counted on from the batch before, and spilled,
its subjects and raw checks (cdisc.chunks.checks) worked out as the batches go by, as _read_streamed does for
a CSV file. The records of an instrument no source reads are counted batch by batch for the run report.

The batches decide alone everything read_raw decides on the records but the problems: a record's rows,
columns and values depend on that record only (read_form works row by row; repeated keys and undeclared values
are RawChecks', as for any source). At the first problem of any kind (a file, a dictionary, a column or a code
the dictionary does not know, a malformed line, an encoding error) or anything a batch cannot take, what was
read is forgotten and the caller reads the whole export with read_raw, which gives the messages it gives."""
from __future__ import annotations

from pathlib import Path

from cdisc.chunks.raw import RawRead, read_export_run, spill_batch
from cdisc.chunks.spill import give_back_memory, write_frame
from cdisc.chunks.subjects import SubjectReading
from specs.errors import RawDataError


def read_redcap_run(spec, raw_dir: Path, edc: str, progress, reading: SubjectReading, checks, target: Path,
                    batch_records: int | None) -> RawRead | None:
    """Every source of a run with REDCap sources read a batch at a time: each records export once, every source
    reading one of its instruments fed from each batch; the other sources as in a CSV export (_read_streamed).
    None, with nothing left of what was read (spill files, subjects, checks), at the first problem or anything a
    batch cannot take: the caller reads the export whole (read_raw). Else read_raw's files, notes (instruments
    holding data no source reads) and columns."""
    if edc == "odm" and any("odm" in source for source in spec.sources.values()):
        return None  # (forms of an ODM export beside it: read_raw reads them)
    notes = []

    def read_export(path: Path, label: str, names: list[str]) -> dict[str, list[str]]:
        return _read_export(spec, raw_dir, path, label, names, progress, reading, checks, target, batch_records,
                            notes)

    read = read_export_run(spec, raw_dir, "redcap", read_export, progress, reading, checks, target, batch_records)
    return RawRead(read[0], notes, read[1]) if read is not None else None


def _dictionaries(spec, raw_dir: Path, names: list[str], progress) -> dict:
    """Each source's data dictionary, each file read once (whole: it describes the fields, not the records)."""
    from sdtm.readers import NotStreamed, read_csv_source
    from sdtm.redcap import read_dictionary
    from specs.loader import confined_path, display_path

    read, out = {}, {}
    for name in names:
        path, why = confined_path(raw_dir, spec.sources[name]["redcap"]["dictionary"], "raw export folder")
        if why:
            raise NotStreamed("a dictionary outside the raw export")
        if path not in read:
            shown = display_path(path)
            progress.step(f"reading {shown}")
            read[path] = read_dictionary(read_csv_source(path), shown)
        out[name] = read[path]
    return out


def _read_export(spec, raw_dir: Path, path: Path, label: str, names: list[str], progress, reading: SubjectReading,
                 checks, target: Path, batch_records: int | None, notes: list[str]) -> dict[str, list[str]]:
    """One records export read a batch at a time into the spill files of ``names`` (the sources reading its
    instruments); the note of each instrument that holds data no source reads added to ``notes``; each source's
    columns. RawDataError or NotStreamed at the first problem (spill files left for the caller to remove)."""
    from cdisc.raw_export import located_source, unread_instrument
    from sdtm.readers import stream_csv_source
    from sdtm.redcap import read_form, rows_of_form

    dictionaries = _dictionaries(spec, raw_dir, names, progress)
    progress.step(f"reading {label}")
    forms = {n: spec.sources[n]["redcap"]["form"] for n in names}
    noted = dictionaries[names[0]]  # (read_raw says the unread instruments of the first source's dictionary)
    unread = {form: 0 for form in noted.forms() if form not in forms.values()}
    writers, empty, headers, first_row = {}, {}, {}, 1
    for n in names:
        checks.start(n)
    try:
        for records in stream_csv_source(path, "utf-8", batch_records):
            for n in names:
                source = spec.sources[n]
                frame = read_form(records, dictionaries[n], forms[n], label, tuple(source["redcap"].get("codes", ())))
                rows = frame.attrs.pop("rows") + (first_row - 1)
                table, problem = located_source(frame, f"{label}#{forms[n]}", source, rows)
                del frame
                if problem is not None:
                    raise RawDataError([problem])
                if not len(table):  # (an instrument with no record in this batch; the first kept for its columns)
                    empty.setdefault(n, table)
                    continue
                spill_batch(n, table, writers, headers, target, checks, reading)
                del table
            for form in unread:
                unread[form] += int(rows_of_form(records, noted, form).sum())
            first_row += len(records)
            del records
    finally:
        for writer in writers.values():
            writer.close()
    for n in names:
        if n not in writers:  # no record of the instrument: its empty table, as read_raw gives it
            table = empty[n]
            headers[n] = list(table.columns)
            checks.add(n, table)
            reading.add(n, table)
            write_frame(table, target / f"{n}.arrow")
        checks.finish(n, target / f"{n}.arrow")
    notes += [unread_instrument(label, form, count) for form, count in unread.items() if count]
    give_back_memory(collect=False)
    return headers
