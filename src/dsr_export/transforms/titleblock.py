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
        if not (author.affiliations or author.orcid or author.note):
            continue
        inlines = A.text_inlines(author.name)
        marks = [str(numbers[a]) for a in author.affiliations] + (["*"] if author.note else [])
        if marks:
            inlines.append({"t": "Superscript", "c": [{"t": "Str", "c": ",".join(marks)}]})
        if author.orcid:
            url = ORCID_URL + author.orcid
            inlines += [{"t": "Space"}, {"t": "Str", "c": "ORCID"}, {"t": "Space"},
                        {"t": "Link", "c": [["", ["orcid"], []], [{"t": "Str", "c": url}], [url, ""]]}]
        blocks.append(_styled(inlines))
    for name, number in numbers.items():
        blocks.append(_styled([_mark(str(number)), *A.text_inlines(name)]))
    for note in dict.fromkeys(a.note for a in meta.authors if a.note):
        blocks.append(_styled([_mark("*"), *A.text_inlines(note)]))
    return blocks


def _mark(text: str) -> Node:
    return {"t": "Superscript", "c": [{"t": "Str", "c": text}]}


def _styled(inlines: list[Node], style: str = "Affiliation") -> Node:
    # pandoc makes the paragraph style (based on Normal) unless the reference document has it.
    return {"t": "Div", "c": [["", [], [["custom-style", style]]], [A.para(inlines)]]}


def publisher_and_date(meta: Metadata) -> list[Node]:
    """The publisher, then the date, as the other formats' title blocks show them (pandoc's shows no publisher)."""
    blocks = [_styled(A.text_inlines(meta.publisher), "Publisher")] if meta.publisher else []
    return blocks + ([_styled(A.text_inlines(meta.date), "Date")] if meta.date else [])


def with_affiliations(tree: dict[str, Any], meta: Metadata) -> dict[str, Any]:
    """A copy of `tree` whose text opens with the affiliation, publisher and date paragraphs (the tree is shared).

    The date moves from pandoc's title block to after the publisher, so it is taken out of the metadata.
    """
    blocks = affiliation_blocks(meta) + publisher_and_date(meta)
    fields = {k: v for k, v in tree["meta"].items() if k != "date"} if meta.date else tree["meta"]
    return {**tree, "meta": fields, "blocks": [*blocks, *tree["blocks"]]} if blocks else tree
