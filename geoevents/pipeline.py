"""Wires the stages: documents -> mentions -> events -> store -> fusion -> outputs.

``Pipeline.extract`` is the per-document stage, a pure function of (document, gazetteer
version): the unit a process pool or a Dask worker runs.  ``run`` streams a batch through
it in bounded memory, commits results to a GeoPackage store batch by batch (a temporary
one unless ``store`` is given), fuses events across documents, and writes every output
atomically from the store.
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

from .documents import ReadError, read_documents
from .events import EventBuilder
from .export import (atomic_write, dumps, event_feature, feature_collection, mention_feature,
                     write_collection, write_events_csv)
from .guard import deferred_interrupt, locked, remove_stale_temps
from .limits import (DEFAULT_DOC_TIMEOUT, DEFAULT_MAX_BYTES, DOC_TIMEOUT, DocumentTimeout,
                     budget_enforced, limits_report, time_budget)
from .model import Document
from .parallel import batched, collector_paused, collector_relaxed, frozen_heap, ordered_map
from .progress import Progress
from .resolver import Resolver
from .store import Packed, Store, content_hash, pack

#: Documents per task sent to a worker (and per store lookup), and per store
#: transaction.  Tasks of 64 news-length documents rather than 16 made the --jobs 2
#: extraction phase 4 % faster at 20,000 documents, and 128 rather than 64 another 2 %
#: (24,000 documents, three alternated rounds: 17.0-17.7 s against 17.4-18.0 s; 256
#: gained nothing more).  A document weighs one more per ``TASK_CHARS`` of text, so a
#: task of long documents holds about as much text as one of TASK_DOCS news articles.
TASK_DOCS = 128
TASK_CHARS = 16_000
COMMIT_DOCS = 256


def _task_weight(item: "Document | ReadError") -> int:
    return 1 + len(item.text) // TASK_CHARS if isinstance(item, Document) else 1


@dataclass(frozen=True)
class DocResult:
    """What one document produced: features ready to store and write."""
    doc: str
    hash: str
    meta: dict
    mentions: list
    events: list


@dataclass(frozen=True)
class Skipped:
    """A document that could not be read or processed, with a one-line reason (and the
    limit that stopped it, if one did)."""
    file: str
    reason: str
    limit: Optional[str] = None


@dataclass
class BatchResult:
    """What a batch produced, and the run report.  ``process`` keeps every feature in
    ``mentions``/``events``; ``run`` streams them to the store and keeps counts only."""
    mentions: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    documents: int = 0
    skipped: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    limits: dict = field(default_factory=dict)
    encodings: dict = field(default_factory=dict)
    not_utf8: list[dict] = field(default_factory=list)
    seconds: dict = field(default_factory=lambda: {"extract": 0.0, "store": 0.0, "fusion": 0.0,
                                                   "write": 0.0, "map": 0.0})

    def report(self) -> dict:
        """report.json: counts, skips with reasons, limits, encodings read.  No timings
        (they go to timings.json), so the same inputs give the same bytes."""
        counts = {"mentions": len(self.mentions), "events": len(self.events), **self.counts}
        return {"documents_read": self.documents, "documents_skipped": len(self.skipped),
                "skipped": self.skipped, **counts, "limits": self.limits,
                "encodings": dict(sorted(self.encodings.items())), "not_utf8": self.not_utf8}

    def skip(self, item: "Skipped") -> None:
        """Record a skipped document (with the limit that stopped it, if any)."""
        self.skipped.append({"file": item.file, "reason": item.reason,
                             **({"limit": item.limit} if item.limit else {})})


class Pipeline:
    """The per-document stages in a row, built once and shared."""

    def __init__(self, resolver: Optional[Resolver] = None,
                 builder: Optional[EventBuilder] = None):
        self.resolver = resolver or Resolver()
        self.builder = builder or EventBuilder()

    @property
    def version(self) -> str:
        """The gazetteer version the results depend on."""
        return self.resolver.gaz.version

    def extract(self, doc: Document) -> DocResult:
        """Mentions and events of one document, as sorted features."""
        mentions = self.resolver(doc)
        events = self.builder(doc, mentions)
        meta = {"source": doc.source, "url": doc.url, "title": doc.title,
                "published": doc.published.isoformat() if doc.published else None}
        doc_meta = {doc.id: meta}
        m = sorted((mention_feature(x) for x in mentions), key=_mention_order)
        e = sorted((event_feature(x, doc_meta) for x in events), key=_event_order)
        return DocResult(doc.id, content_hash(doc.text, doc.source, doc.url), meta, m, e)

    def extract_safe(self, doc: Document, doc_timeout: Optional[float] = None
                     ) -> DocResult | Skipped:
        """``extract``, or why not: within ``doc_timeout`` seconds (see ``limits``), and
        never raising for one bad document, which must not sink the batch."""
        try:
            with time_budget(doc_timeout):
                return self.extract(doc)
        except DocumentTimeout as exc:
            exc.disarm()
            return Skipped(doc.id, f"extraction {exc}", DOC_TIMEOUT)
        except Exception as exc:
            return Skipped(doc.id, f"internal error: {exc!r}"[:300])

    def process(self, items: Iterable[Document | ReadError]) -> BatchResult:
        """Run documents through the stages in memory (evaluation, notebooks, tests)."""
        res = BatchResult()
        t0 = time.perf_counter()
        for item in items:
            r = _as_skipped(item) if isinstance(item, ReadError) else self.extract_safe(item)
            if isinstance(r, DocResult):
                res.documents += 1
                res.mentions.extend(r.mentions)
                res.events.extend(r.events)
            else:
                res.skip(r)
        res.seconds["extract"] = time.perf_counter() - t0
        res.mentions.sort(key=lambda f: (f["properties"]["doc"],) + _mention_order(f))
        res.events.sort(key=lambda f: (f["properties"]["doc"],) + _event_order(f))
        return res


def _mention_order(f: dict) -> tuple:
    return f["properties"]["start"], f["properties"]["end"]


def _event_order(f: dict) -> tuple:
    return f["properties"]["start"], f["properties"]["event_id"]


def _as_skipped(item: ReadError) -> Skipped:
    return Skipped(item.path, item.reason, item.limit)


@lru_cache(maxsize=1)
def _worker_pipeline() -> Pipeline:
    """One pipeline per worker process, loaded on its first task and kept."""
    return Pipeline()


def _packed(r: DocResult | Skipped) -> Packed | Skipped:
    return pack(r.doc, r.hash, r.meta, r.mentions, r.events) if isinstance(r, DocResult) else r


def extract_batch(docs: list[Document], version: Optional[str] = None,
                  doc_timeout: Optional[float] = None) -> list:
    """The worker task: extract a batch of documents with the worker's own pipeline and
    pack them as store rows.  Refuses to run on a gazetteer other than the client's
    (results would differ)."""
    pipe = _worker_pipeline()
    if version is not None and pipe.version != version:
        raise RuntimeError(f"worker gazetteer {pipe.version} differs from the client's "
                           f"{version}: install the same geoevents and gazetteer on every worker")
    return [_packed(pipe.extract_safe(d, doc_timeout)) for d in docs]


def extract_stream(items: Iterable[Document | ReadError], pipeline: Optional[Pipeline] = None,
                   *, jobs: int = 1, dask: Optional[str] = None,
                   doc_timeout: Optional[float] = None) -> Iterator[Packed | Skipped]:
    """Extract a stream of documents in order, in this process, a pool or on Dask, packed
    as store rows, each within ``doc_timeout`` seconds (not enforced in Dask's worker
    threads: see ``limits``).  Read errors pass through as ``Skipped`` at their place in
    the stream."""
    if jobs <= 1 and not dask:
        pipe = pipeline or Pipeline()
        for item in items:
            yield (_as_skipped(item) if isinstance(item, ReadError)
                   else _packed(pipe.extract_safe(item, doc_timeout)))
        return
    version = (pipeline or _worker_pipeline()).version
    yield from ordered_map(_ExtractTask(version, doc_timeout),
                           batched(items, TASK_DOCS, weight=_task_weight),
                           jobs=jobs, dask=dask, initializer=_worker_pipeline)


class _ExtractTask:
    """A picklable callable: read errors stay where they were, documents are extracted."""

    def __init__(self, version: str, doc_timeout: Optional[float] = None):
        self.version = version
        self.doc_timeout = doc_timeout

    def __call__(self, batch: list) -> list:
        docs = [x for x in batch if not isinstance(x, ReadError)]
        done = iter(extract_batch(docs, self.version, self.doc_timeout))
        return [_as_skipped(x) if isinstance(x, ReadError) else next(done) for x in batch]


def _note_encodings(items: Iterable[Document | ReadError], res: BatchResult
                    ) -> Iterator[Document | ReadError]:
    """Count the encodings documents were read in; list every one that was not UTF-8."""
    for item in items:
        if isinstance(item, Document):
            res.encodings[item.encoding] = res.encodings.get(item.encoding, 0) + 1
            if item.encoding != "utf-8":
                res.not_utf8.append({"doc": item.id, "encoding": item.encoding})
        yield item


def _new_documents(items: Iterable[Document | ReadError], store: Store, pending: set,
                   res: BatchResult) -> Iterator[Document | ReadError]:
    """Drop documents already stored (same content hash), give a colliding id a suffix.
    The store is asked a batch at a time (two queries, not two per document), and the
    whole batch is judged before any of it is handed on: a document handed on is in
    ``pending`` until committed, so the judging sees one consistent state."""
    for batch in batched(items, TASK_DOCS, weight=_task_weight):
        docs = [x for x in batch if isinstance(x, Document)]
        hashes = [content_hash(d.text, d.source, d.url) for d in docs]
        stored = store.stored("doc_hash", hashes)
        stored_ids = store.stored("doc", [d.id for d in docs])
        judged, kept = iter(hashes), []
        for item in batch:
            if isinstance(item, Document):
                h = next(judged)
                if h in pending or h in stored:
                    res.counts["already_stored"] = res.counts.get("already_stored", 0) + 1
                    continue
                if item.id in pending or item.id in stored_ids:
                    item = replace(item, id=f"{item.id}#{h[:8]}")
                pending.update((h, item.id))
            kept.append(item)
        yield from kept


def run(inputs: Sequence[str | Path], out_dir: str | Path, *, metadata: Optional[str] = None,
        published: Optional[date] = None, title: str = "geoevents",
        tiles: Optional[str] = None, baseline: Optional[list[dict]] = None,
        pipeline: Optional[Pipeline] = None, store: Optional[str | Path] = None,
        jobs: int = 1, dask: Optional[str] = None, fusion: bool = True,
        progress: Optional[Progress] = None, max_bytes: int = DEFAULT_MAX_BYTES,
        doc_timeout: Optional[float] = DEFAULT_DOC_TIMEOUT, wait: bool = False,
        raw: bool = False) -> BatchResult:
    """Read, extract, store, fuse, and write mentions.geojson, events.geojson (fused, or per
    document with ``fusion=False``), events.csv, control.geojson, map.html and report.json
    into ``out_dir``; with ``raw`` (and fusion) also events_raw.geojson, the events before
    fusion, which the store keeps anyway: at 100,000 documents it is a 1 GB file that
    costs a twentieth of the run to sort and write, so it is written when asked for.

    ``store``: a GeoPackage kept across runs (documents already in it are skipped); the
    outputs then cover everything in the store.  Without it a temporary store holds this
    run only.

    ``max_bytes`` and ``doc_timeout`` limit each document (see ``limits``).  The run
    holds a lock on ``out_dir`` and on ``store`` (see ``guard``): another run on either
    raises ``LockBusy``, or is waited for with ``wait``.  Ctrl-C while the outputs are
    written lets the writing finish first, so ``out_dir`` never mixes two runs."""
    res = BatchResult()
    progress = progress or Progress(quiet=True)
    with ExitStack() as stack:
        stack.enter_context(locked(out_dir, directory=True, wait=wait))
        remove_stale_temps(out_dir)
        if store is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="geoevents-"))
            store = Path(tmp) / "run.gpkg"
        else:
            stack.enter_context(locked(store, directory=False, wait=wait))
        st = stack.enter_context(Store(store))
        pending: set = set()
        docs = read_documents(inputs, metadata=metadata, published=published,
                              max_bytes=max_bytes, doc_timeout=doc_timeout)
        items = _new_documents(_note_encodings(docs, res), st, pending, res)
        batch: list[Packed] = []
        t0 = time.perf_counter()
        if pipeline is None:    # built before the heap is frozen
            pipeline = _worker_pipeline() if jobs > 1 or dask else Pipeline()
        with collector_relaxed():
            for r in extract_stream(items, pipeline, jobs=jobs, dask=dask,
                                    doc_timeout=doc_timeout):
                if isinstance(r, Skipped):
                    res.skip(r)
                    progress.update(skipped=1)
                    continue
                res.documents += 1
                batch.append(r)
                progress.update(docs=1, events=len(r.events))
                if len(batch) >= COMMIT_DOCS:
                    _commit(st, batch, pending, res)
            _commit(st, batch, pending, res)
        progress.close()
        res.seconds["extract"] = time.perf_counter() - t0 - res.seconds["store"]
        staged = None
        if jobs > 1:        # a second core: it writes what fusion leaves as it is meanwhile
            staged = _StagedOutputs(st.path, out_dir, _fusion_free_outputs(fusion, raw))
            stack.callback(staged.discard)
        with collector_paused():
            t1 = time.perf_counter()
            added, removed = st.refuse(jobs=jobs)
            res.seconds["fusion"] = time.perf_counter() - t1
            res.counts.update(fused_added=added, fused_removed=removed)
            res.limits = limits_report(max_bytes, doc_timeout, res.skipped,
                                       enforced=budget_enforced() and not dask)
            with deferred_interrupt():
                write_outputs(st, out_dir, res, fusion=fusion, raw=raw, title=title,
                              tiles=tiles, baseline=baseline, staged=staged)
    return res


def _commit(st: Store, batch: list[Packed], pending: set, res: BatchResult) -> None:
    t = time.perf_counter()
    st.add(batch)
    for r in batch:
        pending.discard(r.hash)
        pending.discard(r.doc)
    batch.clear()
    res.seconds["store"] += time.perf_counter() - t


#: Reports a fused event carries into the map (its popup lists five besides the lead);
#: events.geojson keeps them all.
MAP_SOURCES = 6


def _for_map(f: dict) -> dict:
    """An event as the map needs it: the properties its popups, filters and search read,
    at most ``MAP_SOURCES`` reports and their count, so a map of a large store fits in
    memory."""
    from .render.map import POPUP_KEYS
    props = f["properties"]
    p = {k: props[k] for k in POPUP_KEYS if k in props}
    if "sources" in p:
        p["reports"] = len(p["sources"])
        p["sources"] = p["sources"][:MAP_SOURCES]
    return {"type": "Feature", "geometry": f["geometry"], "properties": p}


def _for_ledger(f: dict) -> dict:
    """A control change as the ledger reads it: without the reports it merged and its
    evidence, which the ledger does not read and which hold every report's sentence."""
    return {"type": "Feature", "geometry": f["geometry"],
            "properties": {k: v for k, v in f["properties"].items()
                           if k not in ("sources", "evidence")}}


