"""Tagged PDF in many languages: /Lang on every element written in another language."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def lang_tags() -> Iterator[None]:
    """While it lasts, WeasyPrint's tagged PDF gives each element written in another language /Lang.

    WeasyPrint sets /Lang only on the catalog; PDF/UA asks for it wherever the language
    changes, so screen readers switch voices. Its tree builder is wrapped for one layout.
    """
    import pydyf
    from weasyprint.pdf import tags

    original = tags._build_box_tree

    def with_lang(box, *args, **kwargs):  # type: ignore[no-untyped-def]
        element = getattr(box, "element", None)
        lang = None
        if element is not None and getattr(box, "element_tag", None) not in ("html", "body"):
            lang = element.get("lang")
        for struct in original(box, *args, **kwargs):
            if lang and "Lang" not in struct:
                struct["Lang"] = pydyf.String(lang)
            yield struct

    tags._build_box_tree = with_lang
    try:
        yield
    finally:
        tags._build_box_tree = original
