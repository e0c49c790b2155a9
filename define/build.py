"""Spec inputs + the data written -> the Define-XML model, refusing a spec the data contradicts.

What the data decides: DataType, Length and SignificantDigits (``define.infer``), the terms of each
codelist (only those used), the value-level entries (one per value found, so every WhereClause selects
records), Repeating. What the spec decides: names, labels, order, keys, origins, methods, comments,
codelists. Where the two disagree (a value longer than its declared length, a value outside a
non-extensible codelist or outside the declared values), nothing is built: one DataError names every
dataset, variable and value.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from define.columns import columns_of
from define.infer import (DistinctText, TextColumn, char_attributes, numbers, numeric_attributes, repeating,
                          value_attributes)
from define.model import (DEFAULT_VALUE, CodeList, CodeListItem, CommentDef, DatasetInput, DefineModel, ItemDef,
                          ItemGroupDef, ItemRef, Leaf, MethodDef, OriginDef, RangeCheck, Standard, StudyInput, ValueListDef,
                          VariableInput, WhereClauseDef)
from specs.ct import MULTIPLE, multiple_allowed
from specs.errors import DataError, Problem

DEFAULT_SOURCE = {"Collected": "Investigator"}  # every other origin type: Sponsor
NO_SOURCE = {"Not Available", "Other"}
CONFLICTS = "spec/data conflicts"


def oid_part(value: str) -> str:
    """A value as it may appear inside an OID."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", str(value)) or "_"


def number_text(values: pd.Series) -> pd.Series:
    """Numbers as codelist values: 1.0 -> '1', 2.5 -> '2.5'."""
    x = pd.to_numeric(values, errors="coerce").dropna()
    column = TextColumn.of_numbers(x.to_numpy(dtype=np.float64))
    return pd.Series(column.texts.astype(object).to_numpy()[column.codes], index=x.index, dtype=object).astype(str)


# SDTMIG 4.1.5: an Expected variable stays in the dataset when no record has a value, and define.xml says why
EXPECTED_WITHOUT_VALUE = ("Expected variable with no value in this study: the data item was not collected, "
                          "or does not apply to any record.")

