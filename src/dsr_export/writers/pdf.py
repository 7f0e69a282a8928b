"""PDF: the print HTML laid out by WeasyPrint."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from lxml import html as lhtml

from .. import glyphs
from ..errors import Diagnostic
from ..sandbox import Sandbox, for_paths
from ..theme import Theme
from ..transforms.math import print_math
from . import Job, Rendered, html, pdf_scripts, pdf_tags, pdf_x
from . import print_html as printing

NAME = "pdf"
SUFFIX = ".pdf"
MEDIA_TYPE = "application/pdf"
DEFAULT_VARIANT = "pdf/ua-1"
BLEED_MM = 3
# Crop marks sit in the bleed and beyond it; WeasyPrint draws them when `marks` is set.
_CROP_MARKS = f"@page {{ marks: crop cross; bleed: {BLEED_MM}mm; }}"


def page_theme(job: Job) -> Theme:
    """The theme with the page size asked for on the command line, if any."""
    if not job.options.page_size:
        return job.theme
    return dataclasses.replace(job.theme, tokens={**job.theme.tokens, "page.size": job.options.page_size})


def print_html(job: Job, body_html: str | None = None) -> str:
    """The HTML WeasyPrint lays out: the shared page with the print stylesheet and dates.

    `body_html` replaces the document body (the EPUB gives one with an id on every block).
    """
    stamp = datetime.fromtimestamp(job.options.build_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    dates = (
        f'<meta name="dcterms.created" content="{stamp}"/>\n'
        f'<meta name="dcterms.modified" content="{stamp}"/>\n'
        f'<meta name="generator" content="dsr-export"/>\n'
    )
    css = page_theme(job).css("print") + ("\n" + _CROP_MARKS if job.options.crop_marks else "")
    source = html.body(job.doc) if body_html is None else body_html
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


def render(job: Job, document_html: str) -> tuple[bytes, list[str]]:
    """Lay out `document_html`; return the PDF and WeasyPrint's warnings."""
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        document = _weasy_html(job, document_html)
        variant = job.options.pdf_variant or DEFAULT_VARIANT
        # PDF/X is our own step after the layout; the layout itself stays tagged PDF/UA.
        with pdf_scripts.tagging():
            data = document.write_pdf(pdf_variant=DEFAULT_VARIANT if variant in pdf_x.VARIANTS else variant,
                                      pdf_tags=True)
        # WeasyPrint's structure tree mended for PDF/UA: links, page furniture, notes, formulas
        data = pdf_tags.tag(
            data, formulas=pdf_tags.formulas_of(document_html), notes=pdf_tags.notes_of(document_html))
        data = pdf_scripts.map_every_glyph(data, document_html)  # shaped scripts: every glyph has Unicode
    finally:
        logger.removeHandler(collector)
    if variant in pdf_x.VARIANTS:
        data = pdf_x.conform(data, variant, pdf_x.condition_for(job.doc.source, job.options.root))
    return data, collector.messages


def write(job: Job) -> Rendered:
    if job.doc.book is not None:  # a book: its chapters laid out apart, then joined
        from ..book import print as book_print

        return book_print.write(job)
    document_html = print_html(job)
    text = lhtml.document_fromstring(document_html).find("body").text_content()
    missing = glyphs.missing(text, job.theme, job.doc.source)
    data, messages = render(job, document_html)
    warnings = tuple(diagnostic(m, job) for m in messages)
    return Rendered(data, (*missing, *warnings))


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
    return len(_weasy_html(job, print_html(job)).render().pages)


def page_of_ids(job: Job, document_html: str) -> dict[str, int]:
    """The print page (from 1) on which each element id first appears, laid out as write() lays it out.

    Ids do not change the layout, so the pages are those of the PDF of the same build.
    """
    layout = _weasy_html(job, document_html).render()
    first: dict[str, int] = {}
    for number, page in enumerate(layout.pages, start=1):
        for ident in page.anchors:
            first.setdefault(ident, number)
    return first
