"""Tagged PDF in many scripts: /Lang where the language changes, /ActualText over shaped text.

WeasyPrint sets /Lang only on the catalog and maps each glyph to text on its own, which loses
Devanagari's reordered vowel signs and Arabic's marks when the text is copied or read aloud.
For one layout its tree builder and its marked-content writer are wrapped: every element in
another language gets /Lang, and every run of complex-script text carries its own words as
/ActualText, so text extraction and screen readers get what the author wrote.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .. import scripts


def _actual_text(text: str) -> str | None:
    """What a run of complex-script text should read as, if its glyphs cannot say it themselves.

    Readers take marked content as laid out, left to right, and reorder right-to-left text
    themselves, so right-to-left words are given in that visual order; a run mixing
    directions is left to the glyphs.
    """
    codes = {code for code, _ in scripts.runs(text) if code}
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
