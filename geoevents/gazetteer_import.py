"""Extend the gazetteer from a GeoNames dump or a Who's On First-style TSV.

``geoevents gazetteer import FILE`` converts the file into the project's table format
and saves it among the user's extension tables, which ``Gazetteer.load`` reads after the
shipped ones.  GeoNames dumps (``SY.txt``, ``allCountries.txt``, ``cities15000.txt``) are
headerless 19-column TSV; WOF-style tables have a header with ``wof_id``.
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .export import atomic_write
from .gazetteer import tables_dir, user_dir

COLUMNS = ("id", "name", "level", "lat", "lon", "admin1", "admin2", "population", "gn_id",
           "wd_id", "names", "names_ar", "source", "country")
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_LATIN = re.compile(r"^[\sA-Za-z\u00C0-\u024F\u1E00-\u1EFF'’‘`ʿʾ\-.()]+$")

GEONAMES_LEVELS = {"PPLC": "city", "PPLA": "city", "PPLA2": "town", "PPLA3": "town",
                   "PPLA4": "village", "PPL": "village", "PPLL": "village", "PPLX": "neighbourhood",
                   "PPLQ": "village", "STLMT": "village", "ADM1": "admin1", "ADM2": "admin2",
                   "PCLI": "country", "AIRP": "facility", "AIRB": "facility", "MILB": "facility",
                   "PRN": "facility", "CSTL": "facility", "PSTB": "facility", "RGN": "region",
                   "AREA": "region", "PLN": "region", "VAL": "region", "MTS": "region"}


def clean_names(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split name variants into Latin-script and Arabic-script lists, dropping codes,
    one- and two-letter names, digits and other scripts (the resolver reads English)."""
    latin: dict[str, str] = {}
    arabic: dict[str, None] = {}
    for n in names:
        n = n.strip()
        if len(n) < 3 or any(ch.isdigit() for ch in n):
            continue
        if _ARABIC.search(n):
            arabic.setdefault(n, None)
        elif _LATIN.match(n) and not (n.isupper() and len(n) <= 4):
            latin.setdefault(n.lower(), n)
    return list(latin.values()), list(arabic)


def _level(code: str, population: int) -> Optional[str]:
    level = GEONAMES_LEVELS.get(code)
    if level in ("village", "town") and population >= 100_000:
        return "city"
    if level == "village" and population >= 10_000:
        return "town"
    return level


def read_geonames(path: Path) -> Iterator[dict]:
    """Rows of a GeoNames dump as gazetteer rows (populated places, admin areas, airports,
    bases, prisons and regions; roads and terrain are left out)."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) < 19 or not f[0].isdigit():
                continue
            pop = int(f[14] or 0)
            level = _level(f[7], pop)
            if level is None:
                continue
            latin, arabic = clean_names([f[1], f[2]] + f[3].split(","))
            yield {"id": f"gn:{f[0]}", "name": f[2] or f[1], "level": level,
                   "lat": f[4], "lon": f[5], "admin1": "", "admin2": "", "population": pop,
                   "gn_id": f[0], "wd_id": "", "names": "|".join(latin),
                   "names_ar": "|".join(arabic), "source": f"geonames:{path.name}",
                   "country": f[8]}


def read_wof_tsv(path: Path) -> Iterator[dict]:
    """Rows of a Who's On First-style TSV (the columns of ``sy_gazetteer_wof.tsv``)."""
    levels = {"locality": "town", "neighbourhood": "neighbourhood", "region": "admin1",
              "county": "admin2", "campus": "facility", "country": "country"}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("is_current") == "0" or row.get("deprecated"):
                continue
            level = levels.get(row.get("placetype", ""))
            if level is None:
                continue
            pop = int(float(row.get("population") or 0))
            if level == "town":
                level = _level(row.get("gn_feature_code") or "PPL", pop) or "village"
            latin, arabic = clean_names(
                [row.get("name", "")] + (row.get("names_en") or "").split("|")
                + (row.get("names_other") or "").split("|") + (row.get("names_ar") or "").split("|"))
            if not latin:
                continue
            yield {"id": f"wof:{row['wof_id']}", "name": latin[0], "level": level,
                   "lat": row["lat"], "lon": row["lon"], "admin1": row.get("region") or "",
                   "admin2": row.get("county") or "", "population": pop,
                   "gn_id": row.get("gn_id") or "", "wd_id": row.get("wd_id") or "",
                   "names": "|".join(latin), "names_ar": "|".join(arabic),
                   "source": f"wof:{path.name}", "country": "SY"}


def _assign_admin(rows: list[dict]) -> None:
    """Governorate and district of Syrian rows, by point in polygon."""
    import json
    from shapely.geometry import Point, shape
    path = tables_dir() / "boundaries.geojson"
    if not path.exists():
        return
    polys = [(f["properties"], shape(f["geometry"]))
             for f in json.loads(path.read_text(encoding="utf-8"))["features"]]
    for row in rows:
        if row["country"] != "SY":
            continue
        pt = Point(float(row["lon"]), float(row["lat"]))
        for props, poly in polys:
            if poly.contains(pt):
                key = "admin1" if props["level"] == "admin1" else "admin2"
                if not row[key] or key == "admin1":
                    row[key] = props["name"]


def detect_format(path: Path) -> str:
    """'wof' when the file has a WOF header, else 'geonames'."""
    with path.open(encoding="utf-8") as fh:
        first = fh.readline()
    return "wof" if first.startswith("wof_id") else "geonames"


def import_file(path: str | Path, dest: Optional[Path] = None) -> tuple[int, Path]:
    """Convert a GeoNames or WOF-style file and save it as an extension table."""
    path = Path(path)
    rows = list(read_wof_tsv(path) if detect_format(path) == "wof" else read_geonames(path))
    if not rows:
        raise ValueError(f"{path}: no usable gazetteer rows (expected a GeoNames dump or a "
                         f"WOF-style TSV)")
    _assign_admin(rows)
    rows.sort(key=lambda r: r["id"])
    out = (dest or user_dir()) / f"import-{re.sub(r'[^A-Za-z0-9_.-]', '_', path.stem)}.tsv"
    lines = ["\t".join(COLUMNS)]
    for r in rows:
        lines.append("\t".join(str(r[c]).replace("\t", " ") for c in COLUMNS))
    atomic_write(out, "\n".join(lines) + "\n")
    print(f"imported {len(rows)} places from {path} -> {out}", file=sys.stderr)
    return len(rows), out
