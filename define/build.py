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

import numpy as np
import pandas as pd

from define.infer import char_attributes, numeric_attributes, repeating, text_values, value_attributes
from define.model import (DEFAULT_VALUE, CodeList, CodeListItem, CommentDef, DatasetInput, DefineModel, ItemDef,
                          ItemGroupDef, ItemRef, Leaf, MethodDef, OriginDef, RangeCheck, Standard, StudyInput, ValueListDef,
                          VariableInput, WhereClauseDef)
from define.transliterate import to_ascii
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
    codes, uniques = pd.factorize(x)  # format each distinct number once
    texts = np.array([str(int(v)) if float(v).is_integer() else repr(float(v)) for v in uniques], dtype=object)
    return pd.Series(texts[codes] if len(texts) else [], index=x.index, dtype=object).astype(str)


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
        self.frame: pd.DataFrame | None = None  # the records being described (decodes of data codelists)
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

    def codelist_oid(self, ds: str, var: VariableInput, values: pd.Series, data_type: str) -> str | None:
        """The OID of the codelist ``var`` refers to, after checking its values; None when it has none."""
        cl_type = data_type if data_type in ("integer", "float") else "text"
        used = number_text(values) if var.sas_type == "Num" else values
        distinct = list(dict.fromkeys(used.tolist()))
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
                    if value not in codelist.terms and not (
                            value == MULTIPLE and multiple_allowed(var.name, self.supp_qnams.get(ds))):
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

    def _collect_decodes(self, ds: str, var: VariableInput, oid: str, used: pd.Series) -> None:
        """The decode of each term (one value of ``var.decode_from`` per term, else a problem)."""
        if self.frame is None or var.decode_from not in self.frame.columns:
            self.problems.append(Problem(f"{ds}.{var.name}", f"the decode variable '{var.decode_from}' is not a "
                                                             f"column of {ds}"))
            return
        decodes = text_values(self.frame[var.decode_from].loc[used.index]) if len(used) else pd.Series(dtype=object)
        pairs = pd.DataFrame({"code": used.loc[decodes.index], "decode": decodes}).drop_duplicates()
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
    def item(self, ds: str, var: VariableInput, series: pd.Series, oid: str, name: str) -> ItemDef:
        where = f"{ds}.{name}"
        if var.sas_type == "Char":
            attrs, xpt_length = char_attributes(name, series, var.length)
            if var.length is not None:
                self._check_length(where, series, var.length)
            values = text_values(series)
        else:
            attrs, xpt_length = numeric_attributes(pd.to_numeric(series, errors="coerce")), None
            if var.significant_digits is not None and attrs.data_type == "float":
                attrs = type(attrs)("float", attrs.length, var.significant_digits)
            values = series
        comment = var.comment
        if comment is None and var.expected and not len(text_values(series) if var.sas_type == "Char"
                                                        else series.dropna()):
            comment = EXPECTED_WITHOUT_VALUE
        return ItemDef(oid, name, var.label, attrs.data_type, var.sas_type, xpt_length, attrs.length,
                       attrs.significant_digits, var.display_format,
                       self.codelist_oid(ds, var, values, attrs.data_type), self.origin(var.origin),
                       self.comment_oid(f"{ds}.{oid_part(name)}", comment))

    def _check_length(self, where: str, series: pd.Series, declared: int) -> None:
        """One problem per variable: the first value over the declared length, and how many are."""
        values = pd.Series(pd.unique(text_values(series)), dtype=object)
        lengths = [len(to_ascii(v)) for v in values]
        over = [(v, n) for v, n in zip(values, lengths) if n > declared]
        if over:
            value, length = over[0]
            more = f" ({len(over)} distinct values are too long)" if len(over) > 1 else ""
            self.problems.append(Problem(where, f"value '{value}' is {length} characters, longer than the "
                                                f"declared length {declared}{more}"))

    def mandatory(self, var: VariableInput, series: pd.Series) -> bool:
        """Mandatory = Yes: the spec's word (SDTM core Req), or, for ADaM, a value in every record."""
        if not self.study.mandatory_from_data:
            return var.mandatory
        if series.empty:
            return False
        if var.sas_type == "Char":
            return len(text_values(series)) == len(series)
        return bool(pd.to_numeric(series, errors="coerce").notna().all())

    def dataset(self, spec: DatasetInput, data: pd.DataFrame) -> ItemGroupDef | None:
        refs = []
        missing = [v.name for v in spec.variables if v.name not in data.columns]
        extra = [c for c in data.columns if c not in {v.name for v in spec.variables}]
        if missing or extra:
            self.problems.append(Problem(spec.name, "columns do not match the spec: "
                                         + "; ".join(filter(None, [missing and f"not in the data: {', '.join(missing)}",
                                                                   extra and f"not in the spec: {', '.join(extra)}"]))))
            return None
        self.frame = data
        for order, var in enumerate(spec.variables, start=1):
            oid = f"IT.{spec.name}.{oid_part(var.name)}"
            self.items[oid] = self.item(spec.name, var, data[var.name], oid, var.name)
            refs.append(ItemRef(oid, order, self.mandatory(var, data[var.name]),
                                spec.keys.index(var.name) + 1 if var.name in spec.keys else None,
                                self.method_oid(spec.name, var.name, var, spec.build_method), var.role))
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
        by_values = data[rule.by].astype("string").fillna("")
        entries = []
        for value in sorted(v for v in pd.unique(by_values) if v != ""):
            mask = (by_values == value).to_numpy()
            subset = data.loc[mask, rule.target]
            if (parent.sas_type == "Char" and text_values(subset).empty) or \
                    (parent.sas_type == "Num" and pd.to_numeric(subset, errors="coerce").isna().all()):
                continue  # no result for this value: the parent's definition covers it
            key = value if value in rule.per_value else DEFAULT_VALUE
            override = rule.per_value.get(key)
            label = override.label if override and override.label else parent.label
            if not (override and override.label) and rule.label_from and rule.label_from in data.columns:
                labels = text_values(data.loc[mask, rule.label_from])
                label = labels.iloc[0] if not labels.empty else value
            var = override or parent
            attrs = value_attributes(parent.sas_type, subset)
            oid = f"IT.{ds}.{oid_part(rule.target)}.{oid_part(value)}"
            values = text_values(subset) if parent.sas_type == "Char" else subset
            codelist = self.codelist_oid(ds, VariableInput(rule.target, label, parent.sas_type, var.origin,
                                                           codelist=var.codelist,
                                                           allowed_values=var.allowed_values), values, attrs.data_type)
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


