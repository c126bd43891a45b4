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


def _open(browser, path: Path, fragment: str = ""):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, foreign = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: None if req.url.split(":", 1)[0] in ("file", "data", "about")
            else foreign.append(req.url))
    page.goto(path.resolve().as_uri() + fragment)
    page.wait_for_function("window.geoevents !== undefined && window.geoeventsMap !== undefined", polling=100)
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
                               "document.querySelector('.leaflet-popup-content').innerText.indexOf('Homs') >= 0", polling=100)
        link = page.evaluate("""() => { var a = document.querySelector('.leaflet-popup-content a');
            return a && [a.getAttribute('href'), a.getAttribute('rel'), a.getAttribute('target')]; }""")
        assert link == ["https://example.org/a", "noopener noreferrer", "_blank"]
        assert "undated" in page.inner_text(".leaflet-popup-content")
        assert errors == [] and foreign == []
    finally:
        page.close()


# ---------------------------------------------------------------------------------------------
# Control time slider, popups with history, search box, CLI

SARAQIB = [36.8059, 35.8645]
HAMA = [36.7578, 35.1318]
HISTORY_XSS = '<img src=x onerror="window.__xss=3">'


def _src(place, sentence, url="https://example.org/news/1", **kw):
    return {"doc": "doc-" + place.lower(), "event_id": "evt-" + place.lower(), "source": kw.get("source", "Example News"),
            "url": url, "status": "reported", "sentence": sentence, "date_source": "text"}


def _place(pid, name, admin1, coords, controller, status, history):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords},
            "properties": {"place_id": pid, "place": name, "admin1": admin1, "as_of": "2024-12-05",
                           "controller": controller, "status": status, "history": history}}


@pytest.fixture()
def slider_control():
    baseline = [{"source": "baseline"}]
    return {"type": "FeatureCollection", "features": [
        _place("sy-saraqib", "Saraqib", "Idlib", SARAQIB, "hts", "held", [
            {"controller": "syrian_government", "status": "held", "start": "2020-02-01",
             "end": "2024-11-30", "claimants": ["syrian_government"], "sources": baseline},
            {"controller": "hts", "status": "held", "start": "2024-11-30", "end": None,
             "claimants": ["hts"], "sources": [
                 _src("Saraqib", "HTS fighters captured Saraqib. " + HISTORY_XSS,
                      url="javascript:window.__xss=4", source='Outlet "<b>x</b>"')]}]),
        _place("sy-hama", "Hama", "Hama", HAMA, "hts", "held", [
            {"controller": "syrian_government", "status": "held", "start": None,
             "end": "2024-12-04", "claimants": ["syrian_government"], "sources": baseline},
            {"controller": "contested", "status": "contested", "start": "2024-12-04",
             "end": "2024-12-05", "claimants": ["hts", "syrian_government"],
             "sources": [_src("Hama", "Fighting reached the outskirts of Hama.")]},
            {"controller": "hts", "status": "held", "start": "2024-12-05", "end": None,
             "claimants": ["hts"], "sources": [_src("Hama", "Rebels entered Hama.")]}]),
    ]}


@pytest.fixture()
def slider_events():
    return {"type": "FeatureCollection", "features": [
        _event("evt-saraqib-cc", SARAQIB[0], SARAQIB[1], "control_change", [], place="Saraqib",
               admin1="Idlib", to_actor=["hts"], from_actor=["syrian_government"], date="2024-11-30"),
        _event("evt-hama-cc", HAMA[0], HAMA[1], "control_change", [], place="Hama", admin1="Hama",
               to_actor=["hts"], from_actor=["syrian_government"], date="2024-12-05"),
        _event("evt-maarat-01", 36.6736, 35.6436, "clash", ["hts"], place="Maarat al-Numan",
               admin1="Idlib", target=["syrian_government"], date="2024-12-02"),
    ]}


def _ms(iso):
    from datetime import date
    return (date.fromisoformat(iso) - date(1970, 1, 1)).days * 86_400_000


