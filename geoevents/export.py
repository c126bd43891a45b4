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
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Optional

import orjson

from .model import Event, Mention

COORD_DIGITS = 5
CSV_COLUMNS = ("event_id_cnty", "event_date", "date_precision", "event_type", "sub_event_type",
               "geoevents_type", "actor1", "actor2", "location", "admin1", "latitude",
               "longitude", "geo_precision", "source", "source_url", "status", "notes",
               "fatalities", "corroboration")
NON_STATE = {"hts", "opposition", "sna", "sdf", "isis", "southern_operations_room",
             "iran_backed_militias", "hezbollah"}


@contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """A file handle whose content replaces ``path`` only when the block ends without an
    error: readers see the old or the new file, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Write a whole file atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


def write_collection(path: str | Path, features: Iterable[dict | str]) -> int:
    """Stream a GeoJSON FeatureCollection to ``path``, one feature per line, atomically;
    memory stays flat however many features come.  A feature may come as its compact JSON
    text already (as a store keeps it).  Returns the number written."""
    n = 0
    with atomic_open(path) as fh:
        fh.write(b'{"type": "FeatureCollection", "features": [')
        for f in features:
            fh.write((",\n" if n else "\n").encode())
            text = f if isinstance(f, str) else compact_json(f)
            fh.write(text.encode("utf-8"))
            n += 1
        fh.write(b"\n]}\n")
    return n


def compact_json(obj) -> str:
    """One-line JSON, UTF-8 kept: a feature per line in the outputs, a cell, a store row.

    orjson writes it six times faster than the json module and byte for byte alike,
    except that it spells a float below 1e-4 in full (0.00001) and NaN as null.  What it
    refuses (a lone surrogate, an integer beyond 64 bits) goes through the json module."""
    try:
        return orjson.dumps(obj).decode()
    except orjson.JSONEncodeError:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def parse_json(text: str):
    """The inverse of :func:`compact_json` for stored features: orjson reads them about
    three times faster; the json module takes what orjson refuses (NaN in old stores)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dumps(obj) -> str:
    """Stable JSON text: fixed separators, UTF-8 kept, newline at the end."""
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def _r(x: float) -> float:
    return round(float(x), COORD_DIGITS)


def geometry(lat: float, lon: float, line: Optional[tuple]) -> dict:
    """GeoJSON geometry: a Point, or a LineString for a road."""
    if line and len(line) >= 2:
        return {"type": "LineString", "coordinates": [[_r(x), _r(y)] for x, y in line]}
    return {"type": "Point", "coordinates": list(_rounded(lon, lat))}


@lru_cache(maxsize=65536)
def _rounded(lon: float, lat: float) -> tuple[float, float]:
    """A gazetteer point as written: every mention and event of a place rounds the same."""
    return _r(lon), _r(lat)


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


def write_events_csv(path: str | Path, features: Iterable[dict]) -> int:
    """Stream the ACLED-like CSV of event features to ``path`` atomically, one row each
    (``corroboration``: how many outlets report a fused event); returns the row count."""
    n = 0
    with atomic_open(path) as raw:
        fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for f in features:
            p = f["properties"]
            lon, lat = representative_point(f["geometry"])
            w.writerow([_csv_cell(v) for v in (
                p["event_id"], p["date"], p["date_precision"], p["acled_event_type"],
                p["acled_sub_event_type"], p["type"], ";".join(p["actor"]),
                ";".join(p["target"]), p["place"], p["admin1"], lat, lon, p["geo_precision"],
                p["source"], p["url"], p["status"], p["sentence"], p["fatalities"],
                p.get("corroboration", 1))])
            n += 1
        fh.flush()
        fh.detach()
    return n


def representative_point(geom: dict) -> tuple[float, float]:
    """(lon, lat) of a Point, or the middle vertex of a LineString (a road segment)."""
    c = geom["coordinates"]
    return (c[0], c[1]) if geom["type"] == "Point" else (c[len(c) // 2][0], c[len(c) // 2][1])


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    """The JSON Schema of an output ("mentions" or "events")."""
    text = (resources.files("geoevents") / "schema" / f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


def validate(collection: dict, name: str) -> None:
    """Raise jsonschema.ValidationError when an output breaks its contract."""
    import jsonschema
    jsonschema.validate(collection, schema(name))


def _flat(value):
    """A property as one GIS cell: lists of names joined, nested records as JSON text."""
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return ";".join(value)
        return compact_json(value)
    if isinstance(value, dict):
        return compact_json(value)
    return value


def features_frame(features: Iterable[dict]):
    """A GeoDataFrame (EPSG:4326) of GeoJSON features with flat columns."""
    import geopandas as gpd
    from shapely.geometry import shape
    rows, geoms = [], []
    for f in features:
        rows.append({k: _flat(v) for k, v in f["properties"].items()})
        geoms.append(shape(f["geometry"]))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


def _atomic_frame(frame, out: Path, fmt: str, layer: str) -> None:
    """Write a (Geo)DataFrame through a temp file in the same directory, then rename."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    tmp.unlink(missing_ok=True)
    try:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        elif hasattr(frame, "geometry"):
            frame.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
        else:
            import pyogrio
            pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export_layer(store, layer: str, fmt: str, out: str | Path, *, since: Optional[str] = None,
                 bbox: Optional[tuple[float, float, float, float]] = None) -> int:
    """Write one layer of a store (``events``, ``events_raw``, ``mentions``,
    ``documents``) as geojson, csv, gpkg or parquet (GeoParquet); returns the row count.
    ``since`` (ISO date) and ``bbox`` (west, south, east, north) filter events;
    ``bbox`` also filters mentions."""
    import pandas as pd
    out = Path(out)
    if layer == "documents":
        if fmt == "geojson" or since or bbox:
            raise ValueError("the documents layer has no geometry or dates: "
                             "export it as csv, gpkg or parquet, without --since/--bbox")
        frame = pd.DataFrame(list(store.documents()))
        if fmt == "csv":
            atomic_write(out, frame.map(_csv_cell).to_csv(index=False, lineterminator="\n"))
        else:
            _atomic_frame(frame, out, fmt, layer)
        return len(frame)
    if layer == "mentions":
        if since:
            raise ValueError("--since applies to event layers; mentions have no date")
        features = (f for f in store.mentions()
                    if bbox is None or _inside(f["geometry"], bbox))
    else:
        features = store.events(layer, since=since, bbox=bbox)
    if fmt == "geojson":
        return write_collection(out, features)
    if fmt == "csv":
        if layer == "mentions":
            frame = features_frame(features)
            atomic_write(out, pd.DataFrame(frame.drop(columns="geometry")).map(_csv_cell)
                         .to_csv(index=False, lineterminator="\n"))
            return len(frame)
        return write_events_csv(out, features)
    frame = features_frame(features)
    _atomic_frame(frame, out, fmt, layer)
    return len(frame)


def _inside(geom: dict, bbox: tuple[float, float, float, float]) -> bool:
    """Whether a Point, or any vertex of a LineString, lies in (west, south, east, north)."""
    w, s, e, n = bbox
    coords = [geom["coordinates"]] if geom["type"] == "Point" else geom["coordinates"]
    return any(w <= x <= e and s <= y <= n for x, y in coords)
