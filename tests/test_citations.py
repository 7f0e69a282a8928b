"""Citations: every form under four styles, the same in PDF, EPUB, DOCX and HTML; bibliography formats; the gate."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT, Run, pdf_text
from lxml import etree
from lxml import html as lhtml

from dsr_export.cli import main

FIXTURE = ROOT / "tests" / "fixtures" / "citations"
SOURCE = FIXTURE / "citations.md"
STYLES = ("harvard-cite-them-right", "apa", "ieee", "chicago-notes-bibliography")
NOTE_STYLE = "chicago-notes-bibliography"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CITED = {"lee2015", "smith2018", "dvorak2020", "garcia2021", "mueller2019a", "mueller2019b"}
NOCITED = {"ochoa2010"}
NEVER_CITED = "unused1999"

# What each style must print for the forms of the fixture (locators, prefix and suffix,
# author suppression, year-suffix disambiguation, ibid./subsequent forms).
EXPECTED = {
    "harvard-cite-them-right": [
        "Lee (2015)", "(Lee, 2015; Smith and Okafor, 2018)", "(Lee, 2015, p. 12)",
        "(Smith and Okafor, 2018, pp. 303–305)", "(Lee, 2015, chap. 3)", "(Dvořák, 2020, sec. 2)",
        "(García Márquez, 2021, para. 4)", "(Dvořák, 2020, fig. 5)",
        "(see García Márquez, 2021, p. 7, for details)", "(2019a)", "(Müller, 2019a, 2019b)",
    ],
    "apa": [
        "Lee (2015)", "(Smith & Okafor, 2018, pp. 303–305)", "(Lee, 2015, chap. 3)",
        "(Dvořák, 2020, sec. 2)", "(García Márquez, 2021, para. 4)", "(Dvořák, 2020, Figure 5)",
        "(see García Márquez, 2021, p. 7, for details)", "(2019a)", "(Müller, 2019a, 2019b)",
    ],
    "ieee": ["[1]", "[1], [2]", "[1, p. 12]", "[2, pp. 303–305]", "[1], chap. 3", "[3], sec. 2",
             "[4, Para. 4]", "[3, Fig. 5]", "see [4, p. 7], for details", "[5], [6]"],
    "chicago-notes-bibliography": [
        "Networks of Influence (Cambridge University Press, 2015).",  # first note: full form
        "Lee, Networks of Influence, 12.",  # later notes: the short form
        "Lee, Networks of Influence, chap. 3.",
        "Dvořák, ‘Fibre-Optic Cables Across the Steppe’, fig. 5.",
        "See García Márquez, Data Centres in Kazakhstan, 7, for details.",
        "Müller, Grenzen der Seidenstraße; Jürgen Müller, ‘Häfen und Korridore in Zentralasien’",
    ],
}


# --- reading the outputs -----------------------------------------------------------


def squash(text: str) -> str:
    """Text with whitespace and hyphens removed: line breaks and hyphenation differ by format."""
    return re.sub(r"[\s\-\u2010\u2011\u00ad\ufffe]", "", text)  # U+FFFE: pdfium marks a break


def norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _note_refs(el: etree._Element) -> list[etree._Element]:
    return el.xpath('.//a[@role="doc-noteref" or contains(@class, "footnote-ref")]')


def _note_text(tree: etree._Element, ref: etree._Element) -> str:
    note = tree.xpath("//*[@id=$id]", id=ref.get("href", "").lstrip("#"))[0]
    note = lhtml.fromstring(lhtml.tostring(note, with_tail=False))
    for back in note.xpath('.//a[@role="doc-backlink" or contains(@class, "footnote-back")]'):
        back.drop_tree()
    return norm(note.text_content())


def citation_strings(html_file: Path) -> list[str]:
    """The rendered text of every citation: a span's own text, and for a note style its note's text."""
    tree = lhtml.parse(str(html_file)).getroot()
    found = []
    for span in tree.xpath('//span[contains(concat(" ", @class, " "), " citation ")]'):
        refs = _note_refs(span)
        copy = lhtml.fromstring(lhtml.tostring(span, with_tail=False))
        for ref in _note_refs(copy):
            ref.drop_tree()
        if norm(copy.text_content()):
            found.append(norm(copy.text_content()))
        found += [_note_text(tree, ref) for ref in refs]
    return found


def html_notes(html_file: Path) -> list[str]:
    """Every note's text in the order of its reference in the text."""
    tree = lhtml.parse(str(html_file)).getroot()
    return [_note_text(tree, ref) for ref in _note_refs(tree)]


