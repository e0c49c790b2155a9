"""The `cdisc` command: run the conversion, generate the demo export, extract CT, validate, compare cuts.

Every error the user can act on is a CdiscError, and every OSError becomes one message naming the
operation and the path: printed without a traceback. Exit status of the commands that write (see
RUN_EXIT_STATUS): 0 published; 1 failed, nothing changed; 2 bad arguments; 3 published with validation
errors; 130 / 143 interrupted by Ctrl-C / SIGTERM (the message says whether the output changed).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from specs.errors import CdiscError, clip

EXIT_PUBLISHED, EXIT_FAILED, EXIT_USAGE, EXIT_VALIDATION_ERRORS = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
RUN_EXIT_STATUS = """exit status:
  0    published: out/ holds the new output
  1    failed: nothing was published, out/ is as it was (the message says why)
  2    bad arguments: nothing was done
  3    published with validation errors: the output is complete, out/validation/ lists the errors
  130  interrupted by Ctrl-C, 143 stopped by SIGTERM (the message says whether out/ changed)"""


class Terminated(BaseException):
    """SIGTERM, raised where the program is so that it cleans up as it does for Ctrl-C."""


@contextmanager
def sigterm_as_exception():
    def handler(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    import pyarrow

    # pyarrow's own Ctrl-C handling turns a signal that lands in one of its long calls (reading a CSV)
    # into an ArrowCancelled error a reader may take for an unreadable file, and a signal at the end of
    # such a call can be lost: without it, the signal is raised as soon as the call returns
    pyarrow.enable_signal_handlers(False)
    try:
        yield
    finally:
        pyarrow.enable_signal_handlers(True)
        signal.signal(signal.SIGTERM, previous)


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


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a number of subjects (1 or more)")
    return value


def build_parser() -> argparse.ArgumentParser:
    from cdisc.chunks.build import DEFAULT_CHUNK_SUBJECTS

    parser = argparse.ArgumentParser(prog="cdisc", description="Raw clinical-trial data to CDISC SDTM/ADaM, "
                                                               "Define-XML and XPT, driven by one study spec.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="convert a raw export (the built-in demo study by default)",
                              epilog=RUN_EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    run.add_argument("--chunk-subjects", type=_positive, metavar="N", default=None,
                     help=f"at most N subjects mapped and analysed together, two chunks at a time in two processes (default: "
                          f"{DEFAULT_CHUNK_SUBJECTS}): memory grows with a chunk, not with the study; the output is "
                          f"the same whatever N")

    package = commands.add_parser("package", help="the m5 submission package again from an earlier run's output")
    package.add_argument("--out", default="out", help="the folder of the earlier run (default: out)")
    package.add_argument("--spec", help="study spec folder; default: built-in study")
    package.add_argument("--format", default="xpt", help="dataset formats, comma separated: xpt,json")
    package.add_argument("--raw", help="the raw export whose EDC metadata (ODM) makes acrf.pdf; default: built-in")

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
    commands.add_parser("explain", help="where a value comes from: cdisc explain OUT DATASET.VARIABLE "
                                        "[--usubjid ID] [--seq N]")
    commands.add_parser("spec", help="draft a spec from a raw export; export/import it as a workbook "
                                     "(cdisc spec -h)")

    commands.add_parser("batch", help="many runs (studies, cuts) in parallel on Dask's distributed scheduler "
                                      "(cdisc batch -h)")

    ct = commands.add_parser("ct", help="controlled terminology: extract a study subset")
    ct.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def outcome(publication) -> str:
    """What happened to the output, as the user needs to know it after a failure or an interruption."""
    from specs.loader import display_path

    if publication is None or publication.target is None:
        return "nothing was changed"
    where = display_path(Path(publication.target))
    if publication.published():
        return f"{where} holds the new output (published before the stop)"
    return f"nothing was published: {where} is as it was"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with sigterm_as_exception():
        return _main(argv)


def _main(argv: list[str]) -> int:
    from cdisc.pipeline import Progress, Publication

    command = argv[0] if argv else ""
    progress, publication = Progress(True if "--progress" in argv else None), Publication()
    progress.current = {"validate": "validating", "batch": "running the batch", "diff": "comparing the cuts", "ct": "extracting CT",
                        "generate": "writing the demo raw export"}.get(command, "starting")
    try:
        return _dispatch(argv, progress, publication)
    except CdiscError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if publication.target is not None:
            print(outcome(publication), file=sys.stderr)
        return EXIT_USAGE if command == "validate" else exc.exit_code
    except OSError as exc:
        from cdisc.publish import describe_os_error

        print(f"error: {describe_os_error(exc, progress.current or 'working')}", file=sys.stderr)
        if publication.target is not None:
            print(outcome(publication), file=sys.stderr)
        return EXIT_USAGE if command == "validate" else EXIT_FAILED
    except (KeyboardInterrupt, Terminated) as exc:
        how = "stopped (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"{how} while {clip(progress.current, 200)}; {outcome(publication)}", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say where, and what happened to the output; the traceback on demand
        if os.environ.get("CDISC_DEBUG"):
            raise
        import traceback

        frame = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"internal error while {clip(progress.current, 200)}: {type(exc).__name__}: {clip(exc, 300)} "
              f"({Path(frame.filename).name}:{frame.lineno}); this is a bug of cdisc-toolkit, please report it "
              "(CDISC_DEBUG=1 shows the traceback)", file=sys.stderr)
        if publication.target is not None:
            print(outcome(publication), file=sys.stderr)
        return EXIT_USAGE if command == "validate" else EXIT_FAILED


def _dispatch(argv: list[str], progress, publication) -> int:
    if argv[:1] == ["ct"]:
        from specs.ct import main as ct_main
        return ct_main(argv[1:]) or 0
    if argv[:1] == ["validate"]:
        from validate.cli import main as validate_main
        return validate_main(argv[1:])
    if argv[:1] == ["diff"]:
        from cdisc.diff import main as diff_main
        return diff_main(argv[1:])
    if argv[:1] == ["explain"]:
        from cdisc.explain import main as explain_main
        return explain_main(argv[1:])
    if argv[:1] == ["spec"]:
        from cdisc.spec_cli import main as spec_main
        return spec_main(argv[1:])
    if argv[:1] == ["batch"]:
        from cdisc.batch import main as batch_main
        return batch_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from cdisc.pipeline import run
        from specs.loader import display_path

        cut = parse_cut(args.cut, args.cut_description) if args.cut else None
        result = run(args.spec, args.raw, args.out, args.edc, progress=progress, sdtm_only=args.sdtm_only,
                     formats=args.format, cut=cut, validate=not args.no_validate, publication=publication,
                     chunk_subjects=args.chunk_subjects)
        if result.validation_errors:
            print(f"published {display_path(result.out_dir)} WITH {result.validation_errors} validation error(s): "
                  f"the output is complete but does not conform; the errors are listed in "
                  f"{display_path(result.out_dir / 'validation')}", file=sys.stderr)
            return EXIT_VALIDATION_ERRORS
        return EXIT_PUBLISHED
    if args.command == "package":
        from cdisc.pipeline import package_from_folder
        package_from_folder(args.out, args.spec, args.format, publication=publication, raw_dir=args.raw)
        return 0
    if args.command == "generate":
        from cdisc.demo.generator import main as generate_main
        return generate_main(["--out", args.out, "--seed", str(args.seed), "--subjects", str(args.subjects)]) or 0
    if args.command == "adam":
        from cdisc.adam_cli import run_adam
        return run_adam(args.sdtm_dir, args.spec, args.out, publication=publication)
    return 0


if __name__ == "__main__":
    sys.exit(main())
