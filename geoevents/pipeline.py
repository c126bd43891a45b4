"""Wires the stages: documents -> mentions -> events -> outputs.

``extract`` is the per-document stage, a pure function of (document, gazetteer): the
unit a process pool or a Dask worker runs.  ``run`` streams a batch through it, keeps
going past bad documents, and writes every output atomically.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable, Optional, Sequence

from .documents import ReadError, read_documents
from .events import EventBuilder
from .export import (atomic_write, dumps, event_feature, events_csv, feature_collection,
                     mention_feature)
from .model import Document
from .resolver import Resolver


@dataclass
class BatchResult:
    """What a batch produced: features ready to write, and the run report."""
    mentions: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    documents: int = 0
    skipped: list[dict] = field(default_factory=list)
    seconds: dict = field(default_factory=lambda: {"read": 0.0, "resolve": 0.0, "events": 0.0,
                                                   "write": 0.0, "map": 0.0})

    def report(self) -> dict:
        return {"documents_read": self.documents, "documents_skipped": len(self.skipped),
                "skipped": self.skipped, "mentions": len(self.mentions),
                "events": len(self.events),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


class Pipeline:
    """The per-document stages in a row, built once and shared."""

    def __init__(self, resolver: Optional[Resolver] = None,
                 builder: Optional[EventBuilder] = None):
        self.resolver = resolver or Resolver()
        self.builder = builder or EventBuilder()

    def process(self, items: Iterable[Document | ReadError]) -> BatchResult:
        """Run a stream of documents (and read errors) through the stages."""
        res = BatchResult()
        clock = time.perf_counter()
        for item in items:
            now = time.perf_counter()
            res.seconds["read"] += now - clock
            if isinstance(item, ReadError):
                res.skipped.append({"file": item.path, "reason": item.reason})
                clock = time.perf_counter()
                continue
            try:
                t0 = time.perf_counter()
                mentions = self.resolver(item)
                t1 = time.perf_counter()
                events = self.builder(item, mentions)
                t2 = time.perf_counter()
            except Exception as exc:  # one bad document must not sink the batch
                res.skipped.append({"file": item.id, "reason": f"internal error: {exc!r}"[:300]})
                clock = time.perf_counter()
                continue
            res.seconds["resolve"] += t1 - t0
            res.seconds["events"] += t2 - t1
            res.documents += 1
            meta = {item.id: {"source": item.source, "url": item.url,
                              "published": item.published.isoformat() if item.published else None}}
            res.mentions.extend(mention_feature(m) for m in mentions)
            res.events.extend(event_feature(e, meta) for e in events)
            clock = time.perf_counter()
        key = lambda f: (f["properties"]["doc"], f["properties"]["start"],  # noqa: E731
                         f["properties"].get("event_id") or f["properties"]["end"])
        res.mentions.sort(key=key)
        res.events.sort(key=key)
        return res


def run(inputs: Sequence[str | Path], out_dir: str | Path, *, metadata: Optional[str] = None,
        published: Optional[date] = None, title: str = "geoevents",
        tiles: Optional[str] = None, baseline: Optional[list[dict]] = None,
        pipeline: Optional[Pipeline] = None) -> BatchResult:
    """Read, extract and write mentions.geojson, events.geojson, events.csv,
    control.geojson, map.html and report.json into ``out_dir``."""
    pipe = pipeline or Pipeline()
    res = pipe.process(read_documents(inputs, metadata=metadata, published=published))
    write_outputs(res, out_dir, title=title, tiles=tiles, baseline=baseline)
    return res


def write_outputs(res: BatchResult, out_dir: str | Path, *, title: str = "geoevents",
                  tiles: Optional[str] = None, baseline: Optional[list[dict]] = None) -> None:
    """Write every output of a batch atomically."""
    from .ledger import ControlLedger
    out = Path(out_dir)
    t0 = time.perf_counter()
    mentions_fc = feature_collection(res.mentions)
    events_fc = feature_collection(res.events)
    control_fc = ControlLedger(res.events, baseline).to_geojson()
    atomic_write(out / "mentions.geojson", dumps(mentions_fc))
    atomic_write(out / "events.geojson", dumps(events_fc))
    atomic_write(out / "events.csv", events_csv(res.events))
    atomic_write(out / "control.geojson", dumps(control_fc))
    t1 = time.perf_counter()
    from .render.map import render_map
    render_map(events_fc, out / "map.html", mentions=mentions_fc, control=control_fc,
               title=title, tiles=tiles)
    t2 = time.perf_counter()
    res.seconds["write"] += t1 - t0
    res.seconds["map"] += t2 - t1
    atomic_write(out / "report.json", dumps(res.report()))
