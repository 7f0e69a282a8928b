"""Citation fields back to pandoc citations: keys, locators, prefixes, suffixes, and what an editor changed."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .. import ast as A
from .. import zotero
from .fields import FieldCitation

Node = dict[str, Any]


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).replace("\u00a0", " ").split())


def _author_year(data: Node) -> tuple[str, str]:
    """The first author's family name and the year, from item data of any shape."""
    names = data.get("author") or data.get("editor")
    first = names[0] if isinstance(names, list) and names and isinstance(names[0], dict) else {}
    family = str(first.get("family") or first.get("literal") or "anon")
    issued = data.get("issued")
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    year = str(parts[0][0]) if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] else ""
    return family, year


def identity(data: Node) -> list[str]:
    """What names a work whatever its key: its DOI, and its title with the year."""
    found = []
    if data.get("DOI"):
        found.append("doi:" + str(data["DOI"]).lower().strip())
    title = " ".join(re.sub(r"[^\w\s]", "", str(data.get("title", ""))).lower().split())
    if title:
        found.append(f"title:{title}:{_author_year(data)[1]}")
    return found


def item_key(item: Node, keys: dict[str, str], known: dict[str, str] | None = None) -> str:
    """The citation key of a field's item: `citation-key`, else the source's entry for the same work
    (by DOI, else title and year), else one derived from author and year."""
    data = item.get("itemData") if isinstance(item.get("itemData"), dict) else {}
    uris = item.get("uris") or item.get("uri") or []
    uri = str(next(iter(uris), "") if isinstance(uris, list) else uris) or str(item.get("id", ""))
    if uri in keys:
        return keys[uri]
    key = str(data.get("citation-key") or data.get("citationKey") or "")
    if not key and known:
        key = next((known[i] for i in identity(data) if i in known), "")
    if not key:
        family, year = _author_year(data)
        base = re.sub(r"\W+", "", unicodedata.normalize("NFKD", family).encode("ascii", "ignore").decode()).lower()
        key = (base or "anon") + year
        taken = set(keys.values())
        stem, n = key, 0
        while key in taken:
            n += 1
            key = stem + "abcdefghijklmnopqrstuvwxyz"[(n - 1) % 26] * (1 + (n - 1) // 26)
    keys[uri] = key
    return key


def to_cite(found: FieldCitation, keys: dict[str, str], items: dict[str, Node],
            known: dict[str, str] | None = None) -> tuple[Node, list[str]]:
    """A pandoc Cite for one field, and the problems worth a warning (a hand-edited text)."""
    data = found.data
    citations = []
    for item in data["citationItems"]:
        if not isinstance(item, dict):
            continue
        key = item_key(item, keys, known)
        if isinstance(item.get("itemData"), dict):
            items.setdefault(key, {**item["itemData"], "id": key})
        mode = "SuppressAuthor" if item.get("suppress-author") else \
            "AuthorInText" if item.get("command") == "narrative" else "NormalCitation"
        suffix = zotero.join_locator(str(item.get("label") or "page"), str(item.get("locator") or ""),
                                     str(item.get("suffix") or ""))
        citations.append({
            "citationId": key,
            "citationPrefix": A.text_inlines(str(item.get("prefix") or "")),
            "citationSuffix": _suffix_inlines(suffix),
            "citationMode": {"t": mode},
            "citationNoteNum": 0,
            "citationHash": 0,
        })
    problems = []
    properties = data.get("properties") if isinstance(data.get("properties"), dict) else {}
    expected = properties.get("plainCitation")
    if expected is not None and _plain(found.shown) != _plain(str(expected)):
        problems.append(
            f"{found.place}: the text of citation {'; '.join('@' + c['citationId'] for c in citations)} was "
            f"edited by hand to \u201c{_plain(found.shown)}\u201d; the citation is kept, that text is not"
        )
    return {"t": "Cite", "c": [citations, A.text_inlines(found.shown)]}, problems


def _suffix_inlines(text: str) -> list[Node]:
    """Suffix text as pandoc's Markdown reader gives it (a leading comma stays a word of its own)."""
    out: list[Node] = []
    words = re.split(r"(\s+)", text)
    for word in words:
        if not word:
            continue
        if word.isspace():
            out.append({"t": "Space"})
        else:
            out.append({"t": "Str", "c": word})
    return out


# A parenthesised author and year typed as text: (Jardine, 2019), (Smith 2020, p. 4), (Lee et al. 2015).
_TYPED = re.compile(r"\((?:see |cf\. )?[A-Z][\w'\u2019-]+(?: et al\.)?(?:,| and | & |\s)[^()]{0,60}?\b(1[6-9]|20)\d\d[a-z]?\b[^()]{0,30}\)")


def typed_citations(text: str) -> list[str]:
    """Text that reads like a citation but is not a field."""
    return [m.group(0) for m in _TYPED.finditer(text)]
