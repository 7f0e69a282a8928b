"""The live preview, as an author uses it: a real server, the system Chromium, edits saved to disk."""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ONE_BOOK, ROOT, pdf_text
from PIL import Image

CHROMIUM = os.environ.get("PUPPETEER_EXECUTABLE_PATH", "/usr/bin/chromium")
# Debian's Chromium, headless, with nothing that reaches the network or updates itself.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 180_000  # a generous bound for a shared, busy machine; the tests measure nothing

# Long enough to scroll, so the tests can see the place kept across a reload.
FILLER = "\n\n".join(f"Filler paragraph {i} about caravans, cables and the roads between them." for i in range(60))
SOURCE = f"""\
---
title: Preview Paper
bibliography: refs.yaml
---

# Opening

The word of the day is ALPHA, as @smith2020 argued.

{FILLER}

# References {{.unnumbered}}

::: {{#refs}}
:::
"""


class Server:
    """`dsr-export preview` in a process of its own, its terminal output collected line by line."""

    def __init__(self, source: Path, out: Path, *args: str, tmp: Path) -> None:
        env = {**os.environ, "TMPDIR": str(tmp)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dsr_export", "preview", str(source), "--port", "0", "--out", str(out), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        for stream, into in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._read, args=(stream, into), daemon=True).start()
        self.url = self._wait_for_url()

    def _read(self, stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))
            self._lines.put(line)

    def _wait_for_url(self) -> str:
        while True:
            try:
                line = self._lines.get(timeout=WAIT_MS / 1000)
            except queue.Empty:
                raise AssertionError(f"no URL from the preview: {self.stdout} {self.stderr}") from None
            match = re.match(r"preview: (http://\S+/)", line)
            if match:
                return match[1]
            if self.proc.poll() is not None:
                raise AssertionError(f"the preview exited with {self.proc.returncode}: {self.stderr}")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].strip("/"))

    def stop(self, signum: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("the preview did not stop within 60 s of a signal") from None
        return self.proc.returncode


def raw_get(port: int, target: str, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """GET `target` exactly as written (no client-side clean-up of ../ or %2e)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"{host}:{port}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"Chromium is needed for these tests: {CHROMIUM} (tools/setup-system test)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "refs.yaml").write_text(ONE_BOOK, encoding="utf-8")
    source = folder / "paper.md"
    source.write_text(SOURCE, encoding="utf-8")
    return source


@pytest.fixture
def server(paper: Path, tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "tmp").mkdir()
    running = Server(paper, tmp_path / "out", tmp=tmp_path / "tmp")
    try:
        yield running
    finally:
        running.stop()


def _frame_text(page, word: str) -> None:
    """Wait until the frame the page shows holds `word` (the test does nothing else meanwhile)."""
    page.wait_for_function(
        """word => {
            const frame = document.querySelector('#view iframe.shown');
            return !!frame && !!frame.contentDocument && frame.contentDocument.body.innerText.includes(word);
        }""",
        arg=word, timeout=WAIT_MS,
    )


def _all_current(page) -> None:
    page.wait_for_function(
        """() => {
            const items = [...document.querySelectorAll('#formats li')];
            return items.length === 4 && items.every(li => li.dataset.status === 'current');
        }""",
        timeout=WAIT_MS,
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_saves_show_in_the_browser_and_errors_in_the_page(browser, server: Server, paper: Path, tmp_path: Path):
    page = browser.new_page()
    page.goto(server.url)
    _frame_text(page, "ALPHA")
    _all_current(page)

    # A saved edit reaches the page by itself, and the reader stays where they were.
    page.evaluate("() => document.querySelector('#view iframe.shown').contentWindow.scrollTo(0, 700)")
    _edit(paper, "ALPHA", "BRAVO")
    _frame_text(page, "BRAVO")
    scrolled = page.evaluate("() => document.querySelector('#view iframe.shown').contentWindow.scrollY")
    assert abs(scrolled - 700) < 5

    # An unresolved key: the page shows the command line's message over the last good output.
    _edit(paper, "@smith2020", "@smith2021")
    page.wait_for_selector("#problems:not([hidden])", timeout=WAIT_MS)
    shown = page.inner_text("#errors")
    assert f"{paper}:8: " in shown and "smith2021" in shown
    assert "BRAVO" in page.evaluate("() => document.querySelector('#view iframe.shown').contentDocument.body.innerText")
    assert server.proc.poll() is None
    assert any("smith2021" in line and f"{paper}:8:" in line for line in server.stderr)
    assert shown.splitlines()[0] in server.stderr  # the same words in the terminal

    # Fixing it clears the message and shows the new text.
    _edit(paper, "@smith2021", "@smith2020")
    _edit(paper, "BRAVO", "CHARLIE")
    _frame_text(page, "CHARLIE")
    page.wait_for_selector("#problems", state="hidden", timeout=WAIT_MS)

    # Malformed front matter is shown the same way, and the server goes on.
    _edit(paper, "title: Preview Paper", "title: [Preview Paper")
    page.wait_for_selector("#problems:not([hidden])", timeout=WAIT_MS)
    assert f"{paper}:" in page.inner_text("#errors")
    _edit(paper, "title: [Preview Paper", "title: Preview Paper")
    page.wait_for_selector("#problems", state="hidden", timeout=WAIT_MS)

    # So is a missing image; adding it later, in a folder that did not exist, is seen too.
    _edit(paper, "# References", "![A map](figures/map.png)\n\n# References")
    page.wait_for_selector("#problems:not([hidden])", timeout=WAIT_MS)
    assert "figures/map.png" in page.inner_text("#errors")
    (paper.parent / "figures").mkdir()
    Image.new("RGB", (40, 20), "#336699").save(paper.parent / "figures" / "map.png")
    page.wait_for_selector("#problems", state="hidden", timeout=WAIT_MS)

    # The other formats follow: every one is current and holds the new text.
    _all_current(page)
    out = tmp_path / "out"
    assert "CHARLIE" in pdf_text(out / "paper.pdf")
    with zipfile.ZipFile(out / "paper.docx") as docx:
        assert "CHARLIE" in docx.read("word/document.xml").decode()

    # One click away: the PDF and the EPUB's chapters in the page, the DOCX as a download.
    page.click("#tabs button[data-format=pdf]")
    page.wait_for_selector("#view iframe[src^='/out/paper.pdf']", state="attached", timeout=WAIT_MS)
    page.click("#tabs button[data-format=epub]")
    _frame_text(page, "CHARLIE")
    assert page.locator("#chapter option").count() >= 3
    href = page.get_attribute("#tabs a[data-format=docx]", "href")
    response = page.request.get(server.url.rstrip("/") + href)
    assert response.status == 200 and response.body()[:2] == b"PK"
    page.close()


def _status(server: Server) -> dict:
    import json

    status, body = raw_get(server.port, "/status")
    assert status == 200
    return json.loads(body)


def _settled(server: Server, out: Path, word: str) -> dict:
    """Wait until the HTML holds `word` and nothing is being built."""
    for _ in range(WAIT_MS // 50):
        state = _status(server)
        html = out / "paper.html"
        if not state["busy"] and html.is_file() and word in html.read_text(encoding="utf-8"):
            return state
        threading.Event().wait(0.05)
    raise AssertionError(f"the preview never settled on {word}: {state} {server.stdout} {server.stderr}")


def test_quick_saves_share_a_build_and_a_save_during_a_build_makes_another(server: Server, paper: Path, tmp_path: Path):
    out = tmp_path / "out"
    before = _settled(server, out, "ALPHA")["build"]
    word = "ALPHA"
    for n in range(1, 6):  # five saves in a row, as fast as this process writes them
        _edit(paper, word, f"ECHO{n}")
        word = f"ECHO{n}"
    # One build, or two when the burst outlasts the watcher's quiet step on a busy machine.
    after = _settled(server, out, "ECHO5")["build"]
    assert before + 1 <= after <= before + 2

    _edit(paper, "ECHO5", "FOXTROT")
    for _ in range(WAIT_MS // 20):  # the build has begun: save again while it runs
        if _status(server)["build"] == after + 1:
            break
        threading.Event().wait(0.02)
    _edit(paper, "FOXTROT", "GOLF")
    state = _settled(server, out, "GOLF")
    assert state["build"] == after + 2
    assert all(f["status"] == "current" and f["build"] == after + 2 for f in state["formats"])


def test_serves_only_its_outputs_on_loopback(server: Server, paper: Path):
    port = server.port
    # Bound to 127.0.0.1 only: the listening socket in the kernel's table.
    listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    mine = [f for f in listening if f[1].endswith(f":{port:04X}") and f[3] == "0A"]
    assert [f[1] for f in mine] == [f"0100007F:{port:04X}"]

    status, body = raw_get(port, "/status")
    assert status == 200 and b'"paper.md"' in body
    secret = paper.read_bytes()
    for target in [
        "/../../../../../../etc/passwd",
        "/out/../../../../../../etc/passwd",
        "/out/../paper/paper.md",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/out/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/out/..%2fpaper%2fpaper.md",
        "/epub/../../../../etc/passwd",
        "/epub/EPUB/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%2f__init__.py",
        "//etc/passwd",
        "/out//etc/passwd",
        "/out/%2fetc%2fpasswd",
        f"/epub/{paper}",
        f"/out/{paper}",
        "/paper.md",
        "/out/paper.md",
        "/out/refs.yaml",
    ]:
        status, body = raw_get(port, target)
        assert status == 404, (target, status)
        assert b"root:" not in body and secret not in body, target
    # A page elsewhere that points its own name at 127.0.0.1 gets nothing.
    assert raw_get(port, "/status", host="attacker.example")[0] == 400


def test_ctrl_c_stops_cleanly(server: Server, tmp_path: Path):
    import pikepdf

    out = tmp_path / "out"
    # Wait for the first build, then stop while the next one runs.
    while not all((out / f"paper.{fmt}").is_file() for fmt in ("html", "pdf", "epub", "docx")):
        assert server.proc.poll() is None
        threading.Event().wait(0.2)
    _edit(tmp_path / "paper" / "paper.md", "ALPHA", "DELTA")
    threading.Event().wait(0.5)
    assert server.stop(signal.SIGINT) == 130
    assert sorted(p.name for p in out.iterdir()) == ["paper.docx", "paper.epub", "paper.html", "paper.pdf"]
    assert list((tmp_path / "tmp").iterdir()) == []  # the workers' temporary folder is gone too
    assert (out / "paper.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    with pikepdf.open(out / "paper.pdf") as pdf:
        assert len(pdf.pages) >= 1
    for name in ("paper.epub", "paper.docx"):
        with zipfile.ZipFile(out / name) as archive:
            assert archive.testzip() is None


def test_another_host_is_warned_about(paper: Path, tmp_path: Path):
    (tmp_path / "tmp").mkdir()
    # 127.0.0.2 is still this machine, but not the default: the warning must be printed all the same.
    running = Server(paper, tmp_path / "out", "--host", "127.0.0.2", "--to", "html", tmp=tmp_path / "tmp")
    try:
        assert running.url.startswith("http://127.0.0.2:")
        for _ in range(100):  # the warning comes on the other stream, just before the address
            if any("visible to the network" in line for line in running.stderr):
                break
            threading.Event().wait(0.1)
        assert any("visible to the network" in line for line in running.stderr)
    finally:
        assert running.stop(signal.SIGTERM) == 130


def test_inputs_are_what_the_cache_records(paper: Path):
    from dsr_export import cache
    from dsr_export.config import Options

    (paper.parent / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    paper.write_text(paper.read_text() + "\n![A figure](figure.png)\n", encoding="utf-8")
    found = cache.inputs(paper, Options())
    names = {p.name for p in found}
    assert {"paper.md", "refs.yaml", "figure.png", "default.toml"} <= names
    assert any(p.suffix in (".ttf", ".otf") for p in found)
