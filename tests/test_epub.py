"""The EPUB: store validation (EPUBCheck), accessibility (Ace), notes, links and print page numbers."""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT, XHTML_NS, dsr, epub_tree, epubcheck
from lxml import etree

OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
NCX = {"ncx": "http://www.daisy.org/z3986/2005/ncx/"}
ACE = ROOT / ".cache" / "ace" / "node_modules" / ".bin" / "ace-cli"

REFS = """\
references:
- id: smith2020
  type: book
  author: [{family: Smith, given: Ann}]
  title: A Book About Roads
  publisher: Road Press
  publisher-place: London
  issued: {date-parts: [[2020]]}
- id: jones2019
  type: article-journal
  author: [{family: Jones, given: Bo}]
  title: Cables Under the Sea
  container-title: Journal of Networks
  volume: 4
  page: 10-20
  issued: {date-parts: [[2019]]}
"""

FILLER = (
    "Trade routes carried goods, and with them ideas, standards and habits of work. "
    "Each generation of infrastructure has remade the map of who depends on whom. "
) * 6

PAPER = f"""\
---
title: Roads and Cables
subtitle: A Test of Notes
author:
  - name: Ann Author
lang: en-GB
isbn: 9780000000002
publisher: Test Press
date: 2024-05-01
rights: CC BY 4.0
bibliography: refs.yaml
---

An opening paragraph before the first section, citing @smith2020.

# First Roads

{FILLER}[^a]

{FILLER}

![A red square standing for a map of the routes.](square.png)

{FILLER}[^b] [@jones2019, p. 12]

## A Smaller Part

{FILLER}

# Second Cables

{FILLER}[^c]

{FILLER} [@smith2020, p. 4]

# Third Ends

{FILLER} The area grows as $r^2$, so

$$A = \\pi r^2 .$$

| route | length |
|-------|-------:|
| north | 4 200 km |
| south | 6 100 km |

: The two routes.

[^a]: The first note, about roads.
[^b]: The second note, about *routes*.
[^c]: The third note, about cables.

# References {{.unnumbered}}

::: {{#refs}}
:::
"""


def _project(folder: Path) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "refs.yaml").write_text(REFS, encoding="utf-8")
    (folder / "paper.md").write_text(PAPER, encoding="utf-8")
    Image.new("RGB", (120, 80), (180, 30, 30)).save(folder / "square.png")
    return folder / "paper.md"


def _build(source: Path, out: Path, *extra: str) -> dict[str, Path]:
    run = dsr("build", str(source), "--out", str(out), *extra)
    assert run.status == 0, run.stderr
    return {fmt: out / f"{source.stem}.{fmt}" for fmt in ("pdf", "epub")}


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("paper"))


@pytest.fixture(scope="module")
def builds(essay: dict[str, Path], paper: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The essay, the paper (author-date) and the paper with a note style: each EPUB with its PDF."""
    out = tmp_path_factory.mktemp("builds")
    return {
        "essay": essay,
        "notes": _build(paper, out / "notes", "--to", "pdf,epub"),
        "note-style": _build(paper, out / "note-style", "--to", "pdf,epub", "--csl", "chicago-notes-bibliography"),
    }


KINDS = ["essay", "notes", "note-style"]


# -- reading the package -------------------------------------------------------------------------

def _opf(epub: Path) -> etree._Element:
    return epub_tree(epub, "EPUB/content.opf")


def _spine(epub: Path) -> list[str]:
    """The content documents in reading order, as names inside the ZIP."""
    opf = _opf(epub)
    hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:manifest/opf:item", OPF)}
    return [f"EPUB/{hrefs[r.get('idref')]}" for r in opf.iterfind(".//opf:spine/opf:itemref", OPF)]


def _xhtml_names(epub: Path) -> list[str]:
    opf = _opf(epub)
    return [f"EPUB/{i.get('href')}" for i in opf.iterfind(".//opf:manifest/opf:item", OPF)
            if i.get("media-type") == "application/xhtml+xml"]


def _metas(epub: Path, prop: str) -> list[str]:
    return [m.text or "" for m in _opf(epub).iterfind(f".//opf:meta[@property='{prop}']", OPF)]


def ace(epub: Path) -> list[str]:
    """Ace by DAISY's violations, one line each, from its JSON report (its exit status says nothing)."""
    assert ACE.exists(), "Ace is not installed: run `make ace` (needs npm and Chromium)"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": os.environ.get("PUPPETEER_EXECUTABLE_PATH",
                                                                         "/usr/bin/chromium")}
        proc = subprocess.run([str(ACE), "--silent", "--outdir", tmp, "--force", str(epub)],
                              capture_output=True, text=True, env=env, timeout=600, check=False)
        report = Path(tmp) / "report.json"
        assert report.is_file(), proc.stdout + proc.stderr
        data = json.loads(report.read_text())
    found = []
    for subject in data["assertions"]:
        for item in subject["assertions"]:
            if item["earl:result"]["earl:outcome"] == "fail":
                found.append(f"{subject['earl:testSubject']['url']}: {item['earl:test']['dct:title']}: "
                             f"{item['earl:result'].get('dct:description', '')}")
    assert data["earl:result"]["earl:outcome"] == ("fail" if found else "pass")
    return found


