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
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import accumulate, compress, repeat
from operator import add, itemgetter
from typing import NamedTuple, Optional

from .lexicons import (Caseless, Scanner, lexicon, lexicon_rows, literal_matches, lower,
                       word_trie)
from .gazetteer import Gazetteer, default_gazetteer, haversine_km
from .model import Document, Mention, Place
from .text import ARTICLES, Words, fold, fold_word, is_arabic, plain, strip_marks, word_characters

DIRECTIONS = frozenset({"north", "south", "east", "west", "northern", "southern", "eastern",
                        "western", "northeast", "northwest", "southeast", "southwest",
                        "northeastern", "northwestern", "southeastern", "southwestern",
                        "north-east", "north-west", "south-east", "south-west", "central",
                        "rural", "greater", "the"})
# Lower-case words allowed inside a multi-word place name.
NAME_WORDS = frozenset({"countryside", "province", "governorate", "city", "airport", "airbase",
                        "air", "base", "highway", "motorway", "road", "crossing", "border",
                        "prison", "international", "military", "of", "and", "plain",
                        "mountains", "heights", "desert", "old", "new", "district", "camp", "dam",
                        "valley", "river", "lake"})
_LOWER_IN_NAME = NAME_WORDS | DIRECTIONS
# A run of words that can make up a name, in ``word_characters`` text after a space: a
# word that does not start in lower case, then more such words and the lower-case words
# a name can hold (see Resolver._runs).  Opening with the space lets the engine skip to
# the next space at C speed instead of testing every letter.
_NOT_LOWER = r"[^a-z '\u00df-\u00f6\u00f8-\u00ff]"
_LINKS = _LOWER_IN_NAME | ARTICLES
_RUN = re.compile(r" (" + _NOT_LOWER + r"[^ ]*(?: +(?:" + _NOT_LOWER + r"[^ ]*|(?:"
                  + word_trie(_LINKS) + r")(?= |$)))*)")
# read in the text reversed, from a run's start: the name words before it ("the city of"),
# and the two words before a run
_LINKS_BEFORE = re.compile(r"(?: +(?:" + word_trie(w[::-1] for w in _LINKS) + r")(?= |$))*")
_TWO_WORDS_BEFORE = re.compile(r"(?: +[^ ]+){1,2}")
_WORD_AFTER = re.compile(r" *[^ ]*")
SALIENT_LEVELS = frozenset({"country", "admin1", "city", "region", "road", "facility"})
LEVEL_PRIOR = {"country": 5.0, "city": 3.0, "road": 4.0, "admin1": 3.5, "region": 3.5,
               "facility": 3.0, "town": 1.6, "admin2": 1.0, "neighbourhood": 0.3,
               "village": 0.0}
# Spellings remembered with their candidates, and runs of words with the names in them;
# past this many of either the memory starts afresh, which keeps a long stream's memory
# flat and costs a few hundred re-scored names.
SURFACE_CACHE_SIZE = 50_000
# levels placed without regard to the document's other places, and the most that
# nearness to them adds to a candidate's score
_UNANCHORED = frozenset({"country", "admin1", "region", "road"})
_NEAR_BONUS = 1.5
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
# The last word of every NEAR_CUES match, with the words that can come before it there
# (None: any): a cheap test on the two words before a name
_DISTANCES = frozenset({"km", "kilometre", "kilometres", "kilometer", "kilometers", "mile",
                        "miles"})
_COMPASS_OF = frozenset(a + b for a in ("north", "south", "east", "west")
                        for b in ("", "east", "west"))
NEAR_ENDS: dict[str, Optional[frozenset[str]]] = {
    "near": None, "nearby": None, "around": None, "within": None, "toward": None,
    "towards": None, "to": frozenset({"close"}), "from": _DISTANCES,
    "of": _DISTANCES | _COMPASS_OF | {"outskirts", "edge", "gates", "city", "town", "village"},
    "the": frozenset({"of", "near", "nearby", "to", "around", "from", "within", "toward",
                      "towards"})}
LOCATIVE = re.compile(r"\b(?:in|into|inside|across|at|near|from|to|toward|towards|within|"
                      r"throughout|on|of|over)\s+(?:the\s+)?(?:northern\s+|southern\s+|"
                      r"eastern\s+|western\s+)?$", re.I)
ACTOR_VERB = re.compile(r"^\s*(?:,[^,]{0,80},\s*)?(?:has|have|had|is|was|will|would|"
                        r"said|says|fears|feared|responded|warned|backs|backed|supports|began|begins|started|"
                        r"supported|struck|launched|denied|condemned|called|wants|sees|"
                        r"faces|threatened|intervened|announced|accused|demanded|sent|"
                        r"deployed|urged|mediated|brokered|controls|to\s+\w+)\b", re.I)
