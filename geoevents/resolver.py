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
from itertools import compress
from operator import itemgetter, not_
from typing import Iterator, Optional

from .lexicons import Caseless, Scanner, lexicon, lexicon_rows, lower
from .gazetteer import Gazetteer, default_gazetteer, haversine_km
from .model import Document, Mention, Place
from .text import Words, fold, fold_word, plain, strip_marks, words

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
_LOWER_IN_NAME = NAME_WORDS | DIRECTIONS
SALIENT_LEVELS = frozenset({"country", "admin1", "city", "region", "road", "facility"})
LEVEL_PRIOR = {"country": 5.0, "city": 3.0, "road": 4.0, "admin1": 3.5, "region": 3.5,
               "facility": 3.0, "town": 1.6, "admin2": 1.0, "neighbourhood": 0.3,
               "village": 0.0}
# Spellings remembered with their candidates; past this the memory starts afresh, which
# keeps a long stream's memory flat and costs a few hundred re-scored names.
SURFACE_CACHE_SIZE = 50_000
ROAD_WORDS = frozenset({"highway", "motorway", "road"})
POPULATED = frozenset({"city", "town", "village"})
QUALIFIER_LEVEL = {"province": "admin1", "provinces": "admin1", "governorate": "admin1",
                   "governorates": "admin1", "city": "city", "town": "town",
                   "village": "village", "district": "admin2", "neighbourhood": "neighbourhood",
                   "neighborhood": "neighbourhood", "airport": "facility",
                   "airbase": "facility", "countryside": "admin1"}
NEAR_CUES = Caseless(r"(?:outskirts of|near|nearby|close to|around|edge of|gates of|"
                     r"\bkm (?:from|of|west of|east of|north of|south of)|kilometres? "
                     r"(?:from|of)|kilometers? (?:from|of)|miles? (?:from|of)|within|"
                     r"(?:north|south|east|west)(?:east|west)? of|toward|towards)\s+(?:the\s+)?"
                     r"(?:(?:city|town|village) of\s+)?$")
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
_COUNTRYSIDE_BEFORE = re.compile(r"(?:countryside of|rural)$")
_KIND_OF_BEFORE = re.compile(r"(?:city|town|village|province|governorate|neighbou?rhood) of$")
_HELD_BEFORE = re.compile(r"(?:rebel|opposition|government|regime)[- ]held$|held$")
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


def masked_spans(low: str) -> list[tuple[int, int]]:
    """Multi-word group names ("Hayat Tahrir al-Sham") whose words must not be places, in
    ``lower(text)``."""
    return [m.span() for m in _masked_scan().finditer(low)[0]
            if " " in m.group() or "-" in m.group()]


_RADIANS = math.pi / 180.0      # what math.radians multiplies by: the same results


