"""The EPUB as the page shows it: its reading order, and its files looked up by exact name."""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass

from lxml import etree

_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "x": "http://www.w3.org/1999/xhtml",
}


@dataclass(frozen=True)
class Chapter:
    """One document of the spine: its title and its name inside the EPUB."""

    title: str
    name: str


def chapters(data: bytes) -> list[Chapter]:
    """The spine's documents in reading order, each titled by its own <title>."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        container = etree.fromstring(book.read("META-INF/container.xml"))
        opf_name = container.xpath("string(//c:rootfile/@full-path)", namespaces=_NS)
        opf = etree.fromstring(book.read(opf_name))
        folder = posixpath.dirname(opf_name)
        hrefs = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:manifest/opf:item", _NS)}
        found = []
        for ref in opf.iterfind(".//opf:spine/opf:itemref", _NS):
            href = hrefs.get(ref.get("idref"))
            if not href:
                continue
            name = posixpath.join(folder, href)
            try:
                page = etree.fromstring(book.read(name))
                title = page.xpath("string(//x:title)", namespaces=_NS).strip()
            except (KeyError, etree.XMLSyntaxError):
                title = ""
            found.append(Chapter(title or posixpath.basename(href), name))
        return found


def entry(data: bytes, name: str) -> bytes | None:
    """The file stored under exactly `name` in the EPUB, or None (so no path can leave the book)."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        if name not in book.namelist() or name.endswith("/"):
            return None
        return book.read(name)
