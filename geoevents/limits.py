"""Per-document limits, so one pathological input cannot stall or sink a batch.

* A **size cap** (``max_bytes``): a text or HTML file, or one JSONL line, larger than
  this is skipped before it is read into memory.
* A **time budget** (``doc_timeout`` seconds of wall time): reading a document and
  extracting from it each get the budget; a document that overruns is skipped with a
  one-line reason and the batch goes on.

The budget is a ``SIGALRM`` timer (``signal.setitimer``), the only way to interrupt
pure-Python work without a second process.  It works in the main thread of a process:
the command line, and each worker of a process pool.  Where signals are unavailable
(a thread other than the main one, such as a Dask worker thread, or a platform without
``setitimer``) :func:`time_budget` does not limit anything and says so, and the run
report records that the budget was not enforced; there the size cap is the only guard.
Python delivers the signal between bytecodes, so one long call into C (a single regular
expression over a huge string, lxml parsing a file) finishes before the budget bites.

An exception raised by a signal handler can be lost: Python swallows it when it lands
in a garbage-collector callback or a ``__del__`` (hypothesis installs such a callback,
and a pathological document makes much garbage), and library code may catch it.  So
:class:`DocumentTimeout` is a ``BaseException`` (``except Exception`` lets it through,
as it does ``KeyboardInterrupt``), and once the budget is spent the alarm repeats every
:data:`RETRY_SECONDS` until the document is abandoned.  Whoever catches it calls
:meth:`DocumentTimeout.disarm`, which stops the alarm even when it fired while the
block was being left.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterable, Iterator, Mapping, Optional

RETRY_SECONDS = 0.1
DEFAULT_MAX_BYTES = 20_000_000
DEFAULT_DOC_TIMEOUT = 30.0
MAX_BYTES = "max_bytes"          # the ``limit`` named by a skip the size cap caused
DOC_TIMEOUT = "doc_timeout"      # ... and by a skip the time budget caused


class DocumentTimeout(BaseException):
    """A document used up its time budget."""

    def __init__(self, seconds: float, previous_handler):
        super().__init__(f"took longer than the time budget of {seconds:g} s")
        self.previous_handler = previous_handler

    def disarm(self) -> None:
        """Stop the repeating alarm and put the previous SIGALRM handler back."""
        _disarm(self.previous_handler)


def too_large(size: int, max_bytes: int, what: str = "file") -> str:
    """The one-line reason for a skip by the size cap."""
    return f"{what} too large ({size} bytes > limit {max_bytes})"


def budget_enforced() -> bool:
    """True where :func:`time_budget` can interrupt work (main thread, ``setitimer``)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_budget(seconds: Optional[float]) -> Iterator[bool]:
    """Raise :class:`DocumentTimeout` inside the block once ``seconds`` have passed.

    Yields whether the budget is enforced (False for no budget, or off the main
    thread).  Not reentrant: an inner budget replaces an outer one."""
    if not seconds or seconds <= 0 or not budget_enforced():
        yield False
        return

    def on_alarm(signum, frame):
        raise DocumentTimeout(seconds, previous)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, min(seconds, RETRY_SECONDS))
    try:
        yield True
    finally:
        _disarm(previous)


def _disarm(previous_handler) -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous_handler)


def limits_report(max_bytes: int, doc_timeout: Optional[float], skipped: Iterable[Mapping],
                  enforced: bool) -> dict:
    """The ``limits`` block of report.json: both limits, whether the time budget could be
    enforced where extraction ran, and how many documents each limit stopped (counted
    from the ``limit`` of each skipped entry)."""
    hits = [s.get("limit") for s in skipped]
    return {"max_bytes": max_bytes, "doc_timeout": doc_timeout,
            "doc_timeout_enforced": bool(doc_timeout) and enforced,
            "too_large": hits.count(MAX_BYTES), "timed_out": hits.count(DOC_TIMEOUT)}
