"""Rewrites of the parsed AST that let manuscripts written for other pandoc tools publish cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import Diagnostic
from ..source import Source
from . import crossref, math, rawhtml, scripts, urls

# Run by pandoc before --citeproc: strips CiTO prefixes from citation keys.
CITO_FILTER = Path(__file__).resolve().parents[1] / "filters" / "cito.lua"


def apply(source: Source, tree: dict[str, Any]) -> list[Diagnostic]:
    """Every transform, in order; returns their warnings. Runs after the gate, before any writer."""
    found: list[Diagnostic] = []
    found += rawhtml.apply(source, tree)
    math.environments(tree)  # before cross-references, so a \label in an equation is numbered
    math.display_spans(tree)  # before cross-references, which number the formulas inside the spans
    found += crossref.apply(source, tree)
    found += urls.apply(source, tree)
    found += math.check(source, tree)
    scripts.apply(tree)  # lang and dir for text in another script, where the author gave none
    return found


def element_lists(node: Any) -> Iterator[list[Any]]:
    """Every list of AST elements under `node` (inline and block lists), innermost first."""
    if isinstance(node, dict):
        for value in node.values():
            yield from element_lists(value)
    elif isinstance(node, list):
        for value in node:
            yield from element_lists(value)
        if node and all(isinstance(v, dict) and "t" in v for v in node):
            yield node
