"""Error and warning types, and the one place they are formatted for users."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_CONTENT = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a source: where it is, what it is, how serious."""

    message: str
    path: Path | None = None
    line: int | None = None
    code: str = "error"
    severity: str = "error"  # "error" or "warning"

    def format(self) -> str:
        where = location(self.path, self.line)
        label = "warning: " if self.severity == "warning" else ""
        return f"{where}{label}{self.message} [{self.code}]"


def location(path: Path | None, line: int | None) -> str:
    if path is None:
        return "dsr-export: "
    return f"{path}:{line}: " if line else f"{path}: "


class DsrError(Exception):
    """A problem with the user's input: exit status 1, never a traceback."""

    exit_status = EXIT_CONTENT

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def format(self) -> str:
        return f"{location(self.path, self.line)}{self.message}"


class UsageError(DsrError):
    """The command line itself is wrong: exit status 2."""

    exit_status = EXIT_USAGE


class GateError(DsrError):
    """The source failed the checks that run before any output is written."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s) found")
        self.diagnostics = diagnostics

    def format(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)


class ToolError(DsrError):
    """An external engine (pandoc, WeasyPrint, ...) refused the input."""
