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
import math
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


#: The list-valued fields of a report (actor ids, or attribution names).
LIST_FIELDS = ("actor", "target", "to_actor", "from_actor", "attributed_to")
#: Every field of an event feature that fusion reads: the store keeps them as columns,
#: so re-fusing reads only these and parses one feature per fused event.
REPORT_FIELDS = ("event_id", "doc", "type", "place", "place_id", "lon", "lat", "geo_precision",
                 "date", "date_precision", "date_source", "published", "status", "fatalities",
                 "fatalities_qualifier", "confidence", "source", "url", "sentence") + LIST_FIELDS
#: The fields a :class:`FusionKey` is made of: all that clustering needs to hold.
KEY_FIELDS = ("event_id", "doc", "type", "place", "place_id", "lon", "lat", "geo_precision",
              "date", "date_precision", "published", "actor", "to_actor")


def report_scalars(feature: dict) -> dict:
    """The report fields that are not read as they stand: the document id as text, the
    place name never None, the (representative) point, the precision as an int."""
    p = feature["properties"]
    lon, lat = representative_point(feature["geometry"])
    return {"doc": str(p["doc"]), "place": p.get("place") or "", "lon": lon, "lat": lat,
            "geo_precision": int(p["geo_precision"])}


def report(feature: dict) -> dict:
    """The flat facts of an event feature that fusion compares and merges."""
    p = feature["properties"]
    out = {k: p.get(k) for k in REPORT_FIELDS}
    out.update(report_scalars(feature), **{k: tuple(p.get(k) or ()) for k in LIST_FIELDS})
    return out


@lru_cache(maxsize=4096)
def _side_set(actors: str) -> frozenset:
    """The sides of a list of actors joined with "," (as a store keeps it)."""
    sides = _sides()
    return frozenset(sides.get(a, a) for a in actors.split(",")) if actors else frozenset()


@lru_cache(maxsize=65536)
def _name_key(place: str) -> str:
    return fold(place)


# A million keys share a few thousand places and days: one float and int object each.
@lru_cache(maxsize=65536)
def _point(lon: float, lat: float) -> tuple[float, float]:
    return lon, lat


@lru_cache(maxsize=65536)
def _ordinal(day: str) -> int:
    return date.fromisoformat(day).toordinal()


@dataclass(slots=True, eq=False)
class FusionKey:
    """The compact facts fusion compares: small enough to hold for millions of events.  A
    slotted class: a million are made and read per re-fusion, and on Python 3.11 its
    fields read four times faster than a NamedTuple's (clustering takes a seventh less
    time) and it is made in a third of a frozen dataclass's time."""
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
    row: int = 0                # the raw event's row id, when read from a store

    @classmethod
    def of(cls, r: dict) -> "FusionKey":
        """From a :func:`report`."""
        return cls.from_columns(*(",".join(r[k]) if k in LIST_FIELDS else r[k]
                                  for k in KEY_FIELDS))

    @classmethod
    def from_columns(cls, event_id: str, doc: str, type: str, place: str, place_id: str,
                     lon: float, lat: float, geo_precision: int, event_date: Optional[str],
                     precision: Optional[str], published: Optional[str], actor: str,
                     to_actor: str, row: int = 0) -> "FusionKey":
        """From the values of ``KEY_FIELDS`` as a store keeps them (lists joined with
        ","), in that order, and the row id: a store's rows are read straight into keys."""
        when = event_date or published
        lon, lat = _point(lon, lat)
        return cls(event_id, sys.intern(doc), sys.intern(type), sys.intern(place_id),
                   _name_key(place), lat, lon, geo_precision,
                   _ordinal(when[:10]) if when else None,
                   DATE_DAYS.get(precision if event_date else None, DATE_DAYS[None]),
                   _side_set(actor), _side_set(to_actor), row)

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


def lead(reports: list[dict]) -> tuple[dict, Optional[dict]]:
    """The report a fused event is drawn from (the most reported row among the most
    precise places, dated like the best-dated reports when it can be), and the report
    that gives its date (the most reported date among the most precise), if any."""
    best_geo = min(r["geo_precision"] for r in reports)
    place_id = _majority([r["place_id"] for r in reports if r["geo_precision"] == best_geo])
    best_date = min(_DATE_RANK[r["date_precision"] if r["date"] else None] for r in reports)
    dated = [r for r in reports if r["date"] and _DATE_RANK[r["date_precision"]] == best_date]
    day = _majority([r["date"] for r in dated], rank=lambda d: d) if dated else None
    at_place = [r for r in reports if r["place_id"] == place_id and r["geo_precision"] == best_geo]
    first = next((r for r in at_place if r["date"] == day), at_place[0])
    return first, next((r for r in dated if r["date"] == day), None)


def merge(reports: list[dict], lead_feature: dict, when: Optional[dict]) -> dict:
    """One fused feature from the reports of one cluster (in content order), the feature
    of its :func:`lead` and the report that dates it.

    Place and date: see :func:`lead`.  Fatalities: the highest figure reported (tolls are
    lower bounds that grow as reports come in).  Every report is kept in ``sources``.
    """
    out = {"type": "Feature", "geometry": lead_feature["geometry"],
           "properties": dict(lead_feature["properties"])}
    p = out["properties"]
    tolls = [r for r in reports if r["fatalities"] is not None]
    toll = max(tolls, key=lambda r: r["fatalities"]) if tolls else None
    per_outlet: dict[str, float] = {}
    for r in reports:
        name = outlet(r)
        per_outlet[name] = max(per_outlet.get(name, 0.0), r["confidence"])
    for role in ("to_actor", "from_actor"):
        p[role] = list(_majority([r[role] for r in reports if r[role]] or [()]))
    for role in ("actor", "target", "attributed_to"):
        seen = Counter(a for r in reports for a in r[role])
        p[role] = sorted(seen, key=lambda a: (-seen[a], a))
    p.update(
        event_id=fused_id(r["event_id"] for r in reports),
        status=_status([r["status"] for r in reports]),
        fatalities=toll["fatalities"] if toll else None,
        fatalities_qualifier=toll["fatalities_qualifier"] if toll else None,
        confidence=round(min(0.99, 1 - math.prod(1 - c for c in per_outlet.values())), 3),
        corroboration=len(per_outlet),
        sources=[{"doc": r["doc"], "event_id": r["event_id"], "source": r["source"],
                  "url": r["url"], "published": r["published"], "sentence": r["sentence"],
                  "status": r["status"]} for r in reports])
    p.update({k: when[k] if when else None for k in ("date", "date_precision", "date_source")})
    return out


def fuse(features: list[dict]) -> list[dict]:
    """Merge the per-document event features of a batch into one feature per happening."""
    by_id = {f["properties"]["event_id"]: (f, report(f)) for f in features}
    out = []
    for g in cluster(FusionKey.of(by_id[f["properties"]["event_id"]][1]) for f in features):
        reports = [by_id[k.event_id][1] for k in g]
        first, when = lead(reports)
        out.append(merge(reports, by_id[first["event_id"]][0], when))
    return out
