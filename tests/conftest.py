"""Shared fixtures: real builds of the essay and of small sources written per test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ESSAY, ROOT

pytest_plugins = ["no_skips"]  # under CI=true, any skipped test fails the run

os.environ.setdefault("SOURCE_DATE_EPOCH", "1609718400")  # 2021-01-04: builds are reproducible


@pytest.fixture(scope="session")
def essay(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The essay built once, in every format, by the real command line."""
    out = tmp_path_factory.mktemp("essay")
    proc = subprocess.run(
        [sys.executable, "-m", "dsr_export", "build", str(ESSAY), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return {fmt: out / f"{ESSAY.stem}.{fmt}" for fmt in ("pdf", "epub", "docx", "html")}


@pytest.fixture(scope="session", autouse=True)
def _private_build_records(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Build records (what is up to date) live in this run's temporary folder, not the user's cache."""
    os.environ["DSR_EXPORT_CACHE"] = str(tmp_path_factory.mktemp("records"))


RICH = ROOT / "tests" / "fixtures" / "clients" / "rich.md"


@pytest.fixture(scope="session")
def rich(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A source with a table, notes, an SVG picture and display math, built in every format."""
    out = tmp_path_factory.mktemp("rich")
    proc = subprocess.run(
        [sys.executable, "-m", "dsr_export", "build", str(RICH), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return {fmt: out / f"{RICH.stem}.{fmt}" for fmt in ("pdf", "epub", "docx", "html")}
