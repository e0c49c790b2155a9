"""Build every SDTM domain of a study from its raw tables and its spec.

Order of work: trial-design domains from the design; each mapped domain's records shaped (merge,
filter, de-duplicate, melt) and its map-kind variables computed from the raw record; then the
derive-kind variables stage by stage across domains (results in the standard unit, DM's reference
dates, SE, the actual arm, study days and epochs, sequence numbers); SUPP-- from the variables the
spec routes there; finally types, variable order and the spec's sort order (sdtm.finalize).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sdtm import design as trial_design
from sdtm.algorithms import MapContext, columns_read, run_map, study_algorithm
from sdtm.arms import actual_arm_collected
from sdtm.derivations import DERIVE_ALGORITHMS, DeriveContext
from sdtm.exposure import constant_dosing_intervals, records_of_domain
from sdtm.finalize import (as_type, empty_column, empty_permissible, left_out_note, ordered_records,
                           without_variables)
from sdtm.late import referenced_values
from sdtm.lineage import record_lineage
from sdtm.not_done import clear_not_done
from sdtm.notes import Count, Note
from sdtm.prepare import LOCATION, from_sources, prepare_records
from sdtm.record_checks import duplicate_keys, raw_problems, records_without_dm
from sdtm.supp import build_supp, supp_domain_spec
from sdtm.unique import text_of
from specs.errors import CdiscError, ControlledTermError, DataError, Problem, RawDataError, RecordIssue
from specs.model import DomainSpec, domain_spec
from specs.references import stages as late_stages, variables_read
from specs.derivation_graph import derivation_order
from specs.vocabulary import ALGORITHMS, BUILD_STAGE, DERIVE, MAP, use_study_algorithms


def _derive_actual(column: str):
    """ACTARMCD, ACTARM, ARMNRS, ACTARMUD: from the SE elements, or (``source``) from the collected actual
    treatment matched to design.arms[].match.<match>; derive_actarmcd reports the texts it cannot place."""
    def derive(data, args, ctx):
        arms = ctx.design.get("arms", [])
        if not args.get("source"):
            return trial_design.actual_arm(data, ctx.other("SE"), ctx.design,
                                           args.get("sequences", "prefix"))[column]
        collected = ctx.records.loc[data.index, args["source"]]
        result, problem = actual_arm_collected(data, collected, arms, args.get("match", "actual"))
        if column == "ACTARMCD":
            ctx.report(data, problem != "", lambda rows: "from raw column " + args["source"] + ": '" +
                       text_of(collected.loc[rows]) + "' " + problem.loc[rows])
        return result[column]
    return derive


DERIVATIONS = {
    **DERIVE_ALGORITHMS,
    "derive_actarmcd": _derive_actual("ACTARMCD"),
    "derive_actarm": _derive_actual("ACTARM"),
    "derive_armnrs": _derive_actual("ARMNRS"),
    "derive_actarmud": _derive_actual("ACTARMUD"),
}
_missing = {n for n, a in ALGORITHMS.items() if a.kind == DERIVE} - set(DERIVATIONS)
assert not _missing, f"sdtm does not implement {_missing}"


@dataclass
class DomainReport:
    domain: str
    source: str | None
    records_in: int
    records_out: int
    not_mapped: list[RecordIssue] = field(default_factory=list)
    warnings: list[RecordIssue] = field(default_factory=list)  # handled as the spec says, listed


@dataclass
class SdtmResult:
    datasets: dict[str, pd.DataFrame]
    specs: dict[str, DomainSpec]
    reports: list[DomainReport]
    notes: list[str]
    cut_log: pd.DataFrame | None = None
    lineage: pd.DataFrame | None = None  # per mapped record: its raw file, row and key (sdtm.lineage)
    note_phases: list[int] | None = None  # notes[:n] made by the spec, the mapping, the derivations, NOT DONE


def build_design_domain(name: str, build: str, studyid: str, design: dict, ct) -> pd.DataFrame:
    if build == "derive_ts":
        return trial_design.derive_ts(studyid, design, ct)
    return getattr(trial_design, build)(studyid, design)


def ts_added_note(name: str, added: list[str]) -> str:
    return (f"{name}: parameter(s) expected in the TS of an interventional study that the spec "
            f"does not give, written with TSVALNF = NI: {', '.join(added)}")


def complete_design(name: str, ts: pd.DataFrame, spec, datasets, ct, cut, notes: list[str]) -> pd.DataFrame:
    """TS with its values taken from the data of all subjects (``datasets``: any Mapping of the study's
    datasets, read by domain name) and the parameters the spec does not give; notes the ones added."""
    given = set(ts["TSPARMCD"])
    ts = trial_design.complete_ts(ts, spec.studyid, spec.design, datasets, ct, cut)
    added = [c for c in ts["TSPARMCD"] if c not in given and c not in ("DCUTDTC", "DCUTDESC")]
    if added:
        notes.append(ts_added_note(name, added))
    return ts


class ChunkProblems(CdiscError):
    """The problems of one subject chunk (build_sdtm(whole_study=False)), kept apart by kind so that the
    chunks' problems join into the one error the whole study would give (cdisc.chunks)."""

    def __init__(self, stage: str, problems: list[Problem], term_problems: list[Problem] | None = None):
        super().__init__(f"{stage}: {len(problems) + len(term_problems or [])} problem(s)")
        self.stage, self.problems, self.term_problems = stage, problems, list(term_problems or [])

    def __reduce__(self):  # sent back from a worker process
        return ChunkProblems, (self.stage, self.problems, self.term_problems)


