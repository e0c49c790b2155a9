"""Controlled terminology: extract codelists from an NCI EVS package, load the shipped subsets.

The full CDISC packages are large (SDTM CT is ~45,000 rows), so the toolkit ships JSON subsets of the
codelists a study uses (``specs/ct/*.json``) and records which package and date they came from.

NCI EVS layout (both the tab-delimited ``.txt`` and the ``.csv`` exports): a codelist row has an empty
"Codelist Code" and its own C-code in "Code"; a term row names its codelist's C-code in "Codelist Code".
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from specs.errors import CdiscError, Problem, SpecError

SHIPPED_DIR = Path(__file__).with_name("ct")

_COLUMNS = {
    "code": "Code",
    "codelist": "Codelist Code",
    "extensible": "Codelist Extensible (Yes/No)",
    "name": "Codelist Name",
    "value": "CDISC Submission Value",
    "synonyms": "CDISC Synonym(s)",
    "preferred": "NCI Preferred Term",
}
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
MULTIPLE = "MULTIPLE"


def multiple_allowed(variable: str, supp_qnams) -> bool:
    """SDTMIG 3.4 section 4.2.8.3: a non-result qualifier collected with several values (RACE, --LOC)
    holds 'MULTIPLE', its values going to SUPP-- as <variable>1, <variable>2, ... (RACE1, RACE2); the
    value 'MULTIPLE' is then allowed whatever the variable's codelist, extensible or not."""
    return supp_qnams is not None and f"{variable[:7]}1" in set(supp_qnams)


