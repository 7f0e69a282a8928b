"""The files one build may read, packed for a worker with no access to the client's file system."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .. import cache, document
from .. import source as src
from .. import theme as themes
from ..config import Options
from ..csl import local_style_file
from ..writers import pdf_x

# Files outside the source's folder (given on the command line) travel under this folder.
OUTSIDE = "_inputs"


@dataclass(frozen=True)
class Bundle:
    """A source and its files by path relative to the bundle's root, with the options to build it.

    In `options`, the bibliographies, a style file and the theme are paths relative to the root.
    """

    source: str
    files: dict[str, bytes]
    options: Options
    origin: dict[str, Path]  # relative path -> the client's path, to report diagnostics against

    def unpack(self, root: Path) -> tuple[Path, Options, dict[Path, Path]]:
        """Write the files under `root`: the source, the options with those paths, worker -> client paths."""
        mapping = {}
        for relative, data in self.files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            mapping[path] = self.origin[relative]
        o = self.options
        options = replace(
            o,
            out_dir=root / OUTSIDE / "out",
            bibliographies=tuple(root / b for b in o.bibliographies),
            csl=str(root / o.csl) if o.csl and o.csl in self.files else o.csl,
            theme=str(root / o.theme) if o.theme else None,
        )
        return root / self.source, options, mapping


def pack(path: Path, options: Options, formats: tuple[str, ...]) -> Bundle:
    """Everything the build of `path` reads: the source (a book's chapters too), bibliographies, style,
    images, theme, output profile.

    Files inside the source's folder keep their place relative to it (the source's own links and
    front matter point there); others go under `_inputs/` and the options name them there.
    Installed fonts and the CSL collection are the worker's own (its versions are checked).
    """
    source = src.read(path)
    folder = source.folder
    files: dict[str, bytes] = {}
    origin: dict[str, Path] = {}

    def add(file: Path) -> str:
        real = file.resolve()
        try:
            relative = str(real.relative_to(folder))
        except ValueError:
            relative = f"{OUTSIDE}/{sum(k.startswith(OUTSIDE) for k in files)}/{real.name}"
        if relative not in files:
            files[relative] = real.read_bytes()
            origin[relative] = file
        return relative

    name = add(path)
    bibliographies = tuple(Path(add(b)) for b in document.bibliography_paths(source, options) if b.is_file())
    style_spec, style_base = document.style_request(source, options)
    style_file = local_style_file(style_spec, style_base)
    csl = options.csl  # a collection id, or None (the front matter decides)
    if style_file is not None and style_file.is_file():
        relative = add(style_file)
        if options.csl or relative.startswith(OUTSIDE):
            csl = relative
    chapters = cache.book_chapters(source)  # a book's chapter files, and what they point at
    for chapter in chapters:
        add(chapter.path)
    # A chapter's pictures resolve from the master's folder, as the book's parse reads them.
    for text in (source, *(replace(c, path=path) for c in chapters)):
        for ref in cache.local_files(text):
            if ref.is_file() and folder in ref.resolve().parents:
                add(ref)
    profile = pdf_x.profile_path(source, options.root)  # the sandbox's rule, as for a local build
    if profile is not None and profile.is_file():
        add(profile)
    theme = add(themes.load(document.theme_request(source, options)).path)
    moved = replace(  # what lay outside the folder now travels in the bundle, named in the options
        options, formats=formats, force=True, jobs=1, csl=csl, theme=theme, root=None,
        bibliographies=bibliographies if options.bibliographies or any(
            str(b).startswith(OUTSIDE) for b in bibliographies) else (),
    )
    return Bundle(name, files, moved, origin)
