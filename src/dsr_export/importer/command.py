"""`dsr-export import`: its arguments, where the Markdown goes, and what is printed."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import EXIT_OK, DsrError, UsageError
from .changes import MODES as TRACK_CHANGES  # the reader itself is imported when it runs

HELP = """\
Read a DOCX that dsr-export wrote and an editor changed (Word, LibreOffice, ...) and write the
Markdown it stands for: the front matter of --into kept as written, the body from the DOCX, every
Zotero (or Mendeley) citation field back as [@key, p. 3]. Without --into the Markdown goes beside the
DOCX as EDITED.md, with the citations' entries in EDITED.references.json.

examples:
  dsr-export import edited.docx --into paper.md -o paper-edited.md
  dsr-export import edited.docx --into paper.md --diff
  dsr-export import edited.docx --into paper.md --in-place --track-changes critic
"""


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub = commands.add_parser("import", help="read an edited DOCX back into the Markdown source",
                              description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.add_argument("docx", type=Path, metavar="EDITED.docx", help="the DOCX to read")
    sub.add_argument("--into", type=Path, metavar="SOURCE.md",
                     help="the source the DOCX was built from: its front matter, heading ids and picture paths "
                          "are kept")
    sub.add_argument("-o", "--output", type=Path, metavar="OUT.md",
                     help="where to write the Markdown ('-' for standard output; default: EDITED.md)")
    sub.add_argument("--track-changes", choices=TRACK_CHANGES, default="accept",
                     help="tracked changes: accept them (default), reject them, or keep them as CriticMarkup "
                          "{++ ++} {-- --} {~~ ~> ~~}; comments always become {>>author, date: text<<}")
    sub.add_argument("--in-place", action="store_true",
                     help="write over --into (the old file is kept as SOURCE.md.bak)")
    sub.add_argument("--diff", action="store_true", help="print a unified diff against --into instead of writing")


def _target(args: argparse.Namespace) -> Path | None:
    """Where the Markdown goes (None: standard output); refuses to overwrite the source unasked."""
    into = args.into
    if (args.in_place or args.diff) and into is None:
        raise UsageError(f"--{'in-place' if args.in_place else 'diff'} needs --into SOURCE.md")
    if args.in_place and args.output is not None:
        raise UsageError("give either --in-place or -o, not both")
    if args.diff:
        return None
    if args.in_place:
        return into
    if args.output is not None and str(args.output) == "-":
        return None
    target = args.output or args.docx.with_suffix(".md")
    if target.resolve() == args.docx.resolve():
        raise UsageError(f"{target} is the DOCX being read; give -o another file")
    if into is not None and target.resolve() == into.resolve():
        raise UsageError(f"{target} is the source given to --into; use --in-place to overwrite it "
                         "(a .bak copy is kept) or -o for another file")
    return target


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a temporary file renamed into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise DsrError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise DsrError(f"cannot write {path}: {exc.strerror}") from None


def _print(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader took all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run(args: argparse.Namespace) -> int:
    if args.into is not None and not args.into.is_file():
        raise UsageError(f"no such source file: {args.into}")
    if not args.docx.is_file():
        raise UsageError(f"no such file: {args.docx}")
    target = _target(args)
    bib = target.with_suffix(".references.json") if target is not None and args.into is None else None
    stem = (target or args.docx).stem
    from .read import read_docx

    result = read_docx(args.docx, args.into, args.track_changes, bibliography=bib.name if bib else None,
                       media=f"{stem}-media")
    for warning in result.warnings:
        print(warning.format(), file=sys.stderr)
    if args.diff:
        old = args.into.read_text(encoding="utf-8")
        _print("".join(difflib.unified_diff(old.splitlines(keepends=True), result.markdown.splitlines(keepends=True),
                                            str(args.into), f"{args.into} (from {args.docx})")))
        return EXIT_OK
    if target is None:
        _print(result.markdown)
        return EXIT_OK
    if args.in_place:
        shutil.copy2(args.into, args.into.with_name(args.into.name + ".bak"))
    for name, data in result.media.items():  # new pictures beside the Markdown that points at them
        _write_bytes(target.parent / name, data)
    if bib is not None and result.items:
        _write(bib, json.dumps(list(result.items.values()), ensure_ascii=False, indent=2) + "\n")
    _write(target, result.markdown)
    print(target)
    print(f"{args.docx}: {result.citations} citation field(s) read, {len(result.warnings)} warning(s)")
    return EXIT_OK
