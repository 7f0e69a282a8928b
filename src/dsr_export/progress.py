"""Progress of a long build: one updating line on a terminal, one line per source elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .build import Outcome


class Progress:
    """Counts finished sources and says so on `stream` (standard error), unless quiet."""

    def __init__(self, total: int, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.started = time.monotonic()

    def __call__(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.error is not None
        if self.quiet:
            return
        elapsed = time.monotonic() - self.started
        if self.tty:
            left = elapsed / self.done * (self.total - self.done)
            estimate = f", about {left:.0f} s left" if self.done < self.total else ""
            self.stream.write(f"\r\033[K[{self.done}/{self.total}] {self.failed} failed, "
                              f"{elapsed:.1f} s{estimate}")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            verdict = "failed" if outcome.error is not None else "ok"
            self.stream.write(f"[{self.done}/{self.total}] {outcome.source}: {verdict} in {outcome.seconds:.1f} s\n")
        self.stream.flush()
