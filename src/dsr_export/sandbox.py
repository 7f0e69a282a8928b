"""What a build may read: the source's folder, its bibliography and style, the theme's fonts."""

from __future__ import annotations

import base64
import copy
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import ast as A
from .errors import DsrError

# A data: URL is read from the source itself, but a huge one is a memory bomb in every engine.
DATA_URL_LIMIT = 8 * 1024 * 1024
REMOTE_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "sftp", "ws", "wss"})
_HTML_FORMATS = frozenset({"html", "html4", "html5"})


@dataclass(frozen=True)
class Sandbox:
    """A set of folders; a file outside all of them is never read on the author's behalf.

    Relative URLs resolve from `folder` (the source's own). Symlinks are followed
    before the check, so a link that leaves the folder is refused like `../`.
    """

    roots: tuple[Path, ...]
    allow_remote: bool = False

    @property
    def folder(self) -> Path:
        return self.roots[0]

    def allows(self, path: Path) -> bool:
        try:
            real = path.resolve()
        except (OSError, RuntimeError, ValueError):  # loops, NUL bytes: nothing we would read
            return False
        return any(real == root or root in real.parents for root in self.roots)

    def refusal(self, url: str) -> str | None:
        """Why `url` may not be read, or None when it may."""
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            return "malformed URL"
        scheme = parts.scheme.lower()
        if scheme == "data":
            return None if len(url) <= DATA_URL_LIMIT else f"data: URL larger than {DATA_URL_LIMIT} bytes"
        if scheme in REMOTE_SCHEMES:
            return None if self.allow_remote else "remote resource (--allow-remote fetches it)"
        if scheme not in ("", "file"):
            return f"unsupported URL scheme '{scheme}:'"
        if scheme == "file" and parts.netloc not in ("", "localhost"):
            return "file on another host"
        if parts.netloc:  # "//host/path": a network path relative to the scheme
            return None if self.allow_remote else "remote resource (--allow-remote fetches it)"
        if not parts.path:  # "#id" or "?q": the document itself
            return None
        path = Path(unquote(parts.path))
        return None if self.allows(path if path.is_absolute() else self.folder / path) else "outside the source folder"

    def allows_url(self, url: str) -> bool:
        return self.refusal(url) is None

    def local_file(self, url: str) -> Path | None:
        """The existing file inside the sandbox that `url` names, else None (remote, refused, missing)."""
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("", "file") or parts.netloc or not parts.path or self.refusal(url):
            return None
        path = Path(unquote(parts.path))
        path = path if path.is_absolute() else self.folder / path
        return path if path.is_file() else None


def for_paths(*paths: Path, allow_remote: bool = False) -> Sandbox:
    """A sandbox over `paths`; the first is the source's folder."""
    return Sandbox(tuple(dict.fromkeys(p.resolve() for p in paths)), allow_remote)


def front_matter_path(value: str, folder: Path, key: str, origin: Path, line: int | None) -> Path:
    """A path written in front matter (`key` at `origin`:`line`), held inside `folder` after symlinks."""
    path = folder / value
    if not for_paths(folder).allows(path):
        raise DsrError(f"'{key}' points outside the source folder ({value})", path=origin, line=line)
    return path.resolve()


@dataclass(frozen=True)
class Refusal:
    """A resource the source asks for that the build will not read."""

    url: str
    reason: str


def refused(tree: dict[str, Any], sandbox: Sandbox) -> list[Refusal]:
    """Every image, raw-HTML or CSS resource in the parsed source that the sandbox refuses."""
    found: list[Refusal] = []
    _police(tree, sandbox, found, rewrite=False)
    return found


def strip_refused(tree: dict[str, Any], sandbox: Sandbox) -> list[Refusal]:
    """Remove refused resources from the tree in place, so no writer or engine ever sees them.

    A refused image becomes its alt text; a refused attribute in raw HTML is dropped;
    a refused CSS url() or @import points at an empty data: URL.
    """
    found: list[Refusal] = []
    _police(tree, sandbox, found, rewrite=True)
    return found


def _police(tree: dict[str, Any], sandbox: Sandbox, found: list[Refusal], rewrite: bool) -> None:
    def judge(url: str) -> bool:
        reason = sandbox.refusal(url)
        if reason is not None:
            found.append(Refusal(url, reason))
        return reason is not None

    for node in A.walk(tree.get("blocks", [])):
        kind = node["t"]
        if kind == "Image":
            if judge(node["c"][2][0]) and rewrite:
                alt = node["c"][1]
                node.clear()
                node.update({"t": "Span", "c": [["", ["refused-resource"], []], alt]})
        elif kind in ("RawBlock", "RawInline") and str(node["c"][0]).lower() in _HTML_FORMATS:
            text = rewrite_html(node["c"][1], judge)
            if rewrite:
                node["c"][1] = text


# Tags and attributes: every place in HTML where a browser or WeasyPrint fetches something.
_TAG = re.compile(r"<([A-Za-z][\w:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTR = re.compile(
    r"""(\s)([\w:-]+)(\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""",
)
_FETCHING = frozenset({"src", "data", "poster", "srcset", "background", "xlink:href", "href", "codebase"})
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(
    r"""@import\s+(?:"([^"]*)"|'([^']*)'|url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\))[^;]*;?""",
    re.IGNORECASE,
)


def rewrite_html(text: str, refuse: Callable[[str], bool]) -> str:
    """`text` with every refused fetch removed; `refuse(url)` says (and records) which."""
    import html

    def tag(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        attrs = match.group(2)
        rel = re.search(r"\brel\s*=\s*[\"']?([^\"'>]*)", attrs, re.IGNORECASE)
        # A hyperlink is only followed by the reader; WeasyPrint embeds rel=attachment targets.
        follows_href = name != "a" or bool(rel and "attachment" in rel.group(1).lower())

        def attr(m: re.Match[str]) -> str:
            key = m.group(2).lower()
            value = next((g for g in m.group(4, 5, 6) if g is not None), None)
            if value is None or key not in _FETCHING or (key == "href" and not follows_href):
                return m.group(0)
            value = html.unescape(value)
            urls = [part.split()[0] for part in value.split(",") if part.split()] if key == "srcset" else [value]
            return "" if any([refuse(u) for u in urls]) else m.group(0)

        return f"<{match.group(1)}{_ATTR.sub(attr, attrs)}>"

    def css_import(m: re.Match[str]) -> str:  # the whole rule goes
        url = html.unescape(next((g for g in m.groups() if g is not None), ""))
        return "" if refuse(url) else m.group(0)

    def css_url(m: re.Match[str]) -> str:  # "none" is a valid image and an ignored font source
        url = html.unescape(next((g for g in m.groups() if g is not None), ""))
        return "none" if refuse(url) else m.group(0)

    text = _TAG.sub(tag, text)
    text = _CSS_IMPORT.sub(css_import, text)
    return _CSS_URL.sub(css_url, text)


def inline_images(tree: dict[str, Any], sandbox: Sandbox) -> dict[str, Any]:
    """A copy of the tree whose local images are data: URLs.

    pandoc's --sandbox forbids it to read any file itself; handing it the image
    bytes we have already checked is how DOCX still gets the pictures.
    """
    tree = copy.deepcopy(tree)
    for node in A.walk(tree.get("blocks", [])):
        if node["t"] != "Image":
            continue
        path = sandbox.local_file(node["c"][2][0])
        if path is not None:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            node["c"][2][0] = f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"
    return tree
