"""Structure: required/expected variables, types, XPT v5 limits, variable order, unique keys."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from validate.registry import Context, concat, dataset_finding, fail, prepare, rule
from validate.rules.common import (arrow_text, byte_lengths, char_columns, duplicated_rows, factorized, not_ascii, numeric_key, per_unique,
                                   repeated_records, split_groups)
from validate.standards import adam_structure, adamig_variables, sdtmig_variables

XPT_NAME = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
TRIAL_DESIGN_KEYS = {"TS": ["TSPARMCD", "TSSEQ"], "TA": ["ARMCD", "TAETORD"], "TE": ["ETCD"],
                     "TV": ["VISITNUM", "ARMCD"], "TI": ["IETESTCD"], "SV": ["USUBJID", "VISITNUM"]}


def _ig(context: Context, name: str) -> pd.DataFrame:
    """Standard variable metadata for dataset ``name`` (SDTMIG domain or ADaMIG structure) in the version the
    package is checked against (empty when that version's metadata is not shipped)."""
    package = context.package
    if package.standard(name) == "SDTM":
        return sdtmig_variables(package.domain(name), context.version("SDTMIG") or "3.4")
    structure = adam_structure(name, package.columns(name))
    version = context.version("ADaMIG") or "1.3"
    ig = adamig_variables(structure, version) if structure else adamig_variables("", version)
    ig = ig.assign(name=ig["name"].str.replace("xx", "01", regex=False))  # TRTxxP: at least TRT01P
    return ig[ig["name"].str.fullmatch(r"[A-Z0-9]+")]  # skip the other templates (AGEGRy...)


def _byte_lengths(context: Context, name: str, variable: str) -> np.ndarray:
    """UTF-8 byte length of each value (NaN when null)."""
    column = context.package.datasets[name][variable]
    # pyarrow text: one C pass over the column is cheaper than factorizing it first
    if arrow_text(column) is not None:
        return byte_lengths(column)
    return per_unique(column, byte_lengths, codes_uniques=factorized(context, name, variable))


def _longest_bytes(context: Context, name: str, variable: str) -> int:
    """The longest value in bytes, computed once per column for CV0103 and CV0106 (only the maximum is kept:
    the lengths of every value would be a float per cell)."""
    key = ("longest_bytes", name, variable)
    if key not in context.cache:
        context.cache[key] = int(np.nanmax(_byte_lengths(context, name, variable), initial=0))
    return context.cache[key]


@prepare("CV0103", "CV0106")
def _longest_by_unit(context: Context) -> None:
    """The longest value of each text column of the unit in memory (of each range of a dataset checked in
    ranges: validate.ranges keeps the longest over them for CV0106)."""
    for name in context.package.datasets:
        for variable in char_columns(context, name):
            if variable in context.package.columns(name):
                _longest_bytes(context, name, variable)


def _missing(context: Context, standard: str, core: str) -> pd.DataFrame:
    frames = []
    for name, df in context.package.datasets.items():
        if context.package.standard(name) != standard:
            continue
        ig = _ig(context, name)
        for variable in ig.loc[ig["core"] == core, "name"]:
            if variable not in df.columns:
                frames.append(dataset_finding(name, variable))
    return concat(frames)


def _null_required(context: Context, standard: str) -> pd.DataFrame:
    frames = []
    for name, df in context.package.datasets.items():
        if context.package.standard(name) != standard:
            continue
        ig = _ig(context, name)
        for variable in ig.loc[ig["core"] == "Req", "name"]:
            if variable in df.columns:
                frames.append(fail(context.package, name, df[variable].isna(), variable))
    return concat(frames)


def _type_mismatch(context: Context, standard: str) -> pd.DataFrame:
    frames = []
    for name in context.package.datasets:
        if context.package.standard(name) != standard:
            continue
        ig = _ig(context, name)
        expected = dict(zip(ig["name"], ig["type"]))
        label = f"{'SDTMIG' if standard == 'SDTM' else 'ADaMIG'} {context.version('SDTMIG' if standard == 'SDTM' else 'ADaMIG')}"
        for variable, meta in context.package.meta[name].variables.items():
            want = expected.get(variable)
            if want in ("Char", "Num") and meta.type != want:
                frames.append(dataset_finding(name, variable, meta.type, expected=want, ig=label))
    return concat(frames)


@rule(id="SD0056", per_dataset=True, by_range="variables", severity="Error", standard="SDTMIG", fda_id="SD0056",
      message="{dataset}: required variable {variable} is missing", needs=("sdtmig",))
def sdtm_required_missing(context: Context) -> pd.DataFrame:
    """SDTMIG Req variables must be present."""
    return _missing(context, "SDTM", "Req")


@rule(id="SD0057", per_dataset=True, by_range="variables", severity="Warning", standard="SDTMIG", fda_id="SD0057",
      message="{dataset}: expected variable {variable} is missing", needs=("sdtmig",))
def sdtm_expected_missing(context: Context) -> pd.DataFrame:
    """SDTMIG Exp variables should be present, even if all null."""
    return _missing(context, "SDTM", "Exp")


@rule(id="SD0002", per_dataset=True, by_range="records", severity="Error", standard="SDTMIG", fda_id="SD0002",
      message="{variable} is required and must not be null", needs=("sdtmig",))
def sdtm_required_null(context: Context) -> pd.DataFrame:
    """SDTMIG Req variables are never null."""
    return _null_required(context, "SDTM")


@rule(id="SD0055", per_dataset=True, by_range="variables", severity="Error", standard="SDTMIG", fda_id="SD0055",
      message="{dataset}.{variable} is {value} but {ig} defines it as {expected}", needs=("sdtmig",))
def sdtm_type(context: Context) -> pd.DataFrame:
    """Variable types (Char/Num) follow SDTMIG."""
    return _type_mismatch(context, "SDTM")


@rule(id="CV0401", per_dataset=True, by_range="variables", severity="Error", standard="ADaMIG", scope="ADaM",
      message="{dataset}: required variable {variable} is missing", needs=("adamig",))
def adam_required_missing(context: Context) -> pd.DataFrame:
    """ADaMIG Req variables (ADSL, BDS) must be present."""
    return _missing(context, "ADaM", "Req")


@rule(id="CV0402", per_dataset=True, by_range="records", severity="Error", standard="ADaMIG", scope="ADaM",
      message="{variable} is required and must not be null", needs=("adamig",))
def adam_required_null(context: Context) -> pd.DataFrame:
    """ADaMIG Req variables are never null."""
    return _null_required(context, "ADaM")


@rule(id="CV0403", per_dataset=True, by_range="variables", severity="Error", standard="ADaMIG", scope="ADaM",
      message="{dataset}.{variable} is {value} but {ig} defines it as {expected}", needs=("adamig",))
def adam_type(context: Context) -> pd.DataFrame:
    """Variable types (Char/Num) follow ADaMIG."""
    return _type_mismatch(context, "ADaM")


@rule(id="CV0101", severity="Error", standard="FDA TCG / SAS XPORT v5", scope="any",
      message="name {value} is not 1-8 uppercase letters or digits starting with a letter")
def xpt_names(context: Context) -> pd.DataFrame:
    """Dataset and variable names fit XPT v5: <= 8 characters, A-Z and 0-9, starting with a letter."""
    frames = []
    for name, meta in context.package.meta.items():
        if not XPT_NAME.match(name):
            frames.append(dataset_finding(name, "", name))
        frames += [dataset_finding(name, v, v) for v in meta.variables if not XPT_NAME.match(v)]
    return concat(frames)


@rule(id="CV0102", severity="Error", standard="FDA TCG / SAS XPORT v5", scope="any",
      message="label of {dataset} {variable} is longer than 40 characters or not ASCII: '{value}'")
def xpt_labels(context: Context) -> pd.DataFrame:
    """Dataset and variable labels are ASCII and at most 40 characters."""
    frames = []
    for name, meta in context.package.meta.items():
        labels = {"": meta.label, **{v: m.label for v, m in meta.variables.items()}}
        for variable, label in labels.items():
            if len(label) > 40 or not label.isascii():
                frames.append(dataset_finding(name, variable, label))
    return concat(frames)


@rule(id="CV0103", per_dataset=True, by_range="records", severity="Error", standard="FDA TCG / SAS XPORT v5", scope="any",
      message="{variable} value is {length} bytes long; XPT v5 allows 200")
def xpt_value_length(context: Context) -> pd.DataFrame:
    """Character values are at most 200 bytes."""
    frames = []
    for name, df in context.package.datasets.items():
        for variable in char_columns(context, name):
            if _longest_bytes(context, name, variable) > 200:
                lengths = _byte_lengths(context, name, variable)
                frames.append(fail(context.package, name, lengths > 200, variable, length=pd.Series(lengths)))
            else:  # nothing to fail, said all the same: each range of a dataset calls fail() for the same columns
                frames.append(fail(context.package, name, np.zeros(len(df), dtype=bool), variable))
    return concat(frames)


@rule(id="CV0104", per_dataset=True, by_range="records", severity="Warning", standard="FDA TCG", scope="any",
      message="{variable} has non-ASCII characters: '{value}'")
def non_ascii_values(context: Context) -> pd.DataFrame:
    """Character values are printable ASCII (transliterate accents)."""
    frames = []
    for name, df in context.package.datasets.items():
        for variable in char_columns(context, name):
            column = df[variable]
            bad = (not_ascii(column) if arrow_text(column) is not None else
                   per_unique(column, not_ascii, codes_uniques=factorized(context, name, variable)))
            frames.append(fail(context.package, name, bad, variable))
    return concat(frames)


@rule(id="CV0105", severity="Error", standard="FDA TCG", scope="any",
      message="file {value} holds dataset {dataset}; the file name must be the dataset name in lowercase")
def file_name_matches(context: Context) -> pd.DataFrame:
    """One dataset per file, named after it (dm.xpt holds DM)."""
    return concat([dataset_finding(n, "", m.path.name) for n, m in context.package.meta.items()
                   if m.path.stem != n.lower()])


@rule(id="CV0106", per_dataset=True, by_range="summary", severity="Warning", standard="FDA TCG", scope="any",
      message="{variable} has length {value} but its longest value is {longest}")
def char_length_fits(context: Context) -> pd.DataFrame:
    """Character lengths equal the longest value (not a default of 200); for the parts of a split domain
    (LBCH, LBHE), the longest value of the domain, since the parts share one length (CV0110)."""
    frames = []
    for name, df in context.package.datasets.items():
        parts = _split_parts(context, name)
        for variable in char_columns(context, name):
            declared = context.package.meta[name].variables[variable].length
            if not declared:
                continue
            longest = max(_longest(context, part, variable) for part in parts)
            if declared > max(longest, 1):
                frames.append(dataset_finding(name, variable, str(declared), longest=str(longest)))
    return concat(frames)


def _split_parts(context: Context, name: str) -> list[str]:
    """The datasets of the split domain ``name`` belongs to (itself alone when it is not split)."""
    if context.package.standard(name) != "SDTM":
        return [name]
    return next((names for names in split_groups(context).values() if name in names and len(names) > 1), [name])


def _longest(context: Context, name: str, variable: str) -> int:
    meta = context.package.meta[name].variables.get(variable)
    if meta is None or meta.type != "Char" or variable not in context.package.columns(name):
        return 0
    return _longest_bytes(context, name, variable)


@rule(id="CV0110", severity="Warning", standard="FDA TCG / SDTMIG",
      message="{variable} has length {value} in {dataset} but {others} in the other parts of the split domain "
              "{domain}: the parts of a split dataset share one length, the longest value of the domain")
def split_lengths_agree(context: Context) -> pd.DataFrame:
    """A variable has the same type and length in every part of a split domain (LBCH, LBHE, LBUR; SUPPLBCH,
    SUPPLBHE), as when the parts are put back together."""
    frames = []
    for domain, names in split_groups(context).items():
        if len(names) < 2:
            continue
        lengths = {}
        for name in names:
            for variable, meta in context.package.meta[name].variables.items():
                if meta.type == "Char" and meta.length:
                    lengths.setdefault(variable, {})[name] = meta.length
        for variable, by_part in lengths.items():
            if len(set(by_part.values())) < 2:
                continue
            for name, length in by_part.items():
                others = sorted({f"{v} ({n})" for n, v in by_part.items() if n != name and v != length})
                if others:
                    frames.append(dataset_finding(name, variable, str(length), others=", ".join(others),
                                                  domain=domain))
    return concat(frames)


@rule(id="CV0107", per_dataset=True, by_range="variables", severity="Warning", standard="SDTMIG",
      message="{variable} comes after {after}, against the {ig} variable order", needs=("sdtmig",))
def sdtm_variable_order(context: Context) -> pd.DataFrame:
    """Standard variables appear in SDTMIG order."""
    frames = []
    for name, df in context.package.sdtm().items():
        ig = _ig(context, name)
        rank = dict(zip(ig["name"], ig["order"]))
        seen_name, seen_rank = None, -np.inf
        for variable in df.columns:
            if variable not in rank:
                continue
            if rank[variable] < seen_rank:
                frames.append(dataset_finding(name, variable, "", after=seen_name,
                                              ig=f"SDTMIG {context.version('SDTMIG')}"))
            else:
                seen_name, seen_rank = variable, rank[variable]
    return concat(frames)


@rule(id="SD0083", severity="Error", standard="SDTMIG", fda_id="SD0083",
      message="USUBJID {value} is on more than one DM record")
def dm_unique_subject(context: Context) -> pd.DataFrame:
    """DM has one record per subject."""
    dm = context.package.datasets.get("DM")
    if dm is None or "USUBJID" not in dm.columns:
        return None
    return fail(context.package, "DM", dm["USUBJID"].notna() & dm.duplicated("USUBJID", keep=False), "USUBJID")


@rule(id="SD1117", per_dataset=True, by_range="records", severity="Warning", standard="SDTMIG", fda_id="SD1117",
      message="record duplicates another record in every variable but {variable}")
def duplicate_records(context: Context) -> pd.DataFrame:
    """No two records are identical apart from their --SEQ."""
    frames = []
    for name, df in context.package.sdtm().items():
        seq = f"{context.package.prefix(name)}SEQ"
        columns = [c for c in df.columns if c != seq]
        if len(df) < 2 or not columns:
            continue
        frames.append(fail(context.package, name, repeated_records(df, columns, set(char_columns(context, name))),
                           seq if seq in df else "", values=df[seq] if seq in df else None))
    return concat(frames)


def _keys(package, name: str) -> list[str]:
    """The keys CV0108 checks: define.xml's, else the trial-design keys."""
    if package.define is not None and name in package.define.groups and package.define.groups[name].keys:
        return package.define.groups[name].keys
    return TRIAL_DESIGN_KEYS.get(name, [])


def _keys_by_range(package, name: str) -> str:
    """Records that share a key with USUBJID in it belong to one subject, so to one range; other keys are
    checked on the whole dataset's key columns."""
    return "merge" if "USUBJID" in _keys(package, name) else "dataset"


def _merge_repeated_keys(found: list[pd.DataFrame]) -> pd.DataFrame:
    """The ranges' findings of CV0108 as one: the first range's record, the records counted over all ranges,
    the first three examples."""
    found = [f for f in found if f is not None and len(f)]
    if len(found) < 2:
        return concat(found)
    examples = [example for f in found for example in f["examples"].iloc[0]][:3]
    return found[0].assign(count=sum(int(f["count"].iloc[0]) for f in found), value="; ".join(examples),
                           examples=[tuple(examples)])


@rule(id="CV0108", per_dataset=True, by_range=_keys_by_range, reads=lambda package, name: _keys(package, name),
      merge=_merge_repeated_keys, severity="Error", standard="SDTMIG / Define-XML", scope="any", fda_id="SD1152",
      message="key ({keys}) does not identify one record: {count} records share a key value with another "
              "(e.g. {value}); the define.xml key is incomplete or records are duplicated")
def keys_unique(context: Context) -> pd.DataFrame:
    """The dataset keys (define.xml KeySequence, or the trial-design keys) identify one record. One cause
    per dataset (an incomplete key is one metadata problem, not one per record), with the number of
    records and examples; numeric keys compare with a float tolerance."""
    frames = []
    package = context.package
    for name, df in package.datasets.items():
        keys = _keys(package, name)
        if not keys or not set(keys) <= set(df.columns) or name in ("DM", "ADSL"):
            continue  # DM duplicates are SD0083; a missing key variable is reported elsewhere
        repeated = duplicated_rows([numeric_key(df[k]).to_numpy() if pd.api.types.is_numeric_dtype(df[k])
                                    else factorized(context, name, k)[0] for k in keys])
        if not repeated.any():
            continue
        rows = np.flatnonzero(repeated)
        examples = package.record_keys(name, rows[:3])
        frames.append(dataset_finding(name, keys[-1], "; ".join(examples), keys=", ".join(keys), count=int(len(rows)),
                                      row=int(rows[0]) + 1, key=examples.iloc[0], examples=tuple(examples)))
    return concat(frames)
