"""A book's small differences in the EPUB (parts in the navigation) and the DOCX (a section per chapter)."""

from __future__ import annotations

from typing import Any

from ..theme import Theme
from ..xhtml import EPUB, q
from . import BACK, CHAPTER, PART

_TWIPS_PER_MM = 1440 / 25.4


def nest_parts(chapters: list[Any]) -> None:
    """EPUB: a part's file is a part (epub:type, role) and the chapters after it nest under it in the nav."""
    in_part = False
    for chapter in chapters:
        top = chapter.elements[0] if chapter.elements else None
        classes = top.get("class", "").split() if top is not None else []
        if PART in classes:
            in_part = True
            top.set(q("type", EPUB), "part")
            top.set("role", "doc-part")
            continue
        if BACK in classes or chapter.epub_type == "bibliography":
            in_part = False
        if in_part:
            chapter.headings = [(level + 1, ident, text) for level, ident, text in chapter.headings]


def section_breaks(blocks: list[dict[str, Any]], theme: Theme) -> list[dict[str, Any]]:
    """DOCX: a section break (the next chapter on an odd page) before each part and chapter heading."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] == 1 and {PART, CHAPTER, BACK} & set(block["c"][1][1]) and out:
            out.append({"t": "RawBlock", "c": ["openxml", _section_end(theme)]})
        out.append(block)
    return out


def _section_end(theme: Theme) -> str:
    """An empty paragraph that ends a section, with the theme's page size and margins."""
    width, height = theme.page_mm
    t = theme.tokens

    def tw(mm: float) -> int:
        return round(mm * _TWIPS_PER_MM)

    return (
        '<w:p><w:pPr><w:sectPr><w:type w:val="oddPage"/>'
        f'<w:pgSz w:w="{tw(width)}" w:h="{tw(height)}"/>'
        f'<w:pgMar w:top="{tw(t["page.margin-top"])}" w:right="{tw(t["page.margin-outer"])}" '
        f'w:bottom="{tw(t["page.margin-bottom"])}" w:left="{tw(t["page.margin-inner"])}" '
        'w:header="720" w:footer="720" w:gutter="0"/>'
        "</w:sectPr></w:pPr></w:p>"
    )
