"""Cross-document fusion: one event per happening, however many outlets report it.

Events from different documents merge when they have the same type, the same place (the
same gazetteer row, or points within ``PLACE_KM``), dates within the tolerance of their
precision, and actors on compatible sides.  Each cluster is anchored on its first event in
a content order (date, place, document, event id), and a new event joins the nearest
compatible anchor: anchoring, rather than chaining events one to the next, keeps a run of
near-by happenings on consecutive days from collapsing into one.

The result depends only on the set of input events, never on their arrival order, so a
store that grows day by day and a single run over the same documents fuse alike.
"""
from __future__ import annotations

import hashlib
import sys
from collections import Counter, deque
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Iterable, Optional
from urllib.parse import urlsplit

from .export import representative_point
from .gazetteer import haversine_km
from .lexicons import lexicon_rows
from .text import fold

#: Two gazetteer rows whose names fold alike and whose points are closer than this are
#: one place (a town listed twice, a village under two sources).  Rows with different
#: names are different places however close: villages 2 km apart are often taken on
#: the same day by the same side, and each capture is its own event.
PLACE_KM = 5.0
#: How many days apart two reports of one happening may date it, by date precision.
#: An undated event is dated by its publication (a report appears a day or two after).
DATE_DAYS = {"day": 1, "week": 7, "month": 31, "year": 366, None: 2}
WIDEST = max(DATE_DAYS.values())
_DATE_RANK = {"day": 0, "week": 1, "month": 2, "year": 3, None: 4}
#: The member statuses, strongest first, that a fused event reports when none disputes.
_STATUS_ORDER = ("confirmed", "reported", "claimed")


@lru_cache(maxsize=1)
def _sides() -> dict[str, str]:
    """Actor -> side (lexicon/sides.tsv): allies' reports of one happening are compatible."""
    return dict(lexicon_rows("sides.tsv"))


def outlet(props: dict) -> str:
    """Who published a report: the source name, else the URL's host, else the document."""
    source = (props.get("source") or "").strip().casefold()
    if source:
        return source
    host = urlsplit(props.get("url") or "").hostname or ""
    return host.removeprefix("www.") or f"doc:{props.get('doc')}"


def key_fields(feature: dict) -> dict:
    """The facts of an event feature that fusion compares, as flat columns (the store keeps
    them beside each event, so re-fusing never parses the features)."""
    p = feature["properties"]
    lon, lat = representative_point(feature["geometry"])
    return {"event_id": p["event_id"], "doc": str(p["doc"]), "type": p["type"],
            "place": p.get("place") or "", "place_id": p["place_id"], "lon": lon, "lat": lat,
            "geo_precision": int(p["geo_precision"]), "date": p.get("date"),
            "date_precision": p.get("date_precision"), "published": p.get("published"),
            "actor": ",".join(p.get("actor") or ()), "to_actor": ",".join(p.get("to_actor") or ())}


@lru_cache(maxsize=4096)
def _side_set(actors: str) -> frozenset:
    sides = _sides()
    return frozenset(sides.get(a, a) for a in actors.split(",") if a)


@lru_cache(maxsize=65536)
def _name_key(place: str) -> str:
    return fold(place)


@dataclass(frozen=True, slots=True)
class FusionKey:
    """The compact facts fusion compares: small enough to hold for millions of events."""
    event_id: str
    doc: str
    type: str
    place_id: str
    name_key: str
    lat: float
    lon: float
    geo_precision: int
    day: Optional[int]          # ordinal of the event date, else of the publication date
    window: int
    sides: frozenset
    to_sides: frozenset

    @classmethod
    def of(cls, fields: dict) -> "FusionKey":
        """From :func:`key_fields` (or a store row with the same columns)."""
        when = fields["date"] or fields["published"]
        precision = fields["date_precision"] if fields["date"] else None
        return cls(fields["event_id"], sys.intern(fields["doc"]), sys.intern(fields["type"]),
                   sys.intern(fields["place_id"]), _name_key(fields["place"]),
                   fields["lat"], fields["lon"], fields["geo_precision"],
                   date.fromisoformat(when[:10]).toordinal() if when else None,
                   DATE_DAYS.get(precision, DATE_DAYS[None]),
                   _side_set(fields["actor"]), _side_set(fields["to_actor"]))

    def order(self) -> tuple:
        return (self.type, self.day if self.day is not None else -1, self.place_id, self.doc,
                self.event_id)


def _same_place(a: FusionKey, b: FusionKey) -> Optional[float]:
    """Distance in km when a and b are the same place, else None."""
    if a.place_id == b.place_id:
        return 0.0
    if a.name_key != b.name_key or a.geo_precision == 3 or b.geo_precision == 3:
        return None
    km = haversine_km(a.lat, a.lon, b.lat, b.lon)
    return km if km <= PLACE_KM else None


def _compatible(a: FusionKey, b: FusionKey) -> bool:
    if a.day is None or b.day is None or abs(a.day - b.day) > max(a.window, b.window):
        return False
    if a.sides and b.sides and not a.sides & b.sides:
        return False
    return not (a.to_sides and b.to_sides and not a.to_sides & b.to_sides)


class _Cluster:
    __slots__ = ("anchor", "members", "docs")

    def __init__(self, k: FusionKey):
        self.anchor, self.members, self.docs = k, [k], {k.doc}


