"""The shared HTML made ready for pages: notes at their calls, breakable URLs, a contents list."""

from __future__ import annotations

import re
from html import escape

from lxml import etree
from lxml import html as lhtml

from .epub_pages import is_mark

# A web address or DOI as it appears in running text or a reference list.
_ADDRESS = re.compile(r"(?:https?://|www\.|doi:\s?|10\.\d{4,9}/)[^\s<>\"]+", re.IGNORECASE)
# Where a long address may break (after Chicago's rule): after "//" and ":", before a single
# slash and other punctuation, on either side of "=" and "&". Never inside "https://".
_BREAK_AFTER = re.compile(r"(?<=://)|(?<=[=&])(?=.)")
_BREAK_BEFORE = re.compile(r"(?<=[^/:])(?=[/.,\-_?#%~=&])")
_BLOCKS = {"p", "div", "blockquote", "ul", "ol", "li", "pre", "dl", "dt", "dd", "figure", "table"}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BREAK = "\u200b"  # zero-width space: a line may break here, nothing is drawn


def prepare(body_html: str, contents: bool = False, contents_title: str = "Contents") -> str:
    """`body_html` (pandoc's HTML5 fragment) rearranged for print.

    Each note moves to its call as a `span.footnote` (CSS floats it to the foot of the page),
    the collected notes section goes, long addresses get break opportunities, and with
    `contents` a linked table of contents opens the text.
    """
    root = lhtml.fragment_fromstring(body_html, create_parent="div")
    notes_to_calls(root)
    for node in list(root.iter()):
        if isinstance(node.tag, str) and node.tag not in ("pre", "code", "script", "style"):
            _break_addresses(node)
    parts = [lhtml.tostring(child, encoding="unicode") for child in root]
    if contents:
        # The contents follow the image credit, which belongs under the title.
        at = 1 if len(root) and root[0].get("id") == "image-credit" else 0
        parts.insert(at, table_of_contents(root, contents_title))
    return escape(root.text or "") + "".join(parts)


def notes_to_calls(root: etree._Element) -> None:
    """Replace each note call with the note itself; drop pandoc's end-of-document notes."""
    section = next(iter(root.xpath('.//section[@id="footnotes"]')), None)
    if section is None:
        return
    notes = {li.get("id"): li for li in section.iter("li") if li.get("id")}
    for call in root.xpath('.//a[contains(concat(" ", @class, " "), " footnote-ref ")]'):
        note = notes.get(call.get("href", "").lstrip("#"))
        if note is None:
            continue
        call.addprevious(_inline_note(note))
        _remove_keeping_tail(call)
    section.getparent().remove(section)


def _inline_note(note: etree._Element) -> etree._Element:
    """A note's content as phrasing content: paragraphs become block-displayed spans.

    A `<p>` inside the `<p>` of the call would be closed by the HTML parser, so every
    block is renamed to a span that the print stylesheet displays as a block.
    """
    for back in note.xpath('.//a[contains(concat(" ", @class, " "), " footnote-back ")]'):
        _remove_keeping_tail(back)
    span = etree.Element("span", {"class": "footnote", "id": note.get("id", "")})
    span.text = note.text
    for child in list(note):
        span.append(child)
    for el in span.iter():
        if isinstance(el.tag, str) and el.tag in _BLOCKS:
            el.set("class", " ".join(filter(None, [f"footnote-{el.tag}", el.get("class")])))
            el.tag = "span"
    # Whitespace between paragraphs would become stray spaces at line starts.
    for el in span.iter():
        if el.tail is not None and not el.tail.strip() and el is not span:
            el.tail = None
    return span


def _remove_keeping_tail(el: etree._Element) -> None:
    parent, tail = el.getparent(), el.tail or ""
    previous = el.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(el)


def _break_addresses(el: etree._Element) -> None:
    """Wrap each address in the text of `el` in a `span.address` with break opportunities.

    Only text is touched, never an href, so links still point at the address itself.
    """
    if el.text and _ADDRESS.search(el.text):
        before, spans = _wrap(el.text)
        el.text = before
        for i, span in enumerate(spans):
            el.insert(i, span)
    if el.tail and _ADDRESS.search(el.tail):
        before, spans = _wrap(el.tail)
        el.tail = before
        anchor = el
        for span in spans:
            anchor.addnext(span)
            anchor = span


def _wrap(text: str) -> tuple[str, list[etree._Element]]:
    """`text` as leading text plus one `span.address` per address (each followed by its tail)."""
    spans: list[etree._Element] = []
    before, start = "", 0
    for match in _ADDRESS.finditer(text):
        if spans:
            spans[-1].tail = text[start : match.start()]
        else:
            before = text[: match.start()]
        spans.append(_address(match.group()))
        start = match.end()
    spans[-1].tail = text[start:]
    return before, spans


def _address(address: str) -> etree._Element:
    """`span.address` holding `address` with a zero-width space at each break opportunity.

    The spaces go into the text itself: WeasyPrint does not break a line at the boundary
    of a <wbr> element's box, only inside a run of text.
    """
    cuts = sorted(
        {m.start() for m in _BREAK_AFTER.finditer(address)} | {m.start() for m in _BREAK_BEFORE.finditer(address)}
    )
    pieces, last = [], 0
    for cut in (c for c in cuts if 0 < c < len(address)):
        pieces.append(address[last:cut])
        last = cut
    pieces.append(address[last:])
    span = etree.Element("span", {"class": "address"})
    span.text = BREAK.join(pieces)
    return span


def table_of_contents(root: etree._Element, title: str) -> str:
    """A nested list of every heading, each entry linked; print.css adds the page numbers."""
    entries = []
    for heading in root.iter(*_HEADINGS):
        parent = heading.getparent()
        ident = parent.get("id") if parent is not None and parent.tag == "section" else heading.get("id")
        if ident and not is_mark(ident):  # a temporary id leaves the layout: nothing to link to
            entries.append((int(heading.tag[1]), ident, " ".join(heading.text_content().split())))
    if not entries:
        return ""
    out, depth = [], 0
    for level, ident, text in entries:
        level = min(level, depth + 1)  # a skipped level nests one step, not two
        if level > depth:
            out.append("<ol>" * (level - depth))
        else:
            out.append("</li>" + "</ol></li>" * (depth - level))
        depth = level
        out.append(f'<li><a href="#{escape(ident)}">{escape(text)}</a>')
    out.append("</li></ol>" * depth)
    return (
        f'<nav id="contents" class="contents" role="doc-toc">\n<h1 class="contents-title">{escape(title)}</h1>\n'
        + "".join(out)
        + "\n</nav>\n"
    )
