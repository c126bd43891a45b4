"""The map renderer, on real generated HTML (and, when available, in real Chromium)."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import folium
import pytest

from geoevents.render import map as gmap
from geoevents.render.map import build_map, json_for_script, render_map, render_png

SCRIPT_BREAKOUT = "</script><script>alert(1)</script>"
IMG_XSS = '<img src=x onerror="window.__xss=1">'


def _event(event_id, lon, lat, etype, actor, *, place, admin1, geometry=None, **kw):
    props = {
        "event_id": event_id, "doc": "doc-001", "type": etype, "place": place,
        "place_id": "p-" + event_id, "geo_precision": 1, "actor": actor,
        "target": kw.pop("target", []), "to_actor": kw.pop("to_actor", []),
        "from_actor": kw.pop("from_actor", []), "date": kw.pop("date", "2024-11-30"),
        "date_precision": kw.pop("date_precision", "day"), "status": kw.pop("status", "reported"),
        "attributed_to": kw.pop("attributed_to", []), "fatalities": kw.pop("fatalities", None),
        "sentence": kw.pop("sentence", f"Fighting was reported in {place}."),
        "source": kw.pop("source", "Example News"), "url": kw.pop("url", "https://example.org/a"),
        "published": "2024-11-30", "admin1": admin1,
    }
    assert not kw, kw
    geom = geometry or {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geom, "properties": props}


@pytest.fixture()
def events():
    feats = [
        _event("evt-saraqib-01", 36.8006, 35.8623, "control_change", [], place="Saraqib",
               admin1="Idlib", to_actor=["hts"], from_actor=["syrian_government"],
               status="claimed", attributed_to=["hts"]),
        _event("evt-aleppo-0002", 37.1343, 36.2021, "advance", ["hts", "opposition"],
               place="Aleppo", admin1="Aleppo", sentence="Rebels advanced into Aleppo. " + SCRIPT_BREAKOUT),
        # isolated (Palmyra), so that a click on it cannot hit another marker
        _event("evt-xss-000003", 38.2684, 34.5601, "airstrike", ["russia"], place="Palmyra " + IMG_XSS,
               admin1="Homs", target=["isis"], fatalities=4, sentence="Jets struck. " + IMG_XSS,
               source='Outlet "<b>bold</b>"', url="javascript:window.__xss=2"),
        _event("evt-homs-00004", 36.7167, 34.7333, "shelling", ["syrian_government"], place="Homs",
               admin1="Homs", date=None, date_precision=None),
        _event("evt-manbij-005", 37.9533, 36.5281, "clash", ["sna"], place="Manbij",
               admin1="Aleppo", target=["sdf"], fatalities=12),
        _event("evt-m5-0000006", None, None, "advance", ["hts"], place="M5 highway",
               admin1="Idlib", geometry={"type": "LineString", "coordinates": [
                   [36.8006, 35.8623], [36.95, 36.05], [37.1343, 36.2021]]}),
    ]
    return {"type": "FeatureCollection", "features": feats}


def _box(name, x0, y0, x1, y1, level="admin1"):
    return {"type": "Feature", "properties": {"id": name.lower(), "name": name, "level": level},
            "geometry": {"type": "Polygon",
                         "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}}


@pytest.fixture()
def boundaries():
    # rough boxes standing in for governorates (the real polygons come from the gazetteer)
    return {"type": "FeatureCollection", "features": [
        _box("Idlib", 36.2, 35.3, 37.1, 36.3), _box("Aleppo", 37.1, 35.6, 38.6, 36.8),
        _box("Homs", 36.3, 33.9, 39.5, 35.3), _box("Saraqib district", 36.6, 35.7, 37.1, 36.0, "admin2"),
    ]}


@pytest.fixture()
def control():
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [36.8006, 35.8623]},
         "properties": {"name": "Saraqib", "controller": "hts", "status": "controlled"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [37.1343, 36.2021]},
         "properties": {"name": "Aleppo <i>x</i>", "controller": "opposition", "status": "contested"}},
    ]}


@pytest.fixture()
def mentions():
    def m(doc, name, lon, lat, role="location"):
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"doc": doc, "text": name, "start": 0, "end": len(name), "name": name,
                               "place_id": "pl-" + name, "level": "city", "admin1": "Idlib",
                               "confidence": 0.9, "role": role, "candidates": 1}}
    return {"type": "FeatureCollection", "features": [
        m("d1", "Saraqib", 36.8006, 35.8623), m("d2", "Saraqib", 36.8006, 35.8623),
        m("d1", "Aleppo", 37.1343, 36.2021), m("d1", "Russia", 37.6, 55.7, role="actor")]}


@pytest.fixture()
def rendered(tmp_path, events, boundaries, control, mentions):
    out = tmp_path / "map.html"
    render_map(events, out, boundaries=boundaries, control=control, mentions=mentions,
               title="Test <map> & events")
    return out.read_text(encoding="utf-8")


class _Refs(HTMLParser):
    """Every src/href attribute of real tags (script/style contents are not tags)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href", "srcset", "poster", "data", "action") and v is not None:
                self.refs.append((tag, k, v))