_PUNCT_INSIDE = re.compile(r"[^\w\s'’‘`ʿʾ\-–]")
_PLACE_CUE = re.compile(r"\b(?:town|village|city|district|neighbou?rhood|suburb|area) of "
                        r"((?:(?:al|el|as|ash|ad|an|ar|az)-)?[A-Z][\w'’]{3,}"
                        r"(?:[\s-](?:(?:al|el|as|ash|ad|an|ar|az)[\s-])?[A-Z][\w'’]+)?)")
_TITLE = (r"\b(?:President|[Ll]eader|[Cc]ommander|[Mm]inister|[Ee]nvoy|"
          r"[Ss]pokes(?:man|woman|person)|General|Gen\.|Colonel|Brigadier|"
          r"[Cc]hief|Secretary|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|named|[Jj]ournalist|"
          r"[Aa]ctivist|[Cc]leric|[Ee]mir|[Pp]remier)\s")
# "envoy Staffan de Mistura": a title, then up to three names and their particles
_PERSON_TITLE = re.compile(_TITLE + r"\s*(?:(?:[A-Z][\w'’-]+|de|van|von|di|da|du|le|la)\s+)"
                           r"{0,3}$")
# One pass over a document finds the "town of X" cues and the titles, so that the title
# regex runs only before names with a title in reach
_TEXT_SCAN = Scanner([_PLACE_CUE, re.compile(_TITLE)])
# the short words that join the parts of an Arabic name ("Hadi al-Bahra")
_NAME_LINKS = ("al", "el", "ad", "ash", "as", "ar", "az", "at", "an", "bin", "ibn")
_INNER_LINKS = _NAME_LINKS + ("abu", "abd")
_NAME_TAIL = re.compile(r"[\s-]+(?:" + "|".join(_NAME_LINKS) + r")[\s-]+[A-Z]")
_FUNCTION_WORD = r"(?!(?:In|At|On|From|Near|To|Of|And|The|For|By|With|Into|Outside|Around)\b)"
_INSIDE_NAME_ARTICLE = re.compile(r"\b" + _FUNCTION_WORD + r"[A-Z][\w'’]+[\s-]+$")
# "the X of Name": the kinds of place that qualify the name
_KINDS = ("city", "town", "village", "province", "governorate", "neighbourhood",
          "neighborhood")
_INSIDE_NAME = re.compile(r"\b" + _FUNCTION_WORD + r"[A-Z][\w'’]+[\s-]+(?:"
                          + "|".join(_INNER_LINKS) + r")[\s-]+$")
_LISTED = re.compile(r"\s*(?:,|and|,\s*and)\s*")
_LISTED_OR = re.compile(r"\s*(?:,|and|,\s*and|or)\s*")
_AGENT_BEFORE = re.compile(r"\b(?:by|with|between)\s+$")
_PLACE_BEFORE = re.compile(r"(?:town|village|city|district|area|province) of\s+$|"
                           r"\b(?:in|near|at|into|from|outskirts of|captured|seized|shelled|"
                           r"bombed|struck|stormed|entered|besieged|encircled|retook|"
                           r"recaptured|overran)\s+$")
_PLACE_AFTER = re.compile(r"\s+(?:province|countryside|district|governorate|airport)")
_SEGMENT = re.compile(r"\s*(?:highway|motorway|road)?\s*(?:between|from)\s+(.+?)\s+(?:and|to)\s+"
                      r"(.+?)(?=[,.;]|\s+(?:in|on|at|near|which|that|was|is|has)\b|$)")
_PRECISION = {"country": 3, "admin1": 3, "road": 3, "admin2": 3}


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
    return Scanner([re.compile(g) for g in groups])


def masked_spans(low: str) -> list[tuple[int, int]]:
    """Multi-word group names ("Hayat Tahrir al-Sham") whose words must not be places, in
    ``lower(text)``: the matches of the groups' alternation (the first group that matches
    at a place names it)."""
    return [m.span() for m in _masked_scan().first_of(low)
            if " " in m.group() or "-" in m.group()]


