"""An incremental event store: one GeoPackage that grows run by run and opens in QGIS.

Layers: ``documents`` (one row per document, keyed by a content hash, so the same article
fed twice is stored once), ``mentions``, ``events_raw`` (per-document events) and
``events`` (fused across documents).  The layers are created through geopandas/pyogrio,
so they carry the GeoPackage metadata GIS tools read; rows are then written with
sqlite3 in one transaction per batch of documents.  A process killed at any moment leaves
the file readable and holding every batch committed before the kill; the fused layer is
refreshed at the end of each run, rewriting only the fused events whose membership
changed.
"""
from __future__ import annotations

import hashlib
import sqlite3
import struct
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Iterator, Optional, Sequence

from .export import _inside, compact_json, parse_json, representative_point
from .fusion import (KEY_FIELDS, LIST_FIELDS, REPORT_FIELDS, FusionKey, cluster, fused_id, lead,
                     merge, report_scalars)
from .parallel import batched, ordered_map

SRS_ID = 4326
#: Raw events read and merged per step of a re-fusion (bounds its memory; a batch holds
#: whole clusters, so one larger than this is a batch of its own).
MERGE_REPORTS = 20_000
_TEXT, _INT, _REAL = "object", "int64", "float64"
#: Layer -> (geometry type or None, [(column, dtype)]).  ``feature`` keeps the exact
#: GeoJSON feature of a mention or a fused event (a raw event's is rebuilt from its
#: columns), so outputs written from the store equal those of a plain run.
LAYERS = {
    "documents": (None, [("doc_hash", _TEXT), ("doc", _TEXT), ("source", _TEXT),
                         ("url", _TEXT), ("title", _TEXT), ("published", _TEXT),
                         ("mentions", _INT), ("events", _INT)]),
    "mentions": ("Unknown", [("doc", _TEXT), ("start", _INT), ("end", _INT), ("text", _TEXT),
                             ("place", _TEXT), ("place_id", _TEXT), ("level", _TEXT),
                             ("admin1", _TEXT), ("lon", _REAL), ("lat", _REAL),
                             ("role", _TEXT), ("confidence", _REAL), ("feature", _TEXT)]),
}
#: The properties of a per-document event that fusion does not read; with the fields it
#: reads, they are all of the event (``evidence`` is NULL when it is just the event's own
#: sentence, as it is unless a document told the event twice).
_EVENT_EXTRA = ("admin1", "level", "start", "end", "evidence", "acled_event_type",
                "acled_sub_event_type")
#: Event columns: every field fusion reads (fusion.REPORT_FIELDS; lists joined with ","),
#: the other properties (also what GIS users filter on), and a fused event's feature as
#: JSON.  A raw event's feature is rebuilt from its columns when read (only the outputs
#: of --raw and --no-fusion and each fused event's lead read it): stored as well, it was
#: two thirds of the layer, a gigabyte at 100,000 documents written on every run.
_EVENT_COLUMNS = [(c, _INT if c in ("geo_precision", "fatalities", "corroboration", "start",
                                    "end") else
                   _REAL if c in ("lon", "lat", "confidence") else _TEXT)
                  for c in REPORT_FIELDS + _EVENT_EXTRA + ("corroboration", "feature")]
_EVENT_NAMES = tuple(c for c, _ in _EVENT_COLUMNS)
#: A raw event's properties in the order of :func:`export.event_feature`, all columns.
_RAW_PROPERTIES = ("event_id", "doc", "type", "place", "place_id", "admin1", "level",
                   "geo_precision", "actor", "target", "to_actor", "from_actor", "date",
                   "date_precision", "date_source", "status", "attributed_to", "fatalities",
                   "fatalities_qualifier", "sentence", "start", "end", "evidence", "source",
                   "url", "published", "confidence", "acled_event_type",
                   "acled_sub_event_type")