def _refs(html: str):
    p = _Refs()
    p.feed(html)
    p.close()
    return p.refs


def _outside_scripts_and_styles(html: str) -> str:
    return re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", html, flags=re.S | re.I)


def _json_block(html: str, element_id: str):
    m = re.search(r'<script type="application/json" id="%s">(.*?)</script>' % re.escape(element_id),
                  html, re.S)
    assert m, element_id
    return json.loads(m.group(1))


def _map_script(html: str) -> str:
    """The page's own script (after </body>), without the inlined libraries."""
    return html[html.rindex("</body>"):]


# ---------------------------------------------------------------------------------------------
# Offline-ness


def test_no_network_references(rendered):
    refs = _refs(rendered)
    assert not [r for r in refs if re.match(r"\s*(https?:)?//", r[2], re.I)], refs
    outside = _outside_scripts_and_styles(rendered)
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', outside, re.I)
    assert "<link" not in outside.lower()
    # raw grep over everything, scripts included: the only hit is the string in leaflet.js
    # that builds the "Leaflet" attribution link (a link the user may click, not a request)
    leaflet_js = (Path(gmap.__file__).parent / "assets" / "leaflet.js").read_text(encoding="utf-8")
    hits = re.findall(r'(?:src|href)\s*=\s*\\?["\']?(?:https?:)?//[^"\'\s>]*', rendered, re.I)
    assert hits == ['href="https://leafletjs.com'] * leaflet_js.count('href="https://leafletjs.com"'), hits
    # folium's CDN defaults are gone
    for cdn in ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "bootstrapcdn", "fontawesome"):
        assert cdn not in rendered
    # no remote url() in inlined CSS, no source map fetch
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", rendered, re.I)
    assert "sourceMappingURL" not in rendered
    assert "L.tileLayer(" not in _map_script(rendered)


def test_leaflet_inlined(rendered):
    assert "Leaflet 1.9.4" in rendered                    # leaflet.js banner
    assert ".leaflet-container" in rendered               # leaflet.css
    assert "images/layers.png" not in rendered            # CSS images became data: URIs
    assert "data:image/png;base64," in rendered
    assert "root.GeoEvents = GeoEvents" in rendered       # our runtime
    assert "window.geoeventsMap" in rendered


def test_features_embedded_once(rendered, events):
    embedded = _json_block(rendered, "geoevents-events")
    assert embedded == events
    assert rendered.count('id="geoevents-events"') == 1
    for f in events["features"]:
        assert f["properties"]["event_id"] in rendered
    assert _json_block(rendered, "geoevents-control")["features"][1]["properties"]["name"] == "Aleppo <i>x</i>"
    ments = _json_block(rendered, "geoevents-mentions")["features"]
    assert sorted((m["properties"]["name"], m["properties"]["mentions"], m["properties"]["docs"])
                  for m in ments) == [("Aleppo", 1, 1), ("Saraqib", 2, 2)]   # actor role skipped


def test_script_breakout_is_escaped(rendered):
    assert SCRIPT_BREAKOUT not in rendered
    assert "alert(1)" in rendered                          # the text is there, just escaped
    assert "<script>alert(1)" not in rendered
    assert IMG_XSS not in rendered
    assert "<img" not in _outside_scripts_and_styles(rendered)
    assert "<!--" not in json_for_script({"s": "<!-- x"})
    assert "</" not in json_for_script({"s": "</script>"})
    assert json.loads(json_for_script({"s": "</script>\u2028&"})) == {"s": "</script>\u2028&"}
    # every <script> opened is closed by its own </script>: the counts match
    assert len(re.findall(r"<script\b", rendered)) == len(re.findall(r"</script>", rendered))


