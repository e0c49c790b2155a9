"""The SDTM and ADaM specs, translated into the neutral inputs of ``define.build``.

``from_sdtm(spec, result, ct)`` reads the study spec and the SDTM build (``result.specs`` and
``result.datasets``); ``from_adam(adam_spec, datasets, study, ct)`` reads an ``adam.spec.AdamSpec``
and the ADaM datasets built from it. Nothing here looks at values: that is ``define.build``'s job.
"""
from __future__ import annotations

from dataclasses import replace

from define.build import build_define
from define.model import DatasetInput, DefineModel, OriginDef, StudyInput, ValueLevelRule, VariableInput
from specs.vocabulary import ALGORITHMS, BUILDS

# Value-level metadata: results described per test code (SDTM) or per parameter (ADaM BDS).
SDTM_VALUE_LEVELS = {
    "LB": [("LBORRES", "LBTESTCD", "LBTEST"), ("LBSTRESN", "LBTESTCD", "LBTEST")],
    "CP": [("CPORRES", "CPTESTCD", "CPTEST"), ("CPSTRESN", "CPTESTCD", "CPTEST")],
}
ADAM_VALUE_LEVELS = [("AVAL", "PARAMCD", "PARAM")]


# --- method text from the mapping algorithm ----------------------------------------------------------

def _render(key: str, value) -> str:
    if isinstance(value, dict) and "algorithm" in value:
        return describe_map(value).rstrip(".")
    if isinstance(value, dict):
        return ", ".join(f"{k} -> {v}" for k, v in value.items())
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict) and "domain" in item and "variable" in item:
                parts.append(f"{item['domain']}.{item['variable']}" + (f" where {item['where']}" if item.get("where") else ""))
            elif isinstance(item, dict) and "when" in item:
                parts.append(f"when {item['when']}: {_render('then', item.get('then'))}")
            else:
                parts.append(str(item))
        return ", ".join(parts) if key != "cases" else "; ".join(parts)
    return str(value)


class _Args(dict):
    """Format arguments: optional ones that are absent read as nothing."""

    def __missing__(self, key):
        return ""


def describe_map(mapping: dict | None) -> str | None:
    """The vocabulary's description of a mapping, filled with its arguments (raw text if it cannot be)."""
    if not mapping or mapping.get("algorithm") not in ALGORITHMS:
        return None
    algorithm = ALGORITHMS[mapping["algorithm"]]
    args = _Args({key: _render(key, value) for key, value in algorithm.defaults.items()})
    for key, value in mapping.items():
        if key == "algorithm":
            continue
        text = _render(key, value)
        args[key] = {"terms": f" (recoded: {text})", "time": f" and time {text}", "expr": f", computed as {text}",
                     "stresc": f"; a result reported below a limit ('<x' in {text}) is LOW when x is at or below "
                               f"the lower limit, one above a limit ('>x') HIGH when x is at or above the upper "
                               f"limit"}.get(key, text)
    if mapping["algorithm"] == "condition_add" and "otherwise" in mapping:
        args["cases"] += f"; otherwise: {_render('otherwise', mapping['otherwise'])}"
    try:
        return algorithm.description.format_map(args)
    except (ValueError, IndexError, AttributeError, KeyError):
        return algorithm.description


# --- SDTM ---------------------------------------------------------------------------------------------

def _sdtm_variable(v, domain: str | None = None, acrf=None) -> VariableInput:
    origin = v.origin
    description = origin.predecessor if origin.type == "Predecessor" else None
    pages = origin.pages
    if acrf is not None and origin.type == "Collected":  # the generated aCRF: the pages its annotations are on
        pages = acrf.pages_of(domain, v.name)
    return VariableInput(
        name=v.name, label=v.label, sas_type=v.type,
        origin=OriginDef(origin.type, origin.source, pages, description),
        length=v.length, significant_digits=v.significant_digits, codelist=v.codelist,
        method=v.method or (describe_map(v.map) if origin.type == "Derived" else None),
        comment=v.comment, role=v.role, mandatory=v.core == "Req", expected=v.core == "Exp")


