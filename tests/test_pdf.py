"""The print PDF, checked on real files: page geometry, furniture, page-foot notes, tags, fonts, metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from helpers import dsr

from dsr_export import theme as themes
from dsr_export.writers import print_html

MM = 72 / 25.4
FILLER = (
    "Trade routes carried more than goods: they carried standards, habits of administration and "
    "the expectations of the people who used them, and each generation of infrastructure has "
    "reshaped the towns along the way in ways that their planners rarely foresaw. "
) * 5

FIXTURE = f"""\
---
title: "Notes at the Foot"
author:
  - name: Ann Author
date: 2024-05-01
lang: en-GB
publisher: Test Press
description: "A short fixture for page-foot notes."
keywords: [notes, print]
bibliography: refs.yaml
---

Opening paragraph with a note.^[Quillnote: a one-paragraph note that names @smith2020.] It cites @jones2019 too.

# First Section

Greek αβγ and Cyrillic жизнь. A long address: <https://www.example.org/a/very/long/path/with-many_segments/and?query=value&other=thing_that_goes_on_and_on_for_ever>.

{FILLER}

{FILLER}

{FILLER}

Marrow call here.[^two]

[^two]: Marrownote: the first paragraph of a longer note.

    Its second paragraph, with *emphasis* and a link <https://doi.org/10.1000/xyz123456789>.

## A Subsection

{FILLER}

{FILLER}

Smith again [@smith2020, p. 4].

### A Sub-subsection

{FILLER}

# References {{.unnumbered}}

