"""What a print shop's preflight checks: PDF/X output intents, page boxes, colour, fonts; and the cover."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from helpers import ESSAY, dsr, pdf_text
from PIL import Image, ImageChops, ImageCms, ImageStat

from dsr_export import theme as themes

MM = 72 / 25.4
BLEED = 3 * MM
RGB_OPERATORS = {"rg", "RG"}


def build(out: Path, *args: str, source: Path = ESSAY) -> Path:
    run = dsr("build", str(source), "--to", "pdf", "--out", str(out), *args)
    assert run.status == 0, run.stderr
    return out / f"{source.stem}.pdf"


@pytest.fixture(scope="module")
def essays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The essay as PDF/UA (the default), PDF/X-4 and PDF/X-1a with crop marks, and PDF/X-4 without."""
    root = tmp_path_factory.mktemp("print")
    return {
        "ua": build(root / "ua", "--crop-marks"),
        "x4": build(root / "x4", "--pdf-variant", "pdf/x-4", "--crop-marks"),
        "x1a": build(root / "x1a", "--pdf-variant", "pdf/x-1a", "--crop-marks"),
        "x4-plain": build(root / "x4-plain", "--pdf-variant", "pdf/x-4"),
    }


def content_streams(pdf: pikepdf.Pdf):
    """Every content stream a page paints, forms inside forms included, with its resources."""
    for page in pdf.pages:
        todo = [(page.obj.Contents, page.obj.get("/Resources", pikepdf.Dictionary()))]
        seen = set()
        while todo:
            stream, resources = todo.pop()
            yield stream, resources
            for xobject in resources.get("/XObject", {}).values():
                if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                    seen.add(xobject.objgen)
                    todo.append((xobject, xobject.get("/Resources", pikepdf.Dictionary())))


def images(pdf: pikepdf.Pdf):
    for _stream, resources in content_streams(pdf):
        for xobject in resources.get("/XObject", {}).values():
            if xobject.get("/Subtype") == "/Image":
                yield xobject


@pytest.mark.parametrize("variant", ["x4", "x1a"])
def test_output_intent_embeds_a_cmyk_printer_profile(essays, variant):
    pdf = pikepdf.open(essays[variant])
    (intent,) = pdf.Root.OutputIntents
    assert intent.S == "/GTS_PDFX"
    assert str(intent.OutputConditionIdentifier) == "CGATS TR 001"
    assert str(intent.RegistryName) == "http://www.color.org"
    icc = intent.DestOutputProfile.read_bytes()
    assert icc[36:40] == b"acsp"  # an ICC profile...
    assert icc[12:16] == b"prtr" and icc[16:20] == b"CMYK"  # ...of a CMYK printing condition
    assert int(intent.DestOutputProfile.N) == 4


def test_the_ua_pdf_claims_no_pdf_x(essays):
    pdf = pikepdf.open(essays["ua"])
    assert "/OutputIntents" not in pdf.Root
    assert "/GTS_PDFXVersion" not in pdf.docinfo


@pytest.mark.parametrize("variant", ["x4", "x1a"])
def test_boxes_nest_and_the_bleed_is_three_millimetres(essays, variant):
    theme = themes.load("default")
    width, height = (v * MM for v in theme.page_mm)
    pdf = pikepdf.open(essays[variant])
    for page in pdf.pages:
        media, bleed, trim = ([float(v) for v in page.obj[k]] for k in ("/MediaBox", "/BleedBox", "/TrimBox"))
        assert media[0] <= bleed[0] <= trim[0] and media[1] <= bleed[1] <= trim[1]
        assert trim[2] <= bleed[2] <= media[2] and trim[3] <= bleed[3] <= media[3]
        assert trim[2] - trim[0] == pytest.approx(width, abs=0.1)
        assert trim[3] - trim[1] == pytest.approx(height, abs=0.1)
        assert trim[0] - bleed[0] == pytest.approx(BLEED, abs=0.05)
        assert bleed[3] - trim[3] == pytest.approx(BLEED, abs=0.05)


