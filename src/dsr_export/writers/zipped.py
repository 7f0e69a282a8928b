"""Deterministic ZIP packages (EPUB, DOCX): fixed entry dates, stable order, no extra fields."""

from __future__ import annotations

import io
import time
import zipfile

# ZIP cannot store dates before 1980.
_EARLIEST = 315532800


def repack(data: bytes, when: int, first: str | None = None) -> bytes:
    """Rewrite a ZIP with every entry dated `when` (UTC); `first` (e.g. "mimetype") stays first and stored."""
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
            dst.writestr(info, src.read(name), compresslevel=9)
    return out.getvalue()
