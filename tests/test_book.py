"""Books: a master file with chapter files, laid out chapter by chapter (in parallel) and joined into one PDF."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from helpers import ROOT, XHTML_NS, dsr, epub_tree, epubcheck

BOOK = ROOT / "tests" / "fixtures" / "book"
CHAPTER_TITLES = ["Beginnings", "Maps of the Route", "Wires", "Returns", "Ends"]
MARKERS = ["ChapterOneMarker", "ChapterTwoMarker", "ChapterThreeMarker", "ChapterFourMarker", "ChapterFiveMarker"]
TITLE = "Cables and Caravans"


def build(source: Path, out: Path, records: Path, *args: str):
    run = dsr("build", str(source), "--out", str(out), *args, env={"DSR_EXPORT_CACHE": str(records)})
    assert run.status == 0, run.stderr
    return run


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The book built in every format with --jobs 1 and with --jobs 3, each from nothing."""
    built = {}
    for jobs in (1, 3):
        base = tmp_path_factory.mktemp(f"book-j{jobs}")
        build(BOOK / "book.md", base / "out", base / "records", "--jobs", str(jobs))
        built[jobs] = base / "out"
    return built


@pytest.fixture(scope="module")
def pdf_pages(books: dict[int, Path]) -> list[str]:
    doc = pdfium.PdfDocument(str(books[1] / "book.pdf"))
    return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]


def page_with(pages: list[str], text: str) -> int:
    found = [i for i, t in enumerate(pages) if text in " ".join(t.split())]
    assert len(found) == 1, (text, found)
    return found[0]


def test_jobs_1_and_3_give_the_same_bytes(books: dict[int, Path]) -> None:
    for fmt in ("pdf", "epub", "docx", "html"):
        assert (books[1] / f"book.{fmt}").read_bytes() == (books[3] / f"book.{fmt}").read_bytes(), fmt


def test_pdf_has_front_matter_then_every_chapter_in_order(pdf_pages: list[str]) -> None:
    joined = " ".join(" ".join(p.split()) for p in pdf_pages)
    at = [joined.index(m) for m in ["Contents", "This preface opens", *MARKERS, "Roads Across the Steppe"]]
    assert at == sorted(at)
    assert "ISBN 978-3-16-148410-0" in joined and "© 2021 Ann Author" in joined and "First edition" in joined
    # One reference list for the whole book, and notes numbered through it.
    assert joined.count("Ports, Pipes and Protocols") == 1
    assert "2. A note in chapter two" in joined and "3. The note of chapter four" in joined


def test_page_labels_roman_then_arabic_and_chapters_on_rectos(books: dict[int, Path], pdf_pages: list[str]) -> None:
    pdf = pikepdf.open(books[1] / "book.pdf")
    labels = [pikepdf.Page(p).label for p in pdf.pages]
    body = labels.index("1")
    assert labels[:body] == ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii"][:body]
    assert labels[body:] == [str(n) for n in range(1, len(labels) - body + 1)]
    assert body % 2 == 0  # page 1 is a recto
    for title in CHAPTER_TITLES:
        opening = [i for i, t in enumerate(pdf_pages) if t.strip().startswith(title)]
        assert opening and opening[0] % 2 == 0, title  # an even index is a right-hand page


def _bands(path: Path, index: int) -> tuple[str, str]:
    """The text of the top and the bottom margin of a page (running head, folio)."""
    doc = pdfium.PdfDocument(str(path))
    page = doc[index]
    width, height = page.get_size()
    text = page.get_textpage()
    head = text.get_text_bounded(0, height - 70, width, height)
    foot = text.get_text_bounded(0, 0, width, 60)
    return " ".join(head.split()), " ".join(foot.split())


def test_running_heads_and_folios(books: dict[int, Path], pdf_pages: list[str]) -> None:
    path = books[1] / "book.pdf"
    pdf = pikepdf.open(path)
    labels = [pikepdf.Page(p).label for p in pdf.pages]
    wires = page_with(pdf_pages, "ChapterThreeMarker")
    assert _bands(path, wires) == ("", "")  # a chapter opening: neither
    assert _bands(path, wires + 1) == (TITLE, labels[wires + 1])  # verso: the book's title
    assert _bands(path, wires + 2) == ("Wires", labels[wires + 2])  # recto: the chapter's
    blanks = [i for i, t in enumerate(pdf_pages) if not t.strip()]
    assert blanks, "the fixture has chapters of odd length"
    for i in blanks:
        assert _bands(path, i) == ("", "")
    for i in range(3):  # half-title, its blank verso, title page
        assert _bands(path, i)[1] == ""
    # Furniture is a pagination artifact, never part of the structure tree.
    content = pdf.pages[wires + 1].obj.Contents
    streams = content if isinstance(content, pikepdf.Array) else [content]
    assert b"/Artifact <</Type /Pagination>> BDC" in b"".join(s.read_bytes() for s in streams)


