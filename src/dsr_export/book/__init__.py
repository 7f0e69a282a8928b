"""Books: a master file listing chapter files, parsed as one Document (one citation numbering, one
reference list, cross-references between chapters), with its parts and chapters marked for the writers."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import ast as A
from .. import source as src
from ..config import Options
from ..errors import Diagnostic, DsrError, GateError
from .reader import BACK_MARK, CHAPTER_MARK, Joined, chapter_sources, is_book, join

if TYPE_CHECKING:
    from ..document import Document

__all__ = ["Book", "chapter_sources", "is_book", "parse"]

# Classes the parse gives first-level headings (and so pandoc's sections) of a book.
FRONT, PART, CHAPTER, BACK = "frontmatter", "part", "chapter", "backmatter"
REFERENCE_SECTIONS = ("book", "chapter")


@dataclass(frozen=True)
class Book:
    """What the writers need to know about a book beyond its Document."""

    master: Path
    chapters: tuple[Path, ...]
    reference_section: str  # one list at the end ("book"), or one per chapter
    joined: Joined  # where each line of the joined text came from

    def diagnostic(self, found: Diagnostic) -> Diagnostic:
        """A finding about the joined text, pointed at the chapter file and line it came from."""
        return self.joined.diagnostic(found)


def parse(master: src.Source, options: Options) -> Document:
    """The master and every chapter, parsed and checked as one Document; problems name their own file."""
    from .. import document

    joined = join(master)
    where = _reference_section(master)
    try:
        doc = document.parse_source(joined.source, options)
    except GateError as exc:
        raise GateError([joined.diagnostic(d) for d in exc.diagnostics]) from None
    except DsrError as exc:
        raise joined.error(exc) from None
    blocks = doc.ast["blocks"]
    _mark_structure(blocks)
    if where == "chapter":
        _chapter_references(blocks)
    warnings = tuple(joined.diagnostic(w) for w in doc.warnings)
    info = Book(master.path, tuple(e.path for e in joined.entries), where, joined)
    return dataclasses.replace(doc, warnings=warnings, book=info)


def _reference_section(master: src.Source) -> str:
    value = master.front_matter.get("reference-section", "book")
    if value not in REFERENCE_SECTIONS:
        raise DsrError(
            f"front matter 'reference-section' must be {' or '.join(REFERENCE_SECTIONS)}, not '{value}'",
            path=master.path, line=master.line_of("reference-section:"),
        )
    return str(value)


def _mark_structure(blocks: list[dict[str, Any]]) -> None:
    """Give each first-level heading its role (front matter, part, chapter, back matter); drop the marks."""
    role, keep = FRONT, []
    for block in blocks:
        if block["t"] == "Div" and CHAPTER_MARK in A.attr(block)[1]:
            role = CHAPTER
            continue
        if block["t"] == "Div" and BACK_MARK in A.attr(block)[1]:
            role = BACK
            continue
        if block["t"] == "Header" and block["c"][0] == 1:
            classes = block["c"][1][1]
            if PART in classes:
                pass
            elif role in (CHAPTER, BACK):
                classes.append(role)
                role = "" if role == CHAPTER else BACK  # later headings of a chapter stay inside it
            elif role == FRONT:
                classes.append(FRONT)
        keep.append(block)
    blocks[:] = keep


def _chapter_references(blocks: list[dict[str, Any]]) -> None:
    """`reference-section: chapter`: each chapter ends with the works it cites, and the book's list goes."""
    refs_at = next((i for i, b in enumerate(blocks) if b["t"] == "Div" and A.attr(b)[0] == "refs"), None)
    if refs_at is None:
        return
    refs = blocks[refs_at]
    entries = {A.attr(e)[0]: e for e in refs["c"][1] if e["t"] == "Div"}
    heading = blocks[refs_at - 1] if refs_at and blocks[refs_at - 1]["t"] == "Header" else None
    title = heading["c"][2] if heading else A.text_inlines("References")
    del blocks[refs_at]
    if heading is not None:
        blocks.remove(heading)
    starts = [i for i, b in enumerate(blocks) if b["t"] == "Header" and CHAPTER in b["c"][1][1]]
    for n, start in reversed(list(enumerate(starts, start=1))):
        end = next((s for s in starts if s > start), len(blocks))
        end = next((i for i in range(start + 1, end) if _is_part(blocks[i])), end)
        prefix = f"c{n}-"
        cited: dict[str, None] = {}
        for node in A.walk(blocks[start:end]):
            if node["t"] == "Link" and node["c"][2][0].startswith("#ref-"):
                cited[node["c"][2][0][1:]] = None
                node["c"][2][0] = "#" + prefix + node["c"][2][0][1:]
        if not cited:
            continue
        own = []
        for ident in (i for i in entries if i in cited):  # the style's order, not the order of citing
            entry = copy.deepcopy(entries[ident])
            entry["c"][0][0] = prefix + ident
            own.append(entry)
        list_div = {"t": "Div", "c": [[f"{prefix}refs", list(A.attr(refs)[1]), list(A.attr(refs)[2])], own]}
        head = {"t": "Header", "c": [2, [f"{prefix}references", ["unnumbered"], []], copy.deepcopy(title)]}
        blocks[end:end] = [head, list_div]


def _is_part(block: dict[str, Any]) -> bool:
    return block["t"] == "Header" and PART in block["c"][1][1]

