"""What one build of one source needs, decided and read in one place: the cache key and the parse share it.

The source is read when the inputs are gathered; the bibliographies, the style and the theme
are found when first asked for, and every file is read at most once per build. A problem is
raised when the part is asked for, so the parse reports it in its usual order and the
cache key, which asks first, can simply give up.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from . import source as src
from . import theme as themes
from .citations import DEFAULT_STYLE, Style, resolve_style
from .config import Options
from .csl import local_style_file
from .errors import DsrError

# Where a source can point at a local file: Markdown links and images, reference
# definitions, and HTML src/href attributes.
_LOCAL_REFS = re.compile(
    r"\]\(\s*<?([^)\s>]+)"
    r"|^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)"
    r"|\b(?:src|href)\s*=\s*[\"']([^\"']+)",
    re.MULTILINE,
)


@dataclass(eq=False)
class Inputs:
    """One source and what it asks for, under one build's options."""

    source: src.Source
    options: Options
    _read: dict[Path, bytes] = field(default_factory=dict, repr=False)

    def read(self, path: Path) -> bytes:
        """The bytes of an input file, read once per build (an OSError is the caller's to word)."""
        if path not in self._read:
            self._read[path] = path.read_bytes()
        return self._read[path]

    def text(self, path: Path) -> str:
        """An input file as text, decoded and with line ends as text mode reads them."""
        text = self.read(path).decode("utf-8")
        return text.replace("\r\n", "\n").replace("\r", "\n")

    @functools.cached_property
    def bibliographies(self) -> tuple[Path, ...]:
        return bibliography_paths(self.source, self.options)

    @functools.cached_property
    def style_request(self) -> tuple[str, Path]:
        return style_request(self.source, self.options)

    @functools.cached_property
    def style_file(self) -> Path | None:
        """The local CSL file asked for, or None for a name from the collection."""
        return local_style_file(*self.style_request)

    @functools.cached_property
    def style(self) -> Style:
        return resolve_style(*self.style_request, origin=self.source.path)

    @property
    def theme_spec(self) -> Any:
        """--theme wins over the source's `theme:` front matter, which wins over the default."""
        return self.options.theme or self.source.front_matter.get("theme") or "default"

    @functools.cached_property
    def theme(self) -> themes.Theme:
        spec = self.theme_spec
        if not isinstance(spec, str):
            raise DsrError("front matter 'theme' must be a theme name", path=self.source.path)
        return themes.load(spec)

    @functools.cached_property
    def local_files(self) -> list[Path]:
        return local_files(self.source)


def gather(path: Path, options: Options) -> Inputs:
    """Read the source at `path` (errors name file and line); the rest is read when asked for."""
    return Inputs(src.read(path), options)


def local_files(source: src.Source) -> list[Path]:
    """Files in or below the source's folder that the text points at (images, includes).

    Found by pattern, not by pandoc, so the key costs no parse; a path that does not
    exist is kept too, so creating the file later changes the key.
    """
    found: dict[Path, None] = {}
    folder = source.folder
    for match in _LOCAL_REFS.finditer(source.text):
        url = next(g for g in match.groups() if g)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url) or url.startswith("#"):
            continue
        path = (folder / unquote(url.split("#")[0].split("?")[0])).resolve()
        if path != folder:
            found[path] = None
    return list(found)


def style_request(source: src.Source, options: Options) -> tuple[str, Path]:
    """The style asked for and where a path in it resolves from: --csl (working folder) wins
    over front matter `csl` (the source's folder), which wins over the default."""
    if options.csl:
        return options.csl, Path.cwd()
    return _string(source.front_matter.get("csl"), source, "csl") or DEFAULT_STYLE, source.folder


def _string(value: Any, source: src.Source, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DsrError(f"front matter '{key}' must be a string", path=source.path, line=source.line_of(f"{key}:"))
    return value


def bibliography_paths(source: src.Source, options: Options) -> tuple[Path, ...]:
    """Command-line bibliographies (relative to the working folder) win over front matter ones."""
    if options.bibliographies:
        return tuple(p.resolve() for p in options.bibliographies)
    value = source.front_matter.get("bibliography")
    items = value if isinstance(value, list) else [value] if value else []
    if not all(isinstance(i, str) for i in items):
        raise DsrError(
            "front matter 'bibliography' must be a file name or a list of them",
            path=source.path,
            line=source.line_of("bibliography:"),
        )
    return tuple((source.folder / i).resolve() for i in items)
