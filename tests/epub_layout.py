"""EPUB chapters laid out by Chromium: first-line indents and the lines after display math, measured."""

from __future__ import annotations

import zipfile
from pathlib import Path

from browser import page

# For every body paragraph: where its first line starts (px from its left edge), the indent the theme
# asks for there, whether a print page-break marker stands just before it, and its text.
MEASURE = """() => {
  const isMarker = el => el && el.getAttribute('role') === 'doc-pagebreak';
  const out = [];
  for (const p of document.querySelectorAll('body p')) {
    if (p.closest('aside, figure, table, blockquote, li, header, .csl-entry, nav, .author-bio, .disclaimer')) continue;
    let prev = p.previousElementSibling, marked = false;
    while (isMarker(prev)) { marked = true; prev = prev.previousElementSibling; }
    const range = document.createRange();
    range.selectNodeContents(p);
    const first = range.getClientRects()[0];
    if (!first) continue;
    const size = parseFloat(getComputedStyle(p).fontSize);
    out.push({start: first.left - p.getBoundingClientRect().left, size, afterP: !!prev && prev.tagName.toLowerCase() === 'p',
              marked, text: p.textContent.trim().slice(0, 60)});
  }
  return out;
}"""
# For every display formula inside a paragraph: where the text after it starts, against the paragraph's left edge.
AFTER_MATH = """() => Array.from(document.querySelectorAll('p .display-math, p math[display="block"]:not(.display-math math)')).map(m => {
  const p = m.closest('p');
  const top = m.closest('.display-math') || m;
  const range = document.createRange();
  range.setStartAfter(top.closest('.equation') || top);
  range.setEnd(p, p.childNodes.length);
  const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
  return {text: range.toString().trim().slice(0, 40), offset: rects.length ? rects[0].left - p.getBoundingClientRect().left : null,
          below: rects.length ? rects[0].top >= m.getBoundingClientRect().bottom - 1 : null};
})"""


def chapters(epub: Path, folder: Path) -> list[Path]:
    """The EPUB unpacked into `folder`; its text chapters' files, in spine order."""
    with zipfile.ZipFile(epub) as z:
        z.extractall(folder)
    return sorted(p for p in folder.rglob("*.xhtml") if p.name.startswith(("chapter-", "text-", "references")))


def measure(files: list[Path]) -> tuple[list[dict], list[dict]]:
    """Paragraph starts and after-formula lines of every file, laid out in one browser."""
    paragraphs: list[dict] = []
    after_math: list[dict] = []
    with page() as tab:
        for file in files:
            tab.goto(file.as_uri())
            paragraphs += [{**m, "file": file.name} for m in tab.evaluate(MEASURE)]
            after_math += [{**m, "file": file.name} for m in tab.evaluate(AFTER_MATH)]
    return paragraphs, after_math
