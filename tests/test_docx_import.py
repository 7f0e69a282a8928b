"""Word as a living format: Zotero citation fields in the DOCX, and an editor's DOCX read back into Markdown."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from helpers import ESSAY, ROOT, dsr
from lxml import etree

from dsr_export import pandoc

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
NS = {"w": W_NS}
CITATIONS = ROOT / "tests" / "fixtures" / "citations" / "citations.md"
MANUSCRIPT = ROOT / "tests" / "fixtures" / "manuscript" / "paper.md"
SCHEMA = "https://github.com/citation-style-language/schema/raw/master/csl-citation.json"
CODE = re.compile(r" ADDIN ZOTERO_ITEM CSL_CITATION (\{.*\}) $", re.DOTALL)


def build(source: Path, out: Path, *args: str) -> Path:
    run = dsr("build", str(source), "--to", "docx", "--out", str(out), "--force", *args)
    assert run.status == 0, run.stderr
    return out / f"{source.stem}.docx"


def import_docx(docx: Path, *args: str) -> tuple[str, str]:
    """The real command line: the Markdown it writes and what it says on stderr."""
    out = docx.with_name(docx.stem + "-imported.md")
    run = dsr("import", str(docx), "-o", str(out), *args)
    assert run.status == 0, run.stderr
    return out.read_text(encoding="utf-8"), run.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The essay, the citation fixture (author-date and a note style) and the manuscript, as DOCX."""
    out = tmp_path_factory.mktemp("living")
    return {
        "essay": build(ESSAY, out / "essay"),
        "citations": build(CITATIONS, out / "citations"),
        "notes": build(CITATIONS, out / "notes", "--csl", "chicago-notes-bibliography"),
        "manuscript": build(MANUSCRIPT, out / "manuscript"),
        "text": build(CITATIONS, out / "text", "--docx-citations", "text"),
    }


# --- reading the Word XML ----------------------------------------------------


