"""The print PDF's structure tree held to PDF/UA-1, walked with pikepdf on real builds, and checked by outloud."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pytest
from helpers import ESSAY, ROOT, dsr, essay_references
from test_pdf import FIXTURE, NOTES, REFERENCES

from dsr_export.writers import pdf_tags

PAPER = ROOT / "tests" / "fixtures" / "manuscript" / "paper.md"
PAPER_FORMULAS = [
    "h(t)", "t", r"h(t) = h_0 + \sum_{k=1}^{n} A_k \cos(\omega_k t + \phi_k)",
    r"r = \sum_{i} \left( y_i - h(t_i) \right)^2 ,",
]
TEXT_SHOWING = {"Tj", "TJ", "'", '"'}
PAINTING = TEXT_SHOWING | {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do"}


@pytest.fixture(scope="module")
def pdfs(essay: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The essay, the notes fixture (note style, book trim, contents), the manuscript, the essay in note style."""
    folder = tmp_path_factory.mktemp("tags")
    (folder / "notes.md").write_text(FIXTURE, encoding="utf-8")
    (folder / "refs.yaml").write_text(REFERENCES, encoding="utf-8")
    builds = {
        "notes": [str(folder / "notes.md"), "--csl", "chicago-notes-bibliography", "--page-size", "156x234mm",
                  "--toc"],
        "manuscript": [str(PAPER)],
        "essay-notes": [str(ESSAY), "--csl", "chicago-notes-bibliography"],
    }
    found = {"essay": essay["pdf"]}
    for name, args in builds.items():
        run = dsr("build", *args, "--to", "pdf", "--out", str(folder / name))
        assert run.status == 0, run.stderr
        found[name] = folder / name / (Path(args[0]).stem + ".pdf")
    return found


NAMES = ["essay", "notes", "manuscript", "essay-notes"]


def _kids(element: pikepdf.Object) -> list:  # type: ignore[type-arg]
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def elements(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every structure element reachable from the root, in reading order."""
    stack = list(reversed(_kids(pdf.Root.StructTreeRoot)))
    while stack:
        element = stack.pop()
        if isinstance(element, pikepdf.Dictionary) and "/S" in element:
            yield element
            stack.extend(reversed(_kids(element)))


def has_content(element: pikepdf.Dictionary) -> bool:
    return any(isinstance(kid, int) or (isinstance(kid, pikepdf.Dictionary) and "/S" in kid and has_content(kid))
               for kid in _kids(element))


@dataclass
class PageMarks:
    """What a page's content stream marks: MCIDs in paint order, artifacts, what is painted outside both."""

    mcids: list[int] = field(default_factory=list)
    pagination_with_text: int = 0
    untagged: int = 0


def page_marks(page: pikepdf.Page) -> PageMarks:
    marks, stack = PageMarks(), []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op in ("BDC", "BMC"):
            props = operands[1] if op == "BDC" else None
            mcid = int(props.MCID) if isinstance(props, pikepdf.Dictionary) and "/MCID" in props else None
            kind = str(props.get("/Type")) if isinstance(props, pikepdf.Dictionary) else ""
            stack.append([str(operands[0]), mcid, kind, False])
            if mcid is not None:
                marks.mcids.append(mcid)
        elif op == "EMC":
            tag, _, kind, drew = stack.pop()
            marks.pagination_with_text += tag == "/Artifact" and kind == "/Pagination" and drew
        elif op in PAINTING:
            if not any(s[0] == "/Artifact" or s[1] is not None for s in stack):
                marks.untagged += 1
            if op in TEXT_SHOWING:
                for s in stack:
                    s[3] = True
    assert not stack, "every marked sequence is closed"
    return marks


def tree_order(pdf: pikepdf.Pdf) -> dict[tuple[int, int], list[int]]:
    """Each page's MCIDs in the order of the structure tree."""
    order: dict[tuple[int, int], list[int]] = {}

    def walk(element: pikepdf.Dictionary, page) -> None:  # type: ignore[no-untyped-def]
        page = element.get("/Pg", page)
        for kid in _kids(element):
            if isinstance(kid, int):
                order.setdefault(page.objgen, []).append(kid)
            elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                walk(kid, page)

    for top in _kids(pdf.Root.StructTreeRoot):
        walk(top, None)
    return order


def in_tree_order(pdf: pikepdf.Pdf) -> bool:
    order = tree_order(pdf)
    for page in pdf.pages:
        wanted = order.get(page.obj.objgen, [])
        if [m for m in page_marks(page).mcids if m in set(wanted)] != wanted:
            return False
    return True


def _parent_tree(pdf: pikepdf.Pdf) -> pikepdf.NumberTree:
    return pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)