def _value_codelists(dspec, acrf=None) -> list[ValueLevelRule]:
    """Value-level codelists a variable takes by the value of another (``value_codelists: {by: DSCAT,
    codelists: {DISPOSITION EVENT: NCOMPLT, PROTOCOL MILESTONE: PROTMLST}}``): DSDECOD's terms come from one
    codelist per category."""
    raw = {v["name"]: v for v in (dspec.raw or {}).get("variables", [])}
    rules = []
    for v in dspec.parent_variables:
        spec = (raw.get(v.name) or {}).get("value_codelists")
        if spec:
            parent = _sdtm_variable(v, dspec.name, acrf)
            rules.append(ValueLevelRule(v.name, spec["by"], None, {
                value: replace(parent, codelist=codelist) for value, codelist in spec["codelists"].items()}))
    return rules


def sdtm_study(spec, acrf=None) -> StudyInput:
    study = spec.study
    return StudyInput(
        studyid=study["studyid"], name=study.get("name", study["studyid"]),
        description=" ".join(str(study.get("description", "")).split()) or study["studyid"],
        protocol=study.get("protocol", study["studyid"]),
        standard=("SDTMIG", str(study.get("standards", {}).get("sdtmig", "3.4"))),
        ct_versions={"SDTM": str(study.get("ct", {}).get("sdtm", ""))},
        dictionaries={k: str(v) for k, v in (study.get("dictionaries") or {}).items()},
        define_version=str(study.get("standards", {}).get("define", "2.1.0")),
        acrf=acrf.pdf if acrf is not None else annotated_crf(spec))


def annotated_crf(spec):
    """The spec folder's annotated CRF (study.acrf, default acrf.pdf), when the sponsor put one there; a path
    out of the spec folder, or a file that is not a PDF, is refused when the spec is loaded."""
    from specs.loader import annotated_crf_path

    return annotated_crf_path(spec)


def sdtm_inputs(result, acrf=None) -> list[DatasetInput]:
    """``acrf``: the generated ``define.acrf.AnnotatedCrf``, whose pages replace the spec's CRF pages."""
    inputs = []
    for name in result.datasets:
        dspec = result.specs[name]
        raw = dspec.raw or {}
        rules = [ValueLevelRule(t, b, label) for t, b, label in SDTM_VALUE_LEVELS.get(name, [])]
        rules += _value_codelists(dspec, acrf)
        if "supp_of" in raw:
            per_value = {qnam: _sdtm_variable(v, raw["supp_of"], acrf) for qnam, v in (raw.get("qvals") or {}).items()}
            rules.append(ValueLevelRule("QVAL", "QNAM", "QLABEL", per_value))
        inputs.append(DatasetInput(
            name=name, label=dspec.label, purpose="Tabulation", cls=dspec.cls,
            structure=dspec.structure or "", keys=list(dspec.keys),
            variables=[_sdtm_variable(v, name, acrf) for v in dspec.parent_variables],
            domain=raw.get("supp_of", name), build_method=BUILDS.get(raw.get("build")), value_levels=rules))
    return inputs


def from_sdtm(spec, result, ct=None, acrf=None, visit=None) -> DefineModel:
    """The SDTM define model: ``spec`` a ``specs.loader.StudySpec``, ``result`` the SDTM build, ``acrf`` the
    annotated CRF generated from the EDC metadata (``define.acrf.build_acrf``), if any; ``visit(name, frame)``
    is called with each dataset in the one pass that reads it (``build_define``)."""
    if ct is None:
        from specs.ct import load_ct
        ct = load_ct()
    return build_define(sdtm_study(spec, acrf), "Tabulation", sdtm_inputs(result, acrf), result.datasets, ct, visit)


# --- ADaM ---------------------------------------------------------------------------------------------

# ADaMIG's codelist notations that are not CDISC codelists: "(Y)" = NY restricted to Y.
ADAMIG_CODELISTS = {"Y": ("NY", ("Y",)), "(Y)": ("NY", ("Y",)), "Y/N": ("NY", ("Y", "N")), "N/Y": ("NY", ("Y", "N"))}


def _adam_origin(v: dict) -> OriginDef:
    """Predecessor: the SDTM (or ADSL) variable copied; Derived or Assigned: the data it comes from, when given."""
    origin_type = v.get("origin", "Derived")
    if origin_type == "Predecessor":
        return OriginDef(origin_type, None, None, v.get("predecessor"))
    return OriginDef(origin_type, None, None, f"From {v['from']}" if v.get("from") else None)


