"""HTML5 (as pandoc or an author writes it) -> namespaced, well-formed XHTML trees."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import tinyhtml5
from lxml import etree

XHTML = "http://www.w3.org/1999/xhtml"
MATHML = "http://www.w3.org/1998/Math/MathML"
SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
EPUB = "http://www.idpf.org/2007/ops"
XML = "http://www.w3.org/XML/1998/namespace"
XMLNS = "http://www.w3.org/2000/xmlns/"

_PREFIXED = {"epub": EPUB, "xml": XML, "xlink": XLINK}
_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
_ROOTS = {MATHML: "math", SVG: "svg"}
# Elements HTML5 made obsolete, which authors still write in Markdown (<font>, <center>): EPUB
# readers reject them, so each becomes a <span> (or <div>) keeping only its global attributes.
_OBSOLETE = {
    "acronym": "abbr", "basefont": "span", "big": "span", "blink": "span", "center": "div", "font": "span",
    "marquee": "span", "nobr": "span", "spacer": "span", "strike": "s", "tt": "code",
}
_GLOBAL = {"id", "class", "style", "lang", "title", "dir"}


def q(tag: str, ns: str = XHTML) -> str:
    """A Clark-notation name: q("p") -> "{http://www.w3.org/1999/xhtml}p"."""
    return f"{{{ns}}}{tag}"


def parse_fragment(markup: str) -> etree._Element:
    """Parse an HTML5 fragment with the HTML5 algorithm; return an XHTML <div> holding it."""
    tree = tinyhtml5.parse(f"<!DOCTYPE html><html><head></head><body>{markup}</body></html>")
    body = tree.find(q("body"))
    holder = etree.Element(q("div"), nsmap={None: XHTML, "epub": EPUB})
    if body is not None:
        holder.text = body.text
        for child in body:
            _copy(child, holder)
    return holder


def _copy(src: ET.Element, parent: etree._Element) -> None:
    tag = src.tag
    if not isinstance(tag, str):  # a comment: authors' comments are not content
        if parent.__len__():
            parent[-1].tail = (parent[-1].tail or "") + (src.tail or "")
        else:
            parent.text = (parent.text or "") + (src.tail or "")
        return
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else (XHTML, "", tag)
    obsolete = ns == XHTML and local in _OBSOLETE
    nsmap = {None: ns} if ns in _ROOTS and _ROOTS[ns] == local else None
    el = etree.SubElement(parent, q(_OBSOLETE[local] if obsolete else local, ns), nsmap=nsmap)
    for name, value in src.attrib.items():
        key = _attribute(name)
        if key and (not obsolete or key in _GLOBAL):
            el.set(key, _xml_text(value))
            if key == "lang":  # EPUB readers and Ace read the XML form of the language
                el.set(q("lang", XML), _xml_text(value))
    el.text = _xml_text(src.text)
    el.tail = _xml_text(src.tail)
    for child in src:
        _copy(child, el)


def _xml_text(text: str | None) -> str | None:
    """Text without the control characters XML forbids (a bibliography may still carry one)."""
    return _NOT_XML.sub("", text) if text else text


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _attribute(name: str) -> str | None:
    """An attribute name valid in XML, with epub:/xml:/xlink: prefixes mapped to namespaces."""
    if name.startswith("{"):
        # Namespace declarations (xmlns on <math>, <svg>) are made by the serialiser, never copied.
        return None if name.startswith(f"{{{XMLNS}}}") else name
    prefix, sep, local = name.partition(":")
    if sep:
        ns = _PREFIXED.get(prefix.lower())
        return f"{{{ns}}}{local}" if ns and _NAME.match(local) else None
    if name == "xmlns" or not _NAME.match(name):
        return None
    return name


def serialize(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


def document(title: str, lang: str, body: list[etree._Element], css: list[str], body_type: str = "") -> bytes:
    """A complete XHTML5 content document for an EPUB."""
    root = etree.Element(q("html"), nsmap={None: XHTML, "epub": EPUB})
    root.set("lang", lang)
    root.set(q("lang", XML), lang)
    head = etree.SubElement(root, q("head"))
    etree.SubElement(head, q("meta"), charset="utf-8")
    etree.SubElement(head, q("title")).text = title
    for href in css:
        etree.SubElement(head, q("link"), rel="stylesheet", type="text/css", href=href)
    body_el = etree.SubElement(root, q("body"))
    if body_type:
        body_el.set(q("type", EPUB), body_type)
    for el in body:
        body_el.append(el)
    return b"<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE html>\n" + etree.tostring(root, encoding="utf-8")
