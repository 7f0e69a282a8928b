"""Every script on the page: a multilingual fixture built in all four formats and read back.

The fixture (tests/fixtures/scripts/) has Latin with Central Asian letters, Russian, Kazakh,
Kyrgyz, Tajik and Mongolian Cyrillic, Greek, Persian and Uyghur, Chinese (Simplified and
Traditional), Japanese, Korean and Hindi, in the title, a heading, body text, a footnote, a
table cell and a reference entry.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import re
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from fontTools.ttLib import TTFont
from helpers import ROOT, XHTML_NS, dsr, epubcheck
from lxml import etree
from lxml import html as lhtml

FIXTURE = ROOT / "tests" / "fixtures" / "scripts" / "scripts.md"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SAMPLES = {
    "Uzbek Latin": "Oʻzbekiston poytaxti Toshkent",
    "Kazakh Latin": "Qazaqstan Respýblıkasy: ğylym, öñır, ūlttyq, şahar",
    "Turkish": "İstanbulda ılık bir akşam; ağır şehir",
    "Turkmen": "Türkmenistan: Aşgabat, ýaňy, žurnal",
    "Russian": "Центральная Азия и Шёлковый путь",
    "Kazakh": "Қазақстан Республикасы: әңгіме, ұлттық, өңір, һәм",
    "Kyrgyz": "Кыргыз Республикасы: өнүгүү, көңүл",
    "Tajik": "Ҷумҳурии Тоҷикистон: хӯрок, ғалла, қадимӣ",
    "Mongolian": "Монгол Улс: Улаанбаатар, өргөн, үйлдвэр",
    "Greek": "Η Κεντρική Ασία και ο Δρόμος του Μεταξιού",
    "Persian": "جادهٔ ابریشم دیجیتال در آسیای مرکزی",
    "Uyghur": "ئۇيغۇرچە يېزىق؛ ئۈرۈمچى شەھىرى",
    "Chinese": "数字丝绸之路连接中亚与中国",
    "Chinese (Traditional)": "數位絲綢之路連接中亞與中國",
    "Japanese": "デジタル・シルクロードと中央アジア",
    "Korean": "디지털 실크로드와 중앙아시아",
    "Hindi": "डिजिटल रेशम मार्ग और मध्य एशिया",
    # the title, a heading, a table cell, a footnote and a reference entry
    "title": "Шёлковый путь, 丝绸之路",
    "heading": "Languages of the road: Қазақ тілі, 中文, ئۇيغۇرچە",
    "table cell": "ئۈرۈمچى شەھىرى",
    "footnote": "In a note: Монгол Улс, 中央アジア, डिजिटल, and جادهٔ ابریشم",
    "reference entry": "Цифровой шёлковый путь: 数字丝绸之路 and جادهٔ ابریشم",
}
RTL_PARAGRAPHS = {"Uyghur": "ئۇيغۇرچە يېزىق؛ ئۈرۈمچى شەھىرى", "Persian": "جادهٔ ابریشم دیجیتال در آسیای مرکزی"}
_CJK = r"\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    out = tmp_path_factory.mktemp("scripts")
    run = dsr("build", str(FIXTURE), "--out", str(out))
    assert run.status == 0, run.stderr
    return {"stderr": run.stderr, **{fmt: out / f"scripts.{fmt}" for fmt in ("pdf", "epub", "docx", "html")}}


def _normal(text: str) -> str:
    """Text as a reader compares it: one space between words, none where a CJK line was broken."""
    text = re.sub(r"[\u202a-\u202e\u200e\u200f]", "", text)  # bidi controls an extractor adds
    text = re.sub("[\u2010\u00ad-]\n", "", text)
    text = " ".join(text.split())
    return re.sub(rf"(?<=[{_CJK}]) (?=[{_CJK}])", "", text)


def test_the_fixture_builds_with_no_missing_glyph(built):
    assert "[missing-glyph]" not in built["stderr"], built["stderr"]
    assert "[weasyprint]" not in built["stderr"], built["stderr"]


# -- PDF -----------------------------------------------------------------------------------------

def _shown_glyphs(pdf: pikepdf.Pdf):
    """(font dictionary, glyph id) for every glyph a text-showing operator draws, page by page."""
    for page in pdf.pages:
        fonts = page.Resources.Font
        current = None
        for operands, operator in pikepdf.parse_content_stream(page):
            name = str(operator)
            if name == "Tf":
                current = fonts[operands[0]]
            elif name in ("Tj", "TJ", "'", '"'):
                strings = operands[0] if name == "TJ" else operands[-1:]
                for item in strings:
                    if isinstance(item, pikepdf.String):
                        data = bytes(item)
                        for i in range(0, len(data) - 1, 2):
                            yield current, int.from_bytes(data[i:i + 2], "big")


def test_the_pdf_draws_no_notdef_glyph(built):
    """Every glyph drawn is a real glyph of the embedded font it is drawn with, never .notdef."""
    counts: dict[tuple[int, int], int] = {}
    with pikepdf.open(built["pdf"]) as pdf:
        shown = list(_shown_glyphs(pdf))
        assert len(shown) > 500
        for font, gid in shown:
            assert gid != 0, f".notdef drawn with {font.BaseFont}"
            key = font.objgen
            if key not in counts:  # TrueType (FontFile2) or OpenType CFF (FontFile3), both sfnt
                descriptor = font.DescendantFonts[0].FontDescriptor
                program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                counts[key] = TTFont(io.BytesIO(program.read_bytes()))["maxp"].numGlyphs
            assert gid < counts[key], f"glyph {gid} is not in {font.BaseFont}"
        names = {str(font.BaseFont) for font, _ in shown}
    for family in ("Noto-Serif-CJK-SC", "Noto-Naskh-Arabic", "Noto-Serif-Devanagari"):
        assert any(family in name for name in names), names


def test_every_glyph_in_the_pdf_maps_to_unicode(built):
    """PDF/UA 7.21.7: no glyph shown without a Unicode value (WeasyPrint leaves some of a cluster empty)."""
    maps: dict[tuple[int, int], dict[int, str]] = {}
    with pikepdf.open(built["pdf"]) as pdf:
        for font, gid in _shown_glyphs(pdf):
            if font.objgen not in maps:
                maps[font.objgen] = _to_unicode(font)
            assert maps[font.objgen].get(gid), (str(font.BaseFont), gid)


def _poppler_text(pdf: Path) -> str:
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is not installed"
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_every_sample_can_be_copied_from_the_pdf(built):
    text = _normal(_poppler_text(built["pdf"]))
    missing = [name for name, sample in SAMPLES.items() if _normal(sample) not in text]
    assert not missing, (missing, text)


def _char_origins(page, needle: str) -> list[tuple[float, float]]:
    """pdfium's origin of each letter of `needle` (marks and spaces aside), in reading order."""
    textpage = page.get_textpage()
    full = textpage.get_text_range()
    at = full.find(needle)
    assert at >= 0, (needle, full)
    out = []
    for index in range(at, at + len(needle)):
        if full[index].isspace() or unicodedata.category(full[index]).startswith("M"):
            continue
        x, y = ctypes.c_double(), ctypes.c_double()
        pdfium_raw.FPDFText_GetCharOrigin(textpage.raw, index, x, y)
        out.append((round(x.value, 2), round(y.value, 2)))
    return out


