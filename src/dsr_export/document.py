"""Source + bibliography + CSL style -> one parsed Document with citations resolved once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ast as A
from . import gate, pandoc, transforms
from . import source as src
from .citations import Reference, Style, load_bibliographies
from .config import Options
from .csl import references_term
from .errors import Diagnostic, DsrError, GateError
from .inputs import (  # noqa: F401  # decided in inputs.py; kept here for callers
    Inputs,
    abbreviations_path,
    bibliography_paths,
    gather,
    style_request,
    theme_request,
)
from .metadata import Metadata, from_pandoc
from .sandbox import for_paths, strip_refused


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


def parse(path: Path, options: Options, inputs: Inputs | None = None) -> Document:
    """Read, parse and check one source; raise GateError listing every error found.

    `inputs`, when given, are the build's already gathered inputs for `path` (read once).
    """
    inputs = inputs or gather(path, options)
    source = inputs.source
    if "chapters" in source.front_matter:  # a book: the master and its chapter files
        from . import book

        return book.parse(source, options)
    return parse_source(source, options, inputs)


def parse_source(source: src.Source, options: Options, inputs: Inputs | None = None) -> Document:
    """Parse and check a source already read (its inputs read once, when given)."""
    inputs = inputs or Inputs(source, options)
    fm = source.front_matter
    bibs = inputs.bibliographies
    try:
        style = inputs.style
    except DsrError:
        style = None  # reported after the bibliographies' problems, as always
    if style is None:
        load_bibliographies(list(bibs), source.path, read=inputs.text)
        style = inputs.style  # raises

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
    # pandoc parses in its own process while this one reads the bibliographies.
    with ThreadPoolExecutor(max_workers=1) as pool:
        parsed = pool.submit(pandoc.markdown_to_ast, source.text, args, cwd=source.folder, source=source.path)
        refs = load_bibliographies(list(bibs), source.path, read=inputs.text)
        try:
            tree, _ = parsed.result()
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
