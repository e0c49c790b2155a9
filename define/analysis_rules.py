"""The special analysis rules of an ADaM spec, in words, for the analysis data reviewer's guide: baselines,
analysis visit windows and the record chosen in a window, imputations (partial dates, results below the
LLOQ, a dosing interval going on at a data cut), parameters computed from others (AUC, ratios, logs) and the
treatment-emergent window. Read from the steps and arguments of the spec (``adam.yaml``), so the guide says
what the datasets were made with; a step's ``comment`` is added to its rule.
"""
from __future__ import annotations

BLQ = {"half": "LLOQ/2 (DTYPE = HALFLLOQ)", "lloq": "the LLOQ (DTYPE = LLOQ)", "zero": "0", "missing": "missing"}
AUC_MISSING = {"none": "a missing time point makes the AUC missing",
               "interpolate": "one missing interior time point is bridged by linear interpolation; a missing "
                              "first or last point, or more than one, makes the AUC missing"}
IMPUTATION = {"D": "a missing day", "M": "a missing day or month", "Y": "a missing day, month or year"}


def _list(value) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def _windows(args: dict) -> str:
    parts = [f"{w.get('avisit')} (AVISITN {w.get('avisitn')}): {args.get('day_var', 'ADY')} {w.get('low')} to "
             f"{w.get('high')}, target {w.get('target')}" for w in args.get("windows") or []]
    return "Analysis visit windows on " + args.get("day_var", "ADY") + ": " + "; ".join(parts) + "."


def _record_in_window(args: dict) -> str:
    tie = {"later": "the later one", "earlier": "the earlier one",
           "mean": "their mean (DTYPE = AVERAGE)"}.get(args.get("tie", "later"), args.get("tie"))
    where = f" among the records where {args['where']}" if args.get("where") else ""
    return (f"{args.get('new_var', 'ANL01FL')} = Y on one record per {_list(args.get('by_vars', []))}{where}: the "
            f"closest to the window's target day ({args.get('target_var', 'AWTARGET')}); at equal distance, {tie}.")


def _baselines(args: dict) -> str:
    parts = []
    for d in args.get("definitions") or []:
        kind = f"BASETYPE {d['basetype']}" if d.get("basetype") else "records without BASETYPE"
        parts.append(f"{kind}: the {d.get('mode', 'last')} record by {_list(args.get('order', []))} where "
                     f"{d.get('where', 'any')}")
    return (f"{args.get('new_var', 'ABLFL')} = Y per {_list(args.get('by_vars', []))}: " + "; ".join(parts) + ".")


def _basetypes(args: dict) -> str:
    return "Records copied once per baseline definition: " + "; ".join(
        f"BASETYPE {b.get('basetype')} where {b.get('where', 'any')}" for b in args.get("basetypes") or []) + "."


def _blq(args: dict) -> str:
    source = f"{args['lloq_var']} where it has a value, else the x of the result text" if args.get("lloq_var") \
        else "the x of the result text"
    where = f" (records where {args['where']})" if args.get("where") else ""
    return (f"A result reported below the LLOQ ({args.get('text_var', 'AVALC')} '<x', no numeric value){where} "
            f"gets {args.get('new_var', 'AVAL')} = {BLQ.get(args.get('rule', 'half'), args.get('rule'))}; the LLOQ "
            f"is {source}; {args.get('text_var', 'AVALC')} keeps the reported text.")


def _auc(args: dict) -> str:
    new = (args.get("set_values_to") or {}).get("PARAMCD", "")
    where = f", records where {args['where']}" if args.get("where") else ""
    return (f"{new}: area under the {args.get('parameter')} curve by the linear trapezoidal rule over "
            f"{args.get('time_var', 'ATPTN')} = {_list(args.get('time_points', []))}, per "
            f"{_list(args.get('by_vars', []))}{where}; {AUC_MISSING.get(args.get('missing', 'none'), '')}; "
            f"below-LLOQ results count as {BLQ.get(args.get('blq', 'half'), args.get('blq')).split(' (')[0]}.")


def _computed(args: dict) -> str:
    new = (args.get("set_values_to") or {}).get("PARAMCD", "")
    formula = args.get("formula") or {}
    kind = formula.get("type")
    if kind == "ratio":
        text = f"{formula.get('numerator')} / {formula.get('denominator')}" + (
            f" x {formula['scale']}" if formula.get("scale") not in (None, 1) else "")
    elif kind == "log":
        text = f"ln({formula.get('argument')} + {formula.get('offset', 0)})"
    elif kind == "linear":
        text = " + ".join(f"{c} x {p}" for p, c in (formula.get("terms") or {}).items()) + (
            f" + {formula['constant']}" if formula.get("constant") else "")
    else:
        text = str(formula)
    return f"{new} = {text}, per {_list(args.get('by_vars', []))} (null when an operand is)."


def _dates(args: dict) -> str | None:
    level = str(args.get("highest_imputation", "n"))
    if level not in IMPUTATION:
        return None
    bounds = [f"not before {_list(args['min_dates'])}" if args.get("min_dates") else "",
              f"not after {_list(args['max_dates'])}" if args.get("max_dates") else ""]
    bounds = [b for b in bounds if b]
    return (f"{args.get('new_vars_prefix')}DT from {args.get('dtc')}: {IMPUTATION[level]} is imputed as the "
            f"{args.get('date_imputation', 'first')} possible" + (f" ({', '.join(bounds)})" if bounds else "")
            + f", flagged in {args.get('new_vars_prefix')}DTF.")


def _trtemfl(args: dict) -> str:
    window = f" to {args['end_window']} days after {args.get('trt_end_date', 'TRTEDT')}" \
        if args.get("end_window") is not None else ""
    return (f"{args.get('new_var', 'TRTEMFL')} = Y for an event starting on or after "
            f"{args.get('trt_start_date', 'TRTSDT')}{window}, or without a start date unless it ended before "
            f"treatment.")


# step name -> (kind of rule, describer)
RULES = {
    "derive_var_ablfl": ("Baseline", _baselines),
    "derive_basetype_records": ("Baseline", _basetypes),
    "derive_vars_visit_windows": ("Analysis windows", _windows),
    "derive_var_anl_flag": ("Analysis windows", _record_in_window),
    "derive_vars_blq": ("Imputation", _blq),
    "derive_vars_dt": ("Imputation", _dates),
    "derive_param_auc": ("Derived parameter", _auc),
    "derive_param_computed": ("Derived parameter", _computed),
    "derive_var_trtemfl": ("Treatment emergence", _trtemfl),
}
ORDER = ["Baseline", "Analysis windows", "Imputation", "Derived parameter", "Treatment emergence"]


def analysis_rules(datasets: dict[str, dict]) -> list[list[str]]:
    """[dataset, kind of rule, rule] for every step of ``datasets`` (adam.yaml's, working datasets included:
    their rules feed the datasets written) that is an analysis rule, sorted by kind then spec order; a step's
    comment follows its rule."""
    rows = []
    for position, (name, dataset) in enumerate(datasets.items()):
        for index, step in enumerate(dataset.get("steps") or []):
            known = RULES.get(step.get("step"))
            if known is None:
                continue
            kind, describe = known
            text = describe(step.get("args") or {})
            if text is None:
                continue
            if step.get("comment"):
                text += " (" + " ".join(str(step["comment"]).split()) + ")"
            rows.append((ORDER.index(kind), position, index, [name, kind, text]))
    return [row for *_, row in sorted(rows, key=lambda r: r[:3])]
