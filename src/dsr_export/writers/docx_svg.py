"""A PNG beside every SVG picture of the DOCX: editors without SVG support (LibreOffice 7, older Word) show it."""

from __future__ import annotations

import posixpath

from lxml import etree

A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SVG_BLIP = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
EMU_PER_INCH = 914400
DPI = 192  # twice a screen's resolution: sharp on screen and in a draft print


def png_of(svg: bytes, width_px: int) -> bytes | None:
    """The SVG drawn `width_px` wide by CairoSVG, or None when it cannot be drawn.

    CairoSVG's safe mode is kept: no XML entities, no file or network reads (only data: URLs).
    """
    import cairosvg

    try:
        return cairosvg.svg2png(bytestring=svg, output_width=width_px, unsafe=False)
    except Exception:  # noqa: BLE001 - CairoSVG raises many kinds for SVG it refuses or cannot read
        return None


def add_fallbacks(parts: dict[str, bytes]) -> None:
    """Give every `a:blip` that holds only an SVG (pandoc's way) a PNG as its main picture (parts edited in place)."""
    name, rels_name = "word/document.xml", "word/_rels/document.xml.rels"
    if name not in parts or rels_name not in parts or b"svgBlip" not in parts[name]:
        return
    document, rels = etree.fromstring(parts[name]), etree.fromstring(parts[rels_name])
    targets = {r.get("Id"): r.get("Target") for r in rels}
    added = 0
    for blip in document.iter(f"{{{A}}}blip"):
        svg_ref = next(blip.iter(f"{{{SVG_BLIP}}}svgBlip"), None)
        if blip.get(f"{{{R}}}embed") or svg_ref is None:
            continue
        target = targets.get(svg_ref.get(f"{{{R}}}embed", ""))
        svg = parts.get(posixpath.join("word", target)) if target else None
        png = png_of(svg, _width_px(blip)) if svg else None
        if png is None:
            continue
        added += 1
        png_target = posixpath.splitext(target)[0] + ".png"  # type: ignore[type-var]
        rid = f"rIdPng{added}"
        parts[posixpath.join("word", png_target)] = png
        etree.SubElement(rels, f"{{{RELS}}}Relationship", Id=rid, Type=IMAGE_REL, Target=png_target)
        blip.set(f"{{{R}}}embed", rid)
    if added:
        parts[name] = etree.tostring(document, xml_declaration=True, encoding="UTF-8", standalone=True)
        parts[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
        _png_type(parts)


def _width_px(blip: etree._Element) -> int:
    """The picture's width on the page (its a:ext, in EMU) at DPI pixels per inch."""
    node = blip
    while node is not None and etree.QName(node).localname != "pic":
        node = node.getparent()
    ext = node.find(f".//{{{A}}}xfrm/{{{A}}}ext") if node is not None else None
    emu = int(ext.get("cx")) if ext is not None and ext.get("cx", "").isdigit() else EMU_PER_INCH * 4
    return max(1, min(4000, round(emu / EMU_PER_INCH * DPI)))


def _png_type(parts: dict[str, bytes]) -> None:
    types = etree.fromstring(parts["[Content_Types].xml"])
    if not any(d.get("Extension", "").lower() == "png" for d in types.iter(f"{{{TYPES}}}Default")):
        etree.SubElement(types, f"{{{TYPES}}}Default", Extension="png", ContentType="image/png")
        parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
