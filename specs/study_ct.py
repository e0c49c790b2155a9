"""A study's own controlled terminology (``study.ct.files`` in study.yaml), on top of the CDISC CT.

Each file, in the spec folder, is a CSV in sdtm.oak's study CT layout (so a pharmaverse study brings
its own): one row per collected text, columns ``codelist_code`` (a C-code or a codelist's submission
value; any other name is a sponsor codelist), ``term_value`` (the submission value), ``collected_value``
(the text as the EDC collects it: ``PO (Oral)``) and, optionally, ``term_code``,
``term_preferred_term`` and ``term_synonyms`` (';'-separated); other columns are ignored.

- A row of a CDISC codelist whose term exists gives that term a collected text: ``PO (Oral)`` is then
  read as ORAL wherever ROUTE is assigned (``assign_ct``).
- A new term of an extensible codelist is the study's extension (a sponsor term, ExtendedValue in
  define.xml); ``term_code`` pairs a sponsor test code with its test name (VSALL / Vital Signs).
- A new term of a non-extensible codelist, a term_code that is not the term's C-code, and a collected
  text given to two terms of one codelist are errors, each with its file, row and value.
- A codelist the CDISC CT does not have is the study's own (non-extensible: its terms are all there is).
"""
from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from specs.ct import Codelist, ControlledTerminology, Term, load_ct
from specs.errors import Problem, SpecError

REQUIRED = ("codelist_code", "term_value", "collected_value")


def read_rows(path: Path, label: str, problems: list[Problem]) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                problems.append(Problem(label, f"not a study CT file: no column {', '.join(missing)} (columns: "
                                               f"codelist_code, term_code, term_value, collected_value, "
                                               f"term_preferred_term, term_synonyms)"))
                return []
            return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except FileNotFoundError:
        problems.append(Problem(label, "study CT file not found"))
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem(label, f"not a readable CSV file ({exc})"))
    return []


def with_study_terms(base: ControlledTerminology, files: list[tuple[Path, str]]) -> ControlledTerminology:
    """``base`` with the study CT files (path, label for messages) applied in order; SpecError lists every
    problem. ``base`` itself is not changed."""
    problems: list[Problem] = []
    codelists = dict(base.codelists)
    by_code = {cl.code: short for short, cl in codelists.items()}
    touched: set[str] = set()
    owners: dict[tuple[str, str], str] = {}  # (codelist, collected text) -> term, to catch a text given twice
    for path, label in files:
        for number, row in enumerate(read_rows(path, label, problems), start=2):
            where = f"{label} row {number}"
            code, value, collected = row["codelist_code"], row["term_value"], row["collected_value"]
            if not code or not value:
                problems.append(Problem(where, "codelist_code and term_value must not be empty"))
                continue
            short = code if code in codelists else by_code.get(code)
            if short is None:  # the study's own codelist
                short = code
                codelists[short] = Codelist(code="", short=code, name=code, extensible=False, package="study")
                touched.add(short)
            if short not in touched:
                original = codelists[short]
                codelists[short] = replace(original, terms=dict(original.terms))
                touched.add(short)
            codelist = codelists[short]
            term = codelist.terms.get(value)
            term_code = row.get("term_code", "")
            if term is None:
                if codelist.package != "study" and not codelist.extensible:
                    problems.append(Problem(where, f"'{value}' is not a term of the non-extensible codelist "
                                                   f"{codelist.short} ({codelist.code}): a study may add terms "
                                                   f"only to an extensible codelist"))
                    continue
                term = Term(code=term_code, decode=row.get("term_preferred_term", ""),
                            synonyms=tuple(t.strip() for t in row.get("term_synonyms", "").split(";") if t.strip()),
                            sponsor=codelist.package != "study")
            elif term_code and term.code and term_code != term.code:
                problems.append(Problem(where, f"term_code {term_code} is not the code of '{value}' in "
                                               f"{codelist.short} ({codelist.code}): {term.code}"))
                continue
            if collected:
                owner = owners.setdefault((short, collected.casefold()), value)
                if owner != value:
                    problems.append(Problem(where, f"collected value '{collected}' is given to '{owner}' and to "
                                                   f"'{value}' of {codelist.short}"))
                    continue
                if collected not in term.collected:
                    term = replace(term, collected=term.collected + (collected,))
            codelist.terms[value] = term
            codelist.__dict__.pop("_lookup_index", None)
    if problems:
        raise SpecError(problems)
    return ControlledTerminology(codelists, base.package_dates, [*base.sources, *(p for p, _ in files)])


def study_ct(spec, base: ControlledTerminology | None = None) -> ControlledTerminology:
    """The CT a study maps with: the shipped CDISC CT and the files of ``study.ct.files`` (relative to the
    spec folder)."""
    from specs.loader import confined_path, display_path

    base = base or load_ct()
    names = (spec.study.get("ct") or {}).get("files") or []
    if not names:
        return base
    paths, problems = [], []
    for number, name in enumerate(names):  # never a file outside the spec folder (see confined_path)
        path, why = confined_path(Path(spec.folder), name, "spec folder")
        if why:
            problems.append(Problem(spec.where("study", "study", "ct", "files", number), why))
        paths.append(path)
    if problems:
        raise SpecError(problems)
    return with_study_terms(base, [(p, display_path(p)) for p in paths])
