"""Benchmark: HTML map build time, file size and first render in headless Chromium.

Generates synthetic events (deterministic seed) with realistic properties and ~150-character
sentences over Syria's bounding box (32.3-37.3 N, 35.7-42.3 E), plus a control layer of a
few hundred places, and for each size prints the map build time, the file size and the time
until the page has drawn its events layer (``window.geoeventsReady``, set by
``geoevents_map.js``; measured from navigation start with ``performance.now()``).

    python benchmarks/bench_map.py [--sizes 1000 10000 100000] [--seed 7] [--keep DIR]

Goals (issue): 100,000 events in <= 15 s build, <= 40 MB, first render <= 5 s. The browser
step needs the playwright package and Debian's /usr/bin/chromium (never `playwright install`);
without them it is skipped.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geoevents.render.map import ACTORS, EVENT_TYPES, render_map  # noqa: E402

GOALS = {100_000: (15.0, 40.0, 5.0)}   # size -> build s, MB, render s
LAT0, LAT1, LON0, LON1 = 32.3, 37.3, 35.7, 42.3
TOWNS = ["Aleppo", "Idlib", "Hama", "Homs", "Saraqib", "Manbij", "Raqqa", "Deir ez-Zor", "Palmyra",
         "Daraa", "Suwayda", "Latakia", "Tartus", "Qamishli", "Hasakah", "Maarat al-Numan",
         "Al-Bab", "Azaz", "Jarabulus", "Kobani", "Tal Rifaat", "Douma", "Harasta", "Quneitra"]
ADMIN1 = ["Aleppo", "Idlib", "Hama", "Homs", "Raqqa", "Deir ez-Zor", "Daraa", "As-Suwayda",
          "Latakia", "Tartus", "Al-Hasakah", "Rif Dimashq", "Damascus", "Quneitra"]
SOURCES = ["Example News", "Syria Monitor", "Levant Wire", "Regional Times", "Daily Dispatch"]
VERBS = ["captured", "shelled", "advanced toward", "withdrew from", "struck", "besieged",
         "clashed with defenders of", "attacked positions near"]
CLAUSES = ["after heavy overnight fighting, a war monitor said",
           "according to local activists and a military source",
           "as reinforcements were sent from the provincial capital",
           "in the latest escalation along the front line this week",
           "while residents reported power and water cuts across the district"]


def synthetic(n: int, seed: int) -> tuple[dict, dict]:
    """n events (a few percent along roads) and a control layer of 300 places."""
    rng = random.Random(seed)
    actors = list(ACTORS)
    types = list(EVENT_TYPES)
    d0 = date(2024, 11, 27)
    sentences: list[str] = []
    feats = []
    for i in range(n):
        town = rng.choice(TOWNS)
        # about one sentence in three is shared with the previous event (one sentence, several events)
        if sentences and rng.random() < 0.35:
            sentence = sentences[-1]
        else:
            a = rng.choice(["Rebel fighters", "Government forces", "Turkish-backed factions",
                            "Kurdish-led forces", "Unidentified gunmen"])
            sentence = f"{a} {rng.choice(VERBS)} {town} on day {i % 97}, {rng.choice(CLAUSES)}."
            while len(sentence) < 140:
                sentence += " Details could not be verified."
            sentences.append(sentence)
        actor = rng.sample(actors, rng.choice([0, 1, 1, 1, 2]))
        lon = round(rng.uniform(LON0, LON1), 6)
        lat = round(rng.uniform(LAT0, LAT1), 6)
        if rng.random() < 0.02:
            geom = {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.1, lat + 0.05]]}
        else:
            geom = {"type": "Point", "coordinates": [lon, lat]}
        day = d0 + timedelta(days=rng.randint(0, 30))
        doc = f"doc-{i // 8:06d}.md"
        props = {
            "event_id": f"{rng.getrandbits(64):016x}", "doc": doc, "type": rng.choice(types),
            "place": town, "place_id": f"wof:{rng.randint(10**9, 2 * 10**9)}",
            "admin1": rng.choice(ADMIN1), "level": "town", "geo_precision": 1, "actor": actor,
            "target": rng.sample(actors, rng.choice([0, 1])), "to_actor": [], "from_actor": [],
            "date": day.isoformat(), "date_precision": "day", "date_source": "text",
            "status": rng.choice(["reported", "claimed", "disputed"]),
            "attributed_to": rng.sample(["SOHR", "SANA", "HTS"], rng.choice([0, 1])),
            "fatalities": rng.choice([None, None, rng.randint(1, 40)]), "fatalities_qualifier": None,
            "sentence": sentence, "start": 100, "end": 100 + len(sentence),
            "evidence": [{"sentence": sentence, "start": 100, "end": 100 + len(sentence)}],
            "source": rng.choice(SOURCES), "url": f"https://example.org/news/{doc}",
            "published": day.isoformat(),
        }
        feats.append({"type": "Feature", "geometry": geom, "properties": props})
    places = []
    for k in range(300):
        ctrl = rng.choice(actors[:6])
        places.append({"type": "Feature",
                       "geometry": {"type": "Point", "coordinates": [round(rng.uniform(LON0, LON1), 5),
                                                                     round(rng.uniform(LAT0, LAT1), 5)]},
                       "properties": {"place_id": f"sy-{k}", "place": f"Place {k}", "admin1": rng.choice(ADMIN1),
                                      "controller": ctrl, "status": "held", "history": [
                                          {"controller": ctrl, "status": "held", "start": "2024-11-27",
                                           "end": None, "claimants": [ctrl], "sources": [{"source": "baseline"}]}]}})
    return ({"type": "FeatureCollection", "features": feats},
            {"type": "FeatureCollection", "features": places})


def first_render(path: Path, timeout_s: float = 120.0) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    exe = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
    if not exe:
        return None
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = b.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri(), wait_until="commit", timeout=timeout_s * 1000)
            page.wait_for_function("window.geoeventsReady === true", timeout=timeout_s * 1000, polling=50)
            ms = page.evaluate("window.geoeventsReadyAt")
            if errors:
                print("  page errors:", errors[:3], file=sys.stderr)
            return ms / 1000.0
        finally:
            b.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", help="write the maps into this folder (default: a temp folder)")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args(argv)
    out_dir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_map_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    empty = {"type": "FeatureCollection", "features": []}
    print(f"{'events':>8} {'build s':>8} {'MB':>7} {'render s':>9}  goals (build s / MB / render s)")
    try:
        for n in args.sizes:
            events, control = synthetic(n, args.seed)
            out = out_dir / f"map_{n}.html"
            t = time.perf_counter()
            render_map(events, out, control=control, boundaries=empty, title=f"bench {n}")
            build = time.perf_counter() - t
            mb = out.stat().st_size / 1e6
            render = None if args.no_browser else first_render(out)
            goal = GOALS.get(n)
            goal_s = "  <= %g / <= %g / <= %g" % goal if goal else ""
            if goal:
                ok = build <= goal[0] and mb <= goal[1] and (render is None or render <= goal[2])
                goal_s += "  " + ("met" if ok else "MISSED")
            r = "n/a" if render is None else f"{render:.2f}"
            print(f"{n:>8} {build:>8.2f} {mb:>7.1f} {r:>9}{goal_s}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
