"""Characters of a document that none of the theme's fonts (nor their named fallbacks) can draw."""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata
from pathlib import Path

from .errors import Diagnostic
from .source import Source
from .theme import Theme

# Format and separator characters are never drawn, so no font needs them.
_UNDRAWN = {"Cc", "Cf", "Zl", "Zp", "Zs"}


def missing(text: str, theme: Theme, source: Source) -> list[Diagnostic]:
    """One warning per character of `text` that no configured font has, naming its source line."""
    needed = {c for c in set(text) if unicodedata.category(c) not in _UNDRAWN}
    uncovered = sorted(uncovered_by(theme, {ord(c) for c in needed}))
    return [
        Diagnostic(
            f"no configured font can draw {chr(point)!r} (U+{point:04X} "
            f"{unicodedata.name(chr(point), 'unnamed character')}); it will print as a blank box",
            source.path,
            source.line_of(chr(point)),
            "missing-glyph",
            "warning",
        )
        for point in sorted(uncovered, key=lambda p: text.index(chr(p)))
    ]


def uncovered_by(theme: Theme, points: set[int]) -> set[int]:
    """The code points in `points` that neither the theme's packaged faces nor its fallbacks draw.

    The packaged faces are read first and the installed fallbacks only while something is
    left uncovered, so a document the theme's own fonts cover costs no font lookups.
    """
    left = set(points)
    for path in (face.path for face in theme.faces):
        left -= _cmap(path)
    for role in ("body", "heading", "mono"):
        for family in (theme[f"fonts.{role}.family"], *theme[f"fonts.{role}.fallbacks"]):
            for path in _system_files(family) if left else ():
                left -= _cmap(path)
    return left


@functools.cache
def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            fonts = list(TTCollection(str(path), lazy=True))
        else:
            fonts = [TTFont(str(path), lazy=True)]
        return frozenset(cp for font in fonts for cp in font.getBestCmap() or {})
    except (OSError, TTLibError, AssertionError):
        return frozenset()


_GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}


@functools.cache
def _system_files(family: str) -> tuple[Path, ...]:
    """The installed files of `family` (a generic name: the face fontconfig picks for it)."""
    if shutil.which("fc-list") is None:
        return ()
    if family in _GENERIC:
        command = ["fc-match", "--format=%{file}", family]
    else:
        command = ["fc-list", f":family={family}", "file"]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    paths = (line.strip().rstrip(":") for line in out.splitlines())
    return tuple(sorted(Path(p) for p in paths if p))