def docx_parts(path: Path) -> tuple[etree._Element, etree._Element | None]:
    with zipfile.ZipFile(path) as z:
        body = etree.fromstring(z.read("word/document.xml"))
        notes = etree.fromstring(z.read("word/footnotes.xml")) if "word/footnotes.xml" in z.namelist() else None
    return body, notes


def _paragraph_text(el: etree._Element) -> str:
    return "".join(t.text or "" for t in el.iter(f"{W}t"))


def docx_text(path: Path) -> str:
    body, notes = docx_parts(path)
    paragraphs = [*body.iter(f"{W}p"), *(notes.iter(f"{W}p") if notes is not None else [])]
    return norm(" ".join(_paragraph_text(p) for p in paragraphs))


def docx_notes(path: Path) -> list[str]:
    """Footnote texts in the order the text refers to them (separators, ids -1 and 0, left out)."""
    body, notes = docx_parts(path)
    assert notes is not None, "no word/footnotes.xml"
    by_id = {n.get(f"{W}id"): norm(_paragraph_text(n)) for n in notes.iter(f"{W}footnote")}
    return [by_id[r.get(f"{W}id")] for r in body.iter(f"{W}footnoteReference")]


def epub_documents(path: Path) -> list[etree._Element]:
    with zipfile.ZipFile(path) as z:
        return [etree.fromstring(z.read(n)) for n in z.namelist()
                if n.endswith(".xhtml") and not n.endswith("nav.xhtml")]


def epub_text(path: Path) -> str:
    return norm(" ".join(" ".join(d.itertext()) for d in epub_documents(path)))


_NOTE_XPATH = (
    '//*[@epub:type="footnote" or @epub:type="endnote" or @epub:type="rearnote"'
    ' or @role="doc-footnote" or @role="doc-endnote"]'
    ' | //*[@epub:type="endnotes" or @epub:type="footnotes" or @role="doc-endnotes"]//*[local-name()="li"]'
)
_NS = {"epub": "http://www.idpf.org/2007/ops"}


def epub_notes(path: Path) -> list[str]:
    """The text of every note element of the EPUB (footnote asides or end-note list items), in order."""
    notes = []
    for document in epub_documents(path):
        for el in document.xpath(_NOTE_XPATH, namespaces=_NS):
            text = norm("".join(el.itertext()).replace("↩︎", ""))
            if text:
                notes.append(text)
    return notes


def pdf_contains_in_order(text: str, needles: list[str]) -> None:
    haystack, at = squash(text), 0
    for needle in needles:
        found = haystack.find(squash(needle), at)
        assert found >= 0, f"not found in order in the PDF: {needle!r}"
        at = found + 1


# --- the builds ---------------------------------------------------------------------


