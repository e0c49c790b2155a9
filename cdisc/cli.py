"""The `cdisc` command: run the conversion, generate the demo export, extract CT, validate, compare cuts.

Every error the user can act on is a CdiscError: printed without a traceback, exit status 1 (2 for
unreadable input to `validate`).
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime

from specs.errors import CdiscError


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        from specs.errors import ProblemList
        raise ProblemList([f"--cut: '{text}' is neither a date YYYY-MM-DD nor a cut file"], "argument errors")


def parse_cut(value: str, description: str = ""):
    """--cut: a date YYYY-MM-DD, or a CSV file of USUBJID,DCUTDTC[,DCUTDESC]."""
    from pathlib import Path

    from sdtm.cut import DataCut, read_cut_file

    if Path(value).is_file():
        cut = read_cut_file(value)
        if description and not cut.description:
            cut.description = description
        return cut
    _date(value)
    return DataCut(date=value, description=description)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdisc", description="Raw clinical-trial data to CDISC SDTM/ADaM, "
                                                               "Define-XML and XPT, driven by one study spec.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="convert a raw export (the built-in demo study by default)")
    run.add_argument("--spec", help="study spec folder (study.yaml, sdtm.yaml, adam.yaml); default: built-in study")
    run.add_argument("--raw", help="raw export folder; default: the built-in demo export")
    run.add_argument("--out", default="out", help="output folder (default: out)")
    run.add_argument("--edc", choices=["csv", "odm"], default="csv", help="read EDC forms from CSV or ODM XML")
    run.add_argument("--format", default="xpt", help="dataset formats, comma separated: xpt,json")
    run.add_argument("--cut", help="data cut: a date YYYY-MM-DD or a CSV file of USUBJID,DCUTDTC")
    run.add_argument("--sdtm-only", action="store_true", help="SDTM only: no ADaM (define.xml and validation of SDTM; no adam.yaml needed)")
    run.add_argument("--cut-description", default="", help="DCUTDESC for a cut, e.g. 'DSMB 2'")
    run.add_argument("--no-validate", action="store_true", help="skip the conformance check at the end")
    run.add_argument("--progress", action="store_true", help="show progress even when not on a terminal")

    package = commands.add_parser("package", help="the m5 submission package again from an earlier run's output")
    package.add_argument("--out", default="out", help="the folder of the earlier run (default: out)")
    package.add_argument("--spec", help="study spec folder; default: built-in study")
    package.add_argument("--format", default="xpt", help="dataset formats, comma separated: xpt,json")

    generate = commands.add_parser("generate", help="write the demo study's raw export")
    generate.add_argument("--out", required=True)
    generate.add_argument("--seed", type=int, default=20221)
    generate.add_argument("--subjects", type=int, default=24)

    adam = commands.add_parser("adam", help="build ADaM from a folder of SDTM XPT files")
    adam.add_argument("sdtm_dir")
    adam.add_argument("--spec", help="ADaM spec (adam.yaml); default: the built-in study's")
    adam.add_argument("--out", default="out/adam")

    validate = commands.add_parser("validate", help="check a folder of SDTM/ADaM datasets")
    validate.add_argument("path")
    validate.add_argument("--define", help="define.xml (default: PATH/define.xml if present)")
    validate.add_argument("--out", help="report folder")

    validate.add_argument("--ct", action="append", help="NCI EVS controlled terminology package (.txt or .csv); repeatable")
    validate.add_argument("--ig", action="append", help="standard version to check against (3.2, 'ADaMIG 1.1'); repeatable")

    commands.add_parser("diff", help="compare two data cuts: cdisc diff OLD NEW [--out DIR] [--subject USUBJID]")

    ct = commands.add_parser("ct", help="controlled terminology: extract a study subset")
    ct.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ct"]:
        from specs.ct import main as ct_main
        return ct_main(argv[1:]) or 0
    if argv[:1] == ["validate"]:
        from validate.cli import main as validate_main
        return validate_main(argv[1:])
    if argv[:1] == ["diff"]:
        from cdisc.diff import main as diff_main
        try:
            return diff_main(argv[1:])
        except CdiscError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            from cdisc.pipeline import Progress, run
            cut = parse_cut(args.cut, args.cut_description) if args.cut else None
            result = run(args.spec, args.raw, args.out, args.edc, progress=Progress(True if args.progress else None),
                         sdtm_only=args.sdtm_only, formats=args.format, cut=cut, validate=not args.no_validate)
            return 1 if result.validation_errors else 0
        if args.command == "package":
            from cdisc.pipeline import package_from_folder
            package_from_folder(args.out, args.spec, args.format)
            return 0
        if args.command == "generate":
            from cdisc.demo.generator import main as generate_main
            return generate_main(["--out", args.out, "--seed", str(args.seed), "--subjects", str(args.subjects)]) or 0
        if args.command == "adam":
            from cdisc.adam_cli import run_adam
            return run_adam(args.sdtm_dir, args.spec, args.out)
    except CdiscError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; no output was changed", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
