"""The checks every source passes before any output is written."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import ast as A
from .citations import Reference, cited_keys, missing_fields, nocite_keys, uncited, unresolved
from .csl import Style
from .errors import Diagnostic
from .sandbox import file_problem, for_paths, refused
from .source import Source


def check(
    source: Source,
    tree: dict[str, Any],
    refs: dict[str, Reference],
    *,
    style: Style | None = None,
    allow_remote: bool = False,
) -> list[Diagnostic]:
    """Every problem found in the parsed source, errors and warnings alike."""
    return [
        *citations(source, tree, refs, style),
        *images(source, tree),
        *duplicate_ids(source, tree),
        *refused_resources(source, tree, allow_remote=allow_remote),
    ]


def citations(
    source: Source, tree: dict[str, Any], refs: dict[str, Reference], style: Style | None
) -> list[Diagnostic]:
    """Unresolved keys (errors); uncited entries and entries missing what the style prints (warnings).

    Duplicate ids are caught earlier, when the bibliographies are read.
    """
    cited, nocite = cited_keys(tree), nocite_keys(tree)
    listed = list(refs) if "*" in nocite else [*cited, *nocite]
    return [
        *unresolved(source, [*cited, *nocite], refs),
        *uncited(cited, nocite, refs),
        *(missing_fields(listed, refs, style) if style is not None else []),
    ]


def refused_resources(source: Source, tree: dict[str, Any], *, allow_remote: bool = False) -> list[Diagnostic]:
    """Images, stylesheets, frames... outside the source folder or on the network: never read."""
    sandbox = for_paths(source.folder, allow_remote=allow_remote)
    problems, cursor = [], 0
    for refusal in refused(tree, sandbox):
        # Refusals come in reading order: look for each after the previous one, for the right line.
        needle = refusal.url[:200]
        at = source.text.find(needle, cursor) if needle else -1
        at = source.text.find(needle) if at < 0 and needle else at
        cursor = at + 1 if at >= 0 else cursor
        line = source.text.count("\n", 0, at) + 1 if at >= 0 else None
        shown = refusal.url if len(refusal.url) <= 80 else refusal.url[:77] + "..."
        problems.append(
            Diagnostic(f"refused to read {shown}: {refusal.reason}", source.path, line, "refused-resource", "warning")
        )
    return problems


def is_remote(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https", "ftp", "data")


def local_path(url: str, folder: Path) -> Path | None:
    """The file an image URL points at, or None for remote and data URLs."""
    parts = urlsplit(url)
    if parts.scheme and parts.scheme.lower() != "file":
        return None
    return folder / unquote(parts.path)


def images(source: Source, tree: dict[str, Any]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for node in A.walk(tree["blocks"]):
        if node["t"] != "Image":
            continue
        url = node["c"][2][0]
        line = source.line_of(url) if url else None
        path = local_path(url, source.folder) if not is_remote(url) else None
        problem = file_problem(path, image=True) if path is not None else None
        if problem is not None:  # a loop, a FIFO, a device or a huge file: never read
            problems.append(Diagnostic(f"image cannot be read: {url}: {problem}", source.path, line, "missing-image"))
        elif path is not None and not _is_file(path):
            problems.append(Diagnostic(f"image not found: {url}", source.path, line, "missing-image"))
        if not A.stringify(node["c"][1]).strip():
            problems.append(
                Diagnostic(f"image has no alt text: {url}", source.path, line, "missing-alt", "warning")
            )
    return problems


def duplicate_ids(source: Source, tree: dict[str, Any]) -> list[Diagnostic]:
    ids = Counter(A.attr(n)[0] for n in A.walk(tree["blocks"]) if n["t"] in _WITH_IDS)
    problems = []
    for identifier, count in ids.items():
        if identifier and count > 1:
            line = source.line_of_pattern(re.compile(r"#" + re.escape(identifier) + r"\b"))
            problems.append(
                Diagnostic(f"identifier '#{identifier}' is used {count} times", source.path, line, "duplicate-id")
            )
    return problems


_WITH_IDS = {"Header", "Div", "Span", "CodeBlock", "Code", "Link", "Image", "Table", "Figure"}


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long or with a NUL byte is no file
        return False