def test_control_intervals_one_feature_per_interval(tmp_path, slider_events, slider_control):
    out = tmp_path / "m.html"
    render_map(slider_events, out, control=slider_control, boundaries={"type": "FeatureCollection", "features": []})
    block = _json_block(out.read_text(encoding="utf-8"), "geoevents-control-intervals")
    n_intervals = sum(len(f["properties"]["history"]) for f in slider_control["features"])
    assert len(block["features"]) == n_intervals == 5
    assert (block["first"], block["last"]) == ("2020-02-01", "2024-12-05")
    sar = [f["properties"] for f in block["features"] if f["properties"]["place"] == "Saraqib"]
    assert [(p["controller"], p["start"], p["end"]) for p in sar] == [
        ("syrian_government", _ms("2020-02-01"), _ms("2024-11-30")),
        ("hts", _ms("2024-11-30"), gmap.FAR_FUTURE_MS)]
    hama = [f["properties"] for f in block["features"] if f["properties"]["place"] == "Hama"]
    assert hama[0]["start"] == _ms("2020-02-01")            # null start: the earliest date
    assert hama[1]["claimants"] == ["hts", "syrian_government"]
    # on any day, at most one interval per place is drawn (end exclusive)
    for day in ("2024-11-29", "2024-11-30", "2024-12-04", "2024-12-05"):
        t = _ms(day)
        drawn = [f["properties"]["place"] for f in block["features"]
                 if f["properties"]["start"] <= t < f["properties"]["end"]]
        assert sorted(drawn) == ["Hama", "Saraqib"], day
    # the legend explains the control layer
    legend = _json_block(out.read_text(encoding="utf-8"), "geoevents-legend")
    assert "Contested" in legend and "slider" in legend


def test_slider_map_deterministic(tmp_path, slider_events, slider_control):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    render_map(slider_events, a, control=slider_control, title="t", as_of="2024-12-01")
    render_map(copy.deepcopy(slider_events), b, control=copy.deepcopy(slider_control), title="t",
               as_of="2024-12-01")
    assert a.read_bytes() == b.read_bytes()
    assert HISTORY_XSS not in a.read_text(encoding="utf-8")


def _control_colour(page, place):
    return page.evaluate("""(place) => {
        var out = [];
        window.geoevents.layers.control.eachLayer(function (l) {
            if (l.feature.properties.place === place) {
                out.push([l.options.fillColor, l.options.color, l.options.dashArray]);
            }
        });
        return out;
    }""", place)


def _set_slider(page, iso):
    page.evaluate("""(iso) => {
        var s = document.querySelector('.ge-slider-input'), min = Date.UTC(2020, 1, 1);
        var p = iso.split('-');
        s.value = String(Math.round((Date.UTC(+p[0], +p[1] - 1, +p[2]) - min) / 86400000));
        s.dispatchEvent(new Event('input', {bubbles: true}));
    }""", iso)
    assert page.inner_text(".ge-slider-date") == iso


@pytest.mark.browser
def test_browser_time_slider(browser, tmp_path, slider_events, slider_control, boundaries):
    out = tmp_path / "slider.html"
    render_map(slider_events, out, control=slider_control, boundaries=boundaries)
    gov, hts = gmap.ACTORS["syrian_government"][1], gmap.ACTORS["hts"][1]
    page, errors, foreign = _open(browser, out)
    try:
        assert page.inner_text(".ge-slider-date") == "2024-12-05"     # opens at the latest date
        assert [c[0] for c in _control_colour(page, "Saraqib")] == [hts]
        _set_slider(page, "2024-11-29")
        assert [c[0] for c in _control_colour(page, "Saraqib")] == [gov]
        _set_slider(page, "2024-11-30")                                # drawn once on the day
        assert [c[0] for c in _control_colour(page, "Saraqib")] == [hts]
        _set_slider(page, "2024-12-01")
        assert [c[0] for c in _control_colour(page, "Saraqib")] == [hts]
        _set_slider(page, "2024-12-04")                                # contested: dashed ring
        assert _control_colour(page, "Hama") == [[hts, gov, "3 3"]]
        assert page.evaluate("window.geoevents.layers.control.getLayers().length") == 2
        # events up to the slider date
        _set_slider(page, "2024-12-01")
        assert page.evaluate("window.geoevents.layers.events.getLayers().length") == 3
        page.check(".ge-slider-events input")
        assert page.evaluate("window.geoevents.layers.events.getLayers().length") == 1
        page.uncheck(".ge-slider-events input")
        assert page.evaluate("window.geoevents.layers.events.getLayers().length") == 3
        assert "Control of places" in page.inner_text(".ge-legend")
        assert errors == [] and foreign == []
    finally:
        page.close()

    page, errors, foreign = _open(browser, out, "#date=2024-11-29")
    try:
        assert page.inner_text(".ge-slider-date") == "2024-11-29"
        assert [c[0] for c in _control_colour(page, "Saraqib")] == [gov]
        assert errors == [] and foreign == []
    finally:
        page.close()


