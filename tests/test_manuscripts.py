"""Manuscripts written for plain pandoc, Pandoc Scholar or JOSS, built in every format by the real tools."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import docx
import pikepdf
import pytest
from helpers import ROOT, XHTML_NS, dsr, epub_names, epub_tree, epubcheck, pdf_text
from lxml import etree
from lxml import html as lhtml

FIXTURE = ROOT / "tests" / "fixtures" / "manuscript"
PAPER = FIXTURE / "paper.md"
AUTHORS = ["Ada Lindqvist", "Tomás Okafor"]
AFFILIATIONS = ["Institute of Coastal Studies, Harbour University",
                "Department of Applied Mathematics, Northfield College"]
ORCID = "https://orcid.org/0000-0002-1825-0097"
CITED = ["Harmonic analysis of short tidal records", "Tides in practice"]
MATHML = "http://www.w3.org/1998/Math/MathML"
OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """The fixture paper in every format, built under the C locale as a CI machine would."""
    out = tmp_path_factory.mktemp("manuscript")
    run = dsr("build", str(PAPER), "--out", str(out), env={"LANG": "C", "LC_ALL": "C"})
    assert run.status == 0, run.stderr
    paths: dict[str, Path | str] = {fmt: out / f"paper.{fmt}" for fmt in ("pdf", "epub", "docx", "html")}
    paths["stderr"] = run.stderr
    return paths


def _chapters(epub: Path) -> str:
    with zipfile.ZipFile(epub) as z:
        return "\n".join(z.read(n).decode() for n in z.namelist() if re.match(r"EPUB/chapter-\d+\.xhtml", n))


# --- every format ------------------------------------------------------------


def test_unknown_label_is_a_warning_with_its_line(built):
    assert "paper.md:45: warning: cross-reference to unknown label 'fig:missing'" in built["stderr"]
    # every raw HTML tag of the paper was mapped to pandoc elements except the obsolete <font>
    assert built["stderr"].count("[raw-html]") == 1
    assert "paper.md:24: warning: raw HTML <font> is kept in HTML, EPUB and PDF" in built["stderr"]


def test_epub_passes_epubcheck(built):
    verdict = epubcheck(built["epub"])
    assert (verdict["FATAL"], verdict["ERROR"], verdict["WARNING"]) == (0, 0, 0), verdict["messages"]


# --- EPUB ----------------------------------------------------------------------


def test_epub_title_page_has_authors_affiliations_and_orcid(built):
    page = epub_tree(built["epub"], "EPUB/titlepage.xhtml")
    text = " ".join("".join(page.itertext()).split())
    for name in AUTHORS + AFFILIATIONS:
        assert name in text
    assert page.xpath("//x:a[@class='orcid']/@href", namespaces=XHTML_NS) == [ORCID]
    # the name's footnote is not part of the name, but is shown as a note on the title block
    assert "Ada Lindqvist1,2,* ORCID" in text and "* corresponding author" in text


def test_epub_metadata_from_journal_front_matter(built):
    opf = epub_tree(built["epub"], "EPUB/content.opf")
    assert opf.xpath("//dc:creator/text()", namespaces=OPF) == AUTHORS
    assert opf.xpath("//dc:language/text()", namespaces=OPF) == ["en"]  # never the build machine's "C"
    assert opf.xpath("//dc:date/text()", namespaces=OPF) == ["2020-12-18"]  # from "18. December 2020"
    orcid = opf.xpath("//opf:meta[@refines='#creator-1'][@property='dcterms:identifier']/text()", namespaces=OPF)
    assert orcid == [ORCID]


def test_epub_math_is_mathml(built):
    chapters = _chapters(built["epub"])
    tree = etree.fromstring(f"<all>{re.sub(r'<[?!][^>]*>', '', chapters)}</all>".encode())
    maths = tree.findall(f".//{{{MATHML}}}math")
    assert len(maths) == 4
    assert [m.get("display") for m in maths].count("block") == 2  # $$...$$ and \begin{equation}
    assert "<mo>∑</mo>" in chapters
    visible = re.sub(r"<annotation[^>]*>.*?</annotation>", "", chapters, flags=re.DOTALL)
    assert "\\sum" not in visible and "\\label" not in visible and "\\autoref" not in visible
    opf = epub_tree(built["epub"], "EPUB/content.opf")
    assert opf.xpath("//opf:item[contains(@properties, 'mathml')]", namespaces=OPF)


def test_epub_cross_references_are_numbered_links(built):
    chapters = _chapters(built["epub"])
    assert 'href="#fig:record" class="cross-ref">Figure\u00a01</a>' in chapters
    assert 'href="#eq:tide" class="cross-ref">Equation\u00a01</a>' in chapters
    assert 'class="cross-ref">(1)</a>' in chapters and 'href="#eq:residual" class="cross-ref">(2)</a>' in chapters
    assert '<figure id="fig:record">' in chapters and "Figure\u00a01: A tidal record" in chapters
    assert 'href="#tab:constituents" class="cross-ref">Table\u00a01</a>' in chapters
    assert "<caption>Table\u00a01: Constituents fitted by default.</caption>" in chapters
    assert 'Section <a href="#sec:method" class="cross-ref">2</a>' in chapters
    images = [n for n in epub_names(built["epub"]) if n.startswith("EPUB/images/") and "cover" not in n]
    assert len(images) == 1 and images[0].endswith(".png")  # the figure, packaged


def test_epub_raw_html_and_cito_become_markup(built):
    chapters = _chapters(built["epub"])
    assert re.search(r"long<br/>\s*and noisy", chapters)
    assert "2<sup>nd</sup>" in chapters and "<u>underlined text</u>" in chapters
    assert 'style="color: #336"' in chapters
    assert "<span>old markup</span>" in chapters and "<font" not in chapters
    assert "a note to self" not in chapters
    assert 'data-cito="usesMethodIn cites"' in chapters and 'data-cito="usesMethodIn"' in chapters


def test_every_href_is_a_valid_url(built):
    with zipfile.ZipFile(built["epub"]) as z:
        hrefs = [h for n in z.namelist() if n.endswith(".xhtml")
                 for h in re.findall(r'href="([^"]*)"', z.read(n).decode())]
    html_hrefs = re.findall(r'href="([^"]*)"', built["html"].read_text())
    for href in hrefs + html_hrefs:
        assert not re.search(r"[<>{}\s\\^|`]", href), href
    assert "https://doi.org/10.1002/(SICI)1097-4571%3C7%3E3.0.CO;2-Q" in hrefs
    # the reader still sees the DOI as written
    assert "(SICI)1097-4571&lt;7&gt;3.0.CO;2-Q" in _chapters(built["epub"]) + built["html"].read_text()


def test_every_cited_work_in_each_reference_list(built):
    refs = epub_tree(built["epub"], "EPUB/references.xhtml")
    entries = refs.xpath("//x:div[@id='refs']/x:div", namespaces=XHTML_NS)
    assert len(entries) == 2
    text = "".join(refs.itertext())
    page = lhtml.fromstring(built["html"].read_bytes())
    assert len(page.xpath("//div[@id='refs']/div")) == 2
    document = docx.Document(str(built["docx"]))
    bibliography = " ".join(p.text for p in document.paragraphs if p.style.name == "Bibliography")
    pdf = pdf_text(built["pdf"])
    for title in CITED:
        assert title in text and title in page.text_content() and title in bibliography and title in pdf


# --- PDF -----------------------------------------------------------------------


def test_pdf_title_block_and_metadata(built):
    text = pdf_text(built["pdf"])
    for name in AUTHORS + AFFILIATIONS + [ORCID, "18. December 2020"]:
        assert name in text, name
    with pikepdf.open(built["pdf"]) as pdf:
        assert "Ada Lindqvist" in str(pdf.docinfo.get("/Author")) and "Tomás Okafor" in str(pdf.docinfo.get("/Author"))


def test_pdf_math_is_drawn_as_vector_graphics(built):
    text = pdf_text(built["pdf"])
    assert "\\sum" not in text and "h_0" not in text and "\\label" not in text
    assert "Figure 1 shows" in text and "as Equation 1 states" in text and "Equation (1) is fitted" in text
    assert "the residual (2);" in text and "\\begin" not in text
    with pikepdf.open(built["pdf"]) as pdf:
        curves = sum(
            1 for page in pdf.pages for _, op in pikepdf.parse_content_stream(page) if str(op) == "c"
        )
    # Glyph outlines of the formulas (h, t, the sum sign, ...) are drawn as Bézier paths; the text itself
    # is set in embedded fonts and draws none.
    assert curves > 100


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ziamath reads its font via a deprecated API
def test_print_math_falls_back_to_tex_it_cannot_draw():
    from dsr_export.transforms.math import print_math

    good = '<math display="inline"><semantics><mi>x</mi><annotation encoding="application/x-tex">x^2</annotation></semantics></math>'
    bad = good.replace("x^2", "\\frac{a")
    drawn = print_math(f"<p>{good} and {bad}</p>")
    assert drawn.count('<img class="math" role="math" alt="x^2"') == 1
    assert 'src="data:image/svg+xml;base64,' in drawn and "<math" not in drawn
    assert '<code class="math-fallback">\\frac{a</code>' in drawn


# --- DOCX ----------------------------------------------------------------------


def test_docx_title_block_raw_html_and_math(built):
    document = docx.Document(str(built["docx"]))
    text = "\n".join(p.text for p in document.paragraphs).replace("\u00a0", " ")
    for name in AUTHORS + AFFILIATIONS + [ORCID, "corresponding author"]:
        assert name in text, name
    assert "Affiliation" in {p.style.name for p in document.paragraphs}
    runs = [r for p in document.paragraphs for r in p.runs]
    assert any(r.text == "nd" and r.font.superscript for r in runs)
    assert any("underlined" in r.text and r.font.underline for r in runs)
    assert "long\nand noisy" in text  # <br> became a line break
    assert "Figure 1 shows" in text and "Table 1 lists" in text and "\\autoref" not in text
    with zipfile.ZipFile(built["docx"]) as z:
        body = z.read("word/document.xml").decode()
    assert body.count("<m:oMath>") >= 3  # Word's own equations


# --- metadata forms, CiTO, styles, checks ---------------------------------------


def _source(folder: Path, front: str, body: str = "Text.") -> Path:
    path = folder / "paper.md"
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}\n", encoding="utf-8")
    return path


def _meta(path: Path):
    from dsr_export import document
    from dsr_export.config import Options

    return document.parse(path, Options()).meta


@pytest.mark.parametrize("front, names", [
    ("title: T\nauthor: Ann Author", ["Ann Author"]),
    ("title: T\nauthor: [Ann Author, Bo Writer]", ["Ann Author", "Bo Writer"]),
    ("title: T\nauthor:\n  - name: Ann Author\n    affiliation: Harbour University", ["Ann Author"]),
])
def test_author_written_as_string_list_or_map(tmp_path, front, names):
    meta = _meta(_source(tmp_path, front))
    assert [a.name for a in meta.authors] == names
    assert meta.lang == "en"


def test_pandoc_scholar_authors_and_institutes(tmp_path):
    meta = _meta(_source(tmp_path, """
