"""The structure of a SAS XPORT file (v5, and v8/v9 as SAS's %loc2xpt and pyreadstat write it), checked.

Every record is 80 bytes. v5 (SAS TS-140): library header, two real headers, member header, descriptor
header, two member records (name, created; modified, label), NAMESTR header with the variable count,
one 140-byte NAMESTR per variable (padded to 80), OBS header, then the observations as fixed-width
records padded with blanks to a multiple of 80. v8 renames the headers (LIBV8, MEMBV8, DSCPTV8,
NAMSTV8, OBSV8), allows 32-character names in the NAMESTR, may add a LABELV8 (long labels) or LABELV9
(long labels and formats) section before OBSV8, and states the observation count in the OBSV8 header.

What does not add up is refused with one message naming the file, what is wrong, what was expected
and what was found: a file that is not a multiple of 80 bytes, a missing or malformed header, a
variable count that does not match the NAMESTR records, a data section that ends in a partial record,
a v8 observation count that differs from the records present. One thing cannot be seen from a v5
file alone: a cut that falls exactly on a record boundary which is also a multiple of 80 bytes (v5
records no observation count); only a checksum kept beside the file (manifest.json) can tell.
"""
from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

RECORD = 80
HEADER = b"HEADER RECORD*******"
HEADER_TAIL = b"HEADER RECORD!!!!!!!"
SCAN_BYTES = 32 << 20  # the data section is scanned this much at a time
NAMES = {5: {"library": "LIBRARY", "member": "MEMBER", "descriptor": "DSCRPTR", "namestr": "NAMESTR", "obs": "OBS"},
         8: {"library": "LIBV8", "member": "MEMBV8", "descriptor": "DSCPTV8", "namestr": "NAMSTV8", "obs": "OBSV8"}}
NAMESTR_LENGTHS = (140, 136)  # 136 on VAX/VMS; the fields read here are in the first 88 bytes
NAMESTR_FIELDS = struct.Struct(">hhhh8s40s8shhhh8shhl")  # ntype, nhfun, nlng, nvar0, nname ... npos
# SAS's v5 engine stops at 200, but other tools write longer values in v5 files and they read fine:
# that is a conformance finding for the validator (CV0103), not damage.
MAX_CHAR = 32767


class XportError(ValueError):
    """A file that is not a readable SAS XPORT file, or is truncated or damaged."""

    def __init__(self, path, message: str):
        self.path = str(path)
        self.message = message
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class Variable:
    """One variable as its NAMESTR (and v8 label section) describes it; text still as bytes."""

    number: int  # 1-based, the order in the file
    name: str
    label: bytes
    type: str  # "Char" or "Num"
    length: int  # bytes in each record
    position: int  # offset in the record
    format_name: str = ""
    format_width: int = 0
    format_decimals: int = 0
    informat_name: str = ""
    informat_width: int = 0
    informat_decimals: int = 0
    format_text: str | None = None  # v9 LABELV9: the whole format as written ("MYLONGFMT12.2")
    informat_text: str | None = None

    @property
    def format(self) -> str | None:
        """'DATE9.', '8.2', 'BEST.', '$CHAR20.' or None (no format)."""
        if self.format_text is not None:
            return _with_dot(self.format_text)
        return format_text(self.format_name, self.format_width, self.format_decimals)

    @property
    def informat(self) -> str | None:
        if self.informat_text is not None:
            return _with_dot(self.informat_text)
        return format_text(self.informat_name, self.informat_width, self.informat_decimals)


@dataclass(frozen=True)
class Layout:
    """Where everything is in one XPORT file, after every structure check passed."""

    path: Path
    version: int  # 5, or 8 for v8/v9
    file_size: int
    dataset_name: str
    dataset_label: bytes
    dataset_type: str
    sas_version: str
    sas_os: str
    created: str  # as written, e.g. '01JAN00:00:00:00'
    modified: str
    variables: list[Variable] = field(default_factory=list)
    record_length: int = 0
    data_offset: int = 0  # byte offset of the first observation
    observations: int = 0
    declared_observations: int | None = None  # v8 OBSV8 header


def format_text(name: str, width: int, decimals: int) -> str | None:
    if not name and not width and not decimals:
        return None
    return f"{name}{width or ''}.{decimals or ''}"


