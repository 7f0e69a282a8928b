"""The EPUB's content documents: the body split per top-level section, notes moved, links rewritten."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ..xhtml import EPUB, q

_HEADINGS = tuple(q(f"h{n}") for n in range(1, 7))


@dataclass
class Chapter:
    """One XHTML file of the book."""

    file: str
    title: str
    elements: list[etree._Element]
    epub_type: str = ""
    headings: list[tuple[int, str, str]] = field(default_factory=list)  # (level, id, text)


def text_of(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())


def split(body: etree._Element, doc_title: str) -> tuple[list[Chapter], etree._Element | None]:
    """One chapter per top-level section; loose content before the first one opens the book.

    Returns the chapters and pandoc's end-of-document notes section, if any (see `place_notes`).
    """
    chapters: list[Chapter] = []
    notes: etree._Element | None = None
    opening = Chapter("text-opening.xhtml", doc_title, [])
    if body.text and body.text.strip():
        raise AssertionError("pandoc fragments start with an element")
    number = 0
    for el in list(body):
        if el.tag == q("section") and el.get("id") == "footnotes":
            notes = el
        elif el.tag == q("section") and el.find(f".//{q('div')}[@id='refs']") is not None:
            el.set(q("type", EPUB), "bibliography")
            el.set("role", "doc-bibliography")
            title = _heading_text(el) or "References"
            chapters.append(Chapter("references.xhtml", title, [el], "bibliography"))
        elif el.tag == q("section"):
            number += 1
            el.set(q("type", EPUB), "chapter")
            el.set("role", "doc-chapter")
            title = _heading_text(el) or f"Section {number}"
            chapters.append(Chapter(f"chapter-{number:02d}.xhtml", title, [el]))
        elif chapters:
            chapters[-1].elements.append(el)
        else:
            opening.elements.append(el)
    if opening.elements:
        chapters.insert(0, opening)
    for chapter in chapters:
        for element in chapter.elements:
            for h in element.iter(*_HEADINGS):
                target = h.getparent() if h.getparent().tag == q("section") else h
                if target.get("id"):
                    chapter.headings.append((int(h.tag[-1]), target.get("id"), text_of(h)))
    return chapters, notes


def _heading_text(section: etree._Element) -> str:
    for child in section:
        if child.tag in _HEADINGS:
            return text_of(child)
    return ""


def place_notes(chapters: list[Chapter], notes: etree._Element | None) -> set[str]:
    """Turn pandoc's endnotes into pop-up footnotes at the end of the chapter that calls them.

    Each note becomes `<aside epub:type="footnote" role="doc-footnote">` (number first,
    back-link kept); each call becomes `epub:type="noteref"`. Returns the notes' ids.
    """
    if notes is None or not chapters:
        return set()
    caller: dict[str, Chapter] = {}
    for chapter in chapters:
        for element in chapter.elements:
            for a in element.iter(q("a")):
                if a.get("role") == "doc-noteref" or "footnote-ref" in a.get("class", "").split():
                    a.set(q("type", EPUB), "noteref")
                    a.set("role", "doc-noteref")
                    caller.setdefault(a.get("href", "").lstrip("#"), chapter)
    ids: set[str] = set()
    items = notes.find(q("ol"))
    for number, li in enumerate(items if items is not None else [], start=1):
        ident = li.get("id", f"fn{number}")
        ids.add(ident)
        aside = etree.Element(q("aside"), {"id": ident, q("type", EPUB): "footnote", "role": "doc-footnote",
                                           "class": "footnote"})
        aside.text = li.text
        for child in list(li):
            aside.append(child)
        # The number opens the note's first paragraph, as it would at the foot of a page.
        first = aside[0] if len(aside) and aside[0].tag == q("p") else aside
        label = etree.Element(q("span"), {"class": "note-label"})
        label.text, label.tail = f"{number}.", " " + (first.text or "")
        first.text = None
        first.insert(0, label)
        chapter = caller.get(ident, chapters[-1])
        holder = chapter.elements[-1] if len(chapter.elements) == 1 else None
        if holder is not None and holder.tag == q("section"):
            holder.append(aside)
        else:
            chapter.elements.append(aside)
    return ids


def relink(chapters: list[Chapter]) -> None:
    """Point every "#id" link at the chapter file that now holds the id."""
    home: dict[str, str] = {}
    for chapter in chapters:
        for element in chapter.elements:
            for node in element.iter():
                if isinstance(node.tag, str) and node.get("id"):
                    home.setdefault(node.get("id"), chapter.file)
    for chapter in chapters:
        for element in chapter.elements:
            for a in element.iter(q("a")):
                href = a.get("href", "")
                if href.startswith("#") and href[1:] in home and home[href[1:]] != chapter.file:
                    a.set("href", f"{home[href[1:]]}{href}")