_SQL_TYPES = {_TEXT: "TEXT", _INT: "INTEGER", _REAL: "REAL"}
LAYERS["events_raw"] = ("Unknown", _EVENT_COLUMNS)
LAYERS["events"] = ("Unknown", _EVENT_COLUMNS)
_INDEXES = ("CREATE UNIQUE INDEX IF NOT EXISTS documents_hash ON documents(doc_hash)",
            "CREATE INDEX IF NOT EXISTS documents_doc ON documents(doc)",
            "CREATE INDEX IF NOT EXISTS mentions_doc ON mentions(doc)",
            "CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events(event_id)",
            # the fused layer is read in this order for each output: an index, not a sort
            # of every fused feature (at 100,000 documents 260 MB, spilled to disk twice)
            "CREATE INDEX IF NOT EXISTS events_order ON events(coalesce(date, '9999'), type, "
            "place_id, event_id)",
            # re-fusion reads raw events a type at a time, then by row id; the other two
            # indexes of earlier versions were read by nothing and cost every insert
            "CREATE INDEX IF NOT EXISTS events_raw_type ON events_raw(type)",
            "DROP INDEX IF EXISTS events_raw_doc",
            "DROP INDEX IF EXISTS events_raw_id")


#: Seconds a connection waits for another's lock: a reader (a merge worker, the process
#: writing the outputs that do not depend on fusion) may hold one for seconds.
LOCK_WAIT = 600.0


def _reader(path: Path) -> sqlite3.Connection:
    """A read-only connection to the store file."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT,
                           isolation_level=None)


class StoreError(RuntimeError):
    """The store file exists but is not a geoevents GeoPackage."""


def content_hash(text: str, source: Optional[str], url: Optional[str]) -> str:
    """A document's identity: its text and where it came from (a wire story carried by two
    outlets is two reports)."""
    h = hashlib.sha256()
    for part in (text, source or "", url or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


_GPKG_HEADER = struct.pack("<2sBBi", b"GP", 0, 1, SRS_ID)


def _gpkg_geometry(geom: dict) -> bytes:
    """GeoPackage binary: the 'GP' header (little-endian, no envelope) then WKB."""
    c = geom["coordinates"]
    if geom["type"] == "Point":
        return _gpkg_point(c[0], c[1])
    return _GPKG_HEADER + struct.pack("<BII", 1, 2, len(c)) + b"".join(
        struct.pack("<dd", x, y) for x, y in c)


@lru_cache(maxsize=65536)
def _gpkg_point(x: float, y: float) -> bytes:
    """A place's point: the same bytes for each of its many mentions and events."""
    return _GPKG_HEADER + struct.pack("<BIdd", 1, 1, x, y)


def _create(path: Path) -> None:
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    for name, (geom_type, columns) in LAYERS.items():
        data = {c: pd.Series([], dtype=t) for c, t in columns}
        if geom_type:
            frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=SRS_ID))
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG",
                                    geometry_type=geom_type,
                                    layer_options={"SPATIAL_INDEX": "NO"})
        else:
            pyogrio.write_dataframe(pd.DataFrame(data), path, layer=name, driver="GPKG")
    # GDAL keeps feature counts with one UPDATE per inserted row; a NULL count makes GIS
    # tools count for themselves, and inserting millions of rows gets much cheaper.
    with closing(sqlite3.connect(path)) as db, db:
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                     "AND name LIKE 'trigger_%_feature_count_%'").fetchall():
            db.execute(f'DROP TRIGGER "{trigger}"')
        db.execute("UPDATE gpkg_ogr_contents SET feature_count = NULL")


