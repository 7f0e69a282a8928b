"""Where builds run: a local pool of processes or a Dask cluster, behind one shape of task and result.

A task carries a source and exactly the files its build may read; its result carries the
outputs' bytes and the diagnostics. The client writes the files and keeps the build records,
so a worker needs neither the client's file system nor its cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Diagnostic


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back for one source."""

    outputs: dict[str, bytes] = field(default_factory=dict)  # format -> file bytes
    warnings: tuple[Diagnostic, ...] = ()
    error: tuple[Diagnostic, ...] = ()  # the error that stopped the build, as diagnostics
    error_text: str = ""  # ... and as the command line prints it
    exit_status: int = 0
    seconds: float = 0.0
    worker: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)


def relocated(diagnostic: Diagnostic, paths: dict[Path, Path]) -> Diagnostic:
    """A diagnostic about a worker's copy of a file, told about the client's file instead."""
    if diagnostic.path is None:
        return diagnostic
    return Diagnostic(
        diagnostic.message, paths.get(diagnostic.path, diagnostic.path), diagnostic.line,
        diagnostic.code, diagnostic.severity,
    )
