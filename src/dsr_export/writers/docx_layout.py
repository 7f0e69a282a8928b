"""Paragraph styles chosen for Word as the print layout sets them: flush first paragraphs, flush table cells."""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]
FIRST = "First Paragraph"
CELL = "Table Text"


def _styled(style: str, blocks: list[Node]) -> Node:
    return {"t": "Div", "c": [["", [], [["custom-style", style]]], blocks]}


def first_paragraphs(blocks: list[Node]) -> list[Node]:
    """A text paragraph that does not follow another one is set flush, as CSS's `p + p` indents only the rest.

    pandoc does so after headings only; after the title block, a figure, a table or a list it would indent.
    """
    out: list[Node] = []
    previous = None
    for block in blocks:
        out.append(_styled(FIRST, [block]) if block["t"] == "Para" and previous != "Para" else block)
        previous = block["t"]
    return out


def _cells(rows: list[Any]) -> None:
    for row in rows:
        for cell in row[1]:
            if cell[4]:
                cell[4] = [_styled(CELL, cell[4])]


def table_cells(blocks: list[Node]) -> None:
    """Every table cell's paragraphs in the "Table Text" style: no first-line indent, no spacing (in place)."""
    from .. import ast as A

    for node in A.walk(blocks):
        if node["t"] != "Table":
            continue
        _, _, _, head, bodies, foot = node["c"]
        _cells(head[1])
        for body in bodies:
            _cells(body[2])
            _cells(body[3])
        _cells(foot[1])


def apply(tree: dict[str, Any]) -> dict[str, Any]:
    """The tree with Word's paragraph styles set where the print layout differs from pandoc's defaults."""
    blocks = first_paragraphs(tree["blocks"])
    table_cells(blocks)
    return {**tree, "blocks": blocks}
