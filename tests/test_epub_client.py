"""The EPUB and the web page as Chromium lays them out: indents, text after formulas, notes, math."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import page
from epub_layout import chapters, measure

from dsr_export import theme as themes

INDENT_EM = themes.load("default")["paragraph.first-line-indent"]


@pytest.fixture(scope="module")
def laid_out(essay: dict[str, Path], rich: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every text chapter of both EPUBs laid out in one browser: paragraph starts and after-formula lines."""
    files = []
    for name, built in (("essay", essay), ("rich", rich)):
        files += chapters(built["epub"], tmp_path_factory.mktemp(f"epub-{name}"))
    paragraphs, after_math = measure(files)
    return {"paragraphs": paragraphs, "after_math": after_math}


def test_every_paragraph_after_a_paragraph_is_indented_alike_marker_or_not(laid_out: dict) -> None:
    paragraphs = laid_out["paragraphs"]
    assert len(paragraphs) > 20
    assert sum(p["marked"] and p["afterP"] for p in paragraphs) >= 2  # print page breaks between paragraphs
    wrong = [(p["file"], p["text"], round(p["start"], 1)) for p in paragraphs
             if abs(p["start"] - (INDENT_EM * p["size"] if p["afterP"] else 0)) > 1]
    assert wrong == []


def test_text_after_a_display_formula_continues_its_paragraph(laid_out: dict) -> None:
    after = [m for m in laid_out["after_math"] if m["text"].startswith("and the continuation")]
    assert after, laid_out["after_math"]
    assert all(m["offset"] == pytest.approx(0, abs=1) and m["below"] for m in after), after


# The web page: notes set apart from the references, and display math in a math face with room around it.
WEB = """() => {
  const refs = document.querySelectorAll('.csl-entry'), notes = document.querySelector('section.footnotes');
  const heading = notes && notes.querySelector('h1, h2, h3');
  const math = document.querySelector('.display-math math, math[display="block"]');
  const p = math.closest('p'), range = document.createRange();
  range.setStart(p, 0); range.setEndBefore(math.closest('.display-math') || math);
  const before = Array.from(range.getClientRects()).filter(r => r.width > 0).pop();
  return {lastRef: refs[refs.length - 1].getBoundingClientRect().bottom,
          heading: heading ? [heading.textContent, heading.getBoundingClientRect().top] : null,
          rule: notes ? parseFloat(getComputedStyle(notes).borderTopWidth) : 0,
          firstNote: notes ? notes.querySelector('li').getBoundingClientRect().top : 0,
          mathFont: getComputedStyle(math).fontFamily, gap: math.getBoundingClientRect().top - before.bottom,
          size: parseFloat(getComputedStyle(p).fontSize)};
}"""


@pytest.fixture(scope="module")
def web(rich: dict[str, Path]) -> dict:
    with page() as tab:
        tab.goto(rich["html"].as_uri())
        return tab.evaluate(WEB)


def test_html_notes_have_a_heading_and_a_rule_after_the_references(web: dict) -> None:
    assert web["heading"] and web["heading"][0] == "Notes"
    assert web["lastRef"] < web["heading"][1] < web["firstNote"]
    assert web["rule"] > 0


def test_html_display_math_has_a_math_font_and_room_above(web: dict) -> None:
    assert "Math" in web["mathFont"].split(",")[0], web["mathFont"]
    assert web["gap"] >= 0.3 * web["size"], web
