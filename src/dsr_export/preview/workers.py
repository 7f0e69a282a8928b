"""Long-lived worker processes that render PDF, EPUB and DOCX while the HTML is already shown."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ..writers import Rendered

# The order background formats are handed out in: the PDF (the longest) first, the DOCX
# (short) next so it is current early, then the EPUB, whose page list lays the book out too.
ORDER = ("pdf", "docx", "epub")


@dataclass(frozen=True)
class Outcome:
    """A worker's answer: the rendered file, or the error lines to show (as the command line words them)."""

    rendered: Rendered | None
    errors: tuple[str, ...] = ()


Done = Callable[[int, str, Outcome], None]


class Workers:
    """`count` spawned processes with the writers (and WeasyPrint) imported once, for the whole preview.

    Only as many renders as there are processes are handed out at once; the rest wait
    here, so a newer build can replace them before they start.
    """

    def __init__(self, count: int, done: Done) -> None:
        # The workers' temporary files (WeasyPrint keeps fonts in some) go in a folder removed at the end.
        self._tmp = tempfile.mkdtemp(prefix="dsr-preview-")
        # spawn, not fork: this process runs threads (the server, the watcher) whose locks a fork would copy.
        context = multiprocessing.get_context("spawn")
        self._pool = context.Pool(count, initializer=_start, initargs=(self._tmp,))
        self._free = count
        self._waiting: list[tuple[int, str, bytes]] = []
        self._lock = threading.Lock()
        self._done = done

    def submit(self, build: int, payload: bytes, formats: tuple[str, ...]) -> None:
        """Render `formats` of build number `build` (a pickled job and HTML body); replaces waiting ones."""
        with self._lock:
            ordered = sorted(formats, key=lambda f: ORDER.index(f) if f in ORDER else len(ORDER))
            self._waiting = [(build, fmt, payload) for fmt in ordered]
            self._hand_out()

    def _hand_out(self) -> None:
        while self._free and self._waiting:
            build, fmt, payload = self._waiting.pop(0)
            self._free -= 1
            self._pool.apply_async(
                _render, (payload, fmt),
                callback=partial(self._finished, build, fmt),
                error_callback=partial(self._crashed, build, fmt),
            )

    def _finished(self, build: int, fmt: str, outcome: Outcome) -> None:
        with self._lock:
            self._free += 1
            self._hand_out()
        self._done(build, fmt, outcome)

    def _crashed(self, build: int, fmt: str, exc: BaseException) -> None:
        self._finished(build, fmt, Outcome(None, (f"dsr-export: internal error: {type(exc).__name__}: {exc}",)))

    def close(self) -> None:
        """Stop the processes at once (a render in progress is dropped) and remove their files."""
        with self._lock:
            self._waiting = []
        self._pool.terminate()
        self._pool.join()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _start(tmp: str) -> None:
    """A worker's start: Ctrl-C is the parent's to handle; load the slow modules now, not at the first save."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["TMPDIR"] = tempfile.tempdir = tmp
    import weasyprint  # noqa: F401

    from ..writers import registry

    registry()


def _render(payload: bytes, fmt: str) -> Outcome:
    """In a worker: one format of the job, with the HTML body the parent already made."""
    from ..errors import DsrError
    from ..writers import html, registry

    job, body = pickle.loads(payload)
    html.keep_body(job.doc, body)
    try:
        return Outcome(registry()[fmt].write(job))
    except DsrError as exc:
        return Outcome(None, tuple(exc.format().splitlines()))
    except RecursionError:
        from ..document import TOO_DEEP

        return Outcome(None, (DsrError(TOO_DEEP, path=job.doc.source.path).format(),))
    except Exception as exc:  # noqa: BLE001  # a bug of ours must not stop the preview
        return Outcome(None, (f"dsr-export: internal error: {type(exc).__name__}: {exc}",))
