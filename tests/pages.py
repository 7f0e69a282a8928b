"""PDF pages as small grey images, compared with stored references (tests/reference/), with a diff on failure."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops

REFERENCE = Path(__file__).resolve().parent / "reference"
DPI = 36  # small files, and still enough to see a line of text move
# A page matches when few pixels differ by much: anti-aliasing may vary by a level or two, moved text by far more.
STRONG = 64
LIMIT = 0.0005  # a single line moved by an indent changes about 0.3% of a page


def render(pdf: Path) -> list[Image.Image]:
    """Every page of `pdf` drawn by pdfium in grey at DPI."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    return [doc[i].render(scale=DPI / 72, grayscale=True).to_pil().convert("L") for i in range(len(doc))]


def reference_files(name: str) -> list[Path]:
    return sorted(REFERENCE.glob(f"{name}-p*.png"))


def save(name: str, pages: list[Image.Image], folder: Path = REFERENCE) -> list[Path]:
    """Write `pages` as NAME-pNN.png (removing stale pages of NAME first)."""
    for old in folder.glob(f"{name}-p*.png"):
        old.unlink()
    paths = []
    for number, image in enumerate(pages, start=1):
        path = folder / f"{name}-p{number:02d}.png"
        image.save(path, optimize=True)
        paths.append(path)
    return paths


def difference(page: Image.Image, reference: Image.Image) -> tuple[float, Image.Image]:
    """The share of pixels that differ strongly, and an image of where: the page, with changes in red."""
    if page.size != reference.size:
        return 1.0, page.convert("RGB")
    delta = ImageChops.difference(page, reference)
    mask = delta.point(lambda v: 255 if v >= STRONG else 0)
    share = sum(mask.histogram()[255:]) / (page.width * page.height)
    shown = Image.merge("RGB", (ImageChops.lighter(page, mask), ImageChops.subtract(page, mask),
                                ImageChops.subtract(page, mask)))
    return share, shown
