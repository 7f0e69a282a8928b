"""Design tokens (styles/NAME.toml) -> the CSS for print and screen and the DOCX styles."""

from __future__ import annotations

import difflib
import functools
import importlib.util
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DsrError
from ..sandbox import is_file, read_text

STYLES_DIR = Path(__file__).resolve().parents[3] / "styles"
TEMPLATES = Path(__file__).resolve().parent

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_PAGE_SIZES = {"A4": (210, 297), "A5": (148, 210), "LETTER": (215.9, 279.4), "B5": (176, 250)}

# Every token a theme may set, with its kind. A theme must set all of them.
SCHEMA: dict[str, str] = {
    "name": "text",
    "description": "text",
    "fonts.body.family": "text",
    "fonts.body.package": "package?",
    "fonts.body.fallbacks": "list",
    "fonts.heading.family": "text",
    "fonts.heading.package": "package?",
    "fonts.heading.fallbacks": "list",
    "fonts.mono.family": "text",
    "fonts.mono.package": "package?",
    "fonts.mono.fallbacks": "list",
    "type.base-size": "number",
    "type.scale": "number",
    "type.line-height": "number",
    "type.small": "number",
    "type.mono": "number",
    "colours.text": "colour",
    "colours.muted": "colour",
    "colours.link": "colour",
    "colours.rule": "colour",
    "colours.accent": "colour",
    "paragraph.space-after": "number",
    "paragraph.first-line-indent": "number",
    "headings.weight": "number",
    "headings.h1": "number",
    "headings.h2": "number",
    "headings.h3": "number",
    "headings.space-before": "number",
    "headings.space-after": "number",
    "headings.align": "align",
    "headings.line-height": "number",
    "blockquote.indent": "number",
    "blockquote.space": "number",
    "blockquote.style": "fontstyle",
    "bibliography.hanging-indent": "number",
    "bibliography.space-after": "number",
    "page.size": "pagesize",
    "page.margin-top": "number",
    "page.margin-bottom": "number",
    "page.margin-inner": "number",
    "page.margin-outer": "number",
    "layout.block-space": "number",
    "layout.section-space": "number",
    "layout.rule-width": "number",
    "layout.cell-padding": "number",
    "screen.measure": "number",
    "screen.margin": "number",
}

ROLES = ("body", "heading", "mono")
# The names a licence file goes by in a font package.
_LICENCE_NAMES = ("LICENSE*", "LICENCE*", "OFL*", "APACHE*", "COPYING*")


@dataclass(frozen=True)
class FontFace:
    family: str
    path: Path
    weight: int
    italic: bool


@dataclass(frozen=True)
class Theme:
    """A validated set of tokens, and the font files they name."""

    name: str
    path: Path
    tokens: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.tokens[key]

    @property
    def page_mm(self) -> tuple[float, float]:
        return page_size_mm(self.tokens["page.size"])

    def heading_pt(self, level: int) -> float:
        """Heading size in points: the base size raised `steps` times by the scale."""
        steps = self.tokens.get(f"headings.h{level}", 0) if level <= 3 else 0
        return round(self.tokens["type.base-size"] * self.tokens["type.scale"] ** steps, 2)

    def stack(self, role: str) -> str:
        """A CSS font-family list: the family, then its fallbacks."""
        names = [self.tokens[f"fonts.{role}.family"], *self.tokens[f"fonts.{role}.fallbacks"]]
        generic = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}
        return ", ".join(n if n in generic else f'"{n}"' for n in names)

    @functools.cached_property
    def faces(self) -> tuple[FontFace, ...]:
        """The regular, bold, italic and bold italic files of each packaged family."""
        found: list[FontFace] = []
        for role in ROLES:
            package = self.tokens.get(f"fonts.{role}.package")
            if package:
                found.extend(_package_faces(self.tokens[f"fonts.{role}.family"], package))
        return tuple(dict.fromkeys(found))

    @functools.cached_property
    def licences(self) -> tuple[Path, ...]:
        """The licence files of the packaged fonts, to ship beside the fonts (e.g. in an EPUB)."""
        folders = dict.fromkeys(face.path.parent for face in self.faces)
        found = [p for d in folders for pattern in _LICENCE_NAMES for p in sorted(d.glob(pattern))]
        return tuple(dict.fromkeys(found))

    def css(self, media: str, font_url: Callable[[FontFace], str] = lambda f: f.path.as_uri()) -> str:
        """The stylesheet for `media` ("print" or "screen"), built from the templates.

        `font_url` says where each font file is found from the stylesheet: a file URI
        for print, a path inside the package for EPUB.
        """
        parts = [render(TEMPLATES / name, self, font_url) for name in ("base.css", f"{media}.css")]
        return "\n".join(parts)


def page_size_mm(size: str) -> tuple[float, float]:
    named = _PAGE_SIZES.get(size.upper())
    if named:
        return named
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)mm\s+(\d+(?:\.\d+)?)mm\s*", size)
    if not match:
        raise ValueError(size)
    return float(match[1]), float(match[2])


# File-name endings of the four faces, as font packages spell them (Adobe: "It", Google: "Italic").
_STYLES = {
    (400, False): ("Regular",),
    (700, False): ("Bold",),
    (400, True): ("It", "Italic"),
    (700, True): ("BoldIt", "BoldItalic"),
}


