"""Plans and runs the writers for each source, and puts finished files in place atomically."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import document, theme as themes
from .config import Options
from .errors import Diagnostic, DsrError
from .writers import Job, Rendered, registry


@dataclass(frozen=True)
class Result:
    """What one source's build produced."""

    outputs: tuple[Path, ...]
    warnings: tuple[Diagnostic, ...]


def theme_for(doc: document.Document, options: Options) -> themes.Theme:
    """--theme wins over the source's `theme:` front matter, which wins over the default."""
    spec = options.theme or doc.source.front_matter.get("theme") or "default"
    if not isinstance(spec, str):
        raise DsrError("front matter 'theme' must be a theme name", path=doc.source.path)
    return themes.load(spec)


def build_one(path: Path, options: Options, report: Callable[[Diagnostic], None]) -> Result:
    """Parse and check one source, render every requested format, then write them all.

    Nothing is written until every format has rendered, so a failure leaves
    earlier outputs exactly as they were.
    """
    doc = document.parse(path, options)
    for warning in doc.warnings:
        report(warning)
    job = Job(doc, theme_for(doc, options), options)
    writers = registry()
    try:
        rendered: dict[str, Rendered] = {fmt: writers[fmt].write(job) for fmt in options.formats}
    except RecursionError:
        raise DsrError(document.TOO_DEEP, path=path) from None
    warnings = [*doc.warnings]
    for item in rendered.values():
        for warning in item.warnings:
            report(warning)
            warnings.append(warning)
    if options.strict and len(warnings) > len(doc.warnings):
        raise DsrError(f"{len(warnings) - len(doc.warnings)} warning(s) while rendering (--strict)", path=path)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    outputs = []
    for fmt, item in rendered.items():
        target = options.out_dir / f"{doc.stem}{writers[fmt].SUFFIX}"
        write_atomic(target, item.data)
        outputs.append(target)
    return Result(tuple(outputs), tuple(warnings))


def write_atomic(target: Path, data: bytes) -> None:
    """Write to a temporary file beside `target`, then rename it into place.

    Ctrl-C and SIGTERM wait until the file is either in place or gone, so an
    interrupted build never leaves a temporary file behind.
    """
    with _signals_deferred():
        _write_then_rename(target, data)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    signals = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _write_then_rename(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
