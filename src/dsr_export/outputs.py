"""Where a build writes: the --out folder checked before any work, and outputs put in place all at once.

A fault of the machine (a file where the folder should be, a read-only or full disk, a file
size limit) is the user's to fix: it ends the build with one line naming the path and the
reason, leaves no temporary file behind, and leaves every earlier output as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import DsrError, UsageError


def check_folder(out: Path) -> None:
    """Refuse an output folder that cannot be made or written in, before any work is done."""
    folder = Path(os.path.abspath(out))
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        kind = "a broken symlink" if existing.is_symlink() and not existing.exists() else "a file"
        what = "it" if existing == folder else str(existing)
        raise UsageError(f"--out {out}: {what} is {kind}, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DsrError(f"cannot write in the output folder: {_unwritable(existing)}", path=existing)


def _unwritable(folder: Path) -> str:
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return os.strerror(errno.EROFS)
    except OSError:
        pass
    return os.strerror(errno.EACCES)


def write_atomic(target: Path, data: bytes) -> None:
    """Write one file under a temporary name beside `target`, then rename it into place."""
    write_all({target: data})


def write_all(files: Mapping[Path, bytes]) -> None:
    """Write every file under a temporary name beside it, then rename them all into place.

    Nothing is renamed until every file has been written in full, so a fault on any one
    (the disk fills, a file size limit) leaves all the earlier files as they were. Ctrl-C
    and SIGTERM wait while one file is written and while the files are renamed, so an
    interrupted build never leaves a temporary file behind.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for target, data in files.items():
            with _signals_deferred():
                staged.append((_write_temporary(target, data), target))
        with _signals_deferred():
            for tmp, target in staged:
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    raise DsrError(f"cannot put the output in place: {_reason(exc)}", path=target) from None
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise


def _write_temporary(target: Path, data: bytes) -> str:
    """`data` in a new temporary file beside `target`; its name. Faults become DsrErrors naming the path."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = Path(exc.filename) if exc.filename else target.parent
        raise DsrError(f"cannot create the output folder: {_reason(exc)}", path=where) from None
    if target.is_dir() and not target.is_symlink():  # a rename onto it would fail after others had been made
        raise DsrError("cannot write the output: a directory is in its place", path=target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise DsrError(f"cannot write the output: {_reason(exc)}", path=target) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except OSError as exc:  # ENOSPC, EFBIG (a file size limit), EDQUOT, EIO
        Path(tmp).unlink(missing_ok=True)
        raise DsrError(f"cannot write the output: {_reason(exc)}", path=target) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


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
