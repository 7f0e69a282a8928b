"""Bibliographies (CSL YAML, CSL JSON, BibTeX/BibLaTeX) and the citation checks of the gate."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import ast as A
from . import pandoc

# Style lookup lives in csl.py; these names stay importable from here for existing callers.
from .csl import DEFAULT_STYLE as DEFAULT_STYLE
from .csl import Style
from .csl import resolve_style as resolve_style
from .errors import Diagnostic, DsrError
from .source import Source

# --- bibliographies -------------------------------------------------------


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Reference:
    """One bibliography entry, as CSL JSON, and where it came from."""

    id: str
    data: dict[str, Any]
    path: Path
    line: int | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


def load_bibliographies(
    paths: list[Path], source: Path, read: Callable[[Path], str] = _read_text
) -> dict[str, Reference]:
    """Read every bibliography (each once, by `read`); a duplicate id across or within files is an
    error naming both places."""
    found: dict[str, Reference] = {}
    for path in paths:
        entries, text = _load_one(path, source, read)
        lines = _entry_lines(text, path.suffix.lower())
        seen: dict[str, int] = {}
        for entry in entries:
            key = str(entry.get("id", ""))
            if not key:
                raise DsrError("bibliography entry without an id", path=path)
            # The n-th entry with this id is at the n-th place the id is declared.
            places = lines.get(key, [])
            line = places[seen.get(key, 0)] if seen.get(key, 0) < len(places) else None
            seen[key] = seen.get(key, 0) + 1
            if key in found:
                other = found[key]
                if other.path == path:
                    first = f", first at line {other.line}" if other.line else ""
                    where = f"twice in this file{first}"
                else:
                    where = f"also in {other.where}"
                raise DsrError(f"duplicate bibliography id '{key}' ({where})", path=path, line=line)
            found[key] = Reference(id=key, data=entry, path=path, line=line)
    return found


# Where an entry is declared, per format: `id: key`, `"id": "key"`, `@book{key,`.
_DECLARATIONS = {
    ".yaml": re.compile(r"""^[ \t-]*id:[ \t]*['"]?([^'"\s#]+)""", re.MULTILINE),
    ".yml": re.compile(r"""^[ \t-]*id:[ \t]*['"]?([^'"\s#]+)""", re.MULTILINE),
    ".json": re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"'),
    ".bib": re.compile(r"^[ \t]*@\w+[ \t]*[{(][ \t]*([^,\s]+)[ \t]*,", re.MULTILINE),
    ".bibtex": re.compile(r"^[ \t]*@\w+[ \t]*[{(][ \t]*([^,\s]+)[ \t]*,", re.MULTILINE),
}


def _entry_lines(text: str, suffix: str) -> dict[str, list[int]]:
    """Entry id -> the lines (1-based) where it is declared, so messages can point at them."""
    lines: dict[str, list[int]] = {}
    pattern = _DECLARATIONS.get(suffix)
    if pattern is None:
        return lines
    for match in pattern.finditer(text):
        lines.setdefault(match.group(1), []).append(text.count("\n", 0, match.start(1)) + 1)
    return lines


def _load_one(path: Path, source: Path, read: Callable[[Path], str]) -> tuple[list[dict[str, Any]], str]:
    """The entries of one bibliography file, and its text."""
    if not path.exists() and not path.is_symlink():
        raise DsrError(f"bibliography file not found: {path}", path=source)
    text = read(path)  # a regular file of bounded size, or a DsrError naming it
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise DsrError(f"malformed CSL YAML: {getattr(exc, 'problem', exc)}", path=path, line=line) from None
        if isinstance(data, dict):
            data = data.get("references")
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DsrError(f"malformed CSL JSON: {exc.msg}", path=path, line=exc.lineno) from None
    elif suffix in (".bib", ".bibtex"):
        # The biblatex reader also understands BibTeX's fields (address, journal, year).
        fmt = "bibtex" if suffix == ".bibtex" else "biblatex"
        out, _ = pandoc.run(["--from", fmt, "--to", "csljson"], text.encode(), cwd=path.parent, source=path)
        data = json.loads(out)
    else:
        raise DsrError("unknown bibliography format (use .yaml, .json, .bib or .bibtex)", path=path)
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise DsrError("bibliography must be a list of entries", path=path)
    return data, text


