"""TeX math: checked at parse time, and drawn as SVG for print (WeasyPrint has no MathML layout)."""

from __future__ import annotations

import base64
import functools
import html
import re
from typing import Any

from .. import ast as A
from .. import pandoc
from ..errors import Diagnostic
from ..source import Source

_MATH = re.compile(r"<math\b[^>]*>.*?</math>", re.DOTALL)
_TEX = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.DOTALL)
_DISPLAY = re.compile(r'^<math\b[^>]*display="block"')
# Font size (px) ziamath draws at; the SVG is then scaled in em so it follows the text size.
_SIZE = 20.0


_ENVIRONMENT = re.compile(
    r"^\\begin\{(equation|align|gather|multline|eqnarray|displaymath|flalign|alignat)(\*?)\}(.*)"
    r"\\end\{\1\2\}$", re.DOTALL)
# Multi-line environments become their inline-math counterparts inside display math.
_INNER = {"align": "aligned", "flalign": "aligned", "eqnarray": "aligned", "gather": "gathered",
          "multline": "gathered", "alignat": "aligned"}


def environments(tree: dict[str, Any]) -> None:
    """LaTeX math environments written as raw TeX (\\begin{equation}...) become display math,
    which pandoc converts to MathML; raw TeX would vanish from every format."""
    for node in A.walk(tree["blocks"]):
        if node["t"] not in ("RawInline", "RawBlock") or node["c"][0] not in ("tex", "latex"):
            continue
        match = _ENVIRONMENT.match(node["c"][1].strip())
        if not match:
            continue
        name, _, body = match.groups()
        if name in _INNER:
            body = f"\\begin{{{_INNER[name]}}}{body}\\end{{{_INNER[name]}}}"
        math = {"t": "Math", "c": [{"t": "DisplayMath"}, body]}
        if node["t"] == "RawBlock":
            node["t"], node["c"] = "Para", [math]
        else:
            node["t"], node["c"] = math["t"], math["c"]


def display_spans(tree: dict[str, Any]) -> None:
    """Each display formula goes into a `span.display-math`, which the theme sets on a line of its own
    inside the paragraph (MathML's own block display would split the paragraph's lines in two boxes)."""
    from . import element_lists

    for elements in list(element_lists(tree["blocks"])):
        out: list[dict[str, Any]] = []
        for node in elements:
            if node["t"] == "Math" and node["c"][0]["t"] == "DisplayMath":
                # A forced break before it, so the line that leads up to the formula is not justified.
                if any(n["t"] not in ("Space", "SoftBreak", "LineBreak") for n in out):
                    out.append({"t": "RawInline", "c": ["html", '<br class="before-display-math"/>']})
                node = {"t": "Span", "c": [["", ["display-math"], []], [node]]}
            out.append(node)
        elements[:] = out


def check(source: Source, tree: dict[str, Any]) -> list[Diagnostic]:
    """A warning, with its line, for every formula pandoc cannot turn into MathML or that
    cannot be drawn for print."""
    formulas = list(dict.fromkeys(
        (n["c"][1], n["c"][0]["t"] == "DisplayMath") for n in A.walk(tree["blocks"]) if n["t"] == "Math"))
    if not formulas:
        return []
    probe = {
        "pandoc-api-version": tree["pandoc-api-version"],
        "meta": {},
        "blocks": [{"t": "Para", "c": [{"t": "Math", "c": [{"t": "InlineMath"}, tex]}]} for tex, _ in formulas],
    }
    out = pandoc.ast_to(probe, "html5", ["--mathml", "--wrap=none"], cwd=source.folder, source=source.path)
    paragraphs = out.decode("utf-8").split("</p>")
    found = []
    for (tex, display), para in zip(formulas, paragraphs):
        if "<math" not in para:
            problem = "cannot be converted to MathML; it is shown as written"
        elif math_to_svg(tex, display) is None:  # cached: the PDF writer reuses the drawing
            problem = "cannot be drawn for print; the PDF shows it as written"
        else:
            continue
        found.append(Diagnostic(f"TeX math '{tex.strip()[:60]}' {problem}",
                                source.path, source.line_of(tex.strip()), "math", "warning"))
    return found


@functools.lru_cache(maxsize=512)
def math_to_svg(tex: str, display: bool = False) -> str | None:
    """TeX math drawn as a self-contained SVG document, or None when it cannot be drawn."""
    import ziamath

    try:
        return ziamath.Latex(tex, size=_SIZE, inline=not display).svg()
    except Exception:  # ziamath raises many kinds for TeX it cannot lay out; all mean "not drawable"
        return None


def print_math(body_html: str) -> str:
    """Replace each MathML <math> of pandoc's HTML by an SVG image with the TeX as alt text.

    Formulas that cannot be drawn keep pandoc's MathML with the TeX shown beside it in code type.
    """
    return _MATH.sub(_replace, body_html)


def _replace(match: re.Match[str]) -> str:
    element = match.group(0)
    tex_match = _TEX.search(element)
    if not tex_match:
        return element
    tex = html.unescape(tex_match.group(1))
    display = bool(_DISPLAY.match(element))
    svg = math_to_svg(tex, display)
    if svg is None:
        return f'<code class="math-fallback">{html.escape(tex)}</code>'
    width, height, top = _box(svg)
    style = (f"width:{width / _SIZE:.3f}em;height:{height / _SIZE:.3f}em;"
             f"vertical-align:{-(height + top) / _SIZE:.3f}em")
    if display:
        style += ";display:inline-block"  # centred on its line by the span.math.display around it
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img class="math{" display" if display else ""}" role="math" alt="{html.escape(tex.strip())}" '
            f'style="{style}" src="data:image/svg+xml;base64,{data}"/>')


def _box(svg: str) -> tuple[float, float, float]:
    """Width, height and the top of the viewBox (negative: above the baseline) of ziamath's SVG."""
    head = svg[: svg.index(">")]
    width = float(re.search(r'width="([\d.]+)', head).group(1))  # type: ignore[union-attr]
    height = float(re.search(r'height="([\d.]+)', head).group(1))  # type: ignore[union-attr]
    top = float(re.search(r'viewBox="[-\d.]+ ([-\d.]+)', head).group(1))  # type: ignore[union-attr]
    return width, height, top
