"""PDF/X for print shops: the output intent, the page boxes and every colour in the printing condition.

A named step of the PDF writer, run on the laid-out PDF with pikepdf. Colours are
converted by littleCMS (Pillow's ImageCms) from sRGB, the colour space of the
theme and of screen images, into the output profile's CMYK; neutral greys become
DeviceGray, so black text prints on the black plate alone.
"""

from __future__ import annotations

import functools
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Operator
from PIL import Image, ImageCms

from ..errors import DsrError
from ..sandbox import author_path, read_bytes
from ..source import Source

# The variants written here, with the PDF version each is based on.
VARIANTS = {"pdf/x-1a": "1.4", "pdf/x-4": "1.6"}
# The default printing condition: SWOP coated (CGATS TR 001), characterised by the CMYK output
# profile Ghostscript ships (Debian's libgs-common, AGPL-3), the only one in Debian's main archive.
DEFAULT_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
DEFAULT_CONDITION = "CGATS TR 001"
DEFAULT_CONDITION_NAME = "SWOP (Publication) Grade 1 paper, coated"
REGISTRY = "http://www.color.org"


@dataclass(frozen=True)
class PrintCondition:
    """The printing condition a PDF/X file is made for: its characterisation and its names."""

    profile: bytes
    identifier: str = DEFAULT_CONDITION
    name: str = DEFAULT_CONDITION_NAME
    registry: str = REGISTRY

    @property
    def description(self) -> str:
        """The profile's own description (its `desc` tag), for the output intent's /Info."""
        return ImageCms.getProfileDescription(self._cms).strip() or self.name

    @functools.cached_property
    def _cms(self) -> ImageCms.ImageCmsProfile:
        return ImageCms.ImageCmsProfile(io.BytesIO(self.profile))

    @functools.cached_property
    def lab_transform(self) -> ImageCms.ImageCmsTransform:
        """CIE L*a*b* (D50) -> this condition's CMYK."""
        return ImageCms.buildTransform(
            ImageCms.createProfile("LAB", 5000), self._cms, "LAB", "CMYK",
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        )

    @functools.cached_property
    def transform(self) -> ImageCms.ImageCmsTransform:
        """sRGB -> this condition's CMYK, relative colorimetric with black point compensation."""
        return ImageCms.buildTransform(
            ImageCms.createProfile("sRGB"), self._cms, "RGB", "CMYK",
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
        )


def profile_path(source: Source, root: Path | None = None) -> Path | None:
    """The ICC file the front matter names as `output-profile`, inside the build's root (the source's folder)."""
    value = source.front_matter.get("output-profile")
    if value is None:
        return None
    line = source.line_of_pattern(re.compile(r"^output-profile\s*:", re.MULTILINE))
    if not isinstance(value, str) or not value.strip():
        raise DsrError("'output-profile' must be the path of an ICC file", path=source.path, line=line)
    return author_path(source.path, "output-profile", value, line, root)


def condition_for(source: Source, root: Path | None = None) -> PrintCondition:
    """The printing condition the front matter asks for (`output-profile`, `output-condition`), or the default."""
    identifier = source.front_matter.get("output-condition")
    return load_condition(profile_path(source, root), str(identifier) if identifier else None)


def load_condition(profile: Path | None = None, identifier: str | None = None) -> PrintCondition:
    """The printing condition from an ICC file (a CMYK output profile), or the default one."""
    path = profile or DEFAULT_PROFILE
    if profile is None and not path.is_file():
        raise DsrError("cannot read the output profile: it is not installed (tools/setup-system build installs it)",
                       path=path)
    data = read_bytes(path, "output profile", image=True)  # a regular file of bounded size, or a DsrError
    if len(data) < 128 or data[36:40] != b"acsp":
        raise DsrError("the output profile is not an ICC profile", path=path)
    if data[16:20] != b"CMYK" or data[12:16] != b"prtr":
        raise DsrError("the output profile must be a CMYK printer profile (ICC class 'prtr', colour space CMYK)",
                       path=path)
    try:  # littleCMS must be able to use it, or the conversion fails later as an OSError
        ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (OSError, ImageCms.PyCMSError) as exc:
        raise DsrError(f"the output profile cannot be used: {exc}", path=path) from None
    if profile is None:
        return PrintCondition(data)
    return PrintCondition(data, identifier or "Custom", identifier or path.stem)


