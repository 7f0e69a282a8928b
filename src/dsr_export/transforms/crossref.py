"""LaTeX-style cross-references (\\label, \\ref, \\autoref, \\eqref, \\cref) as numbered links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import ast as A
from ..errors import Diagnostic
from ..source import Source

Node = dict[str, Any]

_LABEL = re.compile(r"\\label\{([^{}]+)\}")
_REF = re.compile(r"^\\(ref|autoref|eqref|cref|Cref|pageref|nameref)\{([^{}]+)\}$")
_KINDS = {"Figure": "Figure", "Table": "Table", "Equation": "Equation", "Header": "Section"}


@dataclass(frozen=True)
class Target:
    """What a label names: its kind ("Figure", ...) and its number as printed."""

    kind: str
    number: str


def apply(source: Source, tree: dict[str, Any]) -> list[Diagnostic]:
    targets = _number(tree["blocks"])
    found: list[Diagnostic] = []
    from . import element_lists

    for elements in list(element_lists(tree["blocks"])):
        for i, element in enumerate(elements):
            ref = _REF.match(element["c"][1].strip()) if _is_tex(element) else None
            if not ref:
                continue
            command, label = ref.groups()
            target = targets.get(label)
            if target is None:
                found.append(Diagnostic(
                    f"cross-reference to unknown label '{label}' (\\{command}); printed as ??",
                    source.path, source.line_of("{" + label + "}"), "unknown-label", "warning"))
                elements[i] = {"t": "Str", "c": "??"}
                continue
            elements[i] = _link(label, _text(command, target))
    return found + _leftover_tex(source, tree)


def _leftover_tex(source: Source, tree: dict[str, Any]) -> list[Diagnostic]:
    """Raw LaTeX that is not a cross-reference shows only in LaTeX output, which we never make."""
    seen: dict[str, Diagnostic] = {}
    for node in A.walk(tree["blocks"]):
        if node["t"] in ("RawInline", "RawBlock") and node["c"][0] in ("tex", "latex"):
            text = node["c"][1].strip()
            command = re.match(r"\\[A-Za-z@]+\*?", text)
            name = command.group(0) if command else text[:40]
            if name not in seen:
                seen[name] = Diagnostic(f"raw LaTeX {name} is left out of every format",
                                        source.path, source.line_of(text), "raw-latex", "warning")
    return list(seen.values())


def _is_tex(node: Node) -> bool:
    return node["t"] == "RawInline" and node["c"][0] in ("tex", "latex")


def _text(command: str, target: Target) -> str:
    if command == "eqref":
        return f"({target.number})"
    if command in ("autoref", "cref", "Cref"):
        return f"{target.kind}\u00a0{target.number}"
    return target.number


def _link(label: str, text: str) -> Node:
    return {"t": "Link", "c": [["", ["cross-ref"], []], [{"t": "Str", "c": text}], ["#" + label, ""]]}


def _take_label(inlines: list[Node]) -> str:
    """Remove a \\label{...} from `inlines` (and the space before it); return the label or ''."""
    for i, node in enumerate(inlines):
        match = _LABEL.fullmatch(node["c"][1].strip()) if _is_tex(node) else None
        if match:
            del inlines[i]
            if i and inlines[i - 1]["t"] in ("Space", "SoftBreak"):
                del inlines[i - 1]
            return match.group(1)
    return ""


def _number(blocks: list[Node]) -> dict[str, Target]:
    """Number every labelled figure, table, equation and section in reading order."""
    targets: dict[str, Target] = {}
    counts = {"Figure": 0, "Table": 0, "Equation": 0}
    sections = [0] * 6
    for node in A.walk(blocks):
        kind = node["t"]
        if kind == "Header":
            level, (ident, classes, _), inlines = node["c"]
            label = _take_label(inlines) or ident
            if "unnumbered" not in classes:
                sections[level - 1] += 1
                sections[level:] = [0] * (6 - level)
            if label:
                node["c"][1][0] = label
                number = ".".join(str(n) for n in sections[:level] if n) or A.stringify(inlines)
                targets.setdefault(label, Target("Section", number))
        elif kind in ("Figure", "Table"):
            caption = node["c"][1][1]  # Figure and Table both carry [attr, [short, blocks], ...]
            label = ""
            for block in caption:
                if block["t"] in ("Plain", "Para"):
                    label = label or _take_label(block["c"])
            if not label and not node["c"][0][0]:
                continue
            label = label or node["c"][0][0]
            node["c"][0][0] = label
            counts[kind] += 1
            targets.setdefault(label, Target(kind, str(counts[kind])))
            _prefix_caption(caption, f"{kind}\u00a0{counts[kind]}: ")
            for image in A.walk(node["c"][2] if kind == "Figure" else []):
                if image["t"] == "Image":
                    _take_label(image["c"][1])
        elif kind == "Math" and node["c"][0]["t"] == "DisplayMath":
            match = _LABEL.search(node["c"][1])
            if match:
                counts["Equation"] += 1
                node["c"][1] = _LABEL.sub("", node["c"][1])
                node["labelled"] = match.group(1)
                targets.setdefault(match.group(1), Target("Equation", str(counts["Equation"])))
    _wrap_equations(blocks, targets)
    return targets


def _prefix_caption(caption: list[Node], text: str) -> None:
    for block in caption:
        if block["t"] in ("Plain", "Para"):
            block["c"][:0] = [{"t": "Str", "c": text.rstrip()}, {"t": "Space"}]
            return


def _wrap_equations(blocks: list[Node], targets: dict[str, Target]) -> None:
    """A labelled display equation becomes a Span with the label as id, centred, its number at the right.

    The layout is written on the elements themselves (a flex row between two equal spacers) so
    that HTML, EPUB and print agree whatever the theme; Word ignores it and shows "formula (1)".
    """
    from . import element_lists

    for elements in list(element_lists(blocks)):
        for i, node in enumerate(elements):
            if node["t"] == "Math" and "labelled" in node:
                label = node.pop("labelled")
                text = {"t": "Str", "c": f"({targets[label].number})"}
                spacer = {"t": "Span", "c": [["", [], [["style", "flex:1"]]], []]}
                number = {"t": "Span", "c": [["", ["equation-number"], [["style", _NUMBER_STYLE]]], [text]]}
                row = [["style", "display:inline-flex;align-items:center"]]
                elements[i] = {"t": "Span", "c": [[label, ["equation"], row], [spacer, node, number]]}


_NUMBER_STYLE = "flex:1;text-align:right"
