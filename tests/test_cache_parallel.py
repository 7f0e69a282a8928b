"""Cached, parallel and batch builds give the same bytes as a clean serial build, and skip only what is fresh."""

from __future__ import annotations

import base64
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers import ESSAY, ROOT, dsr

FORMATS = ("pdf", "epub", "docx", "html")

REFS = """\
references:
- id: smith2020
  type: book
  author: [{family: Smith, given: Ann}]
  title: A Book About Roads
  issued: {date-parts: [[2020]]}
- id: jones2019
  type: article-journal
  author: [{family: Jones, given: Bo}]
  title: Cables Under the Steppe
  container-title: Journal of Routes
  issued: {date-parts: [[2019]]}
"""

PAPER = """\
---
title: {title}
bibliography: refs.yaml
---

# Opening

As shown by @smith2020 and later [@jones2019, p. 4].

![](dot.png)

# References {{.unnumbered}}

::: {{#refs}}
:::
"""

# A 1x1 PNG: an image with no alt text, so every build of the paper has a warning to report.
DOT = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A private record folder, so these tests neither see nor leave records elsewhere."""
    return {"DSR_EXPORT_CACHE": str(tmp_path_factory.mktemp("records"))}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("papers")
    (root / "refs.yaml").write_text(REFS)
    (root / "dot.png").write_bytes(DOT)
    for n in range(1, 4):
        (root / f"paper{n}.md").write_text(PAPER.format(title=f"Paper {n}"))
    shutil.copy(ROOT / "styles" / "default.toml", root / "look.toml")
    return root


def build(*args: str, env: dict[str, str]):
    run = dsr("build", *args, env=env)
    assert run.status == 0, run.stderr
    return run


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every output's bytes and modification time."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def rebuilt(run) -> str:
    """The status line the build printed for its source."""
    lines = [line for line in run.stdout.splitlines() if "up to date" in line]
    return lines[-1] if lines else "rebuilt everything"


@pytest.fixture(scope="module")
def essay_builds(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> dict[str, Path]:
    """The essay built clean and serially, and in parallel with records kept, once for the module."""
    serial = tmp_path_factory.mktemp("serial")
    parallel = tmp_path_factory.mktemp("parallel")
    build(str(ESSAY), "--out", str(serial), "--jobs", "1", "--force", env=env)
    build(str(ESSAY), "--out", str(parallel), "--jobs", "2", env=env)
    return {"serial": serial, "parallel": parallel}


def test_parallel_build_is_byte_identical_to_serial(essay_builds):
    serial = snapshot(essay_builds["serial"])
    parallel = snapshot(essay_builds["parallel"])
    assert sorted(serial) == [f"{ESSAY.stem}.{fmt}" for fmt in sorted(FORMATS)]
    for name in serial:
        assert parallel[name][0] == serial[name][0], name


def test_noop_rebuild_says_up_to_date_and_writes_nothing(essay_builds, env):
    before = snapshot(essay_builds["parallel"])
    run = build(str(ESSAY), "--out", str(essay_builds["parallel"]), env=env)
    assert f"{ESSAY}: up to date (pdf, epub, docx, html)" in run.stdout
    assert snapshot(essay_builds["parallel"]) == before  # same bytes, same mtimes


def test_force_rebuilds_the_same_bytes(essay_builds, env, tmp_path):
    out = tmp_path / "forced"
    shutil.copytree(essay_builds["parallel"], out)
    build(str(ESSAY), "--out", str(out), "--to", "html", env=env)  # records for this folder
    run = build(str(ESSAY), "--out", str(out), "--to", "html", "--force", env=env)
    assert "up to date" not in run.stdout
    assert (out / f"{ESSAY.stem}.html").read_bytes() == (essay_builds["serial"] / f"{ESSAY.stem}.html").read_bytes()


@pytest.fixture(scope="module")
def paper_out(project: Path, env: dict[str, str]) -> Path:
    out = project / "out"
    build(str(project / "paper1.md"), "--out", str(out), env=env)
    return out


def test_warnings_are_reported_again_when_nothing_is_rebuilt(project, paper_out, env):
    run = build(str(project / "paper1.md"), "--out", str(paper_out), env=env)
    assert "up to date (pdf, epub, docx, html)" in run.stdout
    assert "image has no alt text: dot.png" in run.stderr


def test_an_output_changed_or_deleted_by_hand_is_rebuilt_alone(project, paper_out, env):
    html, docx = paper_out / "paper1.html", paper_out / "paper1.docx"
    good_html, good_docx = html.read_bytes(), docx.read_bytes()
    html.write_bytes(good_html.replace(b"Smith", b"Smyth"))
    docx.unlink()
    before = snapshot(paper_out)
    run = build(str(project / "paper1.md"), "--out", str(paper_out), env=env)
    assert rebuilt(run) == f"{project / 'paper1.md'}: rebuilt docx, html; up to date: pdf, epub"
    assert html.read_bytes() == good_html and docx.read_bytes() == good_docx
    after = snapshot(paper_out)
    for name in ("paper1.pdf", "paper1.epub"):
        assert after[name] == before[name]


def test_touching_an_output_is_not_a_change(project, paper_out, env):
    pdf = paper_out / "paper1.pdf"
    os.utime(pdf, ns=(1, 1))
    run = build(str(project / "paper1.md"), "--out", str(paper_out), env=env)
    assert "up to date (pdf, epub, docx, html)" in run.stdout
    assert pdf.stat().st_mtime_ns == 1


def test_a_new_format_is_built_without_rebuilding_the_others(project, env):
    out = project / "docx-first"
    build(str(project / "paper2.md"), "--out", str(out), "--to", "docx", env=env)
    assert [p.name for p in out.iterdir()] == ["paper2.docx"]
    docx_before = snapshot(out)["paper2.docx"]
    run = build(str(project / "paper2.md"), "--out", str(out), env=env)
    assert rebuilt(run) == f"{project / 'paper2.md'}: rebuilt pdf, epub, html; up to date: docx"
    assert snapshot(out)["paper2.docx"] == docx_before


def test_theme_changes_rebuild_only_the_formats_that_use_them(project, env):
    out = project / "themed"
    look = project / "look.toml"
    paper = str(project / "paper3.md")
    build(paper, "--out", str(out), "--theme", str(look), env=env)
    before = snapshot(out)
    # Print pages and Word pages, and the EPUB, whose page list follows the print pages; not the web page.
    look.write_text(_set_token(look.read_text(), "size", '"A5"'))
    run = build(paper, "--out", str(out), "--theme", str(look), env=env)
    assert rebuilt(run) == f"{paper}: rebuilt pdf, epub, docx; up to date: html"
    middle = snapshot(out)
    assert middle["paper3.pdf"][0] != before["paper3.pdf"][0]
    assert middle["paper3.docx"][0] != before["paper3.docx"][0]
    assert middle["paper3.html"] == before["paper3.html"]
    look.write_text(_set_token(look.read_text(), "rule", '"#ff0000"'))  # stylesheets only, not Word
    run = build(paper, "--out", str(out), "--theme", str(look), env=env)
    assert rebuilt(run) == f"{paper}: rebuilt pdf, epub, html; up to date: docx"
    assert snapshot(out)["paper3.docx"] == middle["paper3.docx"]


def _set_token(toml: str, key: str, value: str) -> str:
    lines = toml.splitlines()
    for i, line in enumerate(lines):
        if line.replace(" ", "").startswith(f"{key}="):
            lines[i] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    raise AssertionError(f"the default theme sets '{key}'")


def test_inputs_outside_the_source_text_invalidate_every_format(project, env):
    """The bibliography and an image are inputs too: changing either rebuilds every format."""
    out = project / "inputs"
    paper = str(project / "paper2.md")
    build(paper, "--out", str(out), "--to", "html,docx", env=env)
    refs = project / "refs.yaml"
    original = refs.read_text()
    try:
        refs.write_text(original.replace("Cables Under the Steppe", "Cables Across the Steppe"))
        run = build(paper, "--out", str(out), "--to", "html,docx", env=env)
        assert "up to date" not in run.stdout
        assert "Cables Across the Steppe" in (out / "paper2.html").read_text()
    finally:
        refs.write_text(original)
    build(paper, "--out", str(out), "--to", "html,docx", env=env)
    image = project / "dot.png"
    image.write_bytes(DOT + b"\0")  # a different file, same picture
    try:
        run = build(paper, "--out", str(out), "--to", "html,docx", env=env)
        assert "up to date" not in run.stdout
    finally:
        image.write_bytes(DOT)


def test_batch_with_two_jobs_equals_serial_builds(project, env, tmp_path):
    papers = [str(project / f"paper{n}.md") for n in (1, 2, 3)]
    one, two = tmp_path / "one", tmp_path / "two"
    build(*papers, "--out", str(one), "--jobs", "1", "--force", env=env)
    run = build(*papers, "--out", str(two), "--jobs", "2", "--force", env=env)
    for n in (1, 2, 3):  # results are reported in source order
        assert run.stdout.index(f"paper{n}.pdf") < run.stdout.index(f"paper{n}.html")
        if n > 1:
            assert run.stdout.index(f"paper{n - 1}.html") < run.stdout.index(f"paper{n}.pdf")
    serial = {name: data for name, (data, _) in snapshot(one).items()}
    batch = {name: data for name, (data, _) in snapshot(two).items()}
    assert len(serial) == 12 and serial == batch
    assert run.stderr.count("image has no alt text") == 3


def test_a_bad_source_in_a_batch_fails_alone(project, env, tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text(PAPER.format(title="Bad").replace("@jones2019", "@jonez2019"))
    shutil.copy(project / "refs.yaml", tmp_path / "refs.yaml")  # beside it: the front matter may not leave its folder
    out = tmp_path / "out"
    run = dsr("build", str(project / "paper1.md"), str(bad), "--out", str(out), "--to", "html",
              "--jobs", "2", env=env)
    assert run.status == 1
    assert f"{bad}:" in run.stderr and "jonez2019" in run.stderr and "Traceback" not in run.stderr
    assert [p.name for p in out.iterdir()] == ["paper1.html"]


def test_tokens_left_out_of_the_docx_key_do_not_reach_the_docx():
    """The cache skips the DOCX when only these tokens change: its reference document must not see them."""
    from dsr_export import cache, pandoc, theme
    from dsr_export.theme.docx import reference_docx

    base = theme.load("default")
    default = pandoc.default_data_file("reference.docx")
    assert cache.NOT_IN_DOCX
    for token, value in cache.NOT_IN_DOCX.items():
        assert token in theme.SCHEMA and base.tokens.get(token) != value, token
        changed = theme.Theme(base.name, base.path.with_name(f"{token}.toml"), {**base.tokens, token: value})
        assert _parts(reference_docx(changed, "en", default)) == _parts(reference_docx(base, "en", default)), token


def _parts(package: bytes) -> dict[str, bytes]:
    """A ZIP's entries by name (the entries' dates are the time of writing, not content)."""
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        return {name: z.read(name) for name in z.namelist()}
