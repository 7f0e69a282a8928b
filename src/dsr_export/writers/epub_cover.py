"""The EPUB cover: a PNG drawn from the title and authors in the theme's fonts and colours."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from .. import fontchain, scripts
from ..metadata import Metadata
from ..theme import Theme

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Stores ask for a 1:1.6 portrait cover at least 1600 px on its long side.
WIDTH, HEIGHT = 1600, 2560
MARGIN = 160


def alt_text(meta: Metadata) -> str:
    by = f" by {meta.author_line}" if meta.authors else ""
    return f"Cover of {meta.title}{by}"


def _font(theme: Theme, role: str, weight: int, size: int) -> Font:
    family = theme[f"fonts.{role}.family"]
    faces = [f for f in theme.faces if f.family == family and not f.italic]
    if faces:
        face = min(faces, key=lambda f: abs(f.weight - weight))
        return ImageFont.truetype(str(face.path), size)
    return ImageFont.load_default(size)  # a theme without packaged fonts still gets a cover


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _word_font(theme: Theme, role: str, weight: int, size: int, word: str) -> Font:
    """The face of `role`'s chain that draws `word` (its first letter decides), as the PDF would."""
    first = next((c for c in word if scripts.script(c) not in ("Zyyy", "Zinh", "Zzzz")), None)
    family = fontchain.drawer(theme, role, ord(first)) if first else None
    if family is None or family == theme[f"fonts.{role}.family"]:
        return _font(theme, role, weight, size)
    face = fontchain.closest(fontchain.faces(theme, family), weight, False)
    return ImageFont.truetype(str(face.path), size, index=face.index) if face else _font(theme, role, weight, size)


Word = tuple[str, Font, bool]  # text, font, right to left


def _words(theme: Theme, role: str, weight: int, size: int, text: str) -> list[Word]:
    return [(w, _word_font(theme, role, weight, size, w), scripts.is_rtl(scripts.first_strong(w) or ""))
            for w in text.split()]


def _wrap(draw: ImageDraw.ImageDraw, words: list[Word], width: int) -> list[list[Word]]:
    lines: list[list[Word]] = []
    used = 0.0
    for word in words:
        length = draw.textlength(word[0], font=word[1])
        space = draw.textlength(" ", font=word[1])
        if lines and used + space + length <= width:
            lines[-1].append(word)
            used += space + length
        else:
            lines.append([word])
            used = length
    return lines


def _draw_line(draw: ImageDraw.ImageDraw, x: float, y: int, line: list[Word], fill: tuple[int, int, int]) -> None:
    """Words left to right, a run of right-to-left words in its own order (right to left)."""
    faces = {(getattr(font, "path", None), getattr(font, "index", 0)) for _, font, _ in line}
    if len(faces) == 1 and not any(rtl for _, _, rtl in line):  # one face: the line in one go
        draw.text((x, y), " ".join(text for text, _, _ in line), font=line[0][1], fill=fill)
        return
    ordered: list[Word] = []
    run: list[Word] = []
    for word in line:
        if word[2]:
            run.append(word)
            continue
        ordered += run[::-1] + [word]
        run = []
    ordered += run[::-1]
    for text, font, rtl in ordered:
        draw.text((x, y), text, font=font, fill=fill, direction="rtl" if rtl else None)
        x += draw.textlength(text + " ", font=font)


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
        for line in _wrap(draw, _words(theme, role, weight, size, text or ""), usable):
            _draw_line(draw, MARGIN, y, line, colour)
            y += int(size * 1.2)
        y += 40
    draw.rectangle((MARGIN, y + 40, MARGIN + 360, y + 52), fill=accent)
    y = max(y + 160, HEIGHT - 700)
    authors = meta.author_line if meta.authors else ""
    for line in _wrap(draw, _words(theme, "body", 400, 96, authors), usable):
        _draw_line(draw, MARGIN, y, line, ink)
        y += 120
    if meta.publisher:
        draw.text((MARGIN, HEIGHT - 300), meta.publisher, font=_font(theme, "heading", 400, 64), fill=muted)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

