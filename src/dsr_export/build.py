"""Plans and runs the writers for each source, and puts finished files in place atomically."""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import cache, document, inputs, outputs
from . import theme as themes
from .config import Options, format_of, suffix
from .errors import Diagnostic, DsrError
from .outputs import write_atomic  # noqa: F401  # also this module's interface (reports, cluster builds)

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
        return tuple(format_of(p) for p in self.outputs if format_of(p) not in self.rebuilt)


def theme_for(doc: document.Document, options: Options) -> themes.Theme:
    """--theme wins over the source's `theme:` front matter, which wins over the default."""
    return inputs.Inputs(doc.source, options).theme


def target(options: Options, stem: str, fmt: str) -> Path:
    """Where a format's file goes (every writer's SUFFIX is the format's; checked when rendering)."""
    return options.out_dir / f"{stem}{suffix(fmt)}"


def build_one(path: Path, options: Options, report: Callable[[Diagnostic], None]) -> Result:
    """Parse and check one source, render every requested format that is out of date, then write them.

    Nothing is written until every format has rendered, so a failure leaves
    earlier outputs exactly as they were. Formats whose recorded inputs are
    unchanged are neither rendered nor rewritten; their recorded warnings are
    reported again.
    """
    stem, formats = path.stem, options.formats
    needs = inputs.gather(path, options)  # read once, for the cache key and the parse
    try:
        keys = cache.keys(needs, formats)  # kept under --force too, for the next build
    except DsrError:
        keys = {}  # the full build below reports the problem, in its usual order
    fresh = bool(keys) and not options.force
    records = {fmt: cache.fresh(target(options, stem, fmt), keys[fmt]) if fresh else None for fmt in formats}
    stale = tuple(fmt for fmt in formats if records[fmt] is None)
    if not stale:
        warnings = tuple(dict.fromkeys(w for r in records.values() if r for w in r.warnings))
        for warning in warnings:
            report(warning)
        return Result(tuple(target(options, stem, f) for f in formats), warnings)

    # The PDF layout is the long pole: with a spare core it gets a process of its own, forked
    # now so that it imports WeasyPrint (about a second) while this process parses.
    split = options.jobs >= 2 and "pdf" in stale and len(stale) > 1
    pdf_worker = _Worker("pdf", _known_theme(needs)) if split else None
    try:
        preload = _Preload("weasyprint") if {"pdf", "epub"} & set(stale) and not split else None
        doc = document.parse(path, options, needs)
        for warning in doc.warnings:
            report(warning)
        job_theme = needs.theme
        if preload:
            preload.join()
        from .writers import Job, registry

        try:
            rendered = render(Job(doc, job_theme, options), stale, registry(), pdf_worker)
        except RecursionError:
            raise DsrError(document.TOO_DEEP, path=path) from None
    finally:
        if pdf_worker:
            pdf_worker.stop()
    warnings = [*doc.warnings]
    for item in rendered.values():
        for warning in item.warnings:
            report(warning)
            warnings.append(warning)
    if options.strict and len(warnings) > len(doc.warnings):
        raise DsrError(f"{len(warnings) - len(doc.warnings)} warning(s) while rendering (--strict)", path=path)
    made = {target(options, stem, fmt): (fmt, item) for fmt, item in rendered.items()}
    if keys:
        for out in made:
            cache.forget(out)  # a record must never describe a file it did not see written
    outputs.write_all({out: item.data for out, (_, item) in made.items()})  # all in place, or none
    if keys:
        for out, (fmt, item) in made.items():
            cache.save(out, keys[fmt], item.data, (*doc.warnings, *item.warnings))
    for fmt in formats:
        record = records[fmt]
        if record is not None:
            for warning in record.warnings:
                if warning not in warnings:
                    report(warning)
                    warnings.append(warning)
    return Result(tuple(target(options, stem, f) for f in formats), tuple(warnings), stale)