#: An output written straight from the store to a path.
Writer = Callable[[Store, Path], object]


#: Written only when asked for (``raw``): the layer before fusion.
RAW_OUTPUT = "events_raw.geojson"


def _fusion_free_outputs(fusion: bool, raw: bool) -> dict[str, Writer]:
    """The outputs fusion leaves as they are, by file name."""
    out: dict[str, Writer] = {
        "mentions.geojson": lambda st, path: write_collection(path, st.mentions(as_text=True))}
    if fusion and raw:
        out[RAW_OUTPUT] = lambda st, path: write_collection(
            path, st.events("events_raw", as_text=True))
    return out


def _event_outputs(layer: str) -> dict[str, Writer]:
    """events.geojson and events.csv, when another process writes them (otherwise the
    map's read of the layer feeds the CSV too)."""
    return {"events.geojson": lambda st, path: write_collection(
                path, st.events(layer, as_text=True)),
            "events.csv": lambda st, path: write_events_csv(path, st.events(layer))}


class _StagedOutputs:
    """Outputs written by a forked process (through its own read-only connection to the
    store) while this one fuses or draws the map, when ``--jobs`` grants a second core.
    They go to ``.NAME.staged.tmp`` files that :meth:`install` moves into place with the
    other outputs, so an interrupted run leaves the previous set whole."""

    def __init__(self, store: Path, out_dir: str | Path, writers: dict[str, Writer]):
        import multiprocessing
        ctx = multiprocessing.get_context("fork")
        self.out = Path(out_dir)
        self.staged = {name: self.out / f".{name}.staged.tmp" for name in writers}
        self.reason, report = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_write_staged, args=(store, writers, self.staged, report),
                                daemon=True)
        with frozen_heap():
            self.proc.start()
        report.close()

    def install(self) -> None:
        """Wait for the writer, then move its files into place; raise RuntimeError with
        its one-line reason if it failed."""
        self.proc.join()
        if self.proc.exitcode != 0:
            why = self.reason.recv() if self.reason.poll() else f"exit code {self.proc.exitcode}"
            raise RuntimeError(f"writing {', '.join(self.staged)} failed: {why}")
        for name, tmp in self.staged.items():
            os.replace(tmp, self.out / name)

    def discard(self) -> None:
        """Stop the writer if it still runs and remove what it left (a no-op once
        installed)."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()
        for tmp in self.staged.values():
            tmp.unlink(missing_ok=True)


def _write_staged(store: Path, writers: dict[str, Writer], staged: dict[str, Path],
                  report: Connection) -> None:
    """The writer process: a failure goes back to the parent as one line, not as a
    traceback on the terminal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the parent's to handle
    try:
        with Store(store, read_only=True) as st:
            for name, write in writers.items():
                write(st, staged[name])
    except Exception as exc:
        report.send(f"{type(exc).__name__}: {exc}"[:300])
        sys.exit(1)


