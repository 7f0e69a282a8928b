"""Print page numbers in the EPUB: page-break markers placed where the PDF layout breaks pages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Protocol

from lxml import etree

from ..xhtml import EPUB, q

# Ids given to blocks only while the print layout is measured; removed from the EPUB afterwards.
BLOCK_ID_PREFIX = "dsr-block-"

# Elements that start a block of text on a page: candidates for carrying a page-break marker.
_BLOCKS = {
    q(t) for t in (
        "section", "div", "header", "aside", "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
        "figure", "table", "tr", "pre", "ol", "ul", "dl", "li", "dt", "dd",
    )
}
# Containers whose children must be of a given kind: a marker goes inside the child, not beside it.
_STRICT_PARENTS = {q(t) for t in ("ol", "ul", "dl", "table", "thead", "tbody", "tfoot", "tr", "hgroup")}
# Containers a marker may open: it goes in as their first child.
_OPENABLE = {q(t) for t in ("section", "div", "header", "aside", "blockquote", "figure", "li", "dd", "dt",
                            "td", "th")}


# HTML elements that never have content (serialised as <br/>; every other element gets an end tag).
_VOID = {q(t) for t in ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                        "track", "wbr")}


class Part(Protocol):
    """A content document in reading order: its file name and its top-level elements."""

    file: str
    elements: list[etree._Element]


# Block start tags in HTML text, and the stretches where a "<p" is text, not a tag (comments,
# CDATA, raw-text elements): marks go only on tags an HTML parser reads as elements.
_BLOCK_NAMES = frozenset(etree.QName(t).localname for t in _BLOCKS)
_TAGS = re.compile(
    r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)"
    r"|<(?P<raw>script|style|textarea|title|xmp|iframe|noembed|noframes|noscript)\b"
    r".*?(?:</(?P=raw)\s*>|\Z)"  # unclosed: raw text to the end, as a parser reads it
    r"|<plaintext\b.*"
    r"|<(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.DOTALL | re.IGNORECASE,
)
_HAS_ID = re.compile(r"\sid(?:\s*=|[\s/]|$)", re.IGNORECASE)


def mark_blocks(body_html: str) -> str:
    """`body_html` with a temporary id on every block start tag that has none, numbered in order.

    Marked in the text, before any parse, so the print layout (PDF) and the EPUB read
    the same ids: the PDF's page of each id is the EPUB's page of the same block.
    """
    number = 0

    def mark(match: re.Match[str]) -> str:
        nonlocal number
        name = match.group("name")
        if name is None or name.lower() not in _BLOCK_NAMES or _HAS_ID.search(match.group("attrs")):
            return match.group(0)
        number += 1
        return f'<{name} id="{BLOCK_ID_PREFIX}{number}"{match.group("attrs")}>'

    return _TAGS.sub(mark, body_html)


def is_mark(ident: str) -> bool:
    return ident.startswith(BLOCK_ID_PREFIX)


def unmark_blocks(parts: Iterable[Part]) -> None:
    for part in parts:
        for top in part.elements:
            for el in top.iter():
                if isinstance(el.tag, str) and el.get("id", "").startswith(BLOCK_ID_PREFIX):
                    del el.attrib["id"]


def to_html(root: etree._Element) -> str:
    """The children of `root` as HTML that an HTML5 parser reads back into the same tree."""
    copy = etree.fromstring(etree.tostring(root))
    for el in copy.iter():
        html_element = isinstance(el.tag, str) and el.tag.startswith(q("")) and el.tag not in _VOID
        if html_element and el.text is None and len(el) == 0:
            el.text = ""  # <span></span>, not <span/>, which HTML reads as an open tag
    text = copy.text or ""
    return text + "".join(etree.tostring(child, encoding="unicode") for child in copy)


def place_markers(parts: list[Part], first_page: Mapping[str, int], skip: set[str]) -> list[tuple[int, str]]:
    """Insert a page-break marker before the first block that starts on each print page.

    Walks the blocks in reading order; a page on which no block starts gets its marker
    beside the next one, so markers always run in page order. Blocks whose ids are in
    `skip` (notes, which print and EPUB place differently) are not used.
    Returns (page, file) for every marker, in order.
    """
    placed: list[tuple[int, str]] = []
    next_page = 1
    for part in parts:
        for top in list(part.elements):
            for el in list(top.iter(*_BLOCKS)):
                page = first_page.get(el.get("id", ""))
                if page is None or page < next_page or _inside(el, skip):
                    continue
                for number in range(next_page, page + 1):
                    _insert(part, el, marker(number))
                    placed.append((number, part.file))
                next_page = page + 1
    last = max(first_page.values(), default=0)
    if parts and next_page <= last:
        for number in range(next_page, last + 1):  # pages holding only notes or furniture
            parts[-1].elements.append(marker(number))
            placed.append((number, parts[-1].file))
    return placed


def _inside(el: etree._Element, skip: set[str]) -> bool:
    node: etree._Element | None = el
    while node is not None:
        if node.get("id") in skip:
            return True
        node = node.getparent()
    return False


def marker(number: int) -> etree._Element:
    span = etree.Element(q("span"), {q("type", EPUB): "pagebreak", "role": "doc-pagebreak",
                                     "id": f"page-{number}", "aria-label": str(number)})
    return span


def _insert(part: Part, el: etree._Element, span: etree._Element) -> None:
    """Put `span` just before `el`'s content, where the HTML content model allows a span."""
    if el.tag == q("tr"):  # a row holds only cells: the marker opens its first cell
        cells = [c for c in el if c.tag in (q("td"), q("th"))]
        if not cells:
            return
        el = cells[0]
    parent = el.getparent()
    if el.tag in _OPENABLE or (parent is not None and parent.tag in _STRICT_PARENTS):
        # Inside, after any markers already there, so several land in page order.
        at = 0
        while at < len(el) and el[at].get(q("type", EPUB)) == "pagebreak":
            at += 1
        if at == 0:
            span.tail, el.text = el.text, None
        else:
            span.tail, el[at - 1].tail = el[at - 1].tail, None
        el.insert(at, span)
    elif any(el is top for top in part.elements):
        part.elements.insert(next(i for i, top in enumerate(part.elements) if top is el), span)
    else:
        el.addprevious(span)


def page_list(placed: list[tuple[int, str]]) -> etree._Element:
    """The page-list navigation: one link per print page."""
    nav = etree.Element(q("nav"), {q("type", EPUB): "page-list", "id": "page-list", "hidden": "hidden"})
    etree.SubElement(nav, q("h2")).text = "Pages"
    ol = etree.SubElement(nav, q("ol"))
    for number, file in placed:
        link = etree.SubElement(etree.SubElement(ol, q("li")), q("a"), href=f"{file}#page-{number}")
        link.text = str(number)
    return nav
