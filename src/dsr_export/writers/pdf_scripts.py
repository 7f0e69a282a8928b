"""Tagged PDF in many scripts: /Lang where the language changes, /ActualText over shaped text.

WeasyPrint sets /Lang only on the catalog and maps each glyph to text on its own, which loses
Devanagari's reordered vowel signs and Arabic's marks when the text is copied or read aloud.
For one layout its tree builder and its marked-content writer are wrapped: every element in
another language gets /Lang, and every run of complex-script text carries its own words as
/ActualText, so text extraction and screen readers get what the author wrote.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator

from .. import fontchain, scripts
from ..theme import Theme

_ITALIC = "em, i, cite, dfn, var"
# Where each role's face is set (as in base.css), for the italics inside them.
_ROLE_SCOPES = {"heading": "h1, h2, h3, h4, h5, h6, .title-block .subtitle, .title-block .author",
                "mono": "code, pre"}


def italic_css(theme: Theme, text: str) -> str:
    """Print rules that set italics of letters a family's italic lacks in the chain's next italic.

    WeasyPrint would take such letters (Cyrillic and Greek in Source Serif's italic) from the
    family's upright face and draw them upright. Under a name of its own holding only the
    italic faces, the family comes first in italic text and the next family's real italic
    (Noto Serif Italic) draws what it lacks. Only when `text` has such letters.
    """
    points = {ord(c) for c in set(text)}
    rules = []
    for role in ("body", "heading", "mono"):
        names = fontchain.chain(theme, role)
        if not any(face.family == names[0] for face in theme.faces):
            continue  # an installed family: fontconfig already picks its italics
        gaps = [(face, gap) for face, gap in fontchain.italic_gaps(theme, names[0]) if face.italic]
        if not any(gap & points for _, gap in gaps):
            continue
        alias = f"{names[0]} italics"
        rules += [
            f'@font-face {{ font-family: "{alias}"; src: url("{face.path.as_uri()}"); '
            f"font-weight: {face.weight}; font-style: italic; }}"
            for face, _ in gaps
        ]
        stack = theme.stack(role).replace(f'"{names[0]}"', f'"{alias}"', 1)
        if role == "body":
            scopes = [_ITALIC, ".author-bio p"] + (["blockquote"] if theme["blockquote.style"] == "italic" else [])
            selector = ", ".join(scopes)
        else:
            selector = ", ".join(f"{scope} {tag}" for scope in _ROLE_SCOPES[role].split(", ")
                                 for tag in _ITALIC.split(", "))
        rules.append(f"{selector} {{ font-family: {stack}; }}")
    return "\n".join(rules)


def _actual_text(text: str) -> str | None:
    """What a run of complex-script text should read as, if its glyphs cannot say it themselves.

    Readers take marked content as laid out, left to right, and reorder right-to-left text
    themselves, so right-to-left words are given in that visual order; a run mixing
    directions is left to the glyphs.
    """
    codes = scripts.present(text)
    if not codes & scripts.COMPLEX:
        return None
    rtl = {scripts.is_rtl(code) for code in codes}
    if rtl == {True}:
        return text[::-1]
    return text if rtl == {False} else None


@contextlib.contextmanager
def tagging() -> Iterator[None]:
    """While it lasts, WeasyPrint's tagged PDF carries /Lang and /ActualText (see the module)."""
    import pydyf
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf import stream, tags

    build, marked = tags._build_box_tree, stream.Stream.marked

    def with_lang(box, *args, **kwargs):  # type: ignore[no-untyped-def]
        element = getattr(box, "element", None)
        lang = None
        if element is not None and getattr(box, "element_tag", None) not in ("html", "body"):
            lang = element.get("lang")
        for struct in build(box, *args, **kwargs):
            if lang and "Lang" not in struct:
                struct["Lang"] = pydyf.String(lang)
            yield struct

    @contextlib.contextmanager
    def with_actual_text(self, box, tag):  # type: ignore[no-untyped-def]
        text = _actual_text(box.text) if isinstance(box, boxes.TextBox) else None
        if self._tags is None or text is None:
            with marked(self, box, tag):
                yield
            return
        mcid = len(self._tags)
        self._tags[box] = {"tag": tag, "mcid": mcid}
        properties = pydyf.Dictionary({"MCID": mcid, "ActualText": pydyf.String(text)})
        pydyf.Stream.begin_marked_content(self, tag, properties)
        try:
            yield
        finally:
            pydyf.Stream.end_marked_content(self)

    tags._build_box_tree, stream.Stream.marked = with_lang, with_actual_text
    try:
        yield
    finally:
        tags._build_box_tree, stream.Stream.marked = build, marked


_EMPTY = re.compile(rb"<([0-9a-fA-F]{4})> <>")


def map_every_glyph(pdf_bytes: bytes, text: str) -> bytes:
    """`pdf_bytes` with a Unicode value for every glyph shown, as PDF/UA asks (7.21.7).

    WeasyPrint maps the second and later glyphs of a shaped cluster (a Devanagari vowel sign
    drawn before its consonant) to nothing; each gets the character its font's cmap gives it,
    else a zero-width space, while the run's /ActualText keeps the words. Only for `text`
    with complex scripts: other PDFs are returned as they are.
    """
    if not any(code in scripts.COMPLEX for code in scripts.present(text)):
        return pdf_bytes
    import pikepdf
    from fontTools.ttLib import TTFont

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        changed = False
        for font in pdf.objects:
            if not isinstance(font, pikepdf.Dictionary) or font.get("/Subtype") != "/Type0":
                continue
            if "/ToUnicode" not in font:
                continue
            cmap = font.ToUnicode.read_bytes()
            if not _EMPTY.search(cmap):
                continue
            descriptor = font.DescendantFonts[0].FontDescriptor
            program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
            glyphs = TTFont(io.BytesIO(program.read_bytes()))
            by_gid = {glyphs.getGlyphID(name): point for point, name in (glyphs.getBestCmap() or {}).items()}

            def fill(match: re.Match[bytes], by_gid: dict[int, int] = by_gid) -> bytes:
                point = by_gid.get(int(match[1], 16), 0x200B)
                return b"<" + match[1] + b"> <" + chr(point).encode("utf-16-be").hex().encode() + b">"

            font.ToUnicode.write(_EMPTY.sub(fill, cmap))
            changed = True
        if not changed:
            return pdf_bytes
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)  # two builds of one source stay byte for byte the same
    return out.getvalue()
