"""One print layout per build: the PDF's layout gives the EPUB its page map, serially, in the PDF
worker, and in an EPUB-only build; every way gives the same bytes."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import pikepdf
import pytest
from helpers import ROOT, XHTML_NS, epub_tree

from dsr_export import build, xhtml
from dsr_export.config import Options
from dsr_export.writers import epub_pages

PAPER = ROOT / "tests" / "fixtures" / "manuscript" / "paper.md"
FORMATS = ("pdf", "epub", "docx", "html")


def _build(out: Path, log: Path, **options: object) -> int:
    """Build the paper in this process; the number of WeasyPrint layouts it made, in every process.

    WeasyPrint logs "Step 4" once per layout to its progress logger; a file handler is
    inherited by the forked PDF worker, so its layouts are counted too.
    """
    handler = logging.FileHandler(log, encoding="utf-8")
    progress = logging.getLogger("weasyprint.progress")
    level = progress.level
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    try:
        build.build_one(PAPER, Options(out_dir=out, force=True, **options), lambda _: None)  # type: ignore[arg-type]
    finally:
        progress.removeHandler(handler)
        progress.setLevel(level)
        handler.close()
    return log.read_text(encoding="utf-8").count("Step 4 - Creating formatting structure")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int]]:
    """The paper built serially, with the PDF worker, and as an EPUB alone: folder and layout count."""
    made = {}
    for name, options in {
        "serial": {"jobs": 1},
        "parallel": {"jobs": 2},
        "epub-alone": {"jobs": 2, "formats": ("epub",)},
    }.items():
        out = tmp_path_factory.mktemp(name)
        made[name] = (out, _build(out, out.parent / f"{name}-progress.log", **options))
    return made


@pytest.mark.parametrize("name", ["serial", "parallel", "epub-alone"])
def test_a_build_lays_the_print_pages_out_once(builds, name):
    assert builds[name][1] == 1


def test_parallel_build_is_byte_identical_to_serial(builds):
    serial, parallel = builds["serial"][0], builds["parallel"][0]
    for fmt in FORMATS:
        assert (parallel / f"paper.{fmt}").read_bytes() == (serial / f"paper.{fmt}").read_bytes(), fmt


def test_epub_alone_has_the_print_pages_of_the_full_build(builds):
    alone, full = builds["epub-alone"][0] / "paper.epub", builds["serial"][0] / "paper.epub"
    assert alone.read_bytes() == full.read_bytes()
    nav = epub_tree(alone, "EPUB/nav.xhtml")
    pages = nav.xpath("//x:nav[@epub:type='page-list']//x:a/text()", namespaces=XHTML_NS)
    with pikepdf.open(builds["serial"][0] / "paper.pdf") as pdf:
        assert pages == [str(n) for n in range(1, len(pdf.pages) + 1)]


def test_the_temporary_block_ids_leave_no_trace_in_the_pdf(builds):
    with pikepdf.open(builds["parallel"][0] / "paper.pdf") as pdf:
        dests = pdf.Root.Names.Dests
        names = [str(dests.Names[i]) for i in range(0, len(dests.Names), 2)] if "/Names" in dests else []
        assert names  # the paper's own ids stay link targets
        assert not [n for n in names if n.startswith(epub_pages.BLOCK_ID_PREFIX)]
    with zipfile.ZipFile(builds["parallel"][0] / "paper.epub") as epub:
        for member in epub.namelist():
            assert epub_pages.BLOCK_ID_PREFIX.encode() not in epub.read(member), member
    assert epub_pages.BLOCK_ID_PREFIX.encode() not in (builds["parallel"][0] / "paper.html").read_bytes()


def test_blocks_are_marked_in_the_text_where_a_parser_sees_elements():
    text = (
        '<section id="intro"><h1>Intro</h1><p class="x">One</p><!-- <p>comment</p> -->'
        "<textarea><p>typed</p></textarea><script>var p = '<p>';</script><div title='a>b'>Two</div></section>"
    )
    marked = epub_pages.mark_blocks(text)
    root = xhtml.parse_fragment(marked)
    ids = [el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")]
    assert ids == ["intro", "dsr-block-1", "dsr-block-2", "dsr-block-3"]
    assert "<!-- <p>comment</p> -->" in marked and "<textarea><p>typed</p></textarea>" in marked
    assert "var p = '<p>';" in marked
    unclosed = "<p>a</p><script>var p = '<p>'"  # raw text runs to the end, as a parser reads it
    assert epub_pages.mark_blocks(unclosed) == unclosed.replace("<p>", '<p id="dsr-block-1">', 1)
