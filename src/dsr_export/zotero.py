"""Zotero's citation fields in Word: the JSON shape, stable identifiers, and locators to and from text."""

from __future__ import annotations

import hashlib
import re

SCHEMA = "https://github.com/citation-style-language/schema/raw/master/csl-citation.json"
ITEM_CODE = "ADDIN ZOTERO_ITEM CSL_CITATION"
BIBLIOGRAPHY_CODE = "ADDIN ZOTERO_BIBL"
BIBLIOGRAPHY_TAIL = "CSL_BIBLIOGRAPHY"
# Zotero splits its document preferences into custom properties of at most this many characters.
PREF_CHUNK = 255
# The local library that items made from a bibliography file are said to belong to.
LIBRARY = "dsrexprt"
# Zotero's item keys: eight characters from this alphabet (no 0, 1, O).
_KEY_ALPHABET = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"

# Locator terms as authors write them (pandoc's English terms) -> CSL locator label.
TERMS = {
    "p.": "page", "pp.": "page", "page": "page", "pages": "page",
    "chap.": "chapter", "chaps.": "chapter", "chapter": "chapter", "chapters": "chapter",
    "sec.": "section", "secs.": "section", "section": "section", "sections": "section", "§": "section",
    "para.": "paragraph", "paras.": "paragraph", "paragraph": "paragraph", "¶": "paragraph",
    "fig.": "figure", "figs.": "figure", "figure": "figure", "figures": "figure",
    "vol.": "volume", "vols.": "volume", "volume": "volume",
    "no.": "issue", "nos.": "issue",
    "l.": "line", "ll.": "line", "line": "line", "lines": "line",
    "n.": "note", "nn.": "note", "note": "note", "notes": "note",
    "col.": "column", "cols.": "column", "bk.": "book", "bks.": "book", "pt.": "part", "pts.": "part",
    "v.": "verse", "vv.": "verse", "fol.": "folio", "fols.": "folio", "op.": "opus", "opp.": "opus",
    "s.v.": "sub verbo", "s.vv.": "sub verbo",
}
# CSL label -> (singular, plural) short term written back into the Markdown.
SHORT = {
    "page": ("p.", "pp."), "chapter": ("chap.", "chaps."), "section": ("sec.", "secs."),
    "paragraph": ("para.", "paras."), "figure": ("fig.", "figs."), "volume": ("vol.", "vols."),
    "issue": ("no.", "nos."), "line": ("l.", "ll."), "note": ("n.", "nn."), "column": ("col.", "cols."),
    "book": ("bk.", "bks."), "part": ("pt.", "pts."), "verse": ("v.", "vv."), "folio": ("fol.", "fols."),
    "opus": ("op.", "opp."), "sub verbo": ("s.v.", "s.vv."),
}
_TOKEN = r"(?:\d+[A-Za-z]?|[ivxlcdm]+|[IVXLCDM]+)\b"
_RANGE = rf"{_TOKEN}(?:\s*[-\u2013\u2014]\s*{_TOKEN})?"
_TERM = "|".join(re.escape(t) for t in sorted(TERMS, key=len, reverse=True))
_LOCATOR = re.compile(rf"^\s*,?\s*({_TERM})\s*({_RANGE}(?:\s*(?:,|&|and)\s*{_RANGE})*)(.*)$", re.DOTALL)


def split_locator(suffix: str) -> tuple[str, str, str]:
    """A citation's suffix text -> (label, locator, the rest of the suffix); label "" when none."""
    match = _LOCATOR.match(suffix)
    if not match:
        return "", "", suffix
    return TERMS[match.group(1)], match.group(2), match.group(3)


def join_locator(label: str, locator: str, rest: str) -> str:
    """The suffix text an author writes for a label, a locator and what follows them."""
    if not locator:
        return rest
    single, plural = SHORT.get(label, SHORT["page"])
    term = plural if re.search(r"[-\u2013\u2014,&]| and ", locator) else single
    return f", {term} {locator}{rest}"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def item_key(key: str) -> str:
    """A Zotero-shaped item key (eight characters) derived from a citation key."""
    return "".join(_KEY_ALPHABET[b % len(_KEY_ALPHABET)] for b in _digest(key)[:8])


def item_uri(key: str) -> str:
    return f"http://zotero.org/users/local/{LIBRARY}/items/{item_key(key)}"


def citation_id(seed: str) -> str:
    """A stable citation id of Zotero's length, from what makes the citation unique."""
    return "".join("abcdefghijklmnopqrstuvwxyz0123456789"[b % 36] for b in _digest(seed)[:10])