class Store:
    """Documents, mentions and events of every run so far, in one GeoPackage file."""

    def __init__(self, path: str | Path, read_only: bool = False):
        """Open (or create) the store; ``read_only``: open an existing one for reading
        only, as a second process does while the first writes."""
        self.path = Path(path)
        if read_only:
            self.db = _reader(self.path)
        else:
            if not self.path.exists() or self.path.stat().st_size == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(f".{self.path.stem}.creating.gpkg")
                tmp.unlink(missing_ok=True)
                _create(tmp)
                tmp.replace(self.path)             # a half-created store is never seen
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=LOCK_WAIT)
        try:
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"{self.path}: not a GeoPackage ({exc})") from None
        if not set(LAYERS) <= tables:
            self.db.close()
            raise StoreError(f"{self.path}: not a geoevents store (layers missing)")
        for layer, (_, columns) in LAYERS.items():
            have = {r[1] for r in self.db.execute(f'PRAGMA table_info("{layer}")')}
            missing = [(c, t) for c, t in columns if c not in have]
            if missing and not read_only and layer in ("events", "events_raw") and \
                    {c for c, _ in missing} <= set(_EVENT_EXTRA):
                # a store of an earlier version: its rows keep their stored features
                for c, t in missing:
                    self.db.execute(f'ALTER TABLE "{layer}" ADD COLUMN "{c}" {_SQL_TYPES[t]}')
                missing = []
            if missing:
                self.db.close()
                raise StoreError(f"{self.path}: written by another version of geoevents "
                                 f"(layer {layer} lacks columns); start a new store")
        for sql in () if read_only else _INDEXES:
            self.db.execute(sql)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------
    def stored(self, column: str, values: list[str]) -> set[str]:
        """Which of ``values`` the documents layer holds in ``column`` (``doc_hash`` or
        ``doc``): one query per 900 values, as one query costs a lock and a page check."""
        if column not in ("doc_hash", "doc"):
            raise ValueError(f"not a document key: {column!r}")
        return {v for where, part in _where_in(column, values)
                for (v,) in self.db.execute(f"SELECT {column} FROM documents {where}", part)}

    def add(self, results: Sequence[Packed]) -> int:
        """Store a batch of packed per-document results in one transaction; returns the
        documents added.  A document already stored (same content hash, or twice in the
        batch) is left as it is.  Rows go in one statement per layer for the whole batch."""
        with _transaction(self.db):
            seen = self.stored("doc_hash", [r.hash for r in results])
            fresh = []
            for r in results:
                if r.hash not in seen:
                    seen.add(r.hash)
                    fresh.append(r)
            self.db.executemany(
                "INSERT INTO documents (doc_hash, doc, source, url, title, published, "
                "mentions, events) VALUES (?,?,?,?,?,?,?,?)",
                [(r.hash, r.doc, r.meta.get("source"), r.meta.get("url"), r.meta.get("title"),
                  r.meta.get("published"), len(r.mentions), len(r.events)) for r in fresh])
            _insert(self.db, "mentions", [m for r in fresh for m in r.mentions])
            _insert(self.db, "events_raw", [e for r in fresh for e in r.events])
        return len(fresh)

    def refuse(self, jobs: int = 1) -> tuple[int, int]:
        """Re-cluster the raw events from their key columns; merge and write only the
        clusters that are new, delete the fused events that no longer exist.
        Returns (fused events added, fused events removed).

        Events of different types never merge, so each type is clustered on its own (its
        keys read, clustered, and only its clusters' row ids handed back), and the new
        clusters are merged (every member's columns read, the lead's feature, the fused
        feature built) as they come.  With ``jobs`` > 1 both steps run in forked
        processes, each reading the file through its own connection, while this one
        writes.  Each batch is committed on its own, so a run killed here leaves a
        partial fused layer that the next run's re-fusion completes (a fused id is made
        of its members' ids, so it knows which events are current)."""
        current = {r[0] for r in self.db.execute("SELECT event_id FROM events")}
        gone = set(current)
        # the largest types first, as their clustering takes longest (with jobs > 1 the
        # smaller ones share the other processes meanwhile)
        types = [t for (t,) in self.db.execute(
            "SELECT type FROM events_raw GROUP BY type ORDER BY count(*) DESC, type")]

        def new_clusters() -> Iterator[list[int]]:
            for fid, rows in ordered_map(_ClusterTask(self.path), batched(types, 1),
                                         jobs=jobs):
                if fid in current:
                    gone.discard(fid)
                else:
                    yield rows
        added = 0
        batches = batched(new_clusters(), MERGE_REPORTS, weight=len)
        for rows in ordered_map(_MergeTask(self.path), batches, jobs=jobs):
            with _transaction(self.db):
                _insert(self.db, "events", rows)
            added += len(rows)
        if gone:
            with _transaction(self.db):
                self.db.executemany("DELETE FROM events WHERE event_id = ?",
                                    [(k,) for k in sorted(gone)])
        return added, len(gone)

    # -- reading -----------------------------------------------------------------
    def count(self, layer: str) -> int:
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}")
        return self.db.execute(f"SELECT count(*) FROM {layer}").fetchone()[0]

    def mentions(self, as_text: bool = False) -> Iterator[dict | str]:
        """Mention features in document order (streamed, not held); ``as_text``: their
        compact JSON as stored, for writing without parsing."""
        for (text,) in self.db.execute('SELECT feature FROM mentions ORDER BY doc, start, "end"'):
            yield text if as_text else parse_json(text)

    def mention_places(self) -> dict:
        """One point per place named as a location, with its mention and document counts:
        the map's mentions layer, computed here so mentions are never parsed."""
        rows = self.db.execute(
            "SELECT place_id, min(place), min(admin1), min(lon), min(lat), count(*), "
            "count(DISTINCT doc) FROM mentions WHERE role = 'location' AND level != 'road' "
            "GROUP BY place_id ORDER BY place_id")
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
             "properties": {"place_id": pid, "name": name, "admin1": admin1, "mentions": n,
                            "docs": docs}} for pid, name, admin1, lon, lat, n, docs in rows]}

    def events(self, layer: str = "events", since: Optional[str] = None,
               bbox: Optional[tuple[float, float, float, float]] = None,
               as_text: bool = False) -> Iterator[dict | str]:
        """Event features of ``events`` (fused) or ``events_raw``, in a content order:
        date, type, place, id.  ``since``: ISO date, events on or after it (undated events
        by their publication date); ``bbox``: (west, south, east, north); ``as_text``:
        compact JSON as stored."""
        if layer not in ("events", "events_raw"):
            raise ValueError(f"unknown event layer {layer!r}")
        raw = layer == "events_raw"
        sql = f"SELECT {_RAW_SELECT if raw else 'feature'} FROM {layer}"
        args: tuple = ()
        if since:
            sql += " WHERE coalesce(date, published) >= ?"
            args = (since,)
        sql += " ORDER BY coalesce(date, '9999'), type, place_id, event_id"
        for row in self.db.execute(sql, args):
            text = row[0]           # None for a raw event: rebuilt from its columns
            if bbox is None and as_text and text is not None:
                yield text
                continue
            f = _raw_feature(row) if raw else parse_json(text)
            if bbox is None or _inside(f["geometry"], bbox):
                yield (text or compact_json(f)) if as_text else f

    def documents(self) -> Iterator[dict]:
        cols = [c for c, _ in LAYERS["documents"][1]]
        for row in self.db.execute(f"SELECT {', '.join(cols)} FROM documents ORDER BY doc, doc_hash"):
            yield dict(zip(cols, row))


