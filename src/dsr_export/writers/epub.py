"""EPUB 3: the shared HTML split into chapter files, with print page numbers, packaged with ebooklib."""

from __future__ import annotations

import copy
import io
import mimetypes
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ebooklib import epub
from lxml import etree

from .. import xhtml
from ..sandbox import for_paths, read_bytes
from ..xhtml import XML, q
from . import Job, Rendered, epub_cover, epub_nav, epub_pages, font_subsets, html, pdf, zipped
from .epub_chapters import Chapter, place_notes, relink, split

NAME = "epub"
SUFFIX = ".epub"
MEDIA_TYPE = "application/epub+zip"
CSS_PATH = "style/book.css"
COVER_IMAGE = "images/cover.png"
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"


class _Prebuilt(epub.EpubHtml):
    """A content document whose XHTML we build ourselves (ebooklib would re-parse it as HTML)."""

    def __init__(self, data: bytes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data = data

    def get_content(self, default: object = None) -> bytes:
        return self.data


class _Writer(epub.EpubWriter):
    """ebooklib's writer, with the language on the package element too (Ace asks for it)."""

    def __init__(self, *args: Any, lang: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lang = lang

    def _write_opf_file(self, root: etree._Element) -> None:
        root.set(q("lang", XML), self.lang)
        super()._write_opf_file(root)


def identifier(job: Job) -> str:
    """The declared identifier, ISBN or DOI, else one derived from title and authors (never random)."""
    fm = job.doc.source.front_matter
    if job.doc.meta.identifier:
        return job.doc.meta.identifier
    for key, prefix in (("isbn", "urn:isbn:"), ("doi", "https://doi.org/")):
        value = fm.get(key)
        if isinstance(value, (str, int)) and str(value).strip():
            return prefix + str(value).strip().removeprefix(prefix)
    return job.doc.meta.uid


def print_edition(job: Job) -> str:
    """The identifier of the print (PDF) edition the page numbers come from."""
    value = job.doc.source.front_matter.get("print-isbn")
    if isinstance(value, (str, int)) and str(value).strip():
        return "urn:isbn:" + str(value).strip()
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, identifier(job) + "\nprint"))


def _pages(job: Job, body: etree._Element) -> Mapping[str, int]:
    """The print page of every block: the PDF's own layout when it is being made, else one of our own."""
    if job.doc.book is not None:  # a book's pages are those of its pieces, laid out apart
        from ..book import print as book_print

        return book_print.page_map(job, body)
    return job.print_pages() if job.print_pages is not None else pdf.page_map(job)


def _metadata(book: epub.EpubBook, job: Job, has_images: bool, has_pages: bool) -> None:
    meta = job.doc.meta
    book.set_identifier(identifier(job))
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

    def prop(name: str, value: str) -> None:
        book.add_metadata(None, "meta", value, {"property": name})

    modes = ["textual", "visual"] if has_images else ["textual"]
    for mode in modes:
        prop("schema:accessMode", mode)
    prop("schema:accessModeSufficient", "textual")  # every image has a text alternative
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if has_images:
        features.append("alternativeText")
    if has_pages:
        features += ["printPageNumbers", "pageNavigation"]
    for feature in features:
        prop("schema:accessibilityFeature", feature)
    prop("schema:accessibilityHazard", "none")
    summary = ("Text with headings, a table of contents, notes and references linked both ways; "
               "every image has a text alternative; nothing flashes, moves or plays sound.")
    if has_pages:
        summary += " Page numbers follow the print edition."
    prop("schema:accessibilitySummary", summary)
    prop("dcterms:conformsTo", CONFORMS_TO)
    if has_pages:
        prop("pageBreakSource", print_edition(job))


def _document(job: Job, title: str, elements: list[etree._Element], body_type: str = "") -> bytes:
    return xhtml.document(title, job.doc.meta.lang, elements, [CSS_PATH], body_type)


def _cover_page(job: Job) -> bytes:
    img = etree.Element(q("img"), {"src": COVER_IMAGE, "alt": epub_cover.alt_text(job.doc.meta)})
    figure = etree.Element(q("section"), {"class": "cover", q("type", xhtml.EPUB): "cover"})
    figure.append(img)
    return _document(job, job.doc.meta.title, [figure])


def _fonts(book: epub.EpubBook, job: Job) -> None:
    """The theme's font files (OFL/Apache: embedding allowed) and their licences, beside them."""
    for i, face in enumerate(job.theme.faces):
        kind = "font/otf" if face.path.suffix == ".otf" else "font/ttf"
        book.add_item(epub.EpubItem(uid=f"font-{i}", file_name=f"style/fonts/{face.path.name}",
                                    media_type=kind, content=face.path.read_bytes()))
    family_of = {face.path.parent: face.family.replace(" ", "") for face in job.theme.faces}
    for i, licence in enumerate(job.theme.licences):
        name = f"{licence.stem}-{family_of.get(licence.parent, i)}{licence.suffix or '.txt'}"
        book.add_item(epub.EpubItem(uid=f"font-licence-{i}", file_name=f"style/fonts/{name}",
                                    media_type="text/plain", content=licence.read_bytes()))


