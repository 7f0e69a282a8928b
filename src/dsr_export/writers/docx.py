"""DOCX: pandoc's Word writer over the parsed document, with the theme's reference document."""

from __future__ import annotations

import functools
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import pandoc
from ..sandbox import for_paths, inline_images
from ..theme.docx import MATTER_STYLES, reference_docx
from ..transforms.titleblock import with_affiliations
from . import Job, Rendered, docx_fields, docx_fonts, docx_layout, docx_scripts, docx_svg, zipped

NAME = "docx"
SUFFIX = ".docx"
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Front matter that steers the build rather than describing the work. pandoc would copy it
# into docProps/custom.xml, with this machine's paths to the bibliography and the style.
BUILD_KEYS = frozenset(
    {
        "bibliography",
        "csl",
        "citation-abbreviations",
        "link-citations",
        "link-bibliography",
        "nocite",
        "reference-section-title",
        "suppress-bibliography",
        "notes-after-punctuation",
        "theme",
        "chapters",
        "reference-section",
        "docx-citations",
    }
)


def _meta_string(text: str) -> dict[str, Any]:
    return {"t": "MetaString", "c": text}


def _styled_matter(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Image credit, author's note and disclaimer get Word styles of their own (custom-style)."""
    styled = []
    for block in blocks:
        if block["t"] == "Div":
            (ident, classes, pairs), content = block["c"]
            style = next((MATTER_STYLES[c] for c in classes if c in MATTER_STYLES), None)
            if style:
                block = {
                    "t": "Div",
                    "c": [[ident, classes, [*pairs, ["custom-style", style]]], content],
                }
        styled.append(block)
    return styled


def word_ast(job: Job) -> dict[str, Any]:
    """The parsed document with metadata fit for Word's document properties.

    Subject: the front matter's `subject`, else the subtitle, else the keywords.
    """
    ast, meta = job.doc.ast, job.doc.meta
    fields = {k: v for k, v in ast["meta"].items() if k not in BUILD_KEYS}
    if "subject" not in fields:
        subject = meta.subtitle or "; ".join(meta.keywords)
        if subject:
            fields["subject"] = _meta_string(subject)
    if "description" not in fields and meta.description:
        fields["description"] = _meta_string(meta.description)
    blocks = _styled_matter(ast["blocks"])
    if job.doc.book is not None:  # each chapter opens a section of its own
        from ..book.formats import section_breaks

        blocks = section_breaks(blocks, job.theme)
    return {**ast, "meta": fields, "blocks": blocks}


def write(job: Job) -> Rendered:
    doc = job.doc
    reference = reference_docx(job.theme, doc.meta.lang, pandoc.default_data_file("reference.docx"))
    with tempfile.TemporaryDirectory(prefix="dsr-docx-") as tmp:
        ref_path = Path(tmp) / "reference.docx"
        ref_path.write_bytes(reference)
        # pandoc reads no file itself (--sandbox): the checked images come inside the AST.
        remote = job.options.allow_remote
        fields = docx_fields.wanted(job)  # live Zotero citation fields, unless the text is asked for
        ast = fields.mark(word_ast(job)) if fields else word_ast(job)
        tree = inline_images(with_affiliations(ast, doc.meta), for_paths(doc.folder, allow_remote=remote))
        data = pandoc.ast_to(
            docx_layout.apply(tree),
            "docx",
            ["--reference-doc", str(ref_path), "--output", "-", *([] if remote else ["--sandbox"])],
            cwd=doc.folder,
            source=doc.source.path,
            env={"SOURCE_DATE_EPOCH": str(job.options.build_time)},
        )
    core = functools.partial(_dated, stamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.options.build_time)))
    parts = zipped.entries(data)
    docx_fonts.embed(parts, job.theme.faces)
    docx_svg.add_fallbacks(parts)
    edits = {"docProps/core.xml": core, **docx_scripts.edits(job.theme, doc.meta.lang)}  # fonts per script
    edits.update(fields.edits() if fields else {})  # Zotero's document preferences
    return Rendered(zipped.repack(zipped.pack(parts), job.options.build_time, edit=edits))


def _dated(core: bytes, stamp: str) -> bytes:
    """Created and modified dates from the build time: pandoc under --sandbox cannot read SOURCE_DATE_EPOCH."""
    return re.sub(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), core)