title: T
lang: de-DE
author:
  - Jane Doe:
      institute: [hu, nc]
      orcid: https://orcid.org/0000-0002-1825-0097
      email: jane@example.org
  - John Roe:
      institute: nc
institute:
  - hu:
      name: Harbour University
  - nc: Northfield College
"""))
    assert [(a.name, a.affiliations) for a in meta.authors] == [
        ("Jane Doe", ("Harbour University", "Northfield College")), ("John Roe", ("Northfield College",))]
    assert meta.authors[0].orcid == "0000-0002-1825-0097" and meta.authors[0].email == "jane@example.org"
    assert meta.affiliations == ("Harbour University", "Northfield College")
    assert meta.lang == "de-DE"


@pytest.mark.parametrize("written, iso", [
    ("18. December 2020", "2020-12-18"), ("29 January 2021", "2021-01-29"), ("December 18, 2020", "2020-12-18"),
    ("2020-12-18", "2020-12-18"), ("March 2021", "2021-03"), ("Spring 2021", ""), ("31 February 2021", ""),
])
def test_dates_as_people_write_them(written, iso):
    from dsr_export.metadata import iso_date

    assert iso_date(written) == iso


def test_cito_key_without_entry_names_the_bare_key(tmp_path):
    shutil.copy(FIXTURE / "paper.bib.yaml", tmp_path)
    path = _source(tmp_path, "title: T\nbibliography: paper.bib.yaml", "As shown [@method:doe2019].\n\nBut @background:nokey2019.")
    run = dsr("check", str(path))
    assert run.status == 1
    # the line where the author wrote @background:nokey2019; @method:doe2019 resolved silently
    assert "paper.md:8: citation key '@nokey2019' is not in the bibliography" in run.stderr
    assert run.stderr.count("[unresolved-citation]") == 1


def test_key_that_itself_has_a_cito_prefix_is_left_alone(tmp_path):
    (tmp_path / "refs.yaml").write_text(
        "references:\n  - id: data:tides2020\n    type: dataset\n    title: Tide gauges\n"
        "    issued: {date-parts: [[2020]]}\n", encoding="utf-8")
    path = _source(tmp_path, "title: T\nbibliography: refs.yaml", "Gauges [@data:tides2020].")
    run = dsr("check", str(path))
    assert run.status == 0 and "1 reference" in run.stdout, run.stdout + run.stderr


def test_check_reports_missing_fragment_unconvertible_math_raw_html_and_latex(tmp_path):
    path = _source(tmp_path, "title: T", "See [the method](#nowhere).\n\nBroken $\\frac{a$ math.\n\nA <font>tag</font>.\n\n\\newpage")
    run = dsr("check", str(path))
    assert run.status == 0, run.stderr
    assert "paper.md:5: warning: link to '#nowhere'" in run.stderr
    assert "paper.md:7: warning: TeX math '\\frac{a' cannot be converted" in run.stderr
    assert "paper.md:9: warning: raw HTML <font>" in run.stderr
    assert "paper.md:11: warning: raw LaTeX \\newpage is left out of every format" in run.stderr
    assert dsr("check", str(path), "--strict").status == 1


def test_local_csl_given_on_the_command_line(tmp_path):
    shutil.copy(FIXTURE / "paper.bib.yaml", tmp_path)
    path = _source(tmp_path, "title: T\nbibliography: paper.bib.yaml", "As shown [@doe2019].")
    style = FIXTURE / "tiny-author-date.csl"
    run = dsr("build", str(path), "--to", "html", "--out", str(tmp_path / "out"),
              "--csl", str(style.relative_to(ROOT)), cwd=ROOT)
    assert run.status == 0, run.stderr
    page = lhtml.fromstring((tmp_path / "out" / "paper.html").read_bytes()).text_content()
    assert "As shown (Doe 2019)." in page and "Doe, J. (2019) Harmonic analysis" in page
