"""One module per output format; each reads the Document and returns the bytes of one file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from ..config import Options
from ..document import Document
from ..errors import Diagnostic
from ..theme import Theme


@dataclass(frozen=True)
class Job:
    """What a writer is given: the parsed document, the look, and the options."""

    doc: Document
    theme: Theme
    options: Options
    # The print layout's page map, when the PDF of the same build lays it out: the EPUB waits
    # for it instead of laying the book out a second time.
    print_pages: Callable[[], Mapping[str, int]] | None = None


@dataclass(frozen=True)
class Rendered:
    """What a writer gives back: the file's bytes and anything worth a warning."""

    data: bytes
    warnings: tuple[Diagnostic, ...] = ()


def registry() -> dict[str, ModuleType]:
    """Format name -> writer module (imported on first use: WeasyPrint is slow to load)."""
    from . import cover, docx, epub, html, pdf

    return {m.NAME: m for m in (pdf, epub, docx, html, cover)}
