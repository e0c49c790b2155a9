"""CDISC Dataset-JSON 1.1: write and read (.json and .ndjson), validate against the 1.1 JSON Schema.

Types: Char -> "string" with its XPT length (ISO 8601 dates keep "date"/"datetime" when complete);
whole numbers -> "integer"; other numbers -> "double"; ADaM numeric dates (DATE9./DATETIME20./TIME8.)
-> "date"/"datetime"/"time" with targetDataType "integer", exchanged as ISO 8601 strings and read back
as SAS day/second counts. Missing values are null; reading gives "" for missing text (as SAS and our
SDTM frames do) and NaN for missing numbers. NDJSON: line 1 the metadata, then one array per record.
``datasetJSONCreationDateTime`` is an argument: the same data always gives the same bytes.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from define.infer import numeric_attributes
from specs.errors import DataError, Problem, RawDataError

VERSION = "1.1.0"
SAS_EPOCH = pd.Timestamp("1960-01-01")
DATE_FORMATS = {"DATE": "date", "E8601DA": "date", "YYMMDD": "date", "DATETIME": "datetime", "E8601DT": "datetime",
                "TIME": "time", "E8601TM": "time"}
ISO_JSON = {"date": "date", "datetime": "datetime", "time": "time"}


@dataclass(frozen=True)
class Column:
    itemOID: str
    name: str
    label: str
    dataType: str
    targetDataType: str | None = None
    length: int | None = None
    displayFormat: str | None = None
    keySequence: int | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def sas_type(self) -> str:
        return "Num" if self.dataType in ("integer", "float", "double", "decimal") or self.targetDataType else "Char"


@dataclass
class DatasetJsonMeta:
    name: str
    label: str
    columns: list[Column]
    item_group_oid: str
    created: str
    records: int
    study_oid: str | None = None
    metadata_version_oid: str | None = None

    def xpt_variables(self) -> list:
        from define.xpt import XptVariable

        return [XptVariable(c.name, c.label, c.sas_type, c.length if c.sas_type == "Char" else None,
                            c.displayFormat) for c in self.columns]


def _date_kind(display_format: str | None) -> str | None:
    if not display_format:
        return None
    head = display_format.rstrip(".").rstrip("0123456789")
    return DATE_FORMATS.get(head.upper())


def columns_from_model(model, name: str) -> list[Column]:
    """Dataset-JSON columns of dataset ``name`` of a DefineModel (OIDs as in define.xml)."""
    group = model.group(name)
    keys = {ref.item_oid: ref.key_sequence for ref in group.items}
    out = []
    for item in model.variables(name):
        date_kind = _date_kind(item.display_format) if item.sas_type == "Num" else None
        if date_kind:
            data_type, target = date_kind, "integer"
        elif item.sas_type == "Num":
            data_type, target = ("integer" if item.data_type == "integer" else "double"), None
        else:
            data_type, target = ISO_JSON.get(item.data_type, "string"), None
        out.append(Column(item.oid, item.name, item.label, data_type, target,
                          item.xpt_length if item.sas_type == "Char" else None, item.display_format,
                          keys.get(item.oid)))
    return out


def columns_from_xpt(name: str, variables: list, keys: list[str] = (), data: pd.DataFrame | None = None) -> list[Column]:
    """Columns from ``define.xpt.XptVariable`` attributes (integer vs double from the data when given)."""
    out = []
    for var in variables:
        date_kind = _date_kind(var.format) if var.type == "Num" else None
        if date_kind:
            data_type, target = date_kind, "integer"
        elif var.type == "Num":
            whole = data is not None and numeric_attributes(pd.to_numeric(data[var.name], errors="coerce")).data_type == "integer"
            data_type, target = ("integer" if whole else "double"), None
        else:
            data_type, target = "string", None
        out.append(Column(f"IT.{name}.{var.name}", var.name, var.label, data_type, target,
                          var.length if var.type == "Char" else None, var.format,
                          list(keys).index(var.name) + 1 if var.name in keys else None))
    return out


# --- values -------------------------------------------------------------------------------------------

def _to_json_values(series: pd.Series, column: Column) -> list:
    if column.targetDataType == "integer":
        x = pd.to_numeric(series, errors="coerce").astype("float64")
        unit = "D" if column.dataType == "date" else "s"
        moments = SAS_EPOCH + pd.to_timedelta(x, unit=unit)
        pattern = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M:%S", "time": "%H:%M:%S"}[column.dataType]
        text = moments.dt.strftime(pattern)
        return text.astype(object).where(x.notna(), None).tolist()
    if column.dataType == "integer":
        x = pd.to_numeric(series, errors="coerce").round().astype("Int64")
        return x.astype(object).where(x.notna(), None).tolist()
    if column.dataType in ("double", "float"):
        x = pd.to_numeric(series, errors="coerce").astype("float64")
        return x.astype(object).where(x.notna(), None).tolist()
    text = series.astype("string")
    return text.astype(object).where(text.notna() & (text != ""), None).tolist()


def _from_json_values(values: list, column: Column) -> pd.Series:
    raw = pd.Series(values, dtype=object)
    if column.targetDataType == "integer":
        if column.dataType == "time":
            moments = pd.to_datetime("1960-01-01T" + raw.where(raw.notna(), None).astype("string"), errors="coerce")
        else:
            moments = pd.to_datetime(raw.astype("string"), errors="coerce", format="ISO8601")
        delta = (moments - SAS_EPOCH).dt.total_seconds()
        return (delta / 86400.0 if column.dataType == "date" else delta).astype("float64")
    if column.sas_type == "Num":
        return pd.to_numeric(raw, errors="coerce").astype("float64")
    return raw.where(raw.notna(), "").astype(str)


# --- writing and reading ------------------------------------------------------------------------------

def _stamp(created: datetime | str) -> str:
    return created if isinstance(created, str) else created.replace(microsecond=0, tzinfo=None).isoformat()


def dataset_json_document(data: pd.DataFrame, *, name: str, label: str, columns: list[Column],
                          created: datetime | str, study_oid: str | None = None,
                          metadata_version_oid: str | None = None, metadata_ref: str | None = None) -> tuple[dict, list]:
    """(metadata object, rows) of a dataset; rows are lists in column order."""
    missing = [c.name for c in columns if c.name not in data.columns]
    if missing:
        raise DataError([Problem(name, f"columns not in the data: {', '.join(missing)}")])
    meta = {
        "datasetJSONCreationDateTime": _stamp(created),
        "datasetJSONVersion": VERSION,
        "fileOID": f"{study_oid or name}.{name}",
        "originator": "cdisc-toolkit",
        "sourceSystem": {"name": "cdisc-toolkit", "version": "1"},
        "studyOID": study_oid,
        "metaDataVersionOID": metadata_version_oid,
        "metaDataRef": metadata_ref,
        "itemGroupOID": f"IG.{name}",
        "records": int(len(data)),
        "name": name,
        "label": label,
        "columns": [c.to_json() for c in columns],
    }
    meta = {k: v for k, v in meta.items() if v is not None}
    values = [_to_json_values(data[c.name], c) for c in columns]
    rows = [list(row) for row in zip(*values)] if values else []
    return meta, rows


ROWS_CHUNK = 100_000  # records whose text is built at a time: the text of one chunk is in memory, not the file's


def _json_tokens(series: pd.Series, column: Column, dumps) -> tuple[pa.Array, np.ndarray]:
    """The JSON text the encoder writes for each distinct value of a column ("null" last, for missing
    values) and, per record, the position of its value's text: the values are factorized, turned into
    JSON values (``_to_json_values``, value by value) and encoded once each. Numbers written as doubles
    are told apart by their bits (0.0 and -0.0 are written differently), and text that is not all str is
    read as text first (1 and 1.0 are different texts)."""
    if column.dataType in ("double", "float") and not column.targetDataType:  # as _to_json_values reads them
        x = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(x)
        codes = np.full(len(x), -1, dtype=np.int64)
        keys, first = np.unique(x[present].view(np.int64), return_index=True)
        codes[present] = np.searchsorted(keys, x[present].view(np.int64))
        values = [float(v) for v in x[present][first]]
    else:
        text = column.targetDataType is None and column.dataType not in ("integer", "double", "float")
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        if text and series.dtype == object and pd.api.types.infer_dtype(uniques, skipna=True) not in ("string",
                                                                                                      "empty"):
            codes, uniques = pd.factorize(series.astype("string"), use_na_sentinel=True)
        values = _to_json_values(pd.Series(uniques), column) if len(uniques) else []
    codes = np.asarray(codes, dtype=np.int64)
    tokens = pa.array([dumps(v) for v in values] + ["null"], type=pa.large_string())
    return tokens, np.where(codes < 0, len(values), codes)


def _row_chunks(data: pd.DataFrame, columns: list[Column], dumps):
    """Each record as the JSON array ``dumps(row)`` writes, ``ROWS_CHUNK`` records at a time (pyarrow
    arrays of text): built column by column, pyarrow joining the value texts of a record with the
    separator, never by encoding a record in Python."""
    if not columns:
        for first in range(0, len(data), ROWS_CHUNK):
            yield pa.array(["[]"] * min(ROWS_CHUNK, len(data) - first), type=pa.large_string())
        return
    tokens = [_json_tokens(data[c.name], c, dumps) for c in columns]
    text = [pa.scalar(t, pa.large_string()) for t in (",", "[", "]", "")]
    for first in range(0, len(data), ROWS_CHUNK):
        parts = [values.take(pa.array(positions[first:first + ROWS_CHUNK])) for values, positions in tokens]
        joined = pc.binary_join_element_wise(*parts, text[0])
        yield pc.binary_join_element_wise(text[1], joined, text[2], text[3])


def _text_bytes(lines: pa.Array) -> memoryview:
    """The UTF-8 bytes of a pyarrow text array's values, one after the other (no copy)."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    if lines.buffers()[2] is None:
        return memoryview(b"")
    return memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]]