def test_without_crop_marks_the_trim_is_the_page(essays):
    pdf = pikepdf.open(essays["x4-plain"])
    for page in pdf.pages:
        assert [float(v) for v in page.obj.TrimBox] == [float(v) for v in page.obj.MediaBox]
        assert [float(v) for v in page.obj.BleedBox] == [float(v) for v in page.obj.MediaBox]


def test_crop_marks_lie_outside_the_trim(essays):
    """The marks are ink in the bleed: rendered, the trim area's edge strip is as white as without them."""
    pdf = pdfium.PdfDocument(essays["x1a"])
    page = pdf[1]
    image = page.render(scale=2).to_pil().convert("L")
    edge = round(BLEED * 2)  # the bleed, in pixels
    strip = image.crop((0, 0, edge, image.height))
    assert ImageStat.Stat(strip).extrema[0][0] < 128, "no crop mark drawn in the bleed"
    inside = image.crop((edge + 4, 0, edge + 4 + 30, 60))
    assert ImageStat.Stat(inside).extrema[0][0] > 200, "ink just inside the trim at the corner"


def test_x1a_has_no_rgb_and_no_transparency(essays):
    pdf = pikepdf.open(essays["x1a"])
    assert pdf.pdf_version == "1.4"
    operators = set()
    for stream, resources in content_streams(pdf):
        for instruction in pikepdf.parse_content_stream(stream):
            operators.add(str(instruction.operator))
            if str(instruction.operator) in ("cs", "CS"):
                assert str(instruction.operands[0]) in ("/DeviceCMYK", "/DeviceGray", "/Pattern")
        for space in resources.get("/ColorSpace", {}).values():
            assert str(space) in ("/DeviceCMYK", "/DeviceGray"), space
        for state in resources.get("/ExtGState", {}).values():
            assert float(state.get("/ca", 1)) == 1 and float(state.get("/CA", 1)) == 1
            assert str(state.get("/SMask", "/None")) == "/None"
        for xobject in resources.get("/XObject", {}).values():
            assert "/Group" not in xobject and "/SMask" not in xobject
    assert not operators & RGB_OPERATORS
    assert {"g", "k"} <= operators  # greys on the black plate, colours in CMYK
    for image in images(pdf):
        assert str(image.ColorSpace) in ("/DeviceCMYK", "/DeviceGray")
    for page in pdf.pages:
        assert "/Group" not in page.obj


