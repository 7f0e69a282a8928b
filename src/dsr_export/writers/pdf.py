"""PDF: the print HTML laid out by WeasyPrint."""

from __future__ import annotations

import dataclasses
import logging
import re
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from lxml import html as lhtml

from .. import glyphs
from ..document import Document
from ..errors import Diagnostic
from ..sandbox import Sandbox, for_paths
from ..theme import Theme
from ..transforms.math import print_math
from . import Job, Rendered, epub_pages, html, pdf_scripts, pdf_tags, pdf_x
from . import print_html as printing

NAME = "pdf"
SUFFIX = ".pdf"
MEDIA_TYPE = "application/pdf"
DEFAULT_VARIANT = "pdf/ua-1"
BLEED_MM = 3
# Crop marks sit in the bleed and beyond it; WeasyPrint draws them when `marks` is set.
_CROP_MARKS = f"@page {{ marks: crop cross; bleed: {BLEED_MM}mm; }}"

PageMap = dict[str, int]  # element id -> the print page (from 1) where it first appears


def page_theme(job: Job) -> Theme:
    """The theme with the page size asked for on the command line, if any."""
    if not job.options.page_size:
        return job.theme
    return dataclasses.replace(job.theme, tokens={**job.theme.tokens, "page.size": job.options.page_size})


