"""A theme role's font chain: its family then its fallbacks, each with the files that draw it.

Fallback families are found with fontconfig and read only when a character needs them, so a
document the theme's own faces cover never looks one up.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .theme import ROLES, Theme

GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}


@dataclass(frozen=True)
class Face:
    """One font file (or one font of a collection) of a family, in one style."""

    family: str
    path: Path
    index: int
    weight: int
    italic: bool

    @property
    def style(self) -> tuple[int, bool]:
        return self.weight, self.italic


def chain(theme: Theme, role: str) -> tuple[str, ...]:
    """The families of `role`, in order, generic names left out."""
    names = (theme[f"fonts.{role}.family"], *theme[f"fonts.{role}.fallbacks"])
    return tuple(dict.fromkeys(n for n in names if n not in GENERIC))


def families(theme: Theme) -> tuple[str, ...]:
    """Every family of every role's chain, in order of first mention."""
    return tuple(dict.fromkeys(f for role in ROLES for f in chain(theme, role)))


def faces(theme: Theme, family: str) -> tuple[Face, ...]:
    """The regular, bold, italic and bold italic faces of `family`: packaged, else installed."""
    packaged = tuple(Face(f.family, f.path, 0, f.weight, f.italic) for f in theme.faces if f.family == family)
    return packaged or system_faces(family)


@functools.cache
def system_faces(family: str) -> tuple[Face, ...]:
    """The four usual faces of an installed family, from fontconfig (none without it)."""
    if shutil.which("fc-list") is None:
        return ()
    fmt = "%{file}|%{index}|%{weight}|%{slant}|%{family}\n"
    command = ["fc-list", f":family={family}", "--format", fmt]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    found: dict[tuple[int, bool], Face] = {}
    for line in sorted(out.splitlines()):
        path, index, weight, slant, names = (line.split("|") + [""] * 5)[:5]
        if family.lower() not in (n.strip().lower() for n in names.split(",")):
            continue
        # fontconfig weights: 80 regular, 200 bold; slant 0 roman, 100 italic, 110 oblique
        style = {"80": 400, "200": 700}.get(weight.strip()), slant.strip() in ("100", "110")
        if style[0] is not None and style not in found:
            found[style] = Face(family, Path(path), int(index or 0), style[0], style[1])  # type: ignore[arg-type]
    return tuple(found[k] for k in sorted(found))


@functools.cache
def cmap(face: Face) -> frozenset[int]:
    """The code points `face` draws."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        font = TTFont(str(face.path), lazy=True, fontNumber=face.index)
        return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, AssertionError):
        return frozenset()


def closest(options: Iterable[Face], weight: int, italic: bool) -> Face | None:
    """The face a reader picks for a style: same slant first, then the nearest weight."""
    ranked = sorted(options, key=lambda f: (f.italic != italic, abs(f.weight - weight)))
    return ranked[0] if ranked else None


def regular(theme: Theme, family: str) -> Face | None:
    return closest(faces(theme, family), 400, False)


def drawer(theme: Theme, role: str, point: int) -> str | None:
    """The first family of `role`'s chain whose upright face draws `point`."""
    for family in chain(theme, role):
        face = regular(theme, family)
        if face is not None and point in cmap(face):
            return family
    return None


def assign(theme: Theme, role: str, points: Iterable[int]) -> dict[str, set[int]]:
    """Family -> the code points of `points` it draws first in `role`'s chain."""
    out: dict[str, set[int]] = {}
    for point in points:
        family = drawer(theme, role, point)
        if family is not None:
            out.setdefault(family, set()).add(point)
    return out


def uncovered(theme: Theme, points: set[int]) -> set[int]:
    """The code points no family of any role's chain draws; installed fallbacks read only if needed."""
    left = set(points)
    for face in theme.faces:
        left -= cmap(Face(face.family, face.path, 0, face.weight, face.italic))
    for family in families(theme):
        face = regular(theme, family) if left else None
        if face is not None:
            left -= cmap(face)
    return left


def italic_gaps(theme: Theme, family: str) -> Iterator[tuple[Face, frozenset[int]]]:
    """Each slanted or bold face of a family with the code points its upright face has and it lacks."""
    upright = regular(theme, family)
    if upright is None:
        return
    for face in faces(theme, family):
        if face != upright:
            gap = cmap(upright) - cmap(face)
            if gap:
                yield face, gap


def ranges(points: Iterable[int]) -> str:
    """A CSS unicode-range for `points` ("U+41-5A, U+430")."""
    spans: list[list[int]] = []
    for point in sorted(points):
        if spans and point == spans[-1][1] + 1:
            spans[-1][1] = point
        else:
            spans.append([point, point])
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in spans)
