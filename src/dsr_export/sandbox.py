"""What a build may read: the source's folder, its bibliography and style, the theme's fonts."""

from __future__ import annotations

import base64
import copy
import errno
import mimetypes
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import ast as A
from .errors import DsrError, UsageError

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
        path = path if path.is_absolute() else self.folder / path
        if not self.allows(path):
            return "outside the source folder"
        return file_problem(path, image=True)  # a FIFO or a huge file inside would hang or swamp the engines

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
    """A path written in front matter (`key` at `origin`:`line`), held inside `folder` after symlinks.

    The same rule as author_path, whose root is the source's folder alone (--root does not reach here).
    """
    if folder.resolve() != origin.resolve().parent:
        raise AssertionError(f"{folder} is not the folder of {origin}")
    return author_path(origin, key, value, line, fix="")


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
            node["c"][2][0] = f"data:{kind};base64,{base64.b64encode(read_bytes(path, 'image', image=True)).decode()}"
    return tree


# --- the files a build reads -------------------------------------------------
#
# Every file is stat'ed before it is opened, so a device, FIFO, socket or directory is refused
# by name and never read; it is opened non-blocking, so one swapped in meanwhile cannot hang the
# build; and its size is checked against a limit before a byte is read, so no input can exhaust
# memory. The limits are MiB, set by the environment variables below.

TEXT_LIMIT_ENV, TEXT_LIMIT_MIB = "DSR_EXPORT_MAX_TEXT_MB", 64  # sources, bibliographies, styles, themes
IMAGE_LIMIT_ENV, IMAGE_LIMIT_MIB = "DSR_EXPORT_MAX_IMAGE_MB", 256  # images and other fetched resources
_MIB = 1024 * 1024

# The command-line option that passes a front matter key's file as the user's own.
_FLAGS = {"bibliography": "--bibliography", "csl": "--csl", "theme": "--theme"}


def _limit(variable: str, default_mib: int) -> int:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default_mib * _MIB
    try:
        mib = float(value)
    except ValueError:
        mib = -1.0
    if not mib > 0:
        raise UsageError(f"{variable} must be a positive number of MiB, not '{value}'")
    return int(mib * _MIB)


def text_limit() -> int:
    """Bytes a text input (source, bibliography, style, theme) may have: DSR_EXPORT_MAX_TEXT_MB, else 64 MiB."""
    return _limit(TEXT_LIMIT_ENV, TEXT_LIMIT_MIB)


def image_limit() -> int:
    """Bytes an image or other fetched resource may have: DSR_EXPORT_MAX_IMAGE_MB, else 256 MiB."""
    return _limit(IMAGE_LIMIT_ENV, IMAGE_LIMIT_MIB)


def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((word for test, word in kinds if test(mode)), "not a regular file")


def _mib(size: int) -> str:
    return f"{size / _MIB:.1f}".removesuffix(".0")


def _hint(image: bool) -> str:
    return f" ({IMAGE_LIMIT_ENV if image else TEXT_LIMIT_ENV} raises it)"


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "it is a symlink loop"
    return exc.strerror or type(exc).__name__


def is_file(path: Path) -> bool:
    """Path.is_file that says False, not OSError, for a name too long or with a NUL byte."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def file_problem(path: Path, image: bool = False) -> str | None:
    """Why the file at `path` may not be read (a special file, over the text or image limit, a loop), or None.

    A missing file is not a problem here: whoever needs it says it is missing.
    """
    limit = image_limit() if image else text_limit()
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return _reason(exc) if isinstance(exc, OSError) else "not a usable file name"
    kind = _kind(info.st_mode)
    if kind is not None:
        return f"it is {kind}, not a regular file"
    if info.st_size > limit:
        return f"it is {_mib(info.st_size)} MiB, over the limit of {_mib(limit)} MiB{_hint(image)}"
    return None


def read_bytes(path: Path, what: str, image: bool = False, wrong_kind: type[DsrError] = DsrError) -> bytes:
    """The bytes of the regular file at `path`, within the text limit (or the image limit).

    Every failure is a DsrError naming the file and `what` it is ("bibliography");
    a missing file or one that is not a regular file raises `wrong_kind` instead.
    """
    limit, hint = image_limit() if image else text_limit(), _hint(image)
    try:
        info = os.stat(path)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise wrong_kind(f"the {what} is {kind}, not a regular file", path=path)
        if info.st_size > limit:
            raise DsrError(f"the {what} is {_mib(info.st_size)} MiB, over the limit of {_mib(limit)} MiB{hint}",
                           path=path)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise wrong_kind(f"no such {what} file", path=path) from None
    except OSError as exc:
        raise DsrError(f"cannot read the {what}: {_reason(exc)}", path=path) from None
    except ValueError:  # a NUL byte in the name
        raise wrong_kind(f"not a usable {what} file name", path=path) from None
    try:
        if _kind(os.fstat(fd).st_mode) is not None:  # swapped for something else since the stat
            raise wrong_kind(f"the {what} is not a regular file", path=path)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DsrError(f"cannot read the {what}: {_reason(exc)}", path=path) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew since the stat
        raise DsrError(f"the {what} is over the limit of {_mib(limit)} MiB{hint}", path=path)
    return data


def read_text(path: Path, what: str) -> str:
    """A text input, decoded as UTF-8 and with line ends as text mode reads them."""
    return decode_text(read_bytes(path, what), path, what)


def decode_text(data: bytes, path: Path, what: str) -> str:
    """The bytes of a text input as UTF-8, with line ends as text mode reads them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DsrError(f"the {what} is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8",
                       path=path, line=line) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def build_roots(source: Path, root: Path | None = None) -> tuple[Path, ...]:
    """The folders a source's front matter may name files in: its own folder, and `root` (--root) if given."""
    folder = source.resolve().parent
    return (folder,) if root is None else tuple(dict.fromkeys((folder, root.resolve())))


def author_path(source: Path, key: str, value: str, line: int | None = None, root: Path | None = None,
                fix: str | None = None) -> Path:
    """The file that front matter `key: value` in `source` names, resolved (symlinks too) from the source's folder.

    This is the one rule for every path an author writes: the file must lie inside the
    source's folder or `root`, and if it exists it must be a regular file within the text
    size limit; otherwise a DsrError at `source:line` says why. Paths the user gives on the
    command line do not come here: they are the user's own.
    """
    roots = build_roots(source, root)
    flag = _FLAGS.get(key)
    try:
        real = (roots[0] / Path(value).expanduser()).resolve()
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        raise DsrError(f"'{key}' is a symlink loop ({value})", path=source, line=line) from None
    except (OSError, ValueError):
        raise DsrError(f"'{key}' is not a usable path ({value!r})", path=source, line=line) from None
    if not any(real == r or r in real.parents for r in roots):
        where = "the source folder" if root is None else f"the source folder and --root {root}"
        if fix is None:  # what the user can do about it ("" when nothing can be passed)
            fix = f"use --root or pass it with {flag}" if flag else "use --root"
        raise DsrError(f"'{key}' points outside {where} ({value})" + (f"; {fix}" if fix else ""),
                       path=source, line=line)
    problem = file_problem(real)
    if problem is not None:
        raise DsrError(f"'{key}' names a file that cannot be read ({value}): {problem}", path=source, line=line)
    return real
