"""Control ledger: who holds which place as of a date, from reported control changes.

Pure Python over event features (no map code): per place a dated history of control
intervals, each with its controller, status and the sources that support it.  A change
whose date the text does not give is dated to the report's publication date (the
latest day it can have happened).  Reports that disagree within a day, or a disputed
report, make the place contested for that span, with every side kept.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable, Optional

CONTESTED = "contested"


@dataclass(frozen=True)
class ControlInterval:
    """One span of control: [start, end) with end None while it lasts."""
    place_id: str
    controller: str
    start: Optional[date]
    end: Optional[date]
    status: str                      # held | contested
    claimants: tuple[str, ...] = ()  # every side a contested span is claimed for
    sources: tuple[dict, ...] = ()

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)

    def as_dict(self) -> dict:
        return {"controller": self.controller, "status": self.status,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "claimants": list(self.claimants), "sources": list(self.sources)}


@dataclass
class _Change:
    day: date
    controller: str
    status: str
    source: dict


@dataclass
class _Place:
    id: str
    name: str
    geometry: dict
    admin1: Optional[str]
    changes: list[_Change] = field(default_factory=list)
    baseline: Optional[tuple[str, Optional[date]]] = None


def _day(value) -> Optional[date]:
    if not value:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


class ControlLedger:
    """As-of queries over control changes: ``controller``, ``snapshot``, ``changes``."""

    def __init__(self, events: Iterable[dict], baseline: Optional[Iterable[dict]] = None):
        self._places: dict[str, _Place] = {}
        for f in events:
            p = f["properties"]
            if p.get("type") != "control_change" or not p.get("to_actor"):
                continue
            day = _day(p.get("date")) or _day(p.get("published"))
            if day is None:
                continue                       # an undated, unpublished claim cannot be placed
            place = self._place(p["place_id"], p.get("place", ""), f["geometry"], p.get("admin1"))
            place.changes.append(_Change(day, p["to_actor"][0], p.get("status", "reported"), {
                "doc": p.get("doc"), "event_id": p.get("event_id"), "source": p.get("source"),
                "url": p.get("url"), "status": p.get("status"), "sentence": p.get("sentence"),
                "date_source": (p.get("date_source") or "text") if p.get("date") else "published",
                "corroboration": p.get("corroboration", 1)}))
        for row in baseline or ():
            place = self._place(row["place_id"], row.get("place", ""), row["geometry"],
                                row.get("admin1"))
            place.baseline = (row["controller"], _day(row.get("as_of")))
        self._history = {pid: self._intervals(pl) for pid, pl in sorted(self._places.items())}

    def _place(self, pid: str, name: str, geometry: dict, admin1) -> _Place:
        if pid not in self._places:
            self._places[pid] = _Place(pid, name, geometry, admin1)
        return self._places[pid]

    @staticmethod
    def _intervals(place: _Place) -> list[ControlInterval]:
        """Group changes by day (reports a day apart agree or contest each other), then
        chain the groups into consecutive intervals."""
        changes = sorted(place.changes, key=lambda c: (c.day, c.controller, str(c.source["doc"])))
        groups: list[list[_Change]] = []
        for c in changes:
            if groups and (c.day - groups[-1][0].day) <= timedelta(days=1):
                groups[-1].append(c)
            else:
                groups.append([c])
        out: list[ControlInterval] = []
        if place.baseline:
            controller, as_of = place.baseline
            first = groups[0][0].day if groups else None
            out.append(ControlInterval(place.id, controller, as_of, first, "held", (controller,),
                                       ({"source": "baseline"},)))
        for i, g in enumerate(groups):
            end = groups[i + 1][0].day if i + 1 < len(groups) else None
            sides = tuple(sorted({c.controller for c in g}))
            disputed = any(c.status in ("disputed", CONTESTED) for c in g)
            confirmed = [c for c in g if c.status == "confirmed"]
            if len(sides) > 1:
                controller, status = CONTESTED, CONTESTED
            else:
                controller, status = sides[0], CONTESTED if disputed and not confirmed else "held"
            out.append(ControlInterval(place.id, controller, g[0].day, end, status, sides,
                                       tuple(c.source for c in g)))
        return out

    # -- queries -----------------------------------------------------------------
    def places(self) -> list[str]:
        return list(self._history)

    def history(self, place_id: str) -> list[ControlInterval]:
        return list(self._history.get(place_id, ()))

    def interval(self, place_id: str, day: date) -> Optional[ControlInterval]:
        return next((iv for iv in self._history.get(place_id, ()) if iv.covers(day)), None)

    def controller(self, place_id: str, day: date) -> Optional[str]:
        """Who holds the place on that day (None before its first report or baseline)."""
        iv = self.interval(place_id, day)
        return iv.controller if iv else None

    def snapshot(self, day: date) -> dict[str, ControlInterval]:
        """Every place's interval on that day."""
        return {pid: iv for pid in self._history if (iv := self.interval(pid, day))}

    def changes(self, start: date, end: date) -> list[ControlInterval]:
        """Intervals that begin within [start, end], in date order."""
        return sorted((iv for ivs in self._history.values() for iv in ivs
                       if iv.start and start <= iv.start <= end and iv.sources[:1] != ({"source": "baseline"},)),
                      key=lambda iv: (iv.start, iv.place_id))

    def latest(self) -> Optional[date]:
        days = [iv.start for ivs in self._history.values() for iv in ivs if iv.start]
        return max(days) if days else None

    def to_geojson(self, as_of: Optional[date] = None) -> dict:
        """One feature per place: controller and status as of the date (default: the
        latest change), and the whole history."""
        as_of = as_of or self.latest()
        feats = []
        for pid, ivs in self._history.items():
            pl = self._places[pid]
            now = self.interval(pid, as_of) if as_of else None
            feats.append({"type": "Feature", "geometry": pl.geometry, "properties": {
                "place_id": pid, "place": pl.name, "admin1": pl.admin1,
                "as_of": as_of.isoformat() if as_of else None,
                "controller": now.controller if now else None,
                "status": now.status if now else None,
                "history": [iv.as_dict() for iv in ivs]}})
        return {"type": "FeatureCollection", "features": feats}


def load_baseline(path: str | Path) -> list[dict]:
    """A baseline of control before the first report: CSV (place_id or place name,
    controller, as_of) or GeoJSON features with those properties.  Names resolve through
    the gazetteer; a row naming no known place raises ValueError naming it."""
    from .export import geometry
    from .gazetteer import default_gazetteer
    gaz = default_gazetteer()
    path = Path(path)
    if path.suffix.lower() in (".geojson", ".json"):
        rows = [f["properties"] for f in json.loads(path.read_text(encoding="utf-8"))["features"]]
    else:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    out = []
    for n, r in enumerate(rows, 2):
        if not r.get("controller"):
            continue
        place = gaz.places.get(r.get("place_id") or "") or \
            next(iter(gaz.search(r.get("place") or "", limit=1)), None)
        if place is None:
            raise ValueError(f"{path}: row {n}: unknown place {r.get('place_id') or r.get('place')!r}")
        out.append({"place_id": place.id, "place": place.name, "admin1": place.admin1 or None,
                    "geometry": geometry(place.lat, place.lon, None),
                    "controller": r["controller"], "as_of": r.get("as_of")})
    return out