def _with_dot(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    return text if "." in text else text + "."


def _show(data: bytes, limit: int = 48) -> str:
    """Bytes as readable text for a message: ASCII kept, other bytes as \\xNN."""
    text = "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in data[:limit])
    return f"'{text}{'...' if len(data) > limit else ''}'"


def _ascii(data: bytes) -> str:
    return data.decode("ascii", errors="replace").strip()


class _Reader:
    """Walks the header records of one file, raising XportError with the record it stopped at."""

    def __init__(self, path: Path, raw: bytes):
        self.path = path
        self.raw = raw
        self.version = 5

    def fail(self, message: str):
        raise XportError(self.path, message)

    def record(self, index: int, what: str) -> bytes:
        end = (index + 1) * RECORD
        if end > len(self.raw):
            self.fail(f"truncated SAS XPORT file: it ends at byte {len(self.raw):,}, inside {what} "
                      f"(record {index + 1}, bytes {index * RECORD:,}-{end - 1:,}); expected at least {end:,} bytes")
        return self.raw[index * RECORD:end]

    def header(self, index: int, kind: str) -> bytes:
        name = NAMES[self.version][kind]
        rec = self.record(index, f"the {name} header record")
        expected = HEADER + name.ljust(8).encode("ascii") + HEADER_TAIL
        if rec[:48] != expected:
            self.fail(f"damaged SAS XPORT file: record {index + 1} (byte {index * RECORD:,}) should be the "
                      f"{name} header record {_show(expected)}, found {_show(rec[:48])}")
        return rec

    def number(self, text: bytes, index: int, what: str) -> int:
        stripped = text.strip()
        if not stripped.isdigit():
            self.fail(f"damaged SAS XPORT file: record {index + 1} (byte {index * RECORD:,}): {what} "
                      f"{_show(text)} is not a number")
        return int(stripped)


def read_layout(path, raw: bytes) -> Layout:
    """Check the structure of ``raw`` (the bytes of the file at ``path``) and say where everything is."""
    path = Path(path)
    r = _Reader(path, raw)
    if len(raw) == 0:
        r.fail("empty file (0 bytes): not a SAS XPORT file")
    first = raw[:RECORD]
    if first.startswith(HEADER + b"LIBV8   " + HEADER_TAIL):
        r.version = 8
    elif len(first) < RECORD and (HEADER + b"LIBRARY " + HEADER_TAIL).startswith(first[:48]):
        r.record(0, "the LIBRARY header record")  # a cut inside the first record
    elif not first.startswith(HEADER + b"LIBRARY " + HEADER_TAIL):
        r.fail(f"not a SAS XPORT file: the first record should be the library header "
               f"{_show(HEADER + b'LIBRARY ' + HEADER_TAIL)}, found {_show(first)}")
    r.header(0, "library")
    real = r.record(1, "the first real header record")
    if real[:24] != b"SAS     SAS     SASLIB  ":
        r.fail(f"damaged SAS XPORT file: record 2 (byte 80) should start with 'SAS     SAS     SASLIB  ', "
               f"found {_show(real[:24])}")
    modified_lib = r.record(2, "the second real header record")
    member = r.header(3, "member")
    namestr_length = r.number(member[74:78], 3, "the NAMESTR length")
    if namestr_length not in NAMESTR_LENGTHS:
        r.fail(f"damaged SAS XPORT file: record 4 (byte 240): NAMESTR length {namestr_length}, expected 140 (or 136)")
    r.header(4, "descriptor")
    member1 = r.record(5, "the first member header record")
    name_end = 16 if r.version == 5 else 40
    if member1[:8] != b"SAS     " or member1[name_end:name_end + 8] != b"SASDATA ":
        r.fail(f"damaged SAS XPORT file: record 6 (byte 400) should be the member record "
               f"'SAS     <name> SASDATA ...', found {_show(member1)}")
    member2 = r.record(6, "the second member header record")
    namestr_header = r.header(7, "namestr")
    count = r.number(namestr_header[48:58], 7, "the variable count")

    # NAMESTR records, padded with blanks to a multiple of 80
    start = 8 * RECORD
    namestr_bytes = count * namestr_length
    end = start + namestr_bytes
    if end > len(raw):
        r.fail(f"truncated SAS XPORT file: the NAMESTR header declares {count} variables "
               f"({namestr_bytes:,} bytes of NAMESTR records from byte {start:,}), but the file has {len(raw):,} bytes")
    variables = _namestrs(r, raw, start, count, namestr_length)
    index = -(-end // RECORD)  # the record after the padding

    long_labels: dict[int, tuple] = {}
    if r.version == 8:
        rec = r.record(index, "the LABELV8 or OBSV8 header record")
        kind = rec[20:28].strip()
        if kind in (b"LABELV8", b"LABELV9") and rec[28:48] == HEADER_TAIL:
            labels = r.number(rec[48:53], index, f"the {kind.decode()} count")
            long_labels, index = _label_section(r, raw, (index + 1) * RECORD, labels, count, kind == b"LABELV9")
    obs_header = r.header(index, "obs")
    data_offset = (index + 1) * RECORD
    declared = None
    count_text = obs_header[48:63]
    if r.version == 8 and count_text.strip() and count_text != b"0" * 15:  # 15 zeros: no count, as in v5
        declared = r.number(count_text, index, "the observation count")

    variables = _apply_labels(r, variables, long_labels)
    names = [v.name.upper() for v in variables]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        r.fail(f"damaged SAS XPORT file: variable name(s) {', '.join(duplicates)} appear more than once in the NAMESTR records")
    record_length = sum(v.length for v in variables)
    observations = _observation_count(r, raw, data_offset, record_length, declared)
    return Layout(
        path=path, version=r.version, file_size=len(raw),
        dataset_name=_ascii(member1[8:name_end]), dataset_label=member2[32:72].rstrip(b" \x00"),
        dataset_type=_ascii(member2[72:80]), sas_version=_ascii(real[24:32]), sas_os=_ascii(real[32:40]),
        created=_ascii(member1[64:80]), modified=_ascii(member2[:16]) or _ascii(modified_lib[:16]),
        variables=variables, record_length=record_length, data_offset=data_offset,
        observations=observations, declared_observations=declared)


def _namestrs(r: _Reader, raw: bytes, start: int, count: int, size: int) -> list[Variable]:
    variables = []
    position = 0
    for i in range(count):
        offset = start + i * size
        (ntype, _, length, _, nname, nlabel, nform, nfl, nfd, _, _, niform, nifl, nifd,
         npos) = NAMESTR_FIELDS.unpack_from(raw, offset)
        name = _ascii(nname)
        if r.version == 8 and size == 140:
            long_name = _ascii(raw[offset + 88:offset + 120].split(b"\x00")[0])
            name = long_name or name
        where = f"damaged SAS XPORT file: NAMESTR {i + 1} of {count} (byte {offset:,})"
        if ntype not in (1, 2):
            r.fail(f"{where}: type {ntype}, expected 1 (numeric) or 2 (character); "
                   f"is the variable count in the NAMESTR header right?")
        if not name or not nname.strip(b" \x00").isascii():
            r.fail(f"{where}: no valid variable name (found {_show(nname)})")
        kind = "Num" if ntype == 1 else "Char"
        if kind == "Num" and not 2 <= length <= 8:
            r.fail(f"{where}: numeric variable {name} has length {length}, expected 2 to 8")
        if kind == "Char" and not 1 <= length <= MAX_CHAR:
            r.fail(f"{where}: character variable {name} has length {length}, expected 1 to {MAX_CHAR}")
        if npos != position:
            r.fail(f"{where}: variable {name} starts at byte {npos} of the record, expected {position} "
                   f"(right after the variables before it)")
        variables.append(Variable(
            number=i + 1, name=name, label=nlabel.rstrip(b" \x00"), type=kind, length=length, position=npos,
            format_name=_ascii(nform), format_width=max(nfl, 0), format_decimals=max(nfd, 0),
            informat_name=_ascii(niform), informat_width=max(nifl, 0), informat_decimals=max(nifd, 0)))
        position += length
    return variables


def _label_section(r: _Reader, raw: bytes, start: int, count: int, variables: int, v9: bool
                   ) -> tuple[dict[int, tuple], int]:
    """LABELV8 (number, name, label) or LABELV9 (... format, informat) entries: {number: texts}."""
    head = struct.Struct(">5H" if v9 else ">3H")
    offset = start
    entries = {}
    section = "LABELV9" if v9 else "LABELV8"
    for i in range(count):
        if offset + head.size > len(raw):
            r.fail(f"truncated SAS XPORT file: the {section} section ends at byte {len(raw):,} in entry {i + 1} of {count}")
        lengths = head.unpack_from(raw, offset)
        number, sizes = lengths[0], lengths[1:]
        if v9:  # number, name, label, format, informat lengths; texts in the order name, label, format, informat
            sizes = (sizes[0], sizes[1], sizes[2], sizes[3])
        offset += head.size
        if not 1 <= number <= variables:
            r.fail(f"damaged SAS XPORT file: {section} entry {i + 1} (byte {offset - head.size:,}) names variable "
                   f"{number}, expected 1 to {variables}")
        texts = []
        for size in sizes:
            texts.append(raw[offset:offset + size])
            offset += size
        if offset > len(raw):
            r.fail(f"truncated SAS XPORT file: the {section} section ends at byte {len(raw):,} in entry {i + 1} of {count}")
        entries[number] = tuple(texts)
    return entries, -(-offset // RECORD)


def _apply_labels(r: _Reader, variables: list[Variable], entries: dict[int, tuple]) -> list[Variable]:
    if not entries:
        return variables
    out = []
    for var in variables:
        texts = entries.get(var.number)
        if texts is None:
            out.append(var)
            continue
        name, label = _ascii(texts[0]) or var.name, texts[1].rstrip(b" \x00")
        fields = dict(var.__dict__, name=name, label=label)
        if len(texts) == 4:
            fields["format_text"] = _ascii(texts[2]) or None
            fields["informat_text"] = _ascii(texts[3]) or None
        out.append(Variable(**fields))
    return out


def release_pages(raw, start: int, end: int) -> None:
    """Give back the pages of a memory-mapped file's ``raw[start:end]`` once read (they stay in the page
    cache): reading a large file does not make the process as large as the file. No-op on bytes."""
    if not isinstance(raw, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED") or not hasattr(raw, "madvise"):
        return
    first = start - start % mmap.PAGESIZE
    if end > first:
        raw.madvise(mmap.MADV_DONTNEED, first, min(end, len(raw)) - first)


def _find_record(raw, pattern: bytes, start: int) -> int:
    """Offset of the first occurrence of ``pattern`` at or after ``start`` that begins an 80-byte record
    (-1 if none), scanned window by window."""
    while start < len(raw):
        end = min(len(raw), start + SCAN_BYTES)
        found = raw.find(pattern, start, min(len(raw), end + len(pattern) - 1))
        while found != -1 and found % RECORD:
            found = raw.find(pattern, found + 1, min(len(raw), end + len(pattern) - 1))
        release_pages(raw, start, end)
        if found != -1:
            return found
        start = end
    return -1


def _last_non_blank(raw: bytes, start: int) -> int:
    """1 + the offset of the last byte at or after ``start`` that is not a blank (``start`` if none)."""
    end = len(raw)
    while end > start:
        chunk_start = max(start, end - 65536)
        stripped = raw[chunk_start:end].rstrip(b" ")
        if stripped:
            return chunk_start + len(stripped)
        end = chunk_start
    return start


def _observation_count(r: _Reader, raw: bytes, offset: int, length: int, declared: int | None) -> int:
    """How many records the data section holds; refuse a partial record or a wrong v8 count.

    The writer pads the last record with blanks up to a multiple of 80 bytes, so the count n is the
    one with n * length <= data bytes < n * length + 80 whose tail is blank. When a record is shorter
    than 80 bytes, wholly blank records at the very end cannot be told from padding (as in every
    reader); they are taken as padding.
    """
    data = len(raw) - offset
    not_multiple = len(raw) % RECORD
    member = _find_record(raw, HEADER + b"MEMB", offset)
    if member != -1:
        r.fail(f"this SAS XPORT file holds more than one dataset (another member header at byte {member:,}); "
               f"expected one dataset per file")
    if length == 0:
        if _last_non_blank(raw, offset) > offset:
            r.fail(f"damaged SAS XPORT file: no variables, but {data:,} bytes of data after the OBS header")
        return 0
    last = _last_non_blank(raw, offset) - offset  # data bytes up to the last non-blank one
    needed = -(-last // length)  # records that the non-blank bytes occupy
    whole, partial = divmod(data, length)
    found = (f"{whole:,} whole record{'s' if whole != 1 else ''} of {length} bytes"
             + (f" and {partial} bytes of a partial record" if partial else ""))
    where = f"the data section ({data:,} bytes from byte {offset:,})"
    if declared is not None:
        if declared * length > data:
            r.fail(f"truncated SAS XPORT file: the OBSV8 header declares {declared:,} observations of {length} bytes "
                   f"({declared * length:,} bytes), {where} holds {found}")
        if needed > declared or data - declared * length >= RECORD:
            r.fail(f"damaged SAS XPORT file: the OBSV8 header declares {declared:,} observations of {length} bytes "
                   f"({declared * length:,} bytes padded to a multiple of 80), {where} holds {found}")
    if not_multiple:
        r.fail(f"truncated or damaged SAS XPORT file: {len(raw):,} bytes is not a multiple of 80 (an XPORT file "
               f"is made of 80-byte records); {where} holds {found}")
    if declared is not None:
        return declared
    lowest = max(needed, (data - RECORD) // length + 1 if data >= RECORD else 0)
    if lowest * length > data:
        r.fail(f"truncated SAS XPORT file: {where} ends in a partial record: expected {lowest:,} records of "
               f"{length} bytes ({lowest * length:,} bytes) padded with blanks to a multiple of 80, found {found}")
    return lowest
