"""What one build of one source needs, decided and read in one place: the cache key and the parse share it.

The source is read when the inputs are gathered; the bibliographies, the style and the theme
are found when first asked for, and every file is read at most once per build. A problem is
raised when the part is asked for, so the parse reports it in its usual order and the
cache key, which asks first, can simply give up.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from . import sandbox
from . import source as src
from . import theme as themes
from .citations import DEFAULT_STYLE, Style, resolve_style
from .config import Options
from .csl import local_style_file
from .errors import DsrError
from .sandbox import author_path, is_file

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

    def read(self, path: Path, what: str = "input") -> bytes:
        """The bytes of an input file, read once per build: a regular file of bounded size, or a
        DsrError naming it as `what` it is."""
        if path not in self._read:
            self._read[path] = sandbox.read_bytes(path, what)
        return self._read[path]

    def text(self, path: Path, what: str = "bibliography") -> str:
        """An input file as UTF-8 text, with line ends as text mode reads them."""
        return sandbox.decode_text(self.read(path, what), path, what)

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

    @functools.cached_property
    def abbreviations(self) -> Path | None:
        return abbreviations_path(self.source, self.options)

    @functools.cached_property
    def theme_spec(self) -> str:
        """--theme wins over the source's `theme:` front matter, which wins over the default."""
        return theme_request(self.source, self.options)

    @functools.cached_property
    def theme(self) -> themes.Theme:
        return themes.load(self.theme_spec)

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
        try:
            path = Path(os.path.realpath(folder / unquote(url.split("#")[0].split("?")[0])))  # loops too
        except ValueError:  # %00 in the URL: no file of any name
            continue
        if path != folder:
            found[path] = None
    return list(found)


def style_request(source: src.Source, options: Options) -> tuple[str, Path]:
    """The style asked for and where a path in it resolves from: --csl (working folder) wins
    over front matter `csl` (the source's folder), which wins over the default."""
    if options.csl:
        return options.csl, Path.cwd()
    spec = _string(source.front_matter.get("csl"), source, "csl") or DEFAULT_STYLE
    if local_style_file(spec, source.folder) is not None:  # a path, not a collection id: held to the root
        author_path(source.path, "csl", spec, _line(source, "csl"), options.root)
    return spec, source.folder


def theme_request(source: src.Source, options: Options) -> str:
    """--theme (a name, or a path from the working folder) wins over front matter `theme` (a name,
    or a path from the source's folder held to the build root), which wins over the default."""
    if options.theme:
        return options.theme
    spec = source.front_matter.get("theme")
    if spec is not None and not isinstance(spec, str):
        raise DsrError("front matter 'theme' must be a theme name", path=source.path, line=_line(source, "theme"))
    if not spec:
        return "default"
    if spec.endswith(".toml") or "/" in spec or is_file(source.folder / spec):
        return str(author_path(source.path, "theme", spec, _line(source, "theme"), options.root))
    return spec


def abbreviations_path(source: src.Source, options: Options) -> Path | None:
    """The front matter's `citation-abbreviations` file (held to the build root), if it names one."""
    value = _string(source.front_matter.get("citation-abbreviations"), source, "citation-abbreviations")
    if not value:
        return None
    line = _line(source, "citation-abbreviations")
    path = author_path(source.path, "citation-abbreviations", value, line, options.root)
    if not path.is_file():
        raise DsrError(f"citation abbreviations file not found: {value}", path=source.path, line=line)
    return path


def _line(source: src.Source, key: str, item: str | None = None) -> int | None:
    """The line of front matter `key` (or of `item` in its list), for messages."""
    found = re.search(rf"^{re.escape(key)}\s*:", source.text, re.MULTILINE)
    if found is None:
        return None
    return (source.line_of(item, found.start()) if item else None) or source.text.count("\n", 0, found.start()) + 1


def _string(value: Any, source: src.Source, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DsrError(f"front matter '{key}' must be a string", path=source.path, line=source.line_of(f"{key}:"))
    return value


def bibliography_paths(source: src.Source, options: Options) -> tuple[Path, ...]:
    """Command-line bibliographies (relative to the working folder) win over front matter ones."""
    if options.bibliographies:
        return tuple(Path(os.path.realpath(p)) for p in options.bibliographies)  # a loop: reported when read
    value = source.front_matter.get("bibliography")
    items = value if isinstance(value, list) else [value] if value else []
    if not all(isinstance(i, str) for i in items):
        raise DsrError(
            "front matter 'bibliography' must be a file name or a list of them",
            path=source.path,
            line=source.line_of("bibliography:"),
        )
    return tuple(author_path(source.path, "bibliography", i, _line(source, "bibliography", i), options.root)
                 for i in items)
