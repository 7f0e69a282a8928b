"""Live citations in the DOCX: every citation a Zotero field, the reference list Zotero's bibliography field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from .. import ast as A
from .. import pandoc, zotero
from ..csl import local_style_file
from ..errors import DsrError, ToolError
from . import Job

Node = dict[str, Any]
MODES = ("fields", "text")
FRONT_MATTER_KEY = "docx-citations"
_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def mode(job: Job) -> str:
    """`--docx-citations` wins over the front matter's `docx-citations`; the default is fields."""
    wanted = getattr(job.options, "docx_citations", None)
    if wanted is None:
        source = job.doc.source
        wanted = source.front_matter.get(FRONT_MATTER_KEY, "fields")
        if wanted not in MODES:
            raise DsrError(f"front matter '{FRONT_MATTER_KEY}' must be one of {', '.join(MODES)}",
                           path=source.path, line=source.line_of(f"{FRONT_MATTER_KEY}:"))
    return str(wanted)


def _run(xml: str) -> Node:
    return {"t": "RawInline", "c": ["openxml", xml]}


def _begin(code: str) -> Node:
    code = _NOT_XML.sub("", code)  # a bibliography's stray control characters cannot stand in XML
    return _run('<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                f'<w:r><w:instrText xml:space="preserve"> {escape(code)} </w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>')


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_END = _run('<w:r><w:fldChar w:fldCharType="end"/></w:r>')


def _formatted(inlines: list[Node], html: bool = True) -> str:
    """The shown text with the HTML Zotero keeps in formattedCitation (<i>, <b>, <sup>, <sub>, small caps)."""
    tags = {"Emph": ("<i>", "</i>"), "Strong": ("<b>", "</b>"), "Superscript": ("<sup>", "</sup>"),
            "Subscript": ("<sub>", "</sub>"),
            "SmallCaps": ('<span style="font-variant:small-caps;">', "</span>")}
    out = []
    for node in inlines:
        kind = node.get("t")
        if kind in tags:
            inner = _formatted(node["c"], html)
            out.append(tags[kind][0] + inner + tags[kind][1] if html else inner)
        elif kind in ("Link", "Span"):
            out.append(_formatted(node["c"][1], html))
        elif kind == "Quoted":
            left, right = ("\u201c", "\u201d") if node["c"][0]["t"] == "DoubleQuote" else ("\u2018", "\u2019")
            out.append(left + _formatted(node["c"][1], html) + right)
        elif kind == "Note":
            continue
        else:
            out.append(escape(A.stringify(node)) if html else A.stringify(node))
    return "".join(out)


def _affix(inlines: list[Node]) -> str:
    return A.stringify(inlines).strip()


class Fields:
    """Turns one document's citations into Zotero fields and writes Zotero's document preferences."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.items = _csl_items(job)
        self.count = 0
        self.notes = 0

    def _item(self, citation: Node) -> Node:
        key = citation["citationId"]
        label, locator, rest = zotero.split_locator(A.stringify(citation["citationSuffix"]))
        item: Node = {"id": key, "uris": [zotero.item_uri(key)], "itemData": self.items.get(key, {"id": key})}
        if locator:
            item["locator"], item["label"] = locator, label
        prefix = _affix(citation["citationPrefix"])
        if prefix:
            item["prefix"] = prefix
        if rest.strip():
            item["suffix"] = rest
        mode = citation["citationMode"]["t"]
        if mode == "SuppressAuthor":
            item["suppress-author"] = True
        elif mode == "AuthorInText":
            # CSL 1.0 (Zotero's schema) has no narrative form; CSL 1.1's "command" names it.
            item["command"] = "narrative"
        return item

    def code(self, cite: Node, shown: list[Node], note: int) -> str:
        citations = cite["c"][0]
        self.count += 1
        seed = f"{self.count}:" + ";".join(c["citationId"] for c in citations)
        text = _formatted(shown, html=False).strip()  # what Word shows, quotes as they are drawn
        data = {
            "citationID": zotero.citation_id(seed),
            "properties": {"formattedCitation": _formatted(shown).strip(), "plainCitation": text,
                           "noteIndex": note},
            "citationItems": [self._item(c) for c in citations],
            "schema": zotero.SCHEMA,
        }
        return f"{zotero.ITEM_CODE} {json.dumps(data, ensure_ascii=False)}"

    def mark(self, ast: Node) -> Node:
        """A copy of the AST with field codes around every citation and the reference list."""
        self.notes = 0
        blocks = self._blocks(json.loads(json.dumps(ast["blocks"])), 0)
        return {**ast, "blocks": blocks}

    def _blocks(self, blocks: list[Node], note: int) -> list[Node]:
        for block in blocks:
            if block.get("t") == "Div" and block["c"][0][0] == "refs" and block["c"][1]:
                self._bibliography(block)
                continue
            self._walk(block, note)
        return blocks

    def _walk(self, node: Any, note: int) -> None:
        if isinstance(node, list):
            for child in node:
                if isinstance(child, dict) and child.get("t") == "Cite":
                    self._cite(child, note)
                elif isinstance(child, dict) and child.get("t") == "Note":
                    self.notes += 1
                    self._walk(child["c"], self.notes)
                else:
                    self._walk(child, note)
        elif isinstance(node, dict):
            for value in node.values():
                if isinstance(value, (list, dict)):
                    self._walk(value, note)

    def _cite(self, cite: Node, note: int) -> None:
        content = cite["c"][1]
        if len(content) == 1 and content[0].get("t") == "Note":  # a note style's citation: the field is the note
            self.notes += 1
            body = content[0]["c"]
            first = next((b for b in body if b["t"] in ("Para", "Plain")), None)
            if first is None:
                return
            shown = first["c"]
            first["c"] = [_begin(self.code(cite, shown, self.notes)), *shown, _END]
            return
        self._walk(content, note)  # an author's note inside a citation's affix
        cite["c"][1] = [_begin(self.code(cite, content, note)), *content, _END]

    def _bibliography(self, refs: Node) -> None:
        entries = [b for b in A.walk(refs["c"][1]) if b.get("t") in ("Para", "Plain")]
        if not entries:
            return
        cited = {c["citationId"] for n in A.walk(self.job.doc.ast["blocks"]) if n.get("t") == "Cite"
                 for c in n["c"][0]}
        listed = [b["c"][0][0].removeprefix("ref-") for b in refs["c"][1] if b.get("t") == "Div"]
        uncited = [[zotero.item_uri(k)] for k in listed if k not in cited]
        code = f"{zotero.BIBLIOGRAPHY_CODE} " + json.dumps({"uncited": uncited, "omitted": [], "custom": []}) + \
            f" {zotero.BIBLIOGRAPHY_TAIL}"
        entries[0]["c"] = [_begin(code), *entries[0]["c"]]
        entries[-1]["c"] = [*entries[-1]["c"], _END]

    def edits(self) -> dict[str, Callable[[bytes], bytes]]:
        """ZIP entry rewrites: Zotero's document preferences among the custom properties."""
        return {"docProps/custom.xml": self._preferences}

    def _preferences(self, custom: bytes) -> bytes:
        root = etree.fromstring(custom)
        pids = [int(p.get("pid", "1")) for p in root]
        pid = max(pids, default=1)
        prefs = preferences_xml(style_uri(self.job), self.job.doc.meta.lang, self.job.doc.style.notes)
        for n, start in enumerate(range(0, len(prefs), zotero.PREF_CHUNK), start=1):
            pid += 1
            prop = etree.SubElement(root, f"{{{_CUSTOM_NS}}}property",
                                    {"fmtid": _FMTID, "pid": str(pid), "name": f"ZOTERO_PREF_{n}"})
            etree.SubElement(prop, f"{{{_VT_NS}}}lpwstr").text = prefs[start:start + zotero.PREF_CHUNK]
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def preferences_xml(style: str, lang: str, notes: bool) -> str:
    """Zotero's document preferences: the style and locale, fields (not bookmarks), footnotes for notes."""
    note_type = '<pref name="noteType" value="1"/>' if notes else ""
    return (f'<data data-version="3" zotero-version="6.0.36"><session id="{zotero.citation_id(style)[:8]}"/>'
            f'<style id="{escape(style)}" locale="{escape(lang)}" hasBibliography="1" '
            f'bibliographyStyleHasBeenSet="1"/><prefs><pref name="fieldType" value="Field"/>{note_type}'
            '<pref name="automaticJournalAbbreviations" value="true"/></prefs></data>')


def style_uri(job: Job) -> str:
    """The style as Zotero names it: the collection's address, or the <id> of the author's own file."""
    style = job.doc.style
    if local_style_file(style.name, job.doc.folder) is None and "/" not in style.name:
        return f"http://www.zotero.org/styles/{style.name}"
    try:
        found = etree.parse(str(style.path)).findtext("{http://purl.org/net/xbiblio/csl}info/"
                                                      "{http://purl.org/net/xbiblio/csl}id")
    except (etree.XMLSyntaxError, OSError):
        found = None
    return (found or Path(style.path).stem).strip()


def _csl_items(job: Job) -> dict[str, Node]:
    """Every cited entry as CSL JSON (pandoc's own conversion, so YAML dates and names come out as Zotero's)."""
    refs = job.doc.references
    if not refs:
        return {}
    data = [r.data for r in refs.values()]
    text = "---\nreferences: " + json.dumps(data, ensure_ascii=False, default=str) + "\n...\n"
    try:
        out, _ = pandoc.run(["--from", "markdown", "--to", "csljson"], text.encode("utf-8"),
                            cwd=job.doc.folder, source=job.doc.source.path)
        converted = json.loads(out)
    except (ToolError, ValueError):  # the entries as read, rather than no DOCX at all
        converted = json.loads(json.dumps(data, default=str))
    items = {}
    for item in converted:
        key = str(item.get("id", ""))
        items[key] = {**item, "id": key, "citation-key": key}
    return items


def wanted(job: Job) -> Fields | None:
    """The field writer when the DOCX is to carry live citations, else None."""
    return Fields(job) if mode(job) == "fields" else None

