"""The local gazetteer: compiled place tables shipped in the package, indexed by the
transliteration-folding key of every name variant.

Tables are plain TSV under ``gazetteer/`` (installed as ``geoevents.gazetteer_tables``) so
an analyst can add a village with a text editor; ``Gazetteer.load()`` reads them all,
including user extensions imported with ``geoevents gazetteer import``.
"""
from __future__ import annotations

import csv
import hashlib
import math
import os
import pickle
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .model import Place
from .text import fold, plain

LEVEL_RANK = {"country": 9, "city": 8, "admin1": 7, "region": 6, "road": 6, "facility": 5,
              "town": 4, "neighbourhood": 3, "village": 2, "admin2": 1}
QUALIFIED_LEVEL = {"province": "admin1", "governorate": "admin1", "city": "city",
                   "district": "admin2"}
INDEX_VERSION = "7"
QUALIFIER_WORDS = frozenset({"province", "governorate", "city", "district"})


@lru_cache(maxsize=1)
def tables_dir() -> Path:
    """Where the compiled tables live: the installed data package, or ``gazetteer/``
    beside the package when running from a source checkout."""
    try:
        return Path(str(resources.files("geoevents.gazetteer_tables")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "gazetteer"


def user_dir() -> Path:
    """Where ``gazetteer import`` puts extension tables (GEOEVENTS_HOME overrides)."""
    home = os.environ.get("GEOEVENTS_HOME")
    return Path(home) if home else Path.home() / ".local" / "share" / "geoevents"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "geoevents"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(min(1.0, math.sqrt(a)))


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split("|") if v.strip()]


def _rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)


def place_from_row(row: dict) -> Place:
    """Build a Place from a table row (places.tsv, curated layers, imports)."""
    names = [row["name"]] + _split(row.get("names", "")) + _split(row.get("names_ar", ""))
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(n, None)
    return Place(id=row["id"], name=row["name"], level=row["level"],
                 lat=float(row["lat"]), lon=float(row["lon"]),
                 admin1=row.get("admin1") or "", admin2=row.get("admin2") or "",
                 population=int(float(row.get("population") or 0)),
                 names=tuple(seen), country=row["country"] if "country" in row else "SY",
                 parent=row.get("parent") or "")


def _table_files(extra_dirs: Iterable[Path]) -> list[Path]:
    base = tables_dir()
    files = [base / "places.tsv", base / "directional.tsv"]
    files += sorted((base / "curated").glob("*.tsv"))
    for d in extra_dirs:
        files += sorted(Path(d).glob("*.tsv"))
    return [f for f in files if f.exists() and not f.name.startswith(("roads", "aliases"))]


def _load_roads() -> dict[str, tuple[tuple[float, float], ...]]:
    path = tables_dir() / "curated" / "roads.tsv"
    lines: dict[str, list[tuple[int, float, float]]] = {}
    if path.exists():
        for row in _rows(path):
            lines.setdefault(row["road"], []).append((int(row["seq"]), float(row["lon"]),
                                                     float(row["lat"])))
    return {road: tuple((lon, lat) for _, lon, lat in sorted(pts))
            for road, pts in lines.items()}