# -- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["notes", "note-style"])  # the essay's is checked in test_essay
def test_epubcheck_finds_nothing(builds, kind):
    verdict = epubcheck(builds[kind]["epub"])
    assert (verdict["FATAL"], verdict["ERROR"], verdict["WARNING"]) == (0, 0, 0), verdict["messages"]


@pytest.mark.parametrize("kind", KINDS)
def test_ace_finds_no_violation(builds, kind):
    assert ace(builds[kind]["epub"]) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_internal_link_resolves(builds, kind):
    epub = builds[kind]["epub"]
    with zipfile.ZipFile(epub) as z:
        names = set(z.namelist())
        ids = {n: set(etree.fromstring(z.read(n)).xpath("//@id")) for n in _xhtml_names(epub)}
        links = 0
        for name in _xhtml_names(epub):
            tree = etree.fromstring(z.read(name))
            refs = tree.xpath("//x:a/@href | //x:img/@src | //x:link/@href", namespaces=XHTML_NS)
            for href in refs:
                if href.startswith(("http:", "https:", "mailto:")):
                    continue
                path, _, fragment = href.partition("#")
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path)) if path else name
                assert target in names, f"{name}: {href}"
                if fragment:
                    assert fragment in ids[target], f"{name}: {href}"
                links += 1
        ncx = etree.fromstring(z.read("EPUB/toc.ncx"))
        for src in ncx.xpath("//ncx:content/@src", namespaces=NCX):
            path, _, fragment = src.partition("#")
            assert f"EPUB/{path}" in names and (not fragment or fragment in ids[f"EPUB/{path}"]), src
    assert links > 20


# -- structure -----------------------------------------------------------------------------------