def dsr(*args: str) -> Run:
    """The real command line, run in this process (one interpreter start for the module, not dozens)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return Run(status, out.getvalue(), err.getvalue())


def _build(source: Path, out: Path, style: str, formats: str, *extra: str) -> dict[str, Path]:
    run = dsr("build", str(source), "--csl", style, "--to", formats, "--out", str(out), *extra)
    assert run.status == 0, run.stderr
    return {fmt: out / f"{source.stem}.{fmt}" for fmt in formats.split(",")}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """The fixture under each style, in every format, by the real command line (built once)."""
    return {
        style: _build(SOURCE, tmp_path_factory.mktemp(style), style, "pdf,epub,docx,html")
        for style in STYLES
    }


@pytest.fixture(scope="module")
def warnings_of_build(tmp_path_factory: pytest.TempPathFactory) -> str:
    run = dsr("check", str(SOURCE))
    assert run.status == 0, run.stderr
    return run.stderr


# --- every form, every format -------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_every_citation_form_renders_as_the_style_says(builds, style):
    strings = citation_strings(builds[style]["html"])
    for expected in EXPECTED[style]:
        assert any(expected in s for s in strings), (expected, strings)
    assert not any("???" in s or "(key?)" in s for s in strings)


@pytest.mark.parametrize("style", STYLES)
def test_same_citation_strings_in_every_format(builds, style):
    strings = citation_strings(builds[style]["html"])
    assert len(strings) >= 15
    texts = {
        "pdf": squash(pdf_text(builds[style]["pdf"])),
        "epub": squash(epub_text(builds[style]["epub"])),
        "docx": squash(docx_text(builds[style]["docx"])),
    }
    for fmt, text in texts.items():
        missing = [s for s in strings if squash(s) not in text]
        assert not missing, (fmt, missing)


@pytest.mark.parametrize("style", STYLES)
def test_reference_list_is_the_cited_and_nocite_entries(builds, style):
    tree = lhtml.parse(str(builds[style]["html"])).getroot()
    ids = {e.get("id") for e in tree.xpath('//div[@id="refs"]/div[contains(@class, "csl-entry")]')}
    assert ids == {f"ref-{k}" for k in CITED | NOCITED}
    epub_refs = [d for d in epub_documents(builds[style]["epub"])
                 if d.xpath('//*[@id="refs"]')]
    assert len(epub_refs) == 1
    assert len(epub_refs[0].xpath('//*[@id="refs"]/*[contains(@class, "csl-entry")]')) == len(ids)
    body, _ = docx_parts(builds[style]["docx"])
    bibliography = [p for p in body.iter(f"{W}p")
                    if p.xpath("./w:pPr/w:pStyle/@w:val", namespaces={"w": W[1:-1]}) == ["Bibliography"]]
    assert len(bibliography) == len(ids)
    for text in (pdf_text(builds[style]["pdf"]), epub_text(builds[style]["epub"]), docx_text(builds[style]["docx"])):
        assert "Ochoa" in text and "Rutas y redes" in text  # listed under nocite
        assert "Nobody" not in text and "nobody cites" not in text  # in the bibliography, never cited


@pytest.mark.parametrize("style", ["harvard-cite-them-right", "ieee"])
def test_citations_link_to_their_entries(builds, style):
    tree = lhtml.parse(str(builds[style]["html"])).getroot()
    hrefs = tree.xpath('//span[contains(@class, "citation")]//a/@href')
    assert hrefs and all(h.startswith("#ref-") for h in hrefs)
    body, _ = docx_parts(builds[style]["docx"])
    anchors = body.xpath("//w:hyperlink/@w:anchor", namespaces={"w": W[1:-1]})
    assert {a for a in anchors if a.startswith("ref-")} >= {f"ref-{k}" for k in CITED}


def test_reference_heading_is_the_authors(builds):
    tree = lhtml.parse(str(builds["apa"]["html"])).getroot()
    assert [norm(h.text_content()) for h in tree.xpath("//main//h1")] == ["Forms", "Addresses", "References"]


# --- note styles --------------------------------------------------------------------


def test_note_citations_are_notes_numbered_with_the_authors_own(builds):
    notes = html_notes(builds[NOTE_STYLE]["html"])
    # 14 citations outside notes, two notes of the author's own, in text order.
    assert len(notes) == 16
    assert notes[5].startswith("An aside by the author") and notes[15].startswith("A closing aside")
    assert "Lee, Networks of Influence in passing" in notes[5]  # a citation inside a note stays in it
    assert notes[0].startswith("Networks of Influence (Cambridge")
    # Word: real footnotes; EPUB: note elements. Each in the same order, holding the same text
    # (a note may add its own number or a back link around it).
    for fmt, found in (("docx", docx_notes(builds[NOTE_STYLE]["docx"])),
                       ("epub", epub_notes(builds[NOTE_STYLE]["epub"]))):
        assert len(found) == len(notes), (fmt, found)
        for expected, note in zip(notes, found):
            assert squash(expected) in squash(note), (fmt, expected, note)
    # PDF: every note's text, in order, and none of it inline in the sentence that cites it.
    text = pdf_text(builds[NOTE_STYLE]["pdf"])
    pdf_contains_in_order(text, notes)
    assert "A parenthetical citation. Anna Smith" not in text
    assert "parenthetical citation (" not in text


def test_in_text_styles_make_no_notes_beyond_the_authors(builds):
    assert len(docx_notes(builds["apa"]["docx"])) == 2
    assert len(html_notes(builds["apa"]["html"])) == 2


def test_ibid_where_the_style_uses_it(tmp_path):
    out = _build(SOURCE, tmp_path, "chicago-notes-bibliography-16th-edition", "html")
    notes = html_notes(out["html"])
    assert notes[6] == "Ibid., 14."  # [@lee2015, p. 14] right after a note citing only Lee
    assert notes[13].startswith("Ibid.; Jürgen Müller")


# --- bibliography formats -----------------------------------------------------------


def _body(html_file: Path) -> str:
    """The <main> of a page, with pandoc's bare case-protection spans (from BibTeX braces) unwrapped."""
    main = lhtml.parse(str(html_file)).getroot().xpath("//main")[0]
    for span in main.xpath("//span[not(@*)]"):
        span.drop_tag()
    return lhtml.tostring(main, encoding="unicode")


