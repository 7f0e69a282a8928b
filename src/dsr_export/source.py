"""Reading a Markdown source: UTF-8 text, its YAML front matter, and line lookups."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import DsrError, UsageError
from .sandbox import read_bytes

_FENCE = re.compile(r"^---[ \t]*$")
_END = re.compile(r"^(---|\.\.\.)[ \t]*$")
# Characters XML (so EPUB, DOCX) cannot carry: C0 controls but tab and line ends, and two non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Source:
    """A Markdown file as the author wrote it."""

    path: Path
    text: str
    front_matter: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.resolve().parent

    def line_of(self, needle: str, start: int = 0) -> int | None:
        """1-based line of the first occurrence of `needle`, or None."""
        at = self.text.find(needle, start)
        return None if at < 0 else self.text.count("\n", 0, at) + 1

    def line_of_pattern(self, pattern: re.Pattern[str]) -> int | None:
        match = pattern.search(self.text)
        return None if match is None else self.text.count("\n", 0, match.start()) + 1


def read(path: Path) -> Source:
    """Read and decode a source, and parse its front matter; errors name file and line."""
    data = read_bytes(path, "source", wrong_kind=UsageError)  # a directory or a FIFO is a wrong argument
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DsrError(
            f"source is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8", path=path, line=line
        ) from None
    text = text.removeprefix("\ufeff")
    control = _CONTROL.search(text)
    if control:
        raise DsrError(
            f"source contains the control character U+{ord(control.group()):04X}, which no output format can hold",
            path=path, line=text.count("\n", 0, control.start()) + 1,
        )
    meta = front_matter(text, path)
    if not body(text).strip() and not meta.get("chapters"):
        raise DsrError("the source has no text", path=path)
    return Source(path=path, text=text, front_matter=meta)


def body(text: str) -> str:
    """The text after the front matter (all of it when there is none, or when it never ends)."""
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE.match(lines[0].rstrip("\r\n")):
        return text
    for end, line in enumerate(lines[1:], start=1):
        if _END.match(line.rstrip("\r\n")):
            return "".join(lines[end + 1 :])
    return text


def front_matter(text: str, path: Path) -> dict[str, Any]:
    """The YAML block at the top of the file, as a dict ({} when there is none)."""
    lines = text.splitlines()
    if not lines or not _FENCE.match(lines[0]):
        return {}
    for end, line in enumerate(lines[1:], start=1):
        if _END.match(line):
            break
    else:
        raise DsrError("front matter starts with '---' but never ends", path=path, line=1)
    block = "\n".join(lines[1:end])
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DsrError(f"malformed YAML front matter: {problem}", path=path, line=line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DsrError("front matter must be a YAML mapping (key: value)", path=path, line=2)
    return data
