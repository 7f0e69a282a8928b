"""What clients show: LibreOffice's layout of a DOCX, and measurements of laid-out PDF pages."""

from __future__ import annotations

import ctypes
import itertools
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"


def libreoffice_pdf(docx: Path, out_dir: Path) -> Path:
    """`docx` as LibreOffice Writer lays it out, printed to PDF (a private profile, no dialogs)."""
    if not Path(SOFFICE).exists():
        raise AssertionError("LibreOffice (soffice) not found: run tools/setup-system test")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        proc = subprocess.run(
            [SOFFICE, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
             "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(out_dir), str(docx)],
            capture_output=True, text=True, timeout=300, check=False,
        )
    pdf = out_dir / (docx.stem + ".pdf")
    assert proc.returncode == 0 and pdf.exists(), proc.stderr or proc.stdout
    return pdf


@dataclass(frozen=True)
class Char:
    text: str
    page: int
    x: float  # origin on the baseline, in points from the page's left
    y: float  # baseline, in points from the page's top
    size: float
    font: str
    box: tuple[float, float, float, float]  # left, top, right, bottom, from the page's top


def chars(pdf: Path) -> list[Char]:
    """Every drawn character of `pdf` with its baseline origin, size and font (pdfium's text layer)."""
    import pypdfium2 as pdfium
    from pypdfium2 import raw

    doc = pdfium.PdfDocument(str(pdf))
    found: list[Char] = []
    for number in range(len(doc)):
        page = doc[number]
        height = page.get_height()
        text = page.get_textpage()
        buffer = ctypes.create_string_buffer(256)
        for i in range(text.count_chars()):
            code = raw.FPDFText_GetUnicode(text, i)
            if code in (0, 0xFFFE) or chr(code).isspace():
                continue
            x, y = ctypes.c_double(), ctypes.c_double()
            raw.FPDFText_GetCharOrigin(text, i, ctypes.byref(x), ctypes.byref(y))
            length = raw.FPDFText_GetFontInfo(text, i, buffer, len(buffer), None)
            font = buffer.raw[: max(length - 1, 0)].decode("utf-8", "replace")
            left, bottom, right, top = text.get_charbox(i)
            # The size as drawn: the font size scaled by the text matrix (WeasyPrint draws in px).
            matrix = raw.FS_MATRIX()
            raw.FPDFText_GetMatrix(text, i, ctypes.byref(matrix))
            scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5 or 1.0
            size = round(raw.FPDFText_GetFontSize(text, i) * scale, 2)
            found.append(Char(chr(code), number, x.value, height - y.value, size,
                              font.split("+")[-1], (left, height - top, right, height - bottom)))
    return found


def lines(found: list[Char], size: float | None = None, tolerance: float = 0.3) -> list[list[Char]]:
    """Text lines (at `size` points, or any size), in reading order: characters grouped by page and baseline."""
    rows: dict[tuple[int, float], list[Char]] = {}
    for char in found:
        if size is None or abs(char.size - size) <= tolerance:
            rows.setdefault((char.page, round(char.y, 0)), []).append(char)
    return [sorted(rows[key], key=lambda c: c.x) for key in sorted(rows)]


def line_text(line: list[Char]) -> str:
    return "".join(c.text for c in line)


def body_pitch(pdf: Path, size: float) -> float:
    """The median distance between successive baselines of text at `size` points on the same page."""
    rows = lines(chars(pdf), size)
    gaps = [b[0].y - a[0].y for a, b in itertools.pairwise(rows) if a[0].page == b[0].page]
    return statistics.median(g for g in gaps if g > 0)


def line_index(rows: list[list[Char]], words: str) -> int:
    """The index of the first line that starts with `words` (spaces ignored)."""
    wanted = words.replace(" ", "")
    for i, row in enumerate(rows):
        if line_text(row).startswith(wanted):
            return i
    raise AssertionError(f"no line starts with {words!r}")


def indent_of(rows: list[list[Char]], words: str) -> float:
    """How far the line starting with `words` starts right of the paragraph's next line (points)."""
    i = line_index(rows, words)
    return rows[i][0].x - rows[i + 1][0].x


def pdffonts(pdf: Path) -> list[tuple[str, bool]]:
    """poppler's list of the fonts a PDF uses: (name without subset tag, embedded)."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines()[2:]:
        fields = line.split()
        embedded = fields[-5] == "yes"
        found.append((fields[0].split("+")[-1], embedded))
    return found
