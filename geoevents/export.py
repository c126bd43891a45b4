"""Outputs: GeoJSON feature collections (RFC 7946), the ACLED-like CSV, atomic writes.

Everything here is deterministic: features are sorted, floats rounded, keys in a fixed
order, so the same input gives the same bytes.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional

from .model import Event, Mention

COORD_DIGITS = 5
CSV_COLUMNS = ("event_id_cnty", "event_date", "date_precision", "event_type", "sub_event_type",
               "geoevents_type", "actor1", "actor2", "location", "admin1", "latitude",
               "longitude", "geo_precision", "source", "source_url", "status", "notes",
               "fatalities")
NON_STATE = {"hts", "opposition", "sna", "sdf", "isis", "southern_operations_room",
             "iran_backed_militias", "hezbollah"}


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Write a file so readers see the old or the new content, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def dumps(obj) -> str:
    """Stable JSON text: fixed separators, UTF-8 kept, newline at the end."""
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def _r(x: float) -> float:
    return round(float(x), COORD_DIGITS)


def geometry(lat: float, lon: float, line: Optional[tuple]) -> dict:
    """GeoJSON geometry: a Point, or a LineString for a road."""
    if line and len(line) >= 2:
        return {"type": "LineString", "coordinates": [[_r(x), _r(y)] for x, y in line]}
    return {"type": "Point", "coordinates": [_r(lon), _r(lat)]}


def mention_feature(m: Mention) -> dict:
    p = m.place
    return {"type": "Feature",
            "geometry": geometry(p.lat, p.lon, m.line if p.level == "road" else None),
            "properties": {"doc": m.doc, "text": m.text, "start": m.start, "end": m.end,
                           "name": p.name, "place_id": p.id, "level": p.level,
                           "admin1": p.admin1 or None, "country": p.country,
                           "in_syria": p.country == "SY", "role": m.role,
                           "geo_precision": m.geo_precision, "confidence": m.confidence,
                           "candidates": m.candidates}}


def acled_types(e: Event) -> tuple[str, str]:
    """ACLED event_type / sub_event_type for a geoevents event."""
    state = bool(e.actor) and not (set(e.actor) & NON_STATE)
    if e.type == "control_change":
        return ("Battles", "Government regains territory" if state
                else "Non-state actor overtakes territory")
    if e.type == "withdrawal":
        return "Strategic developments", "Non-violent transfer of territory"
    if e.type == "airstrike":
        return "Explosions/Remote violence", "Air/drone strike"
    if e.type == "shelling":
        return "Explosions/Remote violence", "Shelling/artillery/missile attack"
    if e.type == "attack":
        if "civilians" in e.target:
            return "Violence against civilians", "Attack"
        return "Explosions/Remote violence", "Remote explosive/landmine/IED"
    if e.type in ("clash", "advance", "siege", "casualties"):
        return "Battles", "Armed clash"
    return "Strategic developments", "Other"


def event_feature(e: Event, doc_meta: dict) -> dict:
    m = e.mention
    p = m.place
    ev = e.evidence[0]
    acled, sub = acled_types(e)
    meta = doc_meta.get(e.doc, {})
    return {"type": "Feature",
            "geometry": geometry(p.lat, p.lon, m.line if p.level == "road" else None),
            "properties": {
                "event_id": e.id, "doc": e.doc, "type": e.type, "place": p.name,
                "place_id": p.id, "admin1": p.admin1 or None, "level": p.level,
                "geo_precision": e.geo_precision, "actor": list(e.actor),
                "target": list(e.target), "to_actor": list(e.to_actor),
                "from_actor": list(e.from_actor),
                "date": e.date.isoformat() if e.date else None,
                "date_precision": e.date_precision, "date_source": e.date_source,
                "status": e.status, "attributed_to": list(e.attributed_to),
                "fatalities": e.fatalities, "fatalities_qualifier": e.fatalities_qualifier,
                "sentence": ev.sentence, "start": ev.start, "end": ev.end,
                "evidence": [{"sentence": x.sentence, "start": x.start, "end": x.end}
                             for x in e.evidence],
                "source": meta.get("source"), "url": meta.get("url"),
                "published": meta.get("published"), "confidence": e.confidence,
                "acled_event_type": acled, "acled_sub_event_type": sub}}


def feature_collection(features: Iterable[dict]) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def _csv_cell(value) -> str:
    """Spreadsheet-safe cell: a leading = + - @ would run as a formula."""
    s = "" if value is None else str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def events_csv(features: list[dict]) -> str:
    """ACLED-like CSV of event features, one row each."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for f in features:
        p = f["properties"]
        lon, lat = _representative(f["geometry"])
        w.writerow([_csv_cell(v) for v in (
            p["event_id"], p["date"], p["date_precision"], p["acled_event_type"],
            p["acled_sub_event_type"], p["type"], ";".join(p["actor"]),
            ";".join(p["target"]), p["place"], p["admin1"], lat, lon, p["geo_precision"],
            p["source"], p["url"], p["status"], p["sentence"], p["fatalities"])])
    return buf.getvalue()


def _representative(geom: dict) -> tuple[float, float]:
    if geom["type"] == "Point":
        return tuple(geom["coordinates"])
    coords = geom["coordinates"]
    return tuple(coords[len(coords) // 2])


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    """The JSON Schema of an output ("mentions" or "events")."""
    text = (resources.files("geoevents") / "schema" / f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


def validate(collection: dict, name: str) -> None:
    """Raise jsonschema.ValidationError when an output breaks its contract."""
    import jsonschema
    jsonschema.validate(collection, schema(name))