::: {{#refs}}
:::
"""

REFERENCES = """\
references:
  - id: smith2020
    type: book
    author: [{family: Smith, given: Jane}]
    title: A Book About Things
    publisher: Example Press
    issued: {date-parts: [[2020]]}
  - id: jones2019
    type: article-journal
    author: [{family: Jones, given: Tom}]
    title: An Article With a Very Long DOI
    container-title: Journal of Examples
    issued: {date-parts: [[2019]]}
    DOI: 10.1234/abcdefghijklmnopqrstuvwxyz.0123456789.abcdefghijklmnop
"""

# (text just before a note's call, text of the note) in the note-style build.
NOTES = [
    ("Opening paragraph with a note", "Quillnote: a one-paragraph note"),
    ("It cites Tom Jones", "‘An Article With a Very Long DOI’, Journal of Examples"),
    ("Marrow call here", "Marrownote: the first paragraph"),
    ("Smith again", "Smith, A Book About Things, 4"),
]
FIXTURE_OUTLINE = [(1, "Contents"), (1, "First Section"), (2, "A Subsection"), (3, "A Sub-subsection"),
                   (1, "References")]
ESSAY_OUTLINE = [(1, h) for h in ("Regional Stability and Security", "Chinese-centric Global Supply Chain through PPP",
                                  "Geopolitics: Russia and the US", "Chinese Cyber-Diplomacy", "Conclusion",
                                  "References")]


@dataclass(frozen=True)
class Built:
    pdf: Path
    margins_mm: dict[str, float]


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notes")
    (folder / "notes.md").write_text(FIXTURE, encoding="utf-8")
    (folder / "refs.yaml").write_text(REFERENCES, encoding="utf-8")
    return folder


def _margins() -> dict[str, float]:
    tokens = themes.load("default").tokens
    return {side: float(tokens[f"page.margin-{side}"]) for side in ("top", "bottom", "inner", "outer")}


@pytest.fixture(scope="module")
def notes_pdf(fixture_dir: Path) -> Built:
    """The fixture with a note-style CSL, on a book trim, with a table of contents."""
    out = fixture_dir / "out"
    run = dsr("build", str(fixture_dir / "notes.md"), "--to", "pdf", "--out", str(out),
              "--csl", "chicago-notes-bibliography", "--page-size", "156x234mm", "--toc")
    assert run.status == 0, run.stderr
    assert "warning" not in run.stderr, run.stderr
    return Built(out / "notes.pdf", _margins())


@pytest.fixture(scope="module")
def essay_pdf(essay: dict[str, Path]) -> Built:
    return Built(essay["pdf"], _margins())


def _chars(page: pdfium.PdfPage) -> list[tuple[str, float, float, float, float]]:
    """(char, left, bottom, right, top) of every visible character, in points from the bottom left."""
    text = page.get_textpage()
    found = []
    for i in range(text.count_chars()):
        char = text.get_text_range(i, 1)
        if char.strip() and char != "\u200b":
            found.append((char, *text.get_charbox(i)))
    return found


def _page_texts(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    texts = []
    for i in range(len(pdf)):
        raw = pdf[i].get_textpage().get_text_range().replace("\u200b", "")
        texts.append(" ".join(raw.split()))
    return texts


def _text_block(built: Built, index: int, width: float, height: float) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of the text block; page 1 is a recto, so its inner margin is on the left."""
    m = built.margins_mm
    inner_left = index % 2 == 0
    left = (m["inner"] if inner_left else m["outer"]) * MM
    right = width - (m["outer"] if inner_left else m["inner"]) * MM
    return left, m["bottom"] * MM, right, height - m["top"] * MM


def _furniture(built: Built) -> list[tuple[str, str]]:
    """(running head, folio) text of every page, read from the top and bottom margins."""
    pdf = pdfium.PdfDocument(str(built.pdf))
    found = []
    for index in range(len(pdf)):
        page = pdf[index]
        width, height = page.get_size()
        _, bottom, _, top = _text_block(built, index, width, height)
        chars = _chars(page)
        head = "".join(c for c, _, b, _, _ in chars if b > top)
        foot = "".join(c for c, _, _, _, t in chars if t < bottom)
        found.append((head, foot))
    return found


@pytest.mark.parametrize("name", ["essay_pdf", "notes_pdf"])
def test_every_page_but_the_first_has_a_running_head_and_page_number(name: str, request) -> None:
    built = request.getfixturevalue(name)
    furniture = _furniture(built)
    assert len(furniture) >= 3
    assert furniture[0] == ("", ""), "the first page carries no furniture"
    with pikepdf.open(built.pdf) as pdf:
        title = str(pdf.docinfo["/Title"])
    for index, (head, foot) in enumerate(furniture[1:], start=2):
        assert foot == str(index), (index, foot)
        assert head, f"page {index} has no running head"
        if index % 2 == 0:  # versos carry the document title
            assert head.replace(" ", "") == title.replace(" ", ""), (index, head)


def test_rectos_carry_the_current_section(essay_pdf: Built) -> None:
    heads = [head for head, _ in _furniture(essay_pdf)]
    sections = {h.replace(" ", "") for _, h in ESSAY_OUTLINE}
    assert any(head in sections for head in heads[2::2]), heads


def test_each_note_is_at_the_foot_of_the_page_that_calls_it(notes_pdf: Built) -> None:
    texts = _page_texts(notes_pdf.pdf)
    pages_with_notes = set()
    for call, note in NOTES:
        call_pages = [i for i, t in enumerate(texts) if call in t]
        note_pages = [i for i, t in enumerate(texts) if note in t]
        assert len(call_pages) == 1 and note_pages == call_pages, (call, call_pages, note, note_pages)
        page_text = texts[call_pages[0]]
        assert page_text.index(note) > page_text.index(call), "the note sits below its call"
        pages_with_notes.add(call_pages[0])
    assert len(pages_with_notes) >= 2, "the fixture spreads its notes over several pages"
    assert "Marrownote: the first paragraph of a longer note. Its second paragraph" in " ".join(texts)


def test_notes_are_numbered_in_order(notes_pdf: Built) -> None:
    text = " ".join(_page_texts(notes_pdf.pdf))
    for number, (_, note) in enumerate(NOTES, start=1):
        assert f"{number}. {note}" in text


@pytest.mark.parametrize("name,expected", [("essay_pdf", ESSAY_OUTLINE), ("notes_pdf", FIXTURE_OUTLINE)])
def test_outline_lists_every_heading_nested(name: str, expected, request) -> None:
    built = request.getfixturevalue(name)
    found: list[tuple[int, str]] = []

    def walk(items, depth: int) -> None:
        for item in items:
            found.append((depth, item.title))
            walk(item.children, depth + 1)

    with pikepdf.open(built.pdf) as pdf, pdf.open_outline() as outline:
        walk(outline.root, 1)
    assert found == expected


@pytest.mark.parametrize("name", ["essay_pdf", "notes_pdf"])
def test_tagged_accessible_and_described(name: str, request) -> None:
    built = request.getfixturevalue(name)
    with pikepdf.open(built.pdf) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root
        assert bool(root.MarkInfo.Marked) is True
        assert bool(root.ViewerPreferences.DisplayDocTitle) is True
        assert str(root.Lang) == "en-GB"
        info = pdf.docinfo
        assert str(info["/Title"]) in ("The Digital Silk Road: A View in Central Asia", "Notes at the Foot")
        assert str(info["/Author"]) in ("Berta Tarrats", "Ann Author")
        assert str(info["/Subject"]) and str(info["/Keywords"])
        assert str(info["/CreationDate"]).startswith("D:2021010400")  # SOURCE_DATE_EPOCH
        xmp = str(pdf.open_metadata())
        assert 'pdfuaid:part="1"' in xmp or "<pdfuaid:part>1</pdfuaid:part>" in xmp


@pytest.mark.parametrize("name", ["essay_pdf", "notes_pdf"])
def test_every_font_is_embedded(name: str, request) -> None:
    built = request.getfixturevalue(name)
    seen = 0
    with pikepdf.open(built.pdf) as pdf:
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                descriptor = (font.DescendantFonts[0] if font.Subtype == "/Type0" else font).FontDescriptor
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), font.get("/BaseFont")
                seen += 1
    assert seen


@pytest.mark.parametrize("name", ["essay_pdf", "notes_pdf"])
def test_no_character_leaves_the_text_block(name: str, request) -> None:
    built = request.getfixturevalue(name)
    pdf = pdfium.PdfDocument(str(built.pdf))
    tolerance = 1.0  # the ink of an "f" or "j" may overhang its advance by a fraction of a point
    for index in range(len(pdf)):
        page = pdf[index]
        width, height = page.get_size()
        left, bottom, right, top = _text_block(built, index, width, height)
        for char, c_left, c_bottom, c_right, c_top in _chars(page):
            where = f"page {index + 1}: {char!r} at x {c_left:.1f}-{c_right:.1f}, y {c_bottom:.1f}-{c_top:.1f}"
            assert c_left >= left - tolerance and c_right <= right + tolerance, where
            assert 0 <= c_bottom and c_top <= height, where
            if c_top < bottom:  # below the text block only the page number
                assert index > 0 and char.isdigit(), where
            if c_bottom > top:  # above it only the running head
                assert index > 0, where


def test_page_size_and_mirrored_margins(notes_pdf: Built) -> None:
    pdf = pdfium.PdfDocument(str(notes_pdf.pdf))
    width, height = pdf[0].get_size()
    assert (round(width / MM), round(height / MM)) == (156, 234)
    lefts = [min(c[1] for c in _chars(pdf[i])) for i in (1, 2)]
    m = notes_pdf.margins_mm
    assert lefts[0] == pytest.approx(m["outer"] * MM, abs=1)  # page 2, a verso
    assert lefts[1] == pytest.approx(m["inner"] * MM, abs=1)  # page 3, a recto


def test_contents_give_page_numbers(notes_pdf: Built) -> None:
    texts = _page_texts(notes_pdf.pdf)
    section_page = next(i for i, t in enumerate(texts) if "First Section Greek" in t) + 1
    assert re.search(rf"First Section[ .]+{section_page}\b", texts[0]), texts[0]


def test_citations_and_addresses_are_live_links(essay_pdf: Built) -> None:
    internal, external = 0, []
    with pikepdf.open(essay_pdf.pdf) as pdf:
        for page in pdf.pages:
            for annot in page.get("/Annots", []):
                action = annot.get("/A")
                if action is not None and "/URI" in action:
                    external.append(str(action.URI))
                elif "/Dest" in annot or (action is not None and "/D" in action):
                    internal += 1
    assert internal >= 30
    assert "https://doi.org/10.1080/17544750.2019.1606838" in external
    assert all("\u200b" not in uri for uri in external)


def test_archival_variant_crop_marks_and_bleed(fixture_dir: Path) -> None:
    out = fixture_dir / "archival"
    run = dsr("build", str(fixture_dir / "notes.md"), "--to", "pdf", "--out", str(out),
              "--pdf-variant", "pdf/a-3a", "--crop-marks", "--page-size", "A5")
    assert run.status == 0, run.stderr
    with pikepdf.open(out / "notes.pdf") as pdf:
        assert 'pdfaid:part="3"' in str(pdf.open_metadata()) or "<pdfaid:part>3</pdfaid:part>" in str(
            pdf.open_metadata())
        assert "/StructTreeRoot" in pdf.Root
        page = pdf.pages[0]
        trim = [float(v) for v in page.TrimBox]
        media = [float(v) for v in page.MediaBox]
        assert (round((trim[2] - trim[0]) / MM), round((trim[3] - trim[1]) / MM)) == (148, 210)
        assert media[2] - media[0] > trim[2] - trim[0] + 2 * 3 * MM - 0.5  # bleed and marks outside the trim


@pytest.mark.parametrize("flag,value", [("--pdf-variant", "pdf/z-9"), ("--page-size", "huge")])
def test_unknown_page_options_are_usage_errors(flag: str, value: str, fixture_dir: Path) -> None:
    run = dsr("build", str(fixture_dir / "notes.md"), "--to", "pdf", "--out", str(fixture_dir / "bad"), flag, value)
    assert run.status == 2, run.stderr
    assert value in run.stderr and "Traceback" not in run.stderr
    assert not (fixture_dir / "bad" / "notes.pdf").exists()


def test_a_character_no_font_can_draw_is_reported_with_its_line(tmp_path: Path) -> None:
    source = tmp_path / "glyph.md"
    source.write_text("---\ntitle: Glyphs\nlang: en\n---\n\nFine text.\n\nA hieroglyph \U00013000 here.\n",
                      encoding="utf-8")
    run = dsr("build", str(source), "--to", "pdf", "--out", str(tmp_path / "out"))
    assert run.status == 0, run.stderr
    assert f"{source}:8: warning: no configured font can draw" in run.stderr
    assert "U+13000 EGYPTIAN HIEROGLYPH A001" in run.stderr and "[missing-glyph]" in run.stderr
    strict = dsr("build", str(source), "--to", "pdf", "--out", str(tmp_path / "strict"), "--strict")
    assert strict.status == 1 and "U+13000" in strict.stderr
    assert not (tmp_path / "strict" / "glyph.pdf").exists()


def test_print_html_moves_notes_to_their_calls_and_breaks_addresses_in_text_only() -> None:
    body = (
        '<p>Call<a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref"><sup>1</sup></a> after.</p>\n'
        '<p>See <a href="https://example.org/a/b?c=d">https://example.org/a/b?c=d</a>.</p>\n'
        '<section id="footnotes" class="footnotes" role="doc-endnotes"><hr /><ol>\n'
        '<li id="fn1"><p>First.</p>\n<p>Second.<a href="#fnref1" class="footnote-back">↩︎</a></p></li>\n'
        "</ol></section>\n"
    )
    out = print_html.prepare(body)
    assert 'id="footnotes"' not in out and "footnote-back" not in out and "footnote-ref" not in out
    assert re.search(r'Call<span class="footnote" id="fn1"><span class="footnote-p">First\.</span>'
                     r'<span class="footnote-p">Second\.</span></span> after\.', out), out
    assert "<p>" not in out.split("Call", 1)[1].split("after")[0], "no block inside the calling paragraph"
    assert 'href="https://example.org/a/b?c=d"' in out
    z = "\u200b"
    assert f'<span class="address">https://{z}example{z}.org{z}/a{z}/b{z}?c{z}={z}d</span>' in out, out


def test_weasyprint_problems_become_warnings_on_their_line(tmp_path: Path) -> None:
    # A remote picture never reaches WeasyPrint (the gate refuses it); a broken local one does.
    (tmp_path / "broken.png").write_bytes(b"this is not a picture")
    source = tmp_path / "picture.md"
    source.write_text("---\ntitle: Picture\nlang: en\n---\n\nText.\n\n![A broken picture](broken.png)\n",
                      encoding="utf-8")
    run = dsr("build", str(source), "--to", "pdf", "--out", str(tmp_path / "out"))
    assert run.status == 0, run.stderr
    assert f"{source}:8: warning: PDF: Failed to load image at '" in run.stderr, run.stderr
    assert "broken.png" in run.stderr and "[weasyprint]" in run.stderr


def test_two_builds_are_identical(notes_pdf: Built, fixture_dir: Path) -> None:
    out = fixture_dir / "again"
    run = dsr("build", str(fixture_dir / "notes.md"), "--to", "pdf", "--out", str(out),
              "--csl", "chicago-notes-bibliography", "--page-size", "156x234mm", "--toc")
    assert run.status == 0, run.stderr
    assert (out / "notes.pdf").read_bytes() == notes_pdf.pdf.read_bytes()
