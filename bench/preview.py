"""Benchmark of the live preview: a saved one-word edit, timed until a real browser shows it.

For the essay and the 50x book, `dsr-export preview` runs in its own process and Debian's
Chromium (headless, driven by Playwright) shows its page. Each run saves a one-word edit,
then reads from the page when the new HTML was swapped into view and when the page said
every format was up to date; the page and this script share the machine's clock. The
figures go into BENCHMARKS.md between the markers below (bench/run.py keeps them).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import make_book

BIN = Path(sys.executable).parent
ESSAY = ROOT / "source" / "digital-silk-road.md"
EPOCH = "1609718400"
CHROMIUM = os.environ.get("PUPPETEER_EXECUTABLE_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START, END = "<!-- preview-benchmark:start -->", "<!-- preview-benchmark:end -->"
WORD = "announced"  # in the essay's first paragraph, so the edit is on the first screen
TARGET_HTML_S, TARGET_ALL_S = 0.5, 1.5
FIRST_BUILD_MS = 900_000  # the book's first build on a busy machine
EDIT_MS = 1_800_000  # the book on a busy machine: every format took over 5 minutes


@dataclass
class Figures:
    """One document's runs: seconds from the save to each moment."""

    html: list[float] = field(default_factory=list)     # the browser shows the new HTML
    every: list[float] = field(default_factory=list)    # the page says every format is up to date
    server: list[float] = field(default_factory=list)   # the server had the HTML written (its own clock)
    browser: list[float] = field(default_factory=list)  # the page's part: from the push to the frame shown
    load: list[str] = field(default_factory=list)


class Preview:
    """The preview server in a process of its own; its terminal lines are kept."""

    def __init__(self, source: Path, out: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "dsr-export"), "preview", str(source), "--port", "0", "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.lines: list[str] = []
        self._url = threading.Event()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._url.wait(300):
            raise SystemExit("the preview did not start")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            match = re.match(r"preview: (http://\S+/)", line)
            if match:
                self.url = match[1]
                self._url.set()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            print(f"  preview: {line.rstrip()}", file=sys.stderr)

    def html_seconds(self, build: int) -> float | None:
        for line in self.lines:
            match = re.match(rf"preview: build {build}: html in ([\d.]+) s", line)
            if match:
                return float(match[1])
        return None

    def stop(self) -> None:
        self.proc.send_signal(2)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def uptime() -> str:
    return subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()


def measure(browser, source: Path, work: Path, runs: int, env: dict[str, str]) -> Figures:
    """`runs` one-word edits of `source`, each timed in the browser."""
    figures = Figures(load=[uptime()])
    preview = Preview(source, work / "out", env)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto(preview.url)
        every_current = """build => {
            const s = window.dsrPreview.allCurrent;
            return s.length > 0 && s[s.length - 1].build >= build && s[s.length - 1].at;
        }"""
        page.wait_for_function(every_current, arg=1, timeout=FIRST_BUILD_MS)
        previous = WORD
        for run in range(1, runs + 1):
            time.sleep(1.0)  # let the last build's processes settle
            word = f"edit{run:02d}word"
            text = source.read_text(encoding="utf-8")
            source.write_text(text.replace(previous, word, 1), encoding="utf-8")
            saved = time.time()
            previous = word
            # The frame shown holds the word: read when the page swapped it into view.
            shown = page.wait_for_function(
                """word => {
                    const frame = document.querySelector('#view iframe.shown');
                    if (!frame || !frame.contentDocument || !frame.contentDocument.body) return false;
                    if (!frame.contentDocument.body.textContent.includes(word)) return false;
                    const build = Number(frame.dataset.build);
                    const entry = window.dsrPreview.shown.find(e => e.view === 'html' && e.build === build);
                    return entry ? [build, entry.at, entry.requested] : false;
                }""",
                arg=word, timeout=EDIT_MS,
            ).json_value()
            build, shown_at, requested_at = shown
            every_at = page.wait_for_function(every_current, arg=build, timeout=EDIT_MS).json_value()
            figures.html.append(shown_at / 1000 - saved)
            figures.every.append(every_at / 1000 - saved)
            figures.browser.append((shown_at - requested_at) / 1000)
            server = preview.html_seconds(build)
            if server is not None:
                figures.server.append(server)
            print(f"  {source.stem} run {run}: browser shows it {figures.html[-1]:.3f} s, "
                  f"every format {figures.every[-1]:.3f} s", file=sys.stderr, flush=True)
            if run == runs // 2:
                figures.load.append(uptime())
    finally:
        page.close()
        preview.stop()
    figures.load.append(uptime())
    return figures


