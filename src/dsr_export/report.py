"""The machine-readable report of a build (`--report FILE.json`); its schema is report.schema.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .build import Outcome, write_atomic
from .config import format_of
from .errors import Diagnostic
from .executors.worker import error_diagnostics

SCHEMA = Path(__file__).with_name("report.schema.json")
VERSION = 1


def _diagnostic(d: Diagnostic) -> dict[str, Any]:
    return {"file": str(d.path) if d.path else None, "line": d.line, "code": d.code,
            "severity": d.severity, "message": d.message}


def _outputs(outcome: Outcome) -> list[dict[str, Any]]:
    if outcome.result is None:
        return []
    found = []
    for path in outcome.result.outputs:
        data = path.read_bytes()
        found.append({"format": format_of(path), "path": str(path), "bytes": len(data),
                      "sha256": hashlib.sha256(data).hexdigest(),
                      "rebuilt": format_of(path) in outcome.result.rebuilt})
    return found


def entry(outcome: Outcome) -> dict[str, Any]:
    """One source of the report."""
    if outcome.error is not None:
        status = "failed"
    elif outcome.result is not None and outcome.result.rebuilt:
        status = "built"
    else:
        status = "up-to-date"
    return {
        "source": str(outcome.source),
        "status": status,
        "seconds": round(outcome.seconds, 3),
        "outputs": _outputs(outcome),
        "warnings": [_diagnostic(w) for w in (outcome.result.warnings if outcome.result else ())],
        "errors": [_diagnostic(d) for d in error_diagnostics(outcome.error)] if outcome.error else [],
    }


def write(path: Path, outcomes: list[Outcome], seconds: float, executor: str) -> None:
    """The report of a whole build, written atomically."""
    report = {
        "version": VERSION,
        "executor": executor,
        "seconds": round(seconds, 3),
        "sources": [entry(o) for o in outcomes],
        "summary": {
            "sources": len(outcomes),
            "failed": sum(o.error is not None for o in outcomes),
            "warnings": sum(len(o.result.warnings) for o in outcomes if o.result),
        },
    }
    write_atomic(path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())
