"""Command line: parse arguments, call the library, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import (
    DEFAULT_OUT,
    DEFAULT_SOURCE,
    FORMATS,
    Options,
    available_cores,
    parse_formats,
    parse_page_size,
    parse_pdf_variant,
)
from .errors import EXIT_CONTENT, EXIT_OK, Diagnostic, DsrError

if TYPE_CHECKING:
    from .build import Result

EPILOG = """\
exit status: 0 success, 1 a problem in the source, bibliography, style or theme, or
an output that cannot be written (the message names the file and line), 2 a usage error.

paths in the front matter must stay inside the source's folder (or --root DIR);
paths on the command line may point anywhere. Inputs must be regular files of at
most DSR_EXPORT_MAX_TEXT_MB (default 64) or, for images, DSR_EXPORT_MAX_IMAGE_MB
(default 256) MiB.

examples:
  dsr-export styles chicago                      # citation styles whose id or title match
  dsr-export build                               # the essay, every format, into build/
  dsr-export build paper.md --to pdf,epub --csl apa
  dsr-export check paper.md --strict
  dsr-export build chapters/*.md --jobs 2        # a batch, two processes at a time
  dsr-export build book.md --jobs 3              # a book (front matter 'chapters:'), 3 chapters at a time
  dsr-export preview paper.md --port 8001        # live preview in the browser, rebuilt on every save
  dsr-export import edited.docx --into paper.md --diff   # an editor's DOCX back into the source
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
        sub.add_argument("--root", type=_folder, metavar="DIR",
                         help="a folder the front matter's files (bibliography, csl, theme) may also be in "
                              "(default: only the source's own folder)")

    build = commands.add_parser("build", help="build the outputs", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    common(build)
    build.add_argument("--to", default=",".join(FORMATS), metavar="FORMATS",
                       help=f"comma-separated formats (default: {','.join(FORMATS)}; "
                            "also cover, the print cover with spine, as <stem>.cover.pdf)")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                       help=f"output folder (default: {DEFAULT_OUT}/); files are DIR/<stem>.<format>")
    build.add_argument("--theme", metavar="NAME_OR_PATH",
                       help="theme from styles/ or a .toml file (default: front matter 'theme', else default)")
    build.add_argument("--page-size", metavar="SIZE",
                       help="PDF page size: A4, A5, Letter, B5 or WIDTHxHEIGHTmm, e.g. 156x234mm "
                            "(default: the theme's)")
    build.add_argument("--crop-marks", action="store_true",
                       help="PDF: add crop marks and 3 mm bleed for the printer")
    build.add_argument("--pdf-variant", metavar="VARIANT",
                       help="PDF standard to write: pdf/x-4 or pdf/x-1a for the printer (CMYK, output intent), "
                            "pdf/a-3a for archives (default: pdf/ua-1, tagged and accessible)")
    build.add_argument("--toc", action="store_true",
                       help="PDF: a table of contents with page numbers after the title block")
    build.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N",
                       help="processes to use at once: the formats of one source, the chapters of a "
                            "book, or the sources of a batch (default: the available cores)")
    build.add_argument("--docx-citations", choices=("fields", "text"), default=None,
                       help="DOCX: citations as live Zotero fields an editor can refresh, or as plain text "
                            "(default: front matter 'docx-citations', else fields)")
    build.add_argument("--force", "--no-cache", action="store_true", dest="force",
                       help="rebuild every output even if its recorded inputs are unchanged")
    build.add_argument("--scheduler", metavar="ADDRESS", default=os.environ.get("DSR_EXPORT_SCHEDULER"),
                       help="build the sources on a Dask cluster: tcp://HOST:8786, or local:N for N local "
                            "worker processes (default: $DSR_EXPORT_SCHEDULER, else this machine's --jobs)")
    build.add_argument("--report", type=Path, metavar="FILE.json",
                       help="write a JSON report: per source its outputs, their hashes, warnings, errors, time")
    build.add_argument("--quiet", "-q", action="store_true",
                       help="no progress lines for a batch (warnings and errors are still printed)")

    from .preview.cli import add_parser as add_preview

    add_preview(commands, build)

    check = commands.add_parser("check", help="run the citation gate and source checks only")
    common(check)

    from .importer.command import add_parser as add_import

    add_import(commands)
    styles = commands.add_parser("styles", help="list or search the CSL citation styles (id, kind, title)")
    styles.add_argument("query", nargs="*", metavar="QUERY",
                        help="words that must all appear in a style's id or title (default: list all)")
    return parser


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not '{value}'")
    return int(value)


def _folder(value: str) -> Path:
    if not Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"'{value}' is not a folder")
    return Path(value)


def _interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so temporary files are removed and earlier outputs stay."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def _ignore_further_interrupts() -> None:
    """Once unwinding, a second signal (or one delivered late) must not cut the exit short."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


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
        _ignore_further_interrupts()
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


def _styles(query: list[str]) -> int:
    """Print matching styles, one per line: id, citation format, title (and parent of a dependent)."""
    from . import csl

    found = csl.search(" ".join(query))
    if not found:
        raise DsrError(f"no CSL style matches '{' '.join(query)}'")
    width = min(40, max(len(e.id) for e in found))  # a few ids run to 80 characters
    lines = [
        f"{e.id:<{width}}  {e.format or '-':<11}  {e.title}" + (f"  (uses {e.parent})" if e.parent else "")
        for e in found
    ]
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # `dsr-export styles | head`: the reader took all it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from . import build, document, outputs

    if args.command == "styles":
        return _styles(args.query)
    if args.command == "import":
        from .importer import command

        return command.run(args)

    sources = args.sources or [DEFAULT_SOURCE]
    options = Options(
        formats=parse_formats(args.to) if args.command in ("build", "preview") else FORMATS,
        out_dir=getattr(args, "out", DEFAULT_OUT),
        csl=args.csl,
        bibliographies=tuple(args.bibliography),
        theme=getattr(args, "theme", None),
        strict=args.strict,
        page_size=parse_page_size(args.page_size) if getattr(args, "page_size", None) else None,
        crop_marks=getattr(args, "crop_marks", False),
        pdf_variant=parse_pdf_variant(args.pdf_variant) if getattr(args, "pdf_variant", None) else None,
        contents=getattr(args, "toc", False),
        jobs=getattr(args, "jobs", None) or available_cores(),
        force=getattr(args, "force", False),
        allow_remote=args.allow_remote,
        docx_citations=getattr(args, "docx_citations", None),
        root=getattr(args, "root", None),
    )
    if args.command == "preview":
        from . import preview

        return preview.run(sources, options, host=args.host, port=args.port)
    if args.command == "check":
        for source in sources:
            doc = document.parse(source, options)
            for warning in doc.warnings:
                _report(warning)
            print(f"{source}: ok ({len(doc.references)} references, style {doc.style.name})")
        return EXIT_OK
    outputs.check_folder(options.out_dir)  # a bad --out fails before any work, not after it
    started = time.perf_counter()
    if len(sources) == 1 and not args.scheduler:
        try:
            result = build.build_one(sources[0], options, _report)
        except DsrError as exc:
            _write_report(args, [build.Outcome(sources[0], None, exc, time.perf_counter() - started)], started)
            raise
        _write_report(args, [build.Outcome(sources[0], result, None, time.perf_counter() - started)], started)
        _print_result(sources[0], result)
        return EXIT_OK
    from .progress import Progress

    progress = Progress(len(sources), quiet=args.quiet)
    if args.scheduler:
        from .executors.cluster import build_on_cluster

        outcomes = build_on_cluster(sources, options, args.scheduler, progress)
    else:
        outcomes = build.build_many(sources, options, progress)
    _write_report(args, outcomes, started)
    status = EXIT_OK
    for outcome in outcomes:
        if outcome.error is not None:
            print(outcome.error.format(), file=sys.stderr)
            status = max(status, outcome.error.exit_status)
        elif outcome.result is not None:
            for warning in outcome.result.warnings:
                _report(warning)
            _print_result(outcome.source, outcome.result)
    return status


def _write_report(args: argparse.Namespace, outcomes: list, started: float) -> None:
    if args.report is not None:
        from . import report

        executor = args.scheduler or f"local:{args.jobs or available_cores()}"
        report.write(args.report, outcomes, time.perf_counter() - started, executor)


def _print_result(source: Path, result: Result) -> None:
    for output in result.outputs:
        print(output)
    fresh = result.up_to_date
    if fresh and not result.rebuilt:
        print(f"{source}: up to date ({', '.join(fresh)})")
    elif fresh:
        print(f"{source}: rebuilt {', '.join(result.rebuilt)}; up to date: {', '.join(fresh)}")


def run() -> None:
    """The console script: main(), then leave at once with its status.

    A signal arriving while the interpreter shuts down (after an interrupted build has
    already cleaned up) must not turn exit status 130 into a death by signal.
    """
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that has gone away (`| head`)
            pass
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()

