"""Core types that flow through the pipeline: Document -> Mention -> Event.

Small, typed and immutable, so the per-document stage stays a pure function that a
process pool or a Dask worker can run and pickle back.  Offsets are Python character
offsets into ``Document.text``, like a spaCy ``Span``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Optional


@dataclass(frozen=True)
class Document:
    """One article: its text and what is known of where and when it was published.

    ``encoding`` is what its bytes were read as (``utf-8``, ``utf-16-le``,
    ``windows-1256`` ...), so a run can report every guessed decoding."""
    id: str
    text: str
    published: Optional[date] = None
    source: Optional[str] = None
    url: Optional[str] = None
    title: Optional[str] = None
    encoding: str = "utf-8"


@dataclass(frozen=True)
class Place:
    """One gazetteer row. ``line`` holds [lon, lat] pairs for roads, else None."""
    id: str
    name: str
    level: str
    lat: float
    lon: float
    admin1: str = ""
    admin2: str = ""
    population: int = 0
    names: tuple[str, ...] = ()
    country: str = "SY"
    parent: str = ""
    line: Optional[tuple[tuple[float, float], ...]] = None


@dataclass(frozen=True, slots=True)
class Mention:
    """A place named in a document, resolved to a gazetteer row.

    ``role`` is "location" or "actor" (a state named as the one acting: "Russia has
    responded"); ``geo_precision`` follows the event contract (1 at the place, 2 near it
    or part of it, 3 province/region/road).
    """
    doc: str
    start: int
    end: int
    text: str
    place: Place
    confidence: float
    role: str = "location"
    geo_precision: int = 1
    candidates: int = 1
    line: Optional[tuple[tuple[float, float], ...]] = None  # road segment, when one is named


@dataclass(frozen=True, slots=True)
class Evidence:
    """The sentence that supports an event, with its offsets in the document."""
    sentence: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Event:
    """One coded happening, traceable to its evidence sentence."""
    id: str
    doc: str
    type: str
    mention: Optional[Mention]
    geo_precision: int
    actor: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    to_actor: tuple[str, ...] = ()
    from_actor: tuple[str, ...] = ()
    date: Optional[date] = None
    date_precision: Optional[str] = None
    date_source: Optional[str] = None
    status: str = "reported"
    attributed_to: tuple[str, ...] = ()
    fatalities: Optional[int] = None
    fatalities_qualifier: Optional[str] = None
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    confidence: float = 0.5