@pytest.mark.browser
def test_browser_search_and_history_popup(browser, tmp_path, slider_events, slider_control, boundaries):
    out = tmp_path / "search.html"
    render_map(slider_events, out, control=slider_control, boundaries=boundaries)
    page, errors, foreign = _open(browser, out)
    try:
        page.fill(".ge-search-input", "hama")
        items = page.locator(".ge-search-item")
        assert items.count() >= 1
        assert items.first.inner_text().startswith("Hama, Hama")
        items.first.click()
        page.wait_for_selector(".leaflet-popup-content .ge-control-popup", timeout=5000)
        text = page.inner_text(".leaflet-popup-content")
        assert text.startswith("Hama, Hama")
        assert "History" in text and "Rebels entered Hama." in text and "2024-12-04" in text
        # panned there (the popup's auto-pan may shift the centre a little)
        assert page.evaluate("(ll) => window.geoeventsMap.getBounds().contains(ll) && "
                             "window.geoeventsMap.getZoom() >= 10", [HAMA[1], HAMA[0]])

        # an event place is found too ("numan" matches "Maarat al-Numan")
        page.fill(".ge-search-input", "numan")
        assert "Maarat al-Numan" in page.locator(".ge-search-item").first.inner_text()

        # the history sentence with an XSS payload is shown as text and never runs
        page.fill(".ge-search-input", "Saraqib")
        page.press(".ge-search-input", "Enter")
        page.wait_for_function("document.querySelector('.leaflet-popup-content') && "
                               "document.querySelector('.leaflet-popup-content').innerText.indexOf('Saraqib') === 0", polling=100)
        text = page.inner_text(".leaflet-popup-content")
        assert HISTORY_XSS in text and 'Outlet "<b>x</b>"' in text
        assert page.evaluate("document.querySelectorAll('.leaflet-popup-content img').length") == 0
        assert page.evaluate("document.querySelectorAll('.leaflet-popup-content a').length") == 0  # javascript: URL
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert errors == [] and foreign == []
    finally:
        page.close()


