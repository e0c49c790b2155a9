"""Derive-kind algorithms: variables computed from mapped variables and from other domains.

The functions in the first part, with those of ``sdtm.lab_results`` (results in standard units) and
``sdtm.timing`` (first/last dates, EPOCH, timepoints, baseline), are pure functions of data frames and
series (tested by hand); the registry at the end adapts each to the spec's arguments, taking the other
domains it needs from the ``DeriveContext``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sdtm.dates import date_part, datetime_part, duration, iso_datetime, study_day
from sdtm.lab_results import convert_limit, convert_result, no_factor_text, numeric_result, reference_range_indicator
from sdtm.numbers import decimal_marks
from sdtm.timing import baseline_flag, epoch_of, pick_date, reference_time
from sdtm.unique import key_ranks, map_text, on_unique, text_is, text_of
from specs.errors import Problem, RecordIssue

# ---------------------------------------------------------------- pure functions over frames
def derive_seq(dataset: pd.DataFrame, by_vars: list[str], order: list[str]) -> pd.Series:
    """1..n within by_vars following the order columns (a stable sort; ties keep record order)."""
    keys = list(by_vars) + list(order)
    ranks = key_ranks(dataset, keys, "last") if by_vars else None
    if ranks is None:
        ordered = dataset.sort_values(keys, kind="mergesort", na_position="last")
        seq = ordered.groupby(list(by_vars), sort=False, dropna=False).cumcount() + 1
        return seq.reindex(dataset.index).astype(float)
    # in the sorted order the records of a by-group are together: each numbered from where its run starts
    positions = np.lexsort(ranks[::-1])
    starts = np.zeros(len(dataset), dtype=bool)
    starts[:1] = True
    for rank in ranks[:len(by_vars)]:
        ordered = rank[positions]
        starts[1:] |= ordered[1:] != ordered[:-1]
    first = np.flatnonzero(starts)
    seq = np.empty(len(dataset), dtype=float)
    seq[positions] = np.arange(len(dataset)) - first[np.cumsum(starts) - 1] + 1
    return pd.Series(seq, index=dataset.index)


def age_in_years(birth: pd.Series, reference: pd.Series) -> pd.Series:
    """Completed years between two ISO dates; null if either is partial."""
    born, ref = date_part(birth), date_part(reference)
    years = ref.dt.year - born.dt.year
    before_birthday = (ref.dt.month < born.dt.month) | ((ref.dt.month == born.dt.month) & (ref.dt.day < born.dt.day))
    return (years - before_birthday.astype(int)).where(born.notna() & ref.notna()).astype(float)


def records_where(frame: pd.DataFrame, where: str | None) -> pd.DataFrame:
    """The records of frame that meet a spec condition (all of them without one)."""
    if not where:
        return frame
    from specs.conditions import parse_condition

    return frame[parse_condition(where).evaluate(frame).to_numpy(dtype=bool)]




# ---------------------------------------------------------------- the registry adapters
@dataclass
class DeriveContext:
    domain: str
    variable: str
    domains: dict[str, pd.DataFrame]
    domain_spec: dict
    ct: object
    design: dict
    problems: list[Problem] = field(default_factory=list)
    warnings: list[RecordIssue] = field(default_factory=list)
    records: pd.DataFrame | None = None  # the domain's raw records (index as the domain's), when mapped

    def other(self, name: str) -> pd.DataFrame:
        return self.domains[name]

    def raw_column(self, variable: str) -> str:
        """' (raw column X)' when the variable is a copy of one raw column, for messages."""
        for item in self.domain_spec["variables"]:
            if item["name"] == variable and isinstance((item.get("map") or {}).get("source"), str):
                return f" (raw column {item['map']['source']})"
        return ""

    def report(self, data: pd.DataFrame, mask: pd.Series, messages, warning: str | None = None,
               limit: int = 20) -> None:
        """One located problem per record in mask (file, row, key, then the message); with ``warning``
        (the policy applied), a warning listed in the run report instead. ``messages``: a Series of the
        records' messages, or a function of the index of the records in mask that makes theirs (so that
        messages are written for the bad records only)."""
        bad = mask.fillna(False).astype(bool).to_numpy()
        if not bad.any():
            return
        where = data.loc[bad, ["__file", "__row", "__key"]] if "__file" in data else \
            pd.DataFrame({"__file": self.domain, "__row": np.arange(1, len(data) + 1)[bad],
                          "__key": data.loc[bad, "USUBJID"] if "USUBJID" in data else ""})
        texts = pd.Series(messages(data.index[bad]).to_numpy()) if callable(messages) else messages[bad]
        if warning is not None:
            for (file, row, key), text in zip(where.itertuples(index=False, name=None), texts):
                self.warnings.append(RecordIssue(source=file, key=f"row {row} ({key})", domain=self.domain,
                                                 reason=f"{self.domain}.{self.variable}: {warning}",
                                                 extra={"detail": text}))
            return
        for (file, row, key), text in zip(where.head(limit).itertuples(index=False, name=None), texts.head(limit)):
            self.problems.append(Problem(f"{file} row {row} ({key})", f"{self.domain}.{self.variable} {text}"))
        if len(texts) > limit:
            self.problems.append(Problem(str(where["__file"].iloc[0]), f"... and {len(texts) - limit} more records "
                                                                       f"of {self.domain}.{self.variable}"))

    def codelist_of(self, variable: str) -> str | None:
        for item in self.domain_spec["variables"]:
            if item["name"] == variable:
                return item.get("codelist")
        return None


def _units(ctx) -> dict:
    return ctx.domain_spec.get("standard_units", {})


def _derive_test_name(data, args, ctx):
    """--TEST from --TESTCD: the paired codelists share each term's NCI C-code."""
    testcd_codelist = ctx.codelist_of(args["testcd"])
    names = ctx.ct.codelist(args.get("codelist") or ctx.codelist_of(ctx.variable))
    codes = ctx.ct.codelist(testcd_codelist)
    by_code = {term.code: value for value, term in names.terms.items()}
    mapping = {value: by_code.get(term.code, "") for value, term in codes.terms.items()}
    return map_text(data[args["testcd"]], mapping)