def _adam_variable(v: dict, keys: list[str]) -> VariableInput:
    length = v.get("length", "auto")
    codelist, allowed = v.get("codelist"), tuple(str(x) for x in v.get("values", ()))
    if codelist in ADAMIG_CODELISTS:
        codelist, restricted = ADAMIG_CODELISTS[codelist]
        allowed = allowed or restricted
    terms = v.get("terms")
    return VariableInput(
        name=v["name"], label=v.get("label", ""), sas_type=v.get("type", "Char"), origin=_adam_origin(v),
        length=None if length == "auto" or v.get("type") == "Num" else int(length),
        display_format=v.get("format"), codelist=codelist, allowed_values=allowed,
        method=v.get("method"), comment=v.get("comment"), mandatory=v["name"] in keys,
        terms_from_data=terms is not None, decode_from=(terms or {}).get("decode") if isinstance(terms, dict) else None)


def _per_parameter(v: dict) -> dict[str, VariableInput]:
    """A variable's value-level entries by PARAMCD (``per_parameter``; key ``default`` for the others)."""
    out = {}
    for code, entry in (v.get("per_parameter") or {}).items():
        merged = {"name": v["name"], "label": "", "type": v.get("type", "Char"), "origin": v.get("origin"), **entry}
        if "origin" in entry and entry["origin"] != "Predecessor":
            merged.pop("predecessor", None)
        out[str(code)] = VariableInput(name=v["name"], label="", sas_type=merged["type"], origin=_adam_origin(merged),
                                       display_format=v.get("format"), method=merged.get("method"),
                                       comment=merged.get("comment"))
    return out


def adam_study(study: dict, adam_spec=None) -> StudyInput:
    ct = study.get("ct", {})
    versions = {"ADaM": str(ct.get("adam", ""))}
    if ct.get("sdtm"):
        versions["SDTM"] = str(ct["sdtm"])
    adamig = (getattr(adam_spec, "data", {}) or {}).get("adamig") or study.get("standards", {}).get("adamig", "1.3")
    base = StudyInput(study["studyid"], study.get("name", study["studyid"]),
                      " ".join(str(study.get("description", "")).split()) or study["studyid"],
                      study.get("protocol", study["studyid"]), ("ADaMIG", str(adamig)), versions,
                      {k: str(v) for k, v in (study.get("dictionaries") or {}).items()},
                      str(study.get("standards", {}).get("define", "2.1.0")), mandatory_from_data=True)
    return base


def adam_inputs(adam_spec, datasets: dict) -> list[DatasetInput]:
    inputs = []
    for name in datasets:
        ds = adam_spec.datasets[name]
        keys = list(ds.get("keys", []))
        variables = [_adam_variable(v, keys) for v in ds.get("variables", [])]
        names = {v.name for v in variables}
        per_parameter = {v["name"]: _per_parameter(v) for v in ds.get("variables", []) if v.get("per_parameter")}
        rules = [ValueLevelRule(t, b, label, per_parameter.pop(t, {}))
                 for t, b, label in ADAM_VALUE_LEVELS if t in names and b in names]
        if "PARAMCD" in names:
            rules += [ValueLevelRule(t, "PARAMCD", "PARAM", entries) for t, entries in per_parameter.items()]
        inputs.append(DatasetInput(
            name=name, label=ds.get("label", ""), purpose="Analysis", cls=ds.get("class"),
            structure=ds.get("structure", ""), keys=keys, variables=variables, comment=ds.get("comment"),
            value_levels=rules))
    return inputs


def from_adam(adam_spec, datasets, study: dict, ct=None, visit=None) -> DefineModel:
    """The ADaM define model: ``adam_spec`` an ``adam.spec.AdamSpec``, ``datasets`` its built outputs (a
    Mapping), ``study`` the ``study`` block of study.yaml (ids, standards, CT versions, dictionaries);
    ``visit(name, frame)`` is called with each dataset in the one pass that reads it."""
    if ct is None:
        from specs.ct import load_ct
        ct = load_ct()
    from define.arm import add_analysis_results, result_counts

    data = getattr(adam_spec, "data", None) or {}
    entries = data.get("analysis_results") or []
    counts: dict = {}  # the records of each analysis result, counted in the same pass

    def described(name, frame):
        counts.update(result_counts(entries, name, frame))
        if visit is not None:
            visit(name, frame)

    model = build_define(adam_study(study, adam_spec), "Analysis", adam_inputs(adam_spec, datasets), datasets, ct,
                         described)
    return add_analysis_results(model, entries, documents=data.get("documents") or [], counts=counts)
