"""Protecting outputs from concurrent and interrupted runs.

* :func:`locked` takes an exclusive ``fcntl.flock`` on a lock file, so two runs never
  write the same ``--out`` directory or ``--store`` file at once: the second one fails
  with a one-line :class:`LockBusy` or, with ``wait=True``, waits its turn.  The kernel
  drops a flock when its process dies, however it dies (``kill -9`` included), so a
  crashed run never leaves a stale lock behind.  The lock file itself stays (deleting
  it would let a third run lock a different file while the second still holds the old).
* :func:`deferred_interrupt` holds Ctrl-C back while a set of outputs is written, so an
  interrupted run leaves the previous set or the new set, never a mix of the two.
* :func:`remove_stale_temps` deletes the temporary files of a run that was killed while
  writing (``export.atomic_open`` names them ``.NAME.XXXX.tmp``); call it under the lock.
"""
from __future__ import annotations

import fcntl
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

OUT_LOCK = ".geoevents.lock"


class LockBusy(RuntimeError):
    """Another process holds the lock."""


def lock_path(target: str | Path, directory: bool) -> Path:
    """The lock file of an output directory (inside it: nothing is written outside
    ``--out``) or of a store file (beside it, hidden: SQLite locks the store itself with
    POSIX locks, which a flock must not meet where one is emulated with the other)."""
    target = Path(target)
    return target / OUT_LOCK if directory else target.with_name(f".{target.name}.lock")


@contextmanager
def locked(target: str | Path, *, directory: bool, wait: bool = False) -> Iterator[Path]:
    """Hold the exclusive lock of ``target`` (an output directory, or a store file) for
    the block; LockBusy names the holder's pid when another process has it and
    ``wait`` is False."""
    path = lock_path(target, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            if not wait:
                raise LockBusy(f"{target}: another geoevents run (pid {holder}) is writing "
                               "here; try again later or pass --wait") from None
            print(f"geoevents: waiting for {target} (locked by pid {holder})", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield path
    finally:
        os.close(fd)                      # closing the last descriptor releases the flock


def remove_stale_temps(out_dir: str | Path) -> int:
    """Delete ``.NAME.XXXX.tmp`` files a killed run left in ``out_dir``; returns how many."""
    n = 0
    for tmp in Path(out_dir).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Run the block to its end even if SIGINT arrives; raise KeyboardInterrupt after it.
    Off the main thread (where handlers cannot be set) the block runs unprotected; where
    SIGINT is ignored it stays ignored."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
