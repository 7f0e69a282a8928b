"""Link and image targets made valid URLs, and links to fragments that do not exist reported."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import ast as A
from ..errors import Diagnostic
from ..source import Source

# Everything a URL may legally contain stays as written; "%" is kept so encoded URLs stay as they are.
_SAFE = "!#$%&'()*+,-./:;=?@[]_~"


def encode(url: str) -> str:
    """`url` with characters that are illegal in a URL (<, >, spaces, {}, ...) percent-encoded."""
    return quote(url.strip(), safe=_SAFE)


def apply(source: Source, tree: dict[str, Any]) -> list[Diagnostic]:
    ids = {A.attr(n)[0] for n in A.walk(tree["blocks"])} - {""}
    found: list[Diagnostic] = []
    for node in A.walk(tree["blocks"]):
        if node["t"] in ("Link", "Image"):
            target = node["c"][2]
            target[0] = encode(target[0])
    from . import element_lists

    for elements in list(element_lists(tree["blocks"])):
        for i in reversed(range(len(elements))):
            node = elements[i]
            if node["t"] != "Link" or not node["c"][2][0].startswith("#"):
                continue
            fragment = node["c"][2][0][1:]
            if fragment in ids or _pandoc_note(fragment):
                continue
            found.append(Diagnostic(
                f"link to '#{fragment}', which is not in this document; printed without the link",
                source.path, source.line_of("#" + fragment), "missing-anchor", "warning"))
            elements[i:i + 1] = node["c"][1]
    return found


def _pandoc_note(fragment: str) -> bool:
    """pandoc's own footnote anchors (#fn1, #fnref1) exist only in its output, not in the AST."""
    return fragment.removeprefix("fnref").removeprefix("fn").isdigit()
