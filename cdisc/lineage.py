"""The lineage table a run writes beside its datasets (out/lineage/), which ``cdisc explain`` reads.

``records.csv``: one row per mapped SDTM record (sdtm.lineage): dataset, position, USUBJID, --SEQ, and the
raw file, row and key it was made from. ADaM records name their SDTM records themselves (SRCDOM with
SRCSEQ, or SRCSEQL for a record derived from several, such as an AUC), so explain follows those.
``variables.csv``: one row per variable of every SDTM and ADaM dataset: where the spec defines it (file
and path), its algorithm and arguments, its codelist, its origin and the method text define.xml states
(the same function writes both, define.adapters). Written once per run from whole columns; the folder is
not one the validator reads (it reads sdtm/, adam/ and m5/).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from specs.yaml_writer import flow

FOLDER = "lineage"
RECORDS, VARIABLES = "records.csv", "variables.csv"
VARIABLE_COLUMNS = ["DATASET", "VARIABLE", "LAYER", "SPEC", "ORIGIN", "ALGORITHM", "ARGUMENTS", "CODELIST",
                    "METHOD", "DESCRIPTION", "PREDECESSOR"]


def sdtm_variable_rows(spec, result) -> list[dict]:
    from define.adapters import _sdtm_variable, describe_map

    rows = []
    built = set(result.datasets)  # the names only: ``in`` on a Mapping that loads on access may read a dataset
    for name, dspec in result.specs.items():
        if name not in built:
            continue
        positions = {v.get("name"): i for i, v in enumerate((spec.domains.get(name) or {}).get("variables", []))}
        for variable in dspec.parent_variables:
            mapping = variable.map or {}
            # the spec file's name, not where it lies: the same output wherever the run starts
            where = f"sdtm.yaml: domains.{name}.variables[{positions[variable.name]}]" \
                if variable.name in positions else ""
            arguments = {k: v for k, v in mapping.items() if k != "algorithm"}
            rows.append({"DATASET": name, "VARIABLE": variable.name, "LAYER": "SDTM", "SPEC": where,
                         "ORIGIN": variable.origin.type, "ALGORITHM": mapping.get("algorithm", ""),
                         "ARGUMENTS": flow(arguments) if arguments else "", "CODELIST": variable.codelist or "",
                         "METHOD": _sdtm_variable(variable).method or "",
                         "DESCRIPTION": describe_map(mapping) or "", "PREDECESSOR": ""})
    return rows


def adam_variable_rows(adam_spec, adam_datasets) -> list[dict]:
    rows = []
    built = set(adam_datasets) if adam_datasets is not None else set()  # (names only, as above)
    for name, dataset in adam_spec.datasets.items():
        if name not in built:
            continue
        steps = list(dict.fromkeys(s.get("step", "") for s in dataset.get("steps", []) if isinstance(s, dict)))
        for position, variable in enumerate(dataset.get("variables", [])):
            rows.append({"DATASET": name, "VARIABLE": variable["name"], "LAYER": "ADaM",
                         "SPEC": f"{Path(adam_spec.file).name}: datasets.{name}.variables[{position}]",
                         "ORIGIN": variable.get("origin", "Derived"), "ALGORITHM": "",
                         "ARGUMENTS": "", "CODELIST": str(variable.get("codelist") or ""),
                         "METHOD": variable.get("method") or "",
                         "DESCRIPTION": f"{name} is built by the steps {', '.join(steps)}" if steps else "",
                         "PREDECESSOR": str(variable.get("predecessor") or "")})
    return rows


CHUNK = 500_000  # rows joined at a time: the text of one chunk is in memory, not the whole file's


def _by_value(column: pd.Series) -> pa.Array | None:
    """The CSV text of each value, as pandas' writer spells it: formatted by that writer once per distinct
    value (floats, missing values, anything else); None when a value holds a line break."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)  # missing values are a distinct value too
    # a second column, so that an empty value is not quoted as a row's only field
    text = pd.DataFrame({"value": uniques, "other": 0}).to_csv(index=False, header=False, lineterminator="\n")
    lines = text.split("\n")[:-1]
    if len(lines) != len(uniques):
        return None
    return pa.array([line[:-2] for line in lines], type=pa.large_string()).take(pa.array(codes))  # without ',0'


