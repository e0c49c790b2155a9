"""Build the ADaM datasets of a spec from SDTM data frames (and from a folder of SDTM XPT files).

Steps run in spec order; each is one call of a function of ``adam.derive`` on the dataset being
built. Any error is re-raised with the spec file, the dataset, the step index and the step name.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from specs.errors import CdiscError, DataError, Problem

from .derive import STEPS
from .liveness import Liveness, keep_only
from .spec import DATASET_ARGS, AdamSpec, load_adam_spec


def _named(df: pd.DataFrame, name: str) -> pd.DataFrame:
    df = df.copy(deep=False)  # copy-on-write: a step that changes it copies what it changes
    df.attrs = {"name": name}
    return df


def _get(env: dict, name: str, where: str) -> pd.DataFrame:
    if name not in env:
        given = env.get("_given", sorted(env))
        raise DataError([Problem(where, f"dataset {name!r} not found (SDTM datasets given: "
                                        f"{', '.join(k for k in given if not k.startswith('_')) or 'none'})")])
    return _named(env[name], name)


def _source(env: dict, name: str, ds: dict, where: str) -> pd.DataFrame:
    names = [ds["source"]] if isinstance(ds["source"], str) else list(ds["source"])
    frames = [_get(env, n, f"{where}.source") for n in names]
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return _named(df.reset_index(drop=True), f"{name} (from {', '.join(names)})")


def _run_step(df: pd.DataFrame, env: dict, name: str, i: int, step: dict, file: str) -> pd.DataFrame:
    label = df.attrs.get("name", name)
    where = f"datasets.{name}.steps[{i}] {step['step']}"
    args = dict(step.get("args") or {})
    for a in DATASET_ARGS:
        if isinstance(args.get(a), str):
            args[a] = _get(env, args[a], f"{file}: {where}.args.{a}")
    try:
        out = STEPS[step["step"]](df, **args)
    except CdiscError as exc:
        problems = getattr(exc, "problems", None) or [Problem("", str(exc))]
        cls = type(exc) if hasattr(exc, "problems") else DataError
        raise cls([Problem(f"{file}: {where}", f"{p.where}: {p.message}" if p.where else p.message)
                   for p in problems]) from None
    except (KeyError, ValueError, TypeError) as exc:  # a bug or an input we did not foresee: locate it
        raise DataError([Problem(f"{file}: {where}", f"{type(exc).__name__}: {exc}")]) from exc
    return _named(out.reset_index(drop=True), label)


def _text(value) -> str | None:
    """One distinct value as XPT text: numbers 1.0 -> "1", text stripped, blank -> None."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _factorize(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code of each record, -1 when missing; the distinct values): pyarrow's dictionary encoding
    for pyarrow text (a third of pandas' factorize on it), pandas' factorize otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = getattr(col.array, "_pa_array", None)
    if isinstance(arrow, pa.ChunkedArray) and (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        encoded = (arrow.chunk(0) if arrow.num_chunks == 1 else arrow.combine_chunks()).dictionary_encode() \
            if arrow.num_chunks else pa.array([], arrow.type).dictionary_encode()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.intp)
        return codes, np.array(encoded.dictionary.to_pylist(), dtype=object)
    return pd.factorize(col)


def _char_column(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A Char column as the code of each record and the text of its distinct values: every distinct
    value is converted once (a column of 300,000 records has a few hundred); -1 is missing."""
    codes, uniques = _factorize(col)
    return codes, np.array([_text(u) for u in uniques], dtype=object)


def _text_rank(texts: np.ndarray) -> np.ndarray:
    """The sort rank of each distinct value's text (equal texts equal ranks; None first, as
    sort_values puts missing first); the last slot is for code -1 (a missing record)."""
    order = {t: r for r, t in enumerate(sorted({t for t in texts if t is not None}), start=1)}
    return np.array([order.get(t, 0) if t is not None else 0 for t in texts] + [0], dtype=np.int64)


def _key_codes(keys: list[str], columns: dict, texts: dict, n_records: int) -> np.ndarray:
    """One int64 per record, equal for equal keys and ordered as a stable sort of the keys with missing
    first orders them: each key as ranks (text: of its distinct texts; numbers: of its distinct
    values, missing 0) packed into one number, so that a single stable argsort orders the records (a
    lexsort sorts once per key; the records mostly come in order, which the one sort profits from)."""
    combined, size = np.zeros(n_records, dtype=np.int64), 1
    for k in keys:
        if k in texts:
            table = _text_rank(texts[k])
            rank, n = table[columns[k]], int(table.max()) + 1
        else:
            codes, uniques = pd.factorize(columns[k].astype("float64"))  # -1: missing
            table = np.zeros(len(uniques) + 1, dtype=np.int64)  # the last slot: code -1, rank 0
            table[np.argsort(uniques, kind="stable")] = np.arange(1, len(uniques) + 1)
            rank, n = table[codes], len(uniques) + 1
        if size * n >= 2 ** 62:  # would overflow: the keys so far renumbered densely, order kept
            distinct, combined = np.unique(combined, return_inverse=True)
            size = len(distinct)
        combined = combined * n + rank
        size *= n
    return combined


def _num_column(col: pd.Series) -> tuple[pd.Series, list]:
    """A Num column as float64, and examples of text that is not a number."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.astype("float64"), []
    codes, uniques = pd.factorize(col)
    numbers = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(dtype="float64")
    bad = [u for u, n in zip(uniques, numbers) if np.isnan(n) and _text(u) is not None]
    return pd.Series(np.append(numbers, np.nan)[codes], index=col.index, dtype="float64"), bad


def _finalize(df: pd.DataFrame, name: str, ds: dict, file: str) -> pd.DataFrame:
    """Keep the declared variables in spec order with their types; check keys and lengths."""
    problems, columns, texts = [], {}, {}
    for j, var in enumerate(ds["variables"]):
        v, where = var["name"], f"{file}: datasets.{name}.variables[{j}]"
        if v not in df.columns:
            problems.append(Problem(where, f"variable {v!r} of {name} was not derived by any step"))
            continue
        col = df[v]
        if var["type"] == "Num":
            values, bad = _num_column(col)
            columns[v] = values.to_numpy()
            if bad:
                problems.append(Problem(where, f"{name}.{v} is Num but holds text, e.g. {bad[:3]}"))
        else:
            columns[v], texts[v] = _char_column(col)
            length = var.get("length", "auto")
            if length != "auto":
                too_long = [t for t in texts[v] if t is not None and len(t.encode("utf-8")) > length]
                if too_long:
                    problems.append(Problem(where, f"{name}.{v} has values longer than {length}: {too_long[:3]}"))
    if problems:
        raise DataError(problems)

    def column(v: str, rows: np.ndarray | None = None):
        values = columns[v] if rows is None else columns[v][rows]
        if v in texts:  # text built once, from the distinct values, in the output order
            values = pd.array(texts[v], dtype="string").take(values, allow_fill=True)
        return values

    keys = ds.get("keys", [])
    rows = None
    if keys:  # the records in key order: the keys are sorted, then every column taken once in that order
        code = _key_codes(keys, columns, texts, len(df))
        rows = np.argsort(code, kind="stable")
        code = code[rows]
        same = code[1:] == code[:-1]  # each record's key equals the one before
        if same.any():
            dup = np.zeros(len(rows), dtype=bool)
            dup[1:] |= same
            dup[:-1] |= same
            key_frame = pd.DataFrame({k: column(k, rows[dup][:2]) for k in keys})
            ex = key_frame.to_dict("records")
            raise DataError([Problem(f"{file}: datasets.{name}.keys",
                                     f"{keys} do not identify one record of {name}: {int(dup.sum())} "
                                     f"records share a key, e.g. {ex}")])
        del code, same
    built = {}
    for v in list(columns):  # each column's codes let go once it is built (memory: not all twice)
        built[v] = column(v, rows)
        del columns[v]
    # one block per column (copy=False): no copy of the numbers into one block
    out = pd.DataFrame(built, index=pd.RangeIndex(len(df)) if keys else df.index, copy=False)
    out.attrs = {"name": name, "label": ds.get("label", "")}
    return out


def _last_reader(spec: AdamSpec) -> dict[str, int]:
    """For each dataset name, the position (spec order) of the last dataset that reads it (as its
    source or as a step's dataset_add/dataset_ref): after that one it can be let go."""
    last = {}
    for position, ds in enumerate(spec.datasets.values()):
        names = [ds["source"]] if isinstance(ds["source"], str) else list(ds["source"])
        names += [v for step in ds.get("steps", []) for a in DATASET_ARGS
                  if isinstance(v := (step.get("args") or {}).get(a), str)]
        last.update({n: position for n in names})
    return last


def build_adam(sdtm: dict[str, pd.DataFrame], spec: AdamSpec | str | Path | None = None, *,
               release: bool = False) -> dict[str, pd.DataFrame]:
    """Build every output dataset of ``spec`` (default: the shipped spec) from SDTM data frames
    keyed by domain name (upper case). Returns ``{name: DataFrame}`` in spec order.

    ``release=True`` lets each SDTM and working dataset go once no later dataset reads it, removing
    the SDTM ones from ``sdtm`` too (the caller gives them up): memory stays near the largest
    datasets instead of holding every one of them to the end."""
    if not isinstance(spec, AdamSpec):
        spec = load_adam_spec(spec)
    env = {k.upper(): v for k, v in sdtm.items()}
    # DCUT: the data cut of the run, one record per subject (USUBJID, DCUTDTC, DCUTDESC); none = no cut
    env.setdefault("DCUT", pd.DataFrame({c: pd.Series(dtype=object) for c in ("USUBJID", "DCUTDTC", "DCUTDESC")}))
    env["_given"] = sorted(env)  # named in messages, whatever was let go
    last = _last_reader(spec) if release else {}
    live = spec.liveness  # a variable no later step reads is dropped (no copy of it then)
    _drop_unread(env, live, 0, sdtm if release else None)
    built = {}
    for position, (name, ds) in enumerate(spec.datasets.items()):
        df = keep_only(_source(env, name, ds, f"{spec.file}: datasets.{name}"), live.after(name, -1))
        for i, step in enumerate(ds.get("steps", [])):
            df = keep_only(_run_step(df, env, name, i, step, spec.file), live.after(name, i))
        if ds.get("output", True):
            built[name] = _finalize(df, name, ds, spec.file)
        env[name] = df  # later datasets see the working columns too (e.g. ADSL dates)
        del df
        _drop_unread(env, live, position + 1, sdtm if release else None)
        if release:
            for done in [n for n in env if not n.startswith("_") and last.get(n, -1) <= position]:
                del env[done]
                for key in [k for k in sdtm if k.upper() == done]:
                    del sdtm[key]
    return built


def _drop_unread(env: dict, live: Liveness, position: int, given: dict | None) -> None:
    """Each dataset of ``env`` keeps only the variables the datasets from ``position`` on read; the
    SDTM frames in ``given`` (the caller's, when it gives them up) are replaced by those too."""
    for name in [n for n in env if not n.startswith("_")]:
        kept = keep_only(env[name], live.kept(name, position))
        if kept is not env[name]:
            env[name] = kept
            for key in [k for k in (given or {}) if k.upper() == name]:
                given[key] = kept


def _blank_as_missing(column: pd.Series) -> pd.Series:
    """An XPT text column as pandas' "string", blank text missing (XPT has no other missing text);
    on the column's pyarrow array when it has one (no copy unless a value is blank)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arrow = column.array.__arrow_array__()
    except (AttributeError, TypeError, NotImplementedError):
        return column.astype("string").replace("", pd.NA)
    if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        return column.astype("string").replace("", pd.NA)
    blank = pc.equal(arrow, "")
    if pc.any(blank).as_py():
        arrow = pc.if_else(blank, pa.scalar(None, arrow.type), arrow)
    return pd.Series(pd.arrays.ArrowStringArray(arrow), index=column.index, name=column.name, copy=False)


def read_sdtm_folder(sdtm_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read every ``*.xpt`` of a folder (any tool's, v5 or v8): {DOMAIN: DataFrame}; cp1252 when not
    UTF-8. A truncated or damaged file is refused (sasxport checks the structure)."""
    from sasxport import XportError, read_xport

    folder = Path(sdtm_dir)
    files = sorted(folder.glob("*.xpt")) + sorted(folder.glob("*.XPT"))
    if not files:
        raise DataError([Problem(str(folder), "no .xpt files found")])
    out = {}
    for f in files:
        try:
            df = read_xport(f).data
        except XportError as exc:
            raise DataError([Problem(exc.path, exc.message)]) from None
        out[f.stem.upper()] = as_read(df)
    return out


def as_read(df: pd.DataFrame) -> pd.DataFrame:
    """A dataset read from an XPT file as ADaM takes it (``df`` itself, changed): each text column pandas'
    "string", blank text missing (XPT has no other missing text). cdisc.chunks.readback makes the same."""
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = _blank_as_missing(df[c])
    return df


def build_adam_from_folder(sdtm_dir: str | Path, spec_path: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Build ADaM from a folder of SDTMIG XPT files with the spec at ``spec_path`` (default: shipped)."""
    spec = load_adam_spec(spec_path)
    return build_adam(read_sdtm_folder(sdtm_dir), spec)


def write_adam_xpt(datasets: dict[str, pd.DataFrame], out_dir: str | Path, spec: AdamSpec | str | Path | None = None,
                   created=None) -> list[Path]:
    """Write each dataset as ``<name lower>.xpt`` (XPT v5 via define.xpt, labels/lengths/DATE9.
    from the spec) into ``out_dir``. The CLI calls this after build_adam."""
    from datetime import datetime

    from define.xpt import write_xpt  # lazy: define is written beside us

    if not isinstance(spec, AdamSpec):
        spec = load_adam_spec(spec)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in datasets.items():
        path = out_dir / f"{name.lower()}.xpt"
        write_xpt(df, path, dataset_name=name, dataset_label=spec.datasets[name].get("label", ""),
                  variables=spec.xpt_variables(name), created=created or datetime(2000, 1, 1))
        paths.append(path)
    return paths
