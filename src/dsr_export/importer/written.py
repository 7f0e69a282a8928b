"""Blocks the editor left alone are written back exactly as the source had them.

The source is split into its top-level blocks (a marker paragraph between blank-line separated
chunks that start a new block), parsed and rewritten as the build does, and each group of blocks
is remembered with the text that made it. An imported block equal to one of them, once what Word
cannot carry is set aside, is replaced by that text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .. import ast as A
from .. import pandoc, transforms
from .. import source as src
from ..errors import ToolError

Node = dict[str, Any]
_MARK = "dsrblockmark"
_MARK_LINE = re.compile(rf"^{_MARK}(\d+)$")
# A chunk that continues the block before it: list items, table rows and captions, definitions.
_CONTINUES = re.compile(r"^(?:[-*+][ \t]|\d+[.)][ \t]|[ \t]*:[ \t]|[|+]|#\.|\(@)")
# Blocks whose indented chunks belong to them (list items, definitions, notes).
_HOLDS_INDENTED = re.compile(r"^(?:[-*+][ \t]|\d+[.)][ \t]|#\.|\(@|\[\^|[^\n]*\n[ \t]*:[ \t])")


def _chunks(body: str) -> list[str]:
    """The body cut at blank lines where a new top-level block can begin."""
    groups: list[str] = []
    fences = 0
    for chunk in re.split(r"\n[ \t]*\n", body):
        if not chunk.strip():
            continue
        indented = chunk[:1] in (" ", "\t")
        starts = groups and fences % 2 == 0 and not _CONTINUES.match(chunk) and not (
            indented and _HOLDS_INDENTED.match(groups[-1]))
        if starts or not groups:
            groups.append(chunk.strip("\n"))
        else:
            groups[-1] += "\n\n" + chunk.strip("\n")
        fences += sum(1 for line in chunk.splitlines() if re.match(r"^(```|~~~|:::)", line))
    return groups


def normal(node: Any) -> Any:
    """A block as compared: no citation text, quotes as characters, no attributes or raw code Word drops."""
    if isinstance(node, list):
        flat: list[Any] = []
        for item in (normal(x) for x in node):
            if isinstance(item, tuple):
                flat.extend(item)
            elif item is not None:
                flat.append(item)
        out: list[Any] = []
        for item in flat:
            if isinstance(item, dict) and item.get("t") == "Str" and out and isinstance(out[-1], dict) \
                    and out[-1].get("t") == "Str":
                out[-1] = {"t": "Str", "c": out[-1]["c"] + item["c"]}
                continue
            if isinstance(item, dict) and item.get("t") == "Space" and out and out[-1] == {"t": "Space"}:
                continue
            out.append(item)
        while out and out[-1] == {"t": "Space"}:
            out.pop()
        return out
    if not isinstance(node, dict):
        return node
    kind, content = node.get("t"), node.get("c")
    if kind in ("SoftBreak", "Space"):
        return {"t": "Space"}
    if kind in ("RawInline", "RawBlock"):
        if content == ["markdown", "::: {#refs}\n:::"]:
            return {"t": "Refs"}
        # The import's own marks (CriticMarkup) count; the source's raw HTML and TeX Word cannot carry.
        return {"t": "Str", "c": content[1]} if content[0] == "markdown" else None
    if kind == "Div" and content[0][0] == "refs":
        return {"t": "Refs"}
    if kind == "Quoted":
        left, right = ("\u201c", "\u201d") if content[0]["t"] == "DoubleQuote" else ("\u2018", "\u2019")
        return ({"t": "Str", "c": left}, *normal(content[1]), {"t": "Str", "c": right})
    if kind == "Str":
        return {"t": "Str", "c": content.replace("'", "\u2019").replace("\u00a0", " ")}
    if kind == "Math":  # Word's equations come back as pandoc writes TeX: spacing, braces, display its own
        tex = re.sub(r"[_^]\{\}|\\left|\\right", "", content[1])
        return {"t": "Math", "c": [re.sub(r"[\s{}]", "", tex)]}
    if kind == "Span" and not {"underline", "smallcaps", "mark"} & set(content[0][1]):
        return tuple(normal(content[1]))
    if kind == "Cite":  # affixes as text: the source's reader keeps "p.\u00a03" as one word
        return {"t": "Cite", "c": [[c["citationId"], c["citationMode"]["t"], _words(c["citationPrefix"]),
                                     _words(c["citationSuffix"])] for c in content[0]]}
    if kind in ("Link", "Image"):
        return {"t": kind, "c": [normal(content[1]) if kind == "Link" else [], unquote(content[2][0])]}
    if kind in ("Figure", "Table"):
        return {"t": kind, "c": [" ".join(json.dumps(normal(x), ensure_ascii=False) for x in _texts(node))]}
    if kind == "Header":
        return {"t": "Header", "c": [content[0], normal(content[2])]}
    return {k: normal(v) if isinstance(v, (list, dict)) else v for k, v in node.items()}


def _words(inlines: list[Node]) -> str:
    return " ".join(A.stringify(inlines).replace("\u00a0", " ").replace("'", "\u2019").split())


def _texts(node: Any) -> list[Any]:
    """The inline lists of a figure or table, in order (captions and cells, no layout)."""
    found: list[Any] = []
    if isinstance(node, dict):
        if node.get("t") in ("Plain", "Para"):
            found.append(node["c"])
        elif node.get("t") == "Image":
            found.append(node["c"][2][0])
        else:
            for value in node.values():
                found += _texts(value)
    elif isinstance(node, list):
        for value in node:
            found += _texts(value)
    return found


def _key(blocks: list[Node]) -> str:
    return json.dumps(normal(blocks), ensure_ascii=False, sort_keys=True)


def source_blocks(source: src.Source, body: str) -> tuple[dict[str, str], list[str]]:
    """The source's block groups, as the build rewrites them, -> the text they were written as."""
    groups = _chunks(body)
    marked = "\n\n".join(f"{_MARK}{i}\n\n{text}" for i, text in enumerate(groups))
    head = source.text[: len(source.text) - len(body)]
    args = ["--from", pandoc.MARKDOWN, "--to", "json", "--lua-filter", str(transforms.CITO_FILTER)]
    try:
        out, _ = pandoc.run(args, (head + marked).encode("utf-8"), cwd=source.folder, source=source.path)
    except ToolError:  # the CiTO filter reads the bibliography; without one, the keys stay as written
        out, _ = pandoc.run(args[:4], (head + marked).encode("utf-8"), cwd=source.folder, source=source.path)
    tree = json.loads(out)
    try:
        transforms.apply(src.Source(source.path, head + marked, source.front_matter), tree)
    except Exception:  # noqa: BLE001, S110 - a rewrite that fails here only costs the exact text
        pass
    found: dict[str, str] = {}
    current: int | None = None
    members: dict[int, list[Node]] = {}
    for block in tree["blocks"]:
        text = block["c"][0]["c"] if block["t"] == "Para" and len(block["c"]) == 1 \
            and block["c"][0]["t"] == "Str" else ""
        match = _MARK_LINE.match(text)
        if match:
            current = int(match.group(1))
            members[current] = []
        elif current is not None:
            members[current].append(block)
    for i, blocks in members.items():
        if blocks and i < len(groups):
            found.setdefault(_key(blocks), groups[i])
    return found, groups


