"""Folios and running heads, laid out as pages of their own once the page numbers are known."""

from __future__ import annotations

from html import escape

# Each page of the overlay sets its two strings; the margin boxes show them (empty on blank and opening pages).
_CSS = """
@page :left { @top-center { content: string(head); } }
@page :right { @top-center { content: string(head); } }
@page :first { @top-center { content: string(head); } @bottom-center { content: string(folio); } }
@page { @bottom-center { content: string(folio); } }
.furniture-page { break-before: page; height: 1px; }
.furniture-page:first-child { break-before: auto; }
"""


def css(print_css: str, bleed_mm: int | None) -> str:
    """The print stylesheet's pages (size, margins, margin boxes) showing the overlay's strings."""
    return print_css + _CSS + (f"@page {{ bleed: {bleed_mm}mm; }}\n" if bleed_mm else "")


def body(pages: list[tuple[str, str]]) -> str:
    """One page per (running head, folio); an empty string shows nothing."""
    return "".join(
        f'<div class="furniture-page" style="{escape(_string_set(head, folio))}"></div>' for head, folio in pages
    )


def _string_set(head: str, folio: str) -> str:
    return f"string-set: head {_css_string(head)}, folio {_css_string(folio)}"


def _css_string(text: str) -> str:
    return '"' + " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


def roman(number: int) -> str:
    """Lower-case roman numerals, for the front matter's folios and page labels."""
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= value:
            out, number = out + letters, number - value
    return out