def build_book(job: Job) -> epub.EpubBook:
    doc, meta = job.doc, job.doc.meta
    # Everything that does not need the print pages comes first: in a parallel build the PDF's
    # layout, which gives them, is still running meanwhile. (A book's pieces are marked and laid
    # out by book/print.py, which marks this tree, so a book asks at once.)
    cover_png = epub_cover.png(meta, job.theme)
    body = xhtml.parse_fragment(html.body(doc) if doc.book is not None else pdf.marked_body(doc))
    first_page = _pages(job, body) if doc.book is not None else None
    chapters, notes = split(body, meta.title)
    if doc.book is not None:
        from ..book.formats import nest_parts

        nest_parts(chapters)
    note_ids = place_notes(chapters, notes)
    title_part = Chapter("titlepage.xhtml", meta.title, list(xhtml.parse_fragment(html.title_block(doc))))
    relink(chapters)
    pages = first_page if first_page is not None else _pages(job, body)
    placed = epub_pages.place_markers([title_part, *chapters], pages, note_ids)
    epub_pages.unmark_blocks(chapters)
    book = epub.EpubBook()
    # There is always an image, the cover; content images need alt text (the gate warns without).
    _metadata(book, job, has_images=True, has_pages=bool(placed))
    book.add_item(epub.EpubItem(uid="css", file_name=CSS_PATH, media_type="text/css",
                                content=job.theme.css("screen", font_url=lambda f: f"fonts/{f.path.name}")
                                .encode()))
    _fonts(book, job)
    book.add_item(epub.EpubCover(uid="cover-image", file_name=COVER_IMAGE))
    book.get_item_with_id("cover-image").content = cover_png
    book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})

    cover = _Prebuilt(_cover_page(job), uid="cover", file_name="cover.xhtml", title=meta.title)
    title = _Prebuilt(_document(job, meta.title, title_part.elements, "titlepage"), uid="titlepage",
                      file_name=title_part.file, title=meta.title)
    items = [cover, title]
    _images(book, job, chapters)
    for n, chapter in enumerate(chapters):
        data = _document(job, chapter.title, chapter.elements)
        item = _Prebuilt(data, uid=f"c{n:02d}", file_name=chapter.file, title=chapter.title)
        if xhtml.MATHML.encode() in data:
            item.properties.append("mathml")
        if b"<svg" in data:
            item.properties.append("svg")
        items.append(item)

    toc = epub_nav.toc_list(chapters)
    landmarks = [("cover", cover.file_name, "Cover"), ("titlepage", title.file_name, "Title page")]
    start = next((c for c in chapters if c.epub_type == ""), None)
    if start:
        landmarks.append(("bodymatter", start.file, "Start of text"))
    landmarks += [("bibliography", c.file, c.title) for c in chapters if c.epub_type == "bibliography"]
    page_list = epub_pages.page_list(placed) if placed else None
    navs = epub_nav.nav_elements(copy.deepcopy(toc), landmarks, page_list)
    nav = _Prebuilt(_document(job, "Contents", navs), uid="nav", file_name="nav.xhtml", title="Contents")
    nav.properties.append("nav")
    for item in (*items, nav):
        book.add_item(item)
    book.toc = epub_nav.ncx_tree(toc)
    book.add_item(epub.EpubNcx())
    book.spine = [cover, title, nav, *items[2:]]
    font_subsets.add_to_epub(book, job.theme, CSS_PATH)  # fallback faces for the scripts the text uses
    return book


def _images(book: epub.EpubBook, job: Job, chapters: list[Chapter]) -> None:
    """Local images the text shows, copied into the book under images/ and pointed at there."""
    sandbox = for_paths(job.doc.folder)
    seen: dict[str, str] = {}
    for chapter in chapters:
        for element in chapter.elements:
            for img in element.iter(q("img")):
                src = img.get("src", "")
                path = sandbox.local_file(src)
                if path is None:
                    continue
                if src not in seen:
                    seen[src] = f"images/figure-{len(seen) + 1}{path.suffix.lower()}"
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    book.add_item(epub.EpubItem(uid=f"figure-{len(seen)}", file_name=seen[src],
                                                media_type=kind, content=read_bytes(path, "image", image=True)))
                img.set("src", seen[src])


def write(job: Job) -> Rendered:
    book = build_book(job)
    buffer = io.BytesIO()
    when = datetime.fromtimestamp(job.options.build_time, UTC).replace(tzinfo=None)
    writer = _Writer(buffer, book, {"mtime": when, "epub3_pages": False, "raise_exceptions": True},
                     lang=job.doc.meta.lang)
    writer.process()
    writer.write()
    return Rendered(zipped.repack(buffer.getvalue(), job.options.build_time, first="mimetype"))
