"""PDF: the print HTML laid out by WeasyPrint."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from ..errors import Diagnostic
from ..sandbox import Sandbox, for_paths
from . import Job, Rendered, html

NAME = "pdf"
SUFFIX = ".pdf"
MEDIA_TYPE = "application/pdf"
DEFAULT_VARIANT = "pdf/ua-1"


def print_html(job: Job) -> str:
    """The HTML WeasyPrint lays out: the shared page with the print stylesheet and dates."""
    stamp = datetime.fromtimestamp(job.options.build_time, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    dates = (
        f'<meta name="dcterms.created" content="{stamp}"/>\n'
        f'<meta name="dcterms.modified" content="{stamp}"/>\n'
        f'<meta name="generator" content="dsr-export"/>\n'
    )
    page = html.page(job.doc, job.theme.css("print"), html.body(job.doc), "print")
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
            reason = sandbox.refusal(url)
            if reason is not None:
                shown = url if len(url) <= 80 else url[:77] + "..."
                raise ValueError(f"refused to fetch {shown}: {reason}")
            return super().fetch(url, headers)

    return SandboxedFetcher(allowed_protocols=protocols, allow_redirects=sandbox.allow_remote)


def render(job: Job, document_html: str) -> tuple[bytes, list[str]]:
    """Lay out `document_html`; return the PDF and WeasyPrint's warnings."""
    import weasyprint

    sandbox = for_paths(
        job.doc.folder, *(f.path.parent for f in job.theme.faces), allow_remote=job.options.allow_remote
    )
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        document = weasyprint.HTML(
            string=document_html,
            base_url=job.doc.folder.as_uri() + "/",
            url_fetcher=_fetcher(sandbox),
        )
        data = document.write_pdf(pdf_variant=DEFAULT_VARIANT, pdf_tags=True)
    finally:
        logger.removeHandler(collector)
    return data, collector.messages


def write(job: Job) -> Rendered:
    data, messages = render(job, print_html(job))
    warnings = tuple(
        Diagnostic(f"PDF: {m}", job.doc.source.path, None, "weasyprint", "warning")
        for m in messages
    )
    return Rendered(data, warnings)
