"""A bare machine and CI test the same thing: no check is skipped, and the setup script says what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, dsr

SKIPPING = """\
import pytest

def test_runs():
    assert True

def test_needs_a_tool():
    pytest.skip("tool not installed")
"""


def _pytest(folder: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    env["PYTHONPATH"] = str(ROOT / "tests")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no_skips", "-ra", "-q", "-p", "no:cacheprovider", str(folder)],
        capture_output=True, text=True, cwd=folder, env=env,
    )


def test_a_skipped_test_fails_the_run_in_ci(tmp_path):
    (tmp_path / "test_sample.py").write_text(SKIPPING)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    ci = _pytest(tmp_path, ci=True)
    assert ci.returncode == 1, ci.stdout
    assert "1 test(s) skipped; every check must run in CI" in ci.stdout
    local = _pytest(tmp_path, ci=False)
    assert local.returncode == 0, local.stdout
    assert "SKIPPED" in local.stdout


def test_setup_script_is_quiet_when_everything_is_there():
    run = subprocess.run([str(ROOT / "tools" / "setup-system"), "test"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout == run.stderr == ""


def test_setup_script_names_what_to_install_without_root(tmp_path):
    """Without root (or apt-get) the script cannot install: one line names the packages and fails."""
    tools = tmp_path / "tools"
    tools.mkdir()
    script = (ROOT / "tools" / "setup-system").read_text()
    (tools / "setup-system").write_text(script)
    (tools / "system-packages").write_text("test  no-such-package-dsr  # the tool some tests need\n")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text("#!/bin/sh\necho 1000\n")  # not root
    (fake / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    run = subprocess.run(["bash", str(tools / "setup-system"), "test"], capture_output=True, text=True, env=env)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "no-such-package-dsr" in lines[0] and "the tool some tests need" in lines[0]


def test_the_setup_script_knows_every_tool_the_tests_run():
    listed = (ROOT / "tools" / "system-packages").read_text()
    for package in ("chromium", "libreoffice-writer-nogui", "libharfbuzz-subset0", "poppler-utils"):
        assert f" {package} " in listed, package


def test_an_empty_source_is_an_error(tmp_path):
    for name, text in {
        "empty.md": "",
        "blank.md": "  \n\n\t\n",
        "matter.md": "---\ntitle: Only a title\n---\n\n   \n",
    }.items():
        source = tmp_path / name
        source.write_text(text)
        out = tmp_path / f"out-{source.stem}"
        run = dsr("build", str(source), "--out", str(out))
        assert run.status == 1, (name, run.stderr)
        assert run.stderr.strip() == f"{source}: the source has no text", run.stderr
        assert not out.exists()
