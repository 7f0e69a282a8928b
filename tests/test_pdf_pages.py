"""The print layout as a reader sees it: pages compared with stored images, and lines measured."""

from __future__ import annotations

from pathlib import Path

import pytest
from clients import chars, indent_of, lines
from pages import LIMIT, difference, reference_files, render

from dsr_export import theme as themes

BASE = themes.load("default")["type.base-size"]


@pytest.mark.parametrize("name", ["essay", "rich"])
def test_pages_look_like_the_reference_images(
    name: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from PIL import Image

    pages = render(request.getfixturevalue(name)["pdf"])
    stored = reference_files(name)
    assert stored, "no reference images: run python tests/reference/regenerate.py"
    assert len(pages) == len(stored), f"{len(pages)} pages, the reference has {len(stored)}"
    diffs = tmp_path_factory.mktemp(f"page-diffs-{name}")
    changed = []
    for number, (page, path) in enumerate(zip(pages, stored), start=1):
        share, shown = difference(page, Image.open(path).convert("L"))
        if share > LIMIT:
            shown.save(diffs / f"{name}-p{number:02d}-diff.png")
            changed.append(f"page {number}: {share:.2%} of pixels changed")
    assert not changed, f"{'; '.join(changed)}; diff images in {diffs} (if intended: tests/reference/regenerate.py)"


def test_text_after_a_display_formula_continues_flush(rich: dict[str, Path]) -> None:
    rows = lines(chars(rich["pdf"]), BASE)
    assert indent_of(rows, "and the continuation of this sentence") == pytest.approx(0, abs=0.5)
    assert indent_of(rows, "The toll at each stage") == pytest.approx(BASE * 1.5, rel=0.05)


def test_the_essay_credits_no_picture_it_does_not_contain(essay: dict[str, Path]) -> None:
    import zipfile

    from helpers import pdf_text

    assert "Penjikent" not in pdf_text(essay["pdf"])
    assert "Penjikent" not in essay["html"].read_text()
    for package in (essay["epub"], essay["docx"]):
        with zipfile.ZipFile(package) as z:
            assert not any(b"Penjikent" in z.read(n) for n in z.namelist()), package
