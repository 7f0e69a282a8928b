"""Characters of a document that no font of the theme's chains (family and fallbacks) can draw."""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata

from . import fontchain, scripts
from .errors import Diagnostic
from .source import Source
from .theme import Theme

# Format and separator characters are never drawn, so no font needs them.
_UNDRAWN = {"Cc", "Cf", "Zl", "Zp", "Zs"}


def missing(text: str, theme: Theme, source: Source) -> list[Diagnostic]:
    """One warning per script and source line with characters no font of the chains draws."""
    needed = {c for c in set(text) if unicodedata.category(c) not in _UNDRAWN}
    uncovered = sorted(uncovered_by(theme, {ord(c) for c in needed}), key=lambda p: text.index(chr(p)))
    groups: dict[tuple[str, int | None], list[str]] = {}
    for point in uncovered:
        char = chr(point)
        code = scripts.script(char)
        groups.setdefault((code, source.line_of(char)), []).append(char)
    return [_warning(code, chars, theme, source, line) for (code, line), chars in groups.items()]


def _warning(code: str, chars: list[str], theme: Theme, source: Source, line: int | None) -> Diagnostic:
    first = chars[0]
    shown = "".join(chars[:8]) + ("..." if len(chars) > 8 else "")
    more = f" and {len(chars) - 1} more" if len(chars) > 1 else ""
    installed = installed_family(ord(first))
    fix = f"the font package {scripts.package(code)} covers it"
    if installed:
        fix += f" (installed here as {installed!r}: add that family to the theme's fallbacks)"
    else:
        fix += " (install it and add its family to the theme's fallbacks)"
    return Diagnostic(
        f"no configured font can draw {shown!r} ({scripts.name(code)} script; U+{ord(first):04X} "
        f"{unicodedata.name(first, 'unnamed character')}{more}); {fix}, or it may print as blank boxes",
        source.path,
        line,
        "missing-glyph",
        "warning",
    )


def uncovered_by(theme: Theme, points: set[int]) -> set[int]:
    """The code points in `points` that no family of the theme's chains draws.

    The packaged faces are read first and the installed fallbacks only while something is
    left uncovered, so a document the theme's own fonts cover costs no font lookups.
    """
    return fontchain.uncovered(theme, points)


@functools.cache
def installed_family(point: int) -> str | None:
    """An installed family (fontconfig) that draws `point`, if any."""
    if shutil.which("fc-list") is None:
        return None
    try:
        run = subprocess.run(["fc-list", f":charset={point:x}", "family"], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    names = sorted(line.split(",")[0].strip() for line in run.stdout.splitlines() if line.strip())
    return names[0] if names else None