# What Word cannot carry and an edited block therefore loses: raw HTML and TeX, CiTO prefixes.
_MARKUP = re.compile(r"<(?![a-zA-Z][\w+.-]*:|[^>\s]+@)[a-zA-Z][^>]*>|\\[a-zA-Z]+\{[^}]*\}|(?<![\w/.])@[A-Za-z_]+:[\w-]+")


def _lost(groups: list[str], used: set[str]) -> list[str]:
    """A warning for each source block with such markup that does not come back as written."""
    warnings = []
    for text in groups:
        marks = list(dict.fromkeys(_MARKUP.findall(text)))
        if text in used or not marks:
            continue
        words = " ".join(text.split())
        shown = ", ".join(marks[:4]) + (", ..." if len(marks) > 4 else "")
        warnings.append(f"the source block \u201c{words[:50]}\u2026\u201d was edited in the DOCX; what it wrote "
                        f"as {shown} comes back as the build rendered it (links, numbers, plain text, bare keys)")
    return warnings


def as_written(blocks: list[Node], rendered: list[str], source: src.Source, body: str) -> tuple[str, list[str]]:
    """The imported blocks' Markdown, with every group the source has word for word in its own text,
    and warnings for source blocks whose raw markup an edit has turned into what the build made of it."""
    known, groups = source_blocks(source, body)
    sizes = sorted({len(json.loads(k)) for k in known}, reverse=True)
    out: list[str] = []
    i = 0
    while i < len(blocks):
        for size in sizes:
            if i + size <= len(blocks) and _key(blocks[i:i + size]) in known:
                out.append(known[_key(blocks[i:i + size])])
                i += size
                break
        else:
            out.append(rendered[i])
            i += 1
    text = "\n\n".join(t.strip("\n") for t in out if t.strip()) + "\n"
    return text, _lost(groups, set(out))


def render_each(blocks: list[Node], api: list[int], path: Path) -> list[str]:
    """Each top-level block's Markdown, from one pandoc run."""
    marked: list[Node] = []
    for i, block in enumerate(blocks):
        marked += [{"t": "Para", "c": [{"t": "Str", "c": f"{_MARK}{i}"}]}, block]
    doc = {"pandoc-api-version": api, "meta": {}, "blocks": marked}
    out, _ = pandoc.run(["--from", "json", "--to", "markdown-smart", "--wrap=none"],
                        json.dumps(doc).encode("utf-8"), cwd=Path.cwd(), source=path)
    pieces: dict[int, list[str]] = {}
    current = -1
    for para in re.split(r"\n[ \t]*\n", _inline_notes(out.decode("utf-8"))):
        match = _MARK_LINE.match(para.strip())
        if match:
            current = int(match.group(1))
            pieces[current] = []
        elif current >= 0:
            pieces[current].append(para)
    return ["\n\n".join(pieces.get(i, [])) for i in range(len(blocks))]


_NOTE = re.compile(r"^\[\^([^\]]+)\]: (.*)\n(?=\n|\Z)(?![ \t])", re.MULTILINE)


def _inline_notes(text: str) -> str:
    """One-paragraph notes written inline, ^[...], as authors mostly write them."""
    notes = {m.group(1): m.group(2) for m in _NOTE.finditer(text) if "[^" not in m.group(2)}
    if not notes:
        return text
    text = _NOTE.sub(lambda m: "" if m.group(1) in notes else m.group(0), text)
    text = re.sub(r"\[\^([^\]]+)\](?!:)", lambda m: f"^[{notes[m.group(1)]}]" if m.group(1) in notes else m.group(0),
                  text)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