def test_cli_map_page_fragment_png(tmp_path, slider_events, slider_control):
    from geoevents.cli import main
    ev = tmp_path / "events.geojson"
    ev.write_text(json.dumps(slider_events), encoding="utf-8")
    ctl = tmp_path / "control.geojson"
    ctl.write_text(json.dumps(slider_control), encoding="utf-8")

    page = tmp_path / "map.html"
    assert main(["map", str(ev), "-o", str(page), "--title", "Slider <test>"]) == 0
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<html>" in html
    block = _json_block(html, "geoevents-control-intervals")   # computed by the ledger
    assert sorted({f["properties"]["place"] for f in block["features"]}) == ["Hama", "Saraqib"]
    assert "Slider &lt;test&gt;" in html

    page2 = tmp_path / "map2.html"
    assert main(["map", str(ev), "-o", str(page2), "--title", "Slider <test>"]) == 0
    assert page2.read_bytes() == page.read_bytes()

    frag = tmp_path / "frag.html"
    assert main(["map", str(ev), "-o", str(frag), "--control", str(ctl), "--fragment",
                 "--as-of", "2024-12-01"]) == 0
    text = frag.read_text(encoding="utf-8")
    assert text.startswith("<div") and text.rstrip().endswith("</div>")
    for tag in ("<html", "<head", "<body", "<!DOCTYPE", "html, body"):
        assert tag not in text, tag
    assert "root.GeoEvents = GeoEvents" in text and "Leaflet 1.9.4" in text
    assert len(_json_block(text, "geoevents-control-intervals")["features"]) == 5
    assert 'timeSlider("2024-12-01")' in text

    png = tmp_path / "map.png"
    assert main(["map", str(ev), "--control", str(ctl), "--png", str(png), "--as-of", "2024-11-29"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["map", str(ev)]) == 2                          # nothing to write


def test_control_as_of_and_events_until(slider_events, slider_control):
    from datetime import date
    snap = gmap.control_as_of(slider_control, date(2024, 11, 29))
    assert [(f["properties"]["place"], f["properties"]["controller"]) for f in snap["features"]] == [
        ("Saraqib", "syrian_government"), ("Hama", "syrian_government")]
    assert slider_control["features"][0]["properties"]["controller"] == "hts"   # input untouched
    assert [f["properties"]["event_id"] for f in gmap.events_until(slider_events, date(2024, 12, 1))["features"]] == \
        ["evt-saraqib-cc"]


@pytest.mark.browser
def test_browser_fragment_in_a_page(browser, tmp_path, slider_events, slider_control):
    frag = gmap.map_fragment(slider_events, control=slider_control,
                             boundaries={"type": "FeatureCollection", "features": []})
    out = tmp_path / "report.html"
    out.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Report</title></head>"
                   "<body><h1>Report</h1>" + frag + "<p>after</p></body></html>", encoding="utf-8")
    page, errors, foreign = _open(browser, out)
    try:
        assert page.evaluate("window.geoevents.layers.control.getLayers().length") == 2
        assert page.evaluate("document.querySelector('.geoevents-fragment .leaflet-container').offsetHeight") > 300
        assert errors == [] and foreign == []
    finally:
        page.close()


# ---------------------------------------------------------------------------------------------
# Large maps: compact embedding and grid clustering (above gmap.CLUSTER_THRESHOLD events)

ALEPPO = [37.1343, 36.2021]
XSS_SPOT = [37.3, 36.3]


def _many_events(n, seed=3):
    import random
    rng = random.Random(seed)
    types, actors = list(gmap.EVENT_TYPES), list(gmap.ACTORS)
    feats = []
    for i in range(n):
        # a third of the events in and around Aleppo, the rest over Syria
        if i % 3 == 0:
            lon, lat = ALEPPO[0] + rng.uniform(-0.05, 0.05), ALEPPO[1] + rng.uniform(-0.05, 0.05)
        else:
            lon, lat = rng.uniform(35.7, 42.3), rng.uniform(32.3, 37.3)
        sentence = f"Fighting was reported in sector {i // 3} of the area, according to several local sources cited by a war monitor this week."
        feats.append(_event(f"evt-{i:06d}", lon + 1e-7, lat, rng.choice(types), [rng.choice(actors)],
                            place=f"Town {i % 50}", admin1="Aleppo", sentence=sentence,
                            fatalities=rng.choice([None, 3]), date=f"2024-12-{1 + i % 9:02d}"))
    feats[0]["properties"]["sentence"] = "Jets struck. " + IMG_XSS + SCRIPT_BREAKOUT
    feats[0]["properties"]["place"] = "Aleppo " + IMG_XSS
    feats[0]["geometry"]["coordinates"] = list(XSS_SPOT)   # away from the crowd: clickable
    feats.append(_event("evt-road-big", None, None, "advance", ["hts"], place="M5", admin1="Idlib",
                        geometry={"type": "LineString", "coordinates": [[36.8, 35.86], [37.13, 36.2]]}))
    return {"type": "FeatureCollection", "features": feats}


