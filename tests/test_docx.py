"""Editor-grade DOCX: theme styles, Word footnotes, properties, byte identity, LibreOffice."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from helpers import ESSAY_HEADINGS, dsr, family_names, pdf_text
from lxml import etree

from dsr_export import theme as themes

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {
    "w": W_NS,
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
}
EPOCH = "1609718400"  # 2021-01-04T00:00:00Z

REFS = """\
references:
- id: smith2020
  type: book
  title: A Book About Things
  author: [{family: Smith, given: Ann}]
  issued: {date-parts: [[2020]]}
  publisher: Example Press
  DOI: 10.1000/xyz123
- id: jones2019
  type: article-journal
  title: An Article About Others
  author: [{family: Jones, given: Bob}]
  issued: {date-parts: [[2019]]}
  container-title: Journal of Examples
  URL: https://example.org/article
"""

SOURCE = """\
---
title: A Small Paper
subtitle: With Every Kind of Block
author:
  - name: Ann Author
date: 2024-05-01
lang: en-GB
abstract: A short abstract.
keywords: [testing, documents]
description: A paper that exercises the Word styles.
bibliography: refs.yaml
link-citations: true
---

First paragraph cites [@smith2020, p. 4] and carries a note.[^aside]

Second paragraph cites @jones2019 and links to <https://example.org/page>.

> A quotation set apart from the text, long enough to wrap onto a second line in most page widths.

