"""Font metrics the DOCX styles need: a face's own single line, which Word multiplies for its line spacing."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from . import Theme

# A typical single line (em) for a face whose file cannot be found; only line spacing depends on it.
_TYPICAL = 1.2


@functools.cache
def single_line_em(path: Path) -> float:
    """The height of one line at "single" spacing, in em: Word and LibreOffice use the font's
    ascent plus descent (OS/2 winAscent + winDescent, else hhea ascender - descender + lineGap)."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), lazy=True)
    units = font["head"].unitsPerEm
    os2 = font.get("OS/2")
    if os2 is not None and os2.usWinAscent + os2.usWinDescent > 0:
        return (os2.usWinAscent + os2.usWinDescent) / units
    hhea = font["hhea"]
    return (hhea.ascent - hhea.descent + hhea.lineGap) / units


def face_file(theme: Theme, role: str) -> Path | None:
    """The regular face of a role's family: the packaged file, else the one fontconfig picks."""
    family = theme.tokens[f"fonts.{role}.family"]
    for face in theme.faces:
        if face.family == family and (face.weight, face.italic) == (400, False):
            return face.path
    if shutil.which("fc-match"):
        run = subprocess.run(["fc-match", "-f", "%{file}", f"{family}:style=Regular"],
                             capture_output=True, text=True, check=False)
        if run.returncode == 0 and run.stdout.strip().lower().endswith((".ttf", ".otf")):
            return Path(run.stdout.strip())
    return None


def word_multiple(theme: Theme, role: str, css_line_height: float) -> float:
    """Word's "multiple" line spacing that gives the CSS line height (in em) for the role's face."""
    path = face_file(theme, role)
    single = single_line_em(path) if path is not None else _TYPICAL
    return round(css_line_height / single, 3)
