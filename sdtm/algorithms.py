"""Map-kind algorithms: one SDTM variable from the raw record, on whole columns.

The names are sdtm.oak's and the spec's (``specs.vocabulary``). Each takes the raw frame (text, ''
for missing, plus ``__file``/``__row``/``__key`` locating every record), the spec's arguments and a
``MapContext``; it returns the column and reports bad values to the context instead of raising, so that
one run lists every problem.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sdtm.arms import match_arms
from sdtm.dates import parse_datetime
from sdtm.notes import Count, Note, Values
from sdtm.numbers import decimal_marks, parse_numbers
from sdtm.rows import rows_where
from sdtm.unique import map_text, on_unique, text_is, text_of
from sdtm.visits import place_visits
from specs.conditions import parse_condition, parse_expression, parse_template
from specs.ct import MULTIPLE, multiple_allowed
from specs.errors import DataError, Problem, RecordIssue
from specs.vocabulary import ALGORITHMS, CUTOFF_2000, DEFAULT_TIME_FORMATS

@dataclass
class MapContext:
    """What map-kind algorithms need besides the raw record."""

    studyid: str
    domain: str
    variable: str
    codelist: str | None
    ct: object
    visits: list[dict]
    arms: list[dict]
    timepoints: list[dict] = field(default_factory=list)  # the domain's time point table
    unscheduled: dict | None = None  # the design's rule for unscheduled visits (design.unscheduled)
    supp_qnams: frozenset = frozenset()  # the domain's variables routed to SUPP--
    lookups: dict = field(default_factory=dict)  # the study's lookup tables (study.yaml lookups)
    variables: dict = field(default_factory=dict)  # 'DOMAIN.NAME' -> mapped values, for late mappings
    problems: list[Problem] = field(default_factory=list)
    term_problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[RecordIssue] = field(default_factory=list)

    def warn(self, raw: pd.DataFrame, mask: pd.Series, column: str, policy: str) -> None:
        """Records a spec policy handled instead of stopping: each listed in the run report."""
        bad = raw.loc[mask.fillna(False).astype(bool)]
        for file, row, key, value in zip(bad["__file"], bad["__row"], bad["__key"], bad[column]):
            self.warnings.append(RecordIssue(source=file, key=f"row {row} ({key})", domain=self.domain,
                                             reason=f"{self.domain}.{self.variable} from column {column}: {policy}",
                                             extra={"detail": f"'{value}'"}))

    def report(self, raw: pd.DataFrame, mask: pd.Series, column: str, message: str,
               sink: list[Problem] | None = None, limit: int = 20) -> None:
        """One Problem per bad record: file, row, record key, column, value."""
        bad = raw.loc[mask.fillna(False).astype(bool)]
        target = self.problems if sink is None else sink
        for file, row, key, value in zip(bad["__file"].head(limit), bad["__row"].head(limit),
                                         bad["__key"].head(limit), bad[column].head(limit)):
            target.append(Problem(f"{file} row {row} ({key})",
                                  f"{self.domain}.{self.variable} from column {column}: '{value}' {message}"))
        if len(bad) > limit:
            target.append(Problem(f"{bad['__file'].iloc[0]}", f"... and {len(bad) - limit} more records with "
                                                              f"column {column} {message}"))

    def report_each(self, raw: pd.DataFrame, problems: pd.Series, column: str, limit: int = 20) -> None:
        """One Problem per record whose problem text is not empty (the text follows the value)."""
        bad = ~text_is(text_of(problems), "")
        rows = raw.loc[bad]
        for file, row, key, value, message in zip(rows["__file"].head(limit), rows["__row"].head(limit),
                                                  rows["__key"].head(limit), rows[column].head(limit),
                                                  problems[bad].head(limit)):
            self.problems.append(Problem(f"{file} row {row} ({key})",
                                         f"{self.domain}.{self.variable} from column {column}: '{value}' {message}"))
        if len(rows) > limit:
            self.problems.append(Problem(f"{rows['__file'].iloc[0]}", f"... and {len(rows) - limit} more records "
                                                                      f"with a problem in column {column}"))


    def report_problems(self, raw: pd.DataFrame, problems: pd.Series, what: str, limit: int = 20) -> None:
        """Problems an expression found in records (the message names the value)."""
        bad = ~text_is(text_of(problems), "")
        rows = raw.loc[bad]
        for file, row, key, message in zip(rows["__file"].head(limit), rows["__row"].head(limit),
                                           rows["__key"].head(limit), problems[bad].head(limit)):
            self.problems.append(Problem(f"{file} row {row} ({key})", f"{self.domain}.{self.variable} from {what}: "
                                                                      f"{message}"))
        if len(rows) > limit:
            self.problems.append(Problem(f"{rows['__file'].iloc[0]}", f"... and {len(rows) - limit} more records "
                                                                      f"with a problem in {what}"))


def _evaluate(raw: pd.DataFrame, parsed, what: str, ctx: MapContext) -> pd.Series:
    values, problems = parsed.evaluate(raw, variables=ctx.variables, tables=ctx.lookups)
    ctx.report_problems(raw, problems, what)
    return values


def _read(raw: pd.DataFrame, args: dict, ctx: MapContext) -> tuple[pd.Series, pd.DataFrame, str]:
    """What a mapping reads, as text: its raw column (source) or its expression (expr). Also the frame and
    column to locate its values in messages."""
    if "expr" in args:
        values = _evaluate(raw, parse_expression(args["expr"]), f"expr {args['expr']}", ctx)
        values = values if values.dtype == object else _number_text(values)
        return values, raw.assign(**{args["expr"]: values}), args["expr"]
    return _text(raw, args["source"]), raw, args["source"]


def _number_text(values: pd.Series) -> pd.Series:
    return on_unique(lambda v: v.map(lambda x: "" if pd.isna(x) else (f"{int(x)}" if float(x).is_integer()
                                                                      else f"{x}")), values).astype(object)


def _text(raw: pd.DataFrame, column: str) -> pd.Series:
    return text_of(raw[column])


def _recode(values: pd.Series, terms: dict | None) -> pd.Series:
    if not terms:
        return values
    lookup = {str(k): ("" if v is None else str(v)) for k, v in terms.items()}
    return map_text(values, lookup, keep=True)


def _not_sponsor_terms(unknown: set[str], codelist, codelist_name: str) -> dict[str, str]:
    """The unknown values an extensible codelist cannot take as new terms, with the reason: a sponsor term
    is a new concept written as a submission value, not a CDISC term spelled with other accents, case or
    spacing (a typing or encoding slip), and never text beyond printable ASCII (FDA's XPT rules)."""
    refused = {}
    for value in unknown:
        term = codelist.variant_of(value)
        if term:
            refused[value] = f"it spells the term '{term}' with other accents, case or spacing"
        elif not (value.isascii() and value.isprintable()):
            refused[value] = "a submission value is printable ASCII"
    return refused


def _check_terms(values: pd.Series, raw: pd.DataFrame, source: str | None, codelist_name: str | None,
                 ctx: MapContext) -> pd.Series:
    """Map values to submission values of the codelist (exact, then synonym/decode, case-insensitive).

    Values with no term: an error for a non-extensible codelist; kept (upper-cased) with a note for an
    extensible one, as sponsor-defined terms.
    """
    if not codelist_name or ctx.ct is None:
        return values
    codelist = ctx.ct.codelist(codelist_name)
    known = set(codelist.values())
    distinct = [v for v in values.unique() if v != "" and v not in known]
    resolved = {v: codelist.lookup_synonym(v) for v in distinct}
    replacements = {v: r for v, r in resolved.items() if r}
    out = map_text(values, replacements, keep=True) if replacements else values
    unknown = {v for v, r in resolved.items() if r is None}
    if MULTIPLE in unknown and multiple_allowed(ctx.variable, ctx.supp_qnams):
        unknown.discard(MULTIPLE)  # several values collected, each in SUPP-- (SDTMIG 4.2.8.3)
    refused = _not_sponsor_terms(unknown, codelist, codelist_name) if codelist.extensible else {}
    for value, reason in sorted(refused.items()):
        message = (f"is not a term of the extensible codelist {codelist_name} ({codelist.code}) and cannot be "
                   f"a sponsor term: {reason}; correct the raw value or recode it with the mapping's terms")
        if source is not None:
            ctx.report(raw, values == value, source, message, sink=ctx.term_problems)
        else:
            ctx.term_problems.append(Problem(f"{ctx.domain}.{ctx.variable}", f"'{value}' {message}"))
    unknown -= set(refused)
    if unknown:
        mask = values.isin(unknown)
        if codelist.extensible:
            ctx.notes.append(Note(f"{ctx.domain}.{ctx.variable}: sponsor-defined value(s) ", Values(unknown),
                                  f" added to extensible codelist {codelist_name}"))
        elif source is not None:
            ctx.report(raw, mask, source, f"is not a term of the non-extensible codelist {codelist_name} "
                                          f"({codelist.code})", sink=ctx.term_problems)
        else:
            for value in sorted(unknown):
                ctx.term_problems.append(Problem(f"{ctx.domain}.{ctx.variable}",
                                                 f"'{value}' is not a term of the non-extensible codelist "
                                                 f"{codelist_name} ({codelist.code})"))
    return out


def assign_no_ct(raw, args, ctx):
    values, _, _ = _read(raw, args, ctx)
    return _recode(values, args.get("terms")).replace("", args.get("default", ""))


def assign_ct(raw, args, ctx):
    values, located, column = _read(raw, args, ctx)
    values = _recode(values, args.get("terms"))
    return _check_terms(values, located, column, args.get("codelist") or ctx.codelist, ctx)


def hardcode_no_ct(raw, args, ctx):
    value = args["value"]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return pd.Series(float(value), index=raw.index)
    return pd.Series("" if value is None else str(value), index=raw.index, dtype=object)


def hardcode_ct(raw, args, ctx):
    values = hardcode_no_ct(raw, args, ctx)
    if values.dtype == object:
        values = _check_terms(values, raw, None, args.get("codelist") or ctx.codelist, ctx)
    return values


def assign_numeric(raw, args, ctx):
    """A number written with the source's decimal mark (or the value of ``expr``); anything else stops the
    run, unless ``on_invalid: missing`` leaves it empty (each one listed as a warning in the run report)."""
    if "expr" in args:
        values = _evaluate(raw, parse_expression(args["expr"]), f"expr {args['expr']}", ctx)
        if values.dtype != object:
            return values.astype(float)
        text, located, column = values.astype(str).str.strip(), raw.assign(**{args["expr"]: values}), args["expr"]
    else:
        text, located, column = on_unique(lambda v: v.str.strip(), _text(raw, args["source"])), raw, args["source"]
    numbers, invalid = parse_numbers(text, decimal_marks(raw))
    if args.get("on_invalid") == "missing":
        ctx.warn(located, invalid, column, "not a number, left empty (on_invalid: missing)")
    else:
        marks = decimal_marks(raw)
        comma = " (the source's decimal mark is ',')" if (marks[invalid] == ",").any() else ""
        ctx.report(located, invalid, column, "is not a number" + comma)
    return numbers.astype(float)


def assign_datetime(raw, args, ctx):
    """ISO 8601 from a collected date (formats tried in order) and an optional time column; see sdtm.dates."""
    cutoff = args.get("cutoff_2000", CUTOFF_2000)
    # the raw text as it is: parse_datetime works on its distinct values (no Python string per record)
    times = raw[args["time"]] if args.get("time") else None
    parsed = parse_datetime(raw[args["date"]], times, args["format"],
                            args.get("time_format", DEFAULT_TIME_FORMATS), cutoff)
    ctx.report_each(raw, parsed.date_problem, args["date"])
    if args.get("time"):
        ctx.report_each(raw, parsed.time_problem, args["time"])
    where = f"{ctx.domain}.{ctx.variable} from column {args['date']}"
    if parsed.two_digit_year.any():
        ctx.notes.append(Note(f"{where}: ", Count(parsed.two_digit_year.sum()), f" value(s) with a two-digit year "
                              f"read with cutoff_2000 {cutoff} (00-{cutoff:02d} -> 20YY, {cutoff + 1:02d}-99 -> 19YY)"))
    if parsed.time_dropped.any():
        ctx.notes.append(Note(f"{where}: ", Count(parsed.time_dropped.sum()), " time(s) collected with a partial "
                              "date left out (a time joins only a complete date)"))
    return parsed.iso


def assign_template(raw, args, ctx):
    """Text with {expression} fields; empty when a field is empty (see specs.conditions.Template)."""
    return _evaluate(raw, parse_template(args["template"]), f"template {args['template']}", ctx)


def assign_duration(raw, args, ctx):
    """Minutes -> ISO 8601 duration: 15 -> 'PT15M', -10 -> '-PT10M', 90 -> 'PT1H30M'."""
    minutes = assign_numeric(raw, {"source": args["minutes"]}, ctx)
    return on_unique(_duration_text, minutes)


def _duration_text(minutes: pd.Series) -> pd.Series:
    minutes = minutes.astype(float)
    magnitude = minutes.abs()
    hours = (magnitude // 60).astype("Int64")
    rest = (magnitude % 60).astype("Int64")
    sign = np.where(minutes < 0, "-", "")
    hour_text = hours.astype(str).where(hours > 0, "").map(lambda h: f"{h}H" if h else "")
    minute_text = rest.astype(str).map(lambda m: f"{m}M")
    minute_text = minute_text.where((rest > 0) | (hours == 0), "")
    text = pd.Series(sign, index=minutes.index, dtype=object) + "PT" + hour_text + minute_text
    return text.where(minutes.notna(), "").astype(object)


def condition_add(raw, args, ctx):
    """The first case whose condition holds gives the value; 'otherwise' (or empty) for the rest."""
    remaining = np.ones(len(raw), dtype=bool)
    pieces = []
    branches = [(parse_condition(c["when"]), c["then"]) for c in args["cases"]]
    if "otherwise" in args:
        branches.append((None, args["otherwise"]))
    for condition, mapping in branches:
        hit = remaining.copy() if condition is None else \
            condition.evaluate(raw, variables=ctx.variables, tables=ctx.lookups).to_numpy(dtype=bool) & remaining
        if hit.any():  # each mapping sees only the records it applies to, and the columns it reads
            columns = columns_read(raw, mapping)
            pieces.append((hit, run_map(rows_where(raw[columns] if columns is not None else raw, hit), mapping, ctx)))
        remaining &= ~hit
    numeric = pieces and all(pd.api.types.is_numeric_dtype(p) for _, p in pieces)
    result = np.full(len(raw), np.nan if numeric else "", dtype=float if numeric else object)
    for hit, piece in pieces:  # placed by position: a mapping gives its values on its records' index, in order
        if not piece.index.equals(raw.index[hit]):
            piece = piece.reindex(raw.index[hit])
        result[hit] = piece.to_numpy(dtype=float, na_value=np.nan) if numeric else piece.astype(object).to_numpy()
    return pd.Series(result, index=raw.index, dtype=float if numeric else object)


def columns_read(raw: pd.DataFrame, mapping: dict) -> list[str] | None:
    """The columns of ``raw`` a mapping made of this module's algorithms reads (its arguments, its conditions'
    and expressions' columns, the location and toolkit columns), so that a case of condition_add copies those
    alone; None when a study algorithm may read any."""
    from specs.raw_columns import raw_columns_used

    def ours(item: dict) -> bool:
        nested = [c.get("then") for c in item.get("cases") or []] + [item.get("otherwise")]
        return item.get("algorithm") in MAP_ALGORITHMS and all(ours(m) for m in nested if isinstance(m, dict))

    if not ours(mapping):
        return None
    read = {column for _, column in raw_columns_used({"variables": [{"map": mapping}]})}
    return [c for c in raw.columns if c in read or str(c).startswith("__") or c == "RAWSOURCE"]


def derive_usubjid(raw, args, ctx):
    subject = _text(raw, args["source"])
    return on_unique(lambda s: (ctx.studyid + "-" + s).where(s != "", "").astype(object), subject)


def _schedule_lookup(raw, args, ctx, field_name: str):
    """The schedule's field for the collected visit label (sdtm.visits: patterns, case and spaces ignored,
    unscheduled visits by the design's rule); a label it cannot place is a located problem."""
    placed = place_visits(_text(raw, args["source"]), ctx.visits, ctx.unscheduled, args.get("match", "folder"))
    ctx.report_each(raw, placed["problem"], args["source"])
    return placed[field_name]


def derive_visitnum(raw, args, ctx):
    return _schedule_lookup(raw, args, ctx, "visitnum").astype(float)


def derive_visit(raw, args, ctx):
    return text_of(_schedule_lookup(raw, args, ctx, "visit"))


def derive_visitdy(raw, args, ctx):
    return _schedule_lookup(raw, args, ctx, "visitdy").astype(float)


def timepoint_label(values: pd.Series) -> pd.Series:
    """Collected time point text as matched against the table: case and runs of spaces ignored."""
    return text_of(values).str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def _timepoint_lookup(raw, args, ctx, field_name: str) -> pd.Series:
    """The time point table's field for the collected label; an unknown label is a located problem."""
    table = {label: entry.get(field_name) for entry in ctx.timepoints
             for label in timepoint_label(pd.Series([entry["label"]]))}
    values = _text(raw, args["source"])
    labels = on_unique(timepoint_label, values)
    unknown = (labels != "") & ~labels.isin(list(table))
    ctx.report(raw, unknown, args["source"], f"is not a time point of the domain's table (timepoints: "
                                             f"{', '.join(e['label'] for e in ctx.timepoints)})")
    return labels.map(table)


def derive_tpt(raw, args, ctx):
    return _timepoint_lookup(raw, args, ctx, "tpt").fillna("").astype(object)


def derive_tptnum(raw, args, ctx):
    return pd.to_numeric(_timepoint_lookup(raw, args, ctx, "tptnum"), errors="coerce").astype(float)


def derive_eltm(raw, args, ctx):
    return _timepoint_lookup(raw, args, ctx, "eltm").fillna("").astype(object)


def derive_tptref(raw, args, ctx):
    return _timepoint_lookup(raw, args, ctx, "tptref").fillna("").astype(object)


def _arm_lookup(raw, args, ctx, field_name: str):
    """The arm of the randomization code, or (``match``) of the collected text by design.arms[].match."""
    if args.get("match"):
        armcd, problem = match_arms(_text(raw, args["source"]), ctx.arms, args["match"])
        ctx.report_each(raw, problem, args["source"])
        return armcd.map({a["armcd"]: a[field_name] for a in ctx.arms}).fillna("").astype(object)
    table = {a["randomization_code"]: a[field_name] for a in ctx.arms if "randomization_code" in a}
    values = _text(raw, args["source"])
    unknown = (values != "") & ~values.isin(list(table))
    ctx.report(raw, unknown, args["source"], f"is not a randomization code of design.arms "
                                             f"({', '.join(table)})")
    return values.map(table).fillna("").astype(object)


def derive_armcd(raw, args, ctx):
    return _arm_lookup(raw, args, ctx, "armcd")


def derive_arm(raw, args, ctx):
    return _arm_lookup(raw, args, ctx, "arm")


MAP_ALGORITHMS = {
    f.__name__: f
    for f in [assign_no_ct, assign_ct, hardcode_no_ct, hardcode_ct, assign_numeric, assign_datetime,
              assign_template, assign_duration, condition_add, derive_usubjid, derive_visitnum, derive_visit,
              derive_visitdy, derive_armcd, derive_arm, derive_tpt, derive_tptnum, derive_eltm, derive_tptref]
}


def run_map(raw: pd.DataFrame, mapping: dict, ctx: MapContext) -> pd.Series:
    name = mapping["algorithm"]
    if name in MAP_ALGORITHMS:
        return MAP_ALGORITHMS[name](raw, mapping, ctx)
    return study_algorithm(name, raw, mapping, ctx)


def study_algorithm(name: str, records: pd.DataFrame, mapping: dict, ctx) -> pd.Series:
    """A study plugin's algorithm (specs.plugins): its values, one per record, or a DataError naming it."""
    algorithm = ALGORITHMS[name]
    try:
        values = algorithm.function(records, mapping, ctx)
    except Exception as exc:  # the study's own code: name it, with where it failed
        raise DataError([Problem(f"{ctx.domain}.{ctx.variable}", f"study algorithm {name} ({algorithm.plugin}) "
                                                                 f"failed: {type(exc).__name__}: {exc}")]) from exc
    if not isinstance(values, pd.Series) or not values.index.equals(records.index):
        raise DataError([Problem(f"{ctx.domain}.{ctx.variable}", f"study algorithm {name} ({algorithm.plugin}) must "
                                                                 f"return a pandas Series with one value per record "
                                                                 f"(on the index of its records)")])
    return values
