"""Watching a build's inputs with watchfiles: saves in quick succession arrive as one change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

# watchfiles yields once nothing has changed for STEP_MS (several saves in a row make one
# rebuild), and at the latest after DEBOUNCE_MS of continuous changes.
STEP_MS = 30
DEBOUNCE_MS = 400
RESTART_S = 0.2


def folders(inputs: tuple[Path, ...]) -> tuple[Path, ...]:
    """The folders to watch: each input's own (editors save by writing a new file and renaming it),
    or its nearest existing ancestor while the folder does not exist yet."""
    found: dict[Path, None] = {}
    for path in inputs:
        folder = path.parent
        while not folder.is_dir() and folder != folder.parent:
            folder = folder.parent
        found[folder] = None
    return tuple(found)


class Watcher:
    """A thread that calls `changed(paths)` whenever one of the inputs (or a folder on its way) changes."""

    def __init__(self, inputs: tuple[Path, ...], changed: Callable[[list[Path]], None]) -> None:
        self._inputs = frozenset(inputs)
        self._changed = changed
        self._restart = threading.Event()
        self._stopping = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="preview watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def update(self, inputs: tuple[Path, ...]) -> None:
        """Watch `inputs` from now on (a build found another bibliography, image or theme)."""
        with self._lock:
            old = set(folders(tuple(self._inputs)))
            self._inputs = frozenset(inputs)
            if set(folders(inputs)) != old:
                self._restart.set()

    def stop(self) -> None:
        self._stopping = True
        self._restart.set()

    def _wanted(self, _change: watchfiles.Change, name: str) -> bool:
        path = Path(name)
        inputs = self._inputs
        return path in inputs or any(path in p.parents for p in inputs)

    def _run(self) -> None:
        first = True
        while not self._stopping:
            with self._lock:
                self._restart.clear()
                watched = folders(tuple(self._inputs))
            if not first:
                # A save between the old watch's end and the new one's start would go unseen: build
                # once more just after the new one starts (its folders are registered at once).
                threading.Timer(RESTART_S, self._changed, args=([],)).start()
            first = False
            for batch in watchfiles.watch(
                *watched, watch_filter=self._wanted, step=STEP_MS, debounce=DEBOUNCE_MS,
                stop_event=self._restart, recursive=False, raise_interrupt=False,
            ):
                self._changed(sorted({Path(name) for _, name in batch}))