def _value_messages(data: pd.DataFrame, column: str, problem: pd.Series, ctx) -> pd.Series:
    return "from " + column + ctx.raw_column(column) + ": '" + data[column].astype(str) + "' " + problem


def _only_not_a_number(problem: pd.Series) -> pd.Series:
    """The records whose one problem is a result that is not a number (tested once per distinct problem)."""
    return on_unique(lambda p: p.str.startswith("is not a number") & ~p.str.contains("; it ", regex=False), problem)


def _derive_stresc(data, args, ctx):
    """Standard results; a result that cannot be standardized stops the run, unless ``on_invalid: text``
    keeps a non-numeric result reported in the standard unit as text (listed as a warning)."""
    stresc, _, problem = convert_result(data[args["orres"]], data[args["orresu"]], data[args["testcd"]],
                                        _units(ctx), decimal_marks(data))
    if args.get("on_invalid") == "text":
        kept = _only_not_a_number(problem)
        ctx.report(data, kept, lambda rows: _value_messages(data.loc[rows], args["orres"], problem.loc[rows], ctx),
                   warning="not a number, kept as text (on_invalid: text)")
        problem = problem.where(~kept, "")
    ctx.report(data, ~text_is(problem, ""), lambda rows: _value_messages(data.loc[rows], args["orres"],
                                                                         problem.loc[rows], ctx))
    return stresc


def _derive_stresu(data, args, ctx):
    """The standard unit; a unit with no conversion to it stops the run (never a value labelled with a unit
    it was not converted to)."""
    placeholder = pd.Series("1", index=data.index, dtype=object)
    _, unit, problem = convert_result(placeholder, data[args["orresu"]], data[args["testcd"]], _units(ctx))
    present = ~text_is(text_of(data[args["orresu"]]), "")

    def messages(rows):
        orresu, testcd = text_of(data.loc[rows, args["orresu"]]), text_of(data.loc[rows, args["testcd"]])
        return "from " + args["orresu"] + ctx.raw_column(args["orresu"]) + ": '" + orresu + "' " + \
            no_factor_text(orresu, testcd, unit.loc[rows])

    ctx.report(data, present & on_unique(lambda p: p.str.startswith("is in "), problem), messages)
    return unit.where(present, "").astype(object)