def _row_lines(data: pd.DataFrame, columns: list[Column], dumps) -> list[str]:
    """Each record as the JSON array ``dumps(row)`` writes (a list: for small frames and tests)."""
    return [line for chunk in _row_chunks(data, columns, dumps) for line in chunk.to_pylist()]


def write_dataset_json(data: pd.DataFrame, path, *, name: str, label: str, columns: list[Column],
                       created: datetime | str, study_oid: str | None = None, metadata_version_oid: str | None = None,
                       metadata_ref: str | None = None) -> Path:
    """Write ``data`` as Dataset-JSON 1.1: NDJSON when ``path`` ends in .ndjson, JSON otherwise (atomic).
    The records are written as ``json.dumps`` writes them, a chunk of records at a time from pyarrow's
    buffers: no Python object per record, and never the text of the whole file in memory."""
    path = Path(path)
    meta, _ = dataset_json_document(data.iloc[:0], name=name, label=label, columns=columns, created=created,
                                    study_oid=study_oid, metadata_version_oid=metadata_version_oid,
                                    metadata_ref=metadata_ref)
    meta["records"] = int(len(data))
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    ndjson = path.suffix.lower() == ".ndjson"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    end = pa.scalar("\n" if ndjson else ",", pa.large_string())
    none = pa.scalar("", pa.large_string())
    with open(partial, "wb") as handle:
        # JSON: as dumps({**meta, "rows": rows}) writes it ("rows" is the last key); NDJSON: the metadata line
        handle.write((dumps(meta) + "\n" if ndjson else dumps(meta)[:-1] + ',"rows":[').encode("utf-8"))
        for chunk in _row_chunks(data, columns, dumps):
            chunk = _text_bytes(pc.binary_join_element_wise(chunk, end, none))
            written = handle.tell()
            handle.write(chunk)
        if not ndjson:
            if len(data):
                handle.seek(written + len(chunk) - 1)  # the last record has no separator after it
            handle.write(b"]}")
            handle.truncate()
    partial.replace(path)
    return path


