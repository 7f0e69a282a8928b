"""The EPUB cover: a PNG drawn from the title and authors in the theme's fonts and colours."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from ..metadata import Metadata
from ..theme import Theme

# Stores ask for a 1:1.6 portrait cover at least 1600 px on its long side.
WIDTH, HEIGHT = 1600, 2560
MARGIN = 160


def alt_text(meta: Metadata) -> str:
    by = f" by {meta.author_line}" if meta.authors else ""
    return f"Cover of {meta.title}{by}"


def _font(theme: Theme, role: str, weight: int, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    family = theme[f"fonts.{role}.family"]
    faces = [f for f in theme.faces if f.family == family and not f.italic]
    if faces:
        face = min(faces, key=lambda f: abs(f.weight - weight))
        return ImageFont.truetype(str(face.path), size)
    return ImageFont.load_default(size)  # a theme without packaged fonts still gets a cover


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
          width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def png(meta: Metadata, theme: Theme) -> bytes:
    """The cover image: title and subtitle in the heading face, authors in the body face."""
    paper, ink = (250, 248, 243), _rgb(theme["colours.text"])
    accent, muted = _rgb(theme["colours.accent"]), _rgb(theme["colours.muted"])
    image = Image.new("RGB", (WIDTH, HEIGHT), paper)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 96), fill=accent)
    draw.rectangle((0, HEIGHT - 96, WIDTH, HEIGHT), fill=accent)
    usable = WIDTH - 2 * MARGIN
    y = 560
    for text, role, weight, size, colour in (
        (meta.title, "heading", 700, 150, ink),
        (meta.subtitle, "heading", 400, 90, muted),
    ):
        font = _font(theme, role, weight, size)
        for line in _wrap(draw, text, font, usable):
            draw.text((MARGIN, y), line, font=font, fill=colour)
            y += int(size * 1.2)
        y += 40
    draw.rectangle((MARGIN, y + 40, MARGIN + 360, y + 52), fill=accent)
    author_font = _font(theme, "body", 400, 96)
    y = max(y + 160, HEIGHT - 700)
    authors = meta.author_line if meta.authors else ""
    for line in _wrap(draw, authors, author_font, usable):
        draw.text((MARGIN, y), line, font=author_font, fill=ink)
        y += 120
    if meta.publisher:
        draw.text((MARGIN, HEIGHT - 300), meta.publisher, font=_font(theme, "heading", 400, 64), fill=muted)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