def conform(data: bytes, variant: str, condition: PrintCondition) -> bytes:
    """The PDF `data` made a PDF/X file of `variant` for `condition` (tags and metadata kept)."""
    pdf = pikepdf.open(io.BytesIO(data))
    x1a = variant == "pdf/x-1a"
    converter = _Converter(pdf, condition, x1a)
    for page in pdf.pages:
        _boxes(page)
        converter.page(page)
        converter.group(page.obj)
    if problems := uses_rgb(pdf) + _unembedded_fonts(pdf) + (transparency(pdf) if x1a else []):
        raise DsrError(f"cannot make {variant.upper()}: " + "; ".join(sorted(set(problems))[:5]))
    _output_intent(pdf, condition)
    _identify(pdf, variant)
    out = io.BytesIO()
    pdf.save(
        out, force_version=VARIANTS[variant], deterministic_id=True, compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.disable if x1a else pikepdf.ObjectStreamMode.preserve,
    )
    return out.getvalue()


def _boxes(page: pikepdf.Page) -> None:
    """TrimBox and BleedBox on every page, nested in the MediaBox (WeasyPrint sets them with a bleed)."""
    media = [Decimal(str(v)) for v in page.obj.MediaBox]
    bleed = [Decimal(str(v)) for v in page.obj.get("/BleedBox", media)]
    trim = [Decimal(str(v)) for v in page.obj.get("/TrimBox", bleed)]
    bleed = [max(bleed[0], media[0]), max(bleed[1], media[1]), min(bleed[2], media[2]), min(bleed[3], media[3])]
    page.obj.BleedBox = Array(bleed)
    page.obj.TrimBox = Array(
        [max(trim[0], bleed[0]), max(trim[1], bleed[1]), min(trim[2], bleed[2]), min(trim[3], bleed[3])]
    )