def test_package_metadata_and_accessibility(builds):
    epub = builds["notes"]["epub"]
    opf = _opf(epub)
    assert opf.findtext(".//dc:identifier", namespaces=OPF) == "urn:isbn:9780000000002"
    assert opf.findtext(".//dc:title", namespaces=OPF) == "Roads and Cables"
    assert opf.findtext(".//dc:publisher", namespaces=OPF) == "Test Press"
    assert opf.findtext(".//dc:rights", namespaces=OPF) == "CC BY 4.0"
    assert _metas(epub, "role") == ["aut"]
    assert _metas(epub, "dcterms:modified") == ["2021-01-04T00:00:00Z"]  # SOURCE_DATE_EPOCH
    assert set(_metas(epub, "schema:accessMode")) == {"textual", "visual"}
    assert _metas(epub, "schema:accessModeSufficient") == ["textual"]
    features = set(_metas(epub, "schema:accessibilityFeature"))
    assert {"structuralNavigation", "tableOfContents", "readingOrder", "alternativeText",
            "printPageNumbers"} <= features
    assert _metas(epub, "schema:accessibilityHazard") == ["none"]
    assert _metas(epub, "schema:accessibilitySummary")[0]
    assert _metas(epub, "dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    assert _metas(epub, "pageBreakSource")[0].startswith("urn:")
    essay_id = _opf(builds["essay"]["epub"]).findtext(".//dc:identifier", namespaces=OPF)
    assert essay_id.startswith("urn:uuid:")


def test_every_document_has_a_language_and_every_image_alt_text(builds):
    epub = builds["notes"]["epub"]
    images = 0
    with zipfile.ZipFile(epub) as z:
        for name in _xhtml_names(epub):
            root = etree.fromstring(z.read(name))
            assert root.get("lang") == "en-GB" and root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
            for img in root.iter("{http://www.w3.org/1999/xhtml}img"):
                assert img.get("alt", "").strip(), name
                images += 1
        figures = [n for n in z.namelist() if n.startswith("EPUB/images/figure-")]
    assert images == 2 and len(figures) == 1  # the cover and the figure, which is in the book


def test_cover_is_generated_and_marked(builds):
    from PIL import Image

    epub = builds["notes"]["epub"]
    opf = _opf(epub)
    cover = opf.find(".//opf:item[@properties='cover-image']", OPF)
    assert cover is not None and cover.get("media-type") == "image/png"
    with zipfile.ZipFile(epub) as z:
        image = Image.open(z.open(f"EPUB/{cover.get('href')}"))
        assert image.size == (1600, 2560)
        accent = (0x7A, 0x1D, 0x1D)  # the default theme's accent colour frames the cover
        assert image.convert("RGB").getpixel((10, 10)) == accent
    page = epub_tree(epub, "EPUB/cover.xhtml")
    assert page.xpath("//x:img/@alt", namespaces=XHTML_NS) == ["Cover of Roads and Cables by Ann Author"]


def test_nav_has_heading_tree_landmarks_and_page_list(builds):
    nav = epub_tree(builds["notes"]["epub"], "EPUB/nav.xhtml")
    toc = nav.xpath("//x:nav[@epub:type='toc']", namespaces=XHTML_NS)[0]
    nested = toc.xpath(".//x:li/x:ol/x:li/x:a/text()", namespaces=XHTML_NS)
    assert nested == ["A Smaller Part"]
    marks = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=XHTML_NS)
    assert marks == ["cover", "titlepage", "bodymatter", "bibliography"]
    pages = nav.xpath("//x:nav[@epub:type='page-list']//x:a/text()", namespaces=XHTML_NS)
    assert pages == [str(n) for n in range(1, len(pages) + 1)] and len(pages) >= 3


def test_fonts_are_embedded_with_their_licences(builds):
    opf = _opf(builds["essay"]["epub"])
    hrefs = [i.get("href") for i in opf.iterfind(".//opf:manifest/opf:item", OPF)]
    assert any(h.endswith((".ttf", ".otf")) for h in hrefs)
    assert "style/fonts/LICENSE-SourceSerifPro.txt" in hrefs and "style/fonts/LICENSE-SourceSansPro.txt" in hrefs


def test_bibliography_has_its_roles(builds):
    refs = epub_tree(builds["essay"]["epub"], "EPUB/references.xhtml")
    section = refs.xpath("//x:section[@epub:type='bibliography']", namespaces=XHTML_NS)
    assert len(section) == 1 and section[0].get("role") == "doc-bibliography"
    # DPUB-ARIA 1.1 deprecates doc-biblioentry and EPUBCheck warns on it: entries are list items.
    refs_list = section[0].xpath(".//x:div[@id='refs']", namespaces=XHTML_NS)[0]
    entries = refs_list.xpath("x:div", namespaces=XHTML_NS)
    assert refs_list.get("role") == "list"
    assert len(entries) == 30 and {e.get("role") for e in entries} == {"listitem"}


