"""Resolver: find place mentions in a document and resolve each to a gazetteer row.

Detection folds every word of the text with the same key the gazetteer uses and runs
one Aho-Corasick pass over the folded words, so every transliteration is found in a
single linear scan.  Guards (capitalisation, punctuation inside a name, common English
words, names of people and groups) keep precision; disambiguation scores each candidate
on its level, population, the qualifier around it ("province", "city", "airport"),
the governorates named in the document and distance to the document's other places,
with one sense per name per document.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Optional

from .lexicons import Scanner, lexicon, lexicon_rows, lower
from .gazetteer import Gazetteer, default_gazetteer, haversine_km
from .model import Document, Mention, Place
from .text import Token, fold, plain, strip_marks, tokens

DIRECTIONS = frozenset({"north", "south", "east", "west", "northern", "southern", "eastern",
                        "western", "northeast", "northwest", "southeast", "southwest",
                        "northeastern", "northwestern", "southeastern", "southwestern",
                        "north-east", "north-west", "south-east", "south-west", "central",
                        "rural", "greater", "the"})
# Lower-case words allowed inside a multi-word place name.
NAME_WORDS = frozenset({"countryside", "province", "governorate", "city", "airport", "airbase",
                        "air", "base", "highway", "motorway", "road", "crossing", "border",
                        "prison", "international", "military", "of", "and", "plain",
                        "mountains", "heights", "desert", "old", "new", "district", "camp"})
SALIENT_LEVELS = frozenset({"country", "admin1", "city", "region", "road", "facility"})
LEVEL_PRIOR = {"country": 5.0, "city": 3.0, "road": 4.0, "admin1": 3.5, "region": 3.5,
               "facility": 3.0, "town": 1.6, "admin2": 1.0, "neighbourhood": 0.3,
               "village": 0.0}
ROAD_WORDS = frozenset({"highway", "motorway", "road"})
POPULATED = frozenset({"city", "town", "village"})
QUALIFIER_LEVEL = {"province": "admin1", "provinces": "admin1", "governorate": "admin1",
                   "governorates": "admin1", "city": "city", "town": "town",
                   "village": "village", "district": "admin2", "neighbourhood": "neighbourhood",
                   "neighborhood": "neighbourhood", "airport": "facility",
                   "airbase": "facility", "countryside": "admin1"}
NEAR_CUES = re.compile(r"(?:outskirts of|near|nearby|close to|around|edge of|gates of|"
                       r"\bkm (?:from|of|west of|east of|north of|south of)|kilometres? "
                       r"(?:from|of)|kilometers? (?:from|of)|miles? (?:from|of)|within|"
                       r"(?:north|south|east|west)(?:east|west)? of|toward|towards)\s+(?:the\s+)?"
                       r"(?:(?:city|town|village) of\s+)?$", re.I)
LOCATIVE = re.compile(r"\b(?:in|into|inside|across|at|near|from|to|toward|towards|within|"
                      r"throughout|on|of|over)\s+(?:the\s+)?(?:northern\s+|southern\s+|"
                      r"eastern\s+|western\s+)?$", re.I)
ACTOR_VERB = re.compile(r"^\s*(?:,[^,]{0,80},\s*)?(?:has|have|had|is|was|will|would|"
                        r"said|says|fears|feared|responded|warned|backs|backed|supports|"
                        r"supported|struck|launched|denied|condemned|called|wants|sees|"
                        r"faces|threatened|intervened|announced|accused|demanded|sent|"
                        r"deployed|urged|mediated|brokered|controls|to\s+\w+)\b", re.I)
_PUNCT_INSIDE = re.compile(r"[^\w\s'’‘`ʿʾ\-–]")
_PLACE_CUE = re.compile(r"\b(?:town|village|city|district|neighbou?rhood|suburb|area) of "
                        r"((?:(?:al|el|as|ash|ad|an|ar|az)-)?[A-Z][\w'’]{3,}"
                        r"(?:[\s-](?:(?:al|el|as|ash|ad|an|ar|az)[\s-])?[A-Z][\w'’]+)?)")
_PERSON_TITLE = re.compile(r"\b(?:President|[Ll]eader|[Cc]ommander|[Mm]inister|[Ee]nvoy|"
                           r"[Ss]pokes(?:man|woman|person)|General|Gen\.|Colonel|Brigadier|"
                           r"[Cc]hief|Secretary|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|named|[Jj]ournalist|"
                           r"[Aa]ctivist|[Cc]leric|[Ee]mir|[Pp]remier)\s+(?:[A-Z][\w'’-]+\s+){0,2}$")
_NAME_TAIL = re.compile(r"[\s-]+(?:al|el|ad|ash|as|ar|az|at|an|bin|ibn)[\s-]+[A-Z]")
_FUNCTION_WORD = r"(?!(?:In|At|On|From|Near|To|Of|And|The|For|By|With|Into|Outside|Around)\b)"
_INSIDE_NAME_ARTICLE = re.compile(r"\b" + _FUNCTION_WORD + r"[A-Z][\w'’]+[\s-]+$")
_INSIDE_NAME = re.compile(r"\b" + _FUNCTION_WORD + r"[A-Z][\w'’]+[\s-]+(?:al|el|ad|ash|as|ar|az|at|an|bin|ibn|abu|abd)"
                          r"[\s-]+$")


@lru_cache(maxsize=1)
def not_places() -> frozenset[str]:
    """Capitalised words that are never places (people, groups, months)."""
    return frozenset(plain(row[0]) for row in lexicon_rows("not_places.txt"))


MASKED_ACTORS = frozenset({"hts", "opposition", "faction:opposition", "sna", "sdf",
                           "iran_backed_militias", "isis",
                           "hezbollah", "southern_operations_room"})


@lru_cache(maxsize=1)
def _masked_scan() -> Scanner:
    groups = [rx.pattern for actor, rx in lexicon().actor_nouns if actor in MASKED_ACTORS]
    groups += [r"\b(?:" + row[0].lower() + r")\b" for row in lexicon_rows("organisations.txt")]
    return Scanner([re.compile("|".join(f"(?:{g})" for g in groups))])


def masked_spans(text: str) -> list[tuple[int, int]]:
    """Multi-word group names ("Hayat Tahrir al-Sham") whose words must not be places."""
    return [m.span() for m in _masked_scan().finditer(lower(text))[0]
            if " " in m.group() or "-" in m.group()]


def _approx_km(a: Place, b: Place) -> float:
    """Equirectangular distance: exact enough to rank candidates, several times faster."""
    dx = (a.lon - b.lon) * 111.32 * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, (a.lat - b.lat) * 110.57)


@dataclass
class _Span:
    i0: int          # first token index
    i1: int          # last token index (inclusive)
    key: str
    cands: list[Place]
    qualifier: Optional[str] = None
    near: bool = False
    chosen: Optional[Place] = None
    score_margin: float = 0.0
    extra: dict = field(default_factory=dict)


class Resolver:
    """Callable pipeline component: ``Resolver()(doc) -> list[Mention]``."""

    def __init__(self, gazetteer: Optional[Gazetteer] = None):
        self.gaz = gazetteer or default_gazetteer()
        self._spell_cache: dict[tuple[str, str], float] = {}
        self._surface_cache: dict[tuple[str, str], tuple] = {}

    def __call__(self, doc: Document) -> list[Mention]:
        text = doc.text
        toks = tokens(text)
        spans = self._detect(text, toks)
        spans = self._misspelled(text, toks, spans)
        self._qualify(text, toks, spans)
        self._disambiguate(spans)
        mentions = [self._mention(doc, text, toks, s) for s in spans if s.chosen]
        for i in range(1, len(mentions)):
            # "fled to Lebanon and Turkey", "mediated by Russia and Turkey": a foreign place
            # coordinated with the one before it plays the same role
            a, b = mentions[i - 1], mentions[i]
            if b.place.country != "SY" and a.place.country != "SY" and \
                    re.fullmatch(r"\s*(?:,|and|,\s*and|or)\s*", text[a.end:b.start]):
                mentions[i] = replace(b, role=a.role)
        return mentions

    # -- detection -------------------------------------------------------------
    def _detect(self, text: str, toks: list[Token]) -> list[_Span]:
        keyed = [i for i, t in enumerate(toks) if t.key]
        parts, starts = [], {}
        pos = 0
        for k, i in enumerate(keyed):
            starts[pos] = k
            # a lower-case everyday word can never start or continue a name: it gets a
            # key no pattern holds, so the automaton reports only name-like runs
            word = toks[i].text
            key = toks[i].key if (not word[:1].islower() or word in NAME_WORDS
                                  or word in DIRECTIONS) else "#"
            parts.append(key)
            pos += len(key) + 1
        keystr = " " + " ".join(parts) + " "
        masked = masked_spans(text)
        found: list[_Span] = []
        for end, key in self.gaz.automaton.iter(keystr):
            begin = end - len(key) - 1          # index of the leading space
            k0 = starts.get(begin)
            if k0 is None:
                continue
            k1 = k0 + key.count(" ")
            i0, i1 = keyed[k0], keyed[k1]
            # include a leading article joined to the name ("al-Bab", "Al Qamishli")
            if i0 > 0 and not toks[i0 - 1].key and toks[i0 - 1].end >= toks[i0].start - 1:
                if toks[i0 - 1].text[:1].isupper() or text[toks[i0 - 1].end] == "-":
                    i0 -= 1
            surface = text[toks[i0].start:toks[i1].end]
            cands, exact, common = self._by_spelling(surface, key)
            if not cands or not self._accept(text, toks, i0, i1, key, masked):
                continue
            if common:
                cands = [p for p in cands if p.id in exact and p.level in SALIENT_LEVELS] or \
                    (cands if self._place_context(text, toks, i0, i1) else [])
            if cands:
                span = _Span(i0, i1, key, cands)
                span.extra["exact"] = exact
                span.extra["form"] = plain(surface)
                found.append(span)
        found.sort(key=lambda s: (toks[s.i0].start, -(toks[s.i1].end - toks[s.i0].start)))
        chosen: list[_Span] = []
        last_end = -1
        for s in found:
            if toks[s.i0].start >= last_end:
                chosen.append(s)
                last_end = toks[s.i1].end
        # two one-word "places" side by side ("Mazloum Abdi") are a person's name
        pairs = {i for i in range(len(chosen) - 1)
                 if chosen[i].i0 == chosen[i].i1 and chosen[i + 1].i0 == chosen[i + 1].i1
                 and chosen[i + 1].i0 == chosen[i].i1 + 1
                 and text[toks[chosen[i].i1].end:toks[chosen[i + 1].i0].start] == " "}
        drop = pairs | {i + 1 for i in pairs}
        return [s for i, s in enumerate(chosen) if i not in drop]

    def _misspelled(self, text: str, toks: list[Token], spans: list[_Span]) -> list[_Span]:
        """Guarded fuzzy fallback: a capitalised name that the text itself calls a place
        ("the town of Saraqibb") but that no gazetteer key holds gets the closest names
        within a small edit distance."""
        taken = {i for sp in spans for i in range(sp.i0, sp.i1 + 1)}
        starts = {t.start: i for i, t in enumerate(toks)}
        for m in _PLACE_CUE.finditer(text):
            i0 = starts.get(m.start(1))
            if i0 is None or i0 in taken:
                continue
            i1 = i0
            while i1 + 1 < len(toks) and toks[i1 + 1].start <= m.end(1) - 1:
                i1 += 1
            key = fold(m.group(1))
            if not key or key in self.gaz.by_key or plain(m.group(1)) in not_places() or \
                    m.group(1).lower() in self.gaz.common_words.get(key, ()):
                continue
            cands = self.gaz.fuzzy(key)
            if cands:
                span = _Span(i0, i1, key, cands)
                span.extra["fuzzy"] = True
                spans.append(span)
                taken.update(range(i0, i1 + 1))
        spans.sort(key=lambda sp: toks[sp.i0].start)
        return spans

    def _accept(self, text: str, toks: list[Token], i0: int, i1: int, key: str,
                masked: list[tuple[int, int]]) -> bool:
        """Guards that keep a key match only where the text names a place."""
        words = [t for t in toks[i0:i1 + 1] if t.key]
        first = words[0].text
        # cheapest and most selective first: place names are capitalised (or Arabic)
        if not (first[:1].isupper() or not first[:1].isascii() and first[:1].isalpha()
                or first[:1].isdigit() or first.lower() in DIRECTIONS):
            return False
        if not any(w.text[:1].isupper() or not w.text[:1].isascii() for w in words):
            return False
        for w in words[1:]:
            low = w.text.lower()
            if not (w.text[:1].isupper() or w.text[:1].isdigit() or not w.text[:1].isascii()
                    or low in NAME_WORDS or low in DIRECTIONS):
                return False
        if len(words) == 1:
            word = words[0]
            if plain(word.text) in not_places() and toks[i0].key:
                return False    # "Bab" alone is a gate; "al-Bab" is the town
            if word.text.isupper() and len(word.text) <= 4 and not word.text[-1].isdigit():
                return False   # acronyms: SDF, HTS, SAA ... (M5 keeps its digit)
        start, end = toks[i0].start, toks[i1].end
        if _PUNCT_INSIDE.search(text, start, end):
            return False
        if _PERSON_TITLE.search(text, max(0, start - 60), start) or \
                _NAME_TAIL.match(text, end):
            return False  # "leader Mazloum Abdi", "Hadi al-Bahra": a person
        if _INSIDE_NAME.search(text, max(0, start - 40), start) or not toks[i0].key and \
                _INSIDE_NAME_ARTICLE.search(text, max(0, start - 40), start):
            return False  # "Jabal Zayn al-Abidin": the tail of a longer unknown name
        if text[end:end + 1] in ("-", "‐") and text[end + 1:end + 2].isalpha() or \
                text[start - 1:start] in ("-", "‐") and text[start - 2:start - 1].isalpha():
            return False  # attributive: "Iran-backed", "Damascus-Russian efforts"
        # masked spans are sorted and disjoint: only the last one starting before the
        # name's end can overlap it
        i = bisect_left(masked, (end,)) - 1
        return i < 0 or masked[i][1] <= start

    def _by_spelling(self, surface: str, key: str) -> tuple[list[Place], frozenset, bool]:
        """Candidates whose names are spelled close enough to the surface, those spelled
        exactly like it, and whether it is an everyday English word; cached per surface."""
        hit = self._surface_cache.get((surface, key))
        if hit is None:
            cands = [p for p in self.gaz.candidates(key) if self._spelling(surface, p)]
            exact = frozenset(p.id for p in cands if self._spelling(surface, p) == 1.0)
            hit = self._surface_cache[(surface, key)] = (cands, exact,
                                                        self._common_word(surface, key))
        return hit

    def _spelling(self, text: str, place: Place) -> float:
        """How close the written form is to one of the place's names: 1.0 for the same
        light form, else a similarity ratio; 0.0 when the key match is a coincidence."""
        cached = self._spell_cache.get((text, place.id))
        if cached is None:
            cached = self._spell_cache[(text, place.id)] = self._spelling_score(text, place)
        return cached

    def _spelling_score(self, text: str, place: Place) -> float:
        from rapidfuzz import fuzz
        form = plain(text)
        names = self.gaz.exact.get(place.id, ())
        if form in names:
            return 1.0
        best = max((fuzz.ratio(form, n) for n in names), default=0.0) / 100
        need = 0.85 if len(form) <= 5 else 0.75
        return best if best >= need else 0.0

    def _common_word(self, text: str, key: str) -> bool:
        """An everyday English word ('Civilian', 'Source', 'Turkey') that folds like a place."""
        return " " not in text and strip_marks(text).lower() in self.gaz.common_words.get(key, ())

    @staticmethod
    def _place_context(text: str, toks: list[Token], i0: int, i1: int) -> bool:
        before = text[max(0, toks[i0].start - 30):toks[i0].start].lower()
        after = text[toks[i1].end:toks[i1].end + 25].lower()
        return bool(re.search(r"(?:town|village|city|district|area|province) of\s+$|"
                              r"\b(?:in|near|at|into|from|outskirts of)\s+$", before)
                    or re.match(r"\s+(?:province|countryside|district|governorate|airport)",
                                after))

    # -- qualifiers ------------------------------------------------------------
    def _qualify(self, text: str, toks: list[Token], spans: list[_Span]) -> None:
        for n, s in enumerate(spans):
            nxt = toks[s.i1 + 1].text.lower() if s.i1 + 1 < len(toks) else ""
            prev2 = " ".join(t.text.lower() for t in toks[max(0, s.i0 - 2):s.i0])
            if nxt in QUALIFIER_LEVEL:
                s.qualifier = QUALIFIER_LEVEL[nxt]
            if nxt == "countryside" or re.search(r"(?:countryside of|rural)$", prev2):
                s.extra["countryside"] = True
            elif re.search(r"(?:city|town|village|province|governorate|neighbou?rhood) of$",
                           prev2):
                s.qualifier = QUALIFIER_LEVEL.get(prev2.split()[-2])
            elif re.search(r"(?:rebel|opposition|government|regime)[- ]held$|held$", prev2):
                s.qualifier = "admin1"
            before = text[max(0, toks[s.i0].start - 60):toks[s.i0].start]
            if NEAR_CUES.search(before):
                s.near = True
        # "Aleppo and Idlib provinces": the plural qualifier covers the whole list
        for a, b in zip(spans, spans[1:]):
            between = text[toks[a.i1].end:toks[b.i0].start]
            if b.qualifier == "admin1" and re.fullmatch(r"\s*(?:,|and|,\s*and)\s*", between) \
                    and a.qualifier is None:
                a.qualifier = "admin1"
        # "Aleppo's Rashidin neighbourhood": the first name is the context of the second
        for a, b in zip(spans, spans[1:]):
            if text[toks[a.i1].end:toks[b.i0].start] in ("'s ", "’s "):
                b.extra["within"] = a

    # -- disambiguation --------------------------------------------------------
    def _disambiguate(self, spans: list[_Span]) -> None:
        anchors: list[Place] = []
        admin1s: set[str] = set()
        for s in spans:
            syrian = [p for p in s.cands if p.country == "SY"]
            if len(s.cands) == 1 or (len({(p.level, p.admin1) for p in s.cands}) == 1):
                p = s.cands[0]
                if p.country == "SY":
                    anchors.append(p)
                    if p.level in ("city", "admin1") and p.admin1:
                        admin1s.add(p.admin1)
            elif syrian and all(p.level in ("city", "admin1") for p in syrian):
                admin1s.add(syrian[0].admin1)
        anchors = list({a.id: a for a in anchors}.values())
        sense: dict[tuple[str, Optional[str]], Place] = {}
        for s in spans:
            name = s.extra.get("form", s.key)     # one sense per name as written
            memo = sense.get((name, s.qualifier)) or (sense.get((name, "*"))
                                                       if s.qualifier is None else None)
            if memo is not None and "within" not in s.extra:
                s.chosen, s.score_margin = memo, 3.0
                continue
            if len(s.cands) == 1:
                s.chosen, s.score_margin = s.cands[0], 3.0
                sense[(name, s.qualifier)] = sense[(name, "*")] = s.chosen
                continue
            ranked = sorted(((self._score(p, s, anchors, admin1s), p.id, p) for p in s.cands),
                            key=lambda t: (-t[0], t[1]))
            if not ranked:
                continue
            s.chosen = ranked[0][2]
            s.score_margin = ranked[0][0] - ranked[1][0] if len(ranked) > 1 else 3.0
            sense[(name, s.qualifier)] = sense[(name, "*")] = s.chosen

    @staticmethod
    def _score(p: Place, s: _Span, anchors: list[Place], admin1s: set[str]) -> float:
        score = LEVEL_PRIOR.get(p.level, 0.0)
        if p.level in POPULATED:
            score += 0.4 * math.log10(p.population + 10)
        if s.qualifier and p.level == s.qualifier:
            score += 4.0
        if p.id in s.extra.get("exact", ()):
            score += 2.5        # "Daraya" is Darayya, not Daraa, though both fold alike
        if p.country == "SY":
            score += 0.5
        within = s.extra.get("within")
        if within is not None and within.chosen is not None:
            d = haversine_km(p.lat, p.lon, within.chosen.lat, within.chosen.lon)
            score += 5.0 if d < 15 else -2.0
            if p.level in ("neighbourhood", "facility"):
                score += 2.0
        if p.admin1 and p.admin1 in admin1s:
            score += 1.0
        if anchors and p.level not in ("country", "admin1", "region", "road"):
            d = min(_approx_km(p, a) for a in anchors)
            score += 1.5 * math.exp(-d / 60.0)
        return score

    # -- output ----------------------------------------------------------------
    def _mention(self, doc: Document, text: str, toks: list[Token], s: _Span) -> Mention:
        p = s.chosen
        start, end = toks[s.i0].start, toks[s.i1].end
        # the span is the name: "the Ghouta" -> "Ghouta", "the M5 highway" -> "M5"
        if s.i1 > s.i0 and toks[s.i0].text.lower() == "the":
            start = toks[s.i0 + 1].start
        if p.level == "road" and s.i1 > s.i0 and toks[s.i1].text.lower() in ROAD_WORDS:
            end = toks[s.i1 - 1].end
        role = "location"
        if p.country != "SY" or (p.level == "country" and p.country != "SY"):
            before = text[max(0, start - 30):start]
            if not LOCATIVE.search(before) and ACTOR_VERB.match(text[end:end + 100]) \
                    or re.search(r"\b(?:by|with|between)\s+$", before):
                role = "actor"
        precision = {"country": 3, "admin1": 3, "road": 3, "admin2": 3}.get(p.level, 1)
        if p.level == "region":
            precision = 2 if p.parent else 3
        if (s.near or s.extra.get("countryside")) and precision in (1, 3) and \
                p.level not in ("country", "road", "region"):
            precision = 2       # "near X", "the Aleppo countryside": part of it, not at it
        conf = 0.95 if s.score_margin >= 3.0 else 0.55 + 0.4 * math.tanh(s.score_margin / 2)
        exact = plain(text[start:end]) in self.gaz.exact.get(p.id, ())
        if not exact:
            conf *= 0.6 if s.extra.get("fuzzy") else 0.9
        line = self._segment(text, toks, s, p) if p.level == "road" else None
        return Mention(doc=doc.id, start=start, end=end, text=text[start:end], place=p,
                       confidence=round(conf, 3), role=role, geo_precision=precision,
                       candidates=len(s.cands), line=line or p.line)

    def _segment(self, text: str, toks: list[Token], s: _Span, road: Place) -> Optional[tuple]:
        """'the M5 between Saraqib and Maarat al-Numan': the stretch between two places."""
        tail = text[toks[s.i1].end:toks[s.i1].end + 120]
        m = re.match(r"\s*(?:highway|motorway|road)?\s*(?:between|from)\s+(.+?)\s+(?:and|to)\s+"
                     r"(.+?)(?=[,.;]|\s+(?:in|on|at|near|which|that|was|is|has)\b|$)", tail)
        if not m or not road.line:
            return None
        ends = []
        for name in m.group(1, 2):
            hits = self.gaz.search(name, limit=1)
            if not hits:
                return None
            ends.append(hits[0])
        idx = [min(range(len(road.line)),
                   key=lambda i, e=e: haversine_km(e.lat, e.lon, road.line[i][1], road.line[i][0]))
               for e in ends]
        lo, hi = sorted(idx)
        if hi == lo:
            return None
        return tuple(road.line[lo:hi + 1])
