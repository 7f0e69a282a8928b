"""Fallback fonts for EPUB and HTML: subsets holding only the characters a document sets in them.

A reader without the chain's fonts (CJK, Arabic, Devanagari...) would show boxes; a whole
CJK font is 20 MB, so each face is cut down to the glyphs its text needs (with the layout
features that shape and localise them) and embedded as WOFF2.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from .. import fontchain
from ..theme import Theme

_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_HEADING_CLASSES = {"subtitle", "author", "publisher", "date"}
_MONO = {"code", "pre", "kbd", "samp", "tt"}
_BOLD = {"strong", "b", "th"}
_ITALIC = {"em", "i", "cite", "dfn", "var"}
_UNSEEN = {"head", "script", "style", "title", "math", "svg"}

Style = tuple[str, int, bool]  # role, weight, italic


@dataclass(frozen=True)
class Subset:
    """One embedded face: the family it stands for, its style, file name and bytes, and its characters."""

    family: str
    face: fontchain.Face
    name: str
    data: bytes
    points: frozenset[int]

    def rule(self, url: str) -> str:
        return (
            f'@font-face {{ font-family: "{self.family}"; src: url("{url}") format("woff2"); '
            f"font-weight: {self.face.weight}; font-style: {'italic' if self.face.italic else 'normal'}; "
            f"unicode-range: {fontchain.ranges(self.points)}; }}"
        )


def usage(roots: Iterable[etree._Element], theme: Theme) -> dict[Style, set[int]]:
    """The characters each (role, weight, italic) sets, walking elements as the stylesheet styles them."""
    heading_weight = 700 if theme["headings.weight"] >= 600 else 400
    italic_quotes = theme["blockquote.style"] == "italic"
    found: dict[Style, set[int]] = {}

    def add(style: Style, text: str | None) -> None:
        if text:
            found.setdefault(style, set()).update(ord(c) for c in text if not c.isspace())

    def visit(el: etree._Element, style: Style) -> None:
        if not isinstance(el.tag, str):
            return
        tag = etree.QName(el).localname.lower()
        if tag in _UNSEEN:
            return
        role, weight, italic = style
        classes = set((el.get("class") or "").split())
        if tag in _HEADING_TAGS or classes & _HEADING_CLASSES:
            role, weight = "heading", heading_weight if tag in _HEADING_TAGS else 400
        if tag in _MONO:
            role = "mono"
        if tag in _BOLD:
            weight = 700
        if tag in _ITALIC or (tag == "blockquote" and italic_quotes) or "author-bio" in classes:
            italic = True
        here = (role, weight, italic)
        add(here, el.text)
        for child in el:
            visit(child, here)
            add(here, child.tail)

    for root in roots:
        visit(root, ("body", 400, False))
    return found


def assign(theme: Theme, used: dict[Style, set[int]]) -> dict[tuple[str, fontchain.Face], set[int]]:
    """(fallback family, face) -> the characters a reader takes from it: for each character, the
    first family of its role's chain whose face for that style draws it (packaged faces are
    embedded whole, so they are not subset)."""
    packaged = {f.family for f in theme.faces}
    out: dict[tuple[str, fontchain.Face], set[int]] = {}
    for (role, weight, italic), points in sorted(used.items()):
        families = fontchain.chain(theme, role)
        for point in sorted(points):
            for family in families:
                face = fontchain.closest(fontchain.faces(theme, family), weight, italic)
                if face is None or point not in fontchain.cmap(face):
                    continue
                if family not in packaged:
                    out.setdefault((family, face), set()).add(point)
                break
    return out


def subsets(theme: Theme, roots: Iterable[etree._Element]) -> list[Subset]:
    """The subset faces for the text under `roots`; none when the theme's own faces draw it all."""
    chosen = assign(theme, usage(roots, theme))
    found = []
    for (family, face), points in sorted(chosen.items(), key=lambda kv: (kv[0][0], kv[0][1].style)):
        name = f"{family.replace(' ', '')}-{face.weight}{'i' if face.italic else ''}.woff2"
        found.append(Subset(family, face, name, _subset(face, frozenset(points)), frozenset(points)))
    return found


@functools.lru_cache(maxsize=64)
def _subset(face: fontchain.Face, points: frozenset[int]) -> bytes:
    """WOFF2 of `face` cut to `points` and what shaping them needs (ligatures, joining, local forms).

    HarfBuzz's subsetter takes milliseconds where fontTools takes seconds on a CJK font.
    """
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    source = hb.Face(hb.Blob.from_file_path(str(face.path)), face.index)
    wanted = hb.SubsetInput()
    for point in sorted(points):
        wanted.unicode_set.add(point)
    cut = hb.subset(source, wanted)
    if cut is None:
        raise OSError(f"cannot subset {face.path}")
    font = TTFont(io.BytesIO(bytes(cut.blob.data)), recalcTimestamp=False)
    font.flavor = "woff2"
    buffer = io.BytesIO()
    font.save(buffer)  # the same bytes for the same text: builds are reproducible
    return buffer.getvalue()


def licences(found: Iterable[Subset]) -> list[tuple[str, Path]]:
    """(name, file) of the licence of each system package the subset faces come from."""
    out: dict[str, Path] = {}
    for sub in found:
        package = _package_of(sub.face.path)
        copyright_file = Path("/usr/share/doc") / package / "copyright" if package else None
        if copyright_file is not None and copyright_file.is_file():
            out.setdefault(f"LICENSE-{package}.txt", copyright_file)
    return sorted(out.items())


@functools.cache
def _package_of(path: Path) -> str | None:
    """The Debian package that installed `path`, if dpkg knows it."""
    if shutil.which("dpkg-query") is None:
        return None
    try:
        run = subprocess.run(["dpkg-query", "-S", str(path)], capture_output=True, text=True, timeout=30,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    head = run.stdout.split(":", 1)[0].strip()
    return head or None


def add_to_epub(book: Any, theme: Theme, css_path: str) -> None:
    """Subset faces for the book's text under style/fonts/, their rules in the book's stylesheet."""
    from ebooklib import epub

    roots = [etree.fromstring(item.get_content()) for item in book.get_items()
             if isinstance(item, epub.EpubHtml)]
    found = subsets(theme, roots)
    if not found:
        return
    folder = css_path.rsplit("/", 1)[0]
    for i, sub in enumerate(found):
        book.add_item(epub.EpubItem(uid=f"font-subset-{i}", file_name=f"{folder}/fonts/{sub.name}",
                                    media_type="font/woff2", content=sub.data))
    for i, (name, path) in enumerate(licences(found)):
        book.add_item(epub.EpubItem(uid=f"font-subset-licence-{i}", file_name=f"{folder}/fonts/{name}",
                                    media_type="text/plain", content=path.read_bytes()))
    css = book.get_item_with_href(css_path)
    rules = "\n".join(sub.rule(f"fonts/{sub.name}") for sub in found)
    css.content = css.content + b"\n/* Fallback faces, cut to the characters of this book */\n" + rules.encode()


def embed_in_html(page: str, theme: Theme) -> str:
    """`page` with subset faces for its text, as data: URIs in a style element of its head."""
    import base64

    from lxml import html as lhtml

    found = subsets(theme, [lhtml.document_fromstring(page)])
    if not found:
        return page
    rules = "\n".join(
        sub.rule("data:font/woff2;base64," + base64.b64encode(sub.data).decode()) for sub in found
    )
    return page.replace("</head>", f"<style>\n{rules}\n</style>\n</head>", 1)