![A teal rectangle](dot.png){#fig:dot}

| Year | Count |
|------|------:|
| 2019 | 3     |

: Counts by year {#tbl:counts}

```
code block
```

## Second level

### Third level

[^aside]: A footnote with *emphasis* in it.

# References {.unnumbered}

::: {#refs}
:::
"""

# A 1x1 PNG, so the fixture needs no image library.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763"
    "60a8a80000000304010055a8a6b10000000049454e44ae426082"
)


def build(folder: Path, out: str, *args: str) -> Path:
    run = dsr(
        "build",
        str(folder / "paper.md"),
        "--to",
        "docx",
        "--out",
        str(folder / out),
        *args,
        env={"SOURCE_DATE_EPOCH": EPOCH},
    )
    assert run.status == 0, run.stderr
    return folder / out / "paper.docx"


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture built twice (for byte identity) and once with a note style."""
    folder = tmp_path_factory.mktemp("docx")
    (folder / "refs.yaml").write_text(REFS)
    (folder / "paper.md").write_text(SOURCE)
    (folder / "dot.png").write_bytes(PNG)
    return {
        "first": build(folder, "first"),
        "second": build(folder, "second"),
        "notes": build(folder, "notes", "--csl", "chicago-notes-bibliography"),
    }


def part(path: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read(name))


def w(name: str) -> str:
    return f"{{{W_NS}}}{name}"


def style_of(styles: etree._Element, name: str) -> etree._Element:
    found = styles.find(f"w:style/w:name[@w:val='{name}']/..", NS)
    if found is None and name.startswith("Heading"):  # Word's built-in names are lower case
        found = styles.find(f"w:style/w:name[@w:val='{name.lower()}']/..", NS)
    assert found is not None, f"style {name!r} missing"
    return found


def effective(
    styles: etree._Element, style: etree._Element, tag: str, attr: str = "val"
) -> str | None:
    """A run property of a style, following basedOn up to the document defaults."""
    while style is not None:
        found = style.find(f"w:rPr/w:{tag}", NS)
        if found is not None and found.get(w(attr)) is not None:
            return found.get(w(attr))
        based = style.find("w:basedOn", NS)
        style = (
            styles.find(f"w:style[@w:styleId='{based.get(w('val'))}']", NS)
            if based is not None
            else None
        )
    default = styles.find(f"w:docDefaults/w:rPrDefault/w:rPr/w:{tag}", NS)
    return default.get(w(attr)) if default is not None else None


def expected_styles(name: str) -> dict[str, tuple[str, float]]:
    """Every paragraph style pandoc uses -> (font family, size in points), from the tokens alone."""
    t = themes.load(name)
    base, small = t["type.base-size"], t["type.base-size"] * t["type.small"]
    body, heading, mono = t["fonts.body.family"], t["fonts.heading.family"], t["fonts.mono.family"]
    want = {
        n: (body, base)
        for n in (
            "Normal",
            "Body Text",
            "First Paragraph",
            "Compact",
            "Block Text",
            "Bibliography",
            "Abstract",
        )
    }
    want |= {
        "Title": (heading, t.heading_pt(1)),
        "Subtitle": (heading, t.heading_pt(2)),
        "Author": (heading, base * t["type.scale"]),
        "Date": (heading, base),
    }
    want |= {f"Heading {n}": (heading, t.heading_pt(n)) for n in range(1, 7)}
    want |= {
        n: (body, small) for n in ("Footnote Text", "Caption", "Image Caption", "Table Caption")
    }
    want["Source Code"] = (mono, base * t["type.mono"])
    want |= {
        "Image Credit": (body, small),
        "Disclaimer": (body, small),
        "Author Note": (body, base),
    }
    return want


@pytest.mark.parametrize("theme", ["default", "book"])
def test_every_style_has_the_theme_font_and_size(paper, tmp_path, theme):
    path = paper["first"]
    if theme != "default":
        path = build(path.parents[1], f"theme-{theme}", "--theme", theme)
    styles = part(path, "word/styles.xml")
    for name, (family, size) in expected_styles(theme).items():
        style = style_of(styles, name)
        assert effective(styles, style, "rFonts", "ascii") == family, name
        assert int(effective(styles, style, "sz")) / 2 == pytest.approx(size, abs=0.25), name
    t = themes.load(theme)
    assert (
        effective(styles, style_of(styles, "Hyperlink"), "color")
        == t["colours.link"].lstrip("#").upper()
    )
    assert (
        effective(styles, style_of(styles, "Verbatim Char"), "rFonts", "ascii")
        == t["fonts.mono.family"]
    )
    assert effective(styles, style_of(styles, "Footnote Reference"), "vertAlign") == "superscript"


def test_paragraphs_use_the_named_styles(paper):
    body = part(paper["first"], "word/document.xml")
    used = {p.get(w("val")) for p in body.iterfind(".//w:pStyle", NS)}
    assert {
        "Heading2",
        "Heading3",
        "BlockText",
        "Bibliography",
        "ImageCaption",
        "TableCaption",
        "SourceCode",
        "Title",
        "Subtitle",
        "Author",
        "Date",
        "Abstract",
        "FirstParagraph",
    } <= used
    quote = [
        p for p in body.iterfind(".//w:p", NS) if "quotation set apart" in "".join(p.itertext())
    ]
    assert quote and quote[0].find("w:pPr/w:pStyle", NS).get(w("val")) == "BlockText"


def test_essay_headings_and_reference_list(essay):
    body = part(essay["docx"], "word/document.xml")
    headings = [
        "".join(p.itertext())
        for p in body.iterfind(".//w:p", NS)
        if (s := p.find("w:pPr/w:pStyle", NS)) is not None and s.get(w("val")) == "Heading1"
    ]
    assert headings == ESSAY_HEADINGS
    entries = body.findall(".//w:pStyle[@w:val='Bibliography']", NS)
    assert len(entries) == len(family_names()) == 30
    used = {p.get(w("val")) for p in body.iterfind(".//w:pStyle", NS)}
    assert {"AuthorNote", "Disclaimer"} <= used
    assert "ImageCredit" not in used  # the essay credits no picture it contains (source/ERRATA.md)


def test_bibliography_hangs_by_the_theme_indent(paper):
    t = themes.load("default")
    twips = round(t["type.base-size"] * t["bibliography.hanging-indent"] * 20)
    styles = part(paper["first"], "word/styles.xml")
    indent = style_of(styles, "Bibliography").find("w:pPr/w:ind", NS)
    assert int(indent.get(w("hanging"))) == twips and int(indent.get(w("left"))) == twips
    spacing = style_of(styles, "Bibliography").find("w:pPr/w:spacing", NS)
    assert int(spacing.get(w("after"))) == round(
        t["type.base-size"] * t["bibliography.space-after"] * 20
    )


def test_page_geometry_and_language_come_from_the_theme(paper):
    t = themes.load("default")
    section = part(paper["first"], "word/document.xml").find(".//w:body/w:sectPr", NS)
    width, height = t.page_mm
    size, margins = section.find("w:pgSz", NS), section.find("w:pgMar", NS)
    assert int(size.get(w("w"))) == pytest.approx(width / 25.4 * 1440, abs=2)
    assert int(size.get(w("h"))) == pytest.approx(height / 25.4 * 1440, abs=2)
    assert int(margins.get(w("top"))) == pytest.approx(t["page.margin-top"] / 25.4 * 1440, abs=2)
    assert int(margins.get(w("left"))) == pytest.approx(t["page.margin-inner"] / 25.4 * 1440, abs=2)
    styles = part(paper["first"], "word/styles.xml")
    assert styles.find("w:docDefaults/w:rPrDefault/w:rPr/w:lang", NS).get(w("val")) == "en-GB"


def test_footnotes_are_word_footnotes(paper):
    notes = part(paper["first"], "word/footnotes.xml")
    texts = [
        "".join(n.itertext()) for n in notes.iterfind("w:footnote", NS) if n.get(w("type")) is None
    ]
    assert any("A footnote with emphasis in it." in t for t in texts), texts
    body = part(paper["first"], "word/document.xml")
    assert body.find(".//w:footnoteReference", NS) is not None


def test_note_style_citations_become_footnotes(paper):
    notes = part(paper["notes"], "word/footnotes.xml")
    text = " ".join("".join(n.itertext()) for n in notes.iterfind("w:footnote", NS))
    assert (
        "Smith" in text and "An Article About Others" in text and "A footnote with emphasis" in text
    )
    assert len(part(paper["notes"], "word/document.xml").findall(".//w:footnoteReference", NS)) >= 3


def test_citations_link_to_entries_and_urls_are_live(paper):
    body = part(paper["first"], "word/document.xml")
    anchors = {
        h.get(w("anchor")) for h in body.iterfind(".//w:hyperlink", NS) if h.get(w("anchor"))
    }
    marks = {b.get(w("name")) for b in body.iterfind(".//w:bookmarkStart", NS)}
    assert {"ref-smith2020", "ref-jones2019"} <= anchors <= marks
    rels = part(paper["first"], "word/_rels/document.xml.rels")
    targets = {r.get("Target") for r in rels if r.get("TargetMode") == "External"}
    assert {
        "https://example.org/page",
        "https://example.org/article",
        "https://doi.org/10.1000/xyz123",
    } <= targets


def test_images_have_alt_text(paper):
    body = part(paper["first"], "word/document.xml")
    assert [d.get("descr") for d in body.iterfind(".//wp:docPr", NS)] == ["A teal rectangle"]


def test_core_properties(paper):
    core = part(paper["first"], "docProps/core.xml")
    assert core.findtext("dc:title", namespaces=NS) == "A Small Paper"
    assert core.findtext("dc:creator", namespaces=NS) == "Ann Author"
    assert core.findtext("dc:subject", namespaces=NS) == "With Every Kind of Block"
    assert (
        core.findtext("dc:description", namespaces=NS) == "A paper that exercises the Word styles."
    )
    assert core.findtext("cp:keywords", namespaces=NS) == "testing, documents"
    assert core.findtext("dc:language", namespaces=NS) == "en-GB"
    assert core.findtext("dcterms:created", namespaces=NS) == "2021-01-04T00:00:00Z"
    assert core.findtext("dcterms:modified", namespaces=NS) == "2021-01-04T00:00:00Z"


def test_no_build_paths_in_the_properties(paper):
    with zipfile.ZipFile(paper["first"]) as z:
        custom = z.read("docProps/custom.xml").decode()
    assert "refs.yaml" not in custom and ".csl" not in custom and "link-citations" not in custom
    assert "A short abstract." in custom


def test_two_builds_are_byte_identical(paper):
    assert paper["first"].read_bytes() == paper["second"].read_bytes()


def test_libreoffice_opens_the_essay(essay, tmp_path):
    """A real client converts the DOCX; it exits 0 even on failure, so read the PDF it made."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) is not installed; `make test` installs it (tools/setup-system test)"
    profile = tmp_path / "profile"  # a private profile: concurrent runs must not share one
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(essay["docx"]),
        ],
        check=False,
        capture_output=True,
        timeout=300,
    )
    produced = tmp_path / f"{essay['docx'].stem}.pdf"
    assert produced.is_file(), "LibreOffice produced no PDF"
    text = pdf_text(produced)
    for heading in ESSAY_HEADINGS:
        assert heading in text, heading
    for name in family_names():
        assert name in text, name