@pytest.mark.parametrize("copy", ["references.json", "references.bib", "references-biblatex.bib"])
def test_bibtex_biblatex_and_csl_json_copies_give_the_same_output(builds, tmp_path, copy):
    for style in ("apa", NOTE_STYLE):
        out = _build(SOURCE, tmp_path / style, style, "html", "--bibliography", str(FIXTURE / copy))
        assert _body(out["html"]) == _body(builds[style]["html"]), (copy, style)


def test_bibtex_escapes_and_braces_become_plain_unicode():
    from dsr_export.citations import load_bibliographies

    refs = load_bibliographies([FIXTURE / "references.bib"], SOURCE)
    assert refs["mueller2019a"].data["author"] == [{"family": "Müller", "given": "Jürgen"}]
    assert refs["dvorak2020"].data["editor"] == [{"family": "Ørsted", "given": "Søren"}]
    assert refs["ochoa2010"].data["author"][0]["given"] == "Íñigo"
    assert refs["garcia2021"].data["author"][0]["family"] == "García Márquez"
    assert refs["mueller2019a"].line == _line_of(FIXTURE / "references.bib", "@book{mueller2019a,")


def test_several_bibliographies_at_once(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("- id: extra2001\n  type: book\n  title: An extra book\n"
                     "  author: [{family: Extra, given: Eve}]\n  issued: {date-parts: [[2001]]}\n")
    paper = _gate_copy(tmp_path, "Extra [@extra2001].\n")
    run = dsr("build", str(paper), "--to", "html", "--out", str(tmp_path / "out"),
              "--bibliography", str(paper.parent / "references.yaml"), "--bibliography", str(extra))
    assert run.status == 0, run.stderr
    assert "(Extra, 2001)" in citation_strings(tmp_path / "out" / "citations.html")


# --- the gate -----------------------------------------------------------------------


def _gate_copy(tmp_path: Path, extra_text: str = "", front: str = "") -> Path:
    """A copy of the fixture, with text appended and front matter lines added."""
    folder = tmp_path / "paper"
    shutil.copytree(FIXTURE, folder, dirs_exist_ok=True)
    paper = folder / "citations.md"
    text = SOURCE.read_text(encoding="utf-8")
    if front:
        text = text.replace("bibliography: references.yaml\n", f"bibliography: references.yaml\n{front}", 1)
    paper.write_text(text + extra_text, encoding="utf-8")
    return paper


def _line_of(path: Path, needle: str) -> int:
    return path.read_text(encoding="utf-8")[: path.read_text(encoding="utf-8").index(needle)].count("\n") + 1


def test_unresolved_key_is_an_error_with_line_and_suggestion(tmp_path):
    paper = _gate_copy(tmp_path, "\nA typo [@smith2019].\n")
    run = dsr("check", str(paper))
    assert run.status == 1 and "Traceback" not in run.stderr
    assert f"citations.md:{_line_of(paper, '@smith2019')}:" in run.stderr
    assert "did you mean @smith2018" in run.stderr


def test_unresolved_key_line_skips_the_same_name_in_an_address(tmp_path):
    paper = _gate_copy(tmp_path, "\nA real citation of a missing entry [@handle].\n")
    run = dsr("check", str(paper))
    assert run.status == 1
    assert f"citations.md:{_line_of(paper, '[@handle]')}: citation key '@handle'" in run.stderr
    assert run.stderr.count("@handle") == 1


def test_unresolved_nocite_key_is_an_error(tmp_path):
    paper = _gate_copy(tmp_path, front="")
    paper.write_text(paper.read_text().replace("  @ochoa2010\n", "  @ochoa2010 @ocho2010\n"))
    run = dsr("check", str(paper))
    assert run.status == 1
    assert f"citations.md:{_line_of(paper, '@ocho2010')}:" in run.stderr and "ocho2010" in run.stderr


def test_duplicate_id_across_files_names_both(tmp_path):
    paper = _gate_copy(tmp_path)
    other = paper.parent / "more.json"
    other.write_text('[\n  {"id": "x1", "title": "X"},\n  {"id": "lee2015", "title": "Again"}\n]\n')
    run = dsr("check", str(paper), "--bibliography", str(paper.parent / "references.yaml"),
              "--bibliography", str(other))
    assert run.status == 1
    assert "more.json:3:" in run.stderr and "lee2015" in run.stderr
    assert f"references.yaml:{_line_of(paper.parent / 'references.yaml', 'id: lee2015')}" in run.stderr


def test_duplicate_id_within_one_file(tmp_path):
    paper = _gate_copy(tmp_path)
    refs = paper.parent / "references.yaml"
    refs.write_text(refs.read_text() + "- id: lee2015\n  type: book\n  title: Twice\n")
    run = dsr("check", str(paper))
    assert run.status == 1
    last = len(refs.read_text().splitlines()) - 2
    assert f"references.yaml:{last}: duplicate bibliography id 'lee2015' (twice in this file" in run.stderr


def test_entry_missing_a_field_the_style_prints_is_a_warning(tmp_path):
    paper = _gate_copy(tmp_path)
    refs = paper.parent / "references.yaml"
    text = refs.read_text()
    lee = text.index("- id: lee2015")
    end = text.index("- id: ochoa2010")
    refs.write_text(text[:lee] + re.sub(r"  issued:\n    date-parts:\n    - \[2015\]\n", "", text[lee:end]) + text[end:])
    run = dsr("check", str(paper))
    assert run.status == 0, run.stderr
    line = _line_of(refs, "id: lee2015")
    assert f"references.yaml:{line}: warning: entry 'lee2015' (book) has no issued (date)" in run.stderr
    strict = dsr("check", str(paper), "--strict")
    assert strict.status == 1 and f"references.yaml:{line}:" in strict.stderr


def test_missing_field_check_follows_the_style_for_the_entry_type(tmp_path):
    """IEEE prints no date for a web page, APA does: only APA warns about a web page without one."""
    paper = _gate_copy(tmp_path, "\nOnline [@site].\n")
    refs = paper.parent / "references.yaml"
    refs.write_text(refs.read_text() + "- id: site\n  type: webpage\n  title: A site\n"
                    "  author: [{family: Web, given: Wendy}]\n  URL: https://example.org/\n")
    line = _line_of(refs, "id: site")
    apa = dsr("check", str(paper), "--csl", "apa")
    assert f"references.yaml:{line}: warning: entry 'site' (webpage) has no issued (date)" in apa.stderr
    ieee = dsr("check", str(paper), "--csl", "ieee")
    assert ieee.status == 0 and "'site'" not in ieee.stderr


def test_uncited_entries_are_a_warning_listing_them(warnings_of_build, tmp_path):
    line = _line_of(FIXTURE / "references.yaml", f"id: {NEVER_CITED}")
    assert f"references.yaml:{line}: warning: 1 bibliography entry is never cited" in warnings_of_build
    assert f"{NEVER_CITED} (line {line})" in warnings_of_build
    assert "ochoa2010" not in warnings_of_build  # covered by nocite
    strict = dsr("check", str(SOURCE), "--strict")
    assert strict.status == 1 and NEVER_CITED in strict.stderr


def test_nocite_star_covers_every_entry(tmp_path):
    paper = _gate_copy(tmp_path)
    paper.write_text(paper.read_text().replace("  @ochoa2010\n", "  @*\n"))
    run = dsr("check", str(paper), "--strict")
    assert run.status == 0, run.stderr
    out = _build(paper, tmp_path / "out", "apa", "html")
    tree = lhtml.parse(str(out["html"])).getroot()
    assert len(tree.xpath('//div[@id="refs"]/div')) == len(CITED | NOCITED) + 1


def test_at_signs_in_addresses_are_never_citations(builds, warnings_of_build):
    assert "handle" not in warnings_of_build and "example" not in warnings_of_build
    tree = lhtml.parse(str(builds["apa"]["html"])).getroot()
    hrefs = set(tree.xpath("//a/@href"))
    assert {"mailto:user@example.com", "mailto:name@example.com",
            "https://social.example.org/@handle", "https://x.org/@handle"} <= hrefs
    assert not tree.xpath('//span[contains(@class, "citation")][contains(@data-cites, "handle")]')


# --- styles by name -----------------------------------------------------------------


def test_styles_lists_and_searches_the_collection():
    run = dsr("styles", "chicago", "notes", "bibliography")
    assert run.status == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("chicago-notes-bibliography ") and " note " in line for line in lines)
    assert all("chicago" in line.lower() for line in lines)
    nothing = dsr("styles", "no-such-style-anywhere")
    assert nothing.status == 1 and "no-such-style-anywhere" in nothing.stderr


