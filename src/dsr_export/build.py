"""Plans and runs the writers for each source, and puts finished files in place atomically."""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from . import cache, document, theme as themes
from .config import Options
from .errors import Diagnostic, DsrError

if TYPE_CHECKING:
    from .writers import Job, Rendered


@dataclass(frozen=True)
class Result:
    """What one source's build produced."""

    outputs: tuple[Path, ...]
    warnings: tuple[Diagnostic, ...]
    rebuilt: tuple[str, ...] = ()  # formats made by this run; the others were already up to date

    @property
    def up_to_date(self) -> tuple[str, ...]:
        return tuple(p.suffix[1:] for p in self.outputs if p.suffix[1:] not in self.rebuilt)


def theme_for(doc: document.Document, options: Options) -> themes.Theme:
    """--theme wins over the source's `theme:` front matter, which wins over the default."""
    spec = options.theme or doc.source.front_matter.get("theme") or "default"
    if not isinstance(spec, str):
        raise DsrError("front matter 'theme' must be a theme name", path=doc.source.path)
    return themes.load(spec)


def target(options: Options, stem: str, fmt: str) -> Path:
    """Where a format's file goes (every writer's SUFFIX is "." + its NAME; checked when rendering)."""
    return options.out_dir / f"{stem}.{fmt}"


def build_one(path: Path, options: Options, report: Callable[[Diagnostic], None]) -> Result:
    """Parse and check one source, render every requested format that is out of date, then write them.

    Nothing is written until every format has rendered, so a failure leaves
    earlier outputs exactly as they were. Formats whose recorded inputs are
    unchanged are neither rendered nor rewritten; their recorded warnings are
    reported again.
    """
    stem, formats = path.stem, options.formats
    keys: dict[str, str] = {}
    if not options.force:
        try:
            keys = cache.keys(path, options, formats)
        except DsrError:
            keys = {}  # the full build below reports the problem, in its usual order
    records = {fmt: cache.fresh(target(options, stem, fmt), keys[fmt]) if keys else None for fmt in formats}
    stale = tuple(fmt for fmt in formats if records[fmt] is None)
    if not stale:
        warnings = tuple(dict.fromkeys(w for r in records.values() if r for w in r.warnings))
        for warning in warnings:
            report(warning)
        return Result(tuple(target(options, stem, f) for f in formats), warnings)

    # WeasyPrint takes about a second to import: do it while pandoc parses.
    preload = _Preload("weasyprint") if "pdf" in stale else None
    doc = document.parse(path, options)
    for warning in doc.warnings:
        report(warning)
    job_theme = theme_for(doc, options)
    if preload:
        preload.join()
    from .writers import Job, registry

    writers = registry()
    rendered = render(Job(doc, job_theme, options), stale, writers, options.jobs)
    warnings = [*doc.warnings]
    for item in rendered.values():
        for warning in item.warnings:
            report(warning)
            warnings.append(warning)
    if options.strict and len(warnings) > len(doc.warnings):
        raise DsrError(f"{len(warnings) - len(doc.warnings)} warning(s) while rendering (--strict)", path=path)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    for fmt, item in rendered.items():
        out = target(options, stem, fmt)
        if keys:
            cache.forget(out)  # a record must never describe a file it did not see written
        write_atomic(out, item.data)
        if keys:
            cache.save(out, keys[fmt], item.data, (*doc.warnings, *item.warnings))
    for fmt in formats:
        record = records[fmt]
        if record is not None:
            for warning in record.warnings:
                if warning not in warnings:
                    report(warning)
                    warnings.append(warning)
    return Result(tuple(target(options, stem, f) for f in formats), tuple(warnings), stale)