class _Converter:
    """Rewrites every colour of a document into the printing condition, each object once."""

    def __init__(self, pdf: pikepdf.Pdf, condition: PrintCondition, x1a: bool) -> None:
        self.pdf, self.condition, self.x1a = pdf, condition, x1a
        self.done: set[tuple[int, int]] = set()
        self._srgb: pikepdf.Stream | None = None

    def page(self, page: pikepdf.Page) -> None:
        page.contents_coalesce()
        self.stream(page.obj.Contents, page.obj.get("/Resources", Dictionary()))
        for annot in page.obj.get("/Annots", []):
            for appearance in annot.get("/AP", Dictionary()).values():
                for stream in appearance.values() if isinstance(appearance, Dictionary) else [appearance]:
                    if isinstance(stream, pikepdf.Stream):
                        self.stream(stream, stream.get("/Resources", Dictionary()))

    def stream(self, stream: pikepdf.Stream, resources: pikepdf.Dictionary) -> None:
        """One content stream and everything its resources draw."""
        if self._seen(stream):
            return
        spaces = self.converted_spaces(resources)
        instructions = [self._instruction(i, kind, spaces) for i, kind in _with_colour_state(stream, spaces)]
        if self.x1a:
            instructions = _without_alpha(instructions, resources.get("/ExtGState", Dictionary()))
        stream.write(pikepdf.unparse_content_stream(instructions))
        self.resources(resources)

    def resources(self, resources: pikepdf.Dictionary) -> None:
        for xobject in resources.get("/XObject", {}).values():
            if self._seen(xobject):
                continue
            if xobject.get("/Subtype") == "/Form":
                self.done.discard(xobject.objgen)
                self.stream(xobject, xobject.get("/Resources", Dictionary()))
                self.group(xobject)
            elif xobject.get("/Subtype") == "/Image":
                self.image(xobject)
        for pattern in resources.get("/Pattern", {}).values():
            if isinstance(pattern, pikepdf.Stream):  # a tiling pattern draws content of its own
                self.stream(pattern, pattern.get("/Resources", Dictionary()))
            elif "/Shading" in pattern:
                self.shading(pattern.Shading)
        for shading in resources.get("/Shading", {}).values():
            self.shading(shading)
        if self.x1a:  # every alpha is 0 or 1 and has been drawn as such: the states are opaque now
            for state in resources.get("/ExtGState", {}).values():
                for key in ("/ca", "/CA"):
                    _drop(state, key)
        for name in self.converted_spaces(resources):
            resources.ColorSpace[name] = Name.DeviceCMYK  # its colours are CMYK now
        for font in resources.get("/Font", {}).values():
            if font.get("/Subtype") == "/Type3" and "/Resources" in font:
                for proc in font.CharProcs.values():
                    self.done.discard(proc.objgen)
                    self.stream(proc, font.Resources)

    def converted_spaces(self, resources: pikepdf.Dictionary) -> dict[str, str]:
        """Named colour spaces whose colours become CMYK: RGB ones, and in X-1a Lab ones too."""
        kinds = {name: _kind(space) for name, space in resources.get("/ColorSpace", {}).items()}
        return {name: kind for name, kind in kinds.items() if kind == "rgb" or (kind == "lab" and self.x1a)}

    def group(self, obj: pikepdf.Object) -> None:
        """X-1a has no transparency groups; in X-4 a group blends in the printing condition's CMYK."""
        if "/Group" not in obj:
            return
        if self.x1a:
            del obj["/Group"]
        elif _is_rgb(obj.Group.get("/CS", Name.DeviceGray)):
            obj.Group.CS = Name.DeviceCMYK

    def image(self, image: pikepdf.Stream) -> None:
        space = image.get("/ColorSpace")
        if space is None or not _is_rgb(space):
            return
        picture = pikepdf.PdfImage(image).as_pil_image().convert("RGB")
        if self.x1a:
            if "/SMask" in image:  # flatten on the paper: X-1a has no transparency
                alpha = pikepdf.PdfImage(image.SMask).as_pil_image().convert("L").resize(picture.size)
                paper = Image.new("RGB", picture.size, "white")
                picture = Image.composite(picture, paper, alpha)
                del image["/SMask"]
            cmyk = ImageCms.applyTransform(picture, self.condition.transform)
            image.write(zlib.compress(cmyk.tobytes()), filter=Name.FlateDecode)
            image.ColorSpace = Name.DeviceCMYK
        else:  # X-4 keeps RGB pictures, characterised as sRGB for the printer's own conversion
            image.write(zlib.compress(picture.tobytes()), filter=Name.FlateDecode)
            image.ColorSpace = Array([Name.ICCBased, self.srgb])
        image.BitsPerComponent = 8
        for key in ("/Decode", "/DecodeParms", "/Interpolate"):
            _drop(image, key)

    def shading(self, shading: pikepdf.Object) -> None:
        if self._seen(shading) or not _is_rgb(shading.get("/ColorSpace", Name.DeviceGray)):
            return
        function = shading.get("/Function")
        if not isinstance(function, Dictionary) or function.get("/FunctionType") != 2:
            raise DsrError("cannot convert an RGB gradient of this kind to the printing condition")
        for key in ("/C0", "/C1"):
            values = [float(v) for v in function.get(key, [0, 0, 0] if key == "/C0" else [1, 1, 1])]
            function[key] = Array(self.cmyk(values))
        shading.ColorSpace = Name.DeviceCMYK

    @property
    def srgb(self) -> pikepdf.Stream:
        if self._srgb is None:
            profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
            self._srgb = pikepdf.Stream(self.pdf, profile)
            self._srgb.N = 3
        return self._srgb

    def cmyk(self, values: list[float], kind: str = "rgb") -> list[float]:
        return list(_cmyk(self.condition, kind, tuple(round(v, 4) for v in values)))

    def _instruction(self, instruction: Any, kind: str | None, spaces: dict[str, str]) -> Any:
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            if str(instruction.iimage.obj.get("/ColorSpace", instruction.iimage.obj.get("/CS", ""))) in (
                "/RGB", "/DeviceRGB"
            ):
                raise DsrError("cannot convert an inline RGB image to the printing condition")
            return instruction
        operands, op = instruction.operands, str(instruction.operator)
        if op in ("rg", "RG"):
            return self._colour(operands, stroke=op == "RG")
        if op in ("cs", "CS") and (str(operands[0]) == "/DeviceRGB" or str(operands[0]) in spaces):
            return pikepdf.ContentStreamInstruction([Name.DeviceCMYK], Operator(op))
        if op in ("sc", "scn", "SC", "SCN") and kind and len(operands) == 3:
            return pikepdf.ContentStreamInstruction(self.cmyk([float(v) for v in operands], kind), Operator(op))
        return instruction

    def _colour(self, operands: Any, stroke: bool) -> pikepdf.ContentStreamInstruction:
        r, g, b = (float(v) for v in operands)
        if r == g == b:  # a neutral: the black plate only
            return pikepdf.ContentStreamInstruction([r], Operator("G" if stroke else "g"))
        return pikepdf.ContentStreamInstruction(self.cmyk([r, g, b]), Operator("K" if stroke else "k"))

    def _seen(self, obj: pikepdf.Object) -> bool:
        if not obj.is_indirect:
            return False
        if obj.objgen in self.done:
            return True
        self.done.add(obj.objgen)
        return False


