"""The document's bibliographic metadata, read from pandoc's parsed front matter."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .ast import stringify

DEFAULT_LANG = "en"
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class Author:
    name: str
    bio: str = ""
    affiliations: tuple[str, ...] = ()
    orcid: str = ""
    email: str = ""


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


def _text(meta: dict[str, Any], key: str) -> str:
    return " ".join(stringify(meta.get(key, "")).split())


def _list(value: Any) -> list[Any]:
    if isinstance(value, dict) and value.get("t") == "MetaList":
        return value["c"]
    return [value] if value else []


def _author(value: Any) -> Author | None:
    if isinstance(value, dict) and value.get("t") == "MetaMap":
        fields = value["c"]
        name = " ".join(stringify(fields.get("name", "")).split())
        if not name:
            return None
        affiliations = tuple(" ".join(stringify(a).split()) for a in _list(fields.get("affiliation")))
        return Author(
            name=name,
            bio=" ".join(stringify(fields.get("bio", "")).split()),
            affiliations=affiliations,
            orcid=" ".join(stringify(fields.get("orcid", "")).split()),
            email=" ".join(stringify(fields.get("email", "")).split()),
        )
    name = " ".join(stringify(value).split())
    return Author(name=name) if name else None


def from_pandoc(meta: dict[str, Any], fallback_title: str) -> Metadata:
    """Plain-text metadata from pandoc's `meta` object."""
    lang = _text(meta, "lang") or DEFAULT_LANG
    if not _LANG.match(lang):
        lang = DEFAULT_LANG
    authors = tuple(a for a in (_author(v) for v in _list(meta.get("author"))) if a)
    keywords = tuple(k for k in (" ".join(stringify(v).split()) for v in _list(meta.get("keywords"))) if k)
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
