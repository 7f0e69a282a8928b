"""A book's print PDF: its pieces laid out apart (in parallel), then the front matter, the furniture, the join."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree
from lxml import html as lhtml

from .. import glyphs, xhtml
from ..theme import TEMPLATES, render
from ..transforms.math import print_math
from ..writers import Job, Rendered, epub_pages, html, pdf, pdf_join, pdf_scripts, pdf_tags, pdf_x
from ..writers import print_html as printing
from ..writers.epub_pages import _BLOCKS
from ..xhtml import q
from . import furniture, layout, parts

_NO_HEADS = {"dsr-half-title", "dsr-title-page", "dsr-copyright"}  # pages without folio or running head


def marked_body(job: Job) -> str:
    """The shared HTML with an id on every block, exactly as the EPUB measures its page breaks."""
    body = xhtml.parse_fragment(html.body(job.doc))
    mark_pieces(body)
    return epub_pages.to_html(body)


def mark_pieces(body: etree._Element) -> None:
    """An id on every block, numbered within its piece (and each note within its note), so a change in
    one chapter leaves the HTML of the others as it was. The ids carry the EPUB's temporary prefix."""
    piece, number = 0, 0
    for top in body:
        classes = top.get("class", "").split()
        if top.tag == q("section") and {"chapter", "part", "backmatter"} & set(classes):
            piece, number = piece + 1, 0
        if top.tag == q("section") and top.get("id") == "footnotes":
            for note in top.iter(q("li")):
                for n, el in enumerate((e for e in note.iter(*_BLOCKS) if e is not note and not e.get("id")), 1):
                    el.set("id", f"{epub_pages.BLOCK_ID_PREFIX}{note.get('id', '')}-{n}")
            continue
        for el in top.iter(*_BLOCKS):
            if not el.get("id"):
                number += 1
                el.set("id", f"{epub_pages.BLOCK_ID_PREFIX}{piece}-{number}")


@dataclass
class Plan:
    """The pieces of the book and their HTML documents, ready to lay out."""

    cut: parts.Cut
    requests: list[layout.Request]
    css: str


def plan(job: Job, body_html: str) -> Plan:
    cut = parts.cut(printing.prepare(print_math(body_html)))
    known = set().union(*(p.ids for p in cut.pieces)) if cut.pieces else set()
    css = book_css(job)
    requests = []
    for piece in cut.pieces:
        parts.cross_link(piece.elements, piece.ids, known)
        reset = f"html {{ counter-reset: footnote {piece.notes_before}; }}"
        requests.append(layout.Request(page(job, reset, piece.html(), f"print book {piece.kind}"), css))
    return Plan(cut, requests, css)


def book_css(job: Job) -> str:
    theme = pdf.page_theme(job)
    extra = "\n" + pdf._CROP_MARKS if job.options.crop_marks else ""
    return theme.css("print") + "\n" + render(TEMPLATES / "book.css", theme, lambda f: f.path.as_uri()) + extra


