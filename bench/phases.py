"""Where a cold build's time goes: one full build in one process, with a wall-clock timer on each phase.

The build runs serially (`--jobs 1`), so every phase is on one core and the times add up;
the parallel build overlaps them (see BENCHMARKS.md). Timers wrap the functions that make
each phase, so they cost nothing measurable; `--cprofile FILE` also writes cProfile's
statistics, whose own overhead inflates the Python-heavy phases.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# (label, module, attribute), outermost first; a phase nested in another is indented in the table.
PHASES = [
    ("read the source", "dsr_export.inputs", "gather"),
    ("cache key (reads bibliography, style, theme)", "dsr_export.cache", "keys"),
    ("parse (pandoc with citeproc, gate, transforms)", "dsr_export.document", "parse"),
    ("  of which pandoc, Markdown to AST", "dsr_export.pandoc", "markdown_to_ast"),
    ("HTML body (pandoc)", "dsr_export.writers.html", "body"),
    ("PDF writer", "dsr_export.writers.pdf", "write"),
    ("  print layout (WeasyPrint), once", "dsr_export.writers.pdf", "lay_out"),
    ("  PDF writing (WeasyPrint)", "weasyprint.document", "Document.write_pdf"),
    ("EPUB writer (page map from the PDF's layout)", "dsr_export.writers.epub", "write"),
    ("DOCX writer", "dsr_export.writers.docx", "write"),
    ("  of which pandoc, AST to DOCX", "dsr_export.writers.docx", "pandoc.ast_to"),
    ("HTML writer", "dsr_export.writers.html", "write"),
    ("write the files", "dsr_export.build", "write_atomic"),
    ("write the build records", "dsr_export.cache", "save"),
]


def _timed(totals: dict[str, float], label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    depth = {"n": 0}

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth["n"] += 1
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            depth["n"] -= 1
            if depth["n"] == 0:  # a recursive call is counted once
                totals[label] = totals.get(label, 0.0) + time.perf_counter() - start

    return wrapper


def child(source: Path, out: Path, stats: Path | None) -> dict[str, float]:
    """One cold build of `source` in this process; seconds per phase."""
    import importlib

    totals: dict[str, float] = {}
    start = time.perf_counter()
    import weasyprint  # noqa: F401  # timed on its own: the parallel build hides it behind the parse

    totals["import WeasyPrint"] = time.perf_counter() - start
    from dsr_export import build
    from dsr_export.config import Options

    for label, module, name in PHASES:
        owner: Any = importlib.import_module(module)
        attr = name
        if "." in name:
            part, attr = name.split(".")
            if isinstance(getattr(owner, part), types.ModuleType):  # this module's use of it only
                setattr(owner, part, types.SimpleNamespace(**vars(getattr(owner, part))))
            owner = getattr(owner, part)
        setattr(owner, attr, _timed(totals, label, getattr(owner, attr)))
    options = Options(out_dir=out, jobs=1, force=True)
    profiler = cProfile.Profile() if stats else None
    begin = time.perf_counter()
    if profiler:
        profiler.enable()
    build.build_one(source, options, lambda _: None)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(stats))
    totals["whole build (after the import)"] = time.perf_counter() - begin
    return totals


def phases(source: Path, stats: Path | None = None) -> dict[str, float]:
    """Run child() in a fresh interpreter (nothing imported or cached beforehand)."""
    with tempfile.TemporaryDirectory(prefix="dsr-profile-") as tmp:
        env = {**os.environ, "DSR_EXPORT_CACHE": str(Path(tmp) / "records"),
               "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1609718400")}
        command = [sys.executable, __file__, "--child", str(source), "--out", tmp]
        if stats:
            command += ["--cprofile", str(stats)]
        proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"profile run failed:\n{proc.stderr}")
        return json.loads(proc.stdout)


def table(columns: dict[str, dict[str, float]]) -> list[str]:
    """A Markdown table: one row per phase, one column (seconds and share of the build) per source."""
    names = list(columns)
    lines = ["| phase | " + " | ".join(f"{n} s | share" for n in names) + " |",
             "|---|" + "---:|---:|" * len(names)]
    labels = ["import WeasyPrint", *(label for label, _, _ in PHASES), "whole build (after the import)"]
    for label in labels:
        cells = []
        for name in names:
            value = columns[name].get(label)
            whole = columns[name]["whole build (after the import)"]
            share = "" if value is None or label.startswith("import") else f"{100 * value / whole:.0f}%"
            cells.append("-" if value is None else f"{value:.2f}")
            cells.append(share)
        shown = label.replace("  ", "&nbsp;&nbsp;&nbsp;")
        lines.append(f"| {shown} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, nargs="?", default=ROOT / "source" / "digital-silk-road.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", type=Path, help="also write cProfile statistics here (pstats format)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child.resolve(), args.out, args.cprofile)))
        return
    result = phases(args.source.resolve(), args.cprofile)
    print("\n".join(table({args.source.stem: result})))


if __name__ == "__main__":
    main()