def build_sdtm(spec, tables: dict[str, pd.DataFrame], ct, cut=None, *, whole_study: bool = True) -> SdtmResult:
    """Raw tables (located, see sdtm.prepare.locate) -> SDTM datasets, or one error listing every problem.

    With a data cut (sdtm.cut.DataCut), the cut applies to the mapped records before any derivation, so
    that DM's reference dates, SE, epochs, study days and sequence numbers are derived from what remains.

    ``whole_study=False`` maps one chunk of subjects (cdisc.chunks): the raw checks (``raw_problems``), TS's
    values from the data of all subjects (``complete_design``) and leaving out the permissible variables
    without a value are the caller's, done once for the study; problems are raised as ``ChunkProblems``.
    """
    use_study_algorithms(getattr(spec, "plugins", {}))  # this spec's own algorithms, if another was loaded since
    problems: list[Problem] = []
    term_problems: list[Problem] = []
    notes: list[str] = list(getattr(spec, "notes", []))
    note_phases = [len(notes)]  # where each stage's notes end (cdisc.chunks orders the chunks' notes by them)
    specs = {name: domain_spec(name, raw) for name, raw in spec.domains.items()}
    datasets: dict[str, pd.DataFrame] = {}
    reports: dict[str, DomainReport] = {}
    visits, arms = spec.design.get("visits", []), spec.design.get("arms", [])
    late, _ = late_stages(spec.domains)  # mappings that read mapped variables: computed with the derivations

    for name, dspec in specs.items():
        build = dspec.raw.get("build")
        if build and build not in BUILD_STAGE:
            datasets[name] = build_design_domain(name, build, spec.studyid, spec.design, ct)

    declared = {n: source.get("values") or {} for n, source in spec.sources.items()}
    if whole_study:
        problems += raw_problems(spec, tables)

    prepared: dict[str, pd.DataFrame] = {}  # each mapped domain's shaped raw records
    for name, dspec in specs.items():
        if "from" not in dspec.raw and "from_domain" not in dspec.raw:
            continue
        issues: list[RecordIssue] = []
        warnings: list[RecordIssue] = []
        lookups = {n for n, source in spec.sources.items() if source.get("role") == "lookup"}
        other = dspec.raw.get("from_domain")
        base = records_of_domain(prepared[other], datasets[other]) if other else None
        records = prepare_records(name, dspec.raw, tables, problems, issues, lookups, base=base,
                                  warnings=warnings,
                                  lookup_tables=getattr(spec, "lookups", {}), declared=declared)
        prepared[name] = records
        mapped: dict[str, pd.Series] = {}  # (one frame made of them: not a column added at a time)
        for variable in dspec.variables:
            mapping = variable.map
            if mapping and ALGORITHMS[mapping["algorithm"]].kind == MAP and len(records) and \
                    (name, variable.name) not in late:
                ctx = MapContext(spec.studyid, name, variable.name, variable.codelist, ct, visits, arms,
                                 timepoints=dspec.raw.get("timepoints", []),
                                 unscheduled=spec.design.get("unscheduled"),
                                 supp_qnams=frozenset(v.name for v in dspec.supp_variables),
                                 lookups=getattr(spec, "lookups", {}))
                values = run_map(records, mapping, ctx)
                problems += ctx.problems
                term_problems += ctx.term_problems
                notes += ctx.notes
                warnings += ctx.warnings
                converted = as_type(values, variable)
                if variable.type == "Num":
                    bad = values.notna() & converted.isna()  # the text of the values only where a number is missing
                    if bad.any():
                        bad &= text_of(values) != ""
                    located = records.loc[bad, ["__file", "__row", "__key"]].head(5)
                    for (file, row, key), value in zip(located.itertuples(index=False, name=None),
                                                       values[bad].head(5)):
                        problems.append(Problem(f"{file} row {row} ({key})", f"{name}.{variable.name} is Num "
                                                                             f"but the mapping gives '{value}'"))
                mapped[variable.name] = converted
            else:
                mapped[variable.name] = empty_column(variable, records.index)
        data = pd.DataFrame(mapped, index=records.index, copy=False)
        del mapped
        for column in LOCATION:
            data[column] = records[column] if column in records else "."
        intervals = dspec.raw.get("intervals")
        if intervals:
            collapsed = constant_dosing_intervals(data, list(intervals["by"]), intervals["start"], intervals["end"])
            if len(collapsed) < len(data):
                notes.append(Note(f"{name}: ", Count(len(data)), " records merged into ", Count(len(collapsed)),
                                  f" constant-dosing intervals (same {', '.join(intervals['by'])}, consecutive days)"))
            data = collapsed
        datasets[name] = data
        if other:
            reports[name] = DomainReport(name, f"{other} (domain)", len(datasets[other]), len(data), issues,
                                         warnings)
        else:
            sources = from_sources(dspec.raw)
            reports[name] = DomainReport(name, ", ".join(sources), sum(len(tables[s]) for s in sources),
                                         len(data), issues, warnings)

    for name in prepared:  # from here on only the derivations and late mappings read raw columns
        prepared[name] = _records_for_derivations(prepared[name], specs[name], late)
    note_phases.append(len(notes))
    derived = {(name, v.name) for name, dspec in specs.items() for v in dspec.variables
               if v.map and ALGORITHMS[v.map["algorithm"]].kind == DERIVE}
    mapped_subjects = [n for n in reports if n != "DM" and not specs[n].raw.get("from_domain") and
                       (n, "USUBJID") not in derived and (n, "USUBJID") not in late]
    if "DM" in reports and "USUBJID" in datasets["DM"]:
        for name in mapped_subjects:
            problems += records_without_dm(datasets[name], datasets["DM"], name)
    for name in reports:  # keys made of mapped variables: checked now, before anything merges by them
        if not any((name, k) in derived for k in specs[name].keys):
            problems += duplicate_keys(datasets[name], specs[name].keys, name)
    if (problems or term_problems) and not whole_study:
        raise ChunkProblems("mapping", problems, term_problems)
    if problems or term_problems:
        raise RawDataError(problems + term_problems) if problems else ControlledTermError(term_problems)

    cut_log = None
    if cut is not None:
        from sdtm.cut import apply_cut

        datasets, cut_log = apply_cut(datasets, spec.domains, spec.study_cut, cut)

    variables = {(name, v.name): (d_order, v) for d_order, (name, dspec) in enumerate(specs.items())
                 for v in dspec.variables}
    builds = {(name, ""): d_order for d_order, (name, dspec) in enumerate(specs.items())
              if dspec.raw.get("build") in BUILD_STAGE}

    def priority(node):  # among derivations whose inputs are ready: the vocabulary's stage, then spec order
        if node in builds:
            return BUILD_STAGE[specs[node[0]].raw["build"]], builds[node], 0
        d_order, variable = variables[node]
        if node in late:
            return late[node], d_order, variable.order
        return ALGORITHMS[variable.map["algorithm"]].stage, d_order, variable.order

    for name, variable_name in derivation_order(spec, priority):  # each after what it reads
        if (name, variable_name) in builds:
            datasets[name] = trial_design.derive_se(spec.studyid, spec.design, datasets["DM"], datasets)
            continue
        variable = variables[(name, variable_name)][1]
        if ALGORITHMS[variable.map["algorithm"]].kind == MAP:  # a late mapping, on the raw records
            data = datasets[name]
            where = spec.where("sdtm", "domains", name, "variables", variable.order - 1, "map")
            values_read, read_problems = referenced_values(datasets, name, variables_read(variable.map), where)
            problems += read_problems
            ctx = MapContext(spec.studyid, name, variable.name, variable.codelist, ct, visits, arms,
                             timepoints=specs[name].raw.get("timepoints", []),
                             unscheduled=spec.design.get("unscheduled"),
                             supp_qnams=frozenset(v.name for v in specs[name].supp_variables),
                             lookups=getattr(spec, "lookups", {}), variables=values_read)
            if not read_problems and len(data):
                records = prepared[name]  # the columns the mapping reads, not a copy of every raw column
                columns = columns_read(records, variable.map)
                values = run_map(records.loc[data.index, columns] if columns is not None else
                                 records.loc[data.index], variable.map, ctx)
                data[variable.name] = as_type(values, variable)
            problems += ctx.problems + ctx.term_problems
            notes += ctx.notes
            if name in reports:
                reports[name].warnings += ctx.warnings
            continue
        ctx = DeriveContext(name, variable.name, datasets, specs[name].raw, ct, spec.design,
                            records=prepared.get(name))
        algorithm = variable.map["algorithm"]
        values = DERIVATIONS[algorithm](datasets[name], variable.map, ctx) if algorithm in DERIVATIONS else \
            study_algorithm(algorithm, datasets[name], variable.map, ctx)
        converted = as_type(values, variable)
        unread = values.notna() & converted.isna() if variable.type == "Num" else None
        if unread is not None and unread.any():
            ctx.report(datasets[name], unread & (text_of(values) != ""),
                       lambda rows: "gives '" + text_of(values.loc[rows]) + "', which is not a number for a Num "
                                                                           "variable")
        datasets[name][variable.name] = converted
        problems += ctx.problems
        if name in reports:
            reports[name].warnings += ctx.warnings
    note_phases.append(len(notes))
    for name in reports:
        if any((name, k) in derived for k in specs[name].keys):
            problems += duplicate_keys(datasets[name], specs[name].keys, name)
        problems += _not_done(name, datasets, specs[name].raw, ct, spec.design, notes)
    note_phases.append(len(notes))
    if problems:
        raise DataError(problems) if whole_study else ChunkProblems("derivation", problems)
    for name, dspec in specs.items():  # TS values that come from the data, the data cut's parameters
        if dspec.raw.get("build") == "derive_ts" and whole_study:
            datasets[name] = complete_design(name, datasets[name], spec, datasets, ct, cut, notes)

    for name in list(specs):
        dspec = specs[name]
        if dspec.supp_variables and name in datasets:
            supp_name = f"SUPP{name}"
            datasets[supp_name] = build_supp(datasets[name], dspec, spec.studyid)
            specs[supp_name] = supp_domain_spec(dspec)

    # each dataset in the spec's order, one at a time: its unsorted frame and raw records let go once sorted
    # (not a second copy of every dataset alive at once); lineage keeps the few columns it reads
    finished: dict[str, pd.DataFrame] = {}
    lineage_of: dict[str, tuple] = {}
    for name, dspec in specs.items():
        ordered = ordered_records(datasets[name], dspec)
        if name in reports:
            lineage_of[name] = _lineage_columns(name, ordered, datasets[name], prepared.pop(name, None), dspec)
        datasets[name] = None
        finished[name] = ordered.reset_index(drop=True)
    del prepared
    lineage = record_lineage(lineage_of, specs)
    datasets = finished
    for name, dspec in list(specs.items()) if whole_study else ():
        empty = empty_permissible(datasets[name], dspec)
        if empty:
            datasets[name] = datasets[name].drop(columns=empty)
            specs[name] = without_variables(dspec, empty)
            notes.append(left_out_note(name, empty))
    for name, report in reports.items():
        report.records_out = len(datasets[name])
    ordered_reports = [reports[n] for n in specs if n in reports]
    return SdtmResult(datasets, specs, ordered_reports, notes, cut_log, lineage, note_phases)



