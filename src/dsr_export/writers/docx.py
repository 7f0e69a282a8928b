"""DOCX: pandoc's Word writer over the parsed document, with the theme's reference document."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import pandoc
from ..sandbox import for_paths, inline_images
from ..theme.docx import reference_docx
from . import Job, Rendered, zipped

NAME = "docx"
SUFFIX = ".docx"
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def write(job: Job) -> Rendered:
    doc = job.doc
    reference = reference_docx(job.theme, doc.meta.lang, pandoc.default_data_file("reference.docx"))
    with tempfile.TemporaryDirectory(prefix="dsr-docx-") as tmp:
        ref_path = Path(tmp) / "reference.docx"
        ref_path.write_bytes(reference)
        # pandoc reads no file itself (--sandbox): the checked images come inside the AST.
        remote = job.options.allow_remote
        data = pandoc.ast_to(
            inline_images(doc.ast, for_paths(doc.folder, allow_remote=remote)),
            "docx",
            ["--reference-doc", str(ref_path), "--output", "-", *([] if remote else ["--sandbox"])],
            cwd=doc.folder,
            source=doc.source.path,
            env={"SOURCE_DATE_EPOCH": str(job.options.build_time)},
        )
    return Rendered(zipped.repack(data, job.options.build_time))
