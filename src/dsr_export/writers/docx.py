"""DOCX: pandoc's Word writer over the parsed document, with the theme's reference document."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import pandoc
from ..theme.docx import reference_docx
from ..transforms.titleblock import with_affiliations
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
        data = pandoc.ast_to(
            with_affiliations(doc.ast, doc.meta),
            "docx",
            ["--reference-doc", str(ref_path), "--output", "-"],
            cwd=doc.folder,
            source=doc.source.path,
            env={"SOURCE_DATE_EPOCH": str(job.options.build_time)},
        )
    return Rendered(zipped.repack(data, job.options.build_time))