def write_outputs(st: Store, out_dir: str | Path, res: BatchResult, *, fusion: bool = True,
                  raw: bool = False, title: str = "geoevents", tiles: Optional[str] = None,
                  baseline: Optional[list[dict]] = None,
                  staged: Optional[_StagedOutputs] = None) -> None:
    """Write every output from the store, atomically, streaming the layers; only the
    map's slimmed events and the control changes are held in memory.  ``staged`` (a
    ``--jobs`` run): the outputs fusion leaves as they are, written meanwhile by another
    process; events.geojson and events.csv then go to another while this one draws the
    map.  Seconds per stage go to timings.json, apart from report.json, which stays
    byte-identical across runs.  An events_raw.geojson left by an earlier run is removed
    when this one does not write it, so ``out_dir`` never mixes two runs."""
    from .ledger import ControlLedger
    from .render.map import render_map
    out = Path(out_dir)
    t0 = time.perf_counter()
    layer = "events" if fusion else "events_raw"
    helper = None
    if staged is None:
        for name, write in _fusion_free_outputs(fusion, raw).items():
            write(st, out / name)
        _event_outputs(layer)["events.geojson"](st, out / "events.geojson")
    else:
        staged.install()                # written during fusion: done, or nearly
        helper = _StagedOutputs(st.path, out, _event_outputs(layer))
    try:
        for_map: list[dict] = []
        changes: list[dict] = []

        def tap() -> Iterator[dict]:    # one read of the layer feeds the map and ledger
            for f in st.events(layer):
                for_map.append(_for_map(f))
                if f["properties"]["type"] == "control_change":
                    changes.append(_for_ledger(f))
                yield f
        if helper is None:
            write_events_csv(out / "events.csv", tap())     # ... and the CSV
        else:
            deque(tap(), maxlen=0)
        control_fc = ControlLedger(changes, baseline).to_geojson()
        atomic_write(out / "control.geojson", dumps(control_fc))
        t1 = time.perf_counter()
        render_map(feature_collection(for_map), out / "map.html",
                   mention_places=st.mention_places(), control=control_fc, title=title,
                   tiles=tiles)
        t2 = time.perf_counter()
        if helper is not None:
            helper.install()
    finally:
        if helper is not None:
            helper.discard()
    if RAW_OUTPUT not in _fusion_free_outputs(fusion, raw):    # one place decides
        (out / RAW_OUTPUT).unlink(missing_ok=True)
    res.seconds["write"] += time.perf_counter() - t0 - (t2 - t1)
    res.seconds["map"] += t2 - t1
    res.counts.update(store_documents=st.count("documents"), mentions=st.count("mentions"),
                      events_raw=st.count("events_raw"), events=st.count(layer))
    atomic_write(out / "report.json", dumps(res.report()))
    atomic_write(out / "timings.json", dumps({k: round(v, 3) for k, v in res.seconds.items()}))
