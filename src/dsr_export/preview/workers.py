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
from multiprocessing.connection import Connection

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

    Each process has a thread here that hands it one render at a time; renders not yet
    handed out wait in a list, so a newer build replaces them before they start.
    """

    def __init__(self, count: int, done: Done) -> None:
        # The workers' temporary files (WeasyPrint keeps fonts in some) go in a folder removed at the end.
        self._tmp = tempfile.mkdtemp(prefix="dsr-preview-")
        # spawn, not fork: this process runs threads (the server, the watcher) whose locks a fork would copy.
        self._context = multiprocessing.get_context("spawn")
        self._waiting: list[tuple[int, str, bytes]] = []
        self._ready = threading.Condition()
        self._closed = False
        self._done = done
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._threads = [threading.Thread(target=self._feed, name=f"preview worker {i}", daemon=True)
                         for i in range(count)]
        for thread in self._threads:
            thread.start()

    def submit(self, build: int, payload: bytes, formats: tuple[str, ...]) -> None:
        """Render `formats` of build number `build` (a pickled job and HTML body); replaces waiting ones."""
        ordered = sorted(formats, key=lambda f: ORDER.index(f) if f in ORDER else len(ORDER))
        with self._ready:
            self._waiting = [(build, fmt, payload) for fmt in ordered]
            self._ready.notify_all()

    def close(self) -> None:
        """Stop the processes at once (a render in progress is dropped) and remove their files."""
        with self._ready:
            self._closed = True
            self._waiting = []
            self._ready.notify_all()
            processes = list(self._processes)
        for process in processes:
            process.kill()
        for process in processes:
            process.join()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _start(self) -> Connection:
        mine, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs, self._tmp), daemon=True)
        with self._ready:
            if self._closed:
                raise EOFError
            process.start()
            self._processes.append(process)
        theirs.close()
        return mine

    def _feed(self) -> None:
        """One worker's thread: start its process, then hand it the next waiting render, for good."""
        try:
            conn = self._start()
        except EOFError:
            return
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                build, fmt, payload = self._waiting.pop(0)
            try:
                conn.send((payload, fmt))
                outcome = conn.recv()
            except Exception as exc:  # noqa: BLE001  # the process died or sent garbage: a fresh one
                if self._closed:
                    return
                why = "stopped unexpectedly" if isinstance(exc, (EOFError, OSError)) else f"failed: {exc}"
                outcome = Outcome(None, (f"dsr-export: internal error: the {fmt} writer {why}",))
                conn.close()
                try:
                    conn = self._start()  # a fresh one for the next render
                except EOFError:
                    return
            self._done(build, fmt, outcome)


def _serve(conn: Connection, tmp: str) -> None:
    """A worker's life: Ctrl-C is the parent's to handle; load the slow modules now, then render on request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["TMPDIR"] = tempfile.tempdir = tmp
    import weasyprint  # noqa: F401

    from ..writers import registry

    registry()
    while True:
        try:
            payload, fmt = conn.recv()
        except EOFError:  # the preview has gone
            return
        conn.send(_render(payload, fmt))


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