def _reports(db: sqlite3.Connection, fields: tuple[str, ...], where: str = "",
             args: Sequence = ()) -> Iterator[dict]:
    """Raw events as fusion reports (``fields`` of them), read from their columns."""
    lists = [k for k in LIST_FIELDS if k in fields]
    for row in db.execute(f"SELECT {', '.join(fields)} FROM events_raw {where}", args):
        r = dict(zip(fields, row))
        for k in lists:
            r[k] = _split(r[k])
        yield r


@lru_cache(maxsize=4096)
def _split(joined: Optional[str]) -> tuple[str, ...]:
    """A list column as a tuple: a few hundred actor lists recur across a million rows."""
    return tuple(joined.split(",")) if joined else ()


def _where_in(column: str, values: list) -> Iterator[tuple[str, list]]:
    """WHERE clauses (and their arguments) selecting the rows whose ``column`` is one of
    ``values``, one ``IN`` list small enough for SQLite at a time."""
    for part in _chunks(values):
        yield f"WHERE {column} IN ({', '.join('?' * len(part))})", part


class _StoreTask:
    """A picklable pool task that reads the store through a read-only connection of its
    own (a connection must not cross a fork), opened and closed per batch."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, batch: list) -> list:
        with closing(_reader(self.path)) as db:
            return self.run(db, batch)

    def run(self, db: sqlite3.Connection, batch: list) -> list:
        raise NotImplementedError


class _ClusterTask(_StoreTask):
    """The clusters of each given event type, as (fused id, raw-event row ids).  Only
    one type's keys are held."""

    def run(self, db: sqlite3.Connection, types: list[str]) -> list[tuple[str, list[int]]]:
        out = []
        for typ in types:
            keys = [FusionKey.from_columns(*row) for row in db.execute(
                f"SELECT {', '.join(KEY_FIELDS)}, fid FROM events_raw WHERE type = ?", (typ,))]
            out += [(fused_id(k.event_id for k in members), [k.row for k in members])
                    for members in cluster(keys)]
        return out