_LETTERS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _group_names_by_word() -> Optional[dict[str, frozenset[str]]]:
    """Each word of the multi-word group names that ``masked_spans`` finds, with the
    names that hold it; None when a group's pattern is not a finite set of literals.

    An article inside a group name ("Jaish al-Islam") is left out: a group name that
    covers the article of a place name ("al-Bab") covers the word after it too, which is
    looked up; unless the group name ends with the article, which none does."""
    by_word: dict[str, set[str]] = {}
    for rx in _masked_scan().patterns:
        names = literal_matches(rx)
        if names is None:
            return None
        for name in names:
            if " " in name or "-" in name:
                words = _LETTERS.findall(name)
                if words[-1] in ARTICLES:
                    return None
                for word in words:
                    if word not in ARTICLES:
                        by_word.setdefault(word, set()).add(name)
    return {word: frozenset(names) for word, names in by_word.items()}


def _groups_holding(surface: str) -> Optional[tuple[str, ...]]:
    """The group names that could hide this written place name ("Sham" in "Hayat Tahrir
    al-Sham"): a group name hides a name only where the document holds it, so where
    none of them is in the text, the document's group names need not be looked for.
    None when any could."""
    by_word = _group_names_by_word()
    if by_word is None:
        return None
    return tuple(sorted({name for word in _LETTERS.findall(lower(surface))
                         for name in by_word.get(word, ())}))