def _dests(pdf: pikepdf.Pdf) -> dict[str, int]:
    pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
    flat = pdf.Root.Names.Dests.Names
    return {str(flat[i]): pages[flat[i + 1][0].objgen] for i in range(0, len(flat), 2)}


def test_every_internal_link_resolves_to_the_right_page(books: dict[int, Path], pdf_pages: list[str]) -> None:
    pdf = pikepdf.open(books[1] / "book.pdf")
    dests = _dests(pdf)
    links: list[tuple[int, str]] = []
    for i, page in enumerate(pdf.pages):
        for annot in page.obj.get("/Annots", []):
            assert "/A" not in annot or not str(annot.A.get("/URI", "")).startswith("dsr-book:")
            if "/Dest" in annot:
                assert str(annot.Dest) in dests, str(annot.Dest)
                links.append((i, str(annot.Dest)))
    targets = {name for _, name in links}
    assert {"fig:route", "ref-smith2020", "ref-lee2021", "ref-okafor2019"} <= targets
    references = page_with(pdf_pages, "Roads Across the Steppe")
    for name in ("ref-smith2020", "ref-lee2021", "ref-okafor2019"):
        assert dests[name] == references
    # The cross-reference from chapter 4 to the figure of chapter 2, across two laid-out pieces.
    source_page = page_with(pdf_pages, "ChapterFourMarker")
    assert (source_page, "fig:route") in links
    assert dests["fig:route"] == page_with(pdf_pages, "The route as drawn in 1890")
    # The contents: each entry leads to the page its number names.
    contents = page_with(pdf_pages, "Contents")
    labels = [pikepdf.Page(p).label for p in pdf.pages]
    for name, marker in zip(("beginnings", "maps-of-the-route", "wires", "returns", "ends"), MARKERS, strict=True):
        assert (contents, name) in links
        assert dests[name] == page_with(pdf_pages, marker)
        assert re.search(rf"\.\s*{labels[dests[name]]}\b", pdf_pages[contents])


def _marked_content(page: pikepdf.Page) -> list[int]:
    found = []
    for operands, operator in pikepdf.parse_content_stream(page):
        is_marked = operator == pikepdf.Operator("BDC") and isinstance(operands[1], pikepdf.Dictionary)
        if is_marked and "/MCID" in operands[1]:
            found.append(int(operands[1].MCID))
    return found


def test_one_structure_tree_holds_every_page_in_reading_order(books: dict[int, Path], pdf_pages: list[str]) -> None:
    pdf = pikepdf.open(books[1] / "book.pdf")
    pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
    root = pdf.Root.StructTreeRoot
    assert len(root.K) == 1 and root.K[0].S == "/Document"
    order: list[tuple[int, int]] = []
    headings: list[int] = []

    def walk(element: pikepdf.Object, page: int | None) -> None:
        if isinstance(element, pikepdf.Dictionary) and element.get("/Type") == "/MCR":
            order.append((pages[element.Pg.objgen], int(element.MCID)))
            return
        if not isinstance(element, pikepdf.Dictionary):
            if page is not None:
                order.append((page, int(element)))
            return
        if "/Pg" in element:
            page = pages[element.Pg.objgen]  # every page an element names is a page of the book
        if element.get("/S") == "/H1" and page is not None:
            headings.append(page)
        kids = element.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
            walk(kid, page)

    walk(root.K[0], None)
    assert [p for p, _ in order] == sorted(p for p, _ in order)  # pages in reading order
    for i, page in enumerate(pdf.pages):  # every marked content sequence of every page is in the tree
        assert sorted(_marked_content(page)) == sorted(m for p, m in order if p == i), i
    for title in CHAPTER_TITLES:
        assert page_with(pdf_pages, MARKERS[CHAPTER_TITLES.index(title)]) in headings
    # Parent tree: each annotation's key leads to a Link element.
    nums = root.ParentTree.Nums
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", []):
            assert parents[int(annot.StructParent)].S == "/Link"
    assert pdf.Root.MarkInfo.Marked and str(pdf.Root.Lang) == "en-GB"
    assert pdf.open_metadata().get("pdfuaid:part") == "1"