def _row(name: str, f: Figures) -> str:
    def cell(values: list[float]) -> str:
        if not values:
            return "-"
        return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"

    return f"| {name} | {cell(f.html)} | {cell(f.every)} | {cell(f.server)} | {cell(f.browser)} | {len(f.html)} |"


def report(results: dict[str, Figures], runs: int, copies: int) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        START,
        "## Live preview",
        "",
        (f"Produced by `make bench-preview` (`bench/preview.py`) on {when}: {os.cpu_count()} cores, "
         f"Python {platform.python_version()}, {platform.system()} {platform.machine()}."),
        (f"{runs} saved one-word edits of the essay (the runs column for each document) into a running `dsr-export preview` (all four formats), "
         "each timed in Debian's Chromium (headless) from the save to the moment the page swapped the new "
         "HTML into view, and to the moment the page said every format was up to date. Medians, with min-max."),
        "",
        "Machine load (`uptime`) before, halfway and after each document:",
        "",
        *(f"    {name}: {line}" for name, f in results.items() for line in f.load),
        "",
        ("| document | save to the browser showing it, s | save to every format up to date, s "
         "| of which: HTML written, from the build's start (server), s "
         "| of which: the page loading the new HTML, s | runs |"),
        "|---|---:|---:|---:|---:|---:|",
        *(_row(name, f) for name, f in results.items()),
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
    ]
    essay = results.get("essay")
    if essay and essay.html:
        for label, values, limit in (("essay: save to the browser showing it, at most", essay.html, TARGET_HTML_S),
                                     ("essay: save to every format up to date, at most", essay.every, TARGET_ALL_S)):
            median = statistics.median(values)
            verdict = "met" if median <= limit else "**missed**"
            lines.append(f"| {label} {limit} s | {median:.3f} s | {verdict} |")
    book = results.get(f"{copies}x book")
    if essay and book and essay.html and book.html:
        show = statistics.median(book.html) / statistics.median(essay.html)
        every = statistics.median(book.every) / statistics.median(essay.every)
        lines += ["", (f"Scaling: the {copies}x book takes {show:.1f}x the essay's time to show an edit "
                       f"and {every:.1f}x its time to update every format.")]
    lines.append(END)
    return "\n".join(lines) + "\n"


def kept(path: Path) -> str:
    """The preview section of an existing report, for bench/run.py to carry over when it rewrites the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    if START in text and END in text:
        return "\n" + text[text.index(START):text.index(END) + len(END)] + "\n"
    return ""


def write(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if START in text and END in text:
        text = text[:text.index(START)] + section.rstrip("\n") + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="edits per document (default 10)")
    parser.add_argument("--book-runs", type=int, help="edits of the book (default: as --runs)")
    parser.add_argument("--no-book", action="store_true", help="skip the 50x book")
    parser.add_argument("--copies", type=int, default=50, help="essay copies in the book (default 50)")
    parser.add_argument("--write", type=Path, default=ROOT / "BENCHMARKS.md", help="report file")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="dsr-bench-preview-"))
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "DSR_EXPORT_CACHE": str(work / "records")}
    results: dict[str, Figures] = {}
    try:
        essay_dir = work / "essay"
        shutil.copytree(ESSAY.parent, essay_dir)
        documents = [("essay", essay_dir / ESSAY.name, args.runs)]
        if not args.no_book:
            book = make_book.write(work / "book", args.copies)
            documents.append((f"{args.copies}x book", book, args.book_runs or args.runs))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for name, source, runs in documents:
                    print(f"{name}:", file=sys.stderr, flush=True)
                    results[name] = measure(browser, source, source.parent, runs, env)
            finally:
                browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    section = report(results, args.runs, args.copies)
    print(section)
    write(args.write, section)
    print(f"written to {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