class _Builder:
    def __init__(self, study: StudyInput, purpose: str, ct):
        self.study, self.purpose, self.ct = study, purpose, ct
        self.problems: list[Problem] = []
        self.items: dict[str, ItemDef] = {}
        self.codelist_values: dict[str, dict] = {}  # OID -> {"make": ..., "values": {value: None}}
        self.methods: dict[str, MethodDef] = {}
        self.comments: dict[str, CommentDef] = {}
        self.value_lists: list[ValueListDef] = []
        self.where_clauses: dict[str, WhereClauseDef] = {}
        self.pages_used = False
        self.supp_qnams: dict[str, set] = {}  # parent dataset -> QNAMs of its SUPP-- (SDTMIG 4.2.8.3)
        self.pending_multiple: list[tuple[int, str, str]] = []  # (problem index, dataset, variable): MULTIPLE
        self.frame: pd.DataFrame | None = None  # the records being described (decodes of data codelists)
        self.later: set[str] = set()  # the variables of self.frame read again after their own description
        self.columns: dict = {}  # the columns of self.frame read once (define.infer): name -> TextColumn,
        # (name, "Num") -> float64 numbers
        self.decodes: dict[str, dict] = {}  # data codelist OID -> {term: decode}
        self.shared_methods: dict[tuple, str] = {}  # (dataset, variable, method text) -> value-level MethodDef OID
        ig_name, ig_version = study.standard
        self.standards = [Standard("STD.IG", ig_name, "IG", ig_version)]
        for publishing_set, version in study.ct_versions.items():
            self.standards.append(Standard(f"STD.CT.{publishing_set.upper()}", "CDISC/NCI", "CT", version,
                                           publishing_set))

    # --- codelists ----------------------------------------------------------------------------------
    def ct_standard_oid(self, package: str) -> str | None:
        wanted = "ADaM" if package.lower().startswith("adam") else "SDTM"
        for s in self.standards:
            if s.type == "CT" and s.publishing_set == wanted:
                return s.oid
        return None

    def text(self, name: str) -> TextColumn:
        """A column of the records being described, read as text once: each record placed among the distinct
        values for a column read again later (value-level metadata, decodes), the distinct values alone else."""
        if name not in self.columns:
            read = TextColumn.of if name in self.later else DistinctText.of
            self.columns[name] = read(self.frame[name])
        return self.columns[name]

    def numbers(self, name: str) -> np.ndarray:
        """A Num column of the records being described, as float64, read once."""
        if (name, "Num") not in self.columns:
            series = self.frame[name]
            self.columns[(name, "Num")] = numbers(series)
            self.columns[(name, "any")] = bool(series.notna().any())  # (a value that is not a number counts)
        return self.columns[(name, "Num")]

    def codelist_oid(self, ds: str, var: VariableInput, values, data_type: str) -> str | None:
        """The OID of the codelist ``var`` refers to, after checking its values; None when it has none.
        ``values``: a Char variable's ``TextColumn``, a Num variable's numbers (float64 array)."""
        if not (var.codelist or var.allowed_values or var.terms_from_data):
            return None
        cl_type = data_type if data_type in ("integer", "float") else "text"
        used = TextColumn.of_numbers(values) if var.sas_type == "Num" else values
        distinct = used.values
        if var.codelist and var.codelist in self.study.dictionaries:
            oid = f"CL.{oid_part(var.codelist)}" + ("" if cl_type == "text" else f".{cl_type}")
            self._collect(oid, ("external", var.codelist, cl_type), [])
            return oid
        if var.codelist:
            try:
                codelist = self.ct.codelist(var.codelist)
            except (LookupError, AttributeError):
                self.problems.append(Problem(f"{ds}.{var.name}", f"codelist '{var.codelist}' is not in the loaded "
                                                                 "controlled terminology"))
                return None
            if not codelist.extensible:
                for value in distinct:
                    if value not in codelist.terms:
                        if value == MULTIPLE:  # allowed when SUPP-- holds its values: decided once all are read
                            self.pending_multiple.append((len(self.problems), ds, var.name))
                        self.problems.append(Problem(f"{ds}.{var.name}", f"value '{value}' is not in codelist "
                                                     f"{codelist.short} ({codelist.code}), which is not extensible"))
            self._check_allowed(ds, var, distinct)
            oid = f"CL.{oid_part(codelist.short)}" + ("" if cl_type == "text" else f".{cl_type}")
            self._collect(oid, ("ct", codelist, cl_type), distinct)
            return oid
        if var.allowed_values:
            self._check_allowed(ds, var, distinct)
            oid = f"CL.{ds}.{oid_part(var.name)}"
            self._collect(oid, ("sponsor", f"{ds}.{var.name}", cl_type), distinct)
            return oid
        if var.terms_from_data:
            oid = f"CL.{ds}.{oid_part(var.name)}"
            self._collect(oid, ("data", f"{ds}.{var.name}", cl_type), distinct)
            if var.decode_from:
                self._collect_decodes(ds, var, oid, used)
            return oid
        return None

    def _collect_decodes(self, ds: str, var: VariableInput, oid: str, used: TextColumn) -> None:
        """The decode of each term (one value of ``var.decode_from`` per term, else a problem)."""
        if self.frame is None or var.decode_from not in self.frame.columns:
            self.problems.append(Problem(f"{ds}.{var.name}", f"the decode variable '{var.decode_from}' is not a "
                                                             f"column of {ds}"))
            return
        decode = self.text(var.decode_from)
        decode_codes = decode.codes if used.rows is None else decode.codes[used.rows]
        both = (used.codes >= 0) & (decode_codes >= 0)
        width = max(len(decode.texts), 1)
        pair_keys = pd.unique(used.codes[both] * width + decode_codes[both])  # each (term, decode) once, in order
        pairs = pd.DataFrame({"code": used.texts.astype(object).to_numpy()[pair_keys // width],
                              "decode": decode.texts.astype(object).to_numpy()[pair_keys % width]})
        doubled = pairs[pairs["code"].duplicated(keep=False)]
        if not doubled.empty:
            code = doubled["code"].iloc[0]
            found = ", ".join(f"'{d}'" for d in doubled.loc[doubled["code"] == code, "decode"])
            self.problems.append(Problem(f"{ds}.{var.name}", f"value '{code}' has more than one {var.decode_from} "
                                                             f"({found}): a codelist term has one decode"))
        self.decodes.setdefault(oid, {}).update(dict(zip(pairs["code"], pairs["decode"])))

    def _check_allowed(self, ds: str, var: VariableInput, distinct: list[str]) -> None:
        if var.allowed_values:
            allowed = [str(v) for v in var.allowed_values]
            for value in distinct:
                if value not in allowed:
                    self.problems.append(Problem(f"{ds}.{var.name}", f"value '{value}' is not one of the values "
                                                 f"declared in the spec ({', '.join(allowed)})"))

    def _collect(self, oid: str, make: tuple, values: list[str]) -> None:
        entry = self.codelist_values.setdefault(oid, {"make": make, "values": {}})
        entry["values"].update(dict.fromkeys(values))

    def codelists(self) -> list[CodeList]:
        out = []
        for oid, entry in self.codelist_values.items():
            kind, what, cl_type = entry["make"]
            used = entry["values"]
            if kind == "external":
                out.append(CodeList(oid, what, cl_type, external=(what, self.study.dictionaries[what])))
            elif kind == "data":
                decodes = self.decodes.get(oid, {})
                order = sorted(used, key=lambda v: (float(v), v) if cl_type != "text" else (0, v))
                if used:
                    out.append(CodeList(oid, what, cl_type, [CodeListItem(v, None, decodes.get(v)) for v in order]))
            elif kind == "sponsor":
                if used:
                    out.append(CodeList(oid, what, cl_type, [CodeListItem(v) for v in sorted(used)]))
            elif getattr(what, "package", "") == "study":  # the study's own codelist (study CT): no C-codes
                terms = [CodeListItem(v, None, t.decode or None) for v, t in what.terms.items() if v in used]
                if terms:
                    out.append(CodeList(oid, what.name or what.short, cl_type, terms))
            else:
                cdisc = {v: t for v, t in what.terms.items() if not getattr(t, "sponsor", False)}
                terms = [CodeListItem(v, t.code, t.decode or None) for v, t in cdisc.items() if v in used]
                # a study's own terms of an extensible codelist, and values outside it, are extended values
                terms += [CodeListItem(v, None, None, extended=True) for v in sorted(used) if v not in cdisc]
                if terms:
                    out.append(CodeList(oid, what.name or what.short, cl_type, terms, what.code,
                                        standard_oid=self.ct_standard_oid(what.package)))
        return sorted(out, key=lambda c: c.oid)

    # --- methods and comments -----------------------------------------------------------------------
    def method_oid(self, ds: str, name: str, var: VariableInput, fallback: str | None) -> str | None:
        if var.origin.type != "Derived" and not var.method:
            return None
        text = var.method or fallback or f"Derived by the sponsor ({ds}.{var.name})."
        oid = f"MT.{ds}.{oid_part(name)}"
        self.methods[oid] = MethodDef(oid, f"Algorithm to derive {ds}.{name}", text)
        return oid

    def comment_oid(self, key: str, text: str | None) -> str | None:
        if not text:
            return None
        oid = f"COM.{key}"
        self.comments[oid] = CommentDef(oid, text)
        return oid

    def origin(self, origin: OriginDef) -> OriginDef:
        source = origin.source
        if source is None and origin.type not in NO_SOURCE:
            source = DEFAULT_SOURCE.get(origin.type, "Sponsor")
        if origin.pages and origin.type == "Collected":
            self.pages_used = True
        return OriginDef(origin.type, source, origin.pages if origin.type == "Collected" else None,
                         origin.description)

    # --- variables and datasets ---------------------------------------------------------------------
    def item(self, ds: str, var: VariableInput, oid: str, name: str) -> ItemDef:
        where = f"{ds}.{name}"
        if var.sas_type == "Char":
            values = self.text(name)
            attrs, xpt_length = char_attributes(name, values, var.length)
            if var.length is not None:
                self._check_length(where, values, var.length)
            empty = values.present == 0
        else:
            values = self.numbers(name)
            attrs, xpt_length = numeric_attributes(values), None
            if var.significant_digits is not None and attrs.data_type == "float":
                attrs = type(attrs)("float", attrs.length, var.significant_digits)
            empty = not self.columns[(name, "any")]
        comment = var.comment
        if comment is None and var.expected and empty:
            comment = EXPECTED_WITHOUT_VALUE
        return ItemDef(oid, name, var.label, attrs.data_type, var.sas_type, xpt_length, attrs.length,
                       attrs.significant_digits, var.display_format,
                       self.codelist_oid(ds, var, values, attrs.data_type), self.origin(var.origin),
                       self.comment_oid(f"{ds}.{oid_part(name)}", comment))

    def _check_length(self, where: str, values: TextColumn, declared: int) -> None:
        """One problem per variable: the first value over the declared length, and how many are."""
        over = np.flatnonzero(values.ascii_lengths > declared)
        if len(over):
            value, length = values.texts.iloc[over[0]], int(values.ascii_lengths[over[0]])
            more = f" ({len(over)} distinct values are too long)" if len(over) > 1 else ""
            self.problems.append(Problem(where, f"value '{value}' is {length} characters, longer than the "
                                                f"declared length {declared}{more}"))

    def mandatory(self, var: VariableInput, values) -> bool:
        """Mandatory = Yes: the spec's word (SDTM core Req), or, for ADaM, a value in every record.
        ``values``: the variable's ``TextColumn`` (Char) or numbers (Num), for the records concerned."""
        if not self.study.mandatory_from_data:
            return var.mandatory
        if not len(values):
            return False
        if var.sas_type == "Char":
            return values.present == len(values)
        return bool(not np.isnan(values).any())

    def dataset(self, spec: DatasetInput, data: pd.DataFrame) -> ItemGroupDef | None:
        refs = []
        missing = [v.name for v in spec.variables if v.name not in data.columns]
        extra = [c for c in data.columns if c not in {v.name for v in spec.variables}]
        if missing or extra:
            self.problems.append(Problem(spec.name, "columns do not match the spec: "
                                         + "; ".join(filter(None, [missing and f"not in the data: {', '.join(missing)}",
                                                                   extra and f"not in the spec: {', '.join(extra)}"]))))
            return None
        self.frame, self.columns = data, {}
        # the columns read again later for this dataset (value-level metadata, decodes); any other column's
        # codes are let go once its variable is described: one column at a time beside the data
        later = {n for rule in spec.value_levels for n in (rule.target, rule.by, rule.label_from) if n}
        later |= {v.decode_from for v in spec.variables if v.decode_from}
        self.later = later
        for order, var in enumerate(spec.variables, start=1):
            oid = f"IT.{spec.name}.{oid_part(var.name)}"
            self.items[oid] = self.item(spec.name, var, oid, var.name)
            mandatory = self.mandatory(var, (self.text(var.name) if var.sas_type == "Char" else self.numbers(var.name))
                                       if self.study.mandatory_from_data else None)
            refs.append(ItemRef(oid, order, mandatory,
                                spec.keys.index(var.name) + 1 if var.name in spec.keys else None,
                                self.method_oid(spec.name, var.name, var, spec.build_method), var.role))
            if var.name not in later:
                self.columns.pop(var.name, None)
                self.columns.pop((var.name, "Num"), None)
                self.columns.pop((var.name, "any"), None)
        for rule in spec.value_levels:
            self.value_level(spec, data, rule)
        leaf = Leaf(f"LF.{spec.name}", f"{spec.name.lower()}.xpt", f"{spec.name.lower()}.xpt")
        return ItemGroupDef(f"IG.{spec.name}", spec.name, spec.label, spec.purpose, spec.structure, spec.cls,
                            repeating(data), spec.cls == "TRIAL DESIGN", refs, leaf, spec.domain,
                            "STD.IG", self.comment_oid(spec.name, spec.comment), data.empty, spec.is_nonstandard,
                            list(spec.keys))

    def value_level(self, spec: DatasetInput, data: pd.DataFrame, rule) -> None:
        ds = spec.name
        parents = {v.name: v for v in spec.variables}
        if rule.target not in parents or rule.by not in parents:
            return
        parent = parents[rule.target]
        by = TextColumn.of(data[rule.by], drop_blank=False)  # every value but "" has its entry
        # the records of each value of ``by``, in their order: one stable sort instead of a mask per value
        order = np.argsort(by.codes, kind="stable")
        ends = np.cumsum(np.bincount(by.codes[by.codes >= 0], minlength=len(by.texts))) + int((by.codes < 0).sum())
        names = by.values
        entries = []
        for code in sorted(range(len(names)), key=names.__getitem__):
            value = names[code]
            rows = order[ends[code - 1] if code else int((by.codes < 0).sum()):ends[code]]
            if parent.sas_type == "Char":
                subset = self.text(rule.target).take(rows)
                no_result = subset.present == 0
            else:
                subset = self.numbers(rule.target)[rows]
                no_result = bool(np.isnan(subset).all())
            if no_result:
                continue  # no result for this value: the parent's definition covers it
            key = value if value in rule.per_value else DEFAULT_VALUE
            override = rule.per_value.get(key)
            label = override.label if override and override.label else parent.label
            if not (override and override.label) and rule.label_from and rule.label_from in data.columns:
                labels = self.text(rule.label_from)
                found = labels.codes[rows]
                found = found[found >= 0]
                label = labels.texts.iloc[found[0]] if len(found) else value
            var = override or parent
            attrs = value_attributes(parent.sas_type, subset)
            oid = f"IT.{ds}.{oid_part(rule.target)}.{oid_part(value)}"
            codelist = self.codelist_oid(ds, VariableInput(rule.target, label, parent.sas_type, var.origin,
                                                           codelist=var.codelist,
                                                           allowed_values=var.allowed_values), subset, attrs.data_type)
            if parent.sas_type == "Char" and var.length is not None:
                self._check_length(f"{ds}.{rule.target} ({rule.by} = {value})", subset, var.length)
            self.items[oid] = ItemDef(oid, rule.target, label, attrs.data_type, parent.sas_type, None, attrs.length,
                                      attrs.significant_digits, var.display_format, codelist, self.origin(var.origin),
                                      self.comment_oid(f"{ds}.{oid_part(rule.target)}.{oid_part(value)}",
                                                       override.comment if override else None))
            wc_oid = f"WC.{ds}.{oid_part(rule.by)}.{oid_part(value)}"
            self.where_clauses.setdefault(wc_oid, WhereClauseDef(
                wc_oid, [RangeCheck(f"IT.{ds}.{oid_part(rule.by)}", "EQ", (value,))], ds,
                ((rule.by, "EQ", (value,)),)))
            shared = (ds, rule.target, override.method) if override and override.method else None
            if shared in self.shared_methods:  # parameters with the same method share one MethodDef
                method = self.shared_methods[shared]
            else:
                method = (self.method_oid(ds, f"{rule.target}.{key}", override, None) if override
                          else self.methods.get(f"MT.{ds}.{oid_part(rule.target)}") and f"MT.{ds}.{oid_part(rule.target)}")
                if shared:
                    self.shared_methods[shared] = method
            if method and key == DEFAULT_VALUE:
                self.methods[method].name = f"Algorithm to derive {ds}.{rule.target} ({rule.by} without its own method)"
            mandatory = self.mandatory(parent, subset) if self.study.mandatory_from_data else False
            entries.append(ItemRef(oid, len(entries) + 1, mandatory, None, method, None, wc_oid))
        if entries:
            vl_oid = f"VL.{ds}.{oid_part(rule.target)}"
            self.value_lists.append(ValueListDef(vl_oid, entries))
            self.items[f"IT.{ds}.{oid_part(rule.target)}"].value_list_oid = vl_oid


def _checked_text(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, distinct texts) of a column as CheckValues compare with it; code -1 reads as ""."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        view = TextColumn.of_numbers(numbers(column))
        return view.codes, view.texts
    view = TextColumn.of(column, drop_blank=False)
    return view.codes, view.texts


def value_in(column: pd.Series, values: list[str], view: tuple[np.ndarray, pd.Series] | None = None) -> pd.Series:
    """Records whose value is one of ``values`` (CheckValue text; numbers as written in define.xml: 67, 2.5);
    ``view``: the column's ``_checked_text``, when the caller tests it more than once."""
    return pd.Series(hits(view if view is not None else _checked_text(column), values), index=column.index)


def hits(view: tuple[np.ndarray, pd.Series], values: list[str]) -> np.ndarray:
    """``value_in`` as a boolean array, from the column's ``_checked_text`` alone."""
    codes, texts = view
    hit = np.append(texts.isin(values).to_numpy(dtype=bool), "" in values)  # hit[-1]: a missing value
    return hit[codes]


def where_clause_mask(data: pd.DataFrame, clause: WhereClauseDef, views: dict | None = None) -> pd.Series:
    """The records a WhereClauseDef selects (all its conditions hold); ``views`` caches each column's text
    (each column is read once: ``data`` may read a column on each access, ``define.columns.ColumnView``)."""
    views = {} if views is None else views
    mask = np.ones(len(data), dtype=bool)
    for variable, comparator, values in clause.conditions:
        if variable not in views:
            views[variable] = _checked_text(data[variable])
        hit = hits(views[variable], list(values))
        mask &= hit if comparator in ("EQ", "IN") else ~hit
    return pd.Series(mask, index=data.index)


class _Subset(Mapping):
    """The datasets of ``data`` that are described, without reading them."""

    def __init__(self, data: Mapping, names: list[str]):
        self.data, self.names = data, names

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.names:
            raise KeyError(name)
        return self.data[name]

    def __contains__(self, name) -> bool:
        return name in self.names

    def columns_of(self, name: str):
        if name not in self.names:
            raise KeyError(name)
        return columns_of(self.data, name)

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def build_define(study: StudyInput, purpose: str, inputs: list[DatasetInput], data: Mapping[str, pd.DataFrame],
                 ct=None, visit: Callable[[str, pd.DataFrame], None] | None = None) -> DefineModel:
    """The Define-XML model of ``inputs`` described from ``data``; DataError when they contradict.

    ``data`` may be a read-only Mapping that loads a dataset from disk on each access: each dataset is
    read once (described, its where clauses checked, then ``visit(name, frame)``, for whatever else
    needs its values) and let go before the next; none is changed. The model keeps ``data`` itself.
    """
    builder = _Builder(study, purpose, ct)
    groups, unselected = [], []
    available = set(data)  # (``in`` on a Mapping may read the dataset: its keys are listed once instead)
    for spec in inputs:
        if spec.name not in available:
            builder.problems.append(Problem(spec.name, "no data for this dataset"))
            continue
        frame = columns_of(data, spec.name)  # (a dataset on disk: read a column at a time, never whole)
        if spec.name.startswith("SUPP") and "QNAM" in frame:
            builder.supp_qnams[spec.name[4:]] = set(pd.unique(frame["QNAM"]))
        clauses = len(builder.where_clauses)
        group = builder.dataset(spec, frame)
        if group is not None:
            groups.append(group)
        views: dict = {}  # the dataset's columns as text, each read once for all its clauses
        for clause in list(builder.where_clauses.values())[clauses:]:  # (those of this dataset)
            if not where_clause_mask(frame, clause, views).any():
                unselected.append(Problem(clause.oid, "selects no record"))
        if visit is not None:
            visit(spec.name, frame)
        builder.frame, builder.columns, views, frame = None, {}, None, None  # let the dataset go
    described = {s.name for s in inputs}
    if builder.pending_multiple:
        for name in available:  # a SUPP-- that is not described itself still lists its QNAMs
            if name.startswith("SUPP") and name not in described and name[4:] not in builder.supp_qnams:
                frame = data[name]
                if "QNAM" in frame:
                    builder.supp_qnams[name[4:]] = set(pd.unique(frame["QNAM"]))
        allowed = {index for index, ds, variable in builder.pending_multiple
                   if multiple_allowed(variable, builder.supp_qnams.get(ds))}
        builder.problems = [p for i, p in enumerate(builder.problems) if i not in allowed]
    builder.problems += unselected
    if builder.problems:
        raise DataError(builder.problems, title=CONFLICTS)
    # CRF page references need the annotated CRF itself in the package; without one they are left out
    documents = [Leaf("LF.acrf", "acrf.pdf", "Annotated CRF")] if builder.pages_used and study.acrf else []
    codelists = builder.codelists()
    built = {c.oid for c in codelists}
    for item in builder.items.values():  # a variable empty in every record uses no term: no codelist to point to
        if item.codelist_oid is not None and item.codelist_oid not in built:
            item.codelist_oid = None
    names = [s.name for s in inputs]
    if isinstance(data, dict):
        kept = {name: data[name] for name in names}
    else:  # a mapping that loads on access: kept as it is (nothing is read), or the part described
        kept = data if available == set(names) else _Subset(data, names)
    return DefineModel(study, purpose, builder.standards, groups, builder.items, builder.value_lists,
                       list(builder.where_clauses.values()), codelists, list(builder.methods.values()),
                       list(builder.comments.values()), documents, kept)