def page(job: Job, css: str, body_html: str, body_class: str) -> str:
    """A complete print HTML document for one piece (no title block: the front matter has the title page)."""
    stamp = datetime.fromtimestamp(job.options.build_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    dates = (f'<meta name="dcterms.created" content="{stamp}"/>\n<meta name="dcterms.modified" content="{stamp}"/>\n'
             '<meta name="generator" content="dsr-export"/>\n')
    document = html.page(job.doc, css, body_html, body_class)
    document = document.replace(html.title_block(job.doc) + "\n", "", 1)
    return document.replace("</head>", dates + "</head>", 1)


def page_map(job: Job, body: etree._Element) -> dict[str, int]:
    """The print page (the body's own numbers, from 1) on which each block of the pieces first appears.

    Marks the blocks of `body` (the EPUB's parse of the shared HTML) as the PDF's pieces are marked.
    """
    mark_pieces(body)
    book = plan(job, epub_pages.to_html(body))
    laid = layout.lay_out(job, book.requests)
    first: dict[str, int] = {}
    number = 1
    for n, piece in enumerate(laid):
        for k, ids in enumerate(piece.anchors):
            for ident in ids:
                first.setdefault(ident, number + k)
        number += piece.count + _blank_after(laid, n)
    return first


def _blank_after(laid: list[layout.Laid], n: int) -> int:
    """1 when a blank verso must follow piece `n` so the next one opens on a recto."""
    return int(n + 1 < len(laid) and laid[n].count % 2 == 1)


def write(job: Job) -> Rendered:
    doc = job.doc
    book = plan(job, marked_body(job))
    laid = layout.lay_out(job, book.requests)
    pieces = book.cut.pieces
    starts, number = [], 1
    for n, piece in enumerate(laid):
        starts.append(number)
        number += piece.count + _blank_after(laid, n)
    entries = [("chapter" if p.part is not None else p.kind, p.ident, p.title, str(starts[n]))
               for n, p in enumerate(pieces) if p.title]
    contents = parts.contents("Contents", entries)
    front_body = parts.front_pieces(doc, contents, book.cut.front)
    front_request = layout.Request(page(job, "", front_body, "print book front"), book.css)
    (front,) = layout.lay_out(job, [front_request])
    front_blank = front.count % 2 == 1

    front_titles = {i: "" for i in _NO_HEADS} | {"contents": "Contents"}
    for el in book.cut.front:
        heading = el.find("h1")
        if el.get("id") and heading is not None:
            front_titles[el.get("id")] = " ".join(heading.text_content().split())
    heads, stamped = _furniture(doc.meta.title, front, front_blank, front_titles, pieces, laid)
    overlay_css = furniture.css(pdf.page_theme(job).css("print"), pdf.BLEED_MM if job.options.crop_marks else None)
    overlay_request = layout.Request(page(job, "", furniture.body(heads), "furniture"), overlay_css, tagged=False)
    (overlay,) = layout.lay_out(job, [overlay_request])
    layout.prune(job, [*book.requests, front_request, overlay_request])

    joined = [pdf_join.Part(front.pdf, front_blank)]
    for n, piece in enumerate(pieces):
        parent = None if piece.part is None else piece.part + 1
        joined.append(pdf_join.Part(laid[n].pdf, bool(_blank_after(laid, n)), parent))
    body_start = front.count + int(front_blank)
    data = pdf_join.join(joined, [(0, "r"), (body_start, "D")], overlay.pdf, stamped,
                         keep_name=lambda name: not name.startswith(epub_pages.BLOCK_ID_PREFIX))
    # The joined book is mended for PDF/UA (and made PDF/X) as the writer does a single layout.
    every = front_request.html + "".join(r.html for r in book.requests)
    data = pdf_tags.tag(data, formulas=pdf_tags.formulas_of(every), notes=pdf_tags.notes_of(every))
    data = pdf_scripts.map_every_glyph(data, every)
    variant = job.options.pdf_variant or pdf.DEFAULT_VARIANT
    if variant in pdf_x.VARIANTS:
        data = pdf_x.conform(data, variant, pdf_x.condition_for(doc.source))
    text = " ".join(lhtml.document_fromstring(r.html).find("body").text_content() for r in book.requests)
    missing = glyphs.missing(text, job.theme, doc.source)
    messages = dict.fromkeys(m for item in (front, *laid) for m in item.warnings)
    found = (*missing, *(pdf._diagnostic(m, job) for m in messages))
    return Rendered(data, tuple(doc.book.diagnostic(d) for d in found))


def _furniture(title: str, front: layout.Laid, front_blank: bool, front_titles: dict[str, str],
               pieces: list[parts.Piece], laid: list[layout.Laid]) -> tuple[list[tuple[str, str]], list[bool]]:
    """(running head, folio) for every page of the joined book, and which pages carry any.

    Blank pages, the pages of the half-title, title and copyright, and the first page of each piece
    carry neither; versos show the book's title, rectos the title of the piece.
    """
    heads: list[tuple[str, str]] = []
    current = ""
    seen: set[str] = set()
    for k, ids in enumerate(front.anchors):
        opened = [i for i in ids if i in front_titles and i not in seen]
        seen.update(opened)
        if opened:
            current = opened[-1]
        if front.blank[k] or opened or current in _NO_HEADS or not current:
            heads.append(("", ""))
        else:
            heads.append((title if len(heads) % 2 else front_titles[current], furniture.roman(k + 1)))
    if front_blank:
        heads.append(("", ""))
    number = 1
    for n, (piece, done) in enumerate(zip(pieces, laid, strict=True)):
        for k in range(done.count):
            if k == 0 or piece.kind == "part" or done.blank[k]:
                heads.append(("", ""))
            else:
                heads.append((title if len(heads) % 2 else piece.title, str(number + k)))
        number += done.count
        if _blank_after(laid, n):
            heads.append(("", ""))
            number += 1
    return heads, [bool(h or f) for h, f in heads]