def _records_for_derivations(records: pd.DataFrame, dspec: DomainSpec, late: dict) -> pd.DataFrame:
    """The raw columns of a domain's shaped records that its derivations (a raw ``source`` they convert), its
    late mappings and its lineage (the melted test) read: the others are let go once the map-kind variables
    are mapped. All of them when a study's algorithm derives a variable (it may read any)."""
    keep = set()
    for variable in dspec.variables:
        mapping = variable.map
        if not mapping:
            continue
        if (dspec.name, variable.name) in late:
            columns = columns_read(records, mapping)
            if columns is None:
                return records
            keep.update(columns)
        elif ALGORITHMS[mapping["algorithm"]].kind == DERIVE:
            if mapping["algorithm"] not in DERIVATIONS:
                return records
            if isinstance(mapping.get("source"), str):
                keep.add(mapping["source"])
    melt = dspec.raw.get("melt")
    if melt:
        keep.add(melt["name"])
    return records[[c for c in records.columns if c in keep]]


def _lineage_columns(name: str, ordered: pd.DataFrame, records: pd.DataFrame, prepared: pd.DataFrame | None,
                     dspec: DomainSpec) -> tuple:
    """What sdtm.lineage.record_lineage reads of a dataset, its records and its raw records: keys, locations
    and the melted test column."""
    melt = (dspec.raw or {}).get("melt")
    keep = [c for c in ("USUBJID", f"{name}SEQ") if c in ordered]
    located = [c for c in ("__file", "__row", "__key") if c in records] if "__file" in records else []
    melted = prepared[[melt["name"]]] if melt and prepared is not None and melt["name"] in prepared else None
    return ordered[keep], records[located], melted


def _not_done(name: str, datasets: dict, raw: dict, ct, design: dict, notes: list[str]) -> list[Problem]:
    """NOT DONE records lose their units and ranges (a note says how many); a result on one is an error."""
    data, changed, holding = clear_not_done(datasets[name], name)
    datasets[name] = data
    if changed.any():
        notes.append(Note(f"{name}: ", Count(changed.sum()), f" NOT DONE record(s) ({name}STAT): units, reference "
                          f"ranges and limits left empty (SDTMIG 4.5.1.3: a test not done has no result)"))
    ctx = DeriveContext(name, f"{name}STAT", datasets, raw, ct, design)
    result = f"{name}ORRES" if f"{name}ORRES" in data else f"{name}STRESC"
    if holding.any() and result in data:
        ctx.report(data, holding, lambda rows: "= NOT DONE, but the record holds a result (" + result + " '" +
                   text_of(data.loc[rows, result]) + "')")
    return ctx.problems