def print_html(job: Job, body_html: str | None = None) -> str:
    """The HTML WeasyPrint lays out: the shared page with the print stylesheet and dates.

    The body carries a temporary id on every block, so the one layout gives both the PDF
    and the EPUB's page map; `body_html` replaces it.
    """
    stamp = datetime.fromtimestamp(job.options.build_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    dates = (
        f'<meta name="dcterms.created" content="{stamp}"/>\n'
        f'<meta name="dcterms.modified" content="{stamp}"/>\n'
        f'<meta name="generator" content="dsr-export"/>\n'
    )
    css = page_theme(job).css("print") + ("\n" + _CROP_MARKS if job.options.crop_marks else "")
    source = marked_body(job.doc) if body_html is None else body_html
    # formulas drawn as SVG: WeasyPrint cannot lay out MathML
    body = printing.prepare(print_math(source), contents=job.options.contents)
    css += "\n" + pdf_scripts.italic_css(job.theme, body + html.title_block(job.doc))  # Cyrillic italics
    page = html.page(job.doc, css, body, "print")
    return page.replace("</head>", dates + "</head>", 1)


class _Collector(logging.Handler):
    """Keeps WeasyPrint's logged problems so they become our warnings, not lost lines."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = " ".join(record.getMessage().split())
        if not message.startswith(_MACHINE_NOTICES):
            self.messages.append(message)


# Notices about the build machine, not the document: not the author's to fix.
_MACHINE_NOTICES = ("Using fontTools instead of HarfBuzz",)


def _fetcher(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    """WeasyPrint's fetcher, asked first whether the sandbox allows each URL.

    WeasyPrint itself would read any file and any URL it meets; this is the last
    line of defence behind the gate, so every refusal is also logged as a warning.
    """
    from weasyprint.urls import URLFetcher

    protocols = ("file", "data", *(("http", "https") if sandbox.allow_remote else ()))

    class SandboxedFetcher(URLFetcher):
        def fetch(self, url, headers=None):  # type: ignore[no-untyped-def]
            url = real_url(url, sandbox.folder)
            reason = sandbox.refusal(url)
            if reason is not None:
                shown = url if len(url) <= 80 else url[:77] + "..."
                raise ValueError(f"refused to fetch {shown}: {reason}")
            return super().fetch(url, headers)

    return SandboxedFetcher(allowed_protocols=protocols, allow_redirects=sandbox.allow_remote)


# WeasyPrint names each picture in the PDF by a hash of its URL. Pictures are given to it under
# this fixed base, which the fetcher maps to the source's folder, so the PDF's bytes do not depend
# on where the folder lies (another checkout, a cluster worker's temporary folder).
SOURCE_BASE = "file:///dsr-export-source/"


def real_url(url: str, folder: Path) -> str:
    """A URL under SOURCE_BASE as the file URL of the same path in `folder`; others unchanged."""
    return folder.as_uri() + "/" + url[len(SOURCE_BASE):] if url.startswith(SOURCE_BASE) else url


def _weasy_html(job: Job, document_html: str):  # type: ignore[no-untyped-def]
    """WeasyPrint's document for `document_html`, reading only what the sandbox allows.

    The PDF and the EPUB's page map both come from here, so they are laid out alike.
    """
    import weasyprint

    sandbox = for_paths(
        job.doc.folder, *(f.path.parent for f in job.theme.faces), allow_remote=job.options.allow_remote
    )
    return weasyprint.HTML(string=document_html, base_url=SOURCE_BASE, url_fetcher=_fetcher(sandbox))


_MARKED: weakref.WeakKeyDictionary[Document, str] = weakref.WeakKeyDictionary()


def marked_body(doc: Document) -> str:
    """The shared body with an id on every block (the EPUB reads the same text), made once."""
    if doc not in _MARKED:
        _MARKED[doc] = epub_pages.mark_blocks(html.body(doc))
    return _MARKED[doc]


def _options(job: Job) -> dict[str, object]:
    variant = job.options.pdf_variant or DEFAULT_VARIANT
    # PDF/X is our own step after the layout; the layout itself stays tagged PDF/UA.
    return {"pdf_variant": DEFAULT_VARIANT if variant in pdf_x.VARIANTS else variant, "pdf_tags": True}


def lay_out(job: Job, document_html: str):  # type: ignore[no-untyped-def]
    """WeasyPrint's layout of `document_html` and its page map; the temporary ids leave the layout.

    Without them the PDF has the named destinations, and so the bytes, of a layout without marks.
    """
    document = _weasy_html(job, document_html).render(**_options(job))
    first: PageMap = {}
    for number, page in enumerate(document.pages, start=1):
        for ident in page.anchors:
            first.setdefault(ident, number)
        for ident in [i for i in page.anchors if epub_pages.is_mark(i)]:
            del page.anchors[ident]
    return document, first


def render(
    job: Job, document_html: str, pages: Callable[[PageMap], None] | None = None
) -> tuple[bytes, list[str]]:
    """Lay out `document_html` once; hand its page map to `pages`; return the PDF and WeasyPrint's warnings."""
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    variant = job.options.pdf_variant or DEFAULT_VARIANT
    try:
        document, first = lay_out(job, document_html)
        if pages is not None:
            pages(first)
        with pdf_scripts.tagging():
            data = document.write_pdf(**_options(job))
        # WeasyPrint's structure tree mended for PDF/UA: links, page furniture, notes, formulas
        data = pdf_tags.tag(
            data, formulas=pdf_tags.formulas_of(document_html), notes=pdf_tags.notes_of(document_html))
        data = pdf_scripts.map_every_glyph(data, document_html)  # shaped scripts: every glyph has Unicode
    finally:
        logger.removeHandler(collector)
    if variant in pdf_x.VARIANTS:
        data = pdf_x.conform(data, variant, pdf_x.condition_for(job.doc.source, job.options.root))
    return data, collector.messages


def write(job: Job, pages: Callable[[PageMap], None] | None = None) -> Rendered:
    """The PDF; `pages` gets the page map as soon as the layout is done (before the PDF is written)."""
    if job.doc.book is not None:  # a book: its chapters laid out apart, then joined (no page map sent)
        from ..book import print as book_print

        return book_print.write(job)
    document_html = print_html(job)
    text = lhtml.document_fromstring(document_html).find("body").text_content()
    missing = glyphs.missing(text, job.theme, job.doc.source)
    data, messages = render(job, document_html, pages)
    warnings = tuple(diagnostic(m, job) for m in messages)
    return Rendered(data, (*missing, *warnings))


def page_map(job: Job) -> PageMap:
    """The print page of every element id, laid out as write() lays it out (for an EPUB without a PDF)."""
    return lay_out(job, print_html(job))[1]


_QUOTED = re.compile(r"'([^']+)'")
_EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception): ")


def diagnostic(message: str, job: Job) -> Diagnostic:
    """A WeasyPrint problem as our warning, on the source line of the address it names, if any."""
    message = message.replace(SOURCE_BASE, job.doc.folder.as_uri() + "/")
    quoted = _QUOTED.search(message)
    line = job.doc.source.line_of(quoted[1]) if quoted else None
    if quoted and line is None and quoted[1].startswith(job.doc.folder.as_uri() + "/"):
        # A file in the source's folder: the source names it relative to the folder.
        line = job.doc.source.line_of(unquote(quoted[1][len(job.doc.folder.as_uri()) + 1:]))
    return Diagnostic(f"PDF: {_EXCEPTION_NAME.sub('', message)}", job.doc.source.path, line, "weasyprint", "warning")


def page_count(job: Job) -> int:
    """How many pages the print layout of this job has (what a cover's spine is sized from)."""
    return len(lay_out(job, print_html(job))[0].pages)
