"""Benchmark: dsr-export against the raw pandoc route, side by side, and writes BENCHMARKS.md.

Every scenario runs in a fresh process, alternating with the others in each round, so
slow phases of a shared machine fall on all of them alike. Figures are medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import make_book
import phases
import preview

BIN = Path(sys.executable).parent
DSR = [str(BIN / "dsr-export")]
WEASYPRINT = [sys.executable, "-m", "weasyprint"]
ESSAY = ROOT / "source" / "digital-silk-road.md"
EPOCH = "1609718400"
MIB = 1024 * 1024


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    peak_kib: int = 0  # the largest single process of the run (ru_maxrss)
    tree_kib: int = 0  # all processes of the run together, sampled (see tree_rss)
    loads: list[float] = field(default_factory=list)  # 1-minute load average as each run started

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def load_average() -> float:
    return os.getloadavg()[0]


def tree_rss(pid: int) -> int:
    """Resident memory (KiB) of a process and all its descendants, summed.

    Pages a forked child still shares with its parent are counted in both, so this is an
    upper bound of what the build holds at that moment.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total // 1024


def run(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> tuple[float, int, int]:
    """Run `commands` one after another: wall time, the largest process's peak RSS, and the
    peak of all processes together (KiB; sampled every 50 ms, so a shorter peak can be missed)."""
    start, peak, tree = time.perf_counter(), 0, 0
    for command in commands:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree = max(tree, tree_rss(proc.pid))
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode != 0:
            raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(command)}\n{stderr}")
        peak = max(peak, usage.ru_maxrss)
    return time.perf_counter() - start, peak, max(tree, peak)


def pandoc() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def style_path(source: Path) -> Path:
    """The CSL file our build uses for `source`, given to raw pandoc too."""
    from dsr_export.citations import DEFAULT_STYLE, resolve_style
    from dsr_export.source import read

    spec = read(source).front_matter.get("csl") or DEFAULT_STYLE
    return resolve_style(spec, source.parent).path


def raw_route(source: Path, out: Path) -> list[list[str]]:
    """What a user would type instead: pandoc with citeproc to HTML then WeasyPrint, to EPUB, to DOCX."""
    pd, csl, stem = pandoc(), str(style_path(source)), out / source.stem
    cite = ["--citeproc", "--csl", csl]
    return [
        [pd, str(source), *cite, "--standalone", "-o", f"{stem}.raw.html"],
        [*WEASYPRINT, f"{stem}.raw.html", f"{stem}.raw.pdf"],
        [pd, str(source), *cite, "-o", f"{stem}.raw.epub"],
        [pd, str(source), *cite, "-o", f"{stem}.raw.docx"],
    ]


def print_html(source: Path, out: Path) -> Path:
    """Our own print HTML for `source`, as the PDF writer hands it to WeasyPrint (for the floor)."""
    from dsr_export import build, document
    from dsr_export.config import Options
    from dsr_export.writers import Job, pdf

    options = Options(build_time=int(EPOCH))
    doc = document.parse(source, options)
    path = out / f"{source.stem}.print.html"
    path.write_text(pdf.print_html(Job(doc, build.theme_for(doc, options), options)), encoding="utf-8")
    return path


def floor(source: Path, out: Path) -> list[list[str]]:
    html = print_html(source, out)
    return [[*WEASYPRINT, "--pdf-variant", "pdf/ua-1", "--pdf-tags", "-u", source.parent.as_uri() + "/",
             str(html), str(out / f"{source.stem}.floor.pdf")]]


def ours(*sources: Path, out: Path, extra: tuple[str, ...] = ("--force",)) -> list[list[str]]:
    return [[*DSR, "build", *map(str, sources), "--out", str(out), *extra]]


def edit_paragraph(source: Path) -> Callable[[], None]:
    """Each call changes one word of one paragraph, back and forth, so every build has an edit."""
    state = {"on": False}

    def edit() -> None:
        text = source.read_text(encoding="utf-8")
        old, new = ("plenty of scholarly", "many scholarly") if not state["on"] else ("many scholarly", "plenty of scholarly")
        source.write_text(text.replace(old, new, 1), encoding="utf-8")
        state["on"] = not state["on"]

    return edit