@pytest.mark.parametrize("name", NAMES)
def test_every_link_annotation_is_in_a_link_element_with_text_or_alt(name: str, pdfs) -> None:
    with pikepdf.open(pdfs[name]) as pdf:
        parents = _parent_tree(pdf)
        annotations = [a for page in pdf.pages for a in page.get("/Annots", []) if a.Subtype == "/Link"]
        links = [e for e in elements(pdf) if e.S == "/Link"]
        objrs = {kid.Obj.objgen for e in links for kid in _kids(e)
                 if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR"}
        assert annotations and len(objrs) == len(annotations)
        for annotation in annotations:
            assert annotation.objgen in objrs
            link = parents[int(annotation.StructParent)]
            assert link.S == "/Link" and any(
                isinstance(k, pikepdf.Dictionary) and k.get("/Type") == "/OBJR" and k.Obj.objgen == annotation.objgen
                for k in _kids(link))
            assert int(annotation.get("/F", 0)) & 4, "printed, and so shown to a reader"
        for link in links:
            assert has_content(link) or str(link.get("/Alt", "")), "a link has text or an alternative"


def test_a_link_is_described_by_its_text(pdfs) -> None:
    """A citation's annotation says the citation, even broken over lines; an address says itself."""
    with pikepdf.open(pdfs["essay"]) as pdf:
        contents = {str(a.Contents) for page in pdf.pages for a in page.get("/Annots", [])}
    assert "Sulimanov and Beloglazov, 2018, p. 116" in contents
    assert "https://doi.org/10.1080/17544750.2019.1606838" in contents
    assert not [c for c in contents if c.startswith("ref-") or "\u200b" in c or "\u2010" in c]
    with pikepdf.open(pdfs["notes"]) as pdf:
        contents = {str(a.Contents) for a in pdf.pages[0].get("/Annots", [])}
    assert contents == {"First Section 2", "A Subsection 4", "A Sub-subsection 6", "References 7"}


@pytest.mark.parametrize("name", NAMES)
def test_all_content_is_tagged_and_page_furniture_is_pagination_artifact(name: str, pdfs) -> None:
    with pikepdf.open(pdfs[name]) as pdf:
        parents = _parent_tree(pdf)
        reachable = {e.objgen for e in elements(pdf)}
        for number, page in enumerate(pdf.pages, start=1):
            marks = page_marks(page)
            assert marks.untagged == 0, f"page {number}: painted in no element and no artifact"
            mapping = parents[int(page.StructParents)]
            for mcid in marks.mcids:
                assert mapping[mcid].objgen in reachable, f"page {number}: MCID {mcid} is in no tree"
            if number > 1:  # every page but the first has a running head and a folio
                assert marks.pagination_with_text >= 2, f"page {number}: {marks.pagination_with_text} artifacts"


@pytest.mark.parametrize("name", NAMES)
def test_content_is_painted_in_the_order_of_the_tree(name: str, pdfs) -> None:
    with pikepdf.open(pdfs[name]) as pdf:
        assert in_tree_order(pdf)


@pytest.mark.parametrize("name", ["essay", "notes", "essay-notes"])
def test_the_running_head_is_not_read_as_text(name: str, pdfs) -> None:
    """The title on versos is an artifact: the tree holds it once, from the title block."""
    with pikepdf.open(pdfs[name]) as pdf:
        heads = [e for e in elements(pdf) if e.S == "/H1"]
        pages_with_content = {e.Pg.objgen for e in elements(pdf) if "/Pg" in e}
        assert len(pages_with_content) == len(pdf.pages)
        assert sum(1 for e in elements(pdf) if e.S == "/Artifact") == 0
        assert heads


@pytest.mark.parametrize("name,count", [("notes", len(NOTES)), ("essay-notes", None)])
def test_notes_are_note_elements_with_their_ids(name: str, count: int | None, pdfs) -> None:
    with pikepdf.open(pdfs[name]) as pdf:
        notes = [e for e in elements(pdf) if e.S == "/Note"]
        ids = [str(e.ID) for e in notes]
        # The writer passes the HTML's note ids only when it finds as many notes as the HTML has.
        assert ids == [f"fn{n}" for n in range(1, len(notes) + 1)], ids
        assert len(notes) == count if count is not None else len(notes) >= 40
        assert all(has_content(e) for e in notes)
        names = list(pdf.Root.StructTreeRoot.IDTree.Names)
        assert sorted(str(n) for n in names[0::2]) == sorted(ids)
        assert all(e.P.get("/S") == "/NonStruct" for e in notes), "notes sit in the footnote area"


def test_formulas_are_formula_elements_with_their_tex(pdfs) -> None:
    with pikepdf.open(pdfs["manuscript"]) as pdf:
        found = [e for e in elements(pdf) if e.S in ("/Formula", "/Figure")]
        formulas = [str(e.Alt).strip() for e in found if e.S == "/Formula"]
        figures = [str(e.Alt) for e in found if e.S == "/Figure"]
        assert formulas == [t.strip() for t in PAPER_FORMULAS]
        assert figures == ["A tidal record over one lunar month."]
        assert all("/BBox" in e.A for e in found)


def test_table_headers_have_a_scope(pdfs) -> None:
    with pikepdf.open(pdfs["manuscript"]) as pdf:
        headers = [e for e in elements(pdf) if e.S == "/TH"]
        assert len(headers) == 2
        assert all(str(e.A.Scope) == "/Column" and e.P.P.S == "/THead" for e in headers)
        cells = [e for e in elements(pdf) if e.S == "/TD"]
        assert len(cells) == 6 and all(len(e.A.Headers) == 1 for e in cells)


def test_reference_list_is_a_div_of_paragraphs_in_order(pdfs) -> None:
    with pikepdf.open(pdfs["essay"]) as pdf:
        lists = [e for e in elements(pdf) if e.S == "/Div" and len(_kids(e)) > 1
                 and all(k.S == "/P" for k in _kids(e))]
        entries = sum(len(_kids(e)) for e in lists)
        # an entry broken over two pages is two paragraphs, one on each
        assert len(essay_references()) <= entries < len(essay_references()) + len(lists)


def _small_pdf(tmp_path: Path) -> tuple[bytes, str]:
    """WeasyPrint's own tagged PDF of a page with every kind the step mends, and its HTML."""
    import weasyprint

    from dsr_export.transforms.math import print_math

    math = print_math('<math display="inline"><semantics><mi>x</mi>'
                      '<annotation encoding="application/x-tex">x^2</annotation></semantics></math>')
    page = f"""<!DOCTYPE html><html lang="en"><head><title>Small</title><style>
      @page {{ size: A6; margin: 20mm; @top-center {{ content: "Running head" }}
               @bottom-center {{ content: counter(page) }} }}
      .footnote {{ float: footnote }}</style></head><body>
      <p>A <a href="https://example.org/a"><span>nested</span> link</a> and {math}.<span
         class="footnote" id="fn1">The note.</span></p>
      <ul><li>One</li><li>Two</li></ul>
      <table><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody><tr><td>a</td><td>1</td></tr>
      </tbody></table>
      <p style="break-before: page">Second page.</p></body></html>"""
    data = weasyprint.HTML(string=page, base_url=str(tmp_path)).write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
    return data, page


def test_tag_mends_weasyprints_pdf_and_draws_the_same(tmp_path: Path) -> None:
    raw, page = _small_pdf(tmp_path)
    assert pdf_tags.formulas_of(page) == ["x^2"] and pdf_tags.notes_of(page) == ["fn1"]
    tagged = pdf_tags.tag(raw, formulas=pdf_tags.formulas_of(page), notes=pdf_tags.notes_of(page))
    (tmp_path / "raw.pdf").write_bytes(raw)
    (tmp_path / "tagged.pdf").write_bytes(tagged)
    with pikepdf.open(tmp_path / "raw.pdf") as before:
        assert sum(page_marks(p).pagination_with_text for p in before.pages) == 0
        assert not in_tree_order(before), "WeasyPrint paints the formula and the list markers last"
    with pikepdf.open(tmp_path / "tagged.pdf") as pdf:
        kinds = [str(e.S) for e in elements(pdf)]
        for kind in ("/Link", "/Formula", "/Note", "/L", "/LI", "/Lbl", "/LBody", "/TH", "/TD"):
            assert kind in kinds, kind
        assert [str(e.ID) for e in elements(pdf) if e.S == "/Note"] == ["fn1"]
        assert all(page_marks(p).pagination_with_text == 2 for p in pdf.pages)
        assert in_tree_order(pdf)
        links = [e for e in elements(pdf) if e.S == "/Link"]
        assert len(links) == 1 and sum(1 for k in _kids(links[0]) if isinstance(k, pikepdf.Dictionary)
                                       and k.get("/Type") == "/OBJR") == 2
    # Only tags change: every page is drawn pixel for pixel as before.
    for name in ("raw", "tagged"):
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
                       check=True)
    raw_pages = sorted(tmp_path.glob("raw-*.png"))
    assert len(raw_pages) == 2
    for picture in raw_pages:
        assert picture.read_bytes() == (tmp_path / picture.name.replace("raw", "tagged")).read_bytes()
    assert pdf_tags.tag(tagged) == pdf_tags.tag(tagged), "the step is deterministic"


def test_a_pdf_without_tags_is_left_alone() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    import io

    buffer = io.BytesIO()
    pdf.save(buffer)
    assert pdf_tags.tag(buffer.getvalue()) == buffer.getvalue()


@pytest.mark.parametrize("name", NAMES)
def test_outloud_finds_no_pdf_ua_problem(name: str, pdfs, tmp_path: Path) -> None:
    """An independent checker (outloud, PDF/UA-1 and Matterhorn): no error, and no warning but one.

    The one left is that a formula's alternative is its TeX, not a spoken form.
    """
    report = tmp_path / "report.json"
    subprocess.run([str(Path(sys.executable).parent / "outloud"), "--json", str(report), "--fail-on", "never", str(pdfs[name])],
                   capture_output=True, text=True, check=True)
    data = json.loads(report.read_text())
    findings = [f for result in data["results"] for f in result["findings"]]
    serious = [(f.get("rule"), f.get("message")) for f in findings
               if f.get("severity") in ("error", "warning") and f.get("rule") != "MATH-010"]
    assert serious == [], serious