def _road_places(lines: dict[str, tuple]) -> list[Place]:
    path = tables_dir() / "curated" / "roads_names.tsv"
    out = []
    if path.exists():
        for row in _rows(path):
            line = lines.get(row["road"])
            if not line:
                continue
            mid = line[len(line) // 2]
            out.append(Place(id=f"geoevents:road:{row['road'].lower()}", name=row["name"],
                             level="road", lat=mid[1], lon=mid[0],
                             names=tuple(dict.fromkeys([row["name"], row["road"]]
                                                       + _split(row.get("names", "")))),
                             line=line))
    return out


def _with_aliases(places: list[Place], path: Path) -> list[Place]:
    """Extra names for compiled places (a Kurdish name, a news spelling), kept in a
    hand-edited table so a re-compile never loses them."""
    if not path.exists():
        return places
    extra: dict[str, list[str]] = {}
    for row in _rows(path):
        extra.setdefault(row["id"], []).extend(_split(row["names"]))
    return [replace(p, names=tuple(dict.fromkeys(p.names + tuple(extra[p.id]))))
            if p.id in extra else p for p in places]


class Gazetteer:
    """Places indexed by folded name; ``search`` ranks candidates, ``nearest`` reverses."""

    def __init__(self, places: Iterable[Place]):
        self.places: dict[str, Place] = {}
        self.by_key: dict[str, list[str]] = {}
        self.exact: dict[str, set[str]] = {}
        self.common_words: dict[str, set[str]] = {}
        #: Content hash of the tables it was built from: workers compare it with the client.
        self.version = "unversioned"
        for p in places:
            self.add(p)
        self._automaton = None

    def add(self, place: Place) -> None:
        """Add or replace a place (used by imports and tests)."""
        self.places[place.id] = place
        names = place.names or (place.name,)
        for name in names:
            head, _, last = name.rpartition(" ")
            if last.lower() in QUALIFIER_WORDS and head in names:
                continue  # "Idlib Province": the resolver reads the qualifier itself
            key = fold(name)
            if not key:
                continue
            ids = self.by_key.setdefault(key, [])
            if place.id not in ids:
                ids.append(place.id)
            self.exact.setdefault(place.id, set()).add(plain(name))
        self._automaton = None

    def load_common_words(self, path: Path) -> None:
        """English words that fold like a place name ('Tell', 'Bab'): need place context."""
        if path.exists():
            for row in _rows(path):
                self.common_words.setdefault(row["key"], set()).add(row["word"])

    @classmethod
    def load(cls, extra_dirs: Iterable[Path] | None = None) -> "Gazetteer":
        """Load the shipped tables plus user extensions, through a content-hashed cache."""
        dirs = list(extra_dirs) if extra_dirs is not None else [user_dir()]
        files = _table_files(dirs)
        roads = [tables_dir() / "curated" / n for n in ("roads.tsv", "roads_names.tsv")]
        roads.append(tables_dir() / "common_words.tsv")
        roads.append(tables_dir() / "curated" / "aliases.tsv")
        digest = hashlib.sha256(INDEX_VERSION.encode())
        content = hashlib.sha256(INDEX_VERSION.encode())
        for f in files + [r for r in roads if r.exists()]:
            digest.update(str(f).encode())
            data = f.read_bytes()
            digest.update(data)
            content.update(data)
        cache = _cache_dir() / f"index-{digest.hexdigest()[:16]}.pkl"
        try:
            with cache.open("rb") as fh:
                return pickle.load(fh)
        except (OSError, pickle.PickleError, EOFError, AttributeError):
            pass
        places: list[Place] = []
        for f in files:
            places.extend(place_from_row(r) for r in _rows(f))
        places.extend(_road_places(_load_roads()))
        places = _with_aliases(places, tables_dir() / "curated" / "aliases.tsv")
        gaz = cls(places)
        gaz.version = content.hexdigest()[:12]
        gaz.load_common_words(tables_dir() / "common_words.tsv")
        gaz.automaton  # build before caching
        _atomic_pickle(gaz, cache)
        return gaz

    @property
    def automaton(self):
        """Aho-Corasick automaton over ' key ' patterns, for token-bounded matching."""
        if self._automaton is None:
            import ahocorasick
            auto = ahocorasick.Automaton()
            for key in self.by_key:
                auto.add_word(f" {key} ", key)
            auto.make_automaton()
            self._automaton = auto
        return self._automaton

    def candidates(self, key: str) -> list[Place]:
        return [self.places[i] for i in self.by_key.get(key, ())]

    def search(self, name: str, limit: int = 10, level: Optional[str] = None) -> list[Place]:
        """Places whose names fold like ``name``, best first (spelling, level, population);
        a trailing "province", "city" or "district" selects the level."""
        head, _, last = name.strip().rpartition(" ")
        if head and last.lower() in QUALIFIED_LEVEL:
            name, level = head, level or QUALIFIED_LEVEL[last.lower()]
        key = fold(name)
        cands = self.candidates(key)
        if not cands:
            cands = self.fuzzy(key)
        if level:
            cands = [p for p in cands if p.level == level] or cands
        form = plain(name)
        cands.sort(key=lambda p: (-(form in self.exact.get(p.id, ())),
                                  -LEVEL_RANK.get(p.level, 0), -p.population, p.id))
        return cands[:limit]

    def fuzzy(self, key: str, cutoff: float = 88.0) -> list[Place]:
        """Places whose folded names are within a small edit distance of ``key``."""
        if len(key) < 5:
            return []
        from rapidfuzz import process, fuzz
        hits = process.extract(key, list(self.by_key), scorer=fuzz.ratio,
                                score_cutoff=cutoff, limit=5)
        return [p for k, _, _ in hits for p in self.candidates(k)]

    def nearest(self, lat: float, lon: float, levels: Optional[set[str]] = None) -> Optional[Place]:
        """The closest populated place (or of the given levels) to a point."""
        levels = levels or {"city", "town", "village"}
        best = min((p for p in self.places.values() if p.level in levels),
                   key=lambda p: haversine_km(lat, lon, p.lat, p.lon), default=None)
        return best



def _atomic_pickle(obj, path: Path) -> None:
    from .export import atomic_write
    try:
        atomic_write(path, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only home only costs the next load its build time


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The process-wide gazetteer (loaded once, shared read-only)."""
    return Gazetteer.load()

