"""Citation and bibliography fields found in the Word XML and replaced by markers pandoc carries through."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .. import zotero
from .package import NOTES, Package, W

# Markers in private-use characters: no author types them, and pandoc keeps them as text.
OPEN, CLOSE = "\ue000", "\ue001"
MARKER = re.compile(f"{OPEN}(cite|refs):(\\d+){CLOSE}")
# Zotero's and Mendeley's codes: "ADDIN ZOTERO_ITEM CSL_CITATION {...}", "ADDIN CSL_CITATION {...}".
_CITATION = re.compile(r"^\s*ADDIN\s+(?:ZOTERO_ITEM\s+)?CSL_CITATION\b\s*(.*?)\s*$", re.DOTALL)
_BIBLIOGRAPHY = re.compile(r"^\s*ADDIN\s+(?:ZOTERO_BIBL|Mendeley Bibliography)\b", re.DOTALL)


@dataclass
class FieldCitation:
    """One citation field: its JSON, the text Word showed, and where it stood."""

    data: dict[str, Any]
    shown: str
    place: str


@dataclass
class Found:
    citations: list[FieldCitation] = field(default_factory=list)
    bibliographies: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class _Open:
    begin: etree._Element
    code: list[str] = field(default_factory=list)
    runs: list[etree._Element] = field(default_factory=list)
    result: list[str] = field(default_factory=list)
    separated: bool = False


def _text(run: etree._Element) -> str:
    out = []
    for child in run:
        if child.tag in (W + "t", W + "delText"):
            out.append(child.text or "")
        elif child.tag == W + "tab":
            out.append("\t")
        elif child.tag in (W + "br", W + "cr"):
            out.append(" ")
    return "".join(out)


def paragraph_place(paragraph: etree._Element | None, number: int, part: str) -> str:
    """How a warning names a paragraph: its number in the part and its first words."""
    texts = paragraph.iter(W + "t", W + "delText") if paragraph is not None else []
    words = " ".join("".join(t.text or "" for t in texts).split())
    snippet = words[:50] + ("\u2026" if len(words) > 50 else "")
    where = "footnote paragraph" if "note" in part else "paragraph"
    return f"{where} {number} (\u201c{snippet}\u201d)"


def replace_fields(package: Package) -> Found:
    """Swap every citation field for a marker run and every bibliography field for a marker paragraph."""
    found = Found()
    for part in ("word/document.xml", *NOTES):
        root = package.xml(part)
        if root is None:
            continue
        if _replace_in(root, part, found):
            package.put(part, root)
    return found


def _replace_in(root: etree._Element, part: str, found: Found) -> bool:
    paragraphs = {p: i for i, p in enumerate(root.iter(W + "p"), start=1)}
    stack: list[_Open] = []
    changed = False
    for run in list(root.iter(W + "r")):
        char = run.find(W + "fldChar")
        kind = char.get(W + "fldCharType") if char is not None else None
        if kind == "begin":
            for opened in stack:
                opened.runs.append(run)
            stack.append(_Open(begin=run, runs=[run]))
            continue
        if not stack:
            continue
        top = stack[-1]
        for opened in stack:
            opened.runs.append(run)
        for instr in run.findall(W + "instrText") + run.findall(W + "delInstrText"):
            top.code.append(instr.text or "")
        if kind == "separate":
            top.separated = True
        elif kind == "end":
            done = stack.pop()
            changed |= _finish(done, part, paragraphs, found)
        else:
            for opened in stack:
                if opened.separated:
                    opened.result.append(_text(run))
    return changed


def _paragraph(node: etree._Element) -> etree._Element | None:
    while node is not None and node.tag != W + "p":
        node = node.getparent()
    return node


def _finish(done: _Open, part: str, paragraphs: dict[etree._Element, int], found: Found) -> bool:
    code = "".join(done.code)
    para = _paragraph(done.begin)
    place = paragraph_place(para, paragraphs.get(para, 0), part)
    match = _CITATION.match(code)
    if match:
        try:
            data = json.loads(match.group(1))
        except (json.JSONDecodeError, RecursionError) as exc:
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            found.problems.append(f"{place}: a citation field whose data is not JSON ({why}); its text is kept")
            return False
        if not isinstance(data, dict) or not isinstance(data.get("citationItems"), list):
            found.problems.append(f"{place}: a citation field without citation items; its text is kept")
            return False
        found.citations.append(FieldCitation(data, "".join(done.result), place))
        _swap_runs(done, f"{OPEN}cite:{len(found.citations) - 1}{CLOSE}")
        return True
    if _BIBLIOGRAPHY.match(code) or zotero.BIBLIOGRAPHY_TAIL in code:
        found.bibliographies += 1
        _swap_paragraphs(done, f"{OPEN}refs:{found.bibliographies - 1}{CLOSE}")
        return True
    return False


def _marker_run(like: etree._Element, text: str) -> etree._Element:
    """A run holding the marker, deleted text if it stands inside a tracked deletion."""
    deleted = any(a.tag == W + "del" for a in like.iterancestors())
    run = etree.Element(W + "r")
    etree.SubElement(run, W + ("delText" if deleted else "t")).text = text
    return run


def _swap_runs(done: _Open, text: str) -> None:
    begin = done.begin
    begin.addprevious(_marker_run(begin, text))
    containers = set()
    for run in done.runs:
        parent = run.getparent()
        if parent is not None:
            parent.remove(run)
            containers.add(parent)
    # Hyperlinks (and tracked-change wrappers) that held only the field's runs go with them.
    for container in containers:
        if container.tag in (W + "hyperlink", W + "ins", W + "del", W + "smartTag") and \
                container.find(f".//{W}r") is None and container.getparent() is not None:
            container.getparent().remove(container)


def _swap_paragraphs(done: _Open, text: str) -> None:
    first, last = _paragraph(done.begin), _paragraph(done.runs[-1])
    if first is None or last is None:
        return
    body = first.getparent()
    marker = etree.Element(W + "p")
    marker.append(_marker_run(first, text))
    first.addprevious(marker)
    node = first
    while node is not None:
        following = node.getnext()
        if node.getparent() is body:
            body.remove(node)
        if node is last:
            break
        node = following


# Direct formatting an editor can set in Word that Markdown has no form for (pandoc reads highlighting
# as [text]{.mark}, so that one comes back).
_UNMAPPED = {"color": "text colour", "shd": "shading"}


def unmapped_formatting(package: Package) -> list[str]:
    """A warning per paragraph with text colour, shading or a page break that the import drops."""
    found: list[str] = []
    for part in ("word/document.xml", *NOTES):
        root = package.xml(part)
        if root is None:
            continue
        for number, para in enumerate(root.iter(W + "p"), start=1):
            kinds = []
            for run in para.iter(W + "r"):
                props = run.find(W + "rPr")
                for tag, what in _UNMAPPED.items():
                    element = props.find(W + tag) if props is not None else None
                    value = None if element is None else element.get(W + "val") or element.get(W + "fill")
                    if value and value.lower() not in ("auto", "none", "clear", "000000") and what not in kinds:
                        kinds.append(what)
                if run.find(f"{W}br[@{W}type='page']") is not None and "a page break" not in kinds:
                    kinds.append("a page break")
            if kinds:
                found.append(f"{paragraph_place(para, number, part)}: {', '.join(kinds)} set in Word "
                             "has no Markdown form; the text is kept without it")
    return found