@dataclass
class Scenario:
    name: str
    commands: list[list[str]]
    cwd: Path = ROOT
    before: Callable[[], None] | None = None
    runs: int | None = None


def measure(scenarios: list[Scenario], runs: int, env: dict[str, str]) -> dict[str, Sample]:
    """Round-robin: every round runs each scenario once, in the same order."""
    samples = {s.name: Sample() for s in scenarios}
    for round_ in range(runs):
        for s in scenarios:
            if s.runs is not None and round_ >= s.runs:
                continue
            if s.before:
                s.before()
            load = load_average()
            seconds, peak, tree = run(s.commands, s.cwd, env)
            sample = samples[s.name]
            sample.seconds.append(seconds)
            sample.loads.append(load)
            sample.peak_kib = max(sample.peak_kib, peak)
            sample.tree_kib = max(sample.tree_kib, tree)
            print(f"  {s.name}: {seconds:.2f} s (load {load:.2f})", file=sys.stderr, flush=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (2; 1 for the book): for development")
    parser.add_argument("--runs", type=int, help="runs per scenario (default 5, or 2 with --quick)")
    parser.add_argument("--no-book", action="store_true", help="skip the 50x book")
    parser.add_argument("--no-batch", action="store_true", help="skip the batch of 8 (the longest scenarios)")
    parser.add_argument("--copies", type=int, default=50, help="essay copies in the book (default 50)")
    parser.add_argument("--no-profile", action="store_true", help="skip the table of phases (bench/phases.py)")
    parser.add_argument("--write", type=Path, default=ROOT / "BENCHMARKS.md", help="report file")
    args = parser.parse_args()
    runs = args.runs or (2 if args.quick else 5)
    book_runs = 1 if args.quick and not args.runs else runs

    work = Path(tempfile.mkdtemp(prefix="dsr-bench-"))
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "DSR_EXPORT_CACHE": str(work / "records"),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    os.environ.update(SOURCE_DATE_EPOCH=EPOCH, DSR_EXPORT_CACHE=env["DSR_EXPORT_CACHE"])
    try:
        results, load, extras = bench(work, env, runs, book_runs, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = render(results, load, runs, book_runs, args, extras) + preview.kept(args.write)  # bench/preview.py's part
    print(report)
    # The book benchmark (bench/book.py) keeps its own section at the end of the file.
    old = args.write.read_text(encoding="utf-8") if args.write.exists() else ""
    mark = "<!-- book benchmark: bench/book.py -->"
    args.write.write_text(report + ("\n" + old[old.index(mark):] if mark in old else ""), encoding="utf-8")
    print(f"written to {args.write}", file=sys.stderr)


@dataclass
class Extras:
    """What is not a plain scenario: cold time by book length, and the phases of one build."""

    growth: list[tuple[int, int, str]] = field(default_factory=list)  # copies, print pages, scenario name
    profile: list[str] = field(default_factory=list)
    profile_load: list[str] = field(default_factory=list)


def pdf_pages(path: Path) -> int:
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def bench(work: Path, env: dict[str, str], runs: int, book_runs: int,
          args: argparse.Namespace) -> tuple[dict[str, Sample], list[str], Extras]:
    load = [_uptime()]
    extras = Extras()
    essay_dir = work / "essay"
    shutil.copytree(ESSAY.parent, essay_dir)
    essay = essay_dir / ESSAY.name
    out = {name: work / name for name in ("ours", "raw", "floor", "noop", "edit", "make", "b1", "b2")}
    for folder in out.values():
        folder.mkdir()
    batch_dir = work / "batch"
    batch_dir.mkdir()
    shutil.copy(ESSAY.parent / "references.yaml", batch_dir)
    batch = []
    for n in range(1, 9):
        path = batch_dir / f"essay-{n}.md"
        path.write_text(ESSAY.read_text(encoding="utf-8").replace('title: "', f'title: "{n}: ', 1), encoding="utf-8")
        batch.append(path)
    edited = work / "edited"
    shutil.copytree(ESSAY.parent, edited)
    edit = edited / ESSAY.name

    # Warm-ups, not measured: records for the no-op and edit runs, and make's stamp.
    run(ours(essay, out=out["noop"], extra=()), ROOT, env)
    run(ours(edit, out=out["edit"], extra=()), ROOT, env)
    make = ["make", "-s", f"SOURCE={essay}", f"OUT={out['make']}"]
    run([make], ROOT, env)

    scenarios = [
        Scenario("essay: dsr-export, all formats (cold)", ours(essay, out=out["ours"])),
        Scenario("essay: raw pandoc route, 3 commands", raw_route(essay, out["raw"]), cwd=essay_dir),
        Scenario("essay: WeasyPrint alone on our HTML", floor(essay, out["floor"])),
        Scenario("essay: no-op dsr-export build", ours(essay, out=out["noop"], extra=())),
        Scenario("essay: no-op make", [make]),
        Scenario("essay: one-paragraph edit, rebuild", ours(edit, out=out["edit"], extra=()),
                 before=edit_paragraph(edit)),
        Scenario("batch of 8: --jobs 1", ours(*batch, out=out["b1"], extra=("--force", "--jobs", "1"))),
        Scenario("batch of 8: --jobs 2", ours(*batch, out=out["b2"], extra=("--force", "--jobs", "2"))),
    ]
    if args.no_batch:
        scenarios = [s for s in scenarios if not s.name.startswith("batch")]
    print(f"essay and batch: {runs} rounds", file=sys.stderr)
    results = measure(scenarios, runs, env)
    load.append(_uptime())
    if not args.no_book:
        book = make_book.write(work / "book", args.copies)
        for name in ("book-ours", "book-raw", "book-floor"):
            (work / name).mkdir()
        book_ours = f"{args.copies}x book: dsr-export, all formats (cold)"
        book_scenarios = [
            Scenario(book_ours, ours(book, out=work / "book-ours")),
            Scenario(f"{args.copies}x book: raw pandoc route, 3 commands", raw_route(book, work / "book-raw"),
                     cwd=book.parent),
            Scenario(f"{args.copies}x book: WeasyPrint alone on our HTML", floor(book, work / "book-floor")),
        ]
        # How the cold build grows with length: shorter books of the same text.
        growth: list[tuple[int, str, Path]] = []
        for copies in sorted({1, 10} - {args.copies}):
            shorter = make_book.write(work / f"book{copies}", copies)
            name = f"{copies}x book: dsr-export, all formats (cold)"
            (work / f"book{copies}-ours").mkdir()
            book_scenarios.insert(-3, Scenario(name, ours(shorter, out=work / f"book{copies}-ours")))
            growth.append((copies, name, work / f"book{copies}-ours" / f"{shorter.stem}.pdf"))
        growth.append((args.copies, book_ours, work / "book-ours" / f"{book.stem}.pdf"))
        print(f"book: {book_runs} rounds", file=sys.stderr)
        results.update(measure(book_scenarios, book_runs, env))
        extras.growth = [(copies, pdf_pages(pdf), name) for copies, name, pdf in growth]
        load.append(_uptime())
    if not args.no_profile:
        print("phases of one serial cold build", file=sys.stderr)
        columns = {"essay": phases.phases(essay)}
        extras.profile_load.append(_uptime())
        if not args.no_book:
            columns[f"{args.copies}x book"] = phases.phases(book)
            extras.profile_load.append(_uptime())
        extras.profile = phases.table(columns)
    return results, load, extras


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "uptime unavailable"


def _load_warning(load: list[str]) -> list[str]:
    """A loud note when the machine was busy with other work during the run."""
    averages = []
    for line in load:
        try:
            averages.append(float(line.rsplit("load average:", 1)[1].split(",")[0]))
        except (IndexError, ValueError):
            continue
    cores = os.cpu_count() or 1
    if not averages or max(averages) <= cores:
        return []
    return [
        f"**This run was taken on a loaded machine** (1-minute load up to {max(averages):.1f} on {cores} "
        "cores): the times below are inflated and the ratios only indicative. The figures to quote "
        "come from `make bench` on a quiet machine.",
        "",
    ]


def _ratio(results: dict[str, Sample], a: str, b: str) -> float | None:
    if a in results and b in results:
        return results[a].median / results[b].median
    return None


def render(results: dict[str, Sample], load: list[str], runs: int, book_runs: int, args: argparse.Namespace,
           extras: Extras | None = None) -> str:
    extras = extras or Extras()
    copies = args.copies
    cmd = "make bench" + (f" BENCH_ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else "")
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{cmd}` (`bench/run.py`) on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}.",
        f"Rounds: {runs} for the essay and the batch, {book_runs} for the books; every scenario runs "
        "in fresh processes, alternating with the others in each round. Times are medians of wall-clock "
        "seconds; \"load\" is the median 1-minute load average as the runs started. \"peak MiB\" is the "
        "largest single process of a run (`ru_maxrss`); \"all MiB\" is the peak of all its processes "
        "together (the resident memory of the process tree summed, sampled every 50 ms with psutil; "
        "pages a forked worker shares with its parent count twice, so it is an upper bound).",
        "",
        "Machine load (`uptime`) before, between and after the rounds:",
        "",
        *[f"    {line}" for line in load],
        "",
        "Figures are only meaningful on a quiet machine: a load average above the core count "
        "inflates every time here, the short ones most, and takes away the second core that the "
        "parallel PDF worker and `--jobs 2` rely on.",
        "",
        *_load_warning(load),
        "| scenario | median s | min s | max s | runs | load | peak MiB | all MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in results.items():
        lines.append(f"| {name} | {s.median:.3f} | {min(s.seconds):.3f} | {max(s.seconds):.3f} | "
                     f"{len(s.seconds)} | {statistics.median(s.loads):.2f} | {s.peak_kib / 1024:.0f} | "
                     f"{s.tree_kib / 1024:.0f} |")
    ours_essay, raw_essay = "essay: dsr-export, all formats (cold)", "essay: raw pandoc route, 3 commands"
    book_ours, book_raw = f"{copies}x book: dsr-export, all formats (cold)", f"{copies}x book: raw pandoc route, 3 commands"
    targets: list[tuple[str, float | None, str, bool | None]] = []

    def target(label: str, value: float | None, shown: str, ok: Callable[[float], bool]) -> None:
        targets.append((label, value, shown, None if value is None else ok(value)))

    r = _ratio(results, ours_essay, raw_essay)
    target("essay, cold, all formats, vs the raw pandoc route: at most 0.80x", r, f"{r:.2f}x" if r else "-",
           lambda v: v <= 0.80)
    r = _ratio(results, ours_essay, "essay: WeasyPrint alone on our HTML")
    target("essay, cold, all formats, vs WeasyPrint alone on our print HTML: at most 1.15x", r,
           f"{r:.2f}x" if r else "-", lambda v: v <= 1.15)
    r = _ratio(results, book_ours, book_raw)
    target(f"{copies}x book, cold, all formats, vs the raw pandoc route: at most 0.80x", r,
           f"{r:.2f}x" if r else "-", lambda v: v <= 0.80)
    m = results[book_ours].tree_kib / 1024 if book_ours in results else None
    target(f"{copies}x book: peak memory of the whole build (all processes) at most 1 GiB", m,
           f"{m:.0f} MiB" if m else "-", lambda v: v <= 1024)
    v = results["essay: no-op dsr-export build"].median if "essay: no-op dsr-export build" in results else None
    target("no-op `dsr-export build`: under 0.3 s", v, f"{v:.3f} s" if v is not None else "-", lambda x: x < 0.3)
    v = results["essay: no-op make"].median if "essay: no-op make" in results else None
    target("no-op `make`: under 0.1 s", v, f"{v:.3f} s" if v is not None else "-", lambda x: x < 0.1)
    r = _ratio(results, "batch of 8: --jobs 1", "batch of 8: --jobs 2")
    target("batch of 8: `--jobs 2` at least 1.8x the throughput of `--jobs 1`", r, f"{r:.2f}x" if r else "-",
           lambda v: v >= 1.8)
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---:|---|"]
    for label, _, shown, ok in targets:
        verdict = "not measured" if ok is None else "met" if ok else "**missed**"
        lines.append(f"| {label} | {shown} | {verdict} |")
    # Not targets: how far below the raw route the floor itself lies, and our distance from it.
    book_floor = f"{copies}x book: WeasyPrint alone on our HTML"
    references = [
        ("essay: WeasyPrint alone on our HTML vs the raw pandoc route", "essay: WeasyPrint alone on our HTML",
         raw_essay),
        (f"{copies}x book: WeasyPrint alone on our HTML vs the raw pandoc route", book_floor, book_raw),
        (f"{copies}x book: dsr-export vs WeasyPrint alone on our HTML", book_ours, book_floor),
    ]
    for label, a, b in references:
        r = _ratio(results, a, b)
        if r is not None:
            lines.append(f"| for reference: {label} | {r:.2f}x | - |")
    if extras.growth:
        lines += ["", "## Growth with length", "",
                  ("Cold builds, all formats, of the book made by `bench/make_book.py` with 1, 10 and "
                   f"{copies} copies of the essay's text (medians of the runs above)."), "",
                  "| book | print pages | median s | load | s per page |", "|---|---:|---:|---:|---:|"]
        for n, pages, name in extras.growth:
            sample = results[name]
            lines.append(f"| {n}x | {pages} | {sample.median:.2f} | {statistics.median(sample.loads):.2f} | "
                         f"{sample.median / pages:.3f} |")
    if extras.profile:
        lines += ["", "## Phases of one cold build", "",
                  ("`bench/phases.py`: one serial build (`--jobs 1`) in a fresh process, each phase timed "
                   "by a wall-clock wrapper around the function that makes it; indented rows are part of "
                   "the row above them. Machine load after each column:"), "",
                  *[f"    {line}" for line in extras.profile_load], "", *extras.profile]
    lines += ["", NOTES]
    return "\n".join(lines) + "\n"


NOTES = """\
## Where the time goes

- One layout per build. The PDF worker lays the print HTML out once and sends the page map (the
  print page of every block id) as soon as the layout is done, then writes the PDF; the EPUB
  waits for that map instead of laying the book out a second time, and an EPUB-only build runs
  the same layout without writing a PDF. The temporary block ids go into the HTML text before
  either side parses it and leave the layout before the PDF is written, so every output keeps
  the bytes of the serial build.
- The critical path of a cold build on two cores is a chain in which each step needs the one
  before: the parse (pandoc with citeproc, then our gate and transforms in Python), the HTML body
  (a second pandoc run, on the transformed AST), the print HTML, WeasyPrint's layout, and PDF
  writing. WeasyPrint's import (about half a second) is hidden behind the parse in the worker;
  the bibliography loads while pandoc parses; DOCX's pandoc run goes beside the body's; DOCX,
  HTML and everything of the EPUB but its page markers are made while the worker lays out.
- "WeasyPrint alone on our HTML" is the floor: the same print HTML, fonts, PDF/UA variant and
  tags as our PDF writer, run by WeasyPrint's own command line (interpreter start and import
  included). A build cannot cost less than the floor minus the import plus the parse and the
  body, since WeasyPrint needs the parsed, transformed body before it can start.
- The raw route is not doing the same work: its PDF is untagged, with pandoc's default look and
  notes at the end, while ours is a tagged PDF/UA-1 with the theme's embedded fonts and notes at
  the foot of each page; its EPUB and DOCX have no theme. The rows "for reference" show that the
  floor alone (our PDF, nothing else) already costs about as much as 0.8x the raw route on the
  essay and more than that on the book, so the 0.80x targets cannot be met while the PDF stays as
  it is: the distance left is WeasyPrint laying out and writing a richer PDF, plus the parse.
- No-op rebuilds compare a hash of every input (source, bibliography, style, theme, font files,
  local images, tool versions, this package's code) with the record of each output, without
  running pandoc or importing the writers. `make` only compares file dates against its stamp.
- A one-paragraph edit rebuilds every format of that source (each output depends on the whole
  text); the cache saves nothing there, but nothing is lost either.
- With several sources, `--jobs N` runs N worker processes; each source's formats then run
  serially inside its worker, so two workers keep two cores busy the whole time.
- Memory: "all MiB" sums the resident memory of every process of the build (the main process,
  the PDF worker, pandoc) at each 50 ms sample; the forked worker shares its parent's pages until
  either writes them, so the sum counts those twice and overstates the real peak.
"""


if __name__ == "__main__":
    main()
