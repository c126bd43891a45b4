"""Interactive (Leaflet/folium) and static (PNG) maps of events.

The HTML map is fully self-contained and makes no network request: Leaflet 1.9.4 (vendored
in ``assets/``, see ``assets/README.md``) and the geoevents runtime (``assets/geoevents_map.js``
and ``.css``) are inlined, the images Leaflet's CSS refers to become ``data:`` URIs, and folium's
default CDN links are removed. Only ``tiles=URL`` adds an online layer.

Data is embedded once per layer as JSON in ``<script type="application/json">`` blocks (with
``<``, ``>``, ``&`` and U+2028/9 escaped, so no text can close the script element) and every layer
is built in JavaScript: no per-feature Python objects, so 100,000 events stay fast. Popups are
built in JavaScript with all text HTML-escaped.

Control of places has a time slider (in ``geoevents_map.js``, not folium's CDN-only
``Timeline`` plugin; see ``assets/README.md``): :func:`control_intervals` embeds one feature
per place and control interval with ``start``/``end`` in epoch ms (end exclusive), the slider
shows the intervals covering its day, and ``#date=YYYY-MM-DD`` in the URL opens it at that
date. A search box finds control and event places by name. :func:`map_fragment` gives the
map as a ``<div>`` to paste into another page.

Large maps: above :data:`CLUSTER_THRESHOLD` (3,000) events the events block is embedded by
:func:`compact_events` (only the properties popups, the date filter and the search read;
coordinates rounded to 5 decimals; every string once in a table, rows refer to it by index),
which ``GeoEvents.readJSON`` expands back, and ``geoevents_map.js`` draws point events as grid
clusters below zoom :data:`CLUSTER_MAX_ZOOM` (see ``assets/README.md``). Smaller maps embed
the collection as it is. ``benchmarks/bench_map.py`` times build, size and first render.

Output is deterministic: folium's random element ids are replaced by counter-based ones, JSON
is written in input order, and the file is written atomically (temp file + ``os.replace``).
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import urlsplit

import folium
from branca.element import Element, MacroElement
from folium.map import Layer
from folium.template import Template

from ..export import atomic_write

__all__ = [
    "ACTORS", "EVENT_TYPES", "build_map", "compact_events", "control_as_of", "control_intervals", "events_until",
    "map_fragment", "render_map", "render_png", "load_default_boundaries",
]

# ---------------------------------------------------------------------------------------------
# Fixed styling constants (shared by the HTML legend, the JS runtime and the PNG).

#: actor id -> (label, colour). Order is the legend's order.
ACTORS: dict[str, tuple[str, str]] = {
    "hts": ("HTS", "#0b5d1e"),
    "opposition": ("Opposition factions", "#33a02c"),
    "sna": ("SNA (Turkish-backed)", "#a6b838"),
    "sdf": ("SDF", "#f2d01b"),
    "syrian_government": ("Syrian government", "#e31a1c"),
    "russia": ("Russia", "#7f0000"),
    "iran": ("Iran", "#ff7f00"),
    "iran_backed_militias": ("Iran-backed militias", "#fdb462"),
    "hezbollah": ("Hezbollah", "#b35806"),
    "turkey": ("Turkey", "#1a9e9e"),
    "israel": ("Israel", "#1f78b4"),
    "usa": ("United States", "#0b1f5c"),
    "isis": ("Islamic State", "#000000"),
    "southern_operations_room": ("Southern Operations Room", "#7b3fa0"),
    "civilians": ("Civilians", "#9e9e9e"),
}
UNKNOWN_ACTOR = ("Unknown / other actor", "#ffffff")
STROKE = "#1a1a1a"


def _regular(n: int, r: float = 1.0, rot: float = -90.0) -> list[list[float]]:
    return [[round(r * math.cos(math.radians(rot + 360.0 * i / n)), 4),
             round(r * math.sin(math.radians(rot + 360.0 * i / n)), 4)] for i in range(n)]


def _star(n: int, r_out: float, r_in: float, rot: float = -90.0) -> list[list[float]]:
    pts = []
    for i in range(2 * n):
        r = r_out if i % 2 == 0 else r_in
        a = math.radians(rot + 180.0 * i / n)
        pts.append([round(r * math.cos(a), 4), round(r * math.sin(a), 4)])
    return pts


def _plus(w: float = 0.3, r: float = 0.95) -> list[list[float]]:
    return [[-w, -r], [w, -r], [w, -w], [r, -w], [r, w], [w, w], [w, r], [-w, r], [-w, w],
            [-r, w], [-r, -w], [-w, -w]]


def _rotate(pts: list[list[float]], deg: float) -> list[list[float]]:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return [[round(x * c - y * s, 4), round(x * s + y * c, 4)] for x, y in pts]


#: glyph name -> polygon in unit coordinates (inside the unit circle, y down). "circle" and
#: "ring" are drawn as arcs.
GLYPHS: dict[str, list[list[float]]] = {
    "star": _star(5, 1.0, 0.45),
    "triangle_up": [[0.0, -1.0], [0.866, 0.5], [-0.866, 0.5]],
    "triangle_down": [[0.0, 1.0], [-0.866, -0.5], [0.866, -0.5]],
    "cross": _rotate(_plus(0.28, 1.0), 45.0),
    "burst": _star(8, 1.0, 0.5),
    "diamond": _regular(4, 1.0),
    "square": [[-0.7, -0.7], [0.7, -0.7], [0.7, 0.7], [-0.7, 0.7]],
    "plus": _plus(0.3, 0.95),
}

#: event type -> label, glyph, radius (px), line dash for road events, matplotlib marker.
EVENT_TYPES: dict[str, dict[str, Any]] = {
    "control_change": {"label": "Change of control", "glyph": "star", "radius": 11, "dash": None, "mpl": "*"},
    "advance": {"label": "Advance", "glyph": "triangle_up", "radius": 9, "dash": None, "mpl": "^"},
    "withdrawal": {"label": "Withdrawal", "glyph": "triangle_down", "radius": 9, "dash": "8 6", "mpl": "v"},
    "clash": {"label": "Clash", "glyph": "cross", "radius": 9, "dash": "2 6", "mpl": "X"},
    "siege": {"label": "Siege", "glyph": "ring", "radius": 9, "dash": "12 4 2 4", "mpl": "o"},
    "airstrike": {"label": "Airstrike", "glyph": "burst", "radius": 10, "dash": "1 5", "mpl": (8, 1, 0)},
    "shelling": {"label": "Shelling", "glyph": "diamond", "radius": 9, "dash": "6 3", "mpl": "D"},
    "attack": {"label": "Attack", "glyph": "square", "radius": 8, "dash": "4 4", "mpl": "s"},
    "casualties": {"label": "Casualties", "glyph": "plus", "radius": 9, "dash": "1 3", "mpl": "P"},
    "other": {"label": "Other", "glyph": "circle", "radius": 6, "dash": "3 3", "mpl": "o"},
}

SYRIA_BOUNDS = [[32.3, 35.6], [37.4, 42.4]]
SYRIA_CENTRE = [35.0, 38.5]

_ASSETS = ("leaflet.css", "leaflet.js", "geoevents_map.css", "geoevents_map.js")


# ---------------------------------------------------------------------------------------------
# Assets and escaping


@lru_cache(maxsize=None)
def _asset_bytes(name: str) -> bytes:
    return (resources.files("geoevents.render") / "assets" / name).read_bytes()


def _asset_text(name: str) -> str:
    return _asset_bytes(name).decode("utf-8")


_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)images/([A-Za-z0-9_.-]+\.png)\1\)")


@lru_cache(maxsize=None)
def _inline_leaflet_css() -> str:
    """leaflet.css with its images/*.png references turned into data: URIs."""
    def data_uri(m: re.Match) -> str:
        png = _asset_bytes("leaflet-" + m.group(2))
        return 'url("data:image/png;base64,' + base64.b64encode(png).decode("ascii") + '")'
    return _CSS_URL.sub(data_uri, _asset_text("leaflet.css"))


def _inline_js(name: str) -> str:
    # A sourceMappingURL would make devtools fetch a .map file. The text must not contain
    # "</script", "<script" or "<!--" (which change how HTML parses a script element); checked
    # so that a future asset update cannot silently break the page.
    text = _SOURCE_MAP.sub("", _asset_text(name))
    if re.search(r"</?script|<!--", text, re.IGNORECASE):
        raise ValueError(f"asset {name} contains '<script', '</script' or '<!--' and cannot be inlined")
    return text


def _inline_css(text: str) -> str:
    if re.search(r"</style", text, re.IGNORECASE):
        raise ValueError("CSS asset contains '</style' and cannot be inlined")
    return text


_JSON_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                        "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_SCRIPT_RE = re.compile("[<>&\u2028\u2029]")


def json_for_script(obj: Any) -> str:
    """Compact JSON that is safe inside an HTML <script> element (cannot close it, open a
    comment or be mistaken for markup). Raises ValueError on NaN/Infinity (not JSON)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JSON_SCRIPT_RE.sub(lambda m: _JSON_SCRIPT_ESCAPES[m.group(0)], text)


# ---------------------------------------------------------------------------------------------
# Input helpers


def _features(fc: Optional[Mapping]) -> list:
    if not fc:
        return []
    feats = fc.get("features") if isinstance(fc, Mapping) else None
    return feats if isinstance(feats, list) else []


def _collection(fc: Optional[Mapping]) -> dict:
    """A FeatureCollection dict for embedding (the input object itself when it already is
    one, so nothing is copied)."""
    if isinstance(fc, Mapping) and fc.get("type") == "FeatureCollection" and isinstance(fc.get("features"), list):
        return fc  # type: ignore[return-value]
    return {"type": "FeatureCollection", "features": _features(fc)}


DAY_MS = 86_400_000
#: the end of an interval that has not ended (epoch ms of 10000-01-01, later than any date)
FAR_FUTURE_MS = 253_402_300_800_000
_EPOCH = date(1970, 1, 1)


def _iso_day(value: Any) -> Optional[date]:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _ms(d: date) -> int:
    return (d - _EPOCH).days * DAY_MS


def _history(p: Mapping) -> list:
    """A place's control intervals; a place without ``history`` is one open interval."""
    hist = p.get("history")
    if isinstance(hist, list) and hist:
        return [iv for iv in hist if isinstance(iv, Mapping)]
    ctrl = p.get("controller")
    return [{"controller": ctrl[0] if isinstance(ctrl, list) and ctrl else ctrl,
             "status": p.get("status"), "start": None, "end": None,
             "claimants": [c for c in (ctrl if isinstance(ctrl, list) else [ctrl]) if c],
             "sources": []}]


def control_intervals(control: Optional[Mapping], events: Optional[Mapping] = None) -> dict:
    """The time-slider layer: one Point feature per place AND control interval.

    ``start``/``end`` are epoch milliseconds (UTC midnight), ``end`` exclusive (a place that
    changes hands on a day is drawn once that day); an open end is ``FAR_FUTURE_MS``, a null
    start the earliest date in the data. ``pi`` indexes the place in the control collection
    (whose ``history`` the popup shows), ``hi`` the interval in that history. The result also
    carries ``first``/``last`` (ISO dates: the slider's range) and ``latest``.
    """
    days: list[date] = []
    places = _features(control)
    for f in places:
        p = f.get("properties") or {}
        for iv in _history(p):
            days.extend(d for d in (_iso_day(iv.get("start")), _iso_day(iv.get("end"))) if d)
        if _iso_day(p.get("as_of")):
            days.append(_iso_day(p.get("as_of")))
    for f in _features(events):
        d = _iso_day((f.get("properties") or {}).get("date"))
        if d:
            days.append(d)
    first = min(days) if days else None
    last = max(days) if days else None
    feats = []
    for pi, f in enumerate(places):
        g = f.get("geometry") or {}
        if g.get("type") != "Point" or not g.get("coordinates"):
            continue
        p = f.get("properties") or {}
        for hi, iv in enumerate(_history(p)):
            start, end = _iso_day(iv.get("start")), _iso_day(iv.get("end"))
            claimants = [c for c in (iv.get("claimants") or []) if isinstance(c, str)]
            feats.append({"type": "Feature", "geometry": g, "properties": {
                "pi": pi, "hi": hi,
                "place": p.get("place") or p.get("name") or p.get("place_id"),
                "admin1": p.get("admin1"), "controller": iv.get("controller"),
                "status": iv.get("status"), "claimants": claimants,
                "start": _ms(start) if start else (_ms(first) if first else 0),
                "end": _ms(end) if end else FAR_FUTURE_MS}})
    return {"type": "FeatureCollection", "features": feats,
            "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None}


def control_as_of(control: Optional[Mapping], day: Optional[date]) -> Optional[dict]:
    """A copy of the control collection with ``controller``/``status`` taken from each
    place's history on that day (places not yet reported are left out)."""
    if not _features(control) or day is None:
        return control  # type: ignore[return-value]
    feats = []
    for f in _features(control):
        p = dict(f.get("properties") or {})
        hist = p.get("history")
        if isinstance(hist, list) and hist:
            now = next((iv for iv in hist if isinstance(iv, Mapping)
                        and (_iso_day(iv.get("start")) is None or _iso_day(iv.get("start")) <= day)
                        and (_iso_day(iv.get("end")) is None or day < _iso_day(iv.get("end")))), None)
            if now is None:
                continue
            p.update(controller=now.get("controller"), status=now.get("status"), as_of=day.isoformat())
        feats.append({**f, "properties": p})
    return {"type": "FeatureCollection", "features": feats}


def events_until(events: Mapping, day: Optional[date]) -> dict:
    """The events dated on or before the day (undated events are kept)."""
    if day is None:
        return _collection(events)
    feats = [f for f in _features(events)
             if not (_iso_day((f.get("properties") or {}).get("date")) or day) > day]
    return {"type": "FeatureCollection", "features": feats}


#: Above this many events the map clusters point events at low zooms (in
#: ``geoevents_map.js``) and embeds them compactly (:func:`compact_events`).
CLUSTER_THRESHOLD = 3000
#: From this zoom on, clustered maps draw every event glyph (below it: grid clusters).
CLUSTER_MAX_ZOOM = 10
#: Properties an event popup, the date filter and the search read: the only ones that a
#: compact embedding keeps.
POPUP_KEYS = ("event_id", "type", "place", "admin1", "actor", "target", "to_actor", "from_actor",
              "date", "date_precision", "status", "attributed_to", "fatalities", "source", "url",
              "published", "sentence", "corroboration", "sources", "reports")
COMPACT_FORMAT = "geoevents-compact-1"


def _round_coords(c: Any) -> Any:
    if isinstance(c, float):
        return round(c, 5)
    if isinstance(c, (list, tuple)):
        return [_round_coords(x) for x in c]
    return c


def compact_events(events: Optional[Mapping]) -> dict:
    """The events as embedded in a large map: only :data:`POPUP_KEYS`, coordinates rounded to
    5 decimals (about 1 m) and every string stored once in ``strings``.

    ``rows`` holds one array per feature: its geometry (``[lon, lat]`` for a Point, else the
    GeoJSON geometry object) followed by one value per key of ``keys``: an int is an index
    into ``strings``, an array of ints a list of strings, null a missing value and
    ``{"v": value}`` any other value, as is. Strings are numbered in order of first use, so
    the output is deterministic. ``GeoEvents.readJSON`` expands it back into a
    FeatureCollection.
    """
    strings: list[str] = []
    index: dict[str, int] = {}

    def sid(s: str) -> int:
        i = index.get(s)
        if i is None:
            i = index[s] = len(strings)
            strings.append(s)
        return i

    def enc(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, str):
            return sid(v)
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return [sid(x) for x in v]
        return {"v": v}

    rows = []
    for f in _features(events):
        g = f.get("geometry") or {}
        p = f.get("properties") or {}
        c = g.get("coordinates")
        if (g.get("type") == "Point" and isinstance(c, (list, tuple)) and len(c) >= 2
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in c[:2])):
            geom: Any = [_round_coords(float(c[0])), _round_coords(float(c[1]))]
        else:
            geom = {**g, "coordinates": _round_coords(c)} if g else None
        row = [geom] + [enc(p.get(k)) for k in POPUP_KEYS]
        while len(row) > 1 and row[-1] is None:
            row.pop()
        rows.append(row)
    return {"type": "FeatureCollection", "format": COMPACT_FORMAT, "keys": list(POPUP_KEYS),
            "strings": strings, "rows": rows, "features": []}


def _embedded_events(events: Optional[Mapping]) -> dict:
    """The events block of a map: the collection itself up to :data:`CLUSTER_THRESHOLD`
    events, else :func:`compact_events`."""
    if len(_features(events)) > CLUSTER_THRESHOLD:
        return compact_events(events)
    return _collection(events)


def load_default_boundaries() -> Optional[dict]:
    """The packaged governorate/district boundaries, or None when they are missing."""
    from ..gazetteer import tables_dir
    try:
        return json.loads((tables_dir() / "boundaries.geojson").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _aggregate_mentions(mentions: Optional[Mapping]) -> Optional[dict]:
    """One point per mentioned place (role "location"), with mention and document counts
    (``Store.mention_places`` computes the same in SQL)."""
    feats = _features(mentions)
    if not feats:
        return None
    places: dict[str, dict] = {}
    docs: dict[str, set] = {}
    for f in feats:
        if not isinstance(f, Mapping):
            continue
        p = f.get("properties") or {}
        g = f.get("geometry") or {}
        if p.get("role", "location") != "location" or g.get("type") != "Point":
            continue
        key = str(p.get("place_id") or (p.get("name"), tuple(g.get("coordinates") or ())))
        rec = places.get(key)
        if rec is None:
            rec = places[key] = {
                "type": "Feature", "geometry": {"type": "Point", "coordinates": list(g["coordinates"])},
                "properties": {"place_id": p.get("place_id"), "name": p.get("name") or p.get("text"),
                               "admin1": p.get("admin1"), "mentions": 0, "docs": 0}}
            docs[key] = set()
        rec["properties"]["mentions"] += 1
        docs[key].add(p.get("doc"))
    for key, rec in places.items():
        rec["properties"]["docs"] = len(docs[key])
    if not places:
        return None
    return {"type": "FeatureCollection", "features": list(places.values())}


def _tile_attribution(url: str) -> str:
    host = urlsplit(url).hostname or "tile server"
    if "openstreetmap" in host:
        return ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                "contributors")
    return "Tiles &copy; " + html.escape(host)


# ---------------------------------------------------------------------------------------------
# Legend


def _glyph_svg(glyph: str, fill: str = "#8c8c8c", size: int = 18) -> str:
    head = (f'<svg width="{size}" height="{size}" viewBox="-1.15 -1.15 2.3 2.3" '
            f'xmlns="http://www.w3.org/2000/svg" aria-hidden="true">')
    style = f'fill="{fill}" stroke="{STROKE}" stroke-width="0.11"'
    if glyph == "circle":
        body = f'<circle r="0.6" {style}/>'
    elif glyph == "ring":
        body = (f'<path fill-rule="evenodd" d="M1 0A1 1 0 1 0 -1 0A1 1 0 1 0 1 0Z'
                f'M0.5 0A0.5 0.5 0 1 0 -0.5 0A0.5 0.5 0 1 0 0.5 0Z" {style}/>')
    else:
        pts = GLYPHS[glyph]
        d = "M" + "L".join(f"{x:g} {y:g}" for x, y in pts) + "Z"
        body = f'<path d="{d}" {style}/>'
    return head + body + "</svg>"


def legend_html(*, has_control: bool = False, has_roads: bool = True) -> str:
    """The legend's HTML (fixed constants only: no input text)."""
    actors = "".join(
        f'<div class="ge-row"><span class="ge-key" style="background:{c}"></span>{html.escape(label)}</div>'
        for label, c in list(ACTORS.values()) + [UNKNOWN_ACTOR])
    types = "".join(
        f'<div class="ge-row">{_glyph_svg(t["glyph"])}{html.escape(t["label"])}</div>'
        for t in EVENT_TYPES.values())
    notes = ["Colour: the event&rsquo;s first actor (for a change of control without one, the side that took it)."]
    if has_roads:
        notes.append('<span class="ge-line"></span> event along a road (dash pattern by type).')
    control = ""
    if has_control:
        held = ('<svg width="18" height="18" viewBox="-1.15 -1.15 2.3 2.3" aria-hidden="true">'
                f'<circle r="0.62" fill="{ACTORS["hts"][1]}" stroke="#ffffff" stroke-width="0.22"/></svg>')
        contested = ('<svg width="18" height="18" viewBox="-1.15 -1.15 2.3 2.3" aria-hidden="true">'
                     f'<circle r="0.7" fill="{ACTORS["hts"][1]}" fill-opacity="0.55" '
                     f'stroke="{ACTORS["syrian_government"][1]}" stroke-width="0.3" '
                     'stroke-dasharray="0.35 0.25"/></svg>')
        control = ('<div class="ge-control-legend"><h4>Control of places (time slider)</h4>'
                   f'<div class="ge-row">{held}Held: filled dot in the controller&rsquo;s colour '
                   '(white ring)</div>'
                   f'<div class="ge-row">{contested}Contested: faded fill of one claimant, '
                   'dashed ring of the other</div>'
                   '<div class="ge-note">The slider (bottom left) shows who held each place on '
                   'that day: a control interval is drawn from its start up to, not including, '
                   'the day the place changes hands. It opens at the latest date; '
                   '<code>#date=YYYY-MM-DD</code> in the address opens it at that date. '
                   'Tick &ldquo;events up to this date&rdquo; to hide later events.</div></div>')
    return ('<div class="ge-cols"><div><h4>Actor (colour)</h4>' + actors + '</div>'
            '<div><h4>Event type (symbol)</h4>' + types + '</div></div>' + control +
            '<div class="ge-note">' + "<br>".join(notes) + '</div>')


# ---------------------------------------------------------------------------------------------
# folium elements


class _Raw(Element):
    """Literal HTML, emitted as is (bypasses Jinja so that large JSON is never parsed as a
    template and costs one string join)."""

    def __init__(self, text: str, name: str = "raw"):
        super().__init__()
        self._name = name
        self._text = text

    def render(self, **kwargs) -> str:  # noqa: D401
        return self._text


class _Runtime(MacroElement):
    """Creates the GeoEvents runtime object for the map (panes, shared canvas renderer)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new GeoEvents({{ this._parent.get_name() }},
                GeoEvents.readJSON({{ this.config_id|tojson }}));
        {% endmacro %}
    """)

    def __init__(self, config_id: str):
        super().__init__()
        self._name = "geoevents_runtime"
        self.config_id = config_id


class _JsLayer(Layer):
    """A layer built by a GeoEvents runtime method from an embedded JSON block."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = {{ this.runtime.get_name() }}.{{ this.method }}(
                GeoEvents.readJSON({{ this.data_id|tojson }}){% if this.arg %}, {{ this.arg|tojson }}{% endif %});
            {%- if this.show %}
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
            {%- endif %}
        {% endmacro %}
    """)

    def render(self, **kwargs):
        # Skip Layer.render: its ElementAddToElement child gets a random id, so rendering the
        # same Map twice (Jupyter re-display) would emit a second addTo. The template adds it.
        super(Layer, self).render(**kwargs)

    def __init__(self, runtime: _Runtime, method: str, data_id: str, name: str, *,
                 arg: Optional[str] = None, show: bool = True, key: str = "layer"):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = key
        self.runtime = runtime
        self.method = method
        self.data_id = data_id
        self.arg = arg


class _Finish(MacroElement):
    """Legend, initial view and the handles a notebook or test can use."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this.runtime.get_name() }}.legend(GeoEvents.readJSON({{ this.legend_id|tojson }}));
            {{ this.runtime.get_name() }}.fit({{ this.fallback|tojson }});
            {{ this.runtime.get_name() }}.timeSlider({{ this.as_of|tojson }});
            {{ this.runtime.get_name() }}.searchBox();
            {{ this.runtime.get_name() }}.ready();
            window.geoeventsMap = {{ this._parent.get_name() }};
            window.geoevents = {{ this.runtime.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, runtime: _Runtime, legend_id: str, as_of: Optional[str] = None):
        super().__init__()
        self._name = "geoevents_finish"
        self.as_of = as_of
        self.runtime = runtime
        self.legend_id = legend_id
        self.fallback = SYRIA_BOUNDS


def _json_block(element_id: str, obj: Any) -> _Raw:
    return _Raw(f'<script type="application/json" id="{element_id}">{json_for_script(obj)}</script>\n',
                name="data")


def _iter_elements(el: Element) -> Iterable[Element]:
    yield el
    for attr in ("header", "html", "script"):
        sub = getattr(el, attr, None)
        if isinstance(sub, Element) and sub is not el:
            yield from _iter_elements(sub)
    for child in list(el._children.values()):
        yield from _iter_elements(child)


def _stable_ids(root: Element) -> None:
    """Replace branca's random element ids (urandom hex) by a counter, in tree order."""
    seen: set[int] = set()
    n = 0
    for el in _iter_elements(root):
        if id(el) in seen:
            continue
        seen.add(id(el))
        n += 1
        el._id = str(n)


def build_map(events: Mapping, *, mentions: Optional[Mapping] = None,
              mention_places: Optional[Mapping] = None, control: Optional[Mapping] = None, boundaries: Optional[Mapping] = None,
              title: str = "geoevents", tiles: Optional[str] = None,
              tiles_attribution: Optional[str] = None,
              as_of: Optional[date | str] = None) -> folium.Map:
    """A folium Map of the events (self-contained; displays itself in Jupyter).

    ``events``: FeatureCollection of Point/LineString events. ``boundaries``: FeatureCollection
    of admin1/admin2 polygons (None: the packaged ``boundaries.geojson`` when it exists; an
    empty collection: no base layer). ``control``: places with ``controller`` and ``status``.
    ``mentions``: place mentions, drawn aggregated per place as a hidden layer
    (``mention_places``: that aggregate, already made, e.g. by a store). ``tiles``: URL
    template of an online tile layer (the only thing that makes the map use the network).
    ``as_of``: the date the control time slider opens at (default: the latest date in the
    data; a ``#date=YYYY-MM-DD`` URL fragment overrides both).
    """
    if boundaries is None:
        boundaries = load_default_boundaries()
    m = folium.Map(location=SYRIA_CENTRE, zoom_start=7, tiles=None, control_scale=True,
                   prefer_canvas=False, font_size="13px")
    # No CDN: every script and style is inlined below.
    m.default_js = []
    m.default_css = []
    fig = m.get_root()
    fig.title = html.escape(title)

    fig.header.add_child(_Raw("<style>" + _inline_css(_inline_leaflet_css()) + "</style>\n"), name="leaflet_css")
    fig.header.add_child(_Raw("<style>" + _inline_css(_asset_text("geoevents_map.css")) + "</style>\n"),
                         name="geoevents_css")
    fig.header.add_child(_Raw("<script>" + _inline_js("leaflet.js") + "</script>\n"), name="leaflet_js")
    fig.header.add_child(_Raw("<script>" + _inline_js("geoevents_map.js") + "</script>\n"), name="geoevents_js")
    fig.html.add_child(_Raw(f'<div class="ge-title">{html.escape(title)}</div>\n'), name="title")

    config = {
        "actors": {k: {"label": label, "colour": c} for k, (label, c) in ACTORS.items()},
        "unknown": {"label": UNKNOWN_ACTOR[0], "colour": UNKNOWN_ACTOR[1]},
        "stroke": STROKE,
        "types": {k: {kk: t[kk] for kk in ("label", "glyph", "radius", "dash")} for k, t in EVENT_TYPES.items()},
        "glyphs": GLYPHS,
        "cluster": {"threshold": CLUSTER_THRESHOLD, "maxZoom": CLUSTER_MAX_ZOOM},
    }
    fig.html.add_child(_json_block("geoevents-config", config), name="data_config")
    fig.html.add_child(_json_block("geoevents-legend", legend_html(has_control=bool(_features(control)))),
                       name="data_legend")

    if tiles:
        folium.TileLayer(tiles=tiles, attr=tiles_attribution or _tile_attribution(tiles),
                         name="Map tiles", overlay=False, control=True).add_to(m)

    runtime = _Runtime("geoevents-config")
    m.add_child(runtime, name="geoevents_runtime")

    if _features(boundaries):
        fig.html.add_child(_json_block("geoevents-boundaries", _collection(boundaries)), name="data_boundaries")
        has_admin2 = any(((f.get("properties") or {}).get("level") == "admin2") for f in _features(boundaries))
        m.add_child(_JsLayer(runtime, "boundaryLayer", "geoevents-boundaries", "Governorates",
                             arg="admin1", key="governorates"), name="governorates")
        if has_admin2:
            m.add_child(_JsLayer(runtime, "boundaryLayer", "geoevents-boundaries", "Districts",
                                 arg="admin2", show=False, key="districts"), name="districts")

    agg = mention_places if mention_places is not None else _aggregate_mentions(mentions)
    if agg:
        fig.html.add_child(_json_block("geoevents-mentions", agg), name="data_mentions")
        m.add_child(_JsLayer(runtime, "mentionsLayer", "geoevents-mentions", "Place mentions",
                             show=False, key="mentions"), name="mentions")
    if _features(control):
        fig.html.add_child(_json_block("geoevents-control", _collection(control)), name="data_control")
        fig.html.add_child(_json_block("geoevents-control-intervals", control_intervals(control, events)),
                           name="data_control_intervals")
        m.add_child(_JsLayer(runtime, "controlLayer", "geoevents-control-intervals", "Control of places",
                             arg="geoevents-control", key="control"), name="control")

    fig.html.add_child(_json_block("geoevents-events", _embedded_events(events)), name="data_events")
    m.add_child(_JsLayer(runtime, "roadsLayer", "geoevents-events", "Events on roads", key="roads"),
                name="roads")
    m.add_child(_JsLayer(runtime, "eventsLayer", "geoevents-events", "Events", key="events"),
                name="events")
    m.add_child(folium.LayerControl(collapsed=False, position="topright"), name="layer_control")
    day = _iso_day(as_of.isoformat() if isinstance(as_of, date) else as_of)
    m.add_child(_Finish(runtime, "geoevents-legend", day.isoformat() if day else None),
                name="geoevents_finish")
    _stable_ids(fig)
    return m


def map_html(events: Mapping, **kwargs: Any) -> str:
    """The self-contained HTML text of :func:`build_map`."""
    m = build_map(events, **kwargs)
    return m.get_root().render()


_HEAD_DROP = re.compile(r"^\s*(html,\s*body\s*\{|#map\s*\{)", re.S)


def map_fragment(events: Mapping, **kwargs: Any) -> str:
    """The map as an HTML fragment to paste into a report page: one ``<div>`` holding the
    inline styles and scripts, the map and its script (no ``<html>``/``<head>``/``<body>``,
    and none of folium's page-wide ``html, body`` styles)."""
    page = map_html(events, **kwargs)
    head = page[page.index("<head>") + 6:page.index("</head>")]
    body = page[page.index("<body>") + 6:page.index("</body>")]
    tail = page[page.index("</body>") + 7:page.rindex("</html>")]
    parts = []
    for m in re.finditer(r"<(script|style)\b[^>]*>(.*?)</\1>", head, re.S | re.I):
        if m.group(1).lower() == "style" and _HEAD_DROP.match(m.group(2)):
            continue
        parts.append(m.group(0))
    return ('<div class="geoevents-fragment" style="position:relative;width:100%;height:640px">\n'
            + "\n".join(parts) + "\n" + body.strip() + "\n" + tail.strip() + "\n</div>\n")


def render_map(events: Mapping, out_path: str | Path, *, mentions: Optional[Mapping] = None,
               mention_places: Optional[Mapping] = None, control: Optional[Mapping] = None, boundaries: Optional[Mapping] = None,
               title: str = "geoevents", tiles: Optional[str] = None,
               tiles_attribution: Optional[str] = None, as_of: Optional[date | str] = None,
               fragment: bool = False) -> None:
    """Write the self-contained HTML map of :func:`build_map` to ``out_path`` atomically
    (``fragment``: the :func:`map_fragment` instead of a whole page)."""
    text = (map_fragment if fragment else map_html)(
        events, mentions=mentions, mention_places=mention_places, control=control,
        boundaries=boundaries, title=title,
        tiles=tiles, tiles_attribution=tiles_attribution, as_of=as_of)
    atomic_write(out_path, text)


# ---------------------------------------------------------------------------------------------
# Static PNG


def _first_actor(p: Mapping) -> Optional[str]:
    for key in ("actor", "to_actor", "from_actor"):
        v = p.get(key)
        if isinstance(v, str) and v:
            return v
        if isinstance(v, (list, tuple)) and v:
            return v[0]
    return None


def render_png(events: Mapping, out_path: str | Path, *, boundaries: Optional[Mapping] = None,
               control: Optional[Mapping] = None, title: str = "geoevents",
               size: tuple[float, float] = (10.0, 8.0), dpi: int = 150) -> None:
    """A static PNG (matplotlib Agg, no pyplot state): governorate outlines, events coloured
    by first actor with a marker per type, control points, legend and title."""
    import geopandas as gpd
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if boundaries is None:
        boundaries = load_default_boundaries()
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor("#dfe7ec")

    bfeats = [f for f in _features(boundaries) if f.get("geometry")]
    if bfeats:
        gdf = gpd.GeoDataFrame.from_features(bfeats)
        if "level" in gdf.columns:
            adm2 = gdf[gdf["level"] == "admin2"]
            adm1 = gdf[gdf["level"] != "admin2"]
        else:
            adm1, adm2 = gdf, gdf.iloc[0:0]
        if len(adm1):
            adm1.plot(ax=ax, facecolor="#f4f1ea", edgecolor="#8a8a8a", linewidth=0.8, zorder=1)
        if len(adm2):
            adm2.boundary.plot(ax=ax, color="#b0b0b0", linewidth=0.3, linestyle="--", zorder=1.5)

    used_actors: dict[str, None] = {}
    used_types: dict[str, None] = {}
    points: dict[tuple[str, str], tuple[list, list]] = {}
    xs_all: list[float] = []
    ys_all: list[float] = []
    for f in _features(events):
        g = f.get("geometry") or {}
        p = f.get("properties") or {}
        actor = _first_actor(p)
        colour = ACTORS[actor][1] if actor in ACTORS else UNKNOWN_ACTOR[1]
        used_actors[actor if actor in ACTORS else ""] = None
        etype = p.get("type") if p.get("type") in EVENT_TYPES else "other"
        coords = g.get("coordinates")
        if g.get("type") == "Point" and coords:
            used_types[etype] = None
            xs, ys = points.setdefault((etype, colour), ([], []))
            xs.append(coords[0])
            ys.append(coords[1])
        elif g.get("type") == "LineString" and coords:
            lx = [c[0] for c in coords]
            ly = [c[1] for c in coords]
            ax.plot(lx, ly, color=colour, linewidth=2.5, solid_capstyle="round", zorder=3)
            xs_all.extend(lx)
            ys_all.extend(ly)
    for (etype, colour), (xs, ys) in points.items():
        t = EVENT_TYPES[etype]
        size_pt = 130 if etype == "control_change" else (30 if etype == "other" else 60)
        if t["glyph"] == "ring":
            ax.scatter(xs, ys, s=size_pt, marker="o", facecolors="none", edgecolors=colour,
                       linewidths=2.2, zorder=4)
        else:
            ax.scatter(xs, ys, s=size_pt, marker=t["mpl"], c=colour, edgecolors=STROKE,
                       linewidths=0.6, zorder=4)
        xs_all.extend(xs)
        ys_all.extend(ys)

    cfeats = _features(control)
    if cfeats:
        cx, cy, cc = [], [], []
        for f in cfeats:
            g = f.get("geometry") or {}
            if g.get("type") != "Point":
                continue
            ctrl = (f.get("properties") or {}).get("controller")
            ctrl = ctrl[0] if isinstance(ctrl, list) and ctrl else ctrl
            cx.append(g["coordinates"][0])
            cy.append(g["coordinates"][1])
            cc.append(ACTORS[ctrl][1] if ctrl in ACTORS else UNKNOWN_ACTOR[1])
            used_actors[ctrl if ctrl in ACTORS else ""] = None
        ax.scatter(cx, cy, s=14, c=cc, edgecolors="white", linewidths=0.6, zorder=2.5)

    # View: boundaries when present, else the data (else Syria).
    if bfeats:
        x0, y0, x1, y1 = gdf.total_bounds
    elif xs_all:
        x0, x1, y0, y1 = min(xs_all), max(xs_all), min(ys_all), max(ys_all)
    else:
        (y0, x0), (y1, x1) = SYRIA_BOUNDS
    pad = max(x1 - x0, y1 - y0, 0.2) * 0.05
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect(1.0 / max(math.cos(math.radians((y0 + y1) / 2.0)), 0.1))
    ax.set_xticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_yticks([])
    ax.set_title(title, fontsize=14, fontweight="bold")

    handles = []
    for a in ACTORS:
        if a in used_actors:
            handles.append(Patch(facecolor=ACTORS[a][1], edgecolor=STROKE, label=ACTORS[a][0]))
    if "" in used_actors:
        handles.append(Patch(facecolor=UNKNOWN_ACTOR[1], edgecolor=STROKE, label=UNKNOWN_ACTOR[0]))
    for k, t in EVENT_TYPES.items():
        if k in used_types:
            if t["glyph"] == "ring":
                handles.append(Line2D([], [], linestyle="none", marker="o", markerfacecolor="none",
                                      markeredgecolor="#555555", markeredgewidth=2, markersize=8, label=t["label"]))
            else:
                handles.append(Line2D([], [], linestyle="none", marker=t["mpl"], markerfacecolor="#9a9a9a",
                                      markeredgecolor=STROKE, markersize=9, label=t["label"]))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  frameon=True, borderaxespad=0.0)

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.15,
                metadata={"Software": None})
    atomic_write(out_path, buf.getvalue())