def test_catalogue_holds_every_style_with_title_and_parent():
    from dsr_export import csl

    entries = {e.id: e for e in csl.catalogue()}
    assert len(entries) == len(csl.style_names()) > 10000
    assert entries["apa"].format == "author-date" and "APA" in entries["apa"].title
    assert entries["ieee"].format == "numeric" and not entries["ieee"].parent
    assert entries["abi-technik"].parent == "chicago-notes-classic"
    assert [e.id for e in csl.search("ABI Technik")] == ["abi-technik"]


def test_dependent_style_uses_its_parent_and_its_own_locale(tmp_path):
    from dsr_export.csl import resolve_style

    style = resolve_style("abi-technik", tmp_path)
    assert style.path.name == "chicago-notes-classic.csl" and style.notes and style.locale == "de-DE"
    # Independent styles, and dependent ones sharing their parent's locale, leave it to pandoc.
    assert resolve_style("apa", tmp_path).locale == "" and resolve_style("2d-materials", tmp_path).locale == ""
    paper = _gate_copy(tmp_path)
    # No language in the document: it takes the journal's, for the citations and the text.
    paper.write_text(paper.read_text().replace("lang: en-GB\n", ""))
    out = _build(paper, tmp_path / "out", "abi-technik", "html")
    page = out["html"].read_text()
    assert '<html lang="de-DE"' in page
    assert "hg. von Søren Ørsted" in page  # the German locale's "edited by"
    assert "„Fibre-optic cables across the steppe“" in page  # German quotation marks


