"""Headless Chromium (Debian's) driven by Playwright, for tests that lay out HTML and EPUB as a browser does."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = Path(os.environ.get("PUPPETEER_EXECUTABLE_PATH", "/usr/bin/chromium"))
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-extensions", "--no-first-run",
    "--disable-component-update", "--disable-sync", "--mute-audio",
]


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A Playwright Browser on the system Chromium; a missing browser fails, never skips."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise AssertionError(f"{CHROMIUM} not found: run tools/setup-system test")
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def page(width: int = 800, height: int = 1100) -> Iterator[object]:
    """One page of a fresh browser with no network: only file: and data: URLs load."""
    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
        try:
            yield context.new_page()
        finally:
            context.close()
