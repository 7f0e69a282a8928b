"""pandoc's reading of the DOCX made back into the source's body: generated parts out, citations in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import ast as A
from ..theme.docx import BODY_STYLES, CODE_STYLES, MATTER_STYLES, SMALL_STYLES, TITLE_STYLES
from .fields import MARKER

Node = dict[str, Any]
# Paragraph and character styles pandoc itself writes: their Div or Span adds nothing to the Markdown.
PANDOC_STYLES = {*BODY_STYLES, *TITLE_STYLES, *SMALL_STYLES, *CODE_STYLES, "Body Text Char",
                 "Hyperlink", "Footnote Reference", "Verbatim Char", "Footnote Block Text", "Table",
                 "Compact", "Heading", *(f"Heading {n}" for n in range(1, 10)), "Bibliography"}
GENERATED = {"Affiliation", "Bibliography", *TITLE_STYLES}
STYLE_MATTER = {style: cls for cls, style in MATTER_STYLES.items()}
# Where the reference list goes (pandoc's Markdown writer leaves out an empty Div, so it is written raw).
REFS = {"t": "RawBlock", "c": ["markdown", "::: {#refs}\n:::"]}


def refs_block() -> Node:
    return {"t": "RawBlock", "c": list(REFS["c"])}


@dataclass
class Body:
    """What was taken out of the blocks on the way, and what is worth a warning."""

    matter: dict[str, list[list[Node]]] = field(default_factory=dict)  # class -> paragraphs' inlines
    warnings: list[str] = field(default_factory=list)


def _style(node: Node) -> str | None:
    return dict(A.attr(node)[2]).get("custom-style")


def _place(block: Node) -> str:
    words = " ".join(A.stringify(block).split())
    more = "\u2026" if len(words) > 50 else ""
    return f"paragraph \u201c{words[:50]}{more}\u201d"


def clean(blocks: list[Node], body: Body) -> list[Node]:
    """Unwrap pandoc's own styles, collect the theme's matter, drop generated parts, keep the rest."""
    out: list[Node] = []
    in_bibliography = False
    for block in blocks:
        style = _style(block) if block["t"] == "Div" else None
        if style in STYLE_MATTER:
            body.matter.setdefault(STYLE_MATTER[style], []).extend(
                b["c"] for b in block["c"][1] if b["t"] in ("Para", "Plain"))
            continue
        if style == "Bibliography":  # a reference list written as text: one refs block in its place
            if not in_bibliography:
                out.append(refs_block())
            in_bibliography = True
            continue
        in_bibliography = False
        if style in GENERATED:
            continue
        if style is not None:
            if style not in PANDOC_STYLES:
                body.warnings.append(f"{_place(block)}: the Word style \u201c{style}\u201d has no Markdown "
                                     "form; its text is kept as ordinary paragraphs")
            out.extend(clean(block["c"][1], body))
            continue
        out.append(_inner(block, body))
    return out


def _inner(node: Any, body: Body) -> Any:
    """Character styles unwrapped and nested blocks cleaned, everywhere below a block."""
    if isinstance(node, list):
        items: list[Any] = []
        for child in node:
            if isinstance(child, dict) and child.get("t") == "Span" and _style(child) is not None:
                items.extend(_inner(child["c"][1], body))
            elif isinstance(child, dict) and child.get("t") == "Div" and _style(child) is not None:
                items.extend(clean([child], body))
            else:
                items.append(_inner(child, body))
        return items
    if isinstance(node, dict):
        inner = {k: _inner(v, body) if isinstance(v, (list, dict)) else v for k, v in node.items()}
        if inner.get("t") in ("Figure", "Table"):  # pandoc's own figure and table styles
            ident, classes, pairs = inner["c"][0]
            inner["c"][0] = [ident, classes, [p for p in pairs if p[0] != "custom-style"]]
        return inner
    return node


def place_markers(node: Any, cite: Callable[[int], Node]) -> Any:
    """Citation markers in text become Cite elements; a bibliography marker paragraph becomes the refs block."""
    if isinstance(node, list):
        items: list[Any] = []
        for child in node:
            if isinstance(child, dict) and child.get("t") == "Str" and MARKER.search(child["c"]):
                items.extend(_split(child["c"], cite))
            elif isinstance(child, dict) and child.get("t") in ("Para", "Plain") and _only_refs(child):
                items.append(refs_block())
            else:
                items.append(place_markers(child, cite))
        return items
    if isinstance(node, dict):
        return {k: place_markers(v, cite) if isinstance(v, (list, dict)) else v for k, v in node.items()}
    return node


def _only_refs(block: Node) -> bool:
    text = A.stringify(block["c"]).strip()
    match = MARKER.fullmatch(text)
    return bool(match and match.group(1) == "refs")


def _split(text: str, cite: Callable[[int], Node]) -> list[Node]:
    out: list[Node] = []
    at = 0
    for match in MARKER.finditer(text):
        if match.start() > at:
            out.append({"t": "Str", "c": text[at:match.start()]})
        if match.group(1) == "cite":
            out.append(cite(int(match.group(2))))
        at = match.end()
    if at < len(text):
        out.append({"t": "Str", "c": text[at:]})
    return out


_PUNCT = re.compile(r"([.,;:!?]+)$")


def note_citations(node: Any) -> Any:
    """A footnote that holds only a citation was made by a note style: the citation goes back in the text.

    The style put the note after the punctuation; the source had the citation before it.
    """
    if isinstance(node, list):
        items: list[Any] = []
        for child in node:
            cite = _note_cite(child) if isinstance(child, dict) and child.get("t") == "Note" else None
            if cite is None:
                items.append(note_citations(child))
                continue
            before = items[-1] if items else None
            match = _PUNCT.search(before["c"]) if before and before.get("t") == "Str" else None
            if match and len(match.group(1)) < len(before["c"]):
                before["c"] = before["c"][: match.start()]
                items += [{"t": "Space"}, cite, {"t": "Str", "c": match.group(1)}]
            elif before is not None and before.get("t") == "Str":  # the style took the space away
                items += [{"t": "Space"}, cite]
            else:
                items.append(cite)
        return _merge_str(items)
    if isinstance(node, dict):
        return {k: note_citations(v) if isinstance(v, (list, dict)) else v for k, v in node.items()}
    return node


def _note_cite(note: Node) -> Node | None:
    blocks = note["c"]
    if len(blocks) != 1 or blocks[0]["t"] not in ("Para", "Plain"):
        return None
    inlines = [i for i in blocks[0]["c"] if i["t"] not in ("Space", "SoftBreak")]
    if len(inlines) == 1 and inlines[0]["t"] == "Cite":
        return inlines[0]
    return None


def _merge_str(items: list[Any]) -> list[Any]:
    """Adjacent Str elements joined, as pandoc's readers leave them."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict) and item.get("t") == "Str" and out and isinstance(out[-1], dict) \
                and out[-1].get("t") == "Str":
            out[-1] = {"t": "Str", "c": out[-1]["c"] + item["c"]}
        elif isinstance(item, dict) and item.get("t") == "Str" and not item["c"]:
            continue
        else:
            out.append(item)
    return out
