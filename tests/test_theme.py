"""One theme, every format: the look read back from PDF, EPUB, HTML and DOCX matches the tokens."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import tinycss2
from helpers import ROOT, dsr
from lxml import etree
from lxml import html as lhtml

from dsr_export import theme as themes

W = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
THEMES = ("default", "book")
HEADINGS = {1: "Section Heading One", 2: "Subsection Heading Two", 3: "Part Heading Three"}

REFS = """\
references:
- id: smith2020
  type: book
  author: [{family: Smith, given: Ann}]
  title: A Book About Things
  issued: {date-parts: [[2020]]}
"""

SOURCE = """\
---
title: The Look
author: [Ann Author]
lang: en-GB
bibliography: refs.yaml
link-citations: true
---

# Section Heading One

Body text of the first paragraph, long enough to fill a line or two of the page so that the body size
is the size most characters have, as argued before [@smith2020, p. 4]. More words follow here.

Another paragraph of body text, indented as the second of a run, with still more words to set.

## Subsection Heading Two

Body text again, so that the body size outweighs every heading on the page by a wide margin.

### Part Heading Three

Closing body text of the sample, written to be read back.

# References {.unnumbered}

::: {#refs}
:::
"""


@pytest.fixture(scope="module")
def looks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """The sample built in every format with each theme, by the real command line."""
    folder = tmp_path_factory.mktemp("look")
    (folder / "refs.yaml").write_text(REFS)
    (folder / "look.md").write_text(SOURCE)
    built = {}
    for name in THEMES:
        out = folder / name
        run = dsr("build", str(folder / "look.md"), "--theme", name, "--out", str(out))
        assert run.status == 0, run.stderr
        built[name] = {fmt: out / f"look.{fmt}" for fmt in ("pdf", "epub", "docx", "html")}
    return built


def expected(name: str) -> dict[str, object]:
    t = themes.load(name)
    return {
        "body": t["fonts.body.family"],
        "heading": t["fonts.heading.family"],
        "size": float(t["type.base-size"]),
        "headings": {level: t.heading_pt(level) for level in (1, 2, 3)},
        "text": t["colours.text"].lower(),
        "link": t["colours.link"].lower(),
    }


# --- reading the look back -------------------------------------------------------------


def css_rules(css: str) -> dict[str, dict[str, str]]:
    """selector -> declarations, later rules overriding earlier ones (as the cascade would)."""
    rules: dict[str, dict[str, str]] = {}
    for rule in tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True):
        if rule.type != "qualified-rule":
            continue
        selectors = [s.strip() for s in tinycss2.serialize(rule.prelude).split(",")]
        for decl in tinycss2.parse_declaration_list(
            rule.content, skip_whitespace=True, skip_comments=True
        ):
            if decl.type == "declaration":
                for selector in selectors:
                    rules.setdefault(selector, {})[decl.lower_name] = tinycss2.serialize(
                        decl.value
                    ).strip()
    return rules


def first_family(stack: str) -> str:
    return stack.split(",")[0].strip().strip('"')


def check_css(css: str, want: dict[str, object], root_pt: float | None) -> None:
    rules = css_rules(css)
    assert first_family(rules["html"]["font-family"]) == want["body"]
    assert rules["html"]["color"].lower() == want["text"]
    assert rules["a"]["color"].lower() == want["link"]
    if root_pt is not None:
        assert (
            rules["html"]["font-size"] == f"{want['size']:g}pt"
            or float(rules["html"]["font-size"][:-2]) == root_pt
        )
    for level, pt in want["headings"].items():  # type: ignore[union-attr]
        em = float(rules[f"h{level}"]["font-size"].removesuffix("em"))
        assert em * want["size"] == pytest.approx(pt, abs=0.05), level  # type: ignore[operator]
        assert first_family(rules[f"h{level}"]["font-family"]) == want["heading"]


def pdf_fonts(path: Path) -> set[str]:
    """Base font names in the PDF's font dictionaries, subset prefixes removed."""
    import pikepdf

    names = set()
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for font in page.resources.get("/Font", {}).values():
                names.add(str(font.get("/BaseFont", "")).lstrip("/").split("+")[-1])
    return names


def pdf_chars(path: Path) -> list[tuple[str, float, str]]:
    """(character, font size in points, fill colour #rrggbb) for every character of the PDF."""
    import ctypes

    import pypdfium2 as pdfium
    from pypdfium2 import raw

    chars = []
    pdf = pdfium.PdfDocument(str(path))
    for index in range(len(pdf)):
        text = pdf[index].get_textpage()
        r, g, b, a = (ctypes.c_uint() for _ in range(4))
        matrix = raw.FS_MATRIX()
        for i in range(text.count_chars()):
            char = text.get_text_range(i, 1)
            # The size in the text object, scaled by the character's transformation to page points.
            raw.FPDFText_GetMatrix(text, i, ctypes.byref(matrix))
            size = raw.FPDFText_GetFontSize(text, i) * (
                abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
            )
            raw.FPDFText_GetFillColor(text, i, *(ctypes.byref(c) for c in (r, g, b, a)))
            chars.append((char, round(size, 2), f"#{r.value:02x}{g.value:02x}{b.value:02x}"))
    return chars


def span(chars: list[tuple[str, float, str]], phrase: str) -> list[tuple[str, float, str]]:
    text = "".join(c[0] for c in chars)
    start = text.find(phrase)
    assert start >= 0, phrase
    return [c for c in chars[start : start + len(phrase)] if not c[0].isspace()]


def docx_style(styles: etree._Element, style_id: str) -> dict[str, str]:
    """A Word style's effective font, size (pt) and colour, following basedOn to the defaults."""
    found: dict[str, str] = {}
    current = style_id
    while current and len(found) < 3:
        style = styles.find(f"w:style[@w:styleId='{current}']", W)
        assert style is not None, current
        rpr = style.find("w:rPr", W)
        if rpr is not None:
            fonts, size, colour = (
                rpr.find("w:rFonts", W),
                rpr.find("w:sz", W),
                rpr.find("w:color", W),
            )
            if fonts is not None and fonts.get(f"{{{W['w']}}}ascii"):
                found.setdefault("font", fonts.get(f"{{{W['w']}}}ascii"))
            if size is not None:
                found.setdefault("size", str(int(size.get(f"{{{W['w']}}}val")) / 2))
            if colour is not None:
                found.setdefault("colour", "#" + colour.get(f"{{{W['w']}}}val").lower())
        based = style.find("w:basedOn", W)
        current = based.get(f"{{{W['w']}}}val") if based is not None else ""
    return found


def docx_styles(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("word/styles.xml"))


# --- the agreement, per format and theme -----------------------------------------------


@pytest.mark.parametrize("name", THEMES)
def test_pdf_look_matches_tokens(looks, name):
    want, path = expected(name), looks[name]["pdf"]
    fonts = {
        re.sub(r"[\s-]", "", f) for f in pdf_fonts(path)
    }  # WeasyPrint writes spaces as hyphens
    for role in ("body", "heading"):
        assert any(f.startswith(str(want[role]).replace(" ", "")) for f in fonts), (role, fonts)
    chars = pdf_chars(path)
    letters = [c for c in chars if c[0].isalpha()]
    body_size, _ = Counter(c[1] for c in letters).most_common(1)[0]
    assert body_size == pytest.approx(want["size"], abs=0.05)
    body_colour, _ = Counter(c[2] for c in letters).most_common(1)[0]
    assert body_colour == want["text"]
    for level, phrase in HEADINGS.items():
        sizes = {c[1] for c in span(chars, phrase)}
        assert len(sizes) == 1, (level, sizes)
        assert sizes.pop() == pytest.approx(want["headings"][level], abs=0.05), level  # type: ignore[index]
    link = span(chars, "Smith")[0]  # the citation, a link to its reference entry
    assert link[2] == want["link"]


@pytest.mark.parametrize("name", THEMES)
def test_epub_css_matches_tokens(looks, name):
    with zipfile.ZipFile(looks[name]["epub"]) as z:
        css = z.read("EPUB/style/book.css").decode()
        shipped = set(z.namelist())
    check_css(css, expected(name), None)
    for url in re.findall(r'url\("([^"]+)"\)', css):
        assert f"EPUB/style/{url}" in shipped, url


@pytest.mark.parametrize("name", THEMES)
def test_html_css_matches_tokens(looks, name):
    page = lhtml.fromstring(looks[name]["html"].read_bytes())
    check_css(page.findtext(".//style"), expected(name), None)


@pytest.mark.parametrize("name", THEMES)
def test_docx_styles_match_tokens(looks, name):
    want, styles = expected(name), docx_styles(looks[name]["docx"])
    normal = docx_style(styles, "Normal")
    assert normal["font"] == want["body"]
    assert float(normal["size"]) == pytest.approx(want["size"], abs=0.25)
    assert normal["colour"] == want["text"]
    for level in (1, 2, 3):
        style = docx_style(styles, f"Heading{level}")
        assert style["font"] == want["heading"]
        assert float(style["size"]) == pytest.approx(want["headings"][level], abs=0.25)  # type: ignore[index]
    assert docx_style(styles, "Hyperlink")["colour"] == want["link"]


def test_the_two_themes_differ_where_it_shows():
    default, book = expected("default"), expected("book")
    for key in ("body", "heading", "size", "text", "link"):
        assert default[key] != book[key], key
    assert themes.load("book").page_mm != themes.load("default").page_mm


def test_font_licences_are_found_for_every_packaged_family():
    for name in THEMES:
        theme = themes.load(name)
        folders = {face.path.parent for face in theme.faces}
        assert {path.parent for path in theme.licences} == folders
        assert all(path.stat().st_size > 1000 for path in theme.licences)


def test_front_matter_selects_the_theme(tmp_path):
    (tmp_path / "refs.yaml").write_text(REFS)
    (tmp_path / "look.md").write_text(SOURCE.replace("lang: en-GB", "lang: en-GB\ntheme: book"))
    run = dsr("build", str(tmp_path / "look.md"), "--to", "docx", "--out", str(tmp_path / "out"))
    assert run.status == 0, run.stderr
    assert docx_style(docx_styles(tmp_path / "out" / "look.docx"), "Normal")["font"] == "Caladea"


# --- theme errors name the theme file and the key --------------------------------------

DEFAULT_TOML = (ROOT / "styles" / "default.toml").read_text()

BROKEN = {
    "unknown token": (
        DEFAULT_TOML.replace("[colours]\n", '[colours]\nhighlight = "#ffff00"\n'),
        "'colours.highlight'",
    ),
    "bad colour": (DEFAULT_TOML.replace('link = "#1d4f7a"', 'link = "blue"'), "'colours.link'"),
    "missing token": (DEFAULT_TOML.replace("line-height = 1.45\n", ""), "'type.line-height'"),
    "font not installed": (
        DEFAULT_TOML.replace('family = "DejaVu Sans Mono"', 'family = "No Such Mono"'),
        "'fonts.mono.family'",
    ),
    "font package missing": (
        DEFAULT_TOML.replace('package = "font_source_serif_pro"', 'package = "font_no_such_face"'),
        "'fonts.body.package'",
    ),
    "page size": (DEFAULT_TOML.replace('size = "A4"', 'size = "A11"'), "'page.size'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_theme_error_names_file_and_key(tmp_path, case):
    text, key = BROKEN[case]
    assert text != DEFAULT_TOML
    (tmp_path / "refs.yaml").write_text(REFS)
    (tmp_path / "look.md").write_text(SOURCE)
    theme_file = tmp_path / "broken.toml"
    theme_file.write_text(text)
    run = dsr(
        "build",
        str(tmp_path / "look.md"),
        "--theme",
        str(theme_file),
        "--to",
        "html",
        "--out",
        str(tmp_path / "out"),
    )
    assert run.status == 1
    assert "broken.toml" in run.stderr and key in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out" / "look.html").exists()
