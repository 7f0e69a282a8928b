"""Small helpers over pandoc's JSON AST: walking, plain text, building nodes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Node = dict[str, Any]


def walk(node: Any) -> Iterator[Node]:
    """Every element (a dict with a "t" key) under `node`, depth first, in order."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "t" in item:
                yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def stringify(node: Any) -> str:
    """The plain text of inlines, blocks or a metadata value."""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(stringify(n) for n in node)
    if not isinstance(node, dict):
        return ""
    kind, content = node.get("t"), node.get("c")
    if kind in ("Str", "MetaString"):
        return content
    if kind == "MetaBool":
        return "true" if content else ""
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if kind in ("Code", "Math"):
        return content[1]
    if kind in ("Note", "RawInline", "RawBlock"):
        return ""
    if kind in ("Link", "Image", "Span", "Div"):
        return stringify(content[1])
    if kind == "Quoted":
        return "\u201c" + stringify(content[1]) + "\u201d"
    if kind == "Cite":
        return stringify(content[1])
    if kind in ("Para", "Plain", "Header"):
        text = stringify(content[-1] if kind == "Header" else content)  # a Para's content is its inlines
        return text + ("\n" if kind != "Plain" else "")
    if kind == "MetaMap":
        return " ".join(stringify(v) for v in content.values())
    return stringify(content)


def attr(node: Node) -> tuple[str, list[str], list[list[str]]]:
    """The (id, classes, key-values) of an element that carries attributes."""
    kind = node["t"]
    if kind in ("Header",):
        return tuple(node["c"][1])  # type: ignore[return-value]
    if kind in ("Div", "Span", "CodeBlock", "Code", "Table", "Figure"):
        return tuple(node["c"][0])  # type: ignore[return-value]
    if kind in ("Link", "Image"):
        return tuple(node["c"][0])  # type: ignore[return-value]
    return ("", [], [])


def div(identifier: str, classes: list[str], blocks: list[Node]) -> Node:
    return {"t": "Div", "c": [[identifier, classes, []], blocks]}


def para(inlines: list[Node]) -> Node:
    return {"t": "Para", "c": inlines}


def text_inlines(text: str) -> list[Node]:
    """Plain text as Str/Space inlines."""
    out: list[Node] = []
    for i, word in enumerate(text.split()):
        if i:
            out.append({"t": "Space"})
        out.append({"t": "Str", "c": word})
    return out


def meta_inlines(value: Any) -> list[Node]:
    """The inlines of a metadata value (MetaInlines, MetaString, or a block list)."""
    if not isinstance(value, dict):
        return []
    kind, content = value.get("t"), value.get("c")
    if kind == "MetaInlines":
        return content
    if kind == "MetaString":
        return text_inlines(content)
    if kind == "MetaBlocks":
        inlines: list[Node] = []
        for block in content:
            if block.get("t") in ("Para", "Plain"):
                if inlines:
                    inlines.append({"t": "Space"})
                inlines.extend(block["c"])
        return inlines
    return []