def render(
    job: Job, formats: tuple[str, ...], writers: dict[str, ModuleType], pdf_worker: _Worker | None = None
) -> dict[str, Rendered]:
    """Render `formats` in memory, laying out the print pages once; given a worker, the PDF is laid out there.

    The worker gets the parsed document and lays out the PDF on its own core while
    this process writes DOCX and HTML; the EPUB then waits for the worker's page map
    (sent as soon as the layout is done), so the book is laid out once per build.
    With a spare core, DOCX's pandoc run goes alongside the HTML body's.
    """
    for fmt in formats:
        if writers[fmt].SUFFIX != suffix(fmt):
            raise AssertionError(f"writer {fmt} has suffix {writers[fmt].SUFFIX}")
    rendered: dict[str, Rendered] = {}
    pages: Callable[[], Mapping[str, int]] | None = None
    concurrent = job.options.jobs >= 2 and "docx" in formats and len(formats) > 1
    with ThreadPoolExecutor(max_workers=1) if concurrent else contextlib.nullcontext() as pool:
        docx = pool.submit(writers["docx"].write, job) if pool else None
        if pdf_worker is not None and "pdf" in formats:
            from .writers import html

            pdf_worker.send(job, html.body(job.doc))  # the shared HTML: made once, here, for both sides
            pages = pdf_worker.pages
        elif "pdf" in formats and "epub" in formats:
            made: dict[str, Mapping[str, int]] = {}
            rendered["pdf"] = writers["pdf"].write(job, pages=lambda first: made.setdefault("pages", first))
            pages = lambda: made["pages"]
        # The EPUB last: by then the PDF's layout has had the longest time to finish.
        for fmt in sorted((f for f in formats if f not in rendered and f != "pdf"), key=lambda f: f == "epub"):
            if fmt == "docx" and docx is not None:
                continue
            rendered[fmt] = writers[fmt].write(replace(job, print_pages=pages) if fmt == "epub" else job)
        if docx is not None:
            rendered["docx"] = docx.result()
    if "pdf" in formats and "pdf" not in rendered:
        rendered["pdf"] = pdf_worker.result() if pdf_worker is not None else writers["pdf"].write(job)
    return {fmt: rendered[fmt] for fmt in formats}


def _known_theme(needs: inputs.Inputs) -> themes.Theme | None:
    """The build's theme if it loads (its problems are reported after the parse, in their order)."""
    try:
        return needs.theme
    except DsrError:
        return None


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


class _Worker:
    """A forked process that renders one format: it loads the writer at once, then waits for the job.

    The job travels pickled through one pipe; messages come back through another, each
    a length and a pickle: the page map as soon as the layout is done, then the result
    (or the error). Forked before any thread starts, so the child inherits no locks.
    """

    def __init__(self, fmt: str, theme: themes.Theme | None = None) -> None:
        job_read, self._job_write = os.pipe()
        result_read, result_write = os.pipe()
        # The child's temporary files (WeasyPrint keeps fonts in one) go in a folder the parent
        # removes, even when it has to kill the child.
        self._tmp = tempfile.mkdtemp(prefix="dsr-worker-")
        pid = os.fork()
        if pid == 0:  # the child: never returns, never runs the parent's cleanups
            os.close(self._job_write)
            os.close(result_read)
            os.environ["TMPDIR"] = tempfile.tempdir = self._tmp
            _serve(fmt, job_read, result_write, theme)
        os.close(job_read)
        os.close(result_write)
        self.pid: int | None = pid
        self._result_read = result_read
        self._messages: list[bytes] = []
        self._first = threading.Event()  # set when a message, or the end of the pipe, has come
        self._threads: list[threading.Thread] = []

    def send(self, job: Job, body: str) -> None:
        """Hand over the job and its HTML body in the background (the child may still be importing)."""
        payload = pickle.dumps((job, body), protocol=pickle.HIGHEST_PROTOCOL)
        fd, back = self._job_write, self._result_read
        self._job_write = self._result_read = -1  # the threads own them now

        def write() -> None:
            try:
                with os.fdopen(fd, "wb") as pipe:
                    pipe.write(payload)
            except BrokenPipeError:
                pass  # the child has gone; result() says so

        def read() -> None:
            try:
                with os.fdopen(back, "rb") as pipe:
                    while len(head := pipe.read(8)) == 8:
                        message = pipe.read(int.from_bytes(head, "big"))
                        self._messages.append(message)
                        self._first.set()
            finally:
                self._first.set()

        self._threads = [threading.Thread(target=f, daemon=True) for f in (write, read)]
        for thread in self._threads:
            thread.start()

    def pages(self) -> Mapping[str, int]:
        """The print page map, as soon as the child has laid the book out (after send())."""
        self._first.wait()
        return self._open(0, "pages")

    def result(self) -> Rendered:
        for thread in self._threads:
            thread.join()
        self._reap()
        return self._open(-1, "ok")

    def _open(self, index: int, kind: str) -> Any:
        if not self._messages:
            self.stop()
            raise DsrError("the PDF writer stopped unexpectedly")
        got, value = pickle.loads(self._messages[index])
        if got == "error":
            raise value
        if got != kind:
            raise DsrError("the PDF writer stopped unexpectedly")
        return value

    def stop(self) -> None:
        """Ends the child if it is still running (an error or an interrupt here) and closes the pipes."""
        for fd in (self._job_write, self._result_read):
            if fd >= 0:
                os.close(fd)
        self._job_write = self._result_read = -1
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
        shutil.rmtree(self._tmp, ignore_errors=True)