def test_reference_heading_added_in_the_documents_language(tmp_path):
    paper = _gate_copy(tmp_path)
    paper.write_text(paper.read_text().replace("lang: en-GB", "lang: fr-FR").replace("# References {.unnumbered}\n", ""))
    out = _build(paper, tmp_path / "out", "apa", "html,epub")
    tree = lhtml.parse(str(out["html"])).getroot()
    assert [norm(h.text_content()) for h in tree.xpath("//main//h1")][-1] == "Références"
    assert any(d.xpath('//*[@id="refs"]') and "Références" in " ".join(d.itertext())
               for d in epub_documents(out["epub"]))


def test_reference_section_title_is_not_doubled(tmp_path):
    paper = _gate_copy(tmp_path, front="reference-section-title: Works Cited\n")
    paper.write_text(paper.read_text().replace("# References {.unnumbered}\n", ""))
    out = _build(paper, tmp_path / "out", "apa", "html")
    tree = lhtml.parse(str(out["html"])).getroot()
    assert [norm(h.text_content()) for h in tree.xpath("//main//h1")] == ["Forms", "Addresses", "Works Cited"]


def test_local_csl_file(tmp_path):
    from dsr_export.csl import resolve_style

    local = tmp_path / "mine.csl"
    shutil.copy(resolve_style("apa", tmp_path).path, local)
    out = _build(SOURCE, tmp_path / "out", str(local), "html")
    assert "(Müller, 2019a, 2019b)" in citation_strings(out["html"])


def test_local_dependent_csl_file_uses_its_parent(tmp_path):
    from dsr_export.csl import resolve_style

    local = tmp_path / "journal.csl"
    shutil.copy(resolve_style("apa", tmp_path).path.parent / "dependent" / "abi-technik.csl", local)
    style = resolve_style(str(local), tmp_path)
    assert style.path.name == "chicago-notes-classic.csl" and style.notes and style.locale == "de-DE"