# Painting operators without their fill or their stroke, for paint that is fully transparent.
_NO_FILL = {"f": "n", "F": "n", "f*": "n", "B": "S", "B*": "S", "b": "s", "b*": "s"}
_NO_STROKE = {"S": "n", "s": "n", "B": "f", "B*": "f*", "b": "f", "b*": "f*"}


def _without_alpha(instructions: list[Any], states: pikepdf.Dictionary) -> list[Any]:
    """Paint with alpha 0 left out and alpha 1 kept: the only transparency X-1a can flatten exactly."""
    fill = stroke = 1.0
    saved: list[tuple[float, float]] = []
    result = []
    for instruction in instructions:
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            result.append(instruction)
            continue
        op = str(instruction.operator)
        if op == "q":
            saved.append((fill, stroke))
        elif op == "Q" and saved:
            fill, stroke = saved.pop()
        elif op == "gs":
            state = states.get(str(instruction.operands[0]), Dictionary())
            fill, stroke = float(state.get("/ca", fill)), float(state.get("/CA", stroke))
            if fill not in (0, 1) or stroke not in (0, 1):
                raise DsrError("cannot make PDF/X-1A: the page has partly transparent paint; use pdf/x-4")
        if fill == 0 and op in _NO_FILL:
            op = _NO_FILL[op]
        if stroke == 0 and op in _NO_STROKE:
            op = _NO_STROKE[op]
        if fill == 0 and op in ("Tj", "TJ", "'", '"', "sh"):
            continue  # invisible text or shading: not drawn at all
        if op != str(instruction.operator):
            instruction = pikepdf.ContentStreamInstruction(instruction.operands, Operator(op))
        result.append(instruction)
    return result


def _drop(obj: pikepdf.Object, key: str) -> None:
    if key in obj:
        del obj[key]


def _with_colour_state(stream: pikepdf.Object, spaces: dict[str, str]) -> Iterator[tuple[Any, str | None]]:
    """Each instruction with the kind of converted colour space ("rgb", "lab") it sets colours in, if any."""

    def kind(name: Any) -> str | None:
        return "rgb" if str(name) == "/DeviceRGB" else spaces.get(str(name))

    fill: str | None = None
    stroke: str | None = None
    saved: list[tuple[str | None, str | None]] = []
    for instruction in pikepdf.parse_content_stream(stream):
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            yield instruction, None
            continue
        op = str(instruction.operator)
        if op == "q":
            saved.append((fill, stroke))
        elif op == "Q" and saved:
            fill, stroke = saved.pop()
        elif op == "cs":
            fill = kind(instruction.operands[0])
        elif op == "CS":
            stroke = kind(instruction.operands[0])
        elif op in ("g", "k", "rg"):
            fill = None
        elif op in ("G", "K", "RG"):
            stroke = None
        yield instruction, (stroke if op in ("SC", "SCN") else fill)


def _kind(space: Any) -> str | None:
    """"rgb" or "lab" for the colour spaces a printing condition may need converted, else None."""
    if _is_rgb(space):
        return "rgb"
    if isinstance(space, Array) and len(space) >= 1 and str(space[0]) == "/Lab":
        return "lab"
    return None


def _is_rgb(space: Any) -> bool:
    """DeviceRGB, CalRGB, or an ICC-based space with three components."""
    if isinstance(space, (Name, str)):
        return str(space) in ("/DeviceRGB", "/RGB", "/CalRGB")
    if isinstance(space, Array) and len(space) >= 1:
        family = str(space[0])
        if family == "/CalRGB":
            return True
        if family == "/ICCBased":
            return int(space[1].get("/N", 0)) == 3
        if family == "/Indexed":
            return _is_rgb(space[1])
    return False


@functools.lru_cache(maxsize=4096)
def _cmyk(condition: PrintCondition, kind: str, values: tuple[float, ...]) -> tuple[float, ...]:
    if kind == "lab":  # L* 0..100, a* and b* around 0, as Pillow's 8-bit LAB holds them
        l_star, a_star, b_star = values
        bytes_ = (round(l_star * 2.55), round(a_star) + 128, round(b_star) + 128)
        pixel = Image.new("LAB", (1, 1), tuple(max(0, min(255, v)) for v in bytes_))
        converted = ImageCms.applyTransform(pixel, condition.lab_transform).getpixel((0, 0))
    else:
        pixel = Image.new("RGB", (1, 1), tuple(max(0, min(255, round(v * 255))) for v in values))
        converted = ImageCms.applyTransform(pixel, condition.transform).getpixel((0, 0))
    return tuple(round(v / 255, 4) for v in converted)


