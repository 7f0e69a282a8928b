"""Command line: parse arguments, call the library, map errors to exit codes."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import DEFAULT_OUT, DEFAULT_SOURCE, FORMATS, Options, available_cores, parse_formats
from .errors import EXIT_CONTENT, EXIT_OK, Diagnostic, DsrError

if TYPE_CHECKING:
    from .build import Result

EPILOG = """\
exit status: 0 success, 1 a problem in the source, bibliography, style or theme
(the message names the file and line), 2 a usage error.

examples:
  dsr-export build                               # the essay, every format, into build/
  dsr-export build paper.md --to pdf,epub --csl apa
  dsr-export check paper.md --strict
  dsr-export build chapters/*.md --jobs 2        # a batch, two processes at a time
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsr-export",
        description="Publish a Markdown source with CSL citations as print PDF, EPUB 3, DOCX and HTML.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback for internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("sources", nargs="*", type=Path, metavar="SOURCE.md",
                         help=f"Markdown sources (default: {DEFAULT_SOURCE})")
        sub.add_argument("--csl", metavar="NAME_OR_PATH",
                         help="citation style: a name from the CSL collection or a .csl file "
                              "(default: front matter 'csl', else harvard-cite-them-right)")
        sub.add_argument("--bibliography", action="append", type=Path, default=[], metavar="FILE",
                         help="bibliography file (.yaml, .json, .bib); repeat for several; "
                              "replaces the front matter's 'bibliography'")
        sub.add_argument("--strict", action="store_true", help="treat every warning as an error")

    build = commands.add_parser("build", help="build the outputs", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    common(build)
    build.add_argument("--to", default=",".join(FORMATS), metavar="FORMATS",
                       help=f"comma-separated formats (default: {','.join(FORMATS)})")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                       help=f"output folder (default: {DEFAULT_OUT}/); files are DIR/<stem>.<format>")
    build.add_argument("--theme", metavar="NAME_OR_PATH",
                       help="theme from styles/ or a .toml file (default: front matter 'theme', else default)")
    build.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N",
                       help="processes to use at once: the formats of one source, or the sources "
                            "of a batch (default: the available cores)")
    build.add_argument("--force", "--no-cache", action="store_true", dest="force",
                       help="rebuild every output even if its recorded inputs are unchanged")

    check = commands.add_parser("check", help="run the citation gate and source checks only")
    common(check)
    return parser


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not '{value}'")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse reports usage errors itself, with status 2
        return int(exc.code or 0)
    try:
        return _run(args)
    except DsrError as exc:
        print(exc.format(), file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("dsr-export: interrupted; earlier outputs are unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: one line, the traceback only on request
        if args.debug:
            traceback.print_exc()
        else:
            print(f"dsr-export: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                  file=sys.stderr)
        return EXIT_CONTENT


def _report(diagnostic: Diagnostic) -> None:
    print(diagnostic.format(), file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from . import build, document

    sources = args.sources or [DEFAULT_SOURCE]
    options = Options(
        formats=parse_formats(args.to) if args.command == "build" else FORMATS,
        out_dir=getattr(args, "out", DEFAULT_OUT),
        csl=args.csl,
        bibliographies=tuple(args.bibliography),
        theme=getattr(args, "theme", None),
        strict=args.strict,
        jobs=getattr(args, "jobs", None) or available_cores(),
        force=getattr(args, "force", False),
    )
    if args.command == "check":
        for source in sources:
            doc = document.parse(source, options)
            for warning in doc.warnings:
                _report(warning)
            print(f"{source}: ok ({len(doc.references)} references, style {doc.style.name})")
        return EXIT_OK
    if len(sources) == 1:
        _print_result(sources[0], build.build_one(sources[0], options, _report))
        return EXIT_OK
    status = EXIT_OK
    for outcome in build.build_many(sources, options):
        if outcome.error is not None:
            print(outcome.error.format(), file=sys.stderr)
            status = max(status, outcome.error.exit_status)
        elif outcome.result is not None:
            for warning in outcome.result.warnings:
                _report(warning)
            _print_result(outcome.source, outcome.result)
    return status


def _print_result(source: Path, result: Result) -> None:
    for output in result.outputs:
        print(output)
    fresh = result.up_to_date
    if fresh and not result.rebuilt:
        print(f"{source}: up to date ({', '.join(fresh)})")
    elif fresh:
        print(f"{source}: rebuilt {', '.join(result.rebuilt)}; up to date: {', '.join(fresh)}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