def test_title_escaped(rendered):
    assert "<title>Test &lt;map&gt; &amp; events</title>" in rendered
    assert '<div class="ge-title">Test &lt;map&gt; &amp; events</div>' in rendered


def test_layers_and_legend(rendered):
    script = _map_script(rendered)
    for name in ("Governorates", "Districts", "Control of places", "Events on roads", "Events",
                 "Place mentions"):
        assert json.dumps(name) in script, name
    legend = _json_block(rendered, "geoevents-legend")
    for label, _colour in gmap.ACTORS.values():
        assert label in legend
    for t in gmap.EVENT_TYPES.values():
        assert t["label"] in legend
    assert len(set(t["glyph"] for t in gmap.EVENT_TYPES.values())) == len(gmap.EVENT_TYPES)


# ---------------------------------------------------------------------------------------------
# Determinism and writing


def test_deterministic(tmp_path, events, boundaries, control, mentions):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    render_map(events, a, boundaries=boundaries, control=control, mentions=mentions, title="t")
    render_map(copy.deepcopy(events), b, boundaries=boundaries, control=control, mentions=mentions, title="t")
    assert a.read_bytes() == b.read_bytes()
    text = a.read_text(encoding="utf-8")
    assert not re.search(r"_[0-9a-f]{32}\b", text)         # no random folium/branca ids left
    # a Map object renders the same twice too (Jupyter re-display)
    m = build_map(events, boundaries=boundaries)
    assert m.get_root().render() == m.get_root().render()


def test_atomic_write_replaces(tmp_path, events, boundaries):
    out = tmp_path / "sub" / "map.html"
    out.parent.mkdir()
    out.write_text("old", encoding="utf-8")
    render_map(events, out, boundaries=boundaries)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.parent.iterdir()) == ["map.html"]   # no temp file left


def test_build_map_is_a_folium_map(events, boundaries):
    m = build_map(events, boundaries=boundaries, title="nb")
    assert isinstance(m, folium.Map)
    assert "<iframe" in m._repr_html_()                     # displays itself in Jupyter


def test_tiles_layer(tmp_path, events, boundaries):
    url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    out = tmp_path / "tiles.html"
    render_map(events, out, boundaries=boundaries, tiles=url)
    html = out.read_text(encoding="utf-8")
    script = _map_script(html)
    assert "L.tileLayer(" in script and json.dumps(url) in script
    assert "OpenStreetMap" in script                        # attribution
    # still no linked resource in the page itself: the URL is only a tile template
    assert not [r for r in _refs(html) if re.match(r"\s*(https?:)?//", r[2], re.I)]


def test_default_boundaries(monkeypatch, tmp_path, events, boundaries):
    monkeypatch.setattr(gmap, "load_default_boundaries", lambda: None)
    out = tmp_path / "none.html"
    render_map(events, out)                                 # missing boundaries.geojson: skipped
    assert 'id="geoevents-boundaries"' not in out.read_text(encoding="utf-8")
    monkeypatch.setattr(gmap, "load_default_boundaries", lambda: boundaries)
    render_map(events, out)
    assert _json_block(out.read_text(encoding="utf-8"), "geoevents-boundaries") == boundaries
    # an explicit empty collection means "no base layer"
    render_map(events, out, boundaries={"type": "FeatureCollection", "features": []})
    assert 'id="geoevents-boundaries"' not in out.read_text(encoding="utf-8")


def test_load_default_boundaries_does_not_fail():
    result = gmap.load_default_boundaries()
    assert result is None or result.get("type") == "FeatureCollection"


def test_empty_events(tmp_path):
    out = tmp_path / "empty.html"
    render_map({"type": "FeatureCollection", "features": []}, out,
               boundaries={"type": "FeatureCollection", "features": []})
    assert _json_block(out.read_text(encoding="utf-8"), "geoevents-events")["features"] == []


def test_png(tmp_path, events, boundaries, control):
    out = tmp_path / "map.png"
    render_png(events, out, boundaries=boundaries, control=control, title="Test map")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image as mpimg
    img = mpimg.imread(str(out))
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]
    out2 = tmp_path / "map2.png"
    render_png(events, out2, boundaries=boundaries, control=control, title="Test map")
    assert out2.read_bytes() == data