def test_compact_embedding_small_and_lossless_for_popups(tmp_path):
    events = _many_events(5000)
    out = tmp_path / "big.html"
    render_map(events, out, boundaries={"type": "FeatureCollection", "features": []})
    html = out.read_text(encoding="utf-8")
    assert SCRIPT_BREAKOUT not in html and IMG_XSS not in html
    block = _json_block(html, "geoevents-events")
    assert block["format"] == gmap.COMPACT_FORMAT and len(block["rows"]) == 5001
    raw = re.search(r'id="geoevents-events">(.*?)</script>', html, re.S).group(1).encode("utf-8")
    full = json_for_script(events).encode("utf-8")
    assert len(raw) / 5001 < 250 < len(full) / 5001          # bytes per event
    assert len(raw) < 0.5 * len(full)
    # decoding (as geoevents_map.js does) gives back every popup property, coordinates to 1e-5
    keys, strs = block["keys"], block["strings"]

    def dec(v):
        return strs[v] if isinstance(v, int) else [strs[k] for k in v] if isinstance(v, list) else v["v"]
    for f, row in zip(events["features"], block["rows"]):
        props = {k: dec(v) for k, v in zip(keys, row[1:]) if v is not None}
        want = {k: v for k, v in f["properties"].items() if k in gmap.POPUP_KEYS and v is not None}
        assert props == want
        if f["geometry"]["type"] == "Point":
            assert row[0] == [round(c, 5) for c in f["geometry"]["coordinates"]]
        else:
            assert row[0] == f["geometry"]
    assert "doc" not in keys and "place_id" not in keys
    # shared sentences are stored once
    sentences = [f["properties"]["sentence"] for f in events["features"]]
    assert len(set(sentences)) < len(sentences) // 2
    assert sorted(s for s in strs if s in set(sentences)) == sorted(set(sentences))
    # deterministic
    out2 = tmp_path / "big2.html"
    render_map(copy.deepcopy(events), out2, boundaries={"type": "FeatureCollection", "features": []})
    assert out2.read_bytes() == out.read_bytes()
    # below the threshold the collection is embedded as is
    small = {"type": "FeatureCollection", "features": events["features"][:gmap.CLUSTER_THRESHOLD]}
    assert gmap._embedded_events(small) is small


@pytest.mark.browser
def test_browser_clusters_large_map(browser, tmp_path):
    events = _many_events(5000)
    out = tmp_path / "big.html"
    render_map(events, out, boundaries={"type": "FeatureCollection", "features": []})
    page, errors, foreign = _open(browser, out)
    try:
        page.wait_for_function("window.geoeventsReady === true", polling=100)
        ev = "window.geoevents.layers.events"
        assert page.evaluate(f"{ev} instanceof GeoEvents.ClusteredEvents")
        assert page.evaluate("window.geoeventsMap.getZoom()") < gmap.CLUSTER_MAX_ZOOM
        n_clusters = page.evaluate(f"{ev}.clusters.getLayers().length")
        n_glyphs = page.evaluate(f"{ev}.glyphs.getLayers().length")
        assert n_clusters >= 5 and n_glyphs < 200
        # the clusters hold every point event once
        assert page.evaluate(f"{ev}.clusters.getLayers().reduce(function (s, l) {{ return s + l.cluster.n; }}, 0)") \
            + n_glyphs == 5000
        assert page.evaluate("window.geoevents.eventCount()") == 5001
        assert page.evaluate("window.geoevents.layers.roads.getLayers().length") == 1
        # decoded properties are the embedded ones
        assert page.evaluate("window.geoevents.eventData.events.features[1].properties.event_id") == "evt-000001"

        # a click on a cluster zooms in
        z0 = page.evaluate("window.geoeventsMap.getZoom()")
        x, y = page.evaluate(f"""() => {{
            var m = window.geoeventsMap, best = null;
            {ev}.clusters.eachLayer(function (l) {{ if (!best || l.cluster.n > best.cluster.n) {{ best = l; }} }});
            var pt = m.latLngToContainerPoint(best.getLatLng()), r = m.getContainer().getBoundingClientRect();
            return [pt.x + r.left, pt.y + r.top];
        }}""")
        page.mouse.click(x, y)
        # Leaflet reports the new zoom as its animation starts, and drops any setView made
        # before the animation ends: wait for the end
        page.wait_for_function(f"window.geoeventsMap.getZoom() > {z0} && "
                               "!window.geoeventsMap._animatingZoom", polling=100)

        # zoomed in to a city: individual glyphs, no clusters
        page.evaluate(f"void window.geoeventsMap.setView([{ALEPPO[1]}, {ALEPPO[0]}], {gmap.CLUSTER_MAX_ZOOM}, {{animate: false}})")
        page.wait_for_function(f"{ev}.clusters.getLayers().length === 0", polling=100)
        assert page.evaluate(f"{ev}.glyphs.getLayers().length") >= 5000 // 3
        # popups work and escape
        page.evaluate(f"void window.geoeventsMap.setView([{XSS_SPOT[1]}, {XSS_SPOT[0]}], 13, {{animate: false}})")
        page.wait_for_function(f"{ev}.clusters.getLayers().length === 0 && {ev}.glyphs.getLayers().length > 0", polling=100)
        x, y = page.evaluate(f"""() => {{
            var m = window.geoeventsMap, pt = null;
            {ev}.eachLayer(function (l) {{
                if (l.feature.properties.event_id === 'evt-000000') {{ pt = m.latLngToContainerPoint(l.getLatLng()); }}
            }});
            var r = m.getContainer().getBoundingClientRect();
            return [pt.x + r.left, pt.y + r.top];
        }}""")
        page.mouse.click(x, y)
        page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        text = page.inner_text(".leaflet-popup-content")
        assert IMG_XSS in text and "Jets struck." in text
        assert page.evaluate("document.querySelectorAll('.leaflet-popup-content img').length") == 0
        assert page.evaluate("typeof window.__xss") == "undefined"
        # the popup survives a small pan
        page.evaluate("void window.geoeventsMap.panBy([40, 0], {animate: false})")
        page.wait_for_timeout(100)
        assert "Jets struck." in page.inner_text(".leaflet-popup-content")

        # back out: clusters again (the zoom is asked again if Leaflet dropped it, as it
        # does while any zoom animation runs)
        page.wait_for_function(f"""() => {{
            var m = window.geoeventsMap;
            if (m.getZoom() !== 7 && !m._animatingZoom) {{ m.setZoom(7, {{animate: false}}); }}
            return m.getZoom() === 7 && {ev}.clusters.getLayers().length > 0;
        }}""", polling=100)
        assert errors == [] and foreign == []
    finally:
        page.close()


