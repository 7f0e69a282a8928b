"""The print cover: back cover, spine and front cover on one sheet, sized from the interior's pages."""

from __future__ import annotations

import base64
import html as escape
import math
import re
from dataclasses import dataclass

from ..errors import DsrError
from ..source import Source
from ..theme import TEMPLATES, render
from . import Job, Rendered, pdf

NAME = "cover"
SUFFIX = ".cover.pdf"
MEDIA_TYPE = "application/pdf"
BLEED_MM = pdf.BLEED_MM  # a cover always has its bleed: its colour runs off every edge
DEFAULT_CALIPER_MM = 0.1  # the thickness of one leaf of the interior's paper
SPINE_TEXT_MIN_MM = 6.0  # below this a spine cannot carry legible text


@dataclass(frozen=True)
class Sheet:
    """The cover's geometry in millimetres (the trim area; the bleed lies outside it)."""

    trim_width: float
    trim_height: float
    spine: float

    @property
    def width(self) -> float:
        return 2 * self.trim_width + self.spine

    @property
    def media(self) -> tuple[float, float]:
        """The whole sheet with its bleed: what the printer's MediaBox holds."""
        return self.width + 2 * BLEED_MM, self.trim_height + 2 * BLEED_MM


def sheet(trim: tuple[float, float], pages: int, caliper: float) -> Sheet:
    """Two covers and a spine as thick as the interior's leaves (an odd last page still takes a leaf)."""
    return Sheet(trim[0], trim[1], round(math.ceil(pages / 2) * caliper, 3))


def caliper(source: Source) -> float:
    """Front matter `paper-caliper` (mm per leaf), default 0.1."""
    value = source.front_matter.get("paper-caliper", DEFAULT_CALIPER_MM)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 2:
        line = source.line_of_pattern(re.compile(r"^paper-caliper\s*:", re.MULTILINE))
        raise DsrError("'paper-caliper' must be the thickness of one leaf in mm (for example 0.1)",
                       path=source.path, line=line)
    return float(value)


def isbn13(source: Source) -> str | None:
    """Front matter `isbn` as 13 digits (an ISBN-10 is converted), its check digit verified."""
    value = source.front_matter.get("isbn")
    if value is None or value == "":
        return None
    line = source.line_of_pattern(re.compile(r"^isbn\s*:", re.MULTILINE))
    text = re.sub(r"[\s-]", "", str(value)).upper().removeprefix("ISBN")
    digits = None
    if re.fullmatch(r"97[89]\d{10}", text) and _ean_check(text[:12]) == text[12]:
        digits = text
    elif re.fullmatch(r"\d{9}[\dX]", text) and _isbn10_check(text[:9]) == text[9]:
        digits = "978" + text[:9] + _ean_check("978" + text[:9])
    if digits is None:
        raise DsrError(f"'isbn' is not a valid ISBN ({value}): wrong length, prefix or check digit",
                       path=source.path, line=line)
    return digits


def _ean_check(twelve: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(twelve))
    return str((10 - total % 10) % 10)


def _isbn10_check(nine: str) -> str:
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def barcode_svg(digits: str) -> bytes:
    """The EAN-13 symbol of an ISBN, drawn by python-barcode at the nominal module width."""
    from barcode import ISBN13
    from barcode.writer import SVGWriter

    symbol = ISBN13(digits, writer=SVGWriter(), guardbar=True)
    if symbol.ean != digits:  # the library recomputes the check digit: it must agree
        raise AssertionError(f"barcode {symbol.ean} for ISBN {digits}")
    return symbol.render({"module_width": 0.33, "module_height": 18.0, "font_size": 9, "text_distance": 3,
                          "quiet_zone": 3.0, "background": "white", "foreground": "black"})