def cluster(keys: Iterable[FusionKey]) -> list[list[FusionKey]]:
    """Group events that report one happening; clusters and members in content order.

    Only events of one type whose places share a name key can match, so anchors are kept
    per (type, name key) and, within that, per date tolerance in day order: a new event
    looks back only as far as the widest tolerance involved."""
    clusters: list[_Cluster] = []
    buckets: dict[tuple, dict[int, deque]] = {}
    for k in sorted(keys, key=FusionKey.order):
        c = None if k.day is None else _best(k, buckets.setdefault((k.type, k.name_key), {}))
        if c is None:
            c = _Cluster(k)
            clusters.append(c)
            if k.day is not None:
                buckets[(k.type, k.name_key)].setdefault(k.window, deque()).append(c)
        else:
            c.members.append(k)
            c.docs.add(k.doc)
    return [c.members for c in clusters]


def _best(k: FusionKey, by_window: dict[int, deque]) -> Optional[_Cluster]:
    """The nearest compatible anchor open for k (ties: the earliest cluster)."""
    best, best_km = None, None
    for window, anchors in by_window.items():
        while anchors and k.day - anchors[0].anchor.day > max(window, WIDEST):
            anchors.popleft()                     # too old for any later event
        horizon = k.day - max(window, k.window)
        for c in reversed(anchors):
            if c.anchor.day < horizon:
                break
            if k.doc in c.docs or not _compatible(k, c.anchor):
                continue
            km = _same_place(k, c.anchor)
            if km is not None and (best_km is None or km < best_km or
                                   (km == best_km and c.anchor.order() < best.anchor.order())):
                best, best_km = c, km
    return best


def fused_id(member_ids: Iterable[str]) -> str:
    return "f" + hashlib.sha1("|".join(sorted(member_ids)).encode()).hexdigest()[:15]


def _status(statuses: list[str]) -> str:
    """Denied by some and asserted by others: contested; otherwise the strongest account."""
    disputed = [s for s in statuses if s == "disputed"]
    if disputed and len(disputed) < len(statuses):
        return "contested"
    if disputed:
        return "disputed"
    return next(s for s in _STATUS_ORDER if s in statuses)


def _majority(values: list, rank=lambda v: 0):
    """The most frequent value (ties: the best ``rank``, then the first seen)."""
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], rank(v), values.index(v)))


def merge(features: list[dict]) -> dict:
    """One fused feature from the features of one cluster (in content order).

    Place: the most reported row among the most precise reports.  Date: the most reported
    among the most precise.  Fatalities: the highest figure reported (tolls are lower
    bounds that grow as reports come in).  Every report is kept in ``sources``.
    """
    props = [f["properties"] for f in features]
    best_geo = min(p["geo_precision"] for p in props)
    place_id = _majority([p["place_id"] for p in props if p["geo_precision"] == best_geo])
    best_date = min(_DATE_RANK[p.get("date_precision") if p.get("date") else None] for p in props)
    dated = [p for p in props if p.get("date") and _DATE_RANK[p.get("date_precision")] == best_date]
    day = _majority([p["date"] for p in dated], rank=lambda d: d) if dated else None
    at_place = [f for f in features if f["properties"]["place_id"] == place_id
                and f["properties"]["geo_precision"] == best_geo]
    lead = next((f for f in at_place if f["properties"].get("date") == day), at_place[0])
    when = next((q for q in dated if q["date"] == day), None)
    out = {"type": "Feature", "geometry": lead["geometry"], "properties": dict(lead["properties"])}
    p = out["properties"]
    tolls = [q for q in props if q.get("fatalities") is not None]
    toll = max(tolls, key=lambda q: q["fatalities"]) if tolls else None
    per_outlet: dict[str, float] = {}
    for q in props:
        per_outlet[outlet(q)] = max(per_outlet.get(outlet(q), 0.0), q["confidence"])
    for role in ("to_actor", "from_actor"):
        p[role] = list(_majority([tuple(q[role]) for q in props if q[role]] or [()]))
    for role in ("actor", "target", "attributed_to"):
        seen = Counter(a for q in props for a in q.get(role) or ())
        p[role] = sorted(seen, key=lambda a: (-seen[a], a))
    p.update(
        event_id=fused_id(q["event_id"] for q in props),
        status=_status([q["status"] for q in props]),
        fatalities=toll["fatalities"] if toll else None,
        fatalities_qualifier=toll.get("fatalities_qualifier") if toll else None,
        confidence=round(min(0.99, 1 - _product(1 - c for c in per_outlet.values())), 3),
        corroboration=len(per_outlet),
        sources=[{"doc": q["doc"], "event_id": q["event_id"], "source": q.get("source"),
                  "url": q.get("url"), "published": q.get("published"),
                  "sentence": q["sentence"], "status": q["status"]} for q in props])
    p.update({k: when.get(k) if when else None for k in ("date", "date_precision", "date_source")})
    return out


def _product(values: Iterable[float]) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out


def fuse(features: list[dict]) -> list[dict]:
    """Merge the per-document event features of a batch into one feature per happening."""
    by_id = {f["properties"]["event_id"]: f for f in features}
    groups = cluster(FusionKey.of(key_fields(f)) for f in features)
    return [merge([by_id[k.event_id] for k in g]) for g in groups]