def render(job: Job, formats: tuple[str, ...], writers: dict[str, ModuleType], jobs: int) -> dict[str, Rendered]:
    """Render `formats` in memory; with two or more jobs the PDF is laid out in a forked process.

    The PDF layout is the long pole, so it gets a core of its own while this process
    writes EPUB, DOCX and HTML. The fork shares the parsed document and the shared HTML
    without copying them. (A writer that needs the print layout too, such as an EPUB
    page-list, can wait on the PDF job's result here.)
    """
    from .writers import html

    for fmt in formats:
        if writers[fmt].SUFFIX != f".{fmt}":
            raise AssertionError(f"writer {fmt} has suffix {writers[fmt].SUFFIX}")
    if jobs < 2 or "pdf" not in formats or len(formats) < 2:
        return {fmt: writers[fmt].write(job) for fmt in formats}
    html.body(job.doc)  # one pandoc run, before the fork, for both sides
    pdf = _Forked(writers["pdf"], job)
    try:
        rendered: dict[str, Rendered] = {fmt: writers[fmt].write(job) for fmt in formats if fmt != "pdf"}
        rendered["pdf"] = pdf.result()
    finally:
        pdf.stop()
    return {fmt: rendered[fmt] for fmt in formats}


class _Preload(threading.Thread):
    """Imports a slow module in the background (joined before any fork)."""

    def __init__(self, module: str) -> None:
        super().__init__(daemon=True, name=f"import {module}")
        self.module = module
        self.start()

    def run(self) -> None:
        try:
            __import__(self.module)
        except Exception:  # noqa: BLE001  # the writer's own import reports it properly
            pass


class _Forked:
    """One writer running in a forked child; its result comes back pickled through a pipe."""

    def __init__(self, writer: ModuleType, job: Job) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: render, send, leave without running the parent's cleanups
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                payload = _payload(writer, job)
                with os.fdopen(write_end, "wb") as out:
                    out.write(payload)
            finally:
                os._exit(0)
        os.close(write_end)
        self.pid: int | None = pid
        self._data = b""
        self._reader = threading.Thread(target=self._read, args=(read_end,), daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as pipe:
            self._data = pipe.read()

    def result(self) -> Rendered:
        self._reader.join()
        self._reap()
        if not self._data:
            raise DsrError("the PDF writer stopped unexpectedly")
        kind, value = pickle.loads(self._data)
        if kind == "error":
            raise value
        return value

    def stop(self) -> None:
        """Ends the child if it is still running (an error or interrupt in this process)."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()

    def _reap(self) -> None:
        if self.pid is not None:
            os.waitpid(self.pid, 0)
            self.pid = None


def _payload(writer: ModuleType, job: Job) -> bytes:
    try:
        return pickle.dumps(("ok", writer.write(job)))
    except BaseException as exc:  # noqa: BLE001  # every failure goes back to the parent
        try:
            return pickle.dumps(("error", exc))
        except Exception:  # noqa: BLE001  # an exception that cannot be pickled: keep its words
            return pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


@dataclass(frozen=True)
class Outcome:
    """One source of a batch: its result, or the error that stopped it."""

    source: Path
    result: Result | None
    error: DsrError | None


def build_many(paths: list[Path], options: Options) -> list[Outcome]:
    """Build several sources, `options.jobs` at a time in forked worker processes, in source order.

    Each worker gets an equal share of the jobs for its own formats; outputs are the
    same bytes as a serial build (one build time is fixed here for all of them).
    """
    workers = max(1, min(options.jobs, len(paths)))
    each = replace(options, jobs=max(1, options.jobs // workers))
    if workers == 1:
        return [_build_quietly(path, each) for path in paths]
    import multiprocessing

    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        outcomes = pool.map(_build_quietly_args, [(p, each) for p in paths], chunksize=1)
        pool.close()
        return outcomes
    finally:
        pool.terminate()
        pool.join()


def _build_quietly_args(args: tuple[Path, Options]) -> Outcome:
    return _build_quietly(*args)


def _build_quietly(path: Path, options: Options) -> Outcome:
    """Build one source; warnings travel in the result and errors in the outcome, for the caller to report."""
    try:
        return Outcome(path, build_one(path, options, lambda _: None), None)
    except DsrError as exc:
        return Outcome(path, None, exc)


def write_atomic(target: Path, data: bytes) -> None:
    """Write to a temporary file beside `target`, then rename it into place."""
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
