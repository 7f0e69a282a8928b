"""Command line: parse arguments, call the library, map errors to exit codes."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback
from pathlib import Path

from . import __version__
from .config import DEFAULT_OUT, DEFAULT_SOURCE, FORMATS, Options, parse_formats
from .errors import EXIT_CONTENT, EXIT_OK, Diagnostic, DsrError

EPILOG = """\
exit status: 0 success, 1 a problem in the source, bibliography, style or theme
(the message names the file and line), 2 a usage error.

examples:
  dsr-export build                               # the essay, every format, into build/
  dsr-export build paper.md --to pdf,epub --csl apa
  dsr-export check paper.md --strict
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
        sub.add_argument("--allow-remote", action="store_true",
                         help="fetch http(s) images and stylesheets the source names (trusted sources only; "
                              "files outside the source folder are refused all the same)")

    build = commands.add_parser("build", help="build the outputs", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    common(build)
    build.add_argument("--to", default=",".join(FORMATS), metavar="FORMATS",
                       help=f"comma-separated formats (default: {','.join(FORMATS)})")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                       help=f"output folder (default: {DEFAULT_OUT}/); files are DIR/<stem>.<format>")
    build.add_argument("--theme", metavar="NAME_OR_PATH",
                       help="theme from styles/ or a .toml file (default: front matter 'theme', else default)")

    check = commands.add_parser("check", help="run the citation gate and source checks only")
    common(check)
    return parser


def _interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so temporary files are removed and earlier outputs stay."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    _interrupt_on_sigterm()
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
        allow_remote=args.allow_remote,
    )
    if args.command == "check":
        for source in sources:
            doc = document.parse(source, options)
            for warning in doc.warnings:
                _report(warning)
            print(f"{source}: ok ({len(doc.references)} references, style {doc.style.name})")
        return EXIT_OK
    for source in sources:
        result = build.build_one(source, options, _report)
        for output in result.outputs:
            print(output)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