def part(docx: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(docx) as z:
        return etree.fromstring(z.read(name))


def fields(root: etree._Element) -> list[tuple[str, str]]:
    """Every complex field: (code, the text shown between separate and end)."""
    found, stack = [], []
    for run in root.iter(W + "r"):
        char = run.find(W + "fldChar")
        kind = char.get(W + "fldCharType") if char is not None else None
        if kind == "begin":
            stack.append({"code": "", "shown": "", "sep": False})
        elif stack and kind == "separate":
            stack[-1]["sep"] = True
        elif stack and kind == "end":
            done = stack.pop()
            found.append((done["code"], done["shown"]))
        elif stack:
            stack[-1]["code"] += "".join(t.text or "" for t in run.findall(W + "instrText"))
            if stack[-1]["sep"]:
                stack[-1]["shown"] += "".join(t.text or "" for t in run.findall(W + "t"))
    return found


def citation_fields(docx: Path, name: str = "word/document.xml") -> list[tuple[dict, str]]:
    out = []
    for code, shown in fields(part(docx, name)):
        match = CODE.match(code)
        if match:
            out.append((json.loads(match.group(1)), shown))
    return out


# --- pandoc's ASTs, normalised as pandoc normalises -------------------------


def md_ast(text: str) -> dict:
    out, _ = pandoc.run(["--from", pandoc.MARKDOWN, "--to", "json"], text.encode(), cwd=ROOT, source=ESSAY)
    return json.loads(out)


def normal(node):
    """Soft breaks as spaces, smart quotes as characters, Cite content (citeproc's) left out."""
    if isinstance(node, list):
        out = []
        for item in (normal(x) for x in node):
            if isinstance(item, list) and item and item[0] == "__splice__":
                out.extend(item[1:])
                continue
            out.append(item)
        merged = []
        for item in out:
            if isinstance(item, dict) and item.get("t") == "Str" and merged and isinstance(merged[-1], dict) \
                    and merged[-1].get("t") == "Str":
                merged[-1] = {"t": "Str", "c": merged[-1]["c"] + item["c"]}
            else:
                merged.append(item)
        return merged
    if isinstance(node, dict):
        kind = node.get("t")
        if kind == "SoftBreak":
            return {"t": "Space"}
        if kind == "Quoted":
            left, right = ("\u201c", "\u201d") if node["c"][0]["t"] == "DoubleQuote" else ("\u2018", "\u2019")
            return ["__splice__", {"t": "Str", "c": left}, *normal(node["c"][1]), {"t": "Str", "c": right}]
        if kind == "Str":
            return {"t": "Str", "c": node["c"].replace("'", "\u2019")}
        if kind == "Cite":
            return {"t": "Cite", "c": [normal(node["c"][0]), []]}
        return {k: normal(v) for k, v in node.items()}
    return node


def cites(ast: dict) -> list[tuple[str, str, str, str]]:
    found = []

    def visit(node):
        if isinstance(node, dict):
            if node.get("t") == "Cite":
                for c in node["c"][0]:
                    found.append((c["citationId"], json.dumps(normal(c["citationPrefix"]), ensure_ascii=False),
                                  json.dumps(normal(c["citationSuffix"]), ensure_ascii=False), c["citationMode"]["t"]))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(ast["blocks"])
    return found


# --- live citations in the DOCX ----------------------------------------------


def test_essay_has_one_zotero_field_per_citation_in_zoteros_shape(built):
    source = md_ast(ESSAY.read_text())
    found = citation_fields(built["essay"])
    clusters = [n for n in json.dumps(source["blocks"]).split('"t": "Cite"')][1:]
    assert len(found) == len(clusters) == 75
    items = [i for data, _ in found for i in data["citationItems"]]
    assert len(items) == 86
    assert [i["id"] for i in items] == [c[0] for c in cites(source)]
    for data, shown in found:
        assert set(data) == {"citationID", "properties", "citationItems", "schema"}
        assert data["schema"] == SCHEMA
        assert re.fullmatch(r"[a-z0-9]{10}", data["citationID"])
        assert data["properties"]["plainCitation"] == shown and data["properties"]["noteIndex"] == 0
        assert data["properties"]["formattedCitation"]
        for item in data["citationItems"]:
            assert item["itemData"]["citation-key"] == item["id"] == item["itemData"]["id"]
            assert item["itemData"]["type"] and item["itemData"]["title"]
            assert re.fullmatch(r"http://zotero.org/users/local/\w{8}/items/[2-9A-Z]{8}", item["uris"][0])
    assert len({d["citationID"] for d, _ in found}) == 75
    located = [(i["id"], i["label"], i["locator"]) for i in items if "locator" in i]
    assert ("aminian2018", "page", "325-326") in located and ("ndrc2015", "paragraph", "18") in located
    assert ("cheney2019", "page", "iv") in located
    by_key = {i["id"]: i for i in items}
    assert by_key["hurley2018"]["command"] == "narrative"
    # Only the item keys of the CSL citation schema Zotero names (and CSL 1.1's "command").
    allowed = {"id", "itemData", "prefix", "suffix", "locator", "label", "suppress-author", "author-only", "uris",
               "command"}
    labels = {"book", "chapter", "column", "figure", "folio", "issue", "line", "note", "opus", "page", "paragraph",
              "part", "section", "sub verbo", "verse", "volume"}
    assert all(set(i) <= allowed and i.get("label", "page") in labels for i in items)


def test_one_bibliography_field_holds_the_reference_list(built):
    body = part(built["essay"], "word/document.xml")
    bibl = [(c, s) for c, s in fields(body) if "ZOTERO_BIBL" in c]
    assert len(bibl) == 1
    code, shown = bibl[0]
    data = json.loads(code.split("ZOTERO_BIBL", 1)[1].rsplit("CSL_BIBLIOGRAPHY", 1)[0])
    assert set(data) == {"uncited", "omitted", "custom"}
    assert len(data["uncited"]) == 1  # huawei2017, listed through nocite
    assert "Aminian" in shown and "Zeiger" in shown
    entries = body.findall(".//w:pStyle[@w:val='Bibliography']", NS)
    assert len(entries) == 30  # the hanging-indent list is still there, inside the field


def test_document_preferences_name_the_style_in_255_character_chunks(built):
    custom = part(built["essay"], "docProps/custom.xml")
    prefs = {p.get("name"): p[0].text for p in custom if p.get("name", "").startswith("ZOTERO_PREF_")}
    assert list(prefs) == [f"ZOTERO_PREF_{n}" for n in range(1, len(prefs) + 1)] and len(prefs) >= 2
    assert all(len(v) <= 255 for v in prefs.values()) and all(len(v) == 255 for v in list(prefs.values())[:-1])
    data = etree.fromstring("".join(prefs.values()))
    assert data.find("style").get("id") == "http://www.zotero.org/styles/harvard-cite-them-right"
    assert data.find("style").get("locale") == "en-GB"
    assert data.find("prefs/pref[@name='fieldType']").get("value") == "Field"


def test_shown_text_is_todays_and_text_mode_has_no_fields(built):
    def texts(docx):
        return ["".join(t.text or "" for t in p.iter(W + "t")) for p in part(docx, "word/document.xml").iter(W + "p")]

    assert texts(built["citations"]) == texts(built["text"])
    assert citation_fields(built["text"]) == [] and citation_fields(built["citations"])
    with zipfile.ZipFile(built["text"]) as z:
        assert "ZOTERO" not in z.read("docProps/custom.xml").decode()


def test_front_matter_chooses_text(tmp_path):
    source = tmp_path / "citations.md"
    shutil.copytree(CITATIONS.parent, tmp_path, dirs_exist_ok=True)
    source.write_text(CITATIONS.read_text().replace("lang: en-GB\n", "lang: en-GB\ndocx-citations: text\n"))
    assert citation_fields(build(source, tmp_path / "out")) == []
    source.write_text(CITATIONS.read_text().replace("lang: en-GB\n", "lang: en-GB\ndocx-citations: live\n"))
    run = dsr("build", str(source), "--to", "docx", "--out", str(tmp_path / "bad"))
    assert run.status == 1 and f"{source}:5: front matter 'docx-citations' must be one of" in run.stderr
    assert "Traceback" not in run.stderr


def test_note_style_fields_are_in_the_footnotes(built):
    notes = citation_fields(built["notes"], "word/footnotes.xml")
    narrative = citation_fields(built["notes"])  # "Lee says" keeps the name in the text, its note beside it
    assert len(notes) == 14 and len(narrative) == 1
    assert narrative[0][0]["citationItems"][0]["command"] == "narrative"
    indexes = [d["properties"]["noteIndex"] for d, _ in notes]
    assert all(i > 0 for i in indexes) and indexes == sorted(indexes)
    prefs = "".join(p[0].text for p in part(built["notes"], "docProps/custom.xml")
                    if p.get("name", "").startswith("ZOTERO_PREF_"))
    assert 'name="noteType" value="1"' in prefs and "chicago-notes-bibliography" in prefs


def test_pandocs_own_docx_reader_reads_the_fields(built):
    out, _ = pandoc.run(["--from", "docx+citations", "--to", "json", str(built["essay"])], b"", cwd=ROOT, source=ESSAY)
    read = cites(json.loads(out))
    source = cites(md_ast(ESSAY.read_text()))
    assert [c[0] for c in read] == [c[0] for c in source]
    # pandoc spells the locator out ("page 325-326"); the number is the source's.
    assert [re.findall(r"\d+|\b[ivx]+\b", c[2]) for c in read] == [re.findall(r"\d+|\b[ivx]+\b", c[2]) for c in source]


# --- the round trip ------------------------------------------------------------


@pytest.mark.parametrize("name, source", [("essay", ESSAY), ("citations", CITATIONS), ("notes", CITATIONS)])
def test_import_restores_the_source(built, name, source):
    text, stderr = import_docx(built[name], "--into", str(source))
    assert "warning" not in stderr, stderr
    original = source.read_text()
    assert normal(md_ast(text)["blocks"]) == normal(md_ast(original)["blocks"])
    assert cites(md_ast(text)) == cites(md_ast(original))
    assert text == original  # paragraphs the editor left alone come back as written


def test_manuscript_comes_back_as_written(built):
    """Raw LaTeX and HTML the build rewrote, Word's equations and a simple table: unedited, all as written."""
    text, stderr = import_docx(built["manuscript"], "--into", str(MANUSCRIPT))
    assert "warning" not in stderr, stderr
    assert text == MANUSCRIPT.read_text()
    assert [c[0] for c in cites(md_ast(text))] == ["method:doe2019", "cites:roe2020", "usesMethodIn:doe2019",
                                                   "roe2020"]


def test_an_edited_manuscript_paragraph_comes_from_word(built, tmp_path):
    def edit(root, entries):
        run = run_with(root, "is fitted by least squares")
        for t in run.iter(W + "t"):
            t.text = t.text.replace("least squares", "weighted least squares")

    text, stderr = import_docx(edited(built["manuscript"], tmp_path, edit), "--into", str(MANUSCRIPT))
    assert "is fitted by weighted least squares" in text and "](#tab:constituents) lists" in text
    assert "the source block \u201cEquation \\eqref{eq:tide} is fitted by" in stderr
    assert "what it wrote as \\eqref{eq:tide}, \\begin{equation}" in stderr
    assert "\\autoref{fig:record} shows a tidal record" in text  # the paragraph before, untouched


# --- editing rounds -------------------------------------------------------------


def edited(docx: Path, tmp_path: Path, change, name: str = "edited.docx") -> Path:
    """A copy of `docx` with `change` applied to its document.xml (and any part it adds)."""
    with zipfile.ZipFile(docx) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    root = etree.fromstring(entries["word/document.xml"])
    change(root, entries)
    entries["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    out = tmp_path / name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)
    return out


def paragraph(root: etree._Element, words: str) -> etree._Element:
    return next(p for p in root.iter(W + "p") if words in "".join(t.text or "" for t in p.iter(W + "t")))


def run_with(root: etree._Element, words: str) -> etree._Element:
    return next(r for r in root.iter(W + "r") if words in "".join(t.text or "" for t in r.iter(W + "t")))


def tracked(tag: str, words: str, ident: int) -> etree._Element:
    change = etree.Element(W + tag, {W + "id": str(ident), W + "author": "Ed Itor", W + "date": "2024-03-01T10:00:00Z"})
    run = etree.SubElement(change, W + "r")
    text = etree.SubElement(run, W + ("delText" if tag == "del" else "t"))
    text.text = words
    text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return change


def insert_delete_replace(root, entries):
    paragraph(root, "A narrative citation").append(tracked("ins", " An editor adds this sentence.", 901))
    deleted = run_with(root, "Write to")
    deleted.addprevious(tracked("del", "".join(t.text for t in deleted.iter(W + "t")), 902))
    deleted.getparent().remove(deleted)
    target = run_with(root, "for more.")
    words = "".join(t.text for t in target.iter(W + "t"))
    target.addprevious(tracked("del", words, 903))
    target.addprevious(tracked("ins", words.replace("for more", "for further reading"), 904))
    target.getparent().remove(target)


@pytest.mark.parametrize("mode", ["accept", "reject", "critic"])
def test_tracked_changes(built, tmp_path, mode):
    docx = edited(built["citations"], tmp_path, insert_delete_replace)
    text, _ = import_docx(docx, "--into", str(CITATIONS), "--track-changes", mode)
    if mode == "accept":
        assert "An editor adds this sentence." in text and "Write to" not in text
        assert "for further reading" in text and "for more." not in text
    elif mode == "reject":
        assert "An editor adds this sentence." not in text and "Write to" in text and "for more." in text
    else:
        assert "{++An editor adds this sentence.++}" in text
        assert "{--Write to--} <user@example.com>" in text
        assert "{~~for more.~>for further reading.~~}" in text
    assert len(cites(md_ast(text))) == len(cites(md_ast(CITATIONS.read_text())))


def add_comment(root, entries):
    rels = etree.fromstring(entries["word/_rels/document.xml.rels"])
    etree.SubElement(rels, "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship", {
        "Id": "rIdComments9", "Target": "comments.xml",
        "Type": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"})
    entries["word/_rels/document.xml.rels"] = etree.tostring(rels)
    types = entries["[Content_Types].xml"].decode().replace("</Types>", (
        '<Override PartName="/word/comments.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/></Types>'))
    entries["[Content_Types].xml"] = types.encode()
    entries["word/comments.xml"] = (
        f'<w:comments xmlns:w="{W_NS}"><w:comment w:id="7" w:author="Ed Itor" w:date="2024-03-02T09:30:00Z">'
        '<w:p><w:r><w:t>Please check this claim.</w:t></w:r></w:p></w:comment></w:comments>').encode()
    target = run_with(root, "for more.")
    target.addprevious(etree.Element(W + "commentRangeStart", {W + "id": "7"}))
    target.addnext(etree.Element(W + "commentRangeEnd", {W + "id": "7"}))
    reference = etree.Element(W + "r")
    etree.SubElement(reference, W + "commentReference", {W + "id": "7"})
    target.getnext().addnext(reference)


def test_comments_become_criticmarkup(built, tmp_path):
    docx = edited(built["citations"], tmp_path, add_comment)
    text, _ = import_docx(docx, "--into", str(CITATIONS))
    assert "for more.{>>Ed Itor, 2024-03-02T09:30:00Z: Please check this claim.<<}" in text
    critic, _ = import_docx(docx, "--into", str(CITATIONS), "--track-changes", "critic")
    assert "{==for more.==}{>>Ed Itor, 2024-03-02T09:30:00Z: Please check this claim.<<}" in critic


def change_locator(root, entries):
    for instr in root.iter(W + "instrText"):
        if '"locator": "12"' in (instr.text or ""):
            instr.text = instr.text.replace('"locator": "12"', '"locator": "99-101"')
            return
    raise AssertionError("no field with locator 12")


def test_a_locator_changed_in_the_field_json(built, tmp_path):
    text, stderr = import_docx(edited(built["citations"], tmp_path, change_locator), "--into", str(CITATIONS))
    assert "[@lee2015, pp. 99-101]" in text and "p. 12]" not in text
    assert "warning" not in stderr


def hand_edit_and_typed(root, entries):
    for code, node in zip(*_field_text_nodes(root)):
        if '"smith2018"' in code and "p. 310" not in code:
            node.text = "(Smith, edited by hand)"
            break
    para = paragraph(root, "A narrative citation")
    run = etree.SubElement(para, W + "r")
    etree.SubElement(run, W + "t").text = " As Jardine argues (Jardine, 2019)."


def _field_text_nodes(root):
    """(code, first shown w:t) of each field, in order."""
    codes, nodes, stack = [], [], []
    for run in root.iter(W + "r"):
        char = run.find(W + "fldChar")
        kind = char.get(W + "fldCharType") if char is not None else None
        if kind == "begin":
            stack.append(["", None, False])
        elif kind == "separate":
            stack[-1][2] = True
        elif kind == "end":
            code, node, _ = stack.pop()
            if node is not None:
                codes.append(code)
                nodes.append(node)
        elif stack:
            stack[-1][0] += "".join(t.text or "" for t in run.findall(W + "instrText"))
            if stack[-1][2] and stack[-1][1] is None and run.find(W + "t") is not None:
                stack[-1][1] = run.find(W + "t")
    return codes, nodes


def test_hand_edited_and_typed_citations_are_reported(built, tmp_path):
    docx = edited(built["citations"], tmp_path, hand_edit_and_typed)
    text, stderr = import_docx(docx, "--into", str(CITATIONS))
    assert "[@smith2018]" in text
    assert re.search(r"paragraph \d+ \(\u201cA narrative citation.*\): the text of citation @smith2018 was edited "
                     r"by hand to \u201c\(Smith, edited by hand\)", stderr), stderr
    assert "\u201c(Jardine, 2019)\u201d looks like a citation typed as text" in stderr


def libreoffice(docx: Path, out: Path) -> Path:
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is not installed; tools/setup-system test installs it")
        pytest.skip("LibreOffice (soffice) is not installed")
    out.mkdir()
    subprocess.run([soffice, f"-env:UserInstallation={(out / 'profile').as_uri()}", "--headless",
                    "--convert-to", "docx", "--outdir", str(out), str(docx)],
                   check=False, capture_output=True, timeout=300)
    saved = out / docx.name
    assert saved.is_file(), "LibreOffice wrote no DOCX"
    return saved


@pytest.mark.parametrize("name, source", [("essay", ESSAY), ("notes", CITATIONS)])
def test_libreoffice_resave_keeps_every_citation(built, tmp_path, name, source):
    saved = libreoffice(built[name], tmp_path / "lo")
    with zipfile.ZipFile(saved) as z:
        assert "LibreOffice" in z.read("docProps/app.xml").decode()
    text, _ = import_docx(saved, "--into", str(source))
    assert cites(md_ast(text)) == cites(md_ast(source.read_text()))
    assert normal(md_ast(text)["blocks"]) == normal(md_ast(source.read_text())["blocks"])


# --- without the source, and bad input ---------------------------------------


def test_import_without_the_source_writes_front_matter_and_entries(built, tmp_path):
    docx = tmp_path / "paper.docx"
    shutil.copy(built["citations"], docx)
    run = dsr("import", str(docx))
    assert run.status == 0, run.stderr
    text = (tmp_path / "paper.md").read_text()
    assert text.startswith("---\ntitle: Every Citation Form\n") and "bibliography: paper.references.json" in text
    entries = json.loads((tmp_path / "paper.references.json").read_text())
    assert {e["id"] for e in entries} >= {"lee2015", "smith2018", "garcia2021"}
    assert cites(md_ast(text)) == cites(md_ast(CITATIONS.read_text()))


def word_package(path: Path, paragraphs: str) -> Path:
    """The smallest DOCX Word opens: a content-types list, one relationship, the body given."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
                   'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/'
                   '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", f'<w:document xmlns:w="{W_NS}"><w:body>{paragraphs}</w:body></w:document>')
    return path


def field_paragraph(before: str, code: str, shown: str, after: str = ".") -> str:
    return (f'<w:p><w:r><w:t xml:space="preserve">{before}</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> '
            f'{html.escape(code, quote=False)} </w:instrText></w:r>'
            f'<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>{shown}</w:t></w:r>'
            f'<w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t>{after}</w:t></w:r></w:p>')


def test_a_foreign_zotero_field_is_read(tmp_path):
    data = {"citationID": "x", "properties": {"formattedCitation": "(Doe 2001)", "plainCitation": "(Doe 2001)",
                                              "noteIndex": 0},
            "citationItems": [{"id": 42, "uris": ["http://zotero.org/users/1/items/ABCD2345"], "locator": "7",
                               "label": "page", "itemData": {"id": 42, "type": "book", "title": "T",
                                                             "author": [{"family": "Doe", "given": "J."}],
                                                             "issued": {"date-parts": [["2001"]]}}}],
            "schema": SCHEMA}
    mendeley = {**data, "citationItems": [{"id": "m1", "uris": ["http://www.mendeley.com/documents/?uuid=1"],
                                           "itemData": {"id": "m1", "type": "article", "title": "U",
                                                        "author": [{"family": "Roe"}],
                                                        "issued": {"date-parts": [[1999]]}}}],
                "properties": {"plainCitation": "(Roe 1999)", "noteIndex": 0}}
    docx = word_package(tmp_path / "foreign.docx", field_paragraph(
        "As shown ", f"ADDIN ZOTERO_ITEM CSL_CITATION {json.dumps(data)}", "(Doe 2001)") + field_paragraph(
        "And Mendeley ", f"ADDIN CSL_CITATION {json.dumps(mendeley)}", "(Roe 1999)"))
    text, _ = import_docx(docx)
    assert "As shown [@doe2001, p. 7]." in text and "And Mendeley [@roe1999]." in text
    entries = json.loads((tmp_path / "foreign-imported.references.json").read_text())
    assert [e["id"] for e in entries] == ["doe2001", "roe1999"]


def test_malformed_fields_are_warnings(tmp_path):
    bad = [
        "ADDIN ZOTERO_ITEM CSL_CITATION {not json",
        "ADDIN ZOTERO_ITEM CSL_CITATION {\"a\":" + "[" * 5000 + "]" * 5000 + "}",
        'ADDIN ZOTERO_ITEM CSL_CITATION {"citationItems": "none"}',
        ('ADDIN ZOTERO_ITEM CSL_CITATION {"citationItems": [{"id": 1, "itemData": [1, 2], "uris": "x"}], '
         '"properties": "p"}'),
        'ADDIN ZOTERO_ITEM CSL_CITATION {"citationItems": [{"id": 2, "itemData": {"author": "A", "issued": 3}}]}',
    ]
    docx = word_package(tmp_path / "bad.docx", "".join(field_paragraph(f"Case {i} ", code, "(shown)")
                                                       for i, code in enumerate(bad)))
    run = dsr("import", str(docx), "-o", str(tmp_path / "bad.md"))
    assert run.status == 0 and "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert 'paragraph 1 (\u201cCase 0 (shown).\u201d): a citation field whose data is not JSON' in run.stderr
    assert 'paragraph 3 (\u201cCase 2 (shown).\u201d): a citation field without citation items' in run.stderr
    text = (tmp_path / "bad.md").read_text()
    assert "Case 0 (shown)." in text and "Case 3 [@anon]" in text and "Case 4 [@anona]" in text


def test_bad_input_and_refusals(built, tmp_path):
    not_docx = tmp_path / "notes.docx"
    not_docx.write_text("just text")
    run = dsr("import", str(not_docx))
    assert run.status == 1 and f"{not_docx}: not a DOCX file" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "notes.md").exists()
    assert dsr("import", str(tmp_path / "missing.docx")).status == 2
    shutil.copytree(CITATIONS.parent, tmp_path, dirs_exist_ok=True)
    source = tmp_path / "citations.md"
    run = dsr("import", str(built["citations"]), "--into", str(source), "-o", str(source))
    assert run.status == 2 and "--in-place" in run.stderr
    assert source.read_text() == CITATIONS.read_text()
    assert dsr("import", str(built["citations"]), "--diff").status == 2
    assert dsr("import", str(built["citations"]), "-o", str(built["citations"])).status == 2
    assert zipfile.is_zipfile(built["citations"])
    docx = edited(built["citations"], tmp_path, insert_delete_replace)
    run = dsr("import", str(docx), "--into", str(source), "--diff")
    assert run.status == 0 and "+A narrative citation" in run.stdout and "An editor adds this sentence." in run.stdout
    assert source.read_text() == CITATIONS.read_text()
    run = dsr("import", str(docx), "--into", str(source), "--in-place")
    assert run.status == 0, run.stderr
    assert (tmp_path / "citations.md.bak").read_text() == CITATIONS.read_text()
    assert "An editor adds this sentence." in source.read_text()


def delete_a_citation(root, entries):
    """Word's tracked deletion of a whole citation field: its runs inside w:del, instrText as delInstrText."""
    begin = next(r for r in root.iter(W + "r") if r.find(W + "fldChar") is not None
                 and '"smith2018"' in "".join(t.text or "" for t in r.getnext().iter(W + "instrText")))
    runs, node = [], begin
    while True:
        runs.append(node)
        char = node.find(W + "fldChar")
        if char is not None and char.get(W + "fldCharType") == "end":
            break
        node = node.getnext()
    wrapper = etree.Element(W + "del", {W + "id": "950", W + "author": "Ed Itor", W + "date": "2024-03-01T10:00:00Z"})
    begin.addprevious(wrapper)
    for run in runs:
        for child in run:
            if child.tag == W + "instrText":
                child.tag = W + "delInstrText"
            elif child.tag == W + "t":
                child.tag = W + "delText"
        wrapper.append(run)


@pytest.mark.parametrize("mode, expected", [("accept", "A parenthetical citation."),
                                            ("reject", "A parenthetical citation [@smith2018]."),
                                            ("critic", "A parenthetical citation {--[@smith2018]--}.")])
def test_a_citation_deleted_as_a_tracked_change(built, tmp_path, mode, expected):
    text, _ = import_docx(edited(built["citations"], tmp_path, delete_a_citation), "--into", str(CITATIONS),
                          "--track-changes", mode)
    assert expected in text


def edit_the_disclaimer(root, entries):
    run = run_with(root, "do not represent the views")
    for t in run.iter(W + "t"):
        t.text = t.text.replace("do not represent", "do not necessarily represent")


def test_an_edited_disclaimer_goes_back_to_the_front_matter(built, tmp_path):
    text, stderr = import_docx(edited(built["essay"], tmp_path, edit_the_disclaimer), "--into", str(ESSAY))
    assert 'disclaimer: "The opinions expressed here are those of the writers and do not necessarily represent' in text
    assert "the disclaimer was edited in the DOCX; the front matter now has the new text" in stderr
    assert text.replace(" necessarily", "", 1) == ESSAY.read_text()


def zotero_field(data: dict, shown: str) -> list[etree._Element]:
    """The runs of a citation field as Zotero writes it in Word."""
    runs = []
    for kind, text in (("begin", None), (None, f" ADDIN ZOTERO_ITEM CSL_CITATION {json.dumps(data)} "),
                       ("separate", None), (None, None), ("end", None)):
        run = etree.Element(W + "r")
        if kind:
            etree.SubElement(run, W + "fldChar", {W + "fldCharType": kind})
        elif text:
            etree.SubElement(run, W + "instrText").text = text
        else:
            etree.SubElement(run, W + "t").text = shown
        runs.append(run)
    return runs


def editor_adds_zotero_citations(root, entries):
    """Two citations from an editor's own library: one of a work the source cites, one of a new work."""
    para = paragraph(root, "A narrative citation")
    for item, shown in (
        ({"id": 77, "uris": ["http://zotero.org/users/99/items/QWERTY23"], "locator": "3", "label": "page",
          "itemData": {"id": 77, "type": "book", "title": "Networks of influence",
                       "author": [{"family": "Lee", "given": "Min-jun"}], "issued": {"date-parts": [["2015"]]}}},
         "(Lee, 2015, p. 3)"),
        ({"id": 78, "uris": ["http://zotero.org/users/99/items/ZXCVBN45"],
          "itemData": {"id": 78, "type": "book", "title": "Something New",
                       "author": [{"family": "Novak", "given": "Ana"}], "issued": {"date-parts": [["2022"]]}}},
         "(Novak, 2022)")):
        data = {"citationID": f"c{item['id']}", "properties": {"formattedCitation": shown, "plainCitation": shown,
                                                               "noteIndex": 0},
                "citationItems": [item], "schema": SCHEMA}
        space = etree.SubElement(para, W + "r")
        etree.SubElement(space, W + "t", {"{http://www.w3.org/XML/1998/namespace}space": "preserve"}).text = " See "
        para.extend(zotero_field(data, shown))


def test_citations_an_editor_inserts_with_zotero(built, tmp_path):
    text, stderr = import_docx(edited(built["citations"], tmp_path, editor_adds_zotero_citations),
                               "--into", str(CITATIONS))
    assert "See [@lee2015, p. 3] See [@novak2022]" in text
    assert "citation @novak2022 is not in the source's bibliography" in stderr


# A 1x1 PNG of another colour than the manuscript's picture.
OTHER_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763"
    "f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


def test_a_changed_picture_is_saved_beside_the_markdown(built, tmp_path):
    def swap(root, entries):
        name = next(n for n in entries if n.startswith("word/media/"))
        entries[name] = OTHER_PNG

    text, stderr = import_docx(edited(built["manuscript"], tmp_path, swap), "--into", str(MANUSCRIPT))
    saved = re.search(r"\]\((edited-imported-media/[^)\s]+)\)", text)
    assert saved and (tmp_path / saved.group(1)).read_bytes() == OTHER_PNG
    assert f"is new or changed in the DOCX; saved as {saved.group(1)}" in stderr
    unchanged, _ = import_docx(built["manuscript"], "--into", str(MANUSCRIPT))
    assert "](record.png)" in unchanged


def test_tracked_changes_and_comments_survive_a_libreoffice_resave(built, tmp_path):
    def both(root, entries):
        add_comment(root, entries)
        insert_delete_replace(root, entries)

    saved = libreoffice(edited(built["citations"], tmp_path, both), tmp_path / "lo")
    text, _ = import_docx(saved, "--into", str(CITATIONS), "--track-changes", "critic")
    assert "{++An editor adds this sentence.++}" in text and "{--Write to--}" in text
    assert "Please check this claim.<<}" in text and "Ed Itor" in text
    assert cites(md_ast(text)) == cites(md_ast(CITATIONS.read_text()))


def test_formatting_markdown_cannot_hold_is_reported(built, tmp_path):
    def highlight(root, entries):
        run = run_with(root, "Write to")
        props = run.find(W + "rPr")
        if props is None:
            props = etree.SubElement(run, W + "rPr")
            run.insert(0, props)
        etree.SubElement(props, W + "color", {W + "val": "C00000"})
        etree.SubElement(props, W + "highlight", {W + "val": "yellow"})
        brk = etree.SubElement(paragraph(root, "A narrative citation"), W + "r")
        etree.SubElement(brk, W + "br", {W + "type": "page"})

    text, stderr = import_docx(edited(built["citations"], tmp_path, highlight), "--into", str(CITATIONS))
    assert re.search(r"paragraph \d+ \(\u201cWrite to .*\): text colour set in Word has no Markdown form", stderr)
    assert re.search(r"\(\u201cA narrative citation.*\): a page break set in Word", stderr)
    assert "[Write to]{.mark} <user@example.com>" in text  # highlighting: pandoc's mark