def _widths(font: pikepdf.Dictionary) -> dict[int, float]:
    widths: dict[int, float] = {}
    w = list(font.DescendantFonts[0].get("/W", []))
    i = 0
    while i < len(w):
        first = int(w[i])
        if isinstance(w[i + 1], pikepdf.Array):
            for k, value in enumerate(w[i + 1]):
                widths[first + k] = float(value)
            i += 2
        else:
            for gid in range(first, int(w[i + 1]) + 1):
                widths[gid] = float(w[i + 2])
            i += 3
    return widths


def _to_unicode(font: pikepdf.Dictionary) -> dict[int, str]:
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    pairs = re.findall(r"<([0-9a-fA-F]{4})> <([0-9a-fA-F]*)>", cmap)
    return {int(g, 16): bytes.fromhex(u).decode("utf-16-be") for g, u in pairs}


def _glyph_lines(pdf: pikepdf.Pdf, page_index: int):
    """Per text object: (ActualText of its marked content or None, y, [(x, width, text of glyph)])."""
    page = pdf.pages[page_index]
    actual, font, size, x, y, glyphs = None, None, 0.0, 0.0, 0.0, []
    widths: dict = {}
    for operands, operator in pikepdf.parse_content_stream(page):
        name = str(operator)
        if name == "BDC":
            props = operands[1]
            actual = str(props.ActualText) if isinstance(props, pikepdf.Dictionary) and "/ActualText" in props else None
        elif name == "Tm":
            x, y = float(operands[4]), float(operands[5])
        elif name == "Tf":
            font, size = page.Resources.Font[operands[0]], float(operands[1])
            if font.objgen not in widths:
                widths[font.objgen] = (_widths(font), _to_unicode(font))
        elif name == "TJ":
            advance, unicode = widths[font.objgen]
            for item in operands[0]:
                if isinstance(item, pikepdf.String):
                    data = bytes(item)
                    for i in range(0, len(data) - 1, 2):
                        gid = int.from_bytes(data[i:i + 2], "big")
                        width = advance.get(gid, 1000.0) / 1000 * size
                        glyphs.append((x, width, unicode.get(gid, "")))
                        x += width
                else:
                    x -= float(item) / 1000 * size
        elif name == "ET":
            yield actual, y, glyphs
            glyphs = []
        elif name == "EMC":
            actual = None


