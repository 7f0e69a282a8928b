"""Bad input: exit 1 with one clear message naming the file, no traceback, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ONE_BOOK, dsr

REFS = ONE_BOOK

GOOD = """\
---
title: Small
bibliography: refs.yaml
---

As shown [@smith2020, p. 4].
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "refs.yaml").write_text(REFS)
    (tmp_path / "paper.md").write_text(GOOD)
    return tmp_path


@pytest.fixture
def built(project: Path) -> dict[str, bytes]:
    """A good build of every format, whose bytes must survive every failed build after it."""
    run = dsr("build", str(project / "paper.md"), "--out", str(project / "out"), "--to", "html,epub,docx")
    assert run.status == 0, run.stderr
    return {p.name: p.read_bytes() for p in (project / "out").iterdir()}


def assert_failed_cleanly(run, names: str, status: int = 1) -> None:
    assert run.status == status, (run.status, run.stderr)
    assert "Traceback" not in run.stderr
    assert names in run.stderr, run.stderr
    assert run.stderr.strip(), "an error must say what went wrong"


def rebuild(project: Path):
    return dsr("build", str(project / "paper.md"), "--out", str(project / "out"), "--to", "html,epub,docx")


def assert_untouched(project: Path, built: dict[str, bytes]) -> None:
    now = {p.name: p.read_bytes() for p in (project / "out").iterdir()}
    assert now == built  # same files, same bytes, no temporary left behind


def test_unresolved_key_names_file_line_and_suggests(project, built):
    (project / "paper.md").write_text(GOOD + "\nAgain [@smith2021].\n")
    run = rebuild(project)
    assert_failed_cleanly(run, "paper.md:8:")
    assert "smith2021" in run.stderr and "did you mean @smith2020" in run.stderr
    assert_untouched(project, built)


def test_missing_bibliography(project, built):
    (project / "refs.yaml").unlink()
    run = rebuild(project)
    assert_failed_cleanly(run, "refs.yaml")
    assert_untouched(project, built)


def test_malformed_bibliography(project, built):
    (project / "refs.yaml").write_text("references:\n- id: a\n  title: [unclosed\n")
    run = rebuild(project)
    assert_failed_cleanly(run, "refs.yaml:")
    assert_untouched(project, built)


def test_malformed_front_matter_names_line(project, built):
    (project / "paper.md").write_text(GOOD.replace("title: Small", "title: Small\nauthor: [unclosed"))
    run = rebuild(project)
    assert_failed_cleanly(run, "paper.md:")
    assert "front matter" in run.stderr
    line = int(run.stderr.split("paper.md:")[1].split(":")[0])
    assert line in (3, 4)
    assert_untouched(project, built)


def test_missing_image(project, built):
    (project / "paper.md").write_text(GOOD + "\n![A map](img/map.png)\n")
    run = rebuild(project)
    assert_failed_cleanly(run, "paper.md:8:")
    assert "img/map.png" in run.stderr
    assert_untouched(project, built)


def test_unknown_style_suggests_close_names(project, built):
    run = dsr("build", str(project / "paper.md"), "--out", str(project / "out"), "--csl", "chicago-author-dat")
    assert_failed_cleanly(run, "paper.md")
    assert "chicago-author-date" in run.stderr
    assert_untouched(project, built)


def test_non_utf8_source(project, built):
    (project / "paper.md").write_bytes(GOOD.encode() + "\nCaf\xe9\n".encode("latin-1"))
    run = rebuild(project)
    assert_failed_cleanly(run, "paper.md:8:")
    assert "UTF-8" in run.stderr
    assert_untouched(project, built)


def test_duplicate_ids(project):
    (project / "paper.md").write_text(GOOD + "\n# One {#same}\n\n# Two {#same}\n")
    run = dsr("check", str(project / "paper.md"))
    assert_failed_cleanly(run, "paper.md:8:")
    assert "#same" in run.stderr


def test_missing_alt_text_is_a_warning_and_strict_makes_it_an_error(project):
    (project / "pic.png").write_bytes(_PNG)
    (project / "paper.md").write_text(GOOD + "\n![](pic.png)\n")
    run = dsr("check", str(project / "paper.md"))
    assert run.status == 0 and "no alt text" in run.stderr
    strict = dsr("check", str(project / "paper.md"), "--strict")
    assert_failed_cleanly(strict, "paper.md:8:")


def test_check_passes_a_clean_source(project):
    run = dsr("check", str(project / "paper.md"))
    assert run.status == 0, run.stderr
    assert "ok" in run.stdout


@pytest.mark.parametrize(
    "args, mention",
    [
        (["build", "--to", "rtf"], "rtf"),
        (["build", "--frobnicate"], "--frobnicate"),
        (["build", "no-such-file.md"], "no-such-file.md"),
        (["publish"], "publish"),
    ],
)
def test_usage_errors_exit_2(project, args, mention):
    run = dsr(*args, cwd=project)
    assert_failed_cleanly(run, mention, status=2)


# A 1x1 transparent PNG.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
