"""Read a SAS XPORT file (v5 or v8/v9) into a DataFrame with numpy over the fixed-width records.

Values come out as pyreadstat gives them: numbers as float64 (every SAS missing value . ._ .A-.Z as
NaN; which special missing value it was is kept in ``special_missing``), text with trailing blanks
removed (blank = ""), SAS dates left as day numbers. Text is decoded once per distinct value: UTF-8
(strict), else cp1252 for the whole file (files in the wild often are), unless an encoding is given;
the one used is reported. The structure is checked first (``sasxport.layout``): a truncated or damaged
file is an XportError, never a partial read.
"""
from __future__ import annotations

import mmap
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sasxport.ibm import ibm_to_ieee
from sasxport.layout import Layout, Variable, XportError, read_layout, release_pages

FALLBACK_ENCODING = "cp1252"
PARALLEL_ROWS = 50_000  # below this, threads cost more than they save
BLOCK_BYTES = 32 << 20  # records decoded at a time: the reader's own memory beyond the values it builds
TEXT_DTYPE = pd.Series(["text"]).dtype  # pandas 3: str; pandas 2: object
# pandas' text held by pyarrow (pandas 3 with pyarrow): ASCII columns are built as pyarrow arrays directly
ARROW_TEXT = isinstance(TEXT_DTYPE, pd.StringDtype) and TEXT_DTYPE.storage == "pyarrow"
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd constant for hashing fixed-width byte strings


@dataclass(frozen=True)
class XportVariable:
    name: str
    label: str
    type: str  # "Char" or "Num"
    length: int
    format: str | None  # 'DATE9.', '8.2', 'BEST.', '$CHAR20.' or None
    informat: str | None = None
    position: int = 0


@dataclass
class XportDataset:
    path: Path
    data: pd.DataFrame
    name: str
    label: str
    variables: list[XportVariable]
    encoding: str  # the one the text was decoded with
    version: int  # 5, or 8 for v8/v9
    created: str = ""
    modified: str = ""
    # column -> the special missing values (".A".."Z", "._") by row position; '.' is not listed
    special_missing: dict[str, pd.Series] = field(default_factory=dict)


def check_xport(path) -> Layout:
    """The checked structure of an XPORT file, without decoding its values."""
    path = Path(path)
    with _mapped(path) as raw:
        return read_layout(path, raw)


def read_xport(path, encoding: str | None = None, columns=None, layout: Layout | None = None,
               rows: tuple[int, int] | None = None) -> XportDataset:
    """Read one XPORT file. ``encoding`` None: UTF-8, else cp1252; otherwise that encoding only.
    ``columns``: read only the variables of these names (file order); the others are not decoded.
    ``layout``: what check_xport said of this file, not checked again (unless the file's size changed).
    ``rows``: (start, stop), only the records at 0-based positions start..stop-1 (the frame's index starts
    at 0; only their pages are read). The encoding is then told by these records alone: give the file's.

    The file is memory-mapped and decoded in blocks of records, each block's pages given back once
    read: the reader holds the values it builds, never a second copy of the whole file."""
    path = Path(path)
    with _mapped(path) as raw:
        if layout is None or layout.file_size != len(raw):
            layout = read_layout(path, raw)
            release_pages(raw, 0, len(raw))  # the structure check scanned the data section
        wanted = None if columns is None else set(columns)
        variables = [v for v in layout.variables if wanted is None or v.name in wanted]
        start, stop = (0, layout.observations) if rows is None else rows
        if not 0 <= start <= stop <= layout.observations:
            raise ValueError(f"records {start}..{stop} outside the {layout.observations} of {path}")
        data, special, used, decoded_labels = _decode_records(path, raw, layout, variables, encoding, start, stop)
    data.attrs["encoding"] = used
    labels = dict(zip((v.name for v in layout.variables), decoded_labels[1:]))
    out = [XportVariable(v.name, labels[v.name], v.type, v.length, v.format, v.informat, v.position)
           for v in variables]
    return XportDataset(path=path, data=data, name=layout.dataset_name, label=decoded_labels[0],
                        variables=out, encoding=used, version=layout.version, created=layout.created,
                        modified=layout.modified, special_missing=special)


class _mapped:
    """The file's bytes as a read-only memory map (an empty file as b'': read_layout says what is wrong)."""

    def __init__(self, path: Path):
        if not path.is_file():
            raise XportError(path, "file not found")
        self.map = None
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size:
                    self.map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as exc:
            raise XportError(path, f"cannot read the file ({exc.strerror or exc})") from None

    def __enter__(self):
        return self.map if self.map is not None else b""

    def __exit__(self, *exc_info):
        if self.map is not None:
            try:
                self.map.close()
            except BufferError:  # a view still alive: the map goes with it
                pass


