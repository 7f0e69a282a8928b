"""The 50x book: the essay's body repeated as numbered parts, for measuring builds at book length."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ESSAY = ROOT / "source" / "digital-silk-road.md"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)(\s*\{[^}]*\})?\s*$")


def split(text: str) -> tuple[str, str]:
    """Front matter (with its fences) and body."""
    end = text.index("\n---\n", 4) + len("\n---\n")
    return text[:end], text[end:]


def book(copies: int, essay: Path = ESSAY) -> str:
    """`copies` parts, each the essay's text with its headings renamed so every id is distinct.

    The citations stay as they are, so the book cites the same 30 works
    `copies` times over; the reference list comes once, at the end.
    """
    front, body = split(essay.read_text(encoding="utf-8"))
    refs_at = body.index("# References")
    text, references = body[:refs_at], body[refs_at:]
    parts = []
    for n in range(1, copies + 1):
        lines = []
        for line in text.splitlines():
            match = _HEADING.match(line)
            lines.append(f"{match[1]} {n}. {match[2]}{match[3] or ''}" if match else line)
        parts.append(f"# Part {n}\n\n" + "\n".join(lines).strip() + "\n")
    front = front.replace('title: "', f'title: "{copies} Parts of ', 1)
    # Parts become the top level; the essay's own headings move one level down.
    demoted = [re.sub(r"^(#{1,5}) (?!Part )", r"#\1 ", p, flags=re.MULTILINE) for p in parts]
    return front + "\n" + "\n".join(demoted) + "\n" + references


def write(folder: Path, copies: int, name: str = "book") -> Path:
    """Write the book and its bibliography into `folder`; return the source path."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ESSAY.parent / "references.yaml", folder / "references.yaml")
    path = folder / f"{name}.md"
    path.write_text(book(copies), encoding="utf-8")
    return path


def chapters(folder: Path, count: int, essay: Path = ESSAY) -> Path:
    """The same book as chapter files: a master listing `count` chapters, each one copy of the essay.

    Returns the master's path; the chapters are `folder/chapters/NN.md`.
    """
    front, body = split(essay.read_text(encoding="utf-8"))
    text = body[: body.index("# References")]
    (folder / "chapters").mkdir(parents=True, exist_ok=True)
    shutil.copy(essay.parent / "references.yaml", folder / "references.yaml")
    names = []
    for n in range(1, count + 1):
        lines = []
        for line in text.splitlines():
            match = _HEADING.match(line)
            # The essay's sections become the chapter's; ids stay distinct across the book.
            lines.append(f"#{match[1]} {n}. {match[2]}{match[3] or ''}" if match else line)
        name = f"chapters/{n:02d}.md"
        (folder / name).write_text(f"---\ntitle: \"Chapter {n}\"\n---\n\n" + "\n".join(lines).strip() + "\n",
                                   encoding="utf-8")
        names.append(name)
    listing = "chapters:\n" + "".join(f"  - {name}\n" for name in names)
    master = front.replace('title: "', f'title: "{count} Chapters of ', 1).replace("\n---\n", "\n" + listing + "---\n", 1)
    path = folder / "book.md"
    path.write_text(master + "\n# Preface {.unnumbered}\n\nThe essay, once per chapter.\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--chapters", action="store_true", help="a master file and one file per chapter")
    args = parser.parse_args()
    print(chapters(args.folder, args.copies) if args.chapters else write(args.folder, args.copies))


if __name__ == "__main__":
    main()
