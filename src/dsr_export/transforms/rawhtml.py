"""Raw HTML written in Markdown (<br>, <sup>, <u>, <span>, comments) becomes pandoc elements,
so every format shows it (DOCX drops raw HTML) and EPUB stays well-formed."""

from __future__ import annotations

import re
from typing import Any

from ..errors import Diagnostic
from ..source import Source

Node = dict[str, Any]

_TAG = re.compile(r"^<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[^>]*?)?)\s*(/?)>$")
_FIRST_TAG = re.compile(r"^<(/?)([A-Za-z][A-Za-z0-9]*)")
_ATTR = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_EMPTY = {"br": {"t": "LineBreak"}, "wbr": None}
# Inline HTML elements and the pandoc element each becomes.
_PAIRED = {
    "sup": "Superscript", "sub": "Subscript", "u": "Underline", "ins": "Underline",
    "em": "Emph", "i": "Emph", "strong": "Strong", "b": "Strong", "s": "Strikeout",
    "del": "Strikeout", "strike": "Strikeout", "span": "Span", "small": "Span", "mark": "Span",
}


def apply(source: Source, tree: dict[str, Any]) -> list[Diagnostic]:
    from . import element_lists

    warned: set[str] = set()
    found: list[Diagnostic] = []
    for elements in list(element_lists(tree["blocks"])):
        if any(e["t"] in ("RawInline", "RawBlock") and e["c"][0] == "html" for e in elements):
            elements[:] = _rewrite(elements)
    for node in _raw_html(tree["blocks"]):
        markup = node["c"][1].strip()
        tag = _TAG.match(markup) or _FIRST_TAG.match(markup)
        # Name the element only: its content may be long, or an address the author did not mean to show.
        shown = f"<{tag.group(2).lower()}>" if tag else "block"
        if shown not in warned:
            warned.add(shown)
            found.append(Diagnostic(
                f"raw HTML {shown} is kept in HTML, EPUB and PDF but left out of DOCX",
                source.path, source.line_of(markup), "raw-html", "warning"))
    return found


def _raw_html(blocks: Any) -> list[Node]:
    from ..ast import walk

    return [n for n in walk(blocks) if n["t"] in ("RawInline", "RawBlock") and n["c"][0] == "html"]


def _rewrite(elements: list[Node]) -> list[Node]:
    """Comments dropped, empty tags replaced, open/close pairs wrapped around what they enclose."""
    out: list[Node] = []
    open_at: list[tuple[str, int, str]] = []  # (tag, index in out, attributes)
    for element in elements:
        is_html = element["t"] in ("RawInline", "RawBlock") and element["c"][0] == "html"
        raw = element["c"][1].strip() if is_html else None
        if raw is None:
            out.append(element)
            continue
        if raw.startswith("<!--") and raw.endswith("-->"):
            continue
        tag = _TAG.match(raw)
        name = tag.group(2).lower() if tag else ""
        if tag and element["t"] == "RawInline" and name in _EMPTY:
            if _EMPTY[name]:
                out.append(dict(_EMPTY[name]))
            continue
        if tag and element["t"] == "RawInline" and name in _PAIRED:
            if not tag.group(1) and not tag.group(4):
                open_at.append((name, len(out), tag.group(3)))
                out.append(element)
                continue
            if tag.group(1) and open_at and open_at[-1][0] == name:
                _, start, attributes = open_at.pop()
                inner = out[start + 1:]
                del out[start:]
                out.append(_element(name, attributes, inner))
                continue
        out.append(element)
    return out


def _element(name: str, attributes: str, inner: list[Node]) -> Node:
    kind = _PAIRED[name]
    if kind != "Span":
        return {"t": kind, "c": inner}
    ident, classes, pairs = "", [] if name == "span" else [name], []
    for match in _ATTR.finditer(attributes):
        key, value = match.group(1).lower(), next(g for g in match.groups()[1:] if g is not None)
        if key == "id":
            ident = value
        elif key == "class":
            classes += value.split()
        else:
            pairs.append([key, value])
    return {"t": "Span", "c": [[ident, classes, pairs], inner]}