def _letters(text: str) -> str:
    return "".join(c for c in text if not c.isspace() and not unicodedata.category(c).startswith("M"))


@pytest.mark.parametrize("name", RTL_PARAGRAPHS)
def test_persian_and_uyghur_paragraphs_run_right_to_left(built, name):
    """The glyphs, left to right, are the paragraph's letters from last to first, and the line
    ends at the right margin: the paragraph is laid out right to left."""
    with pikepdf.open(built["pdf"]) as pdf:
        lines = list(_glyph_lines(pdf, 0))
    sample = RTL_PARAGRAPHS[name]
    matches = [glyphs for actual, _, glyphs in lines if actual and _letters(actual[::-1]) == _letters(sample)]
    assert matches
    line = max(matches, key=lambda glyphs: glyphs[-1][0])  # the paragraph, not the same words in a line
    xs = [x for x, _, text in line if _letters(text)]  # marks sit back over their letters
    assert xs == sorted(xs)
    drawn = _letters("".join(text for _, _, text in reversed(line)))
    assert drawn == _letters(sample), (drawn, sample)
    right_edge = max(x + w for lines_ in [lines] for _, _, glyphs in lines_ for x, w, _ in glyphs)
    assert abs(max(x + w for x, w, _ in line) - right_edge) < 1.0  # flush with the right margin
    left_margin = min(x for _, _, glyphs in lines for x, _, _ in glyphs)
    assert xs[0] - left_margin > 100  # a short line, so it does not start at the left


def test_cjk_is_not_letter_spaced_by_justification(built):
    """In a justified paragraph of Chinese every character advances exactly one em (11 pt)."""
    page = pdfium.PdfDocument(str(built["pdf"]))[0]
    origins = _char_origins(page, "数字丝绸之路连接中亚与中国。数字丝绸之路连接中亚与中国。")
    steps = [round(b[0] - a[0], 1) for a, b in itertools.pairwise(origins) if a[1] == b[1]]
    assert len(steps) > 20 and set(steps) == {11.0}, steps


def test_tagged_pdf_marks_each_language(built):
    found = set()

    def walk(node):
        if isinstance(node, pikepdf.Dictionary):
            if "/Lang" in node:
                found.add((str(node.get("/S")), str(node.Lang)))
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
                walk(kid)

    with pikepdf.open(built["pdf"]) as pdf:
        walk(pdf.Root.StructTreeRoot)
    langs = {lang for _, lang in found}
    assert {"ru", "kk", "ky", "tg", "el", "fa", "ug", "zh", "zh-Hant", "ja", "ko", "hi"} <= langs, found
    assert ("/Span", "fa") in found and ("/Div", "ug") in found


# -- EPUB ----------------------------------------------------------------------------------------