def value_in(column: pd.Series, values: list[str]) -> pd.Series:
    """Records whose value is one of ``values`` (CheckValue text; numbers as written in define.xml: 67, 2.5)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        text = pd.Series("", index=column.index, dtype=object)
        numbers = number_text(column)
        text.loc[numbers.index] = numbers
        return text.isin(values)
    return column.astype("string").fillna("").isin(values)


def where_clause_mask(data: pd.DataFrame, clause: WhereClauseDef) -> pd.Series:
    """The records a WhereClauseDef selects (all its conditions hold)."""
    mask = pd.Series(True, index=data.index)
    for variable, comparator, values in clause.conditions:
        hit = value_in(data[variable], list(values))
        mask &= hit if comparator in ("EQ", "IN") else ~hit
    return mask


def build_define(study: StudyInput, purpose: str, inputs: list[DatasetInput], data: dict[str, pd.DataFrame],
                 ct=None) -> DefineModel:
    """The Define-XML model of ``inputs`` described from ``data``; DataError when they contradict."""
    builder = _Builder(study, purpose, ct)
    builder.supp_qnams = {name[4:]: set(frame["QNAM"]) for name, frame in data.items()
                          if name.startswith("SUPP") and "QNAM" in frame}
    groups = []
    for spec in inputs:
        if spec.name not in data:
            builder.problems.append(Problem(spec.name, "no data for this dataset"))
            continue
        group = builder.dataset(spec, data[spec.name])
        if group is not None:
            groups.append(group)
    for clause in builder.where_clauses.values():
        if not where_clause_mask(data[clause.dataset], clause).any():
            builder.problems.append(Problem(clause.oid, "selects no record"))
    if builder.problems:
        raise DataError(builder.problems, title=CONFLICTS)
    # CRF page references need the annotated CRF itself in the package; without one they are left out
    documents = [Leaf("LF.acrf", "acrf.pdf", "Annotated CRF")] if builder.pages_used and study.acrf else []
    codelists = builder.codelists()
    built = {c.oid for c in codelists}
    for item in builder.items.values():  # a variable empty in every record uses no term: no codelist to point to
        if item.codelist_oid is not None and item.codelist_oid not in built:
            item.codelist_oid = None
    return DefineModel(study, purpose, builder.standards, groups, builder.items, builder.value_lists,
                       list(builder.where_clauses.values()), codelists, list(builder.methods.values()),
                       list(builder.comments.values()), documents, {s.name: data[s.name] for s in inputs})
