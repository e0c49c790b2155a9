"""`cdisc explain OUT DATASET.VARIABLE [--usubjid ID] [--seq N]`: where a value comes from.

It reads what the run wrote: out/lineage/variables.csv (the spec path, algorithm, arguments, codelist and
the define.xml method of the variable), out/lineage/records.csv (the raw file, row and key of each SDTM
record) and the datasets themselves (out/sdtm, out/adam XPT files) for the values. An ADaM record is
followed to its SDTM records through SRCDOM and SRCSEQ (or SRCSEQL for a record derived from several,
such as an AUC), and those to their raw rows.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from cdisc.lineage import FOLDER, RECORDS, VARIABLES
from specs.errors import Problem, ProblemList, RawDataError, clip

COLUMN_ARGS = ("source", "date", "time", "dtc", "testcd", "orres", "stresc", "orresu")


class ExplainError(ProblemList):
    title = "explain errors"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdisc explain", description="Where a value of a run's output comes "
                                                                       "from: raw file, row and column, "
                                                                       "algorithm, CT, SDTM to ADaM.")
    parser.add_argument("out", help="the output folder of a run (out/, or a cut folder)")
    parser.add_argument("target", metavar="DATASET.VARIABLE")
    parser.add_argument("--usubjid", help="the subject's record(s) to follow")
    parser.add_argument("--seq", type=float, help="the record's --SEQ (SDTM) or ASEQ (ADaM)")
    return parser


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ExplainError([Problem(str(path), "not found: explain reads the lineage a run writes (run cdisc run "
                                               "with this toolkit's version first)")])
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _dataset(out: Path, layer: str, name: str) -> pd.DataFrame:
    from sasxport import read_xport

    path = out / layer.lower() / f"{name.lower()}.xpt"
    if not path.is_file():
        raise ExplainError([Problem(str(path), f"dataset {name} not found")])
    return read_xport(path).data


def _text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def explain(out, target: str, usubjid: str | None = None, seq: float | None = None) -> list[str]:
    out = Path(out)
    match = re.fullmatch(r"([A-Za-z0-9]+)\.([A-Za-z0-9_]+)", target.strip())
    if not match:
        raise ExplainError([f"'{clip(target)}' is not DATASET.VARIABLE (e.g. LB.LBSTRESN, ADLB.AVAL)"])
    dataset, variable = match.group(1).upper(), match.group(2).upper()
    variables = _read_csv(out / FOLDER / VARIABLES)
    row = variables[(variables["DATASET"] == dataset) & (variables["VARIABLE"] == variable)]
    if row.empty:
        known = sorted(set(variables["DATASET"]))
        raise ExplainError([f"{dataset}.{variable} is not a variable of the run's output (datasets: "
                            f"{', '.join(known)})"])
    lines = _variable_lines(row.iloc[0])
    if usubjid is None:
        return lines
    layer = row.iloc[0]["LAYER"]
    data = _dataset(out, "adam" if layer == "ADaM" else "sdtm", dataset)
    chosen = data[data["USUBJID"].astype(str) == usubjid] if "USUBJID" in data else data.iloc[0:0]
    seq_var = "ASEQ" if layer == "ADaM" else f"{dataset}SEQ"
    if seq is not None and seq_var in chosen:
        chosen = chosen[chosen[seq_var] == seq]
    if chosen.empty:
        raise ExplainError([f"{dataset}: no record of USUBJID '{clip(usubjid)}'" +
                            (f" with {seq_var} {_text(seq)}" if seq is not None else "")])
    records = _read_csv(out / FOLDER / RECORDS)
    for _, record in chosen.head(20).iterrows():  # a few records, for a person to read
        head = f"{dataset} record USUBJID={usubjid}" + (f", {seq_var}={_text(record[seq_var])}"
                                                         if seq_var in record else "")
        lines.append(f"{head}: {variable} = '{_text(record.get(variable))}'")
        if layer == "ADaM":
            lines += _adam_sources(out, record, usubjid, records, variables, row.iloc[0])
        else:
            lines += _raw_lines(records, dataset, usubjid, record.get(seq_var), row.iloc[0], "  ")
    if len(chosen) > 20:
        lines.append(f"... and {len(chosen) - 20} more records (give --seq)")
    return lines


def _variable_lines(row) -> list[str]:
    lines = [f"{row['DATASET']}.{row['VARIABLE']} ({row['LAYER']}, origin {row['ORIGIN'] or '-'})",
             f"  spec: {row['SPEC']}" if row["SPEC"] else "  spec: (not in the spec: a variable the build adds)"]
    if row["ALGORITHM"]:
        lines.append(f"  algorithm: {row['ALGORITHM']} {row['ARGUMENTS']}".rstrip())
    if row["DESCRIPTION"]:
        lines.append(f"  how: {row['DESCRIPTION']}")
    if row["CODELIST"]:
        lines.append(f"  codelist: {row['CODELIST']}")
    if row["METHOD"]:
        lines.append(f"  define.xml method: {row['METHOD']}")
    return lines


def _columns(arguments: str) -> list[str]:
    """The raw columns an algorithm's arguments name (source, date, time)."""
    from specs.loader import safe_load_yaml

    try:
        parsed = safe_load_yaml(arguments) if arguments else {}
    except Exception:  # the table is ours; a value it cannot parse is shown as written
        return []
    return [str(parsed[k]) for k in ("source", "date", "time") if isinstance(parsed, dict) and k in parsed]