class _MergeTask(_StoreTask):
    """Fused event rows for a batch of clusters (lists of raw-event row ids)."""

    def run(self, db: sqlite3.Connection, clusters: list[list[int]]) -> list[list[tuple]]:
        fids = [f for m in clusters for f in m]
        reports = {r["fid"]: r for where, part in _where_in("fid", fids)
                   for r in _reports(db, ("fid",) + REPORT_FIELDS, where, part)}
        members = [[reports[f] for f in m] for m in clusters]
        chosen = [lead(m) for m in members]
        leads = [first["fid"] for first, _ in chosen]
        features = {row[0]: _raw_feature(row[1:]) for where, part in _where_in("fid", leads)
                    for row in db.execute(f"SELECT fid, {_RAW_SELECT} FROM events_raw {where}",
                                          part)}
        return [[event_row(merge(m, features[first["fid"]], when))
                 for m, (first, when) in zip(members, chosen)]]


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception.  A Ctrl-C that lands just
    after COMMIT finds nothing left to roll back: the batch stays committed and the
    interrupt goes on (rolling back then failed and hid it behind a second error)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _chunks(items: list, n: int = 900) -> Iterator[list]:
    """Pieces small enough for one SQL ``IN (...)`` list."""
    for i in range(0, len(items), n):
        yield items[i:i + n]


@dataclass(frozen=True)
class Packed:
    """A document's results as store rows: built where the document was extracted (a
    worker process), so the writer only inserts."""
    doc: str
    hash: str
    meta: dict
    mentions: list[tuple]
    events: list[tuple]


def pack(doc: str, doc_hash: str, meta: dict, mentions: list[dict], events: list[dict]) -> Packed:
    return Packed(doc, doc_hash, meta, [mention_row(f) for f in mentions],
                  [event_row(f, fused=False) for f in events])


#: Rows per INSERT statement at most, and the parameters one statement may hold on any
#: SQLite (999 before 3.32).  One statement per row pays SQLite's per-statement work,
#: AUTOINCREMENT bookkeeping of the GeoPackage ``fid`` included, for every row: storing
#: takes a sixth less CPU this way.
ROWS_PER_INSERT = 64
MAX_PARAMETERS = 999