def cover_html(job: Job, sheet: Sheet) -> str:
    """The cover as one page of HTML: the theme's look, the geometry of this sheet."""
    meta, theme = job.doc.meta, job.theme
    t = theme.tokens
    top, bottom, outer = t["page.margin-top"], t["page.margin-bottom"], t["page.margin-outer"]
    inner = t["page.margin-inner"]
    e = escape.escape
    author, publisher = e(meta.author_line), e(meta.publisher)
    marks = " marks: crop cross;" if job.options.crop_marks else ""
    css = render(TEMPLATES / "cover.css", theme, lambda f: f.path.as_uri())
    geometry = (
        f"@page {{ size: {sheet.width}mm {sheet.trim_height}mm; bleed: {BLEED_MM}mm;{marks} }}\n"
        f".sheet {{ width: {sheet.width}mm; height: {sheet.trim_height}mm; }}\n"
        f".panel {{ height: {sheet.trim_height}mm; padding: {top}mm {outer}mm {bottom}mm {inner}mm; }}\n"
        f".back, .front {{ width: {sheet.trim_width}mm; }}\n"
        f".back {{ padding-left: {outer}mm; padding-right: {inner}mm; }}\n"
        f".spine {{ width: {sheet.spine}mm; padding: 0; }}\n"
        f".front .publisher {{ bottom: {bottom}mm; left: {inner}mm; right: {outer}mm; }}\n"
        f".back .barcode {{ right: {inner}mm; bottom: {bottom}mm; }}\n"
        # Cover type is sized from the panel, not the text page: a quarter of the way down, large.
        f".front .title {{ font-size: {round(sheet.trim_width * 0.075, 2)}mm; margin-top: {round(sheet.trim_height * 0.18, 1)}mm; }}\n"
        f".front .subtitle, .front .author {{ font-size: {round(sheet.trim_width * 0.035, 2)}mm; }}\n"
        f".back .description {{ font-size: {round(sheet.trim_width * 0.022, 2)}mm; margin-top: {round(sheet.trim_height * 0.18, 1)}mm; }}\n"
    )
    spine = ""
    if sheet.spine >= SPINE_TEXT_MIN_MM:
        size = round(min(sheet.spine * 0.5, 4.5), 2)
        geometry += (
            f".spine .spine-text {{ font-size: {size}mm; line-height: {size}mm; top: {top}mm;"
            f" left: {round(sheet.spine / 2 + size / 2, 3)}mm; width: {sheet.trim_height - top - bottom}mm; }}\n"
        )
        parts = [f'<span class="title">{e(meta.title)}</span>', f'<span class="author">{author}</span>']
        if publisher:
            parts.append(f'<span class="publisher">{publisher}</span>')
        spine = f'<div class="spine-text">{"".join(parts)}</div>'
    digits = isbn13(job.doc.source)
    barcode = ""
    if digits:
        data = base64.b64encode(barcode_svg(digits)).decode()
        shown = f"{digits[:3]}-{digits[3:12]}-{digits[12]}"
        barcode = (f'<div class="barcode"><img src="data:image/svg+xml;base64,{data}" '
                   f'alt="ISBN {shown}, as a barcode"/></div>')
    subtitle = f'<p class="subtitle">{e(meta.subtitle)}</p>' if meta.subtitle else ""
    return f"""<!DOCTYPE html>
<html lang="{e(meta.lang)}">
<head><meta charset="utf-8"/><title>{e(meta.title)}</title>
<meta name="author" content="{author}"/>
<style>{css}
{geometry}</style></head>
<body><div class="sheet">
<section class="panel back" aria-label="Back cover"><p class="description">{e(meta.description)}</p>{barcode}</section>
<section class="panel spine" aria-label="Spine">{spine}</section>
<section class="panel front" aria-label="Front cover"><h1 class="title">{e(meta.title)}</h1>{subtitle}
<p class="author">{author}</p><p class="publisher">{publisher}</p></section>
</div></body></html>
"""


def write(job: Job) -> Rendered:
    source = job.doc.source
    thickness, _ = caliper(source), isbn13(source)  # input errors before any layout
    pages = pdf.page_count(job)
    data, messages = pdf.render(job, cover_html(job, sheet(pdf.page_theme(job).page_mm, pages, thickness)))
    return Rendered(data, tuple(pdf.diagnostic(m, job) for m in messages))