# --- the citation checks ---------------------------------------------------


def cited_keys(ast: dict[str, Any]) -> list[str]:
    """Citation ids in document order, from every Cite element of the AST."""
    keys: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("t") == "Cite":
                keys.extend(c["citationId"] for c in node["c"][0])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(ast["blocks"])
    return keys


def unresolved(source: Source, keys: list[str], refs: dict[str, Reference]) -> list[Diagnostic]:
    """One error per citation key missing from the bibliography, with a did-you-mean."""
    problems: list[Diagnostic] = []
    for key in dict.fromkeys(k for k in keys if k not in refs and k != "*"):
        close = difflib.get_close_matches(key, list(refs), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join('@' + c for c in close)}?" if close else ""
        # Not an "@" inside an address (x.org/@key, name@key.org): those are never citations.
        # A CiTO prefix (@method:key) may stand before the key.
        pattern = r"(?<![\w/.])@\{?(?:[A-Za-z_]+:)?" + re.escape(key) + r"(?![\w:.#$%&+?<>~/-]*\w)"
        line = source.line_of_pattern(re.compile(pattern))
        problems.append(
            Diagnostic(f"citation key '@{key}' is not in the bibliography{hint}", source.path, line, "unresolved-citation")
        )
    return problems


def nocite_keys(ast: dict[str, Any]) -> list[str]:
    """Ids listed under `nocite` in the front matter ("*" for all)."""
    return [c["citationId"] for node in A.walk(ast["meta"].get("nocite", {})) if node["t"] == "Cite"
            for c in node["c"][0]]


# How far the uncited-entries warning lists ids before it sums up the rest.
_LIST_AT_MOST = 12


def uncited(keys: list[str], nocite: list[str], refs: dict[str, Reference]) -> list[Diagnostic]:
    """A warning per bibliography file listing entries neither cited nor covered by `nocite`."""
    if "*" in nocite:
        return []
    used = set(keys) | set(nocite)
    by_file: dict[Path, list[Reference]] = {}
    for ref in refs.values():
        if ref.id not in used:
            by_file.setdefault(ref.path, []).append(ref)
    problems = []
    for path, unused in by_file.items():
        names = [f"{r.id} (line {r.line})" if r.line else r.id for r in unused]
        shown = ", ".join(names[:_LIST_AT_MOST])
        more = f" and {len(names) - _LIST_AT_MOST} more" if len(names) > _LIST_AT_MOST else ""
        problems.append(Diagnostic(
            f"{len(unused)} bibliography {'entry is' if len(unused) == 1 else 'entries are'} never cited "
            f"and not listed under 'nocite': {shown}{more}",
            path, unused[0].line, "uncited-entry", "warning",
        ))
    return problems


def missing_fields(keys: list[str], refs: dict[str, Reference], style: Style) -> list[Diagnostic]:
    """A warning for each listed entry that lacks a title, an author or editor, or a date the style
    prints for an entry of its type.

    Only these three are checked: styles print them for nearly every type, so a gap
    is almost surely a mistake, while the other fields vary from type to type.
    """
    problems = []
    for key in dict.fromkeys(keys):
        ref = refs.get(key)
        if ref is None:
            continue
        printed = style.prints(str(ref.data.get("type", "")) or None)
        checks: list[tuple[str, tuple[str, ...]]] = []
        if "title" in printed:
            checks.append(("title", ("title",)))
        if {"author", "editor"} & printed:
            checks.append(("author or editor", ("author", "editor", "collection-editor", "container-author")))
        if "issued" in printed:
            checks.append(("issued (date)", ("issued",)))
        for label, fields in checks:
            if not any(_present(ref.data.get(f)) for f in fields):
                problems.append(Diagnostic(
                    f"entry '{key}' ({ref.data.get('type', 'no type')}) has no {label}, "
                    f"which style {style.name} prints",
                    ref.path, ref.line, "missing-field", "warning",
                ))
    return problems


def _present(value: Any) -> bool:
    if isinstance(value, dict):  # a CSL date: date-parts, literal or raw
        return any(_present(v) for v in value.values())
    if isinstance(value, list):
        return any(_present(v) for v in value)
    return value is not None and str(value).strip() != ""
