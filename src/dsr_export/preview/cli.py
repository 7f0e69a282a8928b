"""The `preview` command's arguments: the build's own options, and where to serve."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import DEFAULT_SOURCE
from . import DEFAULT_HOST, DEFAULT_PORT

# The options of `build` that shape the outputs (not --force: every save rebuilds; nor batch options).
SHARED = ("csl", "bibliography", "strict", "allow_remote", "to", "out", "theme", "page_size", "crop_marks",
          "pdf_variant", "toc", "jobs")

EPILOG = """\
The preview builds the source into --out like `dsr-export build`, serves it at
http://HOST:PORT/ (the HTML, one click to the PDF and the EPUB's chapters, a link to
the DOCX), and rebuilds whenever the source, a bibliography, the style, the theme or
an image changes: the HTML first, the other formats in the background. Problems in
the source are shown in the page and here; the server keeps running. Ctrl-C stops it
(exit status 130).

examples:
  dsr-export preview                              # the essay, at http://127.0.0.1:8000/
  dsr-export preview paper.md --to html,pdf --port 8001
"""


def add_parser(commands: argparse._SubParsersAction, build: argparse.ArgumentParser) -> None:
    """`dsr-export preview`, with the options of `build` that shape the outputs."""
    sub = commands.add_parser(
        "preview", help="serve the outputs in the browser and rebuild them on every save",
        description="Live preview of one source: every format, rebuilt on save, reloaded in the browser.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument("sources", nargs="?", type=lambda value: [Path(value)], default=[], metavar="SOURCE.md",
                     help=f"the Markdown source (default: {DEFAULT_SOURCE})")
    for action in build._actions:  # the same option objects, as argparse's own `parents=` shares them
        if action.dest in SHARED:
            sub._add_action(action)
    sub.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="N",
                     help=f"port to serve on (default: {DEFAULT_PORT}; 0: any free port)")
    sub.add_argument("--host", default=DEFAULT_HOST, metavar="ADDRESS",
                     help=f"address to serve on (default: {DEFAULT_HOST}, this machine only; "
                          "another address makes the preview visible to the network)")


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, not '{value}'")
    return int(value)