@lru_cache(maxsize=None)
def _insert_sql(layer: str, rows: int = 1) -> str:
    cols = ['"' + c + '"' for c, _ in LAYERS[layer][1]]
    row = f'({", ".join("?" * (len(cols) + 1))})'
    return f'INSERT INTO "{layer}" (geom, {", ".join(cols)}) VALUES {", ".join([row] * rows)}'


def _insert(db: sqlite3.Connection, layer: str, rows: list[tuple]) -> None:
    """Insert rows of a layer in order (so their ``fid``s are as one row at a time would
    give them), several per statement."""
    width = len(LAYERS[layer][1]) + 1
    n = min(ROWS_PER_INSERT, MAX_PARAMETERS // width)
    full = len(rows) - len(rows) % n
    if full:
        db.executemany(_insert_sql(layer, n), (list(chain.from_iterable(rows[i:i + n]))
                                               for i in range(0, full, n)))
    if full < len(rows):
        db.executemany(_insert_sql(layer), rows[full:])


def mention_row(f: dict) -> tuple:
    p = f["properties"]
    lon, lat = representative_point(f["geometry"])
    return (_gpkg_geometry(f["geometry"]), p["doc"], p["start"], p["end"], p["text"],
            p["name"], p["place_id"], p["level"], p.get("admin1"), lon, lat, p.get("role"),
            p.get("confidence"), compact_json(f))


def event_row(f: dict, fused: bool = True) -> tuple:
    """The columns of an event: its :func:`fusion.report` with lists joined, its other
    properties, and a fused event's feature (a raw one is rebuilt from the columns).
    Built from one copy of the properties, as this runs for every event."""
    p = f["properties"]
    r = {**p, **report_scalars(f)}
    r.update({k: ",".join(p.get(k) or ()) for k in LIST_FIELDS},
             corroboration=p.get("corroboration", 1), evidence=_evidence_column(p),
             feature=compact_json(f) if fused else None)
    return (_gpkg_geometry(f["geometry"]), *map(r.get, _EVENT_NAMES))


def _evidence_column(p: dict) -> Optional[str]:
    """An event's evidence as JSON, or NULL when it is only the event's own sentence."""
    evidence = p.get("evidence")
    if evidence == [{"sentence": p.get("sentence"), "start": p.get("start"),
                     "end": p.get("end")}]:
        return None
    return compact_json(evidence)


_RAW_SELECT = "feature, geom, " + ", ".join(f'"{c}"' for c in _RAW_PROPERTIES)


def _raw_feature(row: Sequence) -> dict:
    """A raw event's feature from a row of ``_RAW_SELECT``: the feature a store of an
    earlier version kept, else rebuilt from the columns, equal to the one extracted."""
    text, geom, *values = row
    if text is not None:
        return parse_json(text)
    p = dict(zip(_RAW_PROPERTIES, values))
    for k in LIST_FIELDS:
        p[k] = list(_split(p[k]))
    p["evidence"] = parse_json(p["evidence"]) if p["evidence"] is not None else \
        [{"sentence": p["sentence"], "start": p["start"], "end": p["end"]}]
    return {"type": "Feature", "geometry": _geojson_geometry(geom), "properties": p}


def _geojson_geometry(blob: bytes) -> dict:
    """The GeoJSON geometry of a blob written by :func:`_gpkg_geometry`."""
    kind, points = _wkb(blob)
    if kind == 1:
        return {"type": "Point", "coordinates": list(points[0])}
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


@lru_cache(maxsize=65536)
def _wkb(blob: bytes) -> tuple[int, tuple[tuple[float, float], ...]]:
    """(WKB type, coordinates) of a point or line blob of :func:`_gpkg_geometry`: its
    header has no envelope, so the WKB starts at byte 8."""
    kind = struct.unpack_from("<I", blob, 9)[0]
    if kind == 1:
        return kind, (struct.unpack_from("<dd", blob, 13),)
    (n,) = struct.unpack_from("<I", blob, 13)
    return kind, tuple(struct.unpack_from("<dd", blob, 17 + 16 * i) for i in range(n))
