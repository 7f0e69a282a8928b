"""A book's master file and its chapter files read into one source, with a map back to each file's lines."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

from .. import source as src
from ..errors import Diagnostic, DsrError
from ..sandbox import front_matter_path

# An empty fenced div that marks where a chapter begins in the joined text (removed after the parse).
CHAPTER_MARK = "dsr-chapter-start"
BACK_MARK = "dsr-back-matter"
_NOTE_LABEL = re.compile(r"\[\^([^\]\s^]+)\]")
_ATX_H1 = re.compile(r"^#(?!#)\s+\S")


@dataclass(frozen=True)
class Entry:
    """One chapter as the master lists it: its file, the line naming it, the part it opens (if any)."""

    path: Path
    written: str
    line: int | None
    part: str = ""
    part_line: int | None = None


@dataclass(frozen=True)
class Segment:
    """Lines `start`.. of the joined text that come from `path`, from `first` on (or all from `first`)."""

    start: int
    path: Path
    first: int | None
    fixed: bool = False  # every line maps to `first` (text made from the master's chapter list)


@dataclass(frozen=True)
class Joined:
    """The joined text as one Source (named after the master), and where each line came from."""

    source: src.Source
    master: src.Source
    chapters: tuple[src.Source, ...]
    entries: tuple[Entry, ...]
    segments: tuple[Segment, ...]

    def where(self, line: int | None) -> tuple[Path, int | None]:
        """The file and line that line `line` of the joined text came from."""
        if line is None:
            return self.master.path, None
        at = bisect.bisect_right([s.start for s in self.segments], line) - 1
        seg = self.segments[max(at, 0)]
        if seg.fixed or seg.first is None:
            return seg.path, seg.first
        return seg.path, max(1, seg.first + (line - seg.start))

    def diagnostic(self, d: Diagnostic) -> Diagnostic:
        if d.path != self.source.path:
            return d
        path, line = self.where(d.line)
        return Diagnostic(d.message, path, line, d.code, d.severity)

    def error(self, exc: DsrError) -> DsrError:
        if exc.path != self.source.path or type(exc) is not DsrError:
            return exc
        path, line = self.where(exc.line)
        return DsrError(exc.message, path=path, line=line)


def is_book(source: src.Source) -> bool:
    return "chapters" in source.front_matter


def entries(master: src.Source) -> list[Entry]:
    """The chapter files of `master`'s `chapters:` list, each held inside the master's folder.

    Items are paths, or `{part: Title, chapters: [paths]}` groups that open a part.
    """
    listed = master.front_matter.get("chapters")
    cursor = [max(master.text.find("chapters:"), 0)]
    key_line = master.line_of("chapters:")

    def line_of(text: str) -> int | None:
        """The line of the next mention of `text` in the list (the list is read in order)."""
        at = master.text.find(text, cursor[0])
        if at < 0:
            return key_line
        cursor[0] = at + len(text)
        return master.text.count("\n", 0, at) + 1

    def bad(what: str) -> DsrError:
        return DsrError(f"front matter 'chapters' {what}", path=master.path, line=key_line)

    if not isinstance(listed, list) or not listed:
        raise bad("must be a list of chapter files")
    found: list[Entry] = []
    for item in listed:
        part, part_line, files = "", None, [item]
        if isinstance(item, dict):
            if not isinstance(item.get("part"), str) or not isinstance(item.get("chapters"), list):
                raise bad("groups must have a 'part' title and a list of 'chapters'")
            part, files = item["part"].strip(), item["chapters"]
            part_line = line_of(item["part"])
        for i, written in enumerate(files):
            if not isinstance(written, str) or not written.strip():
                raise bad("must list chapter file names")
            line = line_of(written)
            path = front_matter_path(written, master.folder, "chapters", master.path, line)
            if not path.is_file():
                raise DsrError(f"chapter file not found: {written}", path=master.path, line=line)
            found.append(Entry(path, written, line, part if i == 0 else "", part_line if i == 0 else None))
    return found


def chapter_sources(master: src.Source) -> list[src.Source]:
    """The chapter files, read and checked (UTF-8, front matter), in the master's order."""
    return [src.read(e.path) for e in entries(master)]


def join(master: src.Source) -> Joined:
    """The master followed by every chapter, as one Markdown text pandoc parses once.

    Chapter front matter becomes blank lines (so line numbers stay the chapter's own) and its
    `title` a first-level heading; each chapter's note labels get a prefix of their own, since
    every chapter may number its notes from [^1].
    """
    listed = entries(master)
    lines = master.text.rstrip("\n").split("\n")
    segments = [Segment(1, master.path, 1)]
    chapters: list[src.Source] = []
    for n, entry in enumerate(listed, start=1):
        chapter = src.read(entry.path)
        chapters.append(chapter)
        if entry.part:
            segments.append(Segment(len(lines) + 1, master.path, entry.part_line, fixed=True))
            lines += ["", f"# {_escape(entry.part)} {{.part .unnumbered}}", ""]
        segments.append(Segment(len(lines) + 1, master.path, entry.line, fixed=True))
        lines += ["", f"::: {{.{CHAPTER_MARK}}}", ":::", ""]
        body = _NOTE_LABEL.sub(lambda m, n=n: f"[^c{n}-{m[1]}]", chapter.text).rstrip("\n").split("\n")
        heading_at, fm_end = _front_matter_end(body)
        title = chapter.front_matter.get("title")
        first = next((b for b in body[fm_end:] if b.strip()), "")
        needs_title = not _ATX_H1.match(first)
        if fm_end:
            body[:fm_end] = [""] * fm_end
        offset = 1
        if needs_title:
            heading = f"# {_escape(title if isinstance(title, str) and title.strip() else _stem_title(entry.path))}"
            if heading_at is not None:
                body[heading_at] = heading
            else:
                body = [heading, "", *body]
                offset = -1  # two lines added: the chapter's line 1 is the joined text's third
        segments.append(Segment(len(lines) + 1, entry.path, offset))
        lines += body
    if not any("{#refs}" in s.text for s in (master, *chapters)):
        # The reference list closes the book, after a mark that keeps the heading above it ours.
        segments.append(Segment(len(lines) + 1, master.path, None, fixed=True))
        lines += ["", f"::: {{.{BACK_MARK}}}", ":::", "", "::: {#refs}", ":::"]
    text = "\n".join(lines) + "\n"
    joined = src.Source(path=master.path, text=text, front_matter=master.front_matter)
    return Joined(joined, master, tuple(chapters), tuple(listed), tuple(segments))


def _front_matter_end(lines: list[str]) -> tuple[int | None, int]:
    """(index of the closing fence, number of front-matter lines) of a chapter; (None, 0) without one."""
    if not lines or lines[0].strip() != "---":
        return None, 0
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return i, i + 1
    return None, 0


def _stem_title(path: Path) -> str:
    return re.sub(r"^[\d_. -]+", "", path.stem).replace("-", " ").replace("_", " ").strip().capitalize() or path.stem


def _escape(text: str) -> str:
    """A title as Markdown heading text: one line, no attribute braces at its end."""
    return " ".join(text.split()).replace("{", "\\{")