def _epub_documents(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")}


def test_epub_is_clean_and_holds_every_sample(built):
    verdict = epubcheck(built["epub"])
    assert (verdict["FATAL"], verdict["ERROR"], verdict["WARNING"]) == (0, 0, 0), verdict["messages"]
    text = _normal(" ".join("".join(d.itertext()) for d in _epub_documents(built["epub"]).values()))
    missing = [name for name, sample in SAMPLES.items() if _normal(sample) not in text]
    assert not missing, missing


def test_epub_spans_in_another_language_carry_lang_xml_lang_and_dir(built):
    docs = _epub_documents(built["epub"])
    spans = [el for d in docs.values() for el in d.iter() if el.get("lang") and el.tag.endswith(("span", "div"))]
    langs = {el.get("lang") for el in spans}
    assert {"ru", "kk", "ky", "tg", "mn", "el", "fa", "ug", "zh", "ja", "ko", "hi"} <= langs, langs
    for el in spans:
        assert el.get("{http://www.w3.org/XML/1998/namespace}lang") == el.get("lang")
        rtl = el.get("lang") in ("fa", "ug")
        assert (el.get("dir") == "rtl") == rtl or el.getparent().get("dir") == "rtl", etree.tostring(el)
    title = docs["EPUB/titlepage.xhtml"].find(".//x:h1/x:span[@lang='fa']", XHTML_NS)
    assert title is not None and title.get("dir") == "rtl"


def test_epub_fonts_cover_every_character_of_its_text(built):
    """The fonts inside the EPUB draw every character of its documents: no reader shows a box."""
    covered: set[int] = set()
    cjk_fonts = []
    with zipfile.ZipFile(built["epub"]) as z:
        for name in z.namelist():
            if name.endswith((".ttf", ".otf", ".woff2")):
                font = TTFont(io.BytesIO(z.read(name)))
                covered |= set(font.getBestCmap())
                if "CJK" in name:
                    cjk_fonts.append((name, z.getinfo(name).file_size))
    text = "".join("".join(d.itertext()) for d in _epub_documents(built["epub"]).values())
    needed = {c for c in text if unicodedata.category(c)[0] not in "CZ"}
    assert not {c for c in needed if ord(c) not in covered}
    # the CJK faces are subsets: a few kilobytes, not the 20 MB fonts they are cut from
    assert cjk_fonts and all(size < 200_000 for _, size in cjk_fonts), cjk_fonts


def test_epub_passes_ace(built):
    from test_epub import ace

    assert ace(built["epub"]) == []


# -- DOCX ----------------------------------------------------------------------------------------

def _docx_parts(docx: Path) -> list[etree._Element]:
    with zipfile.ZipFile(docx) as z:
        return [etree.fromstring(z.read(n)) for n in ("word/document.xml", "word/footnotes.xml")]


def test_docx_holds_every_sample(built):
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{W}t")) for part in _docx_parts(built["docx"])
                  for p in part.iter(f"{W}p")]
    text = _normal(" ".join(paragraphs))
    missing = [name for name, sample in SAMPLES.items() if _normal(sample) not in text]
    assert not missing, missing


def _runs_with(docx: Path, needle: str) -> list[etree._Element]:
    return [r for part in _docx_parts(docx) for r in part.iter(f"{W}r")
            if needle in "".join(t.text or "" for t in r.iter(f"{W}t"))]


@pytest.mark.parametrize("name", RTL_PARAGRAPHS)
def test_docx_persian_and_uyghur_are_right_to_left(built, name):
    runs = _runs_with(built["docx"], RTL_PARAGRAPHS[name].split()[0])
    assert runs
    for run in runs:
        rpr = run.find(f"{W}rPr")
        assert rpr.find(f"{W}rtl") is not None
        assert rpr.find(f"{W}lang").get(f"{W}bidi") in ("fa-IR", "ug-CN")
        assert rpr.find(f"{W}rFonts").get(f"{W}cs") in ("Noto Naskh Arabic", "Noto Sans Arabic")
    whole = [r.getparent() for r in runs
             if "".join(t.text or "" for t in r.getparent().iter(f"{W}t")).strip() == RTL_PARAGRAPHS[name]]
    assert whole and all(p.find(f"{W}pPr/{W}bidi") is not None for p in whole)


@pytest.mark.parametrize("needle,east_asia,lang", [
    ("数字丝绸之路连接中亚与中国", "Noto Serif CJK SC", "zh-CN"),
    ("數位絲綢之路連接中亞與中國", "Noto Serif CJK TC", "zh-TW"),
    ("デジタル・シルクロードと中央アジア", "Noto Serif CJK JP", "ja-JP"),
    ("디지털 실크로드와 중앙아시아", "Noto Serif CJK KR", "ko-KR"),
])
def test_docx_cjk_runs_name_an_east_asian_font_and_language(built, needle, east_asia, lang):
    run = _runs_with(built["docx"], needle)[0]
    fonts, language = run.find(f"{W}rPr/{W}rFonts"), run.find(f"{W}rPr/{W}lang")
    assert fonts.get(f"{W}eastAsia") == east_asia and fonts.get(f"{W}ascii") == "Source Serif Pro"
    assert language.get(f"{W}eastAsia") == lang


