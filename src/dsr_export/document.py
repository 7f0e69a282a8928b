"""Source + bibliography + CSL style -> one parsed Document with citations resolved once."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ast as A
from . import gate, pandoc, transforms
from . import source as src
from .citations import DEFAULT_STYLE, Reference, Style, load_bibliographies, resolve_style
from .config import Options
from .csl import local_style_file, references_term
from .errors import Diagnostic, DsrError, GateError
from .metadata import Metadata, from_pandoc
from .sandbox import author_path, for_paths, is_file, strip_refused


@dataclass(frozen=True, eq=False)
class Document:
    """Everything a writer needs, gathered and checked before any output is written."""

    source: src.Source
    meta: Metadata
    ast: dict[str, Any]
    style: Style
    bibliographies: tuple[Path, ...]
    references: dict[str, Reference]
    warnings: tuple[Diagnostic, ...]
    book: Any = None  # a book's chapters and parts (dsr_export.book.Book), None for one source

    @property
    def stem(self) -> str:
        return self.source.path.stem

    @property
    def folder(self) -> Path:
        return self.source.folder


TOO_DEEP = "the source nests too deeply (quotes, lists or brackets inside one another thousands of times)"


def parse(path: Path, options: Options) -> Document:
    """Read, parse and check one source; raise GateError listing every error found."""
    source = src.read(path)
    if "chapters" in source.front_matter:  # a book: the master and its chapter files
        from . import book

        return book.parse(source, options)
    return parse_source(source, options)


def parse_source(source: src.Source, options: Options) -> Document:
    """Parse and check a source already read."""
    fm = source.front_matter
    bibs = bibliography_paths(source, options)
    refs = load_bibliographies(list(bibs), source.path)
    style = resolve_style(*style_request(source, options), origin=source.path)

    args = ["--lua-filter", str(transforms.CITO_FILTER), "--citeproc", "--csl", str(style.path)]
    for bib in bibs:
        args += ["--bibliography", str(bib)]
    abbreviations = abbreviations_path(source, options)
    if abbreviations is not None:  # pandoc would read the front matter's path itself, unchecked
        args += ["--citation-abbreviations", str(abbreviations)]
    if "link-citations" not in fm:
        args += ["--metadata", "link-citations=true"]
    if "lang" not in fm and style.locale:
        # A journal's dependent style names a locale its parent file lacks; a document
        # that does not say its language takes it, so citations and text agree.
        args += ["--metadata", f"lang={style.locale}"]
    try:
        tree, _ = pandoc.markdown_to_ast(source.text, args, cwd=source.folder, source=source.path)
        diagnostics = gate.check(source, tree, refs, style=style, allow_remote=options.allow_remote)
    except RecursionError:
        raise DsrError(TOO_DEEP, path=source.path) from None
    errors = [d for d in diagnostics if d.severity == "error"]
    warnings = [d for d in diagnostics if d.severity == "warning"]
    if options.strict:
        errors += warnings
    if errors:
        raise GateError(errors)

    # What the gate warned about is taken out here, so no writer or engine can fetch it.
    strip_refused(tree, for_paths(source.folder, allow_remote=options.allow_remote))
    meta = from_pandoc(tree["meta"], fallback_title=source.path.stem)
    _add_reference_heading(tree, meta.lang)
    _add_front_and_back_matter(tree)
    _normalise_meta(tree, meta)
    rewritten = transforms.apply(source, tree)
    if options.strict and rewritten:
        raise GateError(rewritten)
    warnings += rewritten
    return Document(source, meta, tree, style, bibs, refs, tuple(warnings))


def style_request(source: src.Source, options: Options) -> tuple[str, Path]:
    """The style asked for and where a path in it resolves from: --csl (working folder) wins
    over front matter `csl` (the source's folder), which wins over the default."""
    if options.csl:
        return options.csl, Path.cwd()
    spec = _string(source.front_matter.get("csl"), source, "csl") or DEFAULT_STYLE
    if local_style_file(spec, source.folder) is not None:  # a path, not a collection id: held to the root
        author_path(source.path, "csl", spec, _line(source, "csl"), options.root)
    return spec, source.folder


def theme_request(source: src.Source, options: Options) -> str:
    """--theme (a name, or a path from the working folder) wins over front matter `theme` (a name,
    or a path from the source's folder held to the build root), which wins over the default."""
    if options.theme:
        return options.theme
    spec = source.front_matter.get("theme")
    if spec is not None and not isinstance(spec, str):
        raise DsrError("front matter 'theme' must be a theme name", path=source.path, line=_line(source, "theme"))
    if not spec:
        return "default"
    if spec.endswith(".toml") or "/" in spec or is_file(source.folder / spec):
        return str(author_path(source.path, "theme", spec, _line(source, "theme"), options.root))
    return spec


def abbreviations_path(source: src.Source, options: Options) -> Path | None:
    """The front matter's `citation-abbreviations` file (held to the build root), if it names one."""
    value = _string(source.front_matter.get("citation-abbreviations"), source, "citation-abbreviations")
    if not value:
        return None
    line = _line(source, "citation-abbreviations")
    path = author_path(source.path, "citation-abbreviations", value, line, options.root)
    if not path.is_file():
        raise DsrError(f"citation abbreviations file not found: {value}", path=source.path, line=line)
    return path


def _line(source: src.Source, key: str, item: str | None = None) -> int | None:
    """The line of front matter `key` (or of `item` in its list), for messages."""
    found = re.search(rf"^{re.escape(key)}\s*:", source.text, re.MULTILINE)
    if found is None:
        return None
    return (source.line_of(item, found.start()) if item else None) or source.text.count("\n", 0, found.start()) + 1


def _string(value: Any, source: src.Source, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DsrError(f"front matter '{key}' must be a string", path=source.path, line=source.line_of(f"{key}:"))
    return value


def bibliography_paths(source: src.Source, options: Options) -> tuple[Path, ...]:
    """Command-line bibliographies (relative to the working folder) win over front matter ones."""
    if options.bibliographies:
        return tuple(Path(os.path.realpath(p)) for p in options.bibliographies)  # a loop: reported when read
    value = source.front_matter.get("bibliography")
    items = value if isinstance(value, list) else [value] if value else []
    if not all(isinstance(i, str) for i in items):
        raise DsrError(
            "front matter 'bibliography' must be a file name or a list of them",
            path=source.path,
            line=source.line_of("bibliography:"),
        )
    return tuple(author_path(source.path, "bibliography", i, _line(source, "bibliography", i), options.root)
                 for i in items)


def _normalise_meta(tree: dict[str, Any], meta: Metadata) -> None:
    """Give every writer plain author names and a language, whatever form the author used."""
    m = tree["meta"]
    if meta.authors:
        m["author"] = {"t": "MetaList", "c": [{"t": "MetaInlines", "c": A.text_inlines(a.name)} for a in meta.authors]}
    m["lang"] = {"t": "MetaString", "c": meta.lang}


def _add_front_and_back_matter(tree: dict[str, Any]) -> None:
    """Front-matter content (image credit, author bios, disclaimer) becomes part of the text.

    It is placed once, here, so every format shows it in the same place: the credit
    first, the bios and the disclaimer after the body and before the references.
    Runs before the author list is reduced to names.
    """
    m, blocks = tree["meta"], tree["blocks"]
    credit = A.meta_inlines(m.get("image-credit"))
    if credit:
        blocks.insert(0, A.div("image-credit", ["image-credit"], [A.para(credit)]))
    authors = m.get("author", {})
    bios = [
        A.para(A.meta_inlines(value["c"]["bio"]))
        for value in (authors["c"] if authors.get("t") == "MetaList" else [authors])
        if value.get("t") == "MetaMap" and "bio" in value["c"]
    ]
    back = [A.div("about-the-author", ["author-bio"], bios)] if bios else []
    disclaimer = A.meta_inlines(m.get("disclaimer"))
    if disclaimer:
        back.append(A.div("disclaimer", ["disclaimer"], [A.para(disclaimer)]))
    at = _references_start(blocks)
    blocks[at:at] = back


def _add_reference_heading(tree: dict[str, Any], lang: str) -> None:
    """Give a reference list without a heading one: `reference-section-title`, else the CSL
    locale's word in the document's language ("References", "Referenzen", "Références"...).

    pandoc adds `reference-section-title` only when it appends the list itself,
    not above an author's `::: {#refs}`, and adds nothing when the title is unset.
    """
    blocks = tree["blocks"]
    for i, block in enumerate(blocks):
        if block["t"] == "Div" and A.attr(block)[0] == "refs":
            if not block["c"][1] or (i and blocks[i - 1]["t"] == "Header"):
                return
            taken = {A.attr(n)[0] for n in A.walk(blocks)}
            ident = next(n for n in ("references", "reference-list", "refs-heading") if n not in taken)
            title = A.meta_inlines(tree["meta"].get("reference-section-title")) or A.text_inlines(
                references_term(lang)
            )
            header = {"t": "Header", "c": [1, [ident, ["unnumbered"], []], title]}
            blocks.insert(i, header)
            return


def _references_start(blocks: list[dict[str, Any]]) -> int:
    """Where the reference section begins (its heading, if it has one), else the end."""
    for i, block in enumerate(blocks):
        if block["t"] == "Div" and A.attr(block)[0] == "refs":
            return i - 1 if i and blocks[i - 1]["t"] == "Header" else i
    return len(blocks)
