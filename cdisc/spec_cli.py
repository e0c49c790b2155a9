"""`cdisc spec`: draft a spec from a raw export, and carry a spec to and from a workbook.

    cdisc spec draft --raw DIR --out SPEC_DIR            a first spec from a raw export (TODOs to resolve)
    cdisc spec export SPEC_DIR --xlsx FILE               the spec as a Pinnacle 21-style workbook
    cdisc spec import FILE --out SPEC_DIR                the spec folder a workbook describes
    cdisc spec import --from sdtm-oak FILE.csv --out SPEC_DIR
                                                         a draft from sdtm.oak's mapping spec CSV (TODOs
                                                         mark what it leaves open; cdisc run refuses
                                                         the spec until they are resolved)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from specs.errors import ProblemList


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdisc spec", description="Draft a study spec, or carry it to and from "
                                                                    "a workbook.")
    commands = parser.add_subparsers(dest="spec_command", required=True)
    draft = commands.add_parser("draft", help="a first spec from a raw export: proposals with their confidence, "
                                              "TODOs for what a person must decide")
    draft.add_argument("--raw", required=True, help="raw export folder (CSV, XPT, SAS7BDAT, ODM XML)")
    draft.add_argument("--out", required=True, help="spec folder to write (study.yaml, sdtm.yaml, draft-report.md)")
    draft.add_argument("--compare", metavar="SPEC_DIR", help="a hand-written spec of the same export: print how "
                                                               "many of its variables the draft proposes correctly")
    draft.add_argument("--force", action="store_true", help="overwrite the spec files of an existing folder")
    export = commands.add_parser("export", help="the spec as a workbook laid out as Pinnacle 21's define spec")
    export.add_argument("spec_dir")
    export.add_argument("--xlsx", required=True, help="workbook to write (.xlsx)")
    imp = commands.add_parser("import", help="the spec folder a workbook (or an sdtm.oak spec CSV) describes")
    imp.add_argument("file")
    imp.add_argument("--out", required=True, help="spec folder to write")
    imp.add_argument("--from", dest="from_format", choices=["workbook", "sdtm-oak"], default="workbook",
                     help="what FILE is: our workbook (default) or sdtm.oak's mapping spec CSV")
    return parser


def main(argv: list[str] | None = None, stream=None) -> int:
    stream = stream or sys.stdout
    args = build_parser().parse_args(argv)
    from specs.loader import display_path

    if args.spec_command == "draft":
        from cdisc.spec_draft import DRAFT_FILES, draft_spec

        out = Path(args.out)
        existing = [name for name in DRAFT_FILES if (out / name).exists()]
        if existing and not args.force:
            raise ProblemList([f"{display_path(out / name)}: already exists (--force overwrites it)"
                               for name in existing], "argument errors")
        counts = draft_spec(args.raw, out)
        print(f"wrote {display_path(out)}: {counts['domains']} domains, {counts['variables']} variables from "
              f"{counts['forms']} raw forms; {counts['todos']} TODO(s) to resolve (see "
              f"{display_path(out / 'draft-report.md')})", file=stream)
        for path in counts["skipped"]:
            print(f"note: {path}: no domain recognised (no subject column, or no known names): not drafted",
                  file=stream)
        if args.compare:
            from cdisc.draft_score import compare_specs

            score = compare_specs(out, args.compare)
            print(f"compared with {display_path(Path(args.compare))}: {score.line()}", file=stream)
        return 0
    if args.spec_command == "export":
        from specs.workbook import export_workbook

        notes = export_workbook(args.spec_dir, args.xlsx)
        print(f"wrote {display_path(Path(args.xlsx))}", file=stream)
        for note in notes:
            print(f"note: {note}", file=stream)
        return 0
    if args.spec_command == "import" and args.from_format == "sdtm-oak":
        from specs.oak_spec import import_oak_spec

        todos = import_oak_spec(args.file, args.out)
        print(f"wrote {display_path(Path(args.out))} from {display_path(Path(args.file))} (sdtm.oak spec)",
              file=stream)
        if todos:
            print(f"{len(todos)} TODO(s) to resolve before cdisc run accepts the spec:", file=stream)
            for line in todos:
                print(f"  {line}", file=stream)
        return 0
    if args.spec_command == "import":
        from specs.workbook_import import import_workbook

        problems = import_workbook(args.file, args.out)
        print(f"wrote {display_path(Path(args.out))} from {display_path(Path(args.file))}", file=stream)
        if problems:
            raise ProblemList(problems, "spec problems in the workbook (the spec folder was written; cdisc run "
                                        "refuses it until they are fixed)")
        return 0
    return 0