def _raw_lines(records: pd.DataFrame, dataset: str, usubjid: str, seq, variable_row, indent: str) -> list[str]:
    found = records[(records["DATASET"] == dataset) & (records["USUBJID"] == usubjid)]
    if seq is not None and _text(seq) != "":
        found = found[found["SEQ"].map(lambda v: _text(float(v)) if v else "") == _text(seq)]
    if found.empty:
        return [f"{indent}raw: none (a record the build derives, not mapped from a raw row)"]
    columns = _columns(variable_row["ARGUMENTS"]) if variable_row is not None else []
    lines = []
    for _, raw in found.head(20).iterrows():
        melt_value, _, melted = str(raw.get("MELTED") or "").partition("=")
        shown = [melted if melted and c == melt_value else c for c in columns]
        column = f", column {' + '.join(shown)}" if shown else ""
        lines.append(f"{indent}raw: {raw['FILE']} row {raw['ROW']} ({raw['KEY']}){column}")
    return lines


def _adam_sources(out: Path, record, usubjid: str, records: pd.DataFrame, variables: pd.DataFrame,
                  variable_row) -> list[str]:
    domain = _text(record.get("SRCDOM"))
    predecessor = re.fullmatch(r"([A-Z0-9]+)\.([A-Z0-9_]+)", str(variable_row.get("PREDECESSOR") or ""))
    if predecessor and not domain:  # copied from an SDTM variable of the subject: follow it there
        lines = [f"  from: {predecessor.group(0)} (predecessor)"]
        try:
            for line in explain(out, predecessor.group(0), usubjid)[1:]:
                lines.append("    " + line)
        except ExplainError as exc:
            lines += [f"    {p}" for p in exc.problems]
        return lines
    if not domain:
        return ["  from: no SRCDOM on the record (derived within the ADaM dataset; see its method)"]
    seqs = [_text(record.get("SRCSEQ"))] if _text(record.get("SRCSEQ")) else \
        _text(record.get("SRCSEQL")).split()
    source_var = _text(record.get("SRCVAR"))
    row = variables[(variables["DATASET"] == domain) & (variables["VARIABLE"] == source_var)]
    lines = [f"  from: {domain}.{source_var} of {len(seqs)} {domain} record(s) ({domain}SEQ {', '.join(seqs)})"]
    if not row.empty:
        lines += ["    " + line for line in _variable_lines(row.iloc[0])]
    try:
        sdtm = _dataset(out, "sdtm", domain)
    except ExplainError:
        sdtm = None
    for seq in seqs:
        value = ""
        if sdtm is not None and f"{domain}SEQ" in sdtm:
            hit = sdtm[(sdtm["USUBJID"].astype(str) == usubjid) & (sdtm[f"{domain}SEQ"] == float(seq))]
            value = f": {source_var} = '{_text(hit[source_var].iloc[0])}'" if len(hit) and source_var in hit else ""
        lines.append(f"    {domain} {domain}SEQ={seq}{value}")
        lines += _raw_lines(records, domain, usubjid, float(seq), None if row.empty else row.iloc[0], "      ")
    return lines


def main(argv: list[str] | None = None, stream=None) -> int:
    stream = stream or sys.stdout
    args = build_parser().parse_args(argv)
    for line in explain(args.out, args.target, args.usubjid, args.seq):
        print(line, file=stream)
    return 0


__all__ = ["explain", "main", "RawDataError"]