def validate_written_dataset_json(path, records: int) -> list[str]:
    """``validate_dataset_json`` of a file ``write_dataset_json`` has just written, without reading its
    records back into Python: the metadata is checked against the schema (with its rows left out, which
    is the same check when the schema asks a row only to be an array: ``_rows_need_only_be_arrays``) and
    its record count against ``records``; each record is an array of one value per column by
    construction (``_row_chunks``). Anything else: the full check."""
    path = Path(path)
    if not _rows_need_only_be_arrays():
        return validate_dataset_json(path)
    marker = b',"rows":['
    with open(path, "rb") as handle:
        if path.suffix.lower() == ".ndjson":
            head = handle.readline()
        else:
            head = b""
            while marker not in head:
                block = handle.read(1 << 20)
                if not block:
                    return validate_dataset_json(path)
                head += block
            head = head[:head.index(marker)] + b"}"  # (a quote inside a JSON string is escaped: not the marker)
    try:
        document = json.loads(head.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return validate_dataset_json(path)
    if not isinstance(document, dict):
        return validate_dataset_json(path)
    errors = sorted(_validator().iter_errors({**document, "rows": []}), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:50]]
    if document.get("records") != records:
        problems.append(f"records: {document.get('records')} but {records} rows")
    return problems


def _load(path: Path) -> dict:
    try:
        if path.suffix.lower() == ".ndjson":
            with open(path, encoding="utf-8") as handle:
                lines = [line for line in handle if line.strip()]
            if not lines:
                raise ValueError("empty file")
            document = json.loads(lines[0])
            document["rows"] = [json.loads(line) for line in lines[1:]]
            return document
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RawDataError([Problem(str(path), "file not found")]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RawDataError([Problem(str(path), f"not valid Dataset-JSON: {exc}")]) from None


def read_dataset_json(path) -> tuple[pd.DataFrame, DatasetJsonMeta]:
    """Read a .json or .ndjson Dataset-JSON file: the data (text: str, "" missing; numbers: float64) and metadata."""
    path = Path(path)
    document = _load(path)
    try:
        columns = [Column(**{k: c.get(k) for k in Column.__dataclass_fields__}) for c in document["columns"]]
        rows = document.get("rows", [])
        by_column = list(zip(*rows)) if rows else [[] for _ in columns]
        data = pd.DataFrame({c.name: _from_json_values(list(v), c) for c, v in zip(columns, by_column)},
                            columns=[c.name for c in columns])
        meta = DatasetJsonMeta(document["name"], document["label"], columns, document["itemGroupOID"],
                               document["datasetJSONCreationDateTime"], int(document["records"]),
                               document.get("studyOID"), document.get("metaDataVersionOID"))
    except (KeyError, TypeError) as exc:
        raise RawDataError([Problem(str(path), f"not valid Dataset-JSON: missing or malformed {exc}")]) from None
    if meta.records != len(data):
        raise RawDataError([Problem(str(path), f"records says {meta.records} but {len(data)} rows are present")])
    return data, meta


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    from define.xml import resource_path

    schema = json.loads(resource_path("dataset-json", "dataset.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft201909Validator(schema)


# Keywords of a JSON Schema that constrain an array (the others apply to objects, strings or numbers only).
ARRAY_KEYWORDS = {"type", "items", "prefixItems", "additionalItems", "unevaluatedItems", "contains", "minContains",
                  "maxContains", "minItems", "maxItems", "uniqueItems", "enum", "const", "allOf", "anyOf", "oneOf",
                  "not", "if", "then", "else", "$ref", "$dynamicRef", "$recursiveRef"}


@lru_cache(maxsize=1)
def _rows_need_only_be_arrays() -> bool:
    """Whether the schema asks nothing of a row but to be an array (Dataset-JSON 1.1: Row's value
    constraints sit under ``properties``, which does not apply to arrays), so that a document whose rows
    are all lists is checked as well with its rows left out: the records then cost nothing to validate."""
    schema = _validator().schema
    rows = schema.get("properties", {}).get("rows", {})
    row = rows.get("items", {})
    if set(rows) - {"type", "items", "description", "title"} or set(row) != {"$ref"}:
        return False
    definition = schema.get("$defs", {}).get(row["$ref"].rsplit("/", 1)[-1])
    return definition is not None and definition.get("type") == "array" and not (set(definition) & ARRAY_KEYWORDS
                                                                                  - {"type"})


def validate_dataset_json(path) -> list[str]:
    """Schema errors of a .json/.ndjson file as 'path: message' (empty list: valid)."""
    try:
        document = _load(Path(path))
    except RawDataError as exc:
        return [str(p) for p in exc.problems]
    rows = document.get("rows")
    checked = document
    if isinstance(rows, list) and all(type(row) is list for row in rows) and _rows_need_only_be_arrays():
        checked = {**document, "rows": []}  # every row an array: nothing more the schema would say of them
    errors = sorted(_validator().iter_errors(checked), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:50]]
    if len(document.get("rows", [])) != document.get("records"):
        problems.append(f"records: {document.get('records')} but {len(document.get('rows', []))} rows")
    width = len(document.get("columns", []))
    bad = [i for i, row in enumerate(document.get("rows", [])) if len(row) != width]
    if bad:
        problems.append(f"rows/{bad[0]}: {len(document['rows'][bad[0]])} values for {width} columns")
    return problems
