"""One frozen, typed configuration for a build: command-line flags over front matter over defaults."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

FORMATS = ("pdf", "epub", "docx", "html")  # what a build makes unless told otherwise
EXTRA_FORMATS = ("cover",)  # made only when asked for (--to cover)
# Each format's file ends in ".<format>", but for these.
SUFFIXES = {"cover": ".cover.pdf"}
DEFAULT_SOURCE = Path("source/digital-silk-road.md")
DEFAULT_OUT = Path("build")
DEFAULT_THEME = "default"


@dataclass(frozen=True)
class Options:
    """What the user asked for; anything left None falls back to front matter, then defaults."""

    formats: tuple[str, ...] = FORMATS
    out_dir: Path = DEFAULT_OUT
    csl: str | None = None
    bibliographies: tuple[Path, ...] = ()
    theme: str | None = None
    strict: bool = False
    build_time: int = field(default_factory=lambda: source_date_epoch() or int(time.time()))
    page_size: str | None = None  # "A4", "Letter", "156mm 234mm"; None: the theme's
    crop_marks: bool = False      # crop marks and 3 mm bleed on every PDF page
    pdf_variant: str | None = None  # WeasyPrint's PDF variant; None: PDF/UA-1
    contents: bool = False        # a table of contents with page numbers in the PDF
    jobs: int = 1  # processes a build may use at once (formats of one source, or sources of a batch)
    force: bool = False  # rebuild even when the recorded inputs are unchanged
    allow_remote: bool = False  # fetch http(s) images and stylesheets (trusted sources only)
    docx_citations: str | None = None  # "fields" (live Zotero fields) or "text"; None: front matter, else fields
    root: Path | None = None  # a folder the front matter's paths may name files in, besides the source's


def parse_formats(spec: str) -> tuple[str, ...]:
    """`pdf,epub` -> ("pdf", "epub"); unknown names are a usage error."""
    wanted = [f.strip().lower() for f in spec.split(",") if f.strip()]
    known = (*FORMATS, *EXTRA_FORMATS)
    unknown = [f for f in wanted if f not in known]
    if unknown or not wanted:
        raise UsageError(f"unknown format '{','.join(unknown) or spec}'; choose from {', '.join(known)}")
    return tuple(dict.fromkeys(wanted))


def suffix(fmt: str) -> str:
    """How the file of a format ends: `.pdf`, ..., `.cover.pdf`."""
    return SUFFIXES.get(fmt, f".{fmt}")


def format_of(path: Path) -> str:
    """The format an output file is of, from its name."""
    return next((fmt for fmt, end in SUFFIXES.items() if path.name.endswith(end)), path.suffix[1:])


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as an int, when set, so builds can be byte-identical."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not '{value}'")
    return int(value)


def parse_page_size(spec: str) -> str:
    """`A5`, `letter`, `156x234mm`, `156mmx234mm` or `156mm 234mm` -> a theme page size."""
    from .theme import page_size_mm

    text = spec.strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:mm)?\s*[x\u00d7 ]\s*(\d+(?:\.\d+)?)\s*mm", text, re.IGNORECASE)
    size = f"{match[1]}mm {match[2]}mm" if match else text
    try:
        page_size_mm(size)
    except ValueError:
        raise UsageError(f"unknown page size '{spec}'; use A4, A5, Letter, B5 or WIDTHxHEIGHTmm") from None
    return size


# PDF/X variants WeasyPrint would only label (no colour conversion): refused rather than written.
UNSUPPORTED_VARIANTS = frozenset({"pdf/x-3", "pdf/x-5g", "debug"})


def pdf_variants() -> tuple[str, ...]:
    """Every PDF variant a build can write honestly: WeasyPrint's PDF/A and PDF/UA, and our PDF/X."""
    from weasyprint.pdf import VARIANTS

    from .writers.pdf_x import VARIANTS as PRINT_VARIANTS

    return tuple(dict.fromkeys([*(v for v in VARIANTS if v not in UNSUPPORTED_VARIANTS), *PRINT_VARIANTS]))


def parse_pdf_variant(name: str) -> str:
    """A PDF variant we can write (`pdf/ua-1`, `pdf/a-3a`, `pdf/x-4`, ...); others are a usage error."""
    wanted = name.strip().lower()
    choices = pdf_variants()
    if wanted not in choices:
        raise UsageError(f"unknown or unsupported PDF variant '{name}'; choose from {', '.join(choices)}")
    return wanted


def available_cores() -> int:
    """The cores this process may run on (the default for --jobs)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
