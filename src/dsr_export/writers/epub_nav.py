"""The EPUB's navigation: the heading tree, landmarks and page list (nav document), and the NCX tree."""

from __future__ import annotations

import re

from ebooklib import epub
from lxml import etree

from ..xhtml import EPUB, q
from .epub_chapters import Chapter

# NCX ids are XML names without colons; hrefs may hold ":" (pandoc ids like "fig:map"), "#" and ".".
_NOT_NCNAME = re.compile(r"[^A-Za-z0-9_-]")


def toc_list(chapters: list[Chapter]) -> etree._Element:
    """Nested <ol> of every heading, in reading order."""
    root = etree.Element(q("ol"))
    stack: list[tuple[int, etree._Element]] = [(0, root)]
    for chapter in chapters:
        entries = chapter.headings or [(1, "", chapter.title)]
        for level, ident, text in entries:
            while len(stack) > 1 and stack[-1][0] >= level:
                stack.pop()
            parent = stack[-1][1]
            if parent.tag == q("li"):
                nested = parent.find(q("ol"))
                parent = nested if nested is not None else etree.SubElement(parent, q("ol"))
            li = etree.SubElement(parent, q("li"))
            link = etree.SubElement(li, q("a"), href=chapter.file + (f"#{ident}" if ident else ""))
            link.text = text
            stack.append((level, li))
    return root


def ncx_tree(ol: etree._Element) -> list[object]:
    """The same tree for ebooklib's NCX: links, and (section, children) pairs."""
    entries: list[object] = []
    for li in ol.findall(q("li")):
        a, nested = li.find(q("a")), li.find(q("ol"))
        href, title = a.get("href"), a.text or ""
        if nested is None:
            entries.append(epub.Link(href, title, "toc-" + _NOT_NCNAME.sub("-", href)))
        else:
            entries.append((epub.Section(title, href), ncx_tree(nested)))
    return entries


def nav_elements(toc: etree._Element, landmarks: list[tuple[str, str, str]],
                 page_list: etree._Element | None) -> list[etree._Element]:
    """The <nav> elements of the navigation document."""
    toc_nav = etree.Element(q("nav"), {q("type", EPUB): "toc", "id": "toc", "role": "doc-toc"})
    etree.SubElement(toc_nav, q("h1")).text = "Contents"
    toc_nav.append(toc)
    marks = etree.Element(q("nav"), {q("type", EPUB): "landmarks", "id": "landmarks", "hidden": "hidden"})
    etree.SubElement(marks, q("h2")).text = "Landmarks"
    ol = etree.SubElement(marks, q("ol"))
    for kind, href, text in landmarks:
        link = etree.SubElement(etree.SubElement(ol, q("li")), q("a"), {q("type", EPUB): kind, "href": href})
        link.text = text
    return [toc_nav, marks] + ([page_list] if page_list is not None else [])
