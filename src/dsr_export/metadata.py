"""The document's bibliographic metadata, read from pandoc's parsed front matter."""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .ast import stringify, walk

DEFAULT_LANG = "en"
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_ORCID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dXx]")
_MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


@dataclass(frozen=True)
class Author:
    name: str
    bio: str = ""
    affiliations: tuple[str, ...] = ()
    orcid: str = ""
    email: str = ""
    note: str = ""  # a footnote on the name, e.g. "corresponding author"


@dataclass(frozen=True)
class Metadata:
    title: str
    authors: tuple[Author, ...] = ()
    subtitle: str = ""
    date: str = ""
    lang: str = DEFAULT_LANG
    publisher: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    identifier: str = ""
    rights: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def author_line(self) -> str:
        names = [a.name for a in self.authors]
        return names[0] if len(names) < 2 else ", ".join(names[:-1]) + " and " + names[-1]

    @property
    def uid(self) -> str:
        """A stable unique identifier: the declared one, else derived from title and authors."""
        if self.identifier:
            return self.identifier
        seed = self.title + "\n" + "\n".join(a.name for a in self.authors)
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, seed))

    @property
    def iso_date(self) -> str:
        """The date in ISO form for dc:date and PDF metadata; '' when it cannot be read."""
        return iso_date(self.date)

    @property
    def affiliations(self) -> tuple[str, ...]:
        """Every affiliation once, in the order authors name them (numbered 1, 2, ... on the title block)."""
        return tuple(dict.fromkeys(a for author in self.authors for a in author.affiliations))


def _text(meta: dict[str, Any], key: str) -> str:
    return _plain(meta.get(key, ""))


def _plain(value: Any) -> str:
    """Plain text of a metadata value, whitespace collapsed (footnotes dropped)."""
    return " ".join(stringify(value).split())


def _list(value: Any) -> list[Any]:
    if isinstance(value, dict) and value.get("t") == "MetaList":
        return value["c"]
    return [value] if value else []


def _map(value: Any) -> dict[str, Any] | None:
    return value["c"] if isinstance(value, dict) and value.get("t") == "MetaMap" else None


def _institutes(meta: dict[str, Any]) -> dict[str, str]:
    """Affiliations declared once and referred to by key: Pandoc Scholar's `institute`
    (`- key: {name: ...}` or `- key: Name`) and JOSS's `affiliations` (`- name: ..., index: 1`)."""
    found: dict[str, str] = {}
    for key in ("institute", "affiliations", "affiliation"):
        for item in _list(meta.get(key)):
            fields = _map(item)
            if fields is None:
                continue
            if "name" in fields:
                ident = _plain(fields.get("index") or fields.get("id") or fields.get("key") or "")
                if ident:
                    found.setdefault(ident, _plain(fields["name"]))
            elif len(fields) == 1:
                ((ident, value),) = fields.items()
                inner = _map(value)
                found.setdefault(ident, _plain(inner.get("name", "")) if inner is not None else _plain(value))
    return {k: v for k, v in found.items() if v}


def _affiliations(value: Any, institutes: dict[str, str]) -> tuple[str, ...]:
    """An author's affiliations: keys into the declared list ("1, 2", [a, b]) or names written out."""
    names: list[str] = []
    for item in _list(value):
        fields = _map(item)
        if fields is not None:  # Quarto-like `- name: ...` or `- ref: key`
            ref = _plain(fields.get("ref", ""))
            text = institutes.get(ref, "") if ref else _plain(fields.get("name", ""))
            if text:
                names.append(text)
            continue
        text = _plain(item)
        keys = [k.strip() for k in re.split(r"[,;]", text)] if text else []
        if keys and all(k in institutes for k in keys):
            names += [institutes[k] for k in keys]
        elif text:
            names.append(institutes.get(text, text))
    return tuple(dict.fromkeys(names))


def _orcid(value: Any) -> str:
    """A bare ORCID iD (0000-0002-1825-0097) from an iD or its URL; '' when it is not one."""
    match = _ORCID.search(_plain(value))
    return match.group(0).upper() if match else ""


def _author(value: Any, institutes: dict[str, str]) -> Author | None:
    fields = _map(value)
    if fields is not None:
        if "name" not in fields and len(fields) == 1:  # Pandoc Scholar: `- Name: {institute: ...}`
            ((name, inner),) = fields.items()
            details = _map(inner) or {}
        else:
            name, details = _plain(fields.get("name", "")), fields
        name = " ".join(name.split())
        if not name:
            return None
        where = next((details[k] for k in ("affiliation", "affiliations", "institute") if k in details), None)
        return Author(
            name=name,
            bio=_plain(details.get("bio", "")),
            affiliations=_affiliations(where, institutes),
            orcid=_orcid(details.get("orcid", "")),
            email=_plain(details.get("email", "")),
            note=_notes(fields.get("name") if "name" in fields else None) or _correspondence(details),
        )
    name = _plain(value)
    return Author(name=name) if name else None


def _notes(value: Any) -> str:
    """The text of footnotes written on a name (`Ada Lindqvist^[corresponding author]`)."""
    notes = [n for n in walk(value) if n["t"] == "Note"] if value is not None else []
    return "; ".join(" ".join(stringify(n["c"]).split()) for n in notes)


def _correspondence(details: dict[str, Any]) -> str:
    """Pandoc Scholar's `correspondence: yes` as a note naming the e-mail address."""
    if _plain(details.get("correspondence", "")).lower() not in ("yes", "true"):
        return ""
    email = _plain(details.get("email", ""))
    return f"corresponding author: {email}" if email else "corresponding author"


def iso_date(text: str) -> str:
    """A date as people write it ("18. December 2020", "29 January 2021", "December 18, 2020",
    "2020-12-18") in ISO form; '' when it cannot be read."""
    text = " ".join(text.replace(",", " ").split())
    if _ISO.match(text):
        return text
    words = re.findall(r"[A-Za-z]+|\d+", text)
    months = [_MONTHS[w[:3].lower()] for w in words if w[:3].lower() in _MONTHS and w.isalpha()]
    numbers = [int(w) for w in words if w.isdigit()]
    years = [n for n in numbers if n >= 1000]
    days = [n for n in numbers if 1 <= n <= 31]
    if len(months) != 1 or len(years) != 1 or len(days) > 1 or len(numbers) > 2:
        return ""
    try:
        when = datetime.date(years[0], months[0], days[0] if days else 1)
    except ValueError:
        return ""
    return when.isoformat() if days else when.isoformat()[:7]


def from_pandoc(meta: dict[str, Any], fallback_title: str) -> Metadata:
    """Plain-text metadata from pandoc's `meta` object."""
    lang = _text(meta, "lang") or DEFAULT_LANG
    if not _LANG.match(lang):
        lang = DEFAULT_LANG
    institutes = _institutes(meta)
    people = meta.get("author") or meta.get("authors")  # `authors:` is the JOSS spelling
    authors = tuple(a for a in (_author(v, institutes) for v in _list(people)) if a)
    keywords = tuple(k for k in (_plain(v) for v in _list(meta.get("keywords") or meta.get("tags"))) if k)
    return Metadata(
        title=_text(meta, "title") or fallback_title,
        subtitle=_text(meta, "subtitle"),
        authors=authors,
        date=_text(meta, "date"),
        lang=lang,
        publisher=_text(meta, "publisher"),
        description=_text(meta, "description") or _text(meta, "abstract"),
        keywords=keywords,
        identifier=_text(meta, "identifier"),
        rights=_text(meta, "rights"),
    )
