"""Extending the gazetteer from GeoNames dumps and WOF-style tables; the geopy adapter."""
from pathlib import Path

import pytest
from geopy.location import Location

from geoevents.gazetteer import Gazetteer, haversine_km
from geoevents.gazetteer_import import detect_format, import_file
from geoevents.geocoder import GazetteerGeocoder
from geoevents.model import Document
from geoevents.resolver import Resolver

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Two GeoNames rows written for this test: a Lebanese town (another country) and a Syrian
# village spelled as the dump spells it, plus a road row that must be left out.
FIXTURE = "\t".join(["276781", "Baalbek", "Baalbek", "Baalbeck,Balbek,بعلبك", "34.00583",
                     "36.21806", "P", "PPLA", "LB", "", "11", "", "", "", "30916", "", "1170",
                     "Asia/Beirut", "2020-01-01"]) + "\n" + \
    "\t".join(["999001", "Kafr Nubudah", "Kafr Nubudah", "Kafr Nboudeh,Kafrnbouda,كفرنبودة",
               "35.4370", "36.4910", "P", "PPL", "SY", "", "10", "", "", "", "3500", "",
               "300", "Asia/Damascus", "2020-01-01"]) + "\n" + \
    "\t".join(["999002", "M5 Road", "M5 Road", "", "35.0", "36.7", "R", "RD", "SY", "", "",
               "", "", "", "0", "", "", "Asia/Damascus", "2020-01-01"]) + "\n"


def test_geonames_fixture_import_extends_search_and_resolution(tmp_path):
    src = tmp_path / "LB-SY.txt"
    src.write_text(FIXTURE, encoding="utf-8")
    assert detect_format(src) == "geonames"
    n, out = import_file(src, dest=tmp_path / "ext")
    assert n == 2 and out.exists()
    gaz = Gazetteer.load(extra_dirs=[tmp_path / "ext"])
    baalbek = gaz.search("Baalbeck")[0]
    assert baalbek.country == "LB" and baalbek.level == "city"
    village = gaz.search("Kafr Nboudeh")[0]
    assert village.admin1 == "Hama"
    ms = Resolver(gaz)(Document("t", "Jets struck Kafrnbouda and Baalbek."))
    assert {m.place.id for m in ms} == {"gn:999001", "gn:276781"}


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared is absent")
def test_geotext_cities15000_rows_import(tmp_path):
    n, out = import_file(SHARED_DATA / "sy_geonames_cities15000_geotext.txt", dest=tmp_path)
    assert n == 73
    gaz = Gazetteer.load(extra_dirs=[tmp_path])
    yabrud = [p for p in gaz.search("Yabroud", limit=5) if p.id.startswith("gn:")][0]
    assert haversine_km(yabrud.lat, yabrud.lon, 33.967, 36.657) < 1


def test_import_rejects_a_file_without_places(tmp_path):
    src = tmp_path / "junk.txt"
    src.write_text("hello\tworld\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no usable gazetteer rows"):
        import_file(src, dest=tmp_path)


def test_geopy_compatible_geocoder():
    geo = GazetteerGeocoder()
    loc = geo.geocode("Saraqeb")
    assert isinstance(loc, Location) and "Idlib" in loc.address
    assert abs(loc.latitude - 35.86) < 0.05 and abs(loc.longitude - 36.80) < 0.05
    assert len(geo.geocode("Hama", exactly_one=False, limit=3)) >= 2
    assert geo.geocode("Xyzzyqwv") is None
    back = geo.reverse((35.864, 36.806))
    assert back.raw["name"].lower().startswith("sar")
    assert geo.reverse("35.864, 36.806").raw["id"] == back.raw["id"]
