"""The only module that runs pandoc (the binary bundled by pypandoc-binary)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from .errors import ToolError

# pandoc's own limits keep a hostile source from running away with the machine.
_RTS = ["+RTS", "-M2G", "-RTS"]


@functools.cache
def executable() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


@functools.cache
def version() -> str:
    out = subprocess.run([executable(), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[0].split()[-1]


def run(
    args: list[str],
    stdin: bytes,
    *,
    cwd: Path,
    source: Path,
    env: dict[str, str] | None = None,
) -> tuple[bytes, list[str]]:
    """Run pandoc with `args`, feeding `stdin`; return stdout and pandoc's warnings.

    A failure becomes a ToolError naming the source file and keeping pandoc's
    own message, never an empty one.
    """
    limit = time_limit()
    try:
        proc = subprocess.run(
            [executable(), *args, *_RTS],
            input=stdin,
            capture_output=True,
            cwd=cwd,
            env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **(env or {})},
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        # Some pathological Markdown (thousands of nested brackets) keeps pandoc's reader busy
        # for many minutes inside its memory limit; a build must end all the same.
        raise ToolError(f"pandoc gave up on this source after {limit:g} s (is it nested thousands deep?)",
                        path=source) from None
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        detail = " ".join(stderr.split()) or f"pandoc exited with status {proc.returncode}"
        raise ToolError(f"pandoc could not convert this source: {detail}", path=source)
    return proc.stdout, _warnings(stderr)


def time_limit() -> float:
    """Seconds one pandoc run may take: DSR_EXPORT_PANDOC_TIMEOUT, else 300."""
    value = os.environ.get("DSR_EXPORT_PANDOC_TIMEOUT", "").strip()
    try:
        return float(value) if value and float(value) > 0 else 300.0
    except ValueError:
        return 300.0


def _warnings(stderr: str) -> list[str]:
    """Split pandoc's stderr into one string per warning (continuation lines joined)."""
    warnings: list[str] = []
    for raw in stderr.splitlines():
        if raw.startswith("[WARNING]") or not warnings:
            warnings.append(raw.removeprefix("[WARNING]").strip())
        else:
            warnings[-1] += " " + raw.strip()
    return [w for w in warnings if w]


# Bare URLs become links, so an "@" in https://x.org/@name is never read as a citation.
MARKDOWN = "markdown+autolink_bare_uris"


def markdown_to_ast(text: str, args: list[str], *, cwd: Path, source: Path) -> tuple[dict[str, Any], list[str]]:
    out, warnings = run(
        ["--from", MARKDOWN, "--to", "json", *args], text.encode("utf-8"), cwd=cwd, source=source
    )
    return json.loads(out), warnings


def ast_to(
    ast: dict[str, Any], to: str, args: list[str], *, cwd: Path, source: Path, env: dict[str, str] | None = None
) -> bytes:
    out, _ = run(
        ["--from", "json", "--to", to, *args], json.dumps(ast).encode("utf-8"), cwd=cwd, source=source, env=env
    )
    return out


@functools.cache
def default_data_file(name: str) -> bytes:
    """One of pandoc's own data files, e.g. its reference.docx."""
    out, _ = run(["--print-default-data-file", name], b"", cwd=Path.cwd(), source=Path(name))
    return out