def test_png_without_boundaries(tmp_path, events):
    out = tmp_path / "nb.png"
    render_png(events, out, boundaries={"type": "FeatureCollection", "features": []})
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------
# Real browser (Debian's chromium through Playwright; never `playwright install`)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                               args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, foreign = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: None if req.url.split(":", 1)[0] in ("file", "data", "about")
            else foreign.append(req.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_function("window.geoevents !== undefined && window.geoeventsMap !== undefined")
    page.wait_for_timeout(200)
    return page, errors, foreign


@pytest.mark.browser
def test_browser_loads_offline(browser, tmp_path, events, boundaries, control, mentions):
    out = tmp_path / "map.html"
    render_map(events, out, boundaries=boundaries, control=control, mentions=mentions)
    page, errors, foreign = _open(browser, out)
    try:
        assert errors == []
        assert foreign == []
        n_drawn = page.evaluate("""() => {
            var n = 0, m = window.geoeventsMap;
            m.eachLayer(function (l) {
                if (l.feature && l.feature.properties && l.feature.properties.event_id) { n++; }
            });
            return n;
        }""")
        assert n_drawn == len(events["features"])
        assert page.evaluate("window.geoevents.eventCount()") == len(events["features"])
        assert page.evaluate("window.geoevents.layers.control.getLayers().length") == 2
        assert page.evaluate("document.querySelectorAll('.leaflet-control-layers-overlays label').length") == 6
        assert page.evaluate("document.querySelector('.ge-legend').innerText").count("Syrian government") == 1
        assert page.evaluate("document.title") == "geoevents"
    finally:
        page.close()


@pytest.mark.browser
def test_browser_popup_escapes_payload(browser, tmp_path, events, boundaries):
    out = tmp_path / "map.html"
    render_map(events, out, boundaries=boundaries)
    page, errors, foreign = _open(browser, out)
    try:
        x, y = page.evaluate("""() => {
            var m = window.geoeventsMap, pt = null;
            window.geoevents.layers.events.eachLayer(function (l) {
                if (l.feature.properties.event_id === 'evt-xss-000003') {
                    pt = m.latLngToContainerPoint(l.getLatLng());
                }
            });
            var r = m.getContainer().getBoundingClientRect();
            return [pt.x + r.left, pt.y + r.top];
        }""")
        page.mouse.click(x, y)
        page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        text = page.inner_text(".leaflet-popup-content")
        assert IMG_XSS in text                             # shown as text ...
        assert 'Outlet "<b>bold</b>"' in text
        assert page.evaluate("document.querySelectorAll('.leaflet-popup-content img, .leaflet-popup-content b').length") == 0
        assert page.evaluate("typeof window.__xss") == "undefined"   # ... and never run
        # javascript: URL is not a link
        assert page.evaluate("document.querySelectorAll('.leaflet-popup-content a').length") == 0
        assert "Russia" in text and "Islamic State" in text and "Fatalities" in text

        # an http(s) source becomes a safe link
        page.evaluate("window.geoeventsMap.closePopup()")
        x, y = page.evaluate("""() => {
            var m = window.geoeventsMap, pt = null;
            window.geoevents.layers.events.eachLayer(function (l) {
                if (l.feature.properties.event_id === 'evt-homs-00004') {
                    pt = m.latLngToContainerPoint(l.getLatLng());
                }
            });
            var r = m.getContainer().getBoundingClientRect();
            return [pt.x + r.left, pt.y + r.top];
        }""")
        page.mouse.click(x, y)
        page.wait_for_function("document.querySelector('.leaflet-popup-content') && "
                               "document.querySelector('.leaflet-popup-content').innerText.indexOf('Homs') >= 0")
        link = page.evaluate("""() => { var a = document.querySelector('.leaflet-popup-content a');
            return a && [a.getAttribute('href'), a.getAttribute('rel'), a.getAttribute('target')]; }""")
        assert link == ["https://example.org/a", "noopener noreferrer", "_blank"]
        assert "undated" in page.inner_text(".leaflet-popup-content")
        assert errors == [] and foreign == []
    finally:
        page.close()
