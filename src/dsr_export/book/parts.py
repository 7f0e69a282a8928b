"""A book's print HTML cut into the parts laid out one by one: front matter, part pages, chapters, back matter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from lxml import html as lhtml

from ..document import Document

# Links from one laid-out part to an id in another carry this scheme until the join makes them internal.
CROSS = "dsr-book:"
_KINDS = ("chapter", "part", "backmatter")


@dataclass
class Piece:
    """One part of the book laid out on its own (a chapter, a part page, the back matter)."""

    kind: str  # "chapter", "part", "backmatter"
    ident: str
    title: str
    elements: list[lhtml.HtmlElement]
    notes_before: int = 0  # notes of the pieces before it: the print numbering runs on
    ids: set[str] = field(default_factory=set)
    part: int | None = None  # index of the part piece a chapter belongs to

    def html(self) -> str:
        return "".join(lhtml.tostring(e, encoding="unicode") for e in self.elements)


@dataclass
class Cut:
    """The front matter's own text (the master's body) and the pieces after it."""

    front: list[lhtml.HtmlElement]
    pieces: list[Piece]


def cut(prepared_body: str) -> Cut:
    """Split the print body (notes already at their calls) at each part, chapter and the back matter."""
    root = lhtml.fragment_fromstring(prepared_body, create_parent="div")
    front: list[lhtml.HtmlElement] = []
    pieces: list[Piece] = []
    part: int | None = None
    for el in list(root):
        classes = el.get("class", "").split()
        kind = next((k for k in _KINDS if el.tag == "section" and k in classes), None)
        if kind is not None:
            heading = el.find("h1")
            title = " ".join(heading.text_content().split()) if heading is not None else ""
            if kind == "part":
                part = len(pieces)
            elif kind == "backmatter":
                part = None
            pieces.append(Piece(kind, el.get("id", ""), title, [el], part=part if kind == "chapter" else None))
        elif pieces:
            pieces[-1].elements.append(el)
        else:
            front.append(el)
    notes = 0
    for piece in pieces:
        piece.notes_before = notes
        for el in piece.elements:
            notes += len(el.find_class("footnote"))
            piece.ids.update(n.get("id") for n in el.iter() if isinstance(n.tag, str) and n.get("id"))
    return Cut(front, pieces)


def cross_link(elements: list[lhtml.HtmlElement], own: set[str], known: set[str]) -> None:
    """Links to ids laid out in another piece keep their target under the cross-piece scheme."""
    for el in elements:
        for a in el.iter("a"):
            href = a.get("href", "")
            if href.startswith("#") and href[1:] not in own and href[1:] in known:
                a.set("href", CROSS + href[1:])


def front_pieces(doc: Document, contents: str, own: list[lhtml.HtmlElement]) -> str:
    """The front matter: half-title, title page, copyright page, contents, then the master's own text."""
    m, fm = doc.meta, doc.source.front_matter
    title = escape(m.title)
    parts = [f'<section id="dsr-half-title" class="half-title"><p>{title}</p></section>']
    page = [f'<h1 class="book-title">{title}</h1>']
    if m.subtitle:
        page.append(f'<p class="subtitle">{escape(m.subtitle)}</p>')
    page += [f'<p class="author">{escape(a.name)}</p>' for a in m.authors]
    if m.publisher:
        page.append(f'<p class="publisher">{escape(m.publisher)}</p>')
    parts.append('<section id="dsr-title-page" class="title-page">' + "".join(page) + "</section>")
    lines = [m.rights, _field(fm, "edition"), m.publisher and f"Published by {m.publisher}",
             _field(fm, "isbn") and f"ISBN {_field(fm, 'isbn')}", m.date]
    shown = [line for line in lines if line]
    if shown:
        paras = "".join(
            f'<p class="{"copyright-first" if i == 0 else "copyright"}">{escape(t)}</p>' for i, t in enumerate(shown)
        )
        parts.append(f'<section id="dsr-copyright" class="copyright-page">{paras}</section>')
    parts.append(contents)
    parts += [lhtml.tostring(e, encoding="unicode") for e in own]
    return "\n".join(parts)


def contents(title: str, entries: list[tuple[str, str, str, str]]) -> str:
    """The contents list: (kind, id, title, page label) per entry, each linked, its page after a leader."""
    items = []
    for kind, ident, text, page in entries:
        cls = {"part": "toc-part", "chapter": "toc-chapter"}.get(kind, "toc-top")
        href = ("#" if kind == "front" else CROSS) + escape(ident)
        items.append(f'<li class="{cls}"><a href="{href}" data-page="{escape(page)}">'
                     f"{escape(text)}</a></li>")
    return (f'<nav id="contents" class="contents book-contents" role="doc-toc"><h1 class="contents-title">'
            f'{escape(title)}</h1><ol>{"".join(items)}</ol></nav>')


def _field(fm: dict[str, object], key: str) -> str:
    value = fm.get(key)
    return re.sub(r"\s+", " ", str(value)).strip() if isinstance(value, (str, int, float)) else ""
