"""A geopy-compatible geocoder over the local gazetteer.

Code that already calls ``geolocator.geocode("Saraqib")`` on a geopy geocoder can swap in
``GazetteerGeocoder()`` and keep working, offline and in microseconds.
"""
from __future__ import annotations

from typing import Optional, Union

from geopy.location import Location

from .gazetteer import Gazetteer, default_gazetteer
from .model import Place


def _location(p: Place) -> Location:
    address = ", ".join(x for x in (p.name, p.admin2, p.admin1,
                                    "Syria" if p.country == "SY" else p.country) if x)
    raw = {"id": p.id, "name": p.name, "level": p.level, "admin1": p.admin1,
           "admin2": p.admin2, "population": p.population, "country": p.country}
    return Location(address, (p.lat, p.lon), raw)


class GazetteerGeocoder:
    """geopy's ``geocode`` / ``reverse`` interface, answered from the local gazetteer."""

    def __init__(self, gazetteer: Optional[Gazetteer] = None):
        self.gazetteer = gazetteer or default_gazetteer()

    def geocode(self, query: str, exactly_one: bool = True, limit: Optional[int] = None
                ) -> Union[Location, list[Location], None]:
        """Best match (or ranked matches) for a place name in any common spelling."""
        places = self.gazetteer.search(query, limit=1 if exactly_one else (limit or 10))
        if not places:
            return None
        return _location(places[0]) if exactly_one else [_location(p) for p in places]

    def reverse(self, query, exactly_one: bool = True) -> Union[Location, list[Location], None]:
        """The nearest populated place to ``(lat, lon)`` (a tuple or "lat, lon" string)."""
        if isinstance(query, str):
            lat, lon = (float(x) for x in query.split(","))
        else:
            lat, lon = (float(x) for x in query)
        place = self.gazetteer.nearest(lat, lon)
        if place is None:
            return None
        return _location(place) if exactly_one else [_location(place)]
