"""EPUB 3: the shared HTML split into chapter files and packaged with ebooklib."""

from __future__ import annotations

import io
import mimetypes
import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ebooklib import epub
from lxml import etree

from .. import xhtml
from ..gate import is_remote, local_path
from ..xhtml import EPUB, q
from . import Job, Rendered, html, zipped

NAME = "epub"
SUFFIX = ".epub"
MEDIA_TYPE = "application/epub+zip"
CSS_PATH = "style/book.css"
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass
class Chapter:
    """One XHTML file of the book."""

    file: str
    title: str
    elements: list[etree._Element]
    epub_type: str = ""
    headings: list[tuple[int, str, str]] = field(default_factory=list)  # (level, id, text)


class _Prebuilt(epub.EpubHtml):
    """A content document whose XHTML we build ourselves (ebooklib would re-parse it as HTML)."""

    def __init__(self, data: bytes, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.data = data

    def get_content(self, default: object = None) -> bytes:
        return self.data


def _text(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())


def split(body: etree._Element, doc_title: str) -> list[Chapter]:
    """One chapter per top-level section; loose content before the first one opens the book."""
    chapters: list[Chapter] = []
    opening = Chapter("text-opening.xhtml", doc_title, [])
    if body.text and body.text.strip():
        raise AssertionError("pandoc fragments start with an element")
    number = 0
    for el in list(body):
        if el.tag == q("section") and el.get("id") == "footnotes":
            el.set(q("type", EPUB), "endnotes")
            chapters.append(Chapter("notes.xhtml", "Notes", [el], "endnotes"))
        elif el.tag == q("section") and el.find(f".//{q('div')}[@id='refs']") is not None:
            el.set(q("type", EPUB), "bibliography")
            el.set("role", "doc-bibliography")
            title = _heading_text(el) or "References"
            chapters.append(Chapter("references.xhtml", title, [el], "bibliography"))
        elif el.tag == q("section"):
            number += 1
            el.set(q("type", EPUB), "chapter")
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
            for h in element.iter(*(q(f"h{n}") for n in range(1, 7))):
                target = h.getparent() if h.getparent().tag == q("section") else h
                if target.get("id"):
                    chapter.headings.append((int(h.tag[-1]), target.get("id"), _text(h)))
    return chapters


def _heading_text(section: etree._Element) -> str:
    for child in section:
        if child.tag in {q(f"h{n}") for n in range(1, 7)}:
            return _text(child)
    return ""


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


def _title_page(job: Job) -> bytes:
    block = xhtml.parse_fragment(html.title_block(job.doc))
    return xhtml.document(job.doc.meta.title, job.doc.meta.lang, list(block), [CSS_PATH], "titlepage")


def _toc(chapters: list[Chapter]) -> etree._Element:
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
                parent = parent.find(q("ol")) if parent.find(q("ol")) is not None else etree.SubElement(parent, q("ol"))
            li = etree.SubElement(parent, q("li"))
            link = etree.SubElement(li, q("a"), href=chapter.file + (f"#{ident}" if ident else ""))
            link.text = text
            stack.append((level, li))
    return root


def _nav(job: Job, chapters: list[Chapter], title_file: str) -> bytes:
    """The navigation document: the whole heading tree, and landmarks."""
    toc = etree.Element(q("nav"), {q("type", EPUB): "toc", "id": "toc", "role": "doc-toc"})
    etree.SubElement(toc, q("h1")).text = "Contents"
    toc.append(_toc(chapters))
    marks = [("titlepage", title_file, "Title page")]
    body = next((c for c in chapters if c.epub_type == ""), None)
    if body:
        marks.append(("bodymatter", body.file, "Start of text"))
    marks += [(c.epub_type, c.file, c.title) for c in chapters if c.epub_type == "bibliography"]
    landmarks = etree.Element(q("nav"), {q("type", EPUB): "landmarks", "id": "landmarks", "hidden": "hidden"})
    etree.SubElement(landmarks, q("h2")).text = "Landmarks"
    ol = etree.SubElement(landmarks, q("ol"))
    for kind, href, text in marks:
        link = etree.SubElement(etree.SubElement(ol, q("li")), q("a"), {q("type", EPUB): kind, "href": href})
        link.text = text
    return xhtml.document(job.doc.meta.title, job.doc.meta.lang, [toc, landmarks], [CSS_PATH])


def _font_path(face) -> str:  # type: ignore[no-untyped-def]
    return f"fonts/{face.path.name}"


def build_book(job: Job) -> epub.EpubBook:
    doc, meta = job.doc, job.doc.meta
    book = epub.EpubBook()
    book.set_identifier(meta.uid)
    book.set_title(meta.title)
    book.set_language(meta.lang)
    for i, author in enumerate(meta.authors, start=1):
        book.add_author(author.name, role="aut", uid=f"creator-{i}")
        if author.orcid:  # the creator's ORCID iD, as a URL refining the creator
            book.add_metadata(None, "meta", f"https://orcid.org/{author.orcid}",
                              {"refines": f"#creator-{i}", "property": "dcterms:identifier"})
    if meta.publisher:
        book.add_metadata("DC", "publisher", meta.publisher)
    if meta.description:
        book.add_metadata("DC", "description", meta.description)
    if meta.rights:
        book.add_metadata("DC", "rights", meta.rights)
    if meta.iso_date:  # dates as people write them ("18. December 2020") read as ISO
        book.add_metadata("DC", "date", meta.iso_date)
    for keyword in meta.keywords:
        book.add_metadata("DC", "subject", keyword)

    book.add_item(epub.EpubItem(uid="css", file_name=CSS_PATH, media_type="text/css",
                                content=job.theme.css("screen", font_url=_font_path).encode()))
    for i, face in enumerate(job.theme.faces):
        kind = "font/otf" if face.path.suffix == ".otf" else "font/ttf"
        book.add_item(epub.EpubItem(uid=f"font-{i}", file_name=f"style/{_font_path(face)}", media_type=kind,
                                    content=face.path.read_bytes()))

    chapters = split(xhtml.parse_fragment(html.body(doc)), meta.title)
    relink(chapters)
    title = _Prebuilt(_title_page(job), uid="titlepage", file_name="titlepage.xhtml", title=meta.title)
    items = [title]
    for n, chapter in enumerate(chapters):
        data = xhtml.document(chapter.title, meta.lang, chapter.elements, [CSS_PATH])
        item = _Prebuilt(data, uid=f"c{n:02d}", file_name=chapter.file, title=chapter.title)
        if b"http://www.w3.org/1998/Math/MathML" in data:
            item.properties.append("mathml")
        if b"<svg" in data:
            item.properties.append("svg")
        items.append(item)
    _add_images(book, chapters, doc.folder)
    nav = _Prebuilt(_nav(job, chapters, title.file_name), uid="nav", file_name="nav.xhtml", title="Contents")
    nav.properties.append("nav")
    for item in (*items, nav):
        book.add_item(item)
    book.toc = [epub.Link(c.file, c.title, f"toc-{n}") for n, c in enumerate(chapters)]
    book.add_item(epub.EpubNcx())
    book.spine = [*items]
    return book


def _add_images(book: epub.EpubBook, chapters: list[Chapter], folder: Path) -> None:
    """Package every local image the chapters show, under the path they refer to it by."""
    added: set[str] = set()
    for chapter in chapters:
        for element in chapter.elements:
            for img in element.iter(q("img")):
                src = img.get("src", "")
                path = local_path(src, folder) if src and not is_remote(src) else None
                name = posixpath.normpath(unquote(urlsplit(src).path)) if path else ""
                if path is None or not path.is_file() or name in added or name.startswith(".."):
                    continue
                added.add(name)
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                book.add_item(epub.EpubItem(uid=f"img-{len(added)}", file_name=name, media_type=kind,
                                            content=path.read_bytes()))


def write(job: Job) -> Rendered:
    book = build_book(job)
    buffer = io.BytesIO()
    when = datetime.fromtimestamp(job.options.build_time, timezone.utc).replace(tzinfo=None)
    writer = epub.EpubWriter(buffer, book, {"mtime": when, "epub3_pages": False, "raise_exceptions": True})
    writer.process()
    writer.write()
    return Rendered(zipped.repack(buffer.getvalue(), job.options.build_time, first="mimetype"))
