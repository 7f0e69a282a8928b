"""The essay, built in every format by the real tools, checked on the real outputs."""

from __future__ import annotations

import re
import zipfile

import docx
from helpers import (
    ESSAY,
    ESSAY_HEADINGS,
    XHTML_NS,
    epub_names,
    epub_tree,
    epubcheck,
    family_names,
    pdf_text,
)
from lxml import html as lhtml


def test_every_format_is_written(essay):
    for fmt, path in essay.items():
        assert path.is_file() and path.stat().st_size > 1000, fmt
    assert essay["pdf"].read_bytes().startswith(b"%PDF-")
    assert zipfile.is_zipfile(essay["epub"]) and zipfile.is_zipfile(essay["docx"])


def test_pdf_has_every_heading_and_reference_name(essay):
    text = pdf_text(essay["pdf"])
    for heading in ESSAY_HEADINGS:
        assert heading in text
    for name in family_names():
        assert name in text, name
    assert "?)" not in text and "???" not in text


def test_pdf_reference_list_has_30_entries(essay):
    """Each entry starts at the left margin; its other lines hang indented."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(essay["pdf"]))
    starts, in_refs = 0, False
    for index in range(len(pdf)):
        page = pdf[index].get_textpage()
        lines: dict[int, tuple[float, str]] = {}
        for i in range(page.count_chars()):
            left, bottom, _, _ = page.get_charbox(i)
            char = page.get_text_range(i, 1)
            if not char.strip():
                continue
            key = round(bottom)
            x, text = lines.get(key, (left, ""))
            lines[key] = (min(x, left), text + char)
        margin = min(x for x, _ in lines.values())
        for _, (x, text) in sorted(lines.items(), reverse=True):
            if text.startswith("References"):
                in_refs = True
                continue
            if in_refs and abs(x - margin) < 1 and not text.isdigit():
                starts += 1
    assert starts == 30


def test_html_reference_list_has_30_entries(essay):
    tree = lhtml.fromstring(essay["html"].read_bytes())
    assert len(tree.xpath('//div[@id="refs"]/div[contains(@class, "csl-entry")]')) == 30
    assert len(tree.xpath("//h1[not(@class='title')]")) == len(ESSAY_HEADINGS)
    assert "(key?)" not in essay["html"].read_text()


def test_epub_passes_epubcheck(essay):
    verdict = epubcheck(essay["epub"])
    assert (verdict["FATAL"], verdict["ERROR"], verdict["WARNING"]) == (0, 0, 0), verdict["messages"]


def test_epub_package_and_references(essay):
    opf = epub_tree(essay["epub"], "EPUB/content.opf")
    ns = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
    assert opf.findtext(".//dc:title", namespaces=ns) == "The Digital Silk Road: A View in Central Asia"
    assert opf.findtext(".//dc:language", namespaces=ns) == "en-GB"
    assert opf.findtext(".//dc:creator", namespaces=ns) == "Berta Tarrats"
    assert opf.findtext(".//dc:identifier", namespaces=ns).startswith("urn:uuid:")
    refs = epub_tree(essay["epub"], "EPUB/references.xhtml")
    assert len(refs.xpath('//x:div[@id="refs"]/x:div', namespaces=XHTML_NS)) == 30
    assert refs.xpath("//x:section/@epub:type", namespaces=XHTML_NS) == ["bibliography"]
    chapters = [n for n in epub_names(essay["epub"]) if re.match(r"EPUB/chapter-\d+\.xhtml", n)]
    assert len(chapters) == len(ESSAY_HEADINGS) - 1


def test_epub_citations_link_into_the_reference_file(essay):
    chapter = epub_tree(essay["epub"], "EPUB/chapter-01.xhtml")
    hrefs = chapter.xpath('//x:span[contains(@class,"citation")]//x:a/@href', namespaces=XHTML_NS)
    assert hrefs and all(h.startswith("references.xhtml#ref-") for h in hrefs)


def test_docx_uses_heading_styles_and_bibliography(essay):
    document = docx.Document(str(essay["docx"]))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ESSAY_HEADINGS
    bibliography = [p for p in document.paragraphs if p.style.name == "Bibliography"]
    assert len(bibliography) == 30
    text = "\n".join(p.text for p in bibliography)
    for name in family_names():
        assert name in text, name
    assert document.core_properties.title == "The Digital Silk Road: A View in Central Asia"


def test_source_is_the_canonical_essay():
    text = ESSAY.read_text(encoding="utf-8")
    assert "top of page" not in text and "Write for us" not in text
    assert "[@cheney2019, p. 3]" in text
    assert "lang: en-GB" in text