def uses_rgb(pdf: pikepdf.Pdf) -> list[str]:
    """Every place the document still paints in RGB: operators, colour spaces, images."""
    found: list[str] = []
    for number, page in enumerate(pdf.pages, start=1):
        for stream, resources in _streams(page):
            for instruction in pikepdf.parse_content_stream(stream):
                if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                    continue
                op = str(instruction.operator)
                if op in ("rg", "RG") or (op in ("cs", "CS") and str(instruction.operands[0]) == "/DeviceRGB"):
                    found.append(f"page {number}: RGB colour operator '{op}'")
            for name, space in resources.get("/ColorSpace", {}).items():
                if _is_rgb(space):
                    found.append(f"page {number}: RGB colour space {name}")
            for name, xobject in resources.get("/XObject", {}).items():
                if xobject.get("/Subtype") == "/Image" and _is_rgb(xobject.get("/ColorSpace", Name.DeviceGray)):
                    space = xobject.ColorSpace
                    if not (isinstance(space, Array) and str(space[0]) == "/ICCBased"):
                        found.append(f"page {number}: RGB image {name}")
    return found


def transparency(pdf: pikepdf.Pdf) -> list[str]:
    """Every transparency PDF/X-1a forbids: soft masks, alpha below 1, blend modes, groups."""
    found: list[str] = []
    for number, page in enumerate(pdf.pages, start=1):
        if "/Group" in page.obj:
            found.append(f"page {number}: transparency group")
        for _stream, resources in _streams(page):
            for name, state in resources.get("/ExtGState", {}).items():
                if float(state.get("/CA", 1)) < 1 or float(state.get("/ca", 1)) < 1:
                    found.append(f"page {number}: transparent graphics state {name}")
                if str(state.get("/SMask", "/None")) != "/None":
                    found.append(f"page {number}: soft mask in {name}")
                if str(state.get("/BM", "/Normal")) not in ("/Normal", "/Compatible"):
                    found.append(f"page {number}: blend mode in {name}")
            for name, xobject in resources.get("/XObject", {}).items():
                if "/SMask" in xobject or "/Group" in xobject:
                    found.append(f"page {number}: transparent object {name}")
    return found


def _unembedded_fonts(pdf: pikepdf.Pdf) -> list[str]:
    found: list[str] = []
    for number, page in enumerate(pdf.pages, start=1):
        for _stream, resources in _streams(page):
            for name, font in resources.get("/Font", {}).items():
                if font.get("/Subtype") == "/Type3":
                    continue
                descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                descriptor = descendant.get("/FontDescriptor", Dictionary())
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    found.append(f"page {number}: font {font.get('/BaseFont', name)} is not embedded")
    return found


def _streams(page: pikepdf.Page) -> Iterator[tuple[pikepdf.Object, pikepdf.Dictionary]]:
    """The page's content and every form it draws, each with its resources."""
    resources = page.obj.get("/Resources", Dictionary())
    yield page.obj.Contents, resources
    stack, seen = [resources], set()
    while stack:
        current = stack.pop()
        for xobject in current.get("/XObject", {}).values():
            if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                inner = xobject.get("/Resources", Dictionary())
                yield xobject, inner
                stack.append(inner)


def _output_intent(pdf: pikepdf.Pdf, condition: PrintCondition) -> None:
    profile = pikepdf.Stream(pdf, condition.profile)
    profile.N = 4
    pdf.Root.OutputIntents = Array([
        Dictionary(
            Type=Name.OutputIntent,
            S=Name.GTS_PDFX,
            OutputConditionIdentifier=condition.identifier,
            OutputCondition=condition.name,
            RegistryName=condition.registry,
            Info=condition.description,
            DestOutputProfile=profile,
        )
    ])


def _identify(pdf: pikepdf.Pdf, variant: str) -> None:
    """The PDF/X version in the document information and the XMP, and /Trapped (no trapping done)."""
    version = "PDF/X-1a:2003" if variant == "pdf/x-1a" else "PDF/X-4"
    pdf.docinfo[Name.Trapped] = Name("/False")
    if variant == "pdf/x-1a":
        pdf.docinfo[Name.GTS_PDFXVersion] = version
        pdf.docinfo[Name.GTS_PDFXConformance] = version
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["pdf:Trapped"] = "False"
        meta["pdfxid:GTS_PDFXVersion"] = version
        if variant == "pdf/x-1a":
            meta["pdfx:GTS_PDFXVersion"] = version
            meta["pdfx:GTS_PDFXConformance"] = version