def _nearest_km(p: Place, anchors: list[tuple[float, float]]) -> float:
    """Equirectangular distance to the nearest (lat, lon) anchor: exact enough to rank
    candidates, several times faster than great circles."""
    lat, lon, cos, hypot = p.lat, p.lon, math.cos, math.hypot
    return min(hypot((lon - alon) * 111.32 * cos((lat + alat) / 2 * _RADIANS),
                     (lat - alat) * 110.57) for alat, alon in anchors)


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
        self._surface_cache: dict[tuple[str, str], tuple] = {}

    def __call__(self, doc: Document) -> list[Mention]:
        text = doc.text
        low = lower(text)
        toks = words(text)
        spans = self._detect(text, low, toks)
        spans = self._misspelled(text, toks, spans)
        self._qualify(text, low, toks, spans)
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
    def _runs(self, text: str, toks: Words) -> Iterator[list[int]]:
        """Runs of words that can make up a name, around each word that does not start
        in lower case (token indices).

        A lower-case everyday word can never start or continue a name, so only the words
        between two of them can; articles (no key) are read through.  Most of a text is
        such words, and only the runs are folded and searched."""
        texts = toks.text
        n = len(texts)
        if not n:
            return
        firsts = "".join(itemgetter(*toks.start)(text)) if n > 1 else text[toks.start[0]]
        upper = compress(range(n), map(not_, map(str.islower, firsts)))

        def inside(j: int) -> bool:    # a lower-case word a name can hold
            return texts[j] in _LOWER_IN_NAME or not fold_word(texts[j])

        hi = -1
        for i in upper:
            if i <= hi:
                continue
            lo = i
            while lo - 1 > hi and inside(lo - 1):
                lo -= 1
            hi = i
            while hi + 1 < n and (not texts[hi + 1][:1].islower() or inside(hi + 1)):
                hi += 1
            yield list(range(lo, hi + 1))

    def _detect(self, text: str, low: str, toks: Words) -> list[_Span]:
        keyed, parts, starts = [], [], {}
        pos = 0
        for run in self._runs(text, toks):
            keys = [(i, fold_word(toks.text[i])) for i in run]
            keys = [(i, k) for i, k in keys if k]
            if not any(not toks.text[i][:1].isascii() or toks.text[i][:1].isupper()
                       for i, _ in keys):
                continue        # no capitalised word: no name the guards would accept
            for i, key in keys:
                starts[pos] = len(keyed)
                keyed.append(i)
                parts.append(key)
                pos += len(key) + 1
            keyed.append(-1)    # runs are apart: "#" is no key's word
            parts.append("#")
            pos += 2
        keystr = " " + " ".join(parts) + " "
        masked = masked_spans(low) if parts else []
        found: list[_Span] = []
        tstart, tend, ttext = toks.start, toks.end, toks.text
        for end, key in self.gaz.automaton.iter(keystr):
            begin = end - len(key) - 1          # index of the leading space
            k0 = starts.get(begin)
            if k0 is None:
                continue
            k1 = k0 + key.count(" ")
            i0, i1 = keyed[k0], keyed[k1]
            # include a leading article joined to the name ("al-Bab", "Al Qamishli")
            if i0 > 0 and not fold_word(ttext[i0 - 1]) and tend[i0 - 1] >= tstart[i0] - 1:
                if ttext[i0 - 1][:1].isupper() or text[tend[i0 - 1]] == "-":
                    i0 -= 1
            surface = text[tstart[i0]:tend[i1]]
            cands, exact, common = self._by_spelling(surface, key)
            if not cands or not self._accept(text, toks, i0, i1, keyed[k0:k1 + 1], masked):
                continue
            if common:
                cands = [p for p in cands if p.id in exact and p.level in SALIENT_LEVELS] or \
                    (cands if self._place_context(text, toks, i0, i1) else [])
            if cands:
                span = _Span(i0, i1, key, cands)
                span.extra["exact"] = exact
                span.extra["form"] = plain(surface)
                found.append(span)
        found.sort(key=lambda s: (tstart[s.i0], -(tend[s.i1] - tstart[s.i0])))
        chosen: list[_Span] = []
        last_end = -1
        for s in found:
            if tstart[s.i0] >= last_end:
                chosen.append(s)
                last_end = tend[s.i1]
        # two one-word "places" side by side ("Mazloum Abdi") are a person's name
        pairs = {i for i in range(len(chosen) - 1)
                 if chosen[i].i0 == chosen[i].i1 and chosen[i + 1].i0 == chosen[i + 1].i1
                 and chosen[i + 1].i0 == chosen[i].i1 + 1
                 and text[tend[chosen[i].i1]:tstart[chosen[i + 1].i0]] == " "}
        drop = pairs | {i + 1 for i in pairs}
        return [s for i, s in enumerate(chosen) if i not in drop]

    def _misspelled(self, text: str, toks: Words, spans: list[_Span]) -> list[_Span]:
        """Guarded fuzzy fallback: a capitalised name that the text itself calls a place
        ("the town of Saraqibb") but that no gazetteer key holds gets the closest names
        within a small edit distance."""
        taken = {i for sp in spans for i in range(sp.i0, sp.i1 + 1)}
        for m in _PLACE_CUE.finditer(text):
            i0 = bisect_left(toks.start, m.start(1))
            if i0 == len(toks.start) or toks.start[i0] != m.start(1) or i0 in taken:
                continue
            i1 = i0
            while i1 + 1 < len(toks.start) and toks.start[i1 + 1] <= m.end(1) - 1:
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
        spans.sort(key=lambda sp: toks.start[sp.i0])
        return spans

    def _accept(self, text: str, toks: Words, i0: int, i1: int, keyed: list[int],
                masked: list[tuple[int, int]]) -> bool:
        """Guards that keep a key match only where the text names a place; ``keyed``
        are its words with a key (not articles).  Lower-case everyday words inside it
        never reach here (see ``_runs``)."""
        names = [toks.text[i] for i in keyed]
        first = names[0]
        # cheapest and most selective first: place names are capitalised (or Arabic)
        if not (first[:1].isupper() or not first[:1].isascii() and first[:1].isalpha()
                or first[:1].isdigit() or first.lower() in DIRECTIONS):
            return False
        if not any(w[:1].isupper() or not w[:1].isascii() for w in names):
            return False
        if len(names) == 1:
            if plain(first) in not_places() and keyed[0] == i0:
                return False    # "Bab" alone is a gate; "al-Bab" is the town
            if first.isupper() and len(first) <= 4 and not first[-1].isdigit():
                return False   # acronyms: SDF, HTS, SAA ... (M5 keeps its digit)
        start, end = toks.start[i0], toks.end[i1]
        if _PUNCT_INSIDE.search(text, start, end):
            return False
        if _PERSON_TITLE.search(text, max(0, start - 60), start) or \
                _NAME_TAIL.match(text, end):
            return False  # "leader Mazloum Abdi", "Hadi al-Bahra": a person
        if _INSIDE_NAME.search(text, max(0, start - 40), start) or keyed[0] != i0 and \
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
            scores = [(p, self._spelling(surface, p)) for p in self.gaz.candidates(key)]
            hit = ([p for p, score in scores if score],
                   frozenset(p.id for p, score in scores if score == 1.0),
                   self._common_word(surface, key))
            if len(self._surface_cache) >= SURFACE_CACHE_SIZE:
                self._surface_cache.clear()     # a stream of millions of documents
            self._surface_cache[(surface, key)] = hit
        return hit

    def _spelling(self, text: str, place: Place) -> float:
        """How close the written form is to one of the place's names: 1.0 for the same
        light form, else a similarity ratio; 0.0 when the key match is a coincidence."""
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
    def _place_context(text: str, toks: Words, i0: int, i1: int) -> bool:
        before = text[max(0, toks.start[i0] - 30):toks.start[i0]].lower()
        after = text[toks.end[i1]:toks.end[i1] + 25].lower()
        return bool(re.search(r"(?:town|village|city|district|area|province) of\s+$|"
                              r"\b(?:in|near|at|into|from|outskirts of)\s+$", before)
                    or re.match(r"\s+(?:province|countryside|district|governorate|airport)",
                                after))

    # -- qualifiers ------------------------------------------------------------
    def _qualify(self, text: str, low: str, toks: Words, spans: list[_Span]) -> None:
        tstart, tend = toks.start, toks.end
        near_cue = NEAR_CUES.searcher(low)
        for n, s in enumerate(spans):
            nxt = toks.text[s.i1 + 1].lower() if s.i1 + 1 < len(tstart) else ""
            prev2 = " ".join(t.lower() for t in toks.text[max(0, s.i0 - 2):s.i0])
            if nxt in QUALIFIER_LEVEL:
                s.qualifier = QUALIFIER_LEVEL[nxt]
            if nxt == "countryside" or _COUNTRYSIDE_BEFORE.search(prev2):
                s.extra["countryside"] = True
            elif _KIND_OF_BEFORE.search(prev2):
                s.qualifier = QUALIFIER_LEVEL.get(prev2.split()[-2])
            elif _HELD_BEFORE.search(prev2):
                s.qualifier = "admin1"
            if near_cue(max(0, tstart[s.i0] - 60), tstart[s.i0]):
                s.near = True
        # "Aleppo and Idlib provinces": the plural qualifier covers the whole list
        for a, b in zip(spans, spans[1:]):
            between = text[tend[a.i1]:tstart[b.i0]]
            if b.qualifier == "admin1" and re.fullmatch(r"\s*(?:,|and|,\s*and)\s*", between) \
                    and a.qualifier is None:
                a.qualifier = "admin1"
        # "Aleppo's Rashidin neighbourhood": the first name is the context of the second
        for a, b in zip(spans, spans[1:]):
            if text[tend[a.i1]:tstart[b.i0]] in ("'s ", "’s "):
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
        points = [(a.lat, a.lon) for a in {a.id: a for a in anchors}.values()]
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
            ranked = sorted(((self._score(p, s, points, admin1s), p.id, p) for p in s.cands),
                            key=lambda t: (-t[0], t[1]))
            if not ranked:
                continue
            s.chosen = ranked[0][2]
            s.score_margin = ranked[0][0] - ranked[1][0] if len(ranked) > 1 else 3.0
            sense[(name, s.qualifier)] = sense[(name, "*")] = s.chosen

    @staticmethod
    def _score(p: Place, s: _Span, anchors: list[tuple[float, float]], admin1s: set[str]
               ) -> float:
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
            score += 1.5 * math.exp(-_nearest_km(p, anchors) / 60.0)
        return score

    # -- output ----------------------------------------------------------------
    def _mention(self, doc: Document, text: str, toks: Words, s: _Span) -> Mention:
        p = s.chosen
        start, end = toks.start[s.i0], toks.end[s.i1]
        # the span is the name: "the Ghouta" -> "Ghouta", "the M5 highway" -> "M5"
        if s.i1 > s.i0 and toks.text[s.i0].lower() == "the":
            start = toks.start[s.i0 + 1]
        if p.level == "road" and s.i1 > s.i0 and toks.text[s.i1].lower() in ROAD_WORDS:
            end = toks.end[s.i1 - 1]
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

    def _segment(self, text: str, toks: Words, s: _Span, road: Place) -> Optional[tuple]:
        """'the M5 between Saraqib and Maarat al-Numan': the stretch between two places."""
        tail = text[toks.end[s.i1]:toks.end[s.i1] + 120]
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
