"""define.xml against the data: datasets, variables, labels, types, lengths, order, codelist codes."""
from __future__ import annotations

import pandas as pd

from validate.registry import Context, concat, dataset_finding, rule

CHAR_TYPES = {"text", "date", "datetime", "time", "partialDate", "partialTime", "partialDatetime",
              "incompleteDatetime", "durationDatetime", "intervalDatetime", "string"}
NUM_TYPES = {"integer", "float", "double", "decimal"}


def _declared(context: Context):
    """(dataset, ItemRefDef, ItemDef) for every variable declared for a dataset that has data."""
    define = context.package.define
    for name, group in define.groups.items():
        if name not in context.package.datasets:
            continue
        for ref in group.items:
            yield name, ref, define.items[ref.item_oid]


@rule(id="CV0500", severity="Error", standard="Define-XML", scope="define",
      message="{variable}: {value}")
def define_fully_read(context: Context) -> pd.DataFrame:
    """Everything in define.xml is read: references resolve, numbers are numbers, no unknown element is left."""
    issues = context.package.define.issues
    if not issues:
        return None
    return pd.DataFrame({"dataset": "define.xml", "variable": [i.where for i in issues], "row": pd.NA, "key": "",
                         "value": [i.message for i in issues], "severity": [i.severity for i in issues]})


@rule(id="CV0508", severity="Warning", standard="Define-XML", scope="define",
      message="{dataset}.{variable}: the ItemRef has no Role")
def tabulation_roles(context: Context) -> pd.DataFrame:
    """ItemRefs of SDTM (Tabulation) datasets state the variable's Role (Identifier, Topic, Timing, ...).

    Define-XML 1.0 and 2.0 expect a Role on every ItemRef of a tabulation dataset. Define-XML 2.1 makes it
    optional (CDISC's own 2.1 example has none), so there only a define that gives Roles to some ItemRefs
    and not to others is reported."""
    define = context.package.define
    tabulation = [g for g in define.groups.values() if g.purpose == "Tabulation"]
    if define.version == "2.1" and not any(ref.role for g in tabulation for ref in g.items):
        return None
    frames = []
    for group in tabulation:
        frames += [dataset_finding(group.name, ref.name) for ref in group.items if not ref.role]
    found = concat(frames)
    if len(found) > 1:  # one cause per dataset: the define writer leaves Role out
        found = found.groupby("dataset", sort=False).agg(variable=("variable", lambda v: ", ".join(v)),
                                                         count=("variable", "size")).reset_index()
        found = found.assign(row=pd.NA, key="", value="",
                             message=found["dataset"] + ": " + found["count"].astype(str) + " ItemRefs have no Role ("
                             + found["variable"].str.slice(0, 120) + ")")
        found["variable"] = ""
    return found


@rule(id="CV0501", severity="Error", standard="Define-XML", scope="define",
      message="dataset {dataset} is {value}")
def datasets_match(context: Context) -> pd.DataFrame:
    """Every dataset with data is in define.xml, and every dataset in define.xml has data (or HasNoData)."""
    define, data = context.package.define, context.package.datasets
    frames = [dataset_finding(n, "", "in define.xml but has no data file") for n, g in define.groups.items()
              if n not in data and not g.has_no_data]
    frames += [dataset_finding(n, "", "not declared in define.xml") for n in data if n not in define.groups]
    return concat(frames)


@rule(id="CV0502", per_dataset=True, by_range="variables", severity="Error", standard="Define-XML", scope="define",
      message="{dataset}.{variable} is {value}")
def variables_match(context: Context) -> pd.DataFrame:
    """Every variable of the data is in define.xml and every declared variable is in the data."""
    frames = []
    define = context.package.define
    for name, df in context.package.datasets.items():
        group = define.groups.get(name)
        if group is None:
            continue
        declared = {r.name for r in group.items}
        frames += [dataset_finding(name, v, "in the data but not in define.xml") for v in df.columns if v not in declared]
        frames += [dataset_finding(name, v, "in define.xml but not in the data") for v in sorted(declared - set(df.columns))]
    return concat(frames)


@rule(id="CV0503", severity="Error", standard="Define-XML", scope="define",
      message="label of {dataset} {variable} is '{value}' in the data but '{expected}' in define.xml")
