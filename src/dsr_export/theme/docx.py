"""The DOCX reference document, generated from the theme's tokens (never edited by hand)."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document as open_docx
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor
from docx.styles.style import BaseStyle

from . import Theme
from .metrics import word_multiple

_REFERENCE: dict[tuple[Path, str], bytes] = {}
_ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
}

# The paragraph styles pandoc's Word writer uses, by the role their text plays.
BODY_STYLES = (
    "Normal",
    "Body Text",
    "First Paragraph",
    "Compact",
    "Block Text",
    "Bibliography",
    "Definition",
    "Definition Term",
    "Figure",
    "Captioned Figure",
)
TITLE_STYLES = ("Title", "Subtitle", "Author", "Publisher", "Date", "Abstract Title", "Abstract")
SMALL_STYLES = ("Footnote Text", "Footnote Block Text", "Caption", "Image Caption", "Table Caption")
CODE_STYLES = ("Source Code",)
# Front and back matter the document adds (by HTML class) -> the Word style it is set in.
MATTER_STYLES = {
    "image-credit": "Image Credit",
    "author-bio": "Author Note",
    "disclaimer": "Disclaimer",
}


def _rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour.lstrip("#").upper())


def _fonts_element(rpr):  # type: ignore[no-untyped-def]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    return fonts


def _set_family(rpr, family: str) -> None:  # type: ignore[no-untyped-def]
    """Name `family` for every script and drop the Office theme fonts that would override it."""
    fonts = _fonts_element(rpr)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), family)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(attr), None)


def _font(style: BaseStyle, family: str, size: float, colour: str | None = None) -> None:
    """Family, size (also for complex scripts) and colour of a style's text."""
    rpr = style.element.get_or_add_rPr()
    _set_family(rpr, family)
    size = round(size * 2) / 2  # Word sizes are whole half-points
    style.font.size = Pt(size)
    size_cs = rpr.find(qn("w:szCs"))
    if size_cs is not None:
        size_cs.set(qn("w:val"), str(round(size * 2)))
    if colour is not None:
        _colour(style, colour)


def _colour(style: BaseStyle, colour: str) -> None:
    """A plain RGB colour (python-docx drops the whole element when unsetting a theme colour)."""
    style.font.color.rgb = _rgb(colour)
    element = style.element.get_or_add_rPr().find(qn("w:color"))
    for attr in ("w:themeColor", "w:themeShade", "w:themeTint"):
        element.attrib.pop(qn(attr), None)


def _style(
    doc: WordDocument,
    name: str,
    kind: WD_STYLE_TYPE = WD_STYLE_TYPE.PARAGRAPH,
    based_on: str | None = None,
) -> BaseStyle:
    by_name = {s.name: s for s in doc.styles}
    if name in by_name:
        return by_name[name]
    style = doc.styles.add_style(name, kind)
    if based_on:
        style.base_style = by_name[based_on]
    return style


def _language(doc: WordDocument, lang: str) -> None:
    """The document language, in the defaults every style inherits and in Normal."""
    defaults = (
        doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    )
    for rpr in (defaults, doc.styles["Normal"].element.get_or_add_rPr()):
        lang_el = rpr.find(qn("w:lang"))
        if lang_el is None:
            lang_el = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang_el)
        lang_el.set(qn("w:val"), lang)