def _blocks(layout: Layout, first: int = 0, last: int | None = None) -> list[tuple[int, int]]:
    n = layout.observations if last is None else last
    rows = max(1, BLOCK_BYTES // max(layout.record_length, 1))
    return [(start, min(n, start + rows)) for start in range(first, n, rows)] or [(first, first)]


def _block(raw, layout: Layout, start: int, stop: int) -> np.ndarray:
    if stop == start:
        return np.zeros((0, layout.record_length), dtype=np.uint8)
    return np.frombuffer(raw, dtype=np.uint8, count=(stop - start) * layout.record_length,
                         offset=layout.data_offset + start * layout.record_length).reshape(stop - start,
                                                                                          layout.record_length)


def _decode_records(path: Path, raw, layout: Layout, variables: list[Variable], encoding: str | None,
                    first: int, last: int):
    """The frame of ``variables`` for records first..last-1, block by block: numbers into one float array
    each, ASCII text as pyarrow chunks joined at the end; a text column with other bytes is read again on
    its own and decoded once per distinct value with the file's encoding."""
    n = last - first
    # ASCII text reads the same in UTF-8, cp1252 and any encoding that extends ASCII
    ascii_direct = ARROW_TEXT and all(_extends_ascii(codec) for codec in ([encoding] if encoding else
                                                                          ["utf-8", FALLBACK_ENCODING]))
    numbers = {v.name: np.empty(n, dtype=np.float64) for v in variables if v.type == "Num"}
    specials: dict[str, list] = {}
    chunks: dict[str, list | None] = {v.name: [] for v in variables if v.type == "Char"}
    if not ascii_direct:
        chunks = dict.fromkeys(chunks)  # every text column decoded per distinct value
    # Columns are independent and the heavy work is numpy, pyarrow and pandas hashing, which release
    # the GIL: two threads use both cores on large files.
    with ThreadPoolExecutor(max_workers=2 if n >= PARALLEL_ROWS else 1) as pool:
        for start, stop in _blocks(layout, first, last):
            records = _block(raw, layout, start, stop)
            jobs = [(var, pool.submit(_numbers, records, var) if var.type == "Num"
                     else pool.submit(_text, records[:, var.position:var.position + var.length], True))
                    for var in variables if var.type == "Num" or chunks[var.name] is not None]
            for var, job in jobs:
                result = job.result()
                if var.type == "Num":
                    numbers[var.name][start - first:stop - first], codes = result
                    if codes is not None:
                        codes.index = codes.index + (start - first)
                        specials.setdefault(var.name, []).append(codes)
                elif isinstance(result, pa.Array):
                    chunks[var.name].append(result)
                else:  # bytes outside ASCII: this column is decoded per distinct value
                    chunks[var.name] = None
            del records, jobs
            release_pages(raw, layout.data_offset + start * layout.record_length,
                     layout.data_offset + stop * layout.record_length)
        columns: dict[str, object] = dict(numbers)
        text_columns = []
        for var in variables:
            if var.type == "Num":
                continue
            if chunks[var.name] is not None:
                array = chunks[var.name][0] if len(chunks[var.name]) == 1 else pa.concat_arrays(chunks[var.name])
                chunks[var.name] = None
                columns[var.name] = pd.array(array, dtype=TEXT_DTYPE)
                del array
                pa.default_memory_pool().release_unused()  # the blocks' pieces, not kept by the allocator
            else:
                text_columns.append((var, *_distinct(_column_bytes(raw, layout, var, first, last))))
    special = {name: pieces[0] if len(pieces) == 1 else pd.concat(pieces) for name, pieces in specials.items()}
    labels = [layout.dataset_label] + [v.label for v in layout.variables]
    used, decoded_labels, decoded_columns = _decode(path, encoding, labels, text_columns)
    for (var, codes, _), texts in zip(text_columns, decoded_columns):
        columns[var.name] = _text_array(texts, codes)
    data = pd.DataFrame({v.name: columns[v.name] for v in variables}, index=pd.RangeIndex(n), copy=False)
    return data, special, used, decoded_labels


def _column_bytes(raw, layout: Layout, var: Variable, first: int = 0, last: int | None = None) -> np.ndarray:
    """One text column's fixed-width bytes (n x length) of records first..last-1, read block by block."""
    last = layout.observations if last is None else last
    out = np.empty((last - first, var.length), dtype=np.uint8)
    for start, stop in _blocks(layout, first, last):
        out[start - first:stop - first] = _block(raw, layout, start, stop)[:, var.position:var.position + var.length]
        release_pages(raw, layout.data_offset + start * layout.record_length,
                 layout.data_offset + stop * layout.record_length)
    return out


def _text_array(distinct: np.ndarray, codes: np.ndarray):
    """The column of ``distinct[codes]`` in the text dtype pandas infers for text (as pyreadstat's
    frames have it), built from the distinct values so the strings are checked once each."""
    if TEXT_DTYPE == object or len(codes) == 0:  # an empty column stays object, as pandas infers it
        return distinct[codes] if len(codes) else np.empty(0, dtype=object)
    return pd.array(distinct, dtype=TEXT_DTYPE).take(codes)


def _numbers(records: np.ndarray, var: Variable) -> tuple[np.ndarray, pd.Series | None]:
    """IBM floats of 2-8 bytes -> float64, and the special missing values ('.A', '._') by row."""
    n, record_length = records.shape
    if var.length == 8 and n:  # each record's 8 bytes read in place as a big-endian word
        field = np.dtype({"names": ["v"], "formats": [">u8"], "offsets": [var.position], "itemsize": record_length})
        words = records.reshape(-1).view(field)["v"].astype(np.uint64)
    else:  # a shortened number keeps its leading bytes: pad with zeros
        padded = np.zeros((n, 8), dtype=np.uint8)
        padded[:, :var.length] = records[:, var.position:var.position + var.length]
        words = padded.view(">u8")[:, 0].astype(np.uint64)
    values = ibm_to_ieee(words)
    missing = np.flatnonzero(np.isnan(values))  # only missing values read as NaN
    if len(missing) == 0:
        return values, None
    first = (words[missing] >> np.uint64(56)).astype(np.uint8)
    special = first != ord(".")
    if not special.any():
        return values, None
    texts = np.array(["." + chr(b) for b in range(256)], dtype=object)
    return values, pd.Series(texts[first[special]], index=missing[special], dtype=object)


def _extends_ascii(codec: str) -> bool:
    """Whether bytes 0-127 decode as the same ASCII characters in ``codec`` (UTF-8, cp1252, latin-1...)."""
    try:
        return bytes(range(128)).decode(codec) == "".join(map(chr, range(128)))
    except (LookupError, UnicodeDecodeError):
        return False


def _text(block: np.ndarray, ascii_direct: bool):
    """A text column: a pyarrow string array when it is ASCII (and ``ascii_direct``), else the codes of
    its distinct values and their bytes (decoded later, with the file's encoding)."""
    n, width = block.shape
    if not ascii_direct or n == 0:
        return _distinct(block)
    fixed = np.ascontiguousarray(block.view(f"V{width}")).view(np.uint8)  # a row's bytes moved as one item
    if fixed.max() >= 0x80:
        return _distinct(fixed)
    # each record's field as one pyarrow string (fixed-width offsets over the copied bytes), then
    # trailing blanks and NULs trimmed by pyarrow, as pyreadstat and SAS do
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    padded = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(fixed))
    return pc.ascii_rtrim(padded, characters=" \x00")


