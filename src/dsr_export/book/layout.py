"""Laying out a book's pieces, as many at once as --jobs allows, each kept by the hash of what it was made from.

A piece's PDF depends only on its own HTML (folios and running heads are drawn later), so after an
edit only the pieces whose HTML changed are laid out again; the others come from the store.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import cache
from ..writers import Job

STORE_VERSION = 1
_JOB: Job | None = None  # the job of the pool's processes (inherited through fork, not pickled)


@dataclass(frozen=True)
class Laid:
    """One piece laid out: its PDF, the ids that start on each page, which pages are blank, and warnings."""

    pdf: bytes
    anchors: tuple[tuple[str, ...], ...]
    blank: tuple[bool, ...]
    warnings: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.anchors)


@dataclass(frozen=True)
class Request:
    html: str
    css: str = ""  # the stylesheet the pieces share, parsed once per process
    tagged: bool = True  # the pieces are tagged PDF; the furniture overlay is plain drawing


def lay_out(job: Job, requests: list[Request]) -> list[Laid]:
    """Every request laid out, from the store where it was laid out before, else now (in parallel)."""
    global _JOB
    store = _Store(job)
    keys = [store.key(r) for r in requests]
    with store.locked():
        found = {k: store.get(k) for k in dict.fromkeys(keys)}
        todo = [i for i, k in enumerate(keys) if found[k] is None and keys.index(k) == i]
        todo.sort(key=lambda i: -len(requests[i].html))  # the longest first, so the processes finish together
        workers = max(1, min(job.options.jobs, len(todo)))
        if workers == 1:
            made = [_lay_one(job, requests[i]) for i in todo]
        else:
            _JOB = job
            try:
                with multiprocessing.get_context("fork").Pool(workers, initializer=_quiet_child) as pool:
                    made = pool.map(_lay_in_pool, [requests[i] for i in todo], chunksize=1)
                    pool.close()
                    pool.join()
            finally:
                _JOB = None
        for i, laid in zip(todo, made, strict=True):
            store.put(keys[i], laid)
            found[keys[i]] = laid
    return [found[k] for k in keys]  # type: ignore[misc]


def prune(job: Job, requests: list[Request]) -> None:
    """Remove stored pieces that the last full layout of this book did not use."""
    store = _Store(job)
    with store.locked():
        store.keep({store.key(r) for r in requests})


def _quiet_child() -> None:
    """A layout process ends when told to, without the parent's handlers (the parent reports interrupts)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _lay_in_pool(request: Request) -> Laid:
    assert _JOB is not None
    return _lay_one(_JOB, request)


def _lay_one(job: Job, request: Request) -> Laid:
    """One WeasyPrint layout and PDF of `request`."""
    from ..writers import pdf, pdf_scripts, pdf_x

    collector = pdf._Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        variant = job.options.pdf_variant or pdf.DEFAULT_VARIANT
        # PDF/X is made from the joined book; the pieces are laid out tagged PDF/UA.
        options = {"pdf_variant": pdf.DEFAULT_VARIANT if variant in pdf_x.VARIANTS else variant, "pdf_tags": True}
        if not request.tagged:
            options = {}
        css, fonts = _stylesheet(job, request.css)
        document = pdf._weasy_html(job, request.html).render(stylesheets=css, font_config=fonts, **options)
        with pdf_scripts.tagging() if request.tagged else contextlib.nullcontext():
            data = document.write_pdf(**options)
    finally:
        logger.removeHandler(collector)
    anchors = tuple(tuple(page.anchors) for page in document.pages)
    blank = tuple(bool(page._page_box.page_type.blank) for page in document.pages)
    return Laid(data, anchors, blank, tuple(collector.messages))


_SHEETS: dict[str, tuple[list[Any], Any]] = {}


def _stylesheet(job: Job, css: str) -> tuple[list[Any], Any]:
    """The shared stylesheet and its fonts, loaded once per process: most of a short piece's cost."""
    if css not in _SHEETS:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        from ..sandbox import for_paths
        from ..writers import pdf

        fonts = FontConfiguration()
        sandbox = for_paths(job.doc.folder, *(f.path.parent for f in job.theme.faces),
                            allow_remote=job.options.allow_remote)
        sheet = weasyprint.CSS(string=css, base_url=pdf.SOURCE_BASE, font_config=fonts,
                               url_fetcher=pdf._fetcher(sandbox))
        _SHEETS[css] = ([sheet] if css else [], fonts)
    return _SHEETS[css]


class _Store:
    """Laid-out pieces on disk, one folder per book output; pieces no longer used are removed."""

    def __init__(self, job: Job) -> None:
        where = hashlib.sha256(str(job.doc.source.path.resolve()).encode()).hexdigest()[:24]
        self.folder = cache.cache_dir() / "book-layouts" / where
        self.base = cache._Hasher()
        self.base.add("store", STORE_VERSION, cache.code_fingerprint(), cache.tools_fingerprint())
        self.base.add("variant", job.options.pdf_variant, [str(f.path) for f in job.theme.faces])

    def key(self, request: Request) -> str:
        h = self.base.copy()
        h.add("request", request.tagged, request.css, request.html)
        return h.hexdigest()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One layout of a book at a time: the PDF and the EPUB of one build share the pieces."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def get(self, key: str) -> Laid | None:
        try:
            data = (self.folder / f"{key}.pdf").read_bytes()
            info = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            laid = Laid(data, tuple(tuple(a) for a in info["anchors"]), tuple(info["blank"]), tuple(info["warnings"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return laid if hashlib.sha256(data).hexdigest() == info.get("sha256") else None

    def put(self, key: str, laid: Laid) -> None:
        """Keep `laid` for later builds; the store only saves time, so a failure to write costs nothing else."""
        info = {"anchors": laid.anchors, "blank": laid.blank, "warnings": laid.warnings,
                "sha256": hashlib.sha256(laid.pdf).hexdigest()}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write(self.folder / f"{key}.pdf", laid.pdf)
            self._write(self.folder / f"{key}.json", json.dumps(info).encode())
        except OSError:
            pass

    def keep(self, keys: set[str]) -> None:
        try:
            for path in self.folder.iterdir():
                if path.suffix in (".pdf", ".json") and path.stem not in keys:
                    path.unlink(missing_ok=True)
        except OSError:
            pass

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".piece.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
