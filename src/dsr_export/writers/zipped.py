"""Deterministic ZIP packages (EPUB, DOCX): fixed entry dates, stable order, no extra fields."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable

# ZIP cannot store dates before 1980.
_EARLIEST = 315532800


def repack(
    data: bytes, when: int, first: str | None = None, edit: dict[str, Callable[[bytes], bytes]] | None = None
) -> bytes:
    """Rewrite a ZIP with every entry dated `when` (UTC); `first` (e.g. "mimetype") stays first and stored.

    `edit` maps entry names to functions that rewrite those entries on the way.
    """
    stamp = time.gmtime(max(when, _EARLIEST))[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = src.namelist()
        order = ([first] if first in names else []) + [n for n in names if n != first]
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 0
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name == first else zipfile.ZIP_DEFLATED
            content = src.read(name)
            if edit and name in edit:
                content = edit[name](content)
            dst.writestr(info, content, compresslevel=9)
    return out.getvalue()


def entries(data: bytes) -> dict[str, bytes]:
    """Every entry of a ZIP, in its order, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        return {name: src.read(name) for name in src.namelist()}


def pack(parts: dict[str, bytes]) -> bytes:
    """A ZIP of `parts` in their order (dates and compression are set afterwards by `repack`)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, content in parts.items():
            dst.writestr(name, content)
    return out.getvalue()