def _distinct(block: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
    """Codes of the distinct fixed-width values of a text column, and each value's bytes.

    Each record's bytes are hashed 8 at a time and the hashes factorized (no Python per row); the
    grouping is then verified byte for byte, so a hash collision can never merge two values.
    """
    n, width = block.shape
    if n == 0:
        return np.empty(0, dtype=np.intp), []
    words = -(-width // 8)
    padded = np.zeros((n, words * 8), dtype=np.uint8)
    padded[:, :width] = block
    lanes = padded.view("<u8")
    key = lanes[:, 0].copy()
    for i in range(1, words):
        key *= _MIX
        key ^= lanes[:, i]
    codes, uniques = pd.factorize(key)  # codes numbered in order of first appearance
    seen = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate([[True], seen[1:] > seen[:-1]]))
    if words > 1 and not np.array_equal(lanes, lanes[first][codes]):  # a hash collision: group exactly
        _, first, codes = np.unique(padded.view(f"V{words * 8}")[:, 0], return_index=True, return_inverse=True)
        codes = codes.reshape(-1)
    distinct = np.ascontiguousarray(padded[first, :width]).view(f"S{width}").ravel().tolist()
    return codes, [value.rstrip(b" \x00") for value in distinct]  # numpy drops trailing NULs only


def _decode(path: Path, encoding: str | None, labels: list[bytes], text_columns: list
            ) -> tuple[str, list[str], list[np.ndarray]]:
    """Decode labels and distinct values with one encoding for the whole file; when none fits, say
    where each one failed."""
    candidates = [encoding] if encoding else ["utf-8", FALLBACK_ENCODING]
    problems = []
    for codec in candidates:
        try:
            decoded_labels = [label.decode(codec) for label in labels]
        except LookupError:
            raise XportError(path, f"unknown text encoding '{codec}'") from None
        except UnicodeDecodeError as exc:
            problems.append(_where(exc, "a label", labels, None))
            continue
        decoded_columns = []
        for var, codes, distinct in text_columns:
            try:
                texts = [value.decode(codec) for value in distinct]
            except UnicodeDecodeError as exc:
                problems.append(_where(exc, f"variable {var.name}", distinct, codes))
                break
            decoded_columns.append(np.array(texts, dtype=object))
        else:
            return codec, decoded_labels, decoded_columns
    if len(candidates) == 1:
        raise XportError(path, f"text that is not {candidates[0]}: {problems[0]}")
    where = problems[0] if len(set(problems)) == 1 else "; ".join(
        f"as {codec}, {problem}" for codec, problem in zip(candidates, problems))
    raise XportError(path, f"text that is neither {' nor '.join(candidates)}: {where}")


def _where(exc: UnicodeDecodeError, what: str, values: list[bytes], codes) -> str:
    value = exc.object
    row = ""
    if codes is not None:
        index = next(i for i, v in enumerate(values) if v is value or v == value)
        row = f" row {int(np.flatnonzero(codes == index)[0]) + 1}"
    return f"{what}{row}: byte 0x{value[exc.start]:02X} at offset {exc.start} of {value[:60]!r}"
