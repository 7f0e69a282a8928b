"""One frozen, typed configuration for a build: command-line flags over front matter over defaults."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

FORMATS = ("pdf", "epub", "docx", "html")
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
    allow_remote: bool = False  # fetch http(s) images and stylesheets (trusted sources only)


def parse_formats(spec: str) -> tuple[str, ...]:
    """`pdf,epub` -> ("pdf", "epub"); unknown names are a usage error."""
    wanted = [f.strip().lower() for f in spec.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise UsageError(f"unknown format '{','.join(unknown) or spec}'; choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(wanted))


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as an int, when set, so builds can be byte-identical."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not '{value}'")
    return int(value)
