"""The DOCX reference document, generated from the theme's tokens (never edited by hand)."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document as open_docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor

from . import Theme

_REFERENCE: dict[tuple[Path, str], bytes] = {}


def _rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour.lstrip("#").upper())


def _font(style, family: str, size: float | None = None, colour: str | None = None) -> None:  # type: ignore[no-untyped-def]
    font = style.font
    font.name = family
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), family)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(attr), None)
    if size is not None:
        font.size = Pt(size)
    if colour is not None:
        font.color.rgb = _rgb(colour)
        font.color.theme_color = None


def _style(doc, name: str, kind=WD_STYLE_TYPE.PARAGRAPH, based_on: str | None = None):  # type: ignore[no-untyped-def]
    by_name = {s.name: s for s in doc.styles}
    if name in by_name:
        return by_name[name]
    style = doc.styles.add_style(name, kind)
    if based_on:
        style.base_style = by_name[based_on]
    return style


def reference_docx(theme: Theme, lang: str, pandoc_default: bytes) -> bytes:
    """pandoc's own reference document with every style pandoc uses set from the theme."""
    key = (theme.path, lang)
    if key in _REFERENCE:
        return _REFERENCE[key]
    t = theme.tokens
    doc = open_docx(io.BytesIO(pandoc_default))
    base = t["type.base-size"]
    body, heading = t["fonts.body.family"], t["fonts.heading.family"]

    normal = _style(doc, "Normal")
    _font(normal, body, base, t["colours.text"])
    rpr = normal.element.get_or_add_rPr()
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang_el)
    lang_el.set(qn("w:val"), lang)
    normal.paragraph_format.line_spacing = t["type.line-height"]

    for name in ("Body Text", "First Paragraph", "Compact"):
        style = _style(doc, name, based_on="Normal")
        style.paragraph_format.space_after = Pt(base * t["paragraph.space-after"])
        style.paragraph_format.space_before = Pt(0)
    _style(doc, "Body Text").paragraph_format.first_line_indent = Pt(base * t["paragraph.first-line-indent"])
    _style(doc, "First Paragraph").paragraph_format.first_line_indent = Pt(0)

    for level in range(1, 7):
        style = _style(doc, f"Heading {level}", based_on="Normal")
        _font(style, heading, theme.heading_pt(level), t["colours.text"])
        style.font.bold = t["headings.weight"] >= 600
        style.paragraph_format.space_before = Pt(base * t["headings.space-before"])
        style.paragraph_format.space_after = Pt(base * t["headings.space-after"])
        style.paragraph_format.keep_with_next = True
    for name, size in (("Title", theme.heading_pt(1) * t["type.scale"]), ("Subtitle", theme.heading_pt(2))):
        _font(_style(doc, name, based_on="Normal"), heading, size, t["colours.text"])
    for name in ("Author", "Date", "Abstract"):
        _font(_style(doc, name, based_on="Normal"), heading, base, t["colours.muted"])

    quote = _style(doc, "Block Text", based_on="Body Text")
    quote.paragraph_format.left_indent = Pt(base * t["blockquote.indent"])
    quote.paragraph_format.right_indent = Pt(base * t["blockquote.indent"])
    quote.paragraph_format.first_line_indent = Pt(0)
    quote.font.italic = t["blockquote.style"] == "italic"

    bib = _style(doc, "Bibliography", based_on="Normal")
    bib.paragraph_format.left_indent = Pt(base * t["bibliography.hanging-indent"])
    bib.paragraph_format.first_line_indent = Pt(-base * t["bibliography.hanging-indent"])
    bib.paragraph_format.space_after = Pt(base * t["bibliography.space-after"])

    small = round(base * t["type.small"], 1)
    for name in ("Footnote Text", "Caption", "Image Caption", "Table Caption"):
        _font(_style(doc, name, based_on="Normal"), body, small, t["colours.muted"] if "Caption" in name else None)
    _font(_style(doc, "Source Code", based_on="Normal"), t["fonts.mono.family"], small)
    link = _style(doc, "Hyperlink", WD_STYLE_TYPE.CHARACTER)
    link.font.color.rgb = _rgb(t["colours.link"])
    _style(doc, "Footnote Reference", WD_STYLE_TYPE.CHARACTER).font.superscript = True

    width, height = theme.page_mm
    for section in doc.sections:
        section.page_width, section.page_height = Mm(width), Mm(height)
        section.top_margin, section.bottom_margin = Mm(t["page.margin-top"]), Mm(t["page.margin-bottom"])
        section.left_margin, section.right_margin = Mm(t["page.margin-inner"]), Mm(t["page.margin-outer"])
        section.gutter = Emu(0)
    out = io.BytesIO()
    doc.save(out)
    _REFERENCE[key] = out.getvalue()
    return _REFERENCE[key]
