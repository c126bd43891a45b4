"""Progress of a batch run: a live line on a terminal, plain log lines elsewhere.

Hand-written rather than tqdm/rich: one line of counts (documents, events, docs/s, ETA)
is all a batch needs, and a log file must get whole lines, not carriage returns.
"""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """Counts documents and events; ``total`` (when known) gives an ETA."""

    def __init__(self, total: Optional[int] = None, stream: Optional[TextIO] = None,
                 quiet: bool = False, every: Optional[float] = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every if every is not None else (0.2 if self.tty else 10.0)
        self.total = total
        self.docs = self.events = self.skipped = 0
        self.start = self._last = time.monotonic()

    def update(self, docs: int = 0, events: int = 0, skipped: int = 0) -> None:
        self.docs += docs
        self.events += events
        self.skipped += skipped
        now = time.monotonic()
        if not self.quiet and now - self._last >= self.every:
            self._last = now
            self._emit(final=False)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.docs / elapsed
        text = f"{self.docs:,} documents, {self.events:,} events, {rate:,.0f} docs/s"
        if self.skipped:
            text += f", {self.skipped:,} skipped"
        if self.total and rate > 0 and self.docs + self.skipped < self.total:
            left = (self.total - self.docs - self.skipped) / rate
            text += f", ETA {int(left // 3600)}:{int(left % 3600 // 60):02d}:{int(left % 60):02d}"
        return text

    def _emit(self, final: bool) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line() + ("\n" if final else ""))
        else:
            self.stream.write("geoevents: " + self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if not self.quiet and (self.tty or time.monotonic() - self.start >= self.every):
            self._emit(final=True)
