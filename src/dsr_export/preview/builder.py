"""The preview's builds: HTML first, the other formats in the background, errors kept for the page."""

from __future__ import annotations

import pickle
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import build, cache, document, inputs
from ..config import Options
from ..errors import Diagnostic, DsrError
from .epub_view import Chapter, chapters
from .workers import Outcome, Workers


@dataclass
class Output:
    """One format's file as the page shows it."""

    fmt: str
    # current: made from the inputs as they are now; updating: a build under way will replace it;
    # outdated: older than the inputs, and the last build could not replace it; failed; missing.
    status: str = "missing"
    build: int = 0  # the build whose inputs the file on disk was made from
    seconds: float | None = None  # from the start of that build to the file in place


@dataclass
class _Run:
    """What one build needs to record the files it makes."""

    started: float
    keys: dict[str, str] = field(default_factory=dict)
    warnings: tuple[Diagnostic, ...] = ()
    waiting: set[str] = field(default_factory=set)  # formats this build will still deliver


class Builder:
    """Rebuilds one source whenever `changed()` is called; one build at a time, the latest inputs win.

    A change during a build starts another one right after it; background formats
    of an older build that have not started yet are replaced by the newer build's.
    """

    def __init__(self, source: Path, options: Options, publish: Callable[[dict[str, Any]], None]) -> None:
        self.source, self.options = source, options
        self.stem = source.stem
        self.formats = tuple(sorted(options.formats, key=lambda f: f != "html"))  # HTML first
        self.outputs = {f: Output(f) for f in self.formats}
        for output in self.outputs.values():  # an earlier build's file is shown until this one's is ready
            if self.path(output.fmt).is_file():
                output.status = "outdated"
        self.number = 0
        self.errors: tuple[str, ...] = ()
        self.chapters: tuple[Chapter, ...] = ()
        self.inputs: tuple[Path, ...] = (source.resolve(),)
        self.on_inputs: Callable[[tuple[Path, ...]], None] | None = None  # told the inputs of each build
        self._format_warnings: dict[str, tuple[str, ...]] = {}
        self._printed_warnings: tuple[str, ...] = ()
        self._runs: dict[int, _Run] = {}
        self._publish = publish
        self._lock = threading.RLock()    # guards everything above
        self._writing = threading.Lock()  # held while a file is put in place; taken for good at the end
        self._wake = threading.Event()
        self._stopping = False
        background = tuple(f for f in self.formats if f != "html")
        count = max(1, min(options.jobs, len(background)))
        self._workers = Workers(count, self._background_done) if background else None
        self._thread = threading.Thread(target=self._loop, name="preview builds", daemon=True)

    def start(self) -> None:
        self._wake.set()  # the first build
        self._thread.start()

    def path(self, fmt: str) -> Path:
        return build.target(self.options, self.stem, fmt)

    def changed(self, paths: list[Path]) -> None:
        """The watcher saw `paths` change: build again (now, or after the build under way)."""
        if paths:  # none: the watcher moved to other folders and asks for one more build to be sure
            _say("changed: " + ", ".join(sorted({p.name for p in paths})))
        self._wake.set()

    def stop(self) -> None:
        """End the workers and wait for a file being put in place; nothing is written after this."""
        self._stopping = True
        self._wake.set()
        if self._workers is not None:
            self._workers.close()
        self._writing.acquire()

    @property
    def busy(self) -> bool:
        return any(o.status == "updating" for o in self.outputs.values())

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for ws in self._format_warnings.values() for w in ws))

    def snapshot(self) -> dict[str, Any]:
        """The state as the page reads it (server-sent events and /status)."""
        with self._lock:
            return {
                "source": self.source.name,
                "stem": self.stem,
                "build": self.number,
                "busy": self.busy,
                "formats": [
                    {"name": o.fmt, "status": o.status, "build": o.build, "seconds": o.seconds,
                     "url": f"/out/{self.path(o.fmt).name}", "exists": self.path(o.fmt).is_file()}
                    for o in self.outputs.values()
                ],
                "errors": list(self.errors),
                "warnings": list(self.warnings),
                "chapters": [{"title": c.title, "url": f"/epub/{c.name}"} for c in self.chapters],
            }

    # The build thread.

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            try:
                self._build()
            except Exception as exc:  # noqa: BLE001  # a bug of ours is shown; the next save tries again
                self._failed(self.number, (f"dsr-export: internal error: {type(exc).__name__}: {exc}",))

    def _build(self) -> None:
        with self._lock:
            self.number += 1
            number = self.number
            run = self._runs[number] = _Run(time.monotonic(), waiting=set(self.formats))
            for old in [n for n in self._runs if n < number - 8]:
                del self._runs[old]
            for output in self.outputs.values():
                output.status = "updating"
        self._publish(self.snapshot())
        try:
            run.keys = cache.keys(inputs.gather(self.source, self.options), self.formats)  # before the parse, as a build does
        except DsrError:
            pass  # the parse reports it
        from ..writers import Job, html, registry

        try:
            doc = document.parse(self.source, self.options)
            job = Job(doc, build.theme_for(doc, self.options), self.options)
            body = html.body(doc)
        except DsrError as exc:
            self._watch_inputs()
            self._failed(number, tuple(exc.format().splitlines()))
            return
        except RecursionError:
            self._watch_inputs()
            self._failed(number, (DsrError(document.TOO_DEEP, path=self.source).format(),))
            return
        with self._lock:
            run.warnings = doc.warnings
            self.errors = ()
            self._format_warnings = {"parse": tuple(w.format() for w in doc.warnings)}
        if "html" in self.formats:
            try:
                outcome = Outcome(registry()["html"].write(job))
            except DsrError as exc:
                outcome = Outcome(None, tuple(exc.format().splitlines()))
            self._finish(number, "html", outcome)
        self._watch_inputs()
        background = tuple(f for f in self.formats if f != "html")
        if self._workers is not None and not self._stopping:
            self._workers.submit(number, pickle.dumps((job, body), pickle.HIGHEST_PROTOCOL), background)

    def _watch_inputs(self) -> None:
        """Tell the watcher what this version of the source reads (after the HTML when it parses)."""
        try:
            self.inputs = cache.inputs(self.source, self.options)
        except DsrError:
            pass  # keep watching what the last readable version named
        if self.on_inputs is not None:
            self.on_inputs(self.inputs)

    def _failed(self, number: int, errors: tuple[str, ...]) -> None:
        """The build stopped before any output: the page keeps the last good files and shows why."""
        with self._lock:
            self.errors = errors
            if number in self._runs:
                self._runs[number].waiting.clear()
            for output in self.outputs.values():
                if output.status == "updating":
                    output.status = "outdated" if self.path(output.fmt).is_file() else "missing"
        if not self._stopping:
            for line in errors:
                print(line, file=sys.stderr, flush=True)
            _say(f"build {number} failed; the page shows the messages over the last good output")
        self._publish(self.snapshot())

    # Results, from the build thread (HTML) and from the workers' result thread (the rest).

    def _background_done(self, number: int, fmt: str, outcome: Outcome) -> None:
        try:
            self._finish(number, fmt, outcome)
        except Exception as exc:  # noqa: BLE001  # this is the pool's own thread, which must live on
            print(f"dsr-export: internal error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def _finish(self, number: int, fmt: str, outcome: Outcome) -> None:
        output, run = self.outputs[fmt], self._runs.get(number)
        rendered, errors = outcome.rendered, outcome.errors
        if rendered is not None and self.options.strict and rendered.warnings:
            errors = (*(w.format() for w in rendered.warnings),
                      f"{self.source}: {len(rendered.warnings)} warning(s) while rendering (--strict)")
            rendered = None
        with self._writing:
            if self._stopping or run is None or number < output.build:
                return  # stopped, or a newer build's file is already in place
            if rendered is not None:
                target = self.path(fmt)
                target.parent.mkdir(parents=True, exist_ok=True)
                if fmt in run.keys:
                    cache.forget(target)  # a record must never describe a file it did not see written
                build.write_atomic(target, rendered.data)
                if fmt in run.keys:
                    cache.save(target, run.keys[fmt], rendered.data, (*run.warnings, *rendered.warnings))
        seconds = time.monotonic() - run.started
        with self._lock:
            run.waiting.discard(fmt)
            latest = number == self.number
            if rendered is None:
                if latest:
                    output.status = "failed"
                    self.errors = tuple(dict.fromkeys((*self.errors, *errors)))
            else:
                output.build, output.seconds = number, round(seconds, 3)
                if latest:
                    output.status = "updating" if self._wake.is_set() else "current"
                    self._format_warnings[fmt] = tuple(w.format() for w in rendered.warnings)
                else:
                    pending = self._runs.get(self.number)
                    output.status = "updating" if pending and fmt in pending.waiting else "outdated"
                if fmt == "epub":
                    self.chapters = tuple(chapters(rendered.data))
            settled = not self.busy and self.warnings != self._printed_warnings
            if settled:
                self._printed_warnings = self.warnings
        if self._stopping:
            return
        if rendered is None:
            for line in errors if latest else ():
                print(line, file=sys.stderr, flush=True)
        else:
            _say(f"build {number}: {fmt} in {seconds:.2f} s")
        if settled:
            for line in self._printed_warnings:
                print(line, file=sys.stderr, flush=True)
        self._publish(self.snapshot())


def _say(message: str) -> None:
    print(f"preview: {message}", flush=True)