@pytest.mark.parametrize("kind", ["notes", "note-style"])
def test_notes_pop_up_from_their_own_chapter(builds, kind):
    epub = builds[kind]["epub"]
    count = 0
    with zipfile.ZipFile(epub) as z:
        for name in _xhtml_names(epub):
            tree = etree.fromstring(z.read(name))
            for ref in tree.xpath("//x:a[@epub:type='noteref']", namespaces=XHTML_NS):
                assert ref.get("role") == "doc-noteref"
                href = ref.get("href")
                assert href.startswith("#"), href  # the note is in the same file
                note = tree.xpath(f"//*[@id='{href[1:]}']")[0]
                assert note.tag == "{http://www.w3.org/1999/xhtml}aside"
                assert note.get("{http://www.idpf.org/2007/ops}type") == "footnote"
                assert note.get("role") == "doc-footnote"
                back = note.xpath(".//x:a[@role='doc-backlink']/@href", namespaces=XHTML_NS)
                assert back == [f"#{ref.get('id')}"]
                count += 1
        assert "EPUB/notes.xhtml" not in z.namelist()
    # Three written notes; a note style adds one per citation (three in the text).
    assert count == (3 if kind == "notes" else 6)


# -- print page numbers --------------------------------------------------------------------------

def _pdf_page_of(pdf: Path, heading: str) -> int:
    """The page (from 1) where `heading` is set largest: the heading itself, not a mention of it."""
    import pypdfium2 as pdfium
    from pypdfium2 import raw

    best: tuple[float, int] = (0.0, 0)
    document = pdfium.PdfDocument(str(pdf))
    for index in range(len(document)):
        text = document[index].get_textpage()
        searcher = text.search(heading[:20], match_case=True)
        while (hit := searcher.get_next()) is not None:
            size = raw.FPDFText_GetFontSize(text.raw, hit[0])
            if size > best[0]:
                best = (size, index + 1)
    assert best[1], heading
    return best[1]


@pytest.mark.parametrize("kind", KINDS)
def test_page_list_gives_each_section_its_print_page(builds, kind):
    epub, pdf = builds[kind]["epub"], builds[kind]["pdf"]
    page, seen = 0, 0
    with zipfile.ZipFile(epub) as z:
        for name in _spine(epub):
            tree = etree.fromstring(z.read(name))
            for el in tree.iter():
                if el.get("role") == "doc-pagebreak":
                    assert int(el.get("aria-label")) == page + 1 and el.get("id") == f"page-{page + 1}"
                    page += 1
                elif el.tag == "{http://www.w3.org/1999/xhtml}h1" and name.startswith("EPUB/chapter-"):
                    heading = " ".join("".join(el.itertext()).split())
                    assert page == _pdf_page_of(pdf, heading), heading
                    seen += 1
    assert seen >= 3
    import pypdfium2 as pdfium

    assert page == len(pdfium.PdfDocument(str(pdf)))  # every print page has its marker


def test_epub_alone_is_reproducible_and_paged_as_with_the_pdf(builds, paper, tmp_path):
    """Two EPUB-only builds are byte-identical, and equal to the EPUB built beside its PDF."""
    env = {"SOURCE_DATE_EPOCH": os.environ["SOURCE_DATE_EPOCH"]}
    first = dsr("build", str(paper), "--to", "epub", "--out", str(tmp_path / "a"), env=env)
    second = dsr("build", str(paper), "--to", "epub", "--out", str(tmp_path / "b"), env=env)
    assert first.status == 0 and second.status == 0, first.stderr + second.stderr
    a, b = (tmp_path / d / "paper.epub" for d in ("a", "b"))
    assert not (tmp_path / "a" / "paper.pdf").exists()
    assert a.read_bytes() == b.read_bytes() == builds["notes"]["epub"].read_bytes()
    nav = epub_tree(a, "EPUB/nav.xhtml")
    assert nav.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=XHTML_NS)


def test_math_is_mathml_in_a_document_declared_to_hold_it(builds):
    epub = builds["notes"]["epub"]
    declared = [i.get("href") for i in _opf(epub).iterfind(".//opf:manifest/opf:item", OPF)
                if "mathml" in (i.get("properties") or "").split()]
    assert declared == ["chapter-03.xhtml"]
    tree = epub_tree(epub, "EPUB/chapter-03.xhtml")
    assert len(tree.xpath("//m:math", namespaces={"m": "http://www.w3.org/1998/Math/MathML"})) == 2