def _hidden(masked: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether a masked span overlaps the name at ``start:end``; masked spans are sorted
    and disjoint, so only the last one starting before the name's end can."""
    i = bisect_left(masked, (end,)) - 1
    return i >= 0 and masked[i][1] > start


# a word's length -> the offset of the next word in ``word_characters`` text split at
# single spaces (see Resolver._runs)
_PLUS_ONE = (1).__add__

# kilometres per degree of longitude and of latitude at Syria's middle latitude (35° N)
_KM_X = 111.32 * math.cos(math.radians(35.0))
_KM_Y = 110.57


def _projected(p: Place) -> tuple[float, float]:
    """A place in kilometres on an equirectangular projection at 35° N: distances on it
    are within 4 % of the true ones across Syria (32-37° N), enough to rank candidates."""
    return p.lon * _KM_X, p.lat * _KM_Y


# capitalised English words that open a sentence before a name (transliterated articles
# such as "As", "An", "At" fold to nothing and never reach this test)
_ENGLISH_LEADS = frozenset({"In", "On", "From", "To", "Of", "By", "For", "With", "Into", "Near",
                            "Outside", "Around", "And", "But", "Or", "If", "Since", "After",
                            "Before", "During", "While", "Across", "Inside", "Over"})


def _well_formed(surface: str, names: list[str], articled: bool) -> bool:
    """The guards that read only the name as written (so their verdict is remembered with
    its spelling): place names are capitalised (or Arabic), not acronyms, and hold no
    punctuation.  ``names``: its words with a key; ``articled``: it starts with an
    article ("al-Bab")."""
    first = names[0]
    if not (first[:1].isupper() or not first[:1].isascii() and first[:1].isalpha()
            or first[:1].isdigit() or first.lower() in DIRECTIONS):
        return False
    if not any(w[:1].isupper() or not w[:1].isascii() for w in names):
        return False
    if len(names) > 1 and first in _ENGLISH_LEADS:
        return False        # "In Deraa, gunmen ...": not the village of Ain Dara
    if len(names) == 1:
        if plain(first) in not_places() and not articled:
            return False    # "Bab" alone is a gate; "al-Bab" is the town
        if first.isupper() and len(first) <= 4 and not first[-1].isdigit():
            return False   # acronyms: SDF, HTS, SAA ... (M5 keeps its digit)
    return not _PUNCT_INSIDE.search(surface)


def _context_of(cands: list[Place]) -> tuple[Optional[Place], str]:
    """What a name tells of its document's whereabouts whichever sense wins: the Syrian
    place when its candidates agree on level and governorate (an anchor for the others),
    and the governorate of a city or province."""
    if len(cands) == 1 or len({(p.level, p.admin1) for p in cands}) == 1:
        p = cands[0]
        if p.country != "SY":
            return None, ""
        return p, p.admin1 if p.level in ("city", "admin1", "region") else ""
    syrian = [p for p in cands if p.country == "SY"]
    if syrian and all(p.level in ("city", "admin1") for p in syrian):
        return None, syrian[0].admin1
    return None, ""


class _Spelling(NamedTuple):
    """What is known of a written name whatever its context, remembered per spelling."""
    cands: list[Place]          # places spelled close enough
    scored: list[tuple[float, Place, tuple[float, float]]]  # see Resolver._static_scores
    context: tuple[Optional[Place], str]    # _context_of(cands)
    exact: frozenset            # ids of those spelled exactly like it
    form: str                   # its plain form
    well_formed: bool           # see _well_formed
    groups: Optional[tuple[str, ...]]   # see _groups_holding
    salient: Optional[list]     # for an everyday English word, the salient exact places


class _RunHit(NamedTuple):
    """A key matched in a run of words, with what its spelling alone decides."""
    first: int                  # token offsets from the run's first token
    last: int
    key: str
    articled: bool              # the name starts with an article ("al-Bab")
    spelling: _Spelling


@dataclass(slots=True)
class _Span:
    i0: int          # first token index
    i1: int          # last token index (inclusive)
    key: str
    cands: list[Place]
    scored: list[tuple[float, Place, tuple[float, float]]]  # see Resolver._static_scores
    context: tuple[Optional[Place], str]    # _context_of(cands)
    exact: frozenset = frozenset()
    form: Optional[str] = None          # the name as written, plain; None when fuzzy
    fuzzy: bool = False
    qualifier: Optional[str] = None
    near: bool = False
    countryside: bool = False
    within: Optional["_Span"] = None    # "Aleppo's Rashidin": the place named before
    chosen: Optional[Place] = None
    score_margin: float = 0.0


class Resolver:
    """Callable pipeline component: ``Resolver()(doc) -> list[Mention]``."""

    def __init__(self, gazetteer: Optional[Gazetteer] = None):
        self.gaz = gazetteer or default_gazetteer()
        self._surface_cache: dict[tuple[str, str], _Spelling] = {}
        self._run_cache: dict[str, tuple[_RunHit, ...]] = {}

    def __call__(self, doc: Document) -> list[Mention]:
        text = doc.text
        low = lower(text)
        cues, titles = _TEXT_SCAN.finditer(text)
        toks, runs = self._runs(text, [m.start(1) for m in cues])
        spans = self._detect(text, low, toks, runs, titles)
        spans = self._misspelled(text, toks, spans, cues)
        self._qualify(text, low, toks, spans)
        self._disambiguate(spans)
        mentions = [self._mention(doc, text, toks, s) for s in spans if s.chosen]
        for i in range(1, len(mentions)):
            # "fled to Lebanon and Turkey", "mediated by Russia and Turkey": a foreign place
            # coordinated with the one before it plays the same role
            a, b = mentions[i - 1], mentions[i]
            if b.place.country != "SY" and a.place.country != "SY" and \
                    _LISTED_OR.fullmatch(text[a.end:b.start]):
                mentions[i] = replace(b, role=a.role)
        return mentions

    def _split_conjunctions(self, toks: Words, first: int) -> None:
        """Arabic writes "and" as a prefix: "وأريحا" is "and Ariha".  A word (from token
        ``first`` on) starting with و whose rest begins a gazetteer name, and which does
        not itself ("وادي بردى"), becomes two tokens."""
        auto = self.gaz.automaton
        ttext, tstart, tend = toks
        i = first
        while i < len(ttext):
            t = ttext[i]
            if len(t) > 3 and t[0] == "و" and not auto.match(" " + fold_word(t)):
                rest = fold_word(t[1:])
                if rest and auto.match(" " + rest):
                    ttext[i:i + 1] = ["و", t[1:]]
                    tstart.insert(i + 1, tstart[i] + 1)
                    tend.insert(i, tstart[i] + 1)
                    i += 1
            i += 1

    # -- detection -------------------------------------------------------------
    def _runs(self, text: str, cued: list[int]
              ) -> tuple[Words, list[tuple[int, int, Optional[tuple[_RunHit, ...]]]]]:
        """The runs of words that can make up a name, as word tokens with offsets: each
        run's first and last token index and the hits remembered for it (None for a run
        not read before).  With each run come the words around it that the guards and
        qualifiers read (two before, one after), and no other words.

        A lower-case everyday word can never start or continue a name, so only the words
        between two of them can: a run holds a word that does not start in lower case,
        and reads through articles and the lower-case words a name can hold.  Most of a
        text is everyday words, and most runs have been read before and hold no name:
        neither becomes tokens (unless a "town of X" cue at ``cued`` starts in the run: see
        ``_misspelled``).  Arabic script has no case: all of it is runs."""
        chars = word_characters(text)
        toks = Words([], [], [])
        ttext, tstart, tend = toks
        runs: list[tuple[int, int, Optional[tuple[_RunHit, ...]]]] = []
        arabic = not text.isascii() and is_arabic(text)
        cache = self._run_cache
        n = len(chars)
        backwards = chars[::-1]
        taken = 0                   # where the last token taken ends
        for m in _RUN.finditer(" " + chars):
            lo, end = m.start(1) - 1, m.end(1) - 1
            lo = n - _LINKS_BEFORE.match(backwards, n - lo).end()
            hits = cache.get(text[lo:end])
            if hits == ():
                if not cued:
                    continue
                c = bisect_left(cued, lo)
                if c == len(cued) or cued[c] >= end:
                    continue
            before = _TWO_WORDS_BEFORE.match(backwards, n - lo, n - taken)
            first = n - before.end() if before else lo
            base = len(ttext)
            words = chars[first:_WORD_AFTER.match(chars, end).end()].split(" ")
            ttext += filter(None, words)
            tstart += compress(accumulate(map(_PLUS_ONE, map(len, words)), initial=first), words)
            tend += map(add, tstart[base:], map(len, ttext[base:]))
            taken = tend[-1]
            if arabic:
                self._split_conjunctions(toks, base)
            runs.append((bisect_left(tstart, lo, base), bisect_left(tend, end, base), hits))
        return toks, runs

    def _detect(self, text: str, low: str, toks: Words,
                runs: list[tuple[int, int, Optional[tuple[_RunHit, ...]]]],
                titles: list[re.Match]) -> list[_Span]:
        ttext, tstart, tend = toks
        known: list[tuple[int, tuple[_RunHit, ...]]] = []     # (first token, its hits)
        unknown: list[tuple[int, int]] = []
        for lo, hi, hits in runs:
            if hits is None:
                unknown.append((lo, hi))
            elif hits:
                known.append((lo, hits))
        if unknown:
            known += self._search_runs(text, toks, unknown)
        if not known:
            return []
        masked: Optional[list[tuple[int, int]]] = None      # found when first needed
        title_at = [m.start() for m in titles]
        found: list[_Span] = []
        for lo, hits in known:
            for first, last, key, articled, spelling in hits:
                i0, i1 = lo + first, lo + last
                if not self._in_context(text, toks, i0, i1, articled, titles, title_at):
                    continue
                if spelling.groups is None or spelling.groups and \
                        any(g in low for g in spelling.groups):
                    if masked is None:
                        masked = masked_spans(low)
                    if _hidden(masked, tstart[i0], tend[i1]):
                        continue
                cands, scored, context = spelling.cands, spelling.scored, spelling.context
                if spelling.salient is not None:
                    cands = spelling.salient or \
                        (cands if self._place_context(text, toks, i0, i1) else [])
                    if cands:
                        context = _context_of(cands)
                        ids = {p.id for p in cands}
                        scored = [x for x in scored if x[1].id in ids]
                if cands:
                    found.append(_Span(i0, i1, key, cands, scored, context, spelling.exact,
                                       spelling.form))
        found.sort(key=lambda s: (tstart[s.i0], -(tend[s.i1] - tstart[s.i0])))
        chosen: list[_Span] = []
        last_end = -1
        for s in found:
            if tstart[s.i0] >= last_end:
                chosen.append(s)
                last_end = tend[s.i1]
        # two capitalised one-word "places" side by side ("Mazloum Abdi") are a person's
        # name (Arabic script has no capitals: "مدينة سراقب" is the city of Saraqib)
        pairs = {i for i in range(len(chosen) - 1)
                 if chosen[i].i0 == chosen[i].i1 and chosen[i + 1].i0 == chosen[i + 1].i1
                 and chosen[i + 1].i0 == chosen[i].i1 + 1
                 and text[tend[chosen[i].i1]:tstart[chosen[i + 1].i0]] == " "
                 and ttext[chosen[i].i0][:1].isascii()}
        drop = pairs | {i + 1 for i in pairs}
        return [s for i, s in enumerate(chosen) if i not in drop]

    def _search_runs(self, text: str, toks: Words, runs: list[tuple[int, int]]
                     ) -> list[tuple[int, tuple[_RunHit, ...]]]:
        """Every gazetteer key in the runs (first and last token indices), in one pass of
        the automaton over their folded words, with the spellings that pass the guards
        reading only the name; remembered per run as written (nothing here reads outside
        the run: a leading article is in the run of the name it precedes)."""
        ttext, tstart, tend = toks
        keyed, parts, starts, found = [], [], {}, []
        pos = 0
        for lo, hi in runs:
            hits: list[_RunHit] = []
            found.append((lo, hits))
            keys = [(i, k) for i in range(lo, hi + 1) if (k := fold_word(ttext[i]))]
            if not any(not ttext[i][:1].isascii() or ttext[i][:1].isupper() for i, _ in keys):
                keys = []       # no capitalised word: no name the guards would accept
            for i, key in keys:
                starts[pos] = len(keyed)
                keyed.append((i, lo, hits))
                parts.append(key)
                pos += len(key) + 1
            keyed.append(None)      # runs are apart: "#" is no key's word
            parts.append("#")
            pos += 2
        cache = self._surface_cache
        for end, key in self.gaz.automaton.iter(" " + " ".join(parts) + " "):
            k0 = starts.get(end - len(key) - 1)     # the key's leading space
            if k0 is None:
                continue
            k1 = k0 + key.count(" ")
            (i0, lo, hits), i1 = keyed[k0], keyed[k1][0]
            # include a leading article joined to the name ("al-Bab", "Al Qamishli")
            if i0 > lo and not fold_word(ttext[i0 - 1]) and tend[i0 - 1] >= tstart[i0] - 1:
                if ttext[i0 - 1][:1].isupper() or text[tend[i0 - 1]] == "-":
                    i0 -= 1
            articled = i0 != keyed[k0][0]
            surface = text[tstart[i0]:tend[i1]]
            spelling = cache.get((surface, key)) or self._spelling_of(
                surface, key, [ttext[k[0]] for k in keyed[k0:k1 + 1]], articled)
            if spelling.cands and spelling.well_formed:
                hits.append(_RunHit(i0 - lo, i1 - lo, key, articled, spelling))
        if len(self._run_cache) + len(runs) > SURFACE_CACHE_SIZE:
            self._run_cache.clear()
        for (lo, hi), (_, hits) in zip(runs, found):
            self._run_cache[text[tstart[lo]:tend[hi]]] = tuple(hits)
        return [(lo, tuple(hits)) for lo, hits in found if hits]

    def _misspelled(self, text: str, toks: Words, spans: list[_Span], cues: list[re.Match]
                    ) -> list[_Span]:
        """Guarded fuzzy fallback: a capitalised name that the text itself calls a place
        ("the town of Saraqibb") but that no gazetteer key holds gets the closest names
        within a small edit distance; ``cues``: the matches of ``_PLACE_CUE``."""
        taken = {i for sp in spans for i in range(sp.i0, sp.i1 + 1)}
        for m in cues:
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
                spans.append(_Span(i0, i1, key, cands, self._static_scores(cands, frozenset()),
                                   _context_of(cands), fuzzy=True))
                taken.update(range(i0, i1 + 1))
        spans.sort(key=lambda sp: toks.start[sp.i0])
        return spans

    @staticmethod
    def _in_context(text: str, toks: Words, i0: int, i1: int, articled: bool,
                    titles: list[re.Match], title_at: list[int]) -> bool:
        """Guards that read the words around a name (see ``_well_formed`` for the name
        itself); each regex runs only where a cheap test shows it could match."""
        start, end = toks.start[i0], toks.end[i1]
        # a title ending in reach before the name: "leader Mazloum Abdi" is a person
        k = bisect_left(title_at, start - 60)
        if k < len(titles) and titles[k].end() <= start and \
                _PERSON_TITLE.search(text, max(0, start - 60), start):
            return False
        ttext = toks.text
        if i1 + 1 < len(ttext) and ttext[i1 + 1] in _NAME_LINKS and _NAME_TAIL.match(text, end):
            return False  # "Hadi al-Bahra": a person
        if i0 and (ttext[i0 - 1] in _INNER_LINKS and
                   _INSIDE_NAME.search(text, max(0, start - 40), start) or
                   articled and not ttext[i0 - 1].islower() and
                   _INSIDE_NAME_ARTICLE.search(text, max(0, start - 40), start)):
            return False  # "Jabal Zayn al-Abidin": the tail of a longer unknown name
        # attributive: "Iran-backed", "Damascus-Russian efforts"
        return not (text[end:end + 1] in ("-", "‐") and text[end + 1:end + 2].isalpha() or
                    text[start - 1:start] in ("-", "‐") and text[start - 2:start - 1].isalpha())

    def _spelling_of(self, surface: str, key: str, names: list[str], articled: bool
                     ) -> _Spelling:
        """Candidates whose names are spelled close enough to the surface, those spelled
        exactly like it, and the verdicts that need nothing but the spelling; remembered
        per spelling (``names`` and ``articled`` follow from it: see ``_well_formed``)."""
        scores = [(p, self._spelling(surface, p)) for p in self.gaz.candidates(key)]
        cands = [p for p, score in scores if score]
        exact = frozenset(p.id for p, score in scores if score == 1.0)
        salient = [p for p in cands if p.id in exact and p.level in SALIENT_LEVELS] \
            if self._common_word(surface, key) else None
        form = plain(surface)
        hit = _Spelling(cands, self._static_scores(cands, exact, form),
                        _context_of(cands) if cands else (None, ""), exact, form,
                        _well_formed(surface, names, articled), _groups_holding(surface),
                        salient)
        if len(self._surface_cache) >= SURFACE_CACHE_SIZE:
            self._surface_cache.clear()     # a stream of millions of documents
        self._surface_cache[(surface, key)] = hit
        return hit

    def _spelling(self, text: str, place: Place) -> float:
        """How close the written form is to one of the place's names: 1.0 for the same
        light form, else a similarity ratio; 0.0 when the key match is a coincidence."""
        from rapidfuzz import fuzz, process
        form = plain(text)
        names = self.gaz.exact.get(place.id, ())
        if form in names:
            return 1.0
        hit = process.extractOne(form, names, scorer=fuzz.ratio)
        best = (hit[1] if hit else 0.0) / 100
        need = 0.85 if len(form) <= 5 else 0.75
        return best if best >= need else 0.0

    def _common_word(self, text: str, key: str) -> bool:
        """An everyday English word ('Civilian', 'Source', 'Turkey') that folds like a place."""
        return " " not in text and strip_marks(text).lower() in self.gaz.common_words.get(key, ())

    @staticmethod
    def _place_context(text: str, toks: Words, i0: int, i1: int) -> bool:
        before = text[max(0, toks.start[i0] - 30):toks.start[i0]].lower()
        after = text[toks.end[i1]:toks.end[i1] + 25].lower()
        return bool(_PLACE_BEFORE.search(before) or _PLACE_AFTER.match(after))

    # -- qualifiers ------------------------------------------------------------
    def _qualify(self, text: str, low: str, toks: Words, spans: list[_Span]) -> None:
        ttext, tstart, tend = toks
        near_cue = NEAR_CUES.searcher(low)
        n = len(ttext)
        for s in spans:
            nxt = ttext[s.i1 + 1].lower() if s.i1 + 1 < n else ""
            if nxt in QUALIFIER_LEVEL:
                s.qualifier = QUALIFIER_LEVEL[nxt]
            prev = ttext[s.i0 - 1].lower() if s.i0 else ""
            kind = ttext[s.i0 - 2].lower() if prev == "of" and s.i0 > 1 else ""
            if nxt == "countryside" or prev.endswith("rural") or \
                    kind.endswith("countryside"):
                s.countryside = True                # "the countryside of Idlib", "rural Hama"
            elif kind.endswith(_KINDS):
                s.qualifier = QUALIFIER_LEVEL.get(kind)     # "the city of Hama"
            elif prev.endswith("held"):
                s.qualifier = "admin1"              # "rebel-held Idlib"
            if prev in NEAR_ENDS:
                before = NEAR_ENDS[prev]
                if before is None or s.i0 > 1 and (kind or ttext[s.i0 - 2].lower()) in before:
                    start = tstart[s.i0]
                    if near_cue(max(0, start - 60), start):
                        s.near = True
        for a, b in zip(spans, spans[1:]):
            between = text[tend[a.i1]:tstart[b.i0]]
            # "Aleppo and Idlib provinces": the plural qualifier covers the whole list
            if b.qualifier == "admin1" and _LISTED.fullmatch(between) and a.qualifier is None:
                a.qualifier = "admin1"
            # "Aleppo's Rashidin neighbourhood": the first name is the context of the second
            if between in ("'s ", "’s "):
                b.within = a

    # -- disambiguation --------------------------------------------------------
    def _disambiguate(self, spans: list[_Span]) -> None:
        anchors: list[Place] = []
        admin1s: set[str] = set()
        for s in spans:
            anchor, admin1 = s.context
            if anchor is not None:
                anchors.append(anchor)
            if admin1:
                admin1s.add(admin1)
        points = [_projected(a) for a in {a.id: a for a in anchors}.values()]
        sense: dict[tuple[str, Optional[str]], Place] = {}
        for s in spans:
            name = s.key if s.form is None else s.form    # one sense per name as written
            memo = sense.get((name, s.qualifier)) or (sense.get((name, "*"))
                                                       if s.qualifier is None else None)
            if memo is not None and s.within is None:
                s.chosen, s.score_margin = memo, 3.0
                continue
            if len(s.cands) == 1:
                s.chosen, s.score_margin = s.cands[0], 3.0
                sense[(name, s.qualifier)] = sense[(name, "*")] = s.chosen
                continue
            (best, _, s.chosen), *rest = self._ranked(s, points, admin1s)
            s.score_margin = best - rest[0][0] if rest else 3.0
            sense[(name, s.qualifier)] = sense[(name, "*")] = s.chosen

    def _ranked(self, s: _Span, anchors: list[tuple[float, float]], admin1s: set[str]
                ) -> list[tuple[float, str, Place]]:
        """The two best candidates (score, id, place), best first: each candidate's static
        score plus what the document adds, the qualifier, the place named before it
        ("Aleppo's Rashidin"), the governorates named and nearness to the document's other
        places.  Candidates come best static score first, so the walk stops at the first
        one that cannot reach the second best even with every addition; nearness costs
        the most and is computed only for candidates that could still be among the two."""
        level = s.qualifier
        within = s.within.chosen if s.within is not None else None
        ceiling = (4.0 if level else 0.0) + (7.0 if within is not None else 0.0) + \
            (1.0 if admin1s else 0.0) + (_NEAR_BONUS if anchors else 0.0)
        first = second = None       # ((-score, id), place): ties go to the smaller id
        for score, p, xy in s.scored:
            if second is not None and score + ceiling < -second[0][0]:
                break
            if level and p.level == level:
                score += 4.0
            if within is not None:
                d = haversine_km(p.lat, p.lon, within.lat, within.lon)
                score += 5.0 if d < 15 else -2.0
                if p.level in ("neighbourhood", "facility"):
                    score += 2.0
            if p.admin1 and p.admin1 in admin1s:
                score += 1.0
            if anchors and p.level not in _UNANCHORED:
                if second is not None and score + _NEAR_BONUS < -second[0][0]:
                    continue
                score += _NEAR_BONUS * math.exp(-min(map(math.dist, repeat(xy), anchors)) / 60.0)
            key = (-score, p.id)
            if first is None or key < first[0]:
                first, second = (key, p), first
            elif second is None or key < second[0]:
                second = (key, p)
        return [(-key[0], key[1], place) for key, place in filter(None, (first, second))]

    @staticmethod
    def _static_scores(cands: list[Place], exact: frozenset, form: Optional[str] = None
                       ) -> list[tuple[float, Place, tuple[float, float]]]:
        """Each candidate with the score its spelling alone decides (its level and
        population, whether it is spelled exactly so, ``exact`` holding those ids and
        ``form`` the plain written name, and Syria) and its ``_projected`` position, best
        first.  Remembered with the spelling; the document adds the rest (``_ranked``)."""
        scored = []
        for p in cands:
            score = LEVEL_PRIOR.get(p.level, 0.0)
            if p.level in POPULATED:
                score += 0.4 * math.log10(p.population + 10)
            if p.id in exact:
                score += 2.5    # "Daraya" is Darayya, not Daraa, though both fold alike
                if form == plain(p.name):
                    score += 0.5    # "Baghuz" is Baghuz before a village that also goes by it
            if p.country == "SY":
                score += 0.5
            scored.append((score, p, _projected(p)))
        scored.sort(key=itemgetter(0), reverse=True)
        return scored

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
        if p.country != "SY":
            before = text[max(0, start - 30):start]
            if not LOCATIVE.search(before) and ACTOR_VERB.match(text[end:end + 100]) \
                    or _AGENT_BEFORE.search(before):
                role = "actor"
        precision = _PRECISION.get(p.level, 1)
        if p.level == "region":
            precision = 2 if p.parent else 3
        if (s.near or s.countryside) and precision in (1, 3) and \
                p.level not in ("country", "road", "region"):
            precision = 2       # "near X", "the Aleppo countryside": part of it, not at it
        conf = 0.95 if s.score_margin >= 3.0 else 0.55 + 0.4 * math.tanh(s.score_margin / 2)
        if s.form is not None and start == toks.start[s.i0] and end == toks.end[s.i1]:
            exact = p.id in s.exact         # spelled as one of its names (see _spelling)
        else:
            exact = plain(text[start:end]) in self.gaz.exact.get(p.id, ())
        if not exact:
            conf *= 0.6 if s.fuzzy else 0.9
        line = self._segment(text, toks, s, p) if p.level == "road" else None
        # doc, start, end, text, place, confidence, role, geo_precision, candidates, line
        # (by position: a sixth cheaper than by keyword, for every mention of a stream)
        return Mention(doc.id, start, end, text[start:end], p, round(conf, 3), role, precision,
                       len(s.cands), line or p.line)

    def _segment(self, text: str, toks: Words, s: _Span, road: Place) -> Optional[tuple]:
        """'the M5 between Saraqib and Maarat al-Numan': the stretch between two places."""
        tail = text[toks.end[s.i1]:toks.end[s.i1] + 120]
        m = _SEGMENT.match(tail)
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