def _folded(text: str) -> str:
    """Text without accents, case and repeated spaces: what two spellings of one term share."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class Term:
    code: str
    decode: str
    synonyms: tuple[str, ...] = ()
    collected: tuple[str, ...] = ()  # the study's own texts for this term (study CT files)
    sponsor: bool = False  # a term a study added to an extensible codelist


@dataclass
class Codelist:
    code: str
    short: str
    name: str
    extensible: bool
    terms: dict[str, Term] = field(default_factory=dict)
    package: str = ""
    date: str = ""

    def values(self) -> list[str]:
        return list(self.terms)

    def term(self, value: str) -> Term:
        try:
            return self.terms[value]
        except KeyError:
            raise LookupError(f"'{value}' is not a term of codelist {self.short} ({self.code})") from None

    def lookup_synonym(self, text) -> str | None:
        """The submission value whose value, collected text, synonym or decode matches ``text``
        (case-insensitive).

        An exact submission value wins, then a case-insensitive one, then a text the study collects for a
        term (its study CT), then a synonym or decode. A text that matches several terms at the same level
        is ambiguous and gives None (never a guess).
        """
        if text is None or not isinstance(text, str):
            return None
        text = text.strip()
        if text in self.terms:
            return text
        for level in self._index():
            hits = level.get(text.casefold())
            if hits and len(hits) == 1:
                return next(iter(hits))
            if hits:
                return None
        return None

    def variant_of(self, text) -> str | None:
        """The one term that ``text`` spells with other accents, case or spacing ('COMPLÉTED',
        'Not  Done' for COMPLETED, NOT DONE), or None. A text that resolves by lookup_synonym is not a
        variant; an extensible codelist takes a new sponsor term, never a misspelled CDISC one."""
        if not isinstance(text, str):
            return None
        cached = self.__dict__.get("_variant_index")
        if cached is None:
            cached = {}
            for value, term in self.terms.items():
                for spelling in (value, term.decode, *term.synonyms, *term.collected):
                    if spelling:
                        cached.setdefault(_folded(spelling), set()).add(value)
            self.__dict__["_variant_index"] = cached
        hits = cached.get(_folded(text))
        return next(iter(hits)) if hits and len(hits) == 1 else None

    def _index(self) -> tuple[dict[str, set[str]], ...]:
        cached = self.__dict__.get("_lookup_index")
        if cached is None:
            by_value: dict[str, set[str]] = {}
            by_collected: dict[str, set[str]] = {}
            by_text: dict[str, set[str]] = {}
            for value, term in self.terms.items():
                by_value.setdefault(value.casefold(), set()).add(value)
                for text in term.collected:
                    by_collected.setdefault(text.casefold(), set()).add(value)
                for text in (term.decode, *term.synonyms):
                    if text:
                        by_text.setdefault(text.casefold(), set()).add(value)
            cached = (by_value, by_collected, by_text)
            self.__dict__["_lookup_index"] = cached
        return cached

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "short": self.short,
            "name": self.name,
            "extensible": self.extensible,
            "terms": [
                {"value": v, "code": t.code, "decode": t.decode, "synonyms": list(t.synonyms)}
                for v, t in self.terms.items()
            ],
        }


class ControlledTerminology:
    """Codelists from one or more packages, looked up by submission value (``SEX``) or C-code."""

    def __init__(self, codelists: dict[str, Codelist], package_dates: dict[str, str], sources=()):
        self.codelists = codelists
        self.package_dates = package_dates
        self.sources = list(sources)
        self._by_code = {cl.code: cl for cl in codelists.values()}

    def has(self, short: str) -> bool:
        return short in self.codelists or short in self._by_code

    __contains__ = has

    def codelist(self, short: str) -> Codelist:
        found = self.codelists.get(short) or self._by_code.get(short)
        if found is None:
            packages = ", ".join(f"{p} {d}" for p, d in self.package_dates.items()) or "none loaded"
            raise LookupError(
                f"codelist '{short}' is not in the loaded controlled terminology ({packages}); "
                f"add it with: cdisc ct extract --ct <full package> --codelist {short} --out <file>"
            )
        return found

    def __repr__(self) -> str:
        return f"ControlledTerminology({len(self.codelists)} codelists, {self.package_dates})"


# ----------------------------------------------------------------------------------------- reading
def _read_rows(path: Path) -> list[dict[str, str]]:
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".csv", ".tsv"):
        raise SpecError([Problem(path.name, f"unknown terminology format '{suffix}' (expected .txt or .csv)")])
    with open(path, newline="", encoding="utf-8-sig") as handle:
        if suffix == ".csv":
            reader = csv.DictReader(handle)
        else:  # NCI EVS text exports are tab-delimited and contain bare double quotes in definitions
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in (_COLUMNS["code"], _COLUMNS["codelist"], _COLUMNS["value"]) if c not in (reader.fieldnames or [])]
        if missing:
            raise SpecError([Problem(path.name, f"not an NCI EVS terminology file: no column {', '.join(repr(m) for m in missing)}")])
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def _split_synonyms(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(";") if s.strip()) if text else ()


def _parse_package(rows: list[dict[str, str]]) -> dict[str, Codelist]:
    """All codelists of a package keyed by C-code, terms in file order."""
    by_code: dict[str, Codelist] = {}
    for row in rows:
        if not row[_COLUMNS["codelist"]]:
            by_code[row[_COLUMNS["code"]]] = Codelist(
                code=row[_COLUMNS["code"]],
                short=row[_COLUMNS["value"]],
                name=row.get(_COLUMNS["name"], ""),
                extensible=row.get(_COLUMNS["extensible"], "").lower() == "yes",
            )
    for row in rows:
        parent = by_code.get(row[_COLUMNS["codelist"]])
        if parent is not None:
            parent.terms[row[_COLUMNS["value"]]] = Term(
                code=row[_COLUMNS["code"]],
                decode=row.get(_COLUMNS["preferred"], ""),
                synonyms=_split_synonyms(row.get(_COLUMNS["synonyms"], "")),
            )
    return by_code


def _infer_package(path: Path, rows: list[dict[str, str]]) -> str:
    stamp = rows[0].get("Standard and Date", "") if rows else ""
    if stamp:  # e.g. "ADaM CT 2025-03-28"
        return _DATE_IN_NAME.sub("", stamp).strip()
    name = path.name.lower()
    for marker, package in (("adam", "ADaM CT"), ("define", "Define-XML CT"), ("send", "SEND CT")):
        if marker in name:
            return package
    return "SDTM CT"


def _render(data: dict) -> str:
    """JSON with one term per line: readable, diffable, and a third of the size of indented JSON."""
    dump = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    head = ",\n".join(f" {dump(k)}: {dump(v)}" for k, v in data.items() if k != "codelists")
    blocks = []
    for short, body in data["codelists"].items():
        fields = ",\n".join(f"   {dump(k)}: {dump(v)}" for k, v in body.items() if k != "terms")
        terms = ",\n".join(f"    {dump(t)}" for t in body["terms"])
        blocks.append(f"  {dump(short)}: {{\n{fields},\n   \"terms\": [\n{terms}\n   ]\n  }}")
    return f"{{\n{head},\n \"codelists\": {{\n" + ",\n".join(blocks) + "\n }\n}\n"


def _write_json_atomically(data: dict, out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out_path.name, suffix=".tmp", dir=out_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_render(data))
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def extract_ct(full_ct_path, codelists: list[str], out_path, *, package: str | None = None,
               date: str | None = None) -> dict:
    """Write the named codelists of a full NCI EVS package to a JSON subset; return the JSON data.

    ``codelists`` are CDISC submission values (``SEX``) or C-codes (``C66731``). ``package`` defaults to
    the file's "Standard and Date" column or its name ("SDTM CT" when nothing says otherwise); ``date``
    defaults to the ``YYYY-MM-DD`` in the file name.
    """
    path = Path(full_ct_path)
    if not path.is_file():
        raise SpecError([Problem(str(path), "terminology file not found")])
    if date is None:
        found = _DATE_IN_NAME.search(path.name)
        if not found:
            raise SpecError([Problem(path.name, "no YYYY-MM-DD package date in the file name; pass date=")])
        date = found.group(1)
    rows = _read_rows(path)
    package = package or _infer_package(path, rows)
    by_code = _parse_package(rows)
    by_short = {cl.short: cl for cl in by_code.values()}
    wanted = list(dict.fromkeys(codelists))
    unknown = [n for n in wanted if n not in by_short and n not in by_code]
    if unknown:
        raise SpecError([Problem(path.name, f"'{n}' is not a codelist of this package") for n in unknown])
    chosen = [by_short.get(n) or by_code[n] for n in wanted]
    data = {
        "package": package,
        "date": date,
        "source": path.name,
        "codelists": {cl.short: cl.to_json() for cl in chosen},
    }
    _write_json_atomically(data, Path(out_path))
    return data


# ----------------------------------------------------------------------------------------- loading
def _codelist_from_json(short: str, body: dict, package: str, date: str) -> Codelist:
    terms = {
        t["value"]: Term(code=t.get("code", ""), decode=t.get("decode", ""), synonyms=tuple(t.get("synonyms", ())))
        for t in body.get("terms", [])
    }
    return Codelist(code=body["code"], short=body.get("short", short), name=body.get("name", ""),
                    extensible=bool(body["extensible"]), terms=terms, package=package, date=date)


def load_ct(paths: list | None = None) -> ControlledTerminology:
    """Load JSON subsets (default: the shipped ``specs/ct/*.json``) into one terminology."""
    paths = sorted(SHIPPED_DIR.glob("*.json")) if paths is None else [Path(p) for p in paths]
    problems: list[Problem] = []
    codelists: dict[str, Codelist] = {}
    dates: dict[str, str] = {}
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            package, date = data["package"], data["date"]
            loaded = [_codelist_from_json(s, b, package, date) for s, b in data["codelists"].items()]
        except FileNotFoundError:
            problems.append(Problem(str(path), "terminology file not found"))
            continue
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), f"not valid JSON: {exc}"))
            continue
        except (KeyError, TypeError, AttributeError) as exc:
            problems.append(Problem(str(path), f"not a terminology subset (missing or malformed {exc})"))
            continue
        if dates.get(package, date) != date:
            problems.append(Problem(str(path), f"{package} {date} mixed with {package} {dates[package]}"))
        dates.setdefault(package, date)
        for cl in loaded:
            seen = codelists.get(cl.short)
            if seen is not None and seen.code != cl.code:
                problems.append(Problem(str(path), f"codelist {cl.short} is {cl.code} here but {seen.code} in an earlier file"))
            codelists.setdefault(cl.short, cl)
    if problems:
        raise SpecError(problems)
    return ControlledTerminology(codelists, dates, paths)


# --------------------------------------------------------------------------------------------- CLI
def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="cdisc ct", description="Controlled terminology tools")
    sub = parser.add_subparsers(dest="ct_command", required=True)
    ext = sub.add_parser("extract", help="write a JSON subset of codelists from a full NCI EVS package")
    ext.add_argument("--ct", required=True, help="full package (.txt tab-delimited or .csv)")
    ext.add_argument("--codelist", action="append", default=[],
                     help="codelist submission value or C-code; repeat, or separate with commas")
    ext.add_argument("--spec", help="a study spec folder: add every codelist its sdtm.yaml names")
    ext.add_argument("--out", required=True, help="JSON file to write")
    ext.add_argument("--package", default=None, help='package name, e.g. "SDTM CT" (default: inferred)')
    ext.add_argument("--date", default=None, help="package date (default: from the file name)")
    return parser


def spec_codelists(folder) -> list[str]:
    """Every CT codelist a study spec names (variables and mappings), in order of first use."""
    from specs.loader import load_study_spec

    spec = load_study_spec(folder, collect=[])
    dictionaries = set(spec.study.get("dictionaries", {}))
    found: list[str] = []

    def visit(node) -> None:
        if isinstance(node, dict):
            name = node.get("codelist")
            if isinstance(name, str) and name not in dictionaries and name not in found:
                found.append(name)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(spec.domains)
    return found


def run(args: argparse.Namespace) -> int:
    """Run a parsed ``ct`` command (for a CLI that mounted ``build_parser`` on its own sub-parser)."""
    names = [n.strip() for item in args.codelist for n in item.split(",") if n.strip()]
    try:
        if getattr(args, "spec", None):
            names += [n for n in spec_codelists(args.spec) if n not in names]
        if not names:
            raise SpecError([Problem("cdisc ct extract", "name codelists with --codelist or --spec")])
        data = extract_ct(args.ct, names, args.out, package=args.package, date=args.date)
    except CdiscError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    terms = sum(len(c["terms"]) for c in data["codelists"].values())
    print(f"wrote {len(data['codelists'])} codelists ({terms} terms) of {data['package']} {data['date']} to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``cdisc ct extract --ct FILE --codelist SEX --codelist UNIT --out FILE``."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
