"""The imported Markdown's front matter: the source's own, kept as written, or one made from the DOCX."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .. import ast as A
from .. import source as src
from .package import Package

Node = dict[str, Any]
_END = re.compile(r"^(---|\.\.\.)[ \t]*$", re.MULTILINE)
# Front matter the theme shows in the text -> the key it comes from.
MATTER_KEYS = {"image-credit": "image-credit", "disclaimer": "disclaimer"}


def block(text: str) -> str:
    """The front matter exactly as written, fences included ("" when there is none)."""
    if not re.match(r"^---[ \t]*\n", text):
        return ""
    end = _END.search(text, text.index("\n") + 1)
    if end is None:
        return ""
    stop = text.find("\n", end.end())
    return text[: len(text) if stop < 0 else stop + 1]


def _words(inlines: list[list[Node]]) -> str:
    return " ".join(" ".join(A.stringify(i).split()) for i in inlines)


def make(source: src.Source | None, meta: Node, matter: dict[str, list[list[Node]]], package: Package,
         bibliography: str | None) -> tuple[str, list[str]]:
    """Front matter text (with a blank line after it) and warnings about matter the editor changed."""
    if source is not None:
        return _kept(source, matter)
    return _made(meta, matter, package, bibliography), []


def _kept(source: src.Source, matter: dict[str, list[list[Node]]]) -> tuple[str, list[str]]:
    head = block(source.text)
    fm = source.front_matter
    warnings = []
    wanted: list[tuple[str, str, str]] = []  # (what, old text, new text)
    for cls, key in MATTER_KEYS.items():
        old = fm.get(key)
        new = _words(matter[cls]) if cls in matter else None
        if isinstance(old, str) or new is not None:
            wanted.append((key, " ".join(str(old or "").split()), new or ""))
    authors = fm.get("author") if isinstance(fm.get("author"), list) else []
    bios = [" ".join(str(a["bio"]).split()) for a in authors if isinstance(a, dict) and "bio" in a]
    new_bios = [" ".join(A.stringify(p).split()) for p in matter.get("author-bio", [])]
    for i in range(max(len(bios), len(new_bios))):
        old = bios[i] if i < len(bios) else ""
        wanted.append(("author bio", old, new_bios[i] if i < len(new_bios) else ""))
    for what, old, new in wanted:
        if old == new:
            continue
        if old and new and head.count(old) == 1:
            head = head.replace(old, new.replace('"', '\\"') if f'"{old}"' in head else new)
            warnings.append(f"the {what} was edited in the DOCX; the front matter now has the new text")
        elif not new:
            warnings.append(f"the {what} is missing from the DOCX; the front matter keeps it")
        else:
            warnings.append(f"the {what} was edited in the DOCX to \u201c{new[:80]}\u201d; "
                            "change the front matter by hand")
    return (head + "\n") if head else "", warnings


def _custom_properties(package: Package) -> dict[str, str]:
    root = package.xml("docProps/custom.xml")
    if root is None:
        return {}
    found = {}
    for prop in root:
        name = prop.get("name", "")
        if name and not name.startswith("ZOTERO_PREF") and len(prop):
            found[name] = prop[0].text or ""
    return found


def _made(meta: Node, matter: dict[str, list[list[Node]]], package: Package, bibliography: str | None) -> str:
    data: dict[str, Any] = {}
    for key in ("title", "subtitle", "author", "date", "abstract"):
        value = meta.get(key)
        if value is None:
            continue
        if value.get("t") == "MetaList":
            data[key] = [" ".join(A.stringify(v).split()) for v in value["c"]]
        else:
            data[key] = " ".join(A.stringify(value).split())
    for name, value in _custom_properties(package).items():
        data.setdefault(name, value)
    for cls, key in MATTER_KEYS.items():
        if cls in matter:
            data[key] = _words(matter[cls])
    if "author-bio" in matter and isinstance(data.get("author"), list):
        bios = [" ".join(A.stringify(p).split()) for p in matter["author-bio"]]
        data["author"] = [{"name": n, **({"bio": bios[i]} if i < len(bios) else {})}
                          for i, n in enumerate(data["author"])]
    if bibliography:
        data["bibliography"] = bibliography
    if not data:
        return ""
    return "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000) + "---\n\n"

