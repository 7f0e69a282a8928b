"""The DOCX as an editor shows it: LibreOffice Writer lays it out, and the page is measured against our PDF."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from clients import body_pitch, chars, indent_of, libreoffice_pdf, line_index, lines, pdffonts

from dsr_export import theme as themes

THEME = themes.load("default")
BASE = THEME["type.base-size"]
INDENT = BASE * THEME["paragraph.first-line-indent"]


@pytest.fixture(scope="module")
def word(essay: dict[str, Path], rich: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each source's DOCX printed by LibreOffice, beside our own PDF of it."""
    out = tmp_path_factory.mktemp("libreoffice")
    return {name: {"lo": libreoffice_pdf(built["docx"], out / name), "ours": built["pdf"]}
            for name, built in (("essay", essay), ("rich", rich))}


@pytest.mark.parametrize("name", ["essay", "rich"])
def test_body_line_pitch_matches_the_print_layout(word: dict, name: str) -> None:
    lo, ours = body_pitch(word[name]["lo"], BASE), body_pitch(word[name]["ours"], BASE)
    assert abs(lo - ours) / ours < 0.05, f"LibreOffice {lo:.2f} pt between baselines, PDF {ours:.2f} pt"


@pytest.mark.parametrize("name", ["essay", "rich"])
def test_text_is_set_in_the_themes_embedded_faces(word: dict, name: str) -> None:
    drawn = Counter(c.font for c in chars(word[name]["lo"]) if abs(c.size - BASE) < 0.3)
    body = sum(n for font, n in drawn.items() if font.startswith("SourceSerifPro"))
    assert body / sum(drawn.values()) > 0.97, drawn.most_common(4)
    headings = {c.font for c in chars(word[name]["lo"]) if c.size > 15 and c.text.isalpha()}
    assert headings and all(f.startswith("SourceSansPro") for f in headings), headings


def test_the_essay_uses_no_substitute_face(word: dict) -> None:
    fonts = pdffonts(word["essay"]["lo"])
    assert fonts and all(name.startswith(("SourceSerifPro", "SourceSansPro")) for name, _ in fonts), fonts
    assert all(embedded for _, embedded in fonts)


@pytest.mark.parametrize(("name", "first", "second"), [
    ("essay", "In 2013, the Chinese", "In March 2015"),
    ("rich", "The first paragraph after", "A second paragraph follows"),  # after the title and a credit
])
def test_the_first_paragraph_after_the_title_is_flush_and_the_next_indented(
    word: dict, name: str, first: str, second: str
) -> None:
    for pdf in (word[name]["lo"], word[name]["ours"]):
        rows = lines(chars(pdf), BASE)
        assert indent_of(rows, first) == pytest.approx(0, abs=0.5), pdf
        assert indent_of(rows, second) == pytest.approx(INDENT, rel=0.05), pdf


def test_the_publisher_is_in_the_title_block(word: dict) -> None:
    rows = lines(chars(word["essay"]["lo"]))
    publisher, text = line_index(rows, "European Guanxi"), line_index(rows, "In 2013, the Chinese")
    assert publisher < text and rows[publisher][0].page == 0


def test_table_cells_are_flush_and_tight(word: dict) -> None:
    rows = lines(chars(word["rich"]["lo"]))
    header, cell = line_index(rows, "Good"), line_index(rows, "Silk (raw, woven)")
    continued = rows[cell + 1]
    assert "".join(c.text for c in continued).startswith("dyedcloth")
    # The cell's first line starts where its second line and the column's header start: no indent.
    assert rows[cell][0].x == pytest.approx(continued[0].x, abs=0.5)
    assert rows[cell][0].x == pytest.approx(rows[header][0].x, abs=0.5)
    # Tight: one line of the cell's text from one baseline to the next, no paragraph spacing.
    pitch = continued[0].y - rows[cell][0].y
    assert pitch < 1.6 * rows[cell][0].size


def test_the_svg_picture_is_drawn(word: dict) -> None:
    import pypdfium2 as pdfium

    rows = lines(chars(word["rich"]["lo"]))
    caption = rows[line_index(rows, "A caravan route")]
    number = caption[0].page
    top = min(c.box[1] for c in caption)
    pdf = pdfium.PdfDocument(str(word["rich"]["lo"]))
    image = pdf[number].render(scale=1).to_pil().convert("L")
    # The picture is 240 x 90 pt, just above its caption, at the left of the text block.
    box = image.crop((60, max(0, int(top) - 100), 480, int(top) - 4))
    inked = sum(box.histogram()[:235]) / (box.width * box.height)
    assert inked > 0.2, f"{inked:.0%} of the picture's box is drawn"


def test_notes_and_formula_are_drawn(word: dict) -> None:
    text = "".join(c.text for c in chars(word["rich"]["lo"]))
    assert "∑" in text and "T(n)=" in text  # LibreOffice's formula module drew the equation
    marks = [c.text for c in chars(word["rich"]["lo"]) if c.size < 7 and c.font.startswith("SourceSerif")]
    assert marks[:2] == ["1", "2"] or sorted(set(marks)) == ["1", "2"]  # notes numbered through


def test_the_fonts_are_embedded_as_word_expects(essay: dict[str, Path]) -> None:
    import zipfile

    from lxml import etree

    from dsr_export.writers.docx_fonts import R, W, obfuscate

    with zipfile.ZipFile(essay["docx"]) as z:
        table = etree.fromstring(z.read("word/fontTable.xml"))
        rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(z.read("word/_rels/fontTable.xml.rels"))}
        faces = {(f.family, f.weight, f.italic): f.path for f in THEME.faces}
        kinds = {"embedRegular": (400, False), "embedBold": (700, False), "embedItalic": (400, True),
                 "embedBoldItalic": (700, True)}
        found = 0
        for font in table.iterfind(f"{{{W}}}font"):
            for entry in font:
                kind = etree.QName(entry).localname
                if kind not in kinds:
                    continue
                data = z.read("word/" + rels[entry.get(f"{{{R}}}id")])
                original = faces[(font.get(f"{{{W}}}name"), *kinds[kind])].read_bytes()
                assert data[:32] != original[:32] and obfuscate(data, entry.get(f"{{{W}}}fontKey")) == original
                found += 1
    assert found == len(THEME.faces) == 8  # Source Serif and Source Sans, four faces each
    assert b"<w:embedTrueTypeFonts" in zipfile.ZipFile(essay["docx"]).read("word/settings.xml")


def test_heading_and_title_block_spacing_match_the_print_layout(word: dict) -> None:
    def gaps(pdf: Path) -> list[float]:
        rows = lines(chars(pdf))
        heading = line_index(rows, "Regional Stability and Security")
        title, text = line_index(rows, "The Digital Silk Road: A View"), line_index(rows, "In 2013, the Chinese")
        return [rows[heading][0].y - rows[heading - 1][0].y, rows[heading + 1][0].y - rows[heading][0].y,
                rows[text][0].y - rows[title][0].y]

    lo, ours = gaps(word["essay"]["lo"]), gaps(word["essay"]["ours"])
    assert lo == pytest.approx(ours, rel=0.05), f"LibreOffice {lo}, PDF {ours} (above and below a heading, title to text)"
