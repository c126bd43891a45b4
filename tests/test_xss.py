"""Untrusted text in HTML outputs, checked in a real browser (Debian's chromium).

Classic XSS payloads go into article text, title, source and url of real input files
(Markdown with front matter, JSONL, HTML), through the real ``geoevents run`` to
map.html and through ``geoevents map --fragment`` into a host page.  Every payload tries
to set ``window.__pwned`` or open a dialog; the test opens every event and control
popup and asserts that nothing ran, that the payloads are shown as text, and that only
http(s) URLs became links.
"""
from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path

import pytest

from geoevents.cli import main

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

PAYLOADS = [
    "<script>window.__pwned=1;alert(1)</script>",
    '<img src=x onerror="window.__pwned=2;alert(2)">',
    '<svg onload="window.__pwned=3;alert(3)">',
    "</script><script>window.__pwned=4;alert(4)</script>",
    '"><img src=x onerror=window.__pwned=5>',
    "'><svg/onload=window.__pwned=6>",
    '<a href="javascript:window.__pwned=7">click</a>',
    '<iframe srcdoc="<script>parent.__pwned=8</script>">',
    "<!--<script>window.__pwned=9</script>-->",
    "<scr<script>ipt>window.__pwned=10</script>",
    '<details open ontoggle="window.__pwned=11">',
    "<b onmouseover=alert(12)>bold",
    "\u2028</script><script>window.__pwned=13</script>",
    '<style>*{background:url("javascript:alert(14)")}</style>',
]
URLS = [
    "javascript:window.__pwned=20",
    "JaVaScRiPt:alert(21)",
    " javascript:alert(22)",
    "data:text/html,<script>alert(23)</script>",
    "vbscript:msgbox(24)",
    'https://example.org/"><script>window.__pwned=25</script>',
    "java\tscript:alert(26)",
    "https://example.org/news/1",
    "http://example.net/a?b=1&c=2",
]
SAFE_LINKS = {"https://example.org/news/1", "http://example.net/a?b=1&c=2"}
TOWNS = ["Saraqib", "Atarib", "Hama", "Homs", "Idlib", "Tal Rifaat", "Manbij", "Rastan",
         "Talbiseh", "Khan Sheikhoun", "Maarat al-Numan", "Daraa", "Suran", "Nayrab"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not exe:
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    """``geoevents run`` over files whose every field carries a payload."""
    root = tmp_path_factory.mktemp("xss")
    src = root / "in"
    src.mkdir()
    for i, (payload, town) in enumerate(zip(PAYLOADS, TOWNS)):
        front = {"published": "2024-11-30", "title": payload, "source": payload,
                 "url": URLS[i % len(URLS)]}
        (src / f"{i:02d}.md").write_text(
            "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in front.items()) + "---\n"
            f"Rebels captured {town} {payload} on Saturday.\n", encoding="utf-8")
    (src / "feed.jsonl").write_text("".join(json.dumps(
        {"id": f"j{i}{p}", "text": f"Russian jets struck {t} on Friday. {p}", "title": p,
         "source": p, "url": u, "published": "2024-11-29"}) + "\n"
        for i, (p, t, u) in enumerate(zip(PAYLOADS[::3], TOWNS[::3], URLS[::2]))),
        encoding="utf-8")
    (src / "page.html").write_text(
        f"<html><head><title>{html.escape(PAYLOADS[0])}</title>"
        f"<link rel='canonical' href='{html.escape(URLS[0])}'></head><body><article><p>"
        f"Government forces shelled Homs on Sunday. {html.escape(PAYLOADS[3])}</p>"
        "</article></body></html>", encoding="utf-8")
    out = root / "out"
    assert main(["run", str(src), "--out", str(out), "--quiet", "--title", PAYLOADS[1]]) == 0
    return out


def _inspect(browser, page_path: Path) -> dict:
    """Open the page, open every event and control popup; what ran and what showed."""
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(page_path.resolve().as_uri())
    page.wait_for_function("window.geoevents !== undefined && window.geoeventsMap !== undefined", polling=100)
    popups = page.evaluate("""() => {
        var out = [], ge = window.geoevents, m = window.geoeventsMap;
        ['events', 'control'].forEach(function (name) {
            var g = ge.layers[name];
            if (!g) { return; }
            g.eachLayer(function (l) {
                var ll = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
                l.fire('click', {latlng: ll}, true);
                var c = document.querySelector('.leaflet-popup-content');
                if (c) {
                    out.push({layer: name, text: c.innerText,
                              links: Array.from(c.querySelectorAll('a')).map(a => a.getAttribute('href')),
                              tags: Array.from(c.querySelectorAll('*')).map(e => e.tagName.toLowerCase()),
                              handlers: Array.from(c.querySelectorAll('*')).filter(e =>
                                  Array.from(e.attributes).some(a => a.name.startsWith('on'))).length});
                }
                m.closePopup();
            });
        });
        return out;
    }""")
    page.wait_for_timeout(300)
    result = {"dialogs": dialogs, "popups": popups,
              "pwned": page.evaluate("typeof window.__pwned"),
              "title": page.evaluate("document.title"),
              "heading": page.evaluate("(document.querySelector('.ge-title') || {}).innerText"),
              "scripts": page.evaluate("document.scripts.length")}
    page.close()
    return result


def _assert_inert(seen: dict, n_scripts: int) -> None:
    assert seen["dialogs"] == [] and seen["pwned"] == "undefined"
    assert seen["scripts"] == n_scripts                  # no script element was injected
    events = [p for p in seen["popups"] if p["layer"] == "events"]
    assert len(events) >= len(PAYLOADS)
    text = "\n".join(p["text"] for p in seen["popups"])
    for payload in PAYLOADS:                             # shown, as text
        assert payload.replace("\u2028", "").strip()[:20] in text.replace("\u2028", ""), payload
    links = {href for p in seen["popups"] for href in p["links"]}
    assert links == SAFE_LINKS
    for p in seen["popups"]:
        assert p["handlers"] == 0
        assert not set(p["tags"]) & {"script", "img", "svg", "iframe", "details", "style", "b"}


@pytest.mark.browser
def test_run_map_runs_no_payload(browser, hostile_run):
    seen = _inspect(browser, hostile_run / "map.html")
    page_scripts = (hostile_run / "map.html").read_text(encoding="utf-8").count("<script")
    _assert_inert(seen, page_scripts)
    assert seen["title"] == PAYLOADS[1] and seen["heading"] == PAYLOADS[1]


@pytest.mark.browser
def test_fragment_pasted_into_a_page_runs_no_payload(browser, hostile_run, tmp_path):
    frag = tmp_path / "frag.html"
    assert main(["map", str(hostile_run / "events.geojson"), "-o", str(frag), "--fragment",
                 "--control", str(hostile_run / "control.geojson"), "--title", PAYLOADS[3]]) == 0
    text = frag.read_text(encoding="utf-8")
    host = tmp_path / "report.html"
    host.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Report</title>"
                    f"</head><body><h1>Report</h1>{text}<p>after</p></body></html>",
                    encoding="utf-8")
    seen = _inspect(browser, host)
    _assert_inert(seen, text.count("<script"))
    assert seen["title"] == "Report" and seen["heading"] == PAYLOADS[3]


def test_payloads_never_appear_raw_in_the_outputs(hostile_run):
    """Outside the browser too: the map HTML holds no payload as markup, and the CSV
    neutralises cells a spreadsheet would run."""
    page = (hostile_run / "map.html").read_text(encoding="utf-8")
    for payload in PAYLOADS:
        assert payload not in page
    csv_text = (hostile_run / "events.csv").read_text(encoding="utf-8")
    assert "\n=" not in csv_text and ",=" not in csv_text