@pytest.mark.browser
def test_browser_fused_event_lists_every_outlet_escaped(browser, tmp_path):
    from geoevents.cli import main
    src = tmp_path / "in"
    src.mkdir()
    reports = [("a", "Outlet A", "https://a.example/story", "Rebels captured Saraqib on Friday."),
               ("b", IMG_XSS, "javascript:window.__xss=2", "Opposition fighters seized Saraqeb "
                                                            "on Friday."),
               ("c", "Outlet C", "https://c.example/x", "Saraqib fell to the rebels on Friday.")]
    for name, source, url, text in reports:
        (src / f"{name}.md").write_text(
            f"---\npublished: 2024-11-30\nsource: '{source}'\nurl: '{url}'\n---\n{text}\n",
            encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(src), "--out", str(out), "--quiet"]) == 0
    fused = json.loads((out / "events.geojson").read_text())["features"]
    assert len(fused) == 1 and fused[0]["properties"]["corroboration"] == 3
    page, errors, _ = _open(browser, out / "map.html")
    try:
        x, y = page.evaluate("""() => {
            var m = window.geoeventsMap, pt = null;
            m.removeLayer(window.geoevents.layers.control);   // its Saraqib marker lies on top
            window.geoevents.layers.events.eachLayer(function (l) { pt = m.latLngToContainerPoint(l.getLatLng()); });
            var r = m.getContainer().getBoundingClientRect();
            return [pt.x + r.left, pt.y + r.top];
        }""")
        page.mouse.click(x, y)
        page.wait_for_selector(".ge-pop-sources", timeout=5000)
        text = page.inner_text(".leaflet-popup-content")
        assert "3 from 3 outlets" in text
        assert IMG_XSS in text and "Outlet C" in text
        hrefs = page.evaluate("[...document.querySelectorAll('.leaflet-popup-content a')].map(a => a.href)")
        assert hrefs and all(h.startswith("https://") for h in hrefs)
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert errors == []
    finally:
        page.close()