def _derive_stnr(data, args, ctx):
    """A range limit in the standard unit; a limit that is not a number stops the run, unless
    ``on_invalid: missing`` leaves it empty (listed as a warning)."""
    if args.get("source"):  # a limit the raw record gives (the LLOQ) that no variable holds as collected
        limit = text_of(ctx.records.loc[data.index, args["source"]])  # the one column, not the whole record
        said = "from raw column " + args["source"]
    else:
        limit = data[args["ornr"]]
        said = "from " + args["ornr"] + ctx.raw_column(args["ornr"])
    number, problem = convert_limit(limit, data[args["orresu"]], data[args["testcd"]], _units(ctx),
                                    decimal_marks(data))

    def messages(rows):
        return said + ": '" + text_of(limit.loc[rows]) + "' " + problem.loc[rows]

    if args.get("on_invalid") == "missing":
        left = _only_not_a_number(problem)
        ctx.report(data, left, messages, warning="not a number, left empty (on_invalid: missing)")
        problem = problem.where(~left, "")
    ctx.report(data, ~text_is(problem, ""), messages)
    return number


def _derive_rftdtc(data, args, ctx):
    """--RFTDTC from --DTC and --ELTM; records of one group giving different references stop the run."""
    by = list(args.get("by") or [])
    values, conflicting = reference_time(data, args["dtc"], args["eltm"], by)
    ctx.report(data, conflicting, lambda rows: "cannot be derived: the records of this subject with the same " +
               ", ".join(by) + f" give different reference times ({args['dtc']} - {args['eltm']} = '" +
               iso_datetime(datetime_part(data.loc[rows, args["dtc"]]) - duration(data.loc[rows, args["eltm"]])) +
               "')")
    return values


def _derive_stresn(data, args, ctx):
    return numeric_result(data[args["stresc"]])


def _derive_nrind(data, args, ctx):
    return reference_range_indicator(data[args["stresn"]], data[args["lo"]], data[args["hi"]],
                                     data[args["stresc"]] if args.get("stresc") else None)


def _derive_rf_date(data, args, ctx):
    frames = []
    for source in args["sources"]:
        other = records_where(ctx.other(source["domain"]), source.get("where"))
        frames.append(pd.DataFrame({"USUBJID": other["USUBJID"].values, "DTC": other[source["variable"]].values}))
    picked = pick_date(frames, args["pick"])
    return map_text(data["USUBJID"], picked)


def _derive_exist_flag(data, args, ctx):
    subjects = set()
    for source in args["sources"]:
        subjects |= set(records_where(ctx.other(source["domain"]), source.get("where"))["USUBJID"])
    return pd.Series(np.where(data["USUBJID"].isin(subjects), "Y", ""), index=data.index, dtype=object)


def _derive_age(data, args, ctx):
    return age_in_years(data[args["birth"]], data[args["ref"]])


def _reference(ctx, variable: str) -> pd.Series:
    dm = ctx.other("DM")
    return pd.Series(dm[variable].values, index=dm["USUBJID"].values)


def _derive_study_day(data, args, ctx):
    return study_day(data[args["dtc"]], map_text(data["USUBJID"], _reference(ctx, "RFSTDTC")))


def _derive_epoch(data, args, ctx):
    return epoch_of(data, args["dtc"], ctx.other("SE"), args.get("same_day", "later"))


def _baseline(default_reference: str):
    def derive(data, args, ctx):
        return baseline_flag(data, list(args["by"]), args["dtc"], args["result"],
                             _reference(ctx, args.get("reference", default_reference)), stat=args.get("stat"),
                             visits=args.get("visits") or (), tpt=args.get("tpt"),
                             timepoints=args.get("timepoints") or (), same_day=args.get("same_day", "listed"))
    return derive


def _derive_seq(data, args, ctx):
    return derive_seq(data, args.get("by") or ["USUBJID"], args["order"])


DERIVE_ALGORITHMS = {
    "derive_test_name": _derive_test_name,
    "derive_stresc": _derive_stresc,
    "derive_stresu": _derive_stresu,
    "derive_stnr": _derive_stnr,
    "derive_stresn": _derive_stresn,
    "derive_nrind": _derive_nrind,
    "derive_rftdtc": _derive_rftdtc,
    "derive_rf_date": _derive_rf_date,
    "derive_exist_flag": _derive_exist_flag,
    "derive_age": _derive_age,
    "derive_study_day": _derive_study_day,
    "derive_epoch": _derive_epoch,
    "derive_blfl": _baseline("RFSTDTC"),
    "derive_lobxfl": _baseline("RFXSTDTC"),
    "derive_seq": _derive_seq,
}