def _package_faces(family: str, package: str) -> list[FontFace]:
    spec = importlib.util.find_spec(package)
    folder = Path(spec.origin).parent / "files"  # type: ignore[union-attr, arg-type]
    faces = []
    for (weight, italic), names in _STYLES.items():
        patterns = [f"*-{name}{suffix}" for name in names for suffix in (".ttf", ".otf")]
        hits = [path for pattern in patterns for path in sorted(folder.glob(pattern))]
        if hits:
            faces.append(FontFace(family, hits[0], weight, italic))
    return faces


@functools.cache
def installed_families() -> frozenset[str]:
    """Font families fontconfig knows on this system (lower case); empty without fontconfig."""
    if not shutil.which("fc-list"):
        return frozenset()
    run = subprocess.run(["fc-list", ":", "family"], check=False, capture_output=True, text=True)
    out = run.stdout
    return frozenset(name.strip().lower() for line in out.splitlines() for name in line.split(","))


def _font_problems(tokens: dict[str, Any]) -> list[str]:
    """Each named family must be found: in its font package, else installed on the system."""
    problems = []
    for role in ROLES:
        family, package = tokens.get(f"fonts.{role}.family"), tokens.get(f"fonts.{role}.package")
        if not isinstance(family, str) or (package and importlib.util.find_spec(package) is None):
            continue  # already reported as a bad value
        if package:
            faces = _package_faces(family, package)
            if not any((f.weight, f.italic) == (400, False) for f in faces):
                problems.append(
                    f"'fonts.{role}.package': {package!r} has no regular face of {family!r}"
                )
        elif family.lower() not in installed_families():
            problems.append(
                f"'fonts.{role}.family': font {family!r} is not installed and names no font package"
            )
    return problems


def available() -> list[str]:
    return sorted(p.stem for p in STYLES_DIR.glob("*.toml"))


def load(spec: str) -> Theme:
    """A theme by name (styles/NAME.toml) or by path to a .toml file."""
    path = Path(spec)
    if not (spec.endswith(".toml") or "/" in spec or is_file(path)):
        path = STYLES_DIR / f"{spec}.toml"
        if not is_file(path):
            close = difflib.get_close_matches(spec, available(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; themes: {', '.join(available())}"
            raise DsrError(f"unknown theme '{spec}'{hint}")
    try:
        raw = tomllib.loads(read_text(path, "theme"))  # a regular file of bounded size, or a DsrError
    except tomllib.TOMLDecodeError as exc:
        raise DsrError(f"malformed theme: {exc}", path=path) from None
    return Theme(name=str(raw.get("name", path.stem)), path=path, tokens=validate(_flatten(raw), path))


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def validate(tokens: dict[str, Any], path: Path) -> dict[str, Any]:
    """Check every token; report all problems at once, each naming its key."""
    problems = []
    for key in tokens:
        if key not in SCHEMA:
            close = difflib.get_close_matches(key, list(SCHEMA), n=1)
            problems.append(f"unknown token '{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    for key, kind in SCHEMA.items():
        if key not in tokens:
            if not kind.endswith("?"):
                problems.append(f"missing token '{key}'")
            continue
        problem = _check(kind.rstrip("?"), tokens[key])
        if problem:
            problems.append(f"'{key}': {problem}")
    problems += _font_problems(tokens)
    if problems:
        raise DsrError("theme error: " + "; ".join(problems), path=path)
    return tokens


def _check(kind: str, value: Any) -> str | None:
    if kind == "text":
        return None if isinstance(value, str) and value else "must be a non-empty string"
    if kind == "list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else "must be a list of font family names"
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        return None if ok else f"must be a number, not {value!r}"
    if kind == "colour":
        return None if isinstance(value, str) and _COLOUR.match(value) else f"bad colour {value!r} (use #rrggbb)"
    if kind == "align":
        return None if value in ("left", "center", "right") else "must be left, center or right"
    if kind == "fontstyle":
        return None if value in ("normal", "italic") else "must be normal or italic"
    if kind == "package":
        if not isinstance(value, str) or importlib.util.find_spec(value) is None:
            return f"font package {value!r} is not installed"
        return None
    if kind == "pagesize":
        try:
            page_size_mm(str(value))
        except ValueError:
            return f"unknown page size {value!r} (A4, A5, Letter, B5 or 'Wmm Hmm')"
        return None
    raise AssertionError(kind)


_PLACEHOLDER = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


def render(template: Path, theme: Theme, font_url: Callable[[FontFace], str]) -> str:
    """Fill {{token}} placeholders; derived values are computed here, once."""
    values = {**theme.tokens, **_derived(theme, font_url)}
    return _PLACEHOLDER.sub(lambda m: str(values[m[1]]), template.read_text(encoding="utf-8"))


def _derived(theme: Theme, font_url: Callable[[FontFace], str]) -> dict[str, Any]:
    t = theme.tokens
    width, height = theme.page_mm
    base = t["type.base-size"]
    derived: dict[str, Any] = {
        "stack.body": theme.stack("body"),
        "stack.heading": theme.stack("heading"),
        "stack.mono": theme.stack("mono"),
        "page.width": f"{width}mm",
        "page.height": f"{height}mm",
        # Print furniture (folios, running heads) is set at the small size, in points.
        "small.pt": f"{round(base * t['type.small'], 2)}pt",
        "font-faces": "\n".join(
            f'@font-face {{ font-family: "{f.family}"; src: url("{font_url(f)}"); '
            f"font-weight: {f.weight}; font-style: {'italic' if f.italic else 'normal'}; }}"
            for f in theme.faces
        ),
    }
    for level in range(1, 7):
        derived[f"h{level}.em"] = round(theme.heading_pt(level) / base, 4)
    return derived
