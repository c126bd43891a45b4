"""Ordered, bounded fan-out of batches: in-process, over a process pool, or on Dask.

Results come back in submission order whatever finishes first, so ``--jobs N`` and
``--dask`` write the same bytes as one process.  At most ``window`` batches are in flight,
so a stream of any length runs in flat memory.
"""
from __future__ import annotations

import gc
import multiprocessing
import signal
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Optional, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def batched(items: Iterable[T], n: int, weight: Callable[[T], int] = lambda x: 1
            ) -> Iterator[list[T]]:
    """Lists of items weighing ``n`` or just over (the last may weigh less), as the stream
    goes; each item weighs 1 unless ``weight`` says otherwise."""
    batch: list = []
    total = 0
    for x in items:
        batch.append(x)
        total += weight(x)
        if total >= n:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Hide the objects that exist on entry from the collector until the block ends (or
    the outermost such block does).  Fork inside it: the children's collections would
    otherwise write to every inherited object and so copy every page of the parent's
    heap into each child."""
    outer = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        if not outer:
            gc.unfreeze()


#: Allocations between young collections in a streaming phase (Python's default is 700).
YOUNG_THRESHOLD = 20_000


@contextmanager
def collector_relaxed() -> Iterator[None]:
    """Stream documents with the heap built so far (gazetteer, lexicons, compiled
    patterns: hundreds of thousands of objects that live as long as the process) frozen
    out of the collector's full passes, and young collections rarer: nearly everything
    the per-document stage allocates is freed by reference counting before a collection
    would look at it.  Measured at 20,000 documents: time in the collector 0.9 s ->
    0.25 s.  Thresholds and heap are restored when the block ends."""
    old = gc.get_threshold()
    with frozen_heap():
        gc.set_threshold(YOUNG_THRESHOLD, *old[1:])
        try:
            yield
        finally:
            gc.set_threshold(*old)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run a bulk phase without the cyclic garbage collector.  Fusion and the output
    writers hold hundreds of thousands of live dicts and tuples while allocating as many
    more, so the collector's full passes, each walking every live object, cost a sixth
    to a quarter of those phases.  Reference counting frees what they allocate as it
    goes; the one exception, the map's element tree (its nodes point at their parents),
    is built once per run and collected when the pause ends.  Processes forked inside
    the block inherit the pause."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _drain(pending: deque, get: Callable, window: int) -> Iterator:
    while len(pending) >= window:
        yield from get(pending.popleft())


def _worker_start(initializer: Optional[Callable]) -> None:
    """A pool worker leaves Ctrl-C to the parent, which stops the pool: one summary line
    instead of a traceback per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer:
        initializer()


def ordered_map(fn: Callable[[T], list[R]], batches: Iterable[T], *, jobs: int = 1,
                dask: Optional[str] = None, initializer: Optional[Callable] = None
                ) -> Iterator[R]:
    """Yield the items of ``fn(batch)`` for each batch, in order.

    ``jobs`` > 1: a pool of forked worker processes (``initializer`` runs once in each).
    ``dask``: a scheduler address, or ``"local"`` for a LocalCluster of ``jobs`` worker
    processes; ``fn`` and its batches are pickled to the workers.
    """
    if dask:
        yield from _dask_map(fn, batches, dask, max(jobs, 2) if dask == "local" else jobs)
    elif jobs <= 1:
        if initializer:
            initializer()
        for b in batches:
            yield from fn(b)
    else:
        with frozen_heap():
            pool = multiprocessing.get_context("fork").Pool(
                jobs, initializer=_worker_start, initargs=(initializer,))
        with pool:
            pending: deque = deque()
            for b in batches:
                pending.append(pool.apply_async(fn, (b,)))
                yield from _drain(pending, lambda r: r.get(), 4 * jobs)
            yield from _drain(pending, lambda r: r.get(), 1)


def _dask_map(fn: Callable, batches: Iterable, address: str, workers: int) -> Iterator:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError("--dask needs dask.distributed: pip install 'geoevents[dask]'") from None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(address)
    try:
        window = 4 * max(1, len(client.scheduler_info()["workers"]))
        pending: deque = deque()
        for b in batches:
            pending.append(client.submit(fn, b, pure=False))
            yield from _drain(pending, lambda f: f.result(), window)
        yield from _drain(pending, lambda f: f.result(), 1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