def test_x1a_colours_come_from_the_output_profile(essays):
    """The link colour is the profile's conversion of the theme's sRGB, and black text is pure K."""
    pdf = pikepdf.open(essays["x1a"])
    profile = ImageCms.ImageCmsProfile(io.BytesIO(pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes()))
    link = themes.load("default")["colours.link"].lstrip("#")
    pixel = Image.new("RGB", (1, 1), tuple(int(link[i:i + 2], 16) for i in (0, 2, 4)))
    expected = ImageCms.profileToProfile(
        pixel, ImageCms.createProfile("sRGB"), profile, outputMode="CMYK",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
    ).getpixel((0, 0))
    fills = [
        tuple(float(v) for v in i.operands)
        for stream, _ in content_streams(pdf)
        for i in pikepdf.parse_content_stream(stream)
        if str(i.operator) == "k"
    ]
    assert any(all(abs(a - b / 255) < 0.01 for a, b in zip(fill, expected, strict=True)) for fill in fills)
    naive = [1 - int(link[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    assert not any(all(abs(a - b) < 0.01 for a, b in zip(fill[:3], naive, strict=True)) for fill in fills)
    grey_text = [
        i for stream, _ in content_streams(pdf) for i in pikepdf.parse_content_stream(stream)
        if str(i.operator) == "g"
    ]
    assert grey_text, "black text is not DeviceGray"


def test_x4_device_colour_is_cmyk_and_groups_blend_in_cmyk(essays):
    pdf = pikepdf.open(essays["x4"])
    assert pdf.pdf_version <= "1.6"
    for stream, resources in content_streams(pdf):
        for instruction in pikepdf.parse_content_stream(stream):
            assert str(instruction.operator) not in RGB_OPERATORS
        for xobject in resources.get("/XObject", {}).values():
            if "/Group" in xobject:
                assert str(xobject.Group.get("/CS", "/DeviceCMYK")) != "/DeviceRGB"


@pytest.mark.parametrize("variant", ["x4", "x1a"])
def test_pdf_x_identifies_itself_and_keeps_tags_and_fonts(essays, variant):
    pdf = pikepdf.open(essays[variant])
    assert pdf.docinfo["/Trapped"] == "/False"
    version = "PDF/X-4" if variant == "x4" else "PDF/X-1a:2003"
    meta = pdf.open_metadata()
    assert meta["pdfxid:GTS_PDFXVersion"] == version
    if variant == "x1a":
        assert str(pdf.docinfo["/GTS_PDFXVersion"]) == version
    assert "/StructTreeRoot" in pdf.Root and bool(pdf.Root.MarkInfo.Marked)
    assert meta["pdfuaid:part"] == "1"
    fonts = subprocess.run(["pdffonts", str(essays[variant])], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(re.search(r"\byes\s+yes\b", row) for row in rows), fonts


@pytest.mark.parametrize("variant", ["x4", "x1a"])
def test_pdf_x_looks_like_the_screen_pdf(essays, variant):
    """The conversion moves colours, never text: page images differ by little more than hue."""
    for index in (0, 3):
        ua = pdfium.PdfDocument(essays["ua"])[index].render(scale=1).to_pil().convert("L")
        x = pdfium.PdfDocument(essays[variant])[index].render(scale=1).to_pil().convert("L")
        assert ua.size == x.size
        difference = ImageStat.Stat(ImageChops.difference(ua, x)).mean[0]
        assert difference < 2.0, (index, difference)


def test_pdf_x_text_is_the_same_text(essays):
    assert pdf_text(essays["x1a"]) == pdf_text(essays["ua"])


def test_variants_that_cannot_be_honest_are_usage_errors(tmp_path):
    for variant in ("pdf/x-3", "pdf/x-5g", "debug", "pdf/x-9"):
        run = dsr("build", "--to", "pdf", "--pdf-variant", variant, "--out", str(tmp_path))
        assert run.status == 2, run.stderr
        assert "pdf/x-1a" in run.stderr and "pdf/x-4" in run.stderr
        assert "Traceback" not in run.stderr
    assert not list(tmp_path.iterdir())


# The cover ------------------------------------------------------------------------------------

COVER = """\
---
title: Caravans of Data
subtitle: Essays on the Digital Silk Road
author: Berta Tarrats
publisher: European Guanxi
description: Essays on how fibre, data centres and cameras travel along the old Silk Road.
lang: en-GB
{extra}
---

{body}
"""
PARAGRAPH = "Along the corridor, each new cable follows an older road, and each road an older trade. " * 12


def cover_source(folder: Path, extra: str, paragraphs: int = 3) -> Path:
    source = folder / "caravans.md"
    source.write_text(COVER.format(extra=extra, body="\n\n".join([PARAGRAPH] * paragraphs)))
    return source


def cover(folder: Path, extra: str, *args: str, paragraphs: int = 3) -> tuple[Path, Path]:
    source = cover_source(folder, extra, paragraphs)
    run = dsr("build", str(source), "--to", "pdf,cover", "--out", str(folder / "out"), *args)
    assert run.status == 0, run.stderr
    return folder / "out" / "caravans.pdf", folder / "out" / "caravans.cover.pdf"


def test_cover_is_two_covers_a_spine_and_the_bleed(tmp_path):
    interior, sheet = cover(tmp_path, "isbn: 978-3-16-148410-0\npaper-caliper: 0.12")
    pages = len(pikepdf.open(interior).pages)
    spine = -(-pages // 2) * 0.12
    width, height = themes.load("default").page_mm
    pdf = pikepdf.open(sheet)
    (page,) = pdf.pages
    media = [float(v) / MM for v in page.obj.MediaBox]
    trim = [float(v) / MM for v in page.obj.TrimBox]
    assert media[2] - media[0] == pytest.approx(2 * width + spine + 2 * 3, abs=0.1)
    assert media[3] - media[1] == pytest.approx(height + 2 * 3, abs=0.1)
    assert trim[2] - trim[0] == pytest.approx(2 * width + spine, abs=0.1)
    text = pdf_text(sheet)
    for words in ("Caravans of Data", "Berta Tarrats", "European Guanxi", "cameras travel"):
        assert words in text
    assert text.count("Caravans of Data") == 1  # a 0.4 mm spine carries no text


def test_a_wide_spine_carries_title_and_author(tmp_path):
    interior, sheet = cover(tmp_path, "paper-caliper: 1.5", paragraphs=40)
    assert -(-len(pikepdf.open(interior).pages) // 2) * 1.5 >= 6
    text = pdf_text(sheet)
    assert text.count("Caravans of Data") == 2 and text.count("Berta Tarrats") == 2


def test_the_barcode_decodes_to_the_isbn(tmp_path):
    from pyzbar import pyzbar

    _interior, sheet = cover(tmp_path, "isbn: 0-306-40615-2")  # an ISBN-10, printed as its ISBN-13
    image = pdfium.PdfDocument(sheet)[0].render(scale=300 / 72).to_pil().convert("L")
    found = [(s.type, s.data.decode()) for s in pyzbar.decode(image)]
    assert ("EAN13", "9780306406157") in found


def test_cover_in_pdf_x_1a_is_cmyk(tmp_path):
    _interior, sheet = cover(tmp_path, "isbn: 978-3-16-148410-0", "--pdf-variant", "pdf/x-1a")
    pdf = pikepdf.open(sheet)
    assert pdf.Root.OutputIntents[0].S == "/GTS_PDFX"
    for stream, _resources in content_streams(pdf):
        for instruction in pikepdf.parse_content_stream(stream):
            assert str(instruction.operator) not in RGB_OPERATORS
    for image in images(pdf):
        assert str(image.ColorSpace) in ("/DeviceCMYK", "/DeviceGray")


@pytest.mark.parametrize(
    ("extra", "key"),
    [("isbn: 978-3-16-148410-9", "isbn"), ("isbn: 12345", "isbn"), ("paper-caliper: thick", "paper-caliper")],
)
def test_a_bad_isbn_or_caliper_is_an_input_error(tmp_path, extra, key):
    source = cover_source(tmp_path, extra)
    run = dsr("build", str(source), "--to", "cover", "--out", str(tmp_path / "out"))
    assert run.status == 1, run.stderr
    line = source.read_text().splitlines().index(extra) + 1
    assert f"{source}:{line}: '{key}'" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_a_custom_output_profile_must_be_a_cmyk_profile(tmp_path):
    rgb = tmp_path / "screen.icc"
    rgb.write_bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    source = cover_source(tmp_path, "output-profile: screen.icc")
    run = dsr("build", str(source), "--to", "pdf", "--pdf-variant", "pdf/x-4", "--out", str(tmp_path / "out"))
    assert run.status == 1
    assert f"{rgb}: the output profile must be a CMYK printer profile" in run.stderr
    outside = cover_source(tmp_path, "output-profile: /etc/passwd")
    run = dsr("build", str(outside), "--to", "pdf", "--pdf-variant", "pdf/x-4", "--out", str(tmp_path / "out"))
    assert run.status == 1 and "'output-profile' points outside the source folder" in run.stderr
