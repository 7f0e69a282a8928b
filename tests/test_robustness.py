"""Interrupted, concurrent and repeated builds on real outputs; pathological sources within bounds."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest
from helpers import ONE_BOOK, ROOT, dsr
from test_security import png

FORMATS = ("pdf", "epub", "docx", "html")
REFS = ONE_BOOK


def write_project(folder: Path, paragraphs: int, word: str = "steady") -> Path:
    """A source long enough that laying out its PDF takes a while, with one early warning."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "refs.yaml").write_text(REFS)
    (folder / "figure.png").write_bytes(png(4, 4))
    body = "\n\n".join(
        f"Paragraph {n}: a {word} sentence about publishing, repeated to fill pages [@smith2020, p. {n}]."
        for n in range(paragraphs)
    )
    # The image without alt text is warned about right after parsing, before any format renders:
    # the test waits for that line, so its signal lands while the build is rendering.
    text = (
        f"---\ntitle: Long\nbibliography: refs.yaml\n---\n\n# Start\n\n![](figure.png)\n\n{body}\n\n"
        "# References {.unnumbered}\n\n::: {#refs}\n:::\n"
    )
    (folder / "long.md").write_text(text)
    return folder / "long.md"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def assert_complete(out: Path, stem: str) -> None:
    """Every output is whole: ZIPs pass their CRCs, the PDF parses, the HTML ends."""
    for suffix in ("epub", "docx"):
        with zipfile.ZipFile(out / f"{stem}.{suffix}") as z:
            assert z.testzip() is None
    with pikepdf.open(out / f"{stem}.pdf") as pdf:
        assert len(pdf.pages) >= 1
    assert (out / f"{stem}.html").read_text().rstrip().endswith("</html>")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, bytes]]:
    """The long source, built once: the good outputs that interrupted builds must not touch."""
    root = tmp_path_factory.mktemp("robust")
    source = write_project(root / "src", 200)
    out = root / "out"
    run = dsr("build", str(source), "--out", str(out))
    assert run.status == 0, run.stderr
    return source, out, snapshot(out)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_build_leaves_earlier_outputs_and_no_temporary_files(
    project: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, signum: int
) -> None:
    _, built, good = project
    out = tmp_path / "out"
    shutil.copytree(built, out)
    changed = write_project(tmp_path / "changed", 200, word="different")  # same stem, other text
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dsr_export", "build", str(changed), "--out", str(out)],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    try:
        # Wait for the warning printed after parsing: rendering has begun.
        first = ""
        while "missing-alt" not in first and proc.poll() is None:
            first += proc.stderr.readline()
        assert "missing-alt" in first and proc.poll() is None, first
        proc.send_signal(signum)
        _, rest = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 130, first + rest
    assert "interrupted" in rest and "Traceback" not in rest
    assert snapshot(out) == good  # same names (no temporary file), same bytes
    assert list(temp.iterdir()) == []


def test_two_builds_at_once_end_with_complete_files(
    project: tuple[Path, Path, dict[str, bytes]], tmp_path: Path
) -> None:
    source, _, good = project
    out = tmp_path / "shared"
    command = [sys.executable, "-m", "dsr_export", "build", str(source), "--out", str(out)]
    procs = [subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    for proc in procs:
        proc.stderr.close()
    assert [status for status, _ in results] == [0, 0], results
    assert sorted(p.name for p in out.iterdir()) == sorted(f"long.{f}" for f in FORMATS)
    assert_complete(out, "long")
    assert snapshot(out) == good  # both wrote the same bytes; whichever won, nothing is torn


def test_builds_are_byte_identical_with_source_date_epoch(
    project: tuple[Path, Path, dict[str, bytes]], tmp_path: Path
) -> None:
    source, _, good = project
    run = dsr("build", str(source), "--out", str(tmp_path / "again"), env={"SOURCE_DATE_EPOCH": "1609718400"})
    assert run.status == 0, run.stderr
    assert set(good) == {f"long.{f}" for f in FORMATS}
    assert snapshot(tmp_path / "again") == good


def test_source_date_epoch_is_what_the_outputs_say(tmp_path: Path) -> None:
    source = write_project(tmp_path / "p", 2)
    runs = [dsr("build", str(source), "--out", str(tmp_path / e), "--to", "epub,docx", env={"SOURCE_DATE_EPOCH": e})
            for e in ("1609718400", "1700000000")]
    assert all(r.status == 0 for r in runs), runs
    a, b = snapshot(tmp_path / "1609718400"), snapshot(tmp_path / "1700000000")
    assert a["long.epub"] != b["long.epub"] and a["long.docx"] != b["long.docx"]
    with zipfile.ZipFile(tmp_path / "1609718400" / "long.epub") as z:
        assert {info.date_time[:3] for info in z.infolist()} == {(2021, 1, 4)}
        assert b"2021-01-04T00:00:00Z" in z.read("EPUB/content.opf")


# Pathological sources: each either passes or fails with a clear message, and pandoc's heap
# limit (+RTS -M2G) bounds what a source can make it allocate.
PATHOLOGICAL = {
    "deep-nesting": lambda: "# Deep\n\n" + "> " * 2000 + "bottom\n\n" + "- " * 500 + "item\n",
    "megabyte-paragraph": lambda: "# Long\n\n" + ("word " * 220_000) + "\n",
    "thousands-of-citations": lambda: "# Cited\n\n" + " ".join(f"[@smith2020, p. {n}]" for n in range(5000)) + "\n",
}


@pytest.mark.parametrize("kind", sorted(PATHOLOGICAL))
def test_a_pathological_source_passes_or_fails_clearly(tmp_path: Path, kind: str) -> None:
    (tmp_path / "refs.yaml").write_text(REFS)
    (tmp_path / "p.md").write_text("---\ntitle: P\nbibliography: refs.yaml\n---\n\n" + PATHOLOGICAL[kind]())
    run = dsr("build", str(tmp_path / "p.md"), "--out", str(tmp_path / "out"), "--to", "html,docx")
    assert run.status in (0, 1), run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr[-2000:]
    if run.status == 0:
        assert (tmp_path / "out" / "p.html").read_text().rstrip().endswith("</html>")
    else:
        assert "p.md" in run.stderr
    # Peak resident memory of the largest child so far (this build, or an earlier one): bounded.
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 3 * 1024 * 1024  # KiB


def test_a_huge_image_is_refused_or_built_within_bounds(tmp_path: Path) -> None:
    """A 6000 x 6000 picture (108 MB of pixels) in every format but PDF's slow layout."""
    (tmp_path / "huge.png").write_bytes(png(6000, 6000))
    (tmp_path / "p.md").write_text("# Huge\n\n![A huge picture](huge.png)\n")
    run = dsr("build", str(tmp_path / "p.md"), "--out", str(tmp_path / "out"), "--to", "html,epub,docx")
    assert run.status in (0, 1) and "Traceback" not in run.stderr, run.stderr
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 3 * 1024 * 1024


def test_a_source_pandoc_cannot_finish_fails_within_the_time_limit(tmp_path: Path) -> None:
    """Thousands of nested brackets keep pandoc's reader busy for minutes: the time limit ends it."""
    source = tmp_path / "brackets.md"
    source.write_text("---\ntitle: Brackets\n---\n\n" + "[" * 3000 + "x" + "]" * 10 + "\n", encoding="utf-8")
    run = dsr("build", str(source), "--out", str(tmp_path / "out"), "--to", "html",
              env={"DSR_EXPORT_PANDOC_TIMEOUT": "3"})
    assert run.status == 1, run.stderr
    assert f"{source}: pandoc gave up on this source after 3 s" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