def reference_docx(theme: Theme, lang: str, pandoc_default: bytes) -> bytes:
    """pandoc's own reference document with every style pandoc uses set from the theme."""
    key = (theme.path, lang)
    if key in _REFERENCE:
        return _REFERENCE[key]
    t = theme.tokens
    doc = open_docx(io.BytesIO(pandoc_default))
    base = t["type.base-size"]
    small = round(base * t["type.small"], 1)
    body, heading, mono = t["fonts.body.family"], t["fonts.heading.family"], t["fonts.mono.family"]
    align = _ALIGN[t["headings.align"]]

    # Anything pandoc adds that we do not name still gets the body face, not Office's theme font.
    _set_family(
        doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")),
        body,
    )
    _language(doc, lang)
    normal = _style(doc, "Normal")
    # Word multiplies the face's own single line (1.37 em for Source Serif), CSS the font size:
    # the multiple is chosen so that both give the same distance between baselines.
    normal.paragraph_format.line_spacing = word_multiple(theme, "body", t["type.line-height"])
    for name in BODY_STYLES:
        _font(_style(doc, name, based_on="Normal"), body, base, t["colours.text"])

    for name in ("Body Text", "First Paragraph", "Compact"):
        style = _style(doc, name)
        style.paragraph_format.space_after = Pt(base * t["paragraph.space-after"])
        style.paragraph_format.space_before = Pt(0)
    # Tight lists and table cells: flush and tight, whatever Body Text (their base in pandoc's) indents.
    compact = _style(doc, "Compact").paragraph_format
    compact.first_line_indent, compact.space_after = Pt(0), Pt(0)
    cell = _style(doc, "Table Text", based_on="Compact")
    _font(cell, body, small, t["colours.text"])
    cell.paragraph_format.first_line_indent = Pt(0)
    cell.paragraph_format.space_before = cell.paragraph_format.space_after = Pt(0)
    _style(doc, "Body Text").paragraph_format.first_line_indent = Pt(
        base * t["paragraph.first-line-indent"]
    )
    _style(doc, "First Paragraph").paragraph_format.first_line_indent = Pt(0)
    for name in ("Body Text", "First Paragraph"):  # justified, as the print and screen text (base.css)
        _style(doc, name).paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    for level in range(1, 7):
        style = _style(doc, f"Heading {level}", based_on="Normal")
        _font(style, heading, theme.heading_pt(level), t["colours.text"])
        style.font.bold = t["headings.weight"] >= 600
        fmt = style.paragraph_format
        # CSS margins in em are the heading's own size, not the body's.
        fmt.space_before = Pt(theme.heading_pt(level) * t["headings.space-before"])
        fmt.space_after = Pt(theme.heading_pt(level) * t["headings.space-after"])
        fmt.line_spacing = word_multiple(theme, "heading", t["headings.line-height"])
        fmt.keep_with_next = True
        fmt.alignment = align

    sizes = {
        "Title": theme.heading_pt(1),
        "Subtitle": theme.heading_pt(2),
        "Author": base * t["type.scale"],
    }
    for name in TITLE_STYLES:
        style = _style(doc, name, based_on="Normal")
        muted = name in ("Date", "Abstract Title")
        _font(
            style,
            heading if name != "Abstract" else body,
            sizes.get(name, base),
            t["colours.muted"] if muted else t["colours.text"],
        )
        style.paragraph_format.alignment = align if name != "Abstract" else None
        style.paragraph_format.first_line_indent = Pt(0)
        style.paragraph_format.space_before = style.paragraph_format.space_after = Pt(0)
        style.font.bold = False  # the print title block sets only the title bold
        if name != "Abstract":
            style.paragraph_format.line_spacing = word_multiple(theme, "heading", t["type.line-height"])
    title = _style(doc, "Title")
    title.font.bold = t["headings.weight"] >= 600
    title.paragraph_format.line_spacing = word_multiple(theme, "heading", t["headings.line-height"])
    title.paragraph_format.space_after = Pt(theme.heading_pt(1) * t["headings.space-after"])
    # The title block ends with the date, then the space the print layout leaves before the text.
    _style(doc, "Date").paragraph_format.space_after = Pt(base * t["layout.section-space"])

    quote = _style(doc, "Block Text")
    fmt = quote.paragraph_format
    fmt.left_indent = fmt.right_indent = Pt(base * t["blockquote.indent"])
    fmt.space_before = fmt.space_after = Pt(base * t["blockquote.space"])
    fmt.first_line_indent = Pt(0)
    quote.font.italic = t["blockquote.style"] == "italic"

    bib = _style(doc, "Bibliography")
    bib.paragraph_format.left_indent = Pt(base * t["bibliography.hanging-indent"])
    bib.paragraph_format.first_line_indent = Pt(-base * t["bibliography.hanging-indent"])
    bib.paragraph_format.space_after = Pt(base * t["bibliography.space-after"])

    for name in SMALL_STYLES:
        style = _style(doc, name, based_on="Normal")
        _font(style, body, small, t["colours.muted"] if "Caption" in name else t["colours.text"])
        style.paragraph_format.first_line_indent = Pt(0)
    # Notes at the foot of the page are set at line height 1.3 in print (print.css).
    _style(doc, "Footnote Text").paragraph_format.line_spacing = word_multiple(theme, "body", 1.3)
    for name in ("Caption", "Image Caption", "Table Caption"):
        _style(doc, name).paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # As in the CSS: credit and disclaimer small and muted, the author's note italic at text size.
    for name in MATTER_STYLES.values():
        style = _style(doc, name, based_on="Normal")
        note = name == "Author Note"
        _font(style, body, base if note else small, t["colours.text" if note else "colours.muted"])
        style.font.italic = note
        style.paragraph_format.first_line_indent = Pt(0)
        style.paragraph_format.space_after = Pt(base * t["paragraph.space-after"])
    credit, note = _style(doc, "Image Credit"), _style(doc, "Author Note")
    credit.paragraph_format.alignment = align
    credit.paragraph_format.space_after = Pt(base * t["layout.block-space"])
    note.paragraph_format.space_before = Pt(base * t["layout.section-space"])

    code_pt = round(base * t["type.mono"], 1)
    for name in CODE_STYLES:
        _font(_style(doc, name, based_on="Normal"), mono, code_pt, t["colours.text"])
        _style(doc, name).paragraph_format.line_spacing = word_multiple(theme, "mono", t["type.line-height"])
    verbatim = _style(doc, "Verbatim Char", WD_STYLE_TYPE.CHARACTER)
    _set_family(verbatim.element.get_or_add_rPr(), mono)
    verbatim.font.size = Pt(code_pt)
    link = _style(doc, "Hyperlink", WD_STYLE_TYPE.CHARACTER)
    _colour(link, t["colours.link"])
    _style(doc, "Footnote Reference", WD_STYLE_TYPE.CHARACTER).font.superscript = True

    width, height = theme.page_mm
    for section in doc.sections:
        section.page_width, section.page_height = Mm(width), Mm(height)
        section.top_margin, section.bottom_margin = (
            Mm(t["page.margin-top"]),
            Mm(t["page.margin-bottom"]),
        )
        section.left_margin, section.right_margin = (
            Mm(t["page.margin-inner"]),
            Mm(t["page.margin-outer"]),
        )
        section.gutter = Emu(0)
        # Notes are numbered through the document: LibreOffice reads "restart each section" as each chapter.
        for restart in section._sectPr.findall(f"{qn('w:footnotePr')}/{qn('w:numRestart')}"):
            restart.getparent().remove(restart)
    out = io.BytesIO()
    doc.save(out)
    _REFERENCE[key] = out.getvalue()
    return _REFERENCE[key]
