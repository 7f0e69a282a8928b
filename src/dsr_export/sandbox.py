"""What a build may read: the source's folder, its bibliography and style, the theme's fonts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Sandbox:
    """A set of folders; a file outside all of them is never read on the author's behalf."""

    roots: tuple[Path, ...]

    def allows(self, path: Path) -> bool:
        real = path.resolve()
        return any(real == root or root in real.parents for root in self.roots)

    def allows_url(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme.lower() == "data":
            return True
        if parts.scheme.lower() != "file":
            return False
        return self.allows(Path(unquote(parts.path)))


def for_paths(*paths: Path) -> Sandbox:
    return Sandbox(tuple(dict.fromkeys(p.resolve() for p in paths)))