def _quoted(text: pa.Array) -> pa.Array | None:
    """CSV cells of text without nulls: quoted where a value holds a comma or a quote (the csv module's
    minimal quoting), found by one scan; None when a value holds a line break (pandas' writer decides)."""
    special = pc.match_substring_regex(text, '[,"\r\n]')
    if not pc.any(special).as_py():
        return text
    if pc.any(pc.match_substring_regex(pc.filter(text, special), "[\r\n]")).as_py():
        return None
    mark, none = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    quoted = pc.binary_join_element_wise(mark, pc.replace_substring(text, '"', '""'), mark, none)
    return pc.if_else(special, quoted, text)


FEW = 0.1  # a text column with fewer distinct values than this share of its records is spelled per value


def _cells(column: pd.Series) -> pa.Array | None:
    """The CSV text of each value of a column, on whole columns where the spelling is plain: integers as
    pyarrow writes them, text quoted where it holds a comma or a quote (``_quoted``); text with few distinct
    values (subjects, files, datasets) is spelled once per value, then taken for each record."""
    if pd.api.types.is_integer_dtype(column.dtype) and not isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
        return pc.cast(pa.array(column.to_numpy()), pa.large_string())
    if column.dtype == object:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)  # (hashes the Python strings once)
        if pd.api.types.infer_dtype(uniques, skipna=True) not in ("string", "empty"):
            return _by_value(column)
        values = pa.array(np.append(np.asarray(uniques, dtype=object), ""), type=pa.large_string())
        cells = _quoted(values)  # (missing values: code -1, the "" appended)
        return None if cells is None else cells.take(pa.array(np.where(codes < 0, len(uniques), codes)))
    if isinstance(column.dtype, pd.StringDtype):
        text = pc.fill_null(pa.array(column, type=pa.large_string(), from_pandas=True), "")
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        sample = text.slice(0, 10_000)
        if len(text) > 10_000 and pc.count_distinct(sample).as_py() < FEW * len(sample):
            encoded = pc.dictionary_encode(text)
            cells = _quoted(encoded.dictionary)
            return None if cells is None else cells.take(encoded.indices)
        return _quoted(text)
    return _by_value(column)


def _write_lines(handle, cells: list[pa.Array]) -> None:
    """The records of one chunk of rows: each column's CSV text joined by pyarrow, written from its buffers."""
    separator, end = pa.scalar(",", pa.large_string()), pa.scalar("\n", pa.large_string())
    lines = pc.binary_join_element_wise(*cells, separator)
    lines = pc.binary_join_element_wise(lines, end, pa.scalar("", pa.large_string()))
    if isinstance(lines, pa.ChunkedArray):  # (pyarrow-backed text columns come in chunks)
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    handle.write(memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]])