def _serve(fmt: str, job_read: int, result_write: int, theme: themes.Theme | None = None) -> None:
    """The worker's whole life: load the writer, wait for the job, send back the result, exit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        from .writers import registry

        writer = registry()[fmt]
        if fmt == "pdf":
            import weasyprint  # noqa: F401  # the slow import, done while the parent parses

            if theme is not None:  # the fonts' character maps for the glyph check, read meanwhile too
                from . import glyphs

                glyphs.uncovered_by(theme, set())
        with os.fdopen(job_read, "rb") as pipe:
            data = pipe.read()
        if data:  # no job: the parent stopped before rendering
            from .writers import html

            job, body = pickle.loads(data)
            html.keep_body(job.doc, body)  # the parent's pandoc run, not a second one
            with os.fdopen(result_write, "wb") as out:

                def send(kind: str, value: object) -> None:
                    message = _message(kind, value)
                    out.write(len(message).to_bytes(8, "big") + message)
                    out.flush()

                try:
                    extra = {"pages": lambda first: send("pages", first)} if fmt == "pdf" else {}
                    send("ok", writer.write(job, **extra))
                except BaseException as exc:  # noqa: BLE001  # every failure goes back to the parent
                    send("error", exc)
    finally:
        os._exit(0)


def _message(kind: str, value: object) -> bytes:
    try:
        return pickle.dumps((kind, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot be pickled: keep its words
        if kind != "error":
            raise
        return pickle.dumps(("error", RuntimeError(f"{type(value).__name__}: {value}")))


@dataclass(frozen=True)
class Outcome:
    """One source of a batch: its result, or the error that stopped it."""

    source: Path
    result: Result | None
    error: DsrError | None
    seconds: float = 0.0


def build_many(
    paths: list[Path], options: Options, on_done: Callable[[Outcome], None] | None = None
) -> list[Outcome]:
    """Build several sources, `options.jobs` at a time in forked worker processes, in source order.

    Each worker gets an equal share of the jobs for its own formats; outputs are the
    same bytes as a serial build (one build time is fixed here for all of them).
    `on_done` hears of each source as it finishes, in source order.
    """
    workers = max(1, min(options.jobs, len(paths)))
    each = replace(options, jobs=max(1, options.jobs // workers))
    done = on_done or (lambda _: None)
    if workers == 1:
        outcomes = []
        for path in paths:
            outcomes.append(_build_quietly(path, each))
            done(outcomes[-1])
        return outcomes
    import multiprocessing

    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        outcomes = []
        for outcome in pool.imap(_build_quietly_args, [(p, each) for p in paths], chunksize=1):
            outcomes.append(outcome)
            done(outcome)
        pool.close()
        pool.join()  # idle workers leave on their own: terminating them would interrupt them mid-wait
        return outcomes
    finally:
        pool.terminate()
        pool.join()


def _build_quietly_args(args: tuple[Path, Options]) -> Outcome:
    return _build_quietly(*args)


def _build_quietly(path: Path, options: Options) -> Outcome:
    """Build one source; warnings travel in the result and errors in the outcome, for the caller to report."""
    started = time.perf_counter()
    try:
        return Outcome(path, build_one(path, options, lambda _: None), None, time.perf_counter() - started)
    except DsrError as exc:
        return Outcome(path, None, exc, time.perf_counter() - started)
