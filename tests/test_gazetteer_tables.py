"""Checks on the committed gazetteer tables (no reference data needed, except the
determinism test, which is skipped when ../shared/data is absent)."""
from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GAZ = REPO / "gazetteer"
CUR = GAZ / "curated"
DATA = REPO.parent / "shared" / "data"

LEVELS = {"country", "admin1", "admin2", "city", "town", "village", "neighbourhood",
          "facility", "road", "region"}
GOVERNORATES = {"Aleppo", "Idlib", "Hama", "Homs", "Latakia", "Tartus", "Damascus",
                "Rif Dimashq", "Daraa", "As-Suwayda", "Quneitra", "Deir ez-Zor", "Raqqa",
                "Al-Hasakah"}
PLACE_COLUMNS = ["id", "name", "level", "lat", "lon", "admin1", "admin2", "population",
                 "gn_id", "wd_id", "names", "names_ar", "source", "common_word"]


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 12742.0 * math.asin(min(1.0, math.sqrt(a)))


PLACES = rows(GAZ / "places.tsv")
DIRECTIONAL = rows(GAZ / "directional.tsv")
CURATED = {p.name: rows(p) for p in sorted(CUR.glob("*.tsv"))
           if not p.name.startswith(("roads", "aliases"))}
ALL = PLACES + DIRECTIONAL + [r for rs in CURATED.values() for r in rs]


def test_places_columns():
    with (GAZ / "places.tsv").open(encoding="utf-8") as fh:
        assert fh.readline().rstrip("\n").split("\t") == PLACE_COLUMNS


def test_levels_valid():
    bad = [(r["id"], r["level"]) for r in ALL if r["level"] not in LEVELS]
    assert not bad


def test_ids_unique():
    ids = [r["id"] for r in ALL]
    dup = {i for i in ids if ids.count(i) > 1} if len(ids) != len(set(ids)) else set()
    assert not dup


def test_rows_sorted_by_id():
    for table in [PLACES, DIRECTIONAL] + list(CURATED.values()):
        ids = [r["id"] for r in table]
        assert ids == sorted(ids)


def test_syrian_rows_inside_bbox():
    for r in ALL:
        if (r.get("country") or "SY") != "SY" or r["id"] in (
                "geoevents:region:middle-east", "geoevents:region:europe"):
            continue
        lat, lon = float(r["lat"]), float(r["lon"])
        assert 32.3 <= lat <= 37.4 and 35.6 <= lon <= 42.4, (r["id"], r["name"], lat, lon)


def test_all_governorates_present():
    admin1 = {r["name"] for r in PLACES if r["level"] == "admin1"}
    assert admin1 == GOVERNORATES
    assert {r["admin1"] for r in PLACES} <= GOVERNORATES
    assert sum(1 for r in PLACES if r["level"] == "admin2") == 62


def test_curated_rows_have_source():
    for name, table in CURATED.items():
        assert table, name
        for r in table:
            assert r["source"].strip(), (name, r["id"])
    for name in ("roads.tsv", "roads_names.tsv"):
        for r in rows(CUR / name):
            assert r["source"].strip(), (name, r)


@pytest.mark.parametrize("name,lat,lon", [
    ("Saraqib", 35.862, 36.800), ("Atarib", 36.139, 36.825), ("Darat Izza", 36.282, 36.852),
    ("Maarat al-Numan", 35.648, 36.677), ("Khan Shaykhun", 35.442, 36.651),
    ("Tal Rifaat", 36.474, 37.097), ("Manbij", 36.527, 37.956), ("Hama", 35.132, 36.758),
    ("Homs", 34.731, 36.685), ("Aleppo", 36.202, 37.161), ("Damascus", 33.511, 36.291),
])
def test_key_places(name, lat, lon):
    hits = [r for r in PLACES if r["name"] == name and r["level"] in ("city", "town", "village")]
    assert hits, name
    assert any(km(lat, lon, float(r["lat"]), float(r["lon"])) < 5 for r in hits), hits


def test_no_syrian_name():
    for r in ALL:
        names = [r["name"]] + r.get("names", "").split("|")
        assert "syrian" not in {n.strip().lower() for n in names}, r["id"]


def test_roads_ordered_waypoints():
    ids = {r["id"] for r in ALL}
    by_road: dict[str, list[dict]] = {}
    for r in rows(CUR / "roads.tsv"):
        by_road.setdefault(r["road"], []).append(r)
        assert r["place_id"] in ids, r
    assert {"M4", "M5"} <= set(by_road)
    for road, pts in by_road.items():
        seqs = [int(p["seq"]) for p in pts]
        assert len(pts) >= 2 and seqs == list(range(1, len(pts) + 1)), road
        for a, b in zip(pts, pts[1:]):  # consecutive waypoints are not far apart
            assert km(float(a["lat"]), float(a["lon"]), float(b["lat"]), float(b["lon"])) < 200
    names = {r["road"] for r in rows(CUR / "roads_names.tsv")}
    assert names == set(by_road)


def test_directional_regions():
    west = [r for r in DIRECTIONAL if r["id"] == "geoevents:directional:west-aleppo"][0]
    assert km(float(west["lat"]), float(west["lon"]), 36.15, 36.95) < 40
    assert "western Aleppo" in west["names"].split("|")
    east_idlib = [r for r in DIRECTIONAL if r["id"] == "geoevents:directional:east-idlib"][0]
    assert km(float(east_idlib["lat"]), float(east_idlib["lon"]), 35.85, 36.9) < 40
    ids = {r["id"] for r in PLACES}
    for r in DIRECTIONAL:
        assert r["parent"] in ids and r["parent_admin1"] in ids
        assert r["direction"] in {"north", "south", "east", "west", "northeast", "northwest",
                                  "southeast", "southwest"}


def test_boundaries_match_places():
    import json
    fc = json.loads((GAZ / "boundaries.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in fc["features"]]
    assert sum(p["level"] == "admin1" for p in props) == 14
    assert sum(p["level"] == "admin2" for p in props) == 62
    by_id = {r["id"]: r for r in PLACES}
    for p in props:
        assert by_id[p["id"]]["name"] == p["name"] and by_id[p["id"]]["level"] == p["level"]
    assert (GAZ / "boundaries.geojson").stat().st_size < 1_000_000


@pytest.mark.skipif(not DATA.is_dir(), reason="reference data ../shared/data not present")
def test_compile_is_deterministic(tmp_path):
    pytest.importorskip("wordfreq")
    subprocess.run([sys.executable, str(GAZ / "compile.py"), "--data", str(DATA),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    for name in ("places.tsv", "directional.tsv", "boundaries.geojson"):
        assert (tmp_path / name).read_bytes() == (GAZ / name).read_bytes(), name


def test_aliases_name_existing_places_and_cite_a_source():
    ids = {r["id"] for r in ALL}
    for r in rows(CUR / "aliases.tsv"):
        assert r["id"] in ids and r["names"] and r["source"], r
