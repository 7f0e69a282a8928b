"""The theme's fonts embedded in the DOCX (ECMA-376 Part 1, 17.8.1), so Word and LibreOffice show them."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

from lxml import etree

from ..theme import FontFace

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
FONT_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"
_EMBED = {(400, False): "embedRegular", (700, False): "embedBold", (400, True): "embedItalic",
          (700, True): "embedBoldItalic"}
# CT_Font's children come in this order; the embedded faces go after the ones that describe the family.
_BEFORE_EMBED = ("altName", "panose1", "charset", "family", "notTrueType", "pitch", "sig")


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


def font_key(data: bytes) -> str:
    """A GUID derived from the font's bytes: the same font gets the same key in every build."""
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_OID, hashlib.sha256(data).hexdigest())).upper() + "}"


def obfuscate(data: bytes, key: str) -> bytes:
    """XOR the first 32 bytes with the key's 16 bytes taken in reverse order (17.8.1); it is its own inverse."""
    guid = bytes.fromhex(key.strip("{}").replace("-", ""))
    head = bytes(b ^ guid[15 - i % 16] for i, b in enumerate(data[:32]))
    return head + data[32:]


def _font_element(table: etree._Element, family: str) -> etree._Element:
    for font in table.findall(_w("font")):
        if font.get(_w("name")) == family:
            return font
    font = etree.SubElement(table, _w("font"), {_w("name"): family})
    etree.SubElement(font, _w("charset"), {_w("val"): "00"})
    etree.SubElement(font, _w("pitch"), {_w("val"): "variable"})
    return font


def embed(parts: dict[str, bytes], faces: Iterable[FontFace]) -> None:
    """Add each TrueType face as word/fonts/fontN.odttf and name it in fontTable.xml (parts edited in place)."""
    faces = [f for f in faces if f.path.suffix.lower() == ".ttf" and (f.weight, f.italic) in _EMBED]
    if not faces or "word/fontTable.xml" not in parts:
        return
    table = etree.fromstring(parts["word/fontTable.xml"])
    rels_name = "word/_rels/fontTable.xml.rels"
    rels = (etree.fromstring(parts[rels_name]) if rels_name in parts
            else etree.Element(f"{{{RELS}}}Relationships", nsmap={None: RELS}))
    for number, face in enumerate(faces, start=1):
        data = face.path.read_bytes()
        key, rid, target = font_key(data), f"rIdFont{number}", f"fonts/font{number}.odttf"
        parts[f"word/{target}"] = obfuscate(data, key)
        etree.SubElement(rels, f"{{{RELS}}}Relationship", Id=rid, Type=FONT_REL, Target=target)
        font = _font_element(table, face.family)
        tag = _EMBED[(face.weight, face.italic)]
        for old in font.findall(_w(tag)):
            font.remove(old)
        entry = etree.Element(_w(tag), {f"{{{R}}}id": rid, _w("fontKey"): key})
        after = [c for c in font if etree.QName(c).localname in _BEFORE_EMBED or etree.QName(c).localname
                 in list(_EMBED.values())[: list(_EMBED.values()).index(tag)]]
        (after[-1].addnext(entry) if after else font.insert(0, entry))
    parts["word/fontTable.xml"] = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    _keep_embedding(parts)


def _keep_embedding(parts: dict[str, bytes]) -> None:
    """Ask Word to keep the fonts embedded when the editor saves (w:embedTrueTypeFonts, after w:zoom)."""
    name = "word/settings.xml"
    if name not in parts:
        return
    settings = etree.fromstring(parts[name])
    if settings.find(_w("embedTrueTypeFonts")) is not None:
        return
    flag = etree.Element(_w("embedTrueTypeFonts"))
    zoom = settings.find(_w("zoom"))
    (zoom.addnext(flag) if zoom is not None else settings.insert(0, flag))
    parts[name] = etree.tostring(settings, xml_declaration=True, encoding="UTF-8", standalone=True)