def test_outloud_finds_no_pdf_ua_problem_in_the_joined_book(books: dict[int, Path], tmp_path: Path) -> None:
    """The independent PDF/UA-1 checker the single-source PDFs pass (see test_pdf_tags)."""
    import json
    import subprocess
    import sys

    report = tmp_path / "report.json"
    subprocess.run([str(Path(sys.executable).parent / "outloud"), "--json", str(report), "--fail-on", "never",
                    str(books[1] / "book.pdf")], capture_output=True, text=True, check=True)
    findings = [f for result in json.loads(report.read_text())["results"] for f in result["findings"]]
    assert [(f.get("rule"), f.get("message")) for f in findings if f.get("severity") in ("error", "warning")] == []


def test_outline_nests_chapters_under_their_parts(books: dict[int, Path]) -> None:
    pdf = pikepdf.open(books[1] / "book.pdf")
    with pdf.open_outline() as outline:
        top = [item.title for item in outline.root]
        parts = {item.title: [c.title for c in item.children] for item in outline.root}
    assert top == ["Contents", "Preface", "Beginnings", "Part One: Lines", "Part Two: Knots", "References"]
    assert parts["Part One: Lines"] == ["Maps of the Route", "Wires"]
    assert parts["Part Two: Knots"] == ["Returns", "Ends"]


def test_epub_one_file_per_chapter_parts_in_nav_print_pages(books: dict[int, Path], pdf_pages: list[str]) -> None:
    epub = books[1] / "book.epub"
    counts = epubcheck(epub)
    assert (counts["FATAL"], counts["ERROR"], counts["WARNING"]) == (0, 0, 0), counts["messages"]
    nav = epub_tree(epub, "EPUB/nav.xhtml")
    toc = nav.find(".//x:nav[@id='toc']/x:ol", XHTML_NS)
    part = next(li for li in toc if li.find("x:a", XHTML_NS).text == "Part One: Lines")
    assert [a.text for a in part.findall("x:ol/x:li/x:a", XHTML_NS)] == ["Maps of the Route", "Wires"]
    with zipfile.ZipFile(epub) as z:
        files = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml")}
    for marker in MARKERS:
        assert len([n for n, text in files.items() if marker in text]) == 1
    # The page list follows the print pages: the page break before chapter four's page is its print label.
    pdf = pikepdf.open(books[1] / "book.pdf")
    label = pikepdf.Page(pdf.pages[page_with(pdf_pages, "ChapterFourMarker")]).label
    holder = next(n for n, text in files.items() if "ChapterFourMarker" in text)
    assert f'id="page-{label}"' in files[holder]


def test_epub_passes_ace(books: dict[int, Path]) -> None:
    from test_epub import ace

    assert ace(books[1] / "book.epub") == []


def test_docx_a_section_per_chapter(books: dict[int, Path]) -> None:
    with zipfile.ZipFile(books[1] / "book.docx") as z:
        document = z.read("word/document.xml").decode()
        properties = z.read("docProps/custom.xml").decode() if "docProps/custom.xml" in z.namelist() else ""
    assert "01-beginnings.md" not in properties  # the chapter list steers the build; it is no property
    # Two parts, five chapters and the references each open a section on an odd page; one more ends the book.
    assert document.count('<w:type w:val="oddPage"/>') == 8
    assert document.count("<w:sectPr") == 9
    for title in CHAPTER_TITLES:
        assert re.search(r'<w:pStyle w:val="Heading1"\s*/>.{0,400}' + re.escape(title), document, re.DOTALL)


def test_missing_chapter_is_an_input_error_naming_the_master_line(tmp_path: Path) -> None:
    shutil.copytree(BOOK, tmp_path / "book")
    master = tmp_path / "book" / "book.md"
    text = master.read_text().replace("04-returns.md", "04-gone.md")
    master.write_text(text)
    line = text[: text.index("04-gone.md")].count("\n") + 1
    run = dsr("build", str(master), "--out", str(tmp_path / "out"), "--to", "html",
              env={"DSR_EXPORT_CACHE": str(tmp_path / "records")})
    assert run.status == 1
    assert f"book.md:{line}: chapter file not found: 04-gone.md" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()


