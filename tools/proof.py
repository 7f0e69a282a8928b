"""PNG pages of every format of a source, as its readers' clients show them, for a person to look at.

Usage: python tools/proof.py [SOURCE.md] [--out build]   (make proof)
Writes OUT/proof/: pdf-NN.png (the PDF's pages), docx-NN.png (the DOCX as LibreOffice lays it out),
epub-FILE.png (each EPUB chapter as Chromium lays it out) and html.png (the web page).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import page
from clients import libreoffice_pdf
from epub_layout import chapters

DPI = 60


def pdf_pages(pdf: Path, folder: Path, prefix: str) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(folder / prefix)], check=True)
    return sorted(folder.glob(f"{prefix}-*.png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(ROOT / "source" / "digital-silk-road.md"))
    parser.add_argument("--out", default=str(ROOT / "build"))
    args = parser.parse_args(argv)
    out, source = Path(args.out), Path(args.source)
    command = [sys.executable, "-m", "dsr_export", "build", str(source), "--out", str(out)]
    build = subprocess.run(command, check=False)
    if build.returncode:
        return build.returncode
    proof = out / "proof"
    shutil.rmtree(proof, ignore_errors=True)
    proof.mkdir(parents=True)
    stem = source.stem
    made = pdf_pages(out / f"{stem}.pdf", proof, "pdf")
    with tempfile.TemporaryDirectory(prefix="dsr-proof-") as tmp:
        made += pdf_pages(libreoffice_pdf(out / f"{stem}.docx", Path(tmp) / "docx"), proof, "docx")
        files = chapters(out / f"{stem}.epub", Path(tmp) / "epub")
        with page(width=600, height=800) as tab:
            for file in files:
                tab.goto(file.as_uri())
                shot = proof / f"epub-{file.stem}.png"
                tab.screenshot(path=str(shot), full_page=True)
                made.append(shot)
            tab.set_viewport_size({"width": 900, "height": 1000})
            tab.goto((out / f"{stem}.html").resolve().as_uri())
            tab.screenshot(path=str(proof / "html.png"), full_page=True)
            made.append(proof / "html.png")
    print(f"{len(made)} images in {proof}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