def test_docx_cyrillic_and_devanagari_runs(built):
    cyrillic = _runs_with(built["docx"], "Тоҷикистон: хӯрок")[0]
    assert cyrillic.find(f"{W}rPr/{W}lang").get(f"{W}val") == "tg-TJ"
    assert cyrillic.find(f"{W}rPr/{W}rFonts").get(f"{W}hAnsi") == "Source Serif Pro"
    hindi = _runs_with(built["docx"], "डिजिटल रेशम")[0]
    assert hindi.find(f"{W}rPr/{W}rFonts").get(f"{W}cs") == "Noto Serif Devanagari"
    assert hindi.find(f"{W}rPr/{W}lang").get(f"{W}bidi") == "hi-IN"
    assert hindi.find(f"{W}rPr/{W}rtl") is None and hindi.find(f"{W}rPr/{W}cs") is not None


def test_libreoffice_lays_persian_out_right_to_left(built, tmp_path):
    """LibreOffice reads the DOCX as an editor would: the Uyghur paragraph starts at the right margin."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) is not installed; tools/setup-system test installs it"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(built["docx"])], capture_output=True, timeout=300,
                   check=True)
    page = pdfium.PdfDocument(str(tmp_path / "scripts.pdf"))[0]
    xs = [x for x, _ in _char_origins(page, "ئۇيغۇرچە")]
    assert all(a > b for a, b in itertools.pairwise(xs)) and xs[0] > page.get_width() / 2, xs


# -- HTML ----------------------------------------------------------------------------------------

def test_html_holds_every_sample_and_embeds_subset_fonts(built):
    page = built["html"].read_text(encoding="utf-8")
    root = lhtml.document_fromstring(page)
    text = _normal(root.text_content())
    missing = [name for name, sample in SAMPLES.items() if _normal(sample) not in text]
    assert not missing, missing
    faces = re.findall(r'@font-face \{ font-family: "([^"]+)"; src: url\("data:font/woff2', page)
    assert {"Noto Serif CJK SC", "Noto Naskh Arabic", "Noto Serif Devanagari"} <= set(faces), faces
    assert root.xpath("//div[@lang='fa'][@dir='rtl']") and root.xpath("//span[@lang='zh-Hant']")


# -- the gate ------------------------------------------------------------------------------------

def test_a_script_no_font_of_the_chain_covers_is_a_warning_naming_script_line_and_package(tmp_path):
    theme = (ROOT / "styles" / "default.toml").read_text(encoding="utf-8")
    theme = re.sub(r'"Noto (Serif|Sans|Sans Mono) CJK SC",?\s*', "", theme)
    (tmp_path / "no-cjk.toml").write_text(theme, encoding="utf-8")
    source = tmp_path / "cjk.md"
    source.write_text("---\ntitle: CJK\nlang: en\ntheme: no-cjk.toml\n---\n\nLatin first.\n\n中文 here.\n",
                      encoding="utf-8")
    run = dsr("build", str(source), "--to", "pdf", "--out", str(tmp_path / "out"),
              "--theme", str(tmp_path / "no-cjk.toml"))
    assert run.status == 0, run.stderr
    warning = next(line for line in run.stderr.splitlines() if "[missing-glyph]" in line)
    assert warning.startswith(f"{source}:9: warning:"), warning
    assert "CJK" in warning and "fonts-noto-cjk" in warning and "中文" in warning
    strict = dsr("build", str(source), "--to", "pdf", "--out", str(tmp_path / "strict"),
                 "--theme", str(tmp_path / "no-cjk.toml"), "--strict")
    assert strict.status == 1 and "[missing-glyph]" in strict.stderr
    assert not (tmp_path / "strict" / "cjk.pdf").exists()


def test_the_epub_cover_draws_each_title_word_in_a_face_that_has_its_letters():
    """The cover PNG is drawn word by word in the chain's face for the word's script, never boxes."""
    from dsr_export import theme as themes
    from dsr_export.writers import epub_cover

    theme = themes.load("default")
    for word in ("Шёлковый", "丝绸之路", "جادهٔ", "ئۇيغۇرچە", "डिजिटल", "Oʻzbekiston"):
        font = epub_cover._word_font(theme, "heading", 700, 150, word)
        drawn = set(TTFont(font.path, fontNumber=font.index if font.path.endswith(".ttc") else -1).getBestCmap())
        assert {ord(c) for c in word} <= drawn, (word, font.path)