def test_chapter_outside_the_folder_is_refused(tmp_path: Path) -> None:
    shutil.copytree(BOOK, tmp_path / "book")
    (tmp_path / "secret.md").write_text("# Secret\n")
    master = tmp_path / "book" / "book.md"
    master.write_text(master.read_text().replace("- 05-ends.md", "- ../secret.md"))
    run = dsr("check", str(master))
    assert run.status == 1 and "'chapters' points outside the source folder (../secret.md)" in run.stderr


def test_check_names_the_chapter_file_and_line(tmp_path: Path) -> None:
    shutil.copytree(BOOK, tmp_path / "book")
    chapter = tmp_path / "book" / "03-wires.md"
    chapter.write_text(chapter.read_text().replace("@okafor2019", "@okafor2091"))
    run = dsr("check", str(tmp_path / "book" / "book.md"))
    assert run.status == 1
    assert re.search(r"03-wires\.md:5: citation key '@okafor2091' is not in the bibliography", run.stderr)


def test_reference_section_per_chapter(tmp_path: Path) -> None:
    shutil.copytree(BOOK, tmp_path / "book")
    master = tmp_path / "book" / "book.md"
    master.write_text(master.read_text().replace("chapters:", "reference-section: chapter\nchapters:", 1))
    build(master, tmp_path / "out", tmp_path / "records", "--to", "html")
    page = (tmp_path / "out" / "book.html").read_text()
    # Chapter three cites two works and lists them; its citations link to its own list.
    three = page[page.index('id="wires"'): page.index('id="part-two-knots"')]
    assert 'id="c3-ref-okafor2019"' in three and 'id="c3-ref-smith2020"' in three
    assert 'href="#c3-ref-okafor2019"' in three and 'id="c3-ref-lee2021"' not in three
    assert 'id="refs"' not in page


def test_one_chapter_edit_lays_out_only_that_chapter(tmp_path: Path) -> None:
    shutil.copytree(BOOK, tmp_path / "book")
    master, records = tmp_path / "book" / "book.md", tmp_path / "records"
    build(master, tmp_path / "out", records, "--to", "pdf", "--jobs", "2")
    store = next((records / "book-layouts").iterdir())
    before = {p.name: p.stat().st_mtime_ns for p in store.glob("*.pdf")}
    chapter = tmp_path / "book" / "03-wires.md"
    chapter.write_text(chapter.read_text().replace("ChapterThreeMarker", "ChapterThreeMarked"))
    build(master, tmp_path / "out", records, "--to", "pdf", "--jobs", "2")
    after = {p.name: p.stat().st_mtime_ns for p in store.glob("*.pdf")}
    kept = {n for n in after if before.get(n) == after[n]}
    assert len(after) == len(before) and len(after) - len(kept) == 1  # one piece made again, one dropped
    # ...and the result is the very file a clean build makes.
    build(master, tmp_path / "clean", tmp_path / "fresh-records", "--to", "pdf", "--jobs", "1")
    assert (tmp_path / "out" / "book.pdf").read_bytes() == (tmp_path / "clean" / "book.pdf").read_bytes()

    # Two more pages in chapter two: the chapters after it keep their layout (folios are drawn
    # afterwards); the chapter, the front matter (its contents' numbers) and the furniture are made again.
    maps = tmp_path / "book" / "02-maps.md"
    maps.write_text(maps.read_text().replace("## Older maps", "Longer now.\n\n" * 120 + "## Older maps"))
    build(master, tmp_path / "out", records, "--to", "pdf", "--jobs", "2")
    again = {p.name: p.stat().st_mtime_ns for p in store.glob("*.pdf")}
    assert len([n for n in again if after.get(n) != again[n]]) == 3
    build(master, tmp_path / "clean2", tmp_path / "fresh-records-2", "--to", "pdf", "--jobs", "3")
    longer = (tmp_path / "out" / "book.pdf").read_bytes()
    assert longer == (tmp_path / "clean2" / "book.pdf").read_bytes()
    assert len(pikepdf.open(tmp_path / "out" / "book.pdf").pages) > len(pikepdf.open(tmp_path / "clean" / "book.pdf").pages)


def test_pdf_x_of_a_book(tmp_path: Path) -> None:
    """PDF/X is made from the joined book, blank versos included."""
    build(BOOK / "book.md", tmp_path / "out", tmp_path / "records", "--to", "pdf", "--pdf-variant", "pdf/x-4")
    pdf = pikepdf.open(tmp_path / "out" / "book.pdf")
    assert pdf.Root.OutputIntents[0].S == "/GTS_PDFX"
    assert all("/TrimBox" in page.obj and "/Contents" in page.obj for page in pdf.pages)