def _write_frame_rows(handle, frame: pd.DataFrame) -> None:
    """The records of a frame (no header), ``CHUNK`` rows at a time; a chunk with a line break in a value is
    pandas' writer's (the text of a record does not depend on the other records)."""
    for first in range(0, len(frame), CHUNK):
        part = frame.iloc[first:first + CHUNK]
        cells = [_cells(part[name]) for name in part.columns]
        if any(c is None for c in cells):
            handle.write(part.to_csv(index=False, header=False, lineterminator="\n").encode("utf-8"))
        else:
            _write_lines(handle, cells)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame.to_csv(path, index=False, lineterminator='\\n')``, byte for byte, on whole columns: each
    column spelled once (``_cells``), the rows joined by pyarrow (pandas' writer takes ~3 s per million
    rows of the lineage table)."""
    if len(frame.columns) < 2 or not len(frame):  # (a row's only empty field is quoted: pandas' way)
        frame.to_csv(path, index=False, lineterminator="\n")
        return
    with open(path, "wb") as handle:
        handle.write(frame.iloc[:0].to_csv(index=False, lineterminator="\n").encode("utf-8"))  # the header line
        _write_frame_rows(handle, frame)


def _arrow_text_cells(text: pa.Array) -> pa.Array | None:
    """``_cells`` of a text column, from its Arrow array (missing values blank)."""
    text = pc.fill_null(text.cast(pa.large_string()), "")
    if len(text) > 10_000 and pc.count_distinct(text.slice(0, 10_000)).as_py() < FEW * 10_000:
        encoded = pc.dictionary_encode(text)
        cells = _quoted(encoded.dictionary)
        return None if cells is None else cells.take(encoded.indices)
    return _quoted(text)


def _arrow_cells(column: pa.Array, numpy_type: str | None) -> pa.Array | None:
    """``_cells`` of the pandas column an Arrow column turns into, straight from the Arrow column, for the
    plain types (text, int64 without missing values, float64); None for any other (pandas decides)."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _arrow_text_cells(column)
    if pa.types.is_int64(kind) and numpy_type == "int64" and not column.null_count:
        return pc.cast(column, pa.large_string())
    if pa.types.is_float64(kind) and numpy_type == "float64":
        return _by_value(pd.Series(column.to_numpy(zero_copy_only=False), dtype=np.float64))
    return None


class Stopped(Exception):
    """The run stopped (an error or a signal in the main thread) while the lineage was being written."""


def write_arrow_csv(source: Path, path: Path, stop=None) -> None:
    """``write_csv`` of the frame an Arrow IPC file holds (``cdisc.chunks.spill.read_frame``), with the same bytes,
    one record batch at a time: memory bounded by a batch, not by the table, and no pandas frame where
    every column is plain (``_arrow_cells``); a batch with another column goes through pandas. ``stop``: a
    ``threading.Event`` that, once set, stops the writing at the next chunk of rows (``Stopped``)."""
    with pa.OSFile(str(source), "rb") as handle:  # (not memory-mapped: its pages would count in the process's memory)
        reader = pa.ipc.open_file(handle)
        schema = reader.schema
        empty = schema.empty_table().to_pandas()
        if len(empty.columns) < 2:  # (pandas' own writer, as write_csv; no record: the header line only, as here)
            write_csv(reader.read_all().to_pandas(), path)
            return
        types = {c.get("name"): c.get("numpy_type") for c in (schema.pandas_metadata or {}).get("columns", [])}
        with open(path, "wb") as out:
            out.write(empty.to_csv(index=False, lineterminator="\n").encode("utf-8"))  # the header line
            for index in range(reader.num_record_batches):
                batch = reader.get_batch(index)
                for first in range(0, batch.num_rows, CHUNK):
                    if stop is not None and stop.is_set():
                        raise Stopped(str(path))
                    part = batch.slice(first, CHUNK)
                    cells = [_arrow_cells(part.column(i), types.get(name)) for i, name in enumerate(schema.names)]
                    if any(c is None for c in cells):  # another type, or a line break in a value: as write_csv
                        _write_frame_rows(out, pa.Table.from_batches([part], schema).to_pandas())
                    else:
                        _write_lines(out, cells)


def write_lineage(folder: Path, spec, result, adam_spec=None, adam_datasets=None, stop=None) -> Path:
    """lineage/records.csv and lineage/variables.csv in folder; ``stop``: as for ``write_arrow_csv`` (the run
    writes the lineage in a thread beside the package)."""
    out = Path(folder) / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    spilled = getattr(result, "lineage_file", None)  # (a chunked run's lineage, read a batch at a time)
    if spilled is not None and Path(spilled).is_file():
        write_arrow_csv(Path(spilled), out / RECORDS, stop)
    else:
        write_csv(result.lineage if result.lineage is not None else pd.DataFrame(), out / RECORDS)
    rows = sdtm_variable_rows(spec, result)
    if adam_spec is not None:
        rows += adam_variable_rows(adam_spec, adam_datasets)
    with open(out / VARIABLES, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, VARIABLE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out
