"""Finished files put in place atomically: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


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
