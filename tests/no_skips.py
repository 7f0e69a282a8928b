"""A pytest plugin: under CI=true a skipped test fails the run, so a missing tool cannot hide a check."""

from __future__ import annotations

import os

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        if reporter:
            reporter.write_line(f"CI: {len(skipped)} test(s) skipped; every check must run in CI", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