def labels_match(context: Context) -> pd.DataFrame:
    """Dataset and variable labels in the data equal their define.xml Description."""
    package = context.package
    frames = [dataset_finding(n, "", package.meta[n].label, expected=g.label) for n, g in package.define.groups.items()
              if n in package.meta and g.label and package.meta[n].label != g.label]
    for name, ref, item in _declared(context):
        meta = package.meta[name].variables.get(ref.name)
        if meta is not None and item.label and meta.label != item.label:
            frames.append(dataset_finding(name, ref.name, meta.label, expected=item.label))
    return concat(frames)


@rule(id="CV0504", severity="Error", standard="Define-XML", scope="define",
      message="{dataset}.{variable} is {value} in the data but DataType {expected} in define.xml")
def types_match(context: Context) -> pd.DataFrame:
    """Character variables have a text/date DataType in define.xml, numeric ones integer/float."""
    frames = []
    for name, ref, item in _declared(context):
        meta = context.package.meta[name].variables.get(ref.name)
        if meta is None:
            continue
        expected = "Char" if item.data_type in CHAR_TYPES else "Num" if item.data_type in NUM_TYPES else None
        if expected and meta.type != expected:
            frames.append(dataset_finding(name, ref.name, meta.type, expected=item.data_type))
    return concat(frames)


@rule(id="CV0505", severity="Error", standard="Define-XML", scope="define",
      message="{dataset}.{variable} has length {value} in the data but Length {expected} in define.xml")
def lengths_match(context: Context) -> pd.DataFrame:
    """Character lengths in the data equal define.xml Length."""
    frames = []
    for name, ref, item in _declared(context):
        meta = context.package.meta[name].variables.get(ref.name)
        if meta is None or meta.type != "Char" or item.length is None or meta.length is None:
            continue
        if meta.length != item.length:
            frames.append(dataset_finding(name, ref.name, str(meta.length), expected=str(item.length)))
    return concat(frames)


@rule(id="CV0506", severity="Warning", standard="Define-XML", scope="define",
      message="{dataset}.{variable} is column {value} in the data but OrderNumber {expected} in define.xml")
def order_matches(context: Context) -> pd.DataFrame:
    """Variables are in define.xml OrderNumber order."""
    frames = []
    for name, group in context.package.define.groups.items():
        if name not in context.package.datasets:
            continue
        columns = context.package.columns(name)  # the names only: the values are not read
        declared = [r for r in sorted(group.items, key=lambda r: (r.order or 0)) if r.name in columns]
        actual = [c for c in columns if c in {r.name for r in declared}]
        for position, (ref, column) in enumerate(zip(declared, actual), start=1):
            if ref.name != column:
                frames.append(dataset_finding(name, column, str(context.package.meta[name].variables[column].order),
                                              expected=str(ref.order)))
                break  # the first displacement explains the rest
    return concat(frames)


@rule(id="CV0507", severity="Warning", standard="Define-XML / CDISC CT", scope="define",
      message="codelist {dataset}: term '{value}' has C-code {variable} in define.xml but {expected} in CT")
def codelist_codes_match(context: Context) -> pd.DataFrame:
    """Codelist and term C-codes (Alias nci:ExtCodeID) in define.xml agree with controlled terminology."""
    if context.ct is None:
        return None
    frames = []
    for cl in context.package.define.codelists.values():
        ct_list = context.ct.get(cl.code)
        if cl.code and ct_list is None:
            if not getattr(context.ct, "complete", True):  # a subset: absent is not the same as not a codelist
                context.note("CV0507", f"codelist {cl.name} ({cl.code}) not checked: not in {context.ct.source}")
                continue
            frames.append(dataset_finding(cl.name, cl.code, "", expected="no such codelist",
                                          message=f"codelist {cl.name}: C-code {cl.code} is not a codelist of the CT"))
            continue
        if ct_list is None:
            continue
        for value, code in cl.terms.items():
            expected = ct_list.terms.get(value)
            if code and expected and code != expected:
                frames.append(dataset_finding(cl.name, code, value, expected=expected))
            elif value in cl.extended_values and expected:
                frames.append(dataset_finding(cl.name, "", value, message=f"codelist {cl.name}: '{value}' is flagged "
                                                                           "ExtendedValue but is a CDISC term"))
            elif expected is None and value not in cl.extended_values and not ct_list.extensible:
                frames.append(dataset_finding(cl.name, code or "", value, message=f"codelist {cl.name}: '{value}' is "
                                              f"not a term of non-extensible {ct_list.short} ({ct_list.code})"))
    return concat(frames)
