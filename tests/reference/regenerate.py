"""Rebuild the reference page images after an intended change of the print layout: python tests/reference/regenerate.py"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pages import render, save

# The sources whose pages are kept, as the tests build them (same SOURCE_DATE_EPOCH as tests/conftest.py).
SOURCES = {
    "essay": HERE.parents[1] / "source" / "digital-silk-road.md",
    "rich": HERE.parent / "fixtures" / "clients" / "rich.md",
}


def main() -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1609718400"}
    with tempfile.TemporaryDirectory() as tmp:
        env["DSR_EXPORT_CACHE"] = str(Path(tmp) / "records")
        for name, source in SOURCES.items():
            subprocess.run([sys.executable, "-m", "dsr_export", "build", str(source), "--to", "pdf", "--out", tmp],
                           check=True, env=env)
            written = save(name, render(Path(tmp) / f"{source.stem}.pdf"))
            print(f"{name}: {len(written)} pages -> {HERE.name}/")


if __name__ == "__main__":
    main()
