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


def _json_tokens(series: pd.Series, column: Column, dumps) -> pa.Array:
    """Each value of a column as the JSON text the encoder writes for it ("null" when missing): the values
    are factorized, turned into JSON values (``_to_json_values``, value by value) and encoded once each.
    Numbers written as doubles are told apart by their bits (0.0 and -0.0 are written differently), and
    text that is not all str is read as text first (1 and 1.0 are different texts)."""
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
    return tokens.take(pa.array(np.where(codes < 0, len(values), codes)))


def _row_lines(data: pd.DataFrame, columns: list[Column], dumps) -> list[str]:
    """Each record as the JSON array ``dumps(row)`` writes, built column by column (pyarrow joins the
    value texts of a record with the separator), not by encoding each record in Python."""
    if not len(data):
        return []
    if not columns:
        return ["[]"] * len(data)
    tokens = [_json_tokens(data[c.name], c, dumps) for c in columns]
    text = [pa.scalar(t, pa.large_string()) for t in (",", "[", "]", "")]
    joined = pc.binary_join_element_wise(*tokens, text[0])
    return pc.binary_join_element_wise(text[1], joined, text[2], text[3]).to_pylist()


def write_dataset_json(data: pd.DataFrame, path, *, name: str, label: str, columns: list[Column],
                       created: datetime | str, study_oid: str | None = None, metadata_version_oid: str | None = None,
                       metadata_ref: str | None = None) -> Path:
    """Write ``data`` as Dataset-JSON 1.1: NDJSON when ``path`` ends in .ndjson, JSON otherwise (atomic)."""
    path = Path(path)
    meta, _ = dataset_json_document(data.iloc[:0], name=name, label=label, columns=columns, created=created,
                                    study_oid=study_oid, metadata_version_oid=metadata_version_oid,
                                    metadata_ref=metadata_ref)
    meta["records"] = int(len(data))
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    lines = _row_lines(data, columns, dumps)
    if path.suffix.lower() == ".ndjson":
        text = "\n".join([dumps(meta)] + lines) + "\n"
    else:  # as dumps({**meta, "rows": rows}) writes it: "rows" is the last key
        text = dumps(meta)[:-1] + ',"rows":[' + ",".join(lines) + "]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


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
