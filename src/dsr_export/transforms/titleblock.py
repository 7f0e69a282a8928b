"""The authors' affiliations and ORCID iDs as paragraphs, for DOCX's title block (pandoc's Word
writer shows only author names)."""

from __future__ import annotations

from typing import Any

from .. import ast as A
from ..metadata import Metadata

Node = dict[str, Any]
ORCID_URL = "https://orcid.org/"


def affiliation_blocks(meta: Metadata) -> list[Node]:
    """One paragraph per author with affiliations or an ORCID iD, then the numbered affiliations."""
    numbers = {name: i for i, name in enumerate(meta.affiliations, start=1)}
    blocks: list[Node] = []
    for author in meta.authors:
        if not (author.affiliations or author.orcid):
            continue
        inlines = A.text_inlines(author.name)
        if author.affiliations:
            marks = ",".join(str(numbers[a]) for a in author.affiliations)
            inlines.append({"t": "Superscript", "c": [{"t": "Str", "c": marks}]})
        if author.orcid:
            url = ORCID_URL + author.orcid
            inlines += [{"t": "Space"}, {"t": "Str", "c": "ORCID"}, {"t": "Space"},
                        {"t": "Link", "c": [["", ["orcid"], []], [{"t": "Str", "c": url}], [url, ""]]}]
        blocks.append(_styled(inlines))
    for name, number in numbers.items():
        blocks.append(_styled([{"t": "Superscript", "c": [{"t": "Str", "c": str(number)}]}, *A.text_inlines(name)]))
    return blocks


def _styled(inlines: list[Node]) -> Node:
    # "Affiliation" is a paragraph style of pandoc's reference document family (custom-style).
    return {"t": "Div", "c": [["", [], [["custom-style", "Affiliation"]]], [A.para(inlines)]]}


def with_affiliations(tree: dict[str, Any], meta: Metadata) -> dict[str, Any]:
    """A copy of `tree` whose text opens with the affiliation paragraphs (the tree itself is shared)."""
    blocks = affiliation_blocks(meta)
    return {**tree, "blocks": [*blocks, *tree["blocks"]]} if blocks else tree
