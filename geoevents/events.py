"""Event builder: sentences + resolved mentions -> coded events.

Rule-based on purpose: every decision is traceable to a lexicon line (``lexicon/``) and
an evidence sentence, runs at thousands of documents a second, and needs no model
download.  Per sentence: find triggers, drop negated or hypothetical ones, attach each
trigger to the place it governs (after it for "captured A", before it for "A fell to"),
find the actors and their roles, the date, the status and attribution, and the toll.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_left
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Optional

from .dates import find_dates
from .lexicons import Lexicon, lexicon, lower, whole_words
from .model import Document, Event, Evidence, Mention
from .text import Sentence, sentences

CLAUSE_BREAK = re.compile(r";|—|–|" + whole_words(["while", "but", "whereas", "after", "before",
                                                  "as", "which", "who", "when"])
                          + r"(?!(?<=\bas) well)", re.I)
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
                "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
                "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
                "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
                "a dozen": 12}
VAGUE_NUMBERS = ("dozens", "scores", "hundreds", "thousands", "several", "many", "some")
_NUM = r"(\d(?:[\d,]*\d)?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r"|" + \
       "|".join(VAGUE_NUMBERS) + r")"
TOLL = re.compile(r"\b(?:(at least|more than|over|nearly|almost|around|about|some|up to)\s+)?"
                  + _NUM + r"(?:\s+(?:more\s+)?(?:of\s+(?:the\s+)?)?([a-z]+(?:\s+[a-z]+)?))?", re.I)
VICTIMS = re.compile(r"civilians?|people|individuals|fighters|soldiers|troops|rebels|"
                     r"militants|combatants|children|members|personnel|officers?|advis[eo]rs?|"
                     r"residents|persons|men|women|members", re.I)
KILL = re.compile(whole_words(["killed", "killing", "kills", "perished", "died", "dead", "death",
                               "deaths", "lost their lives", "casualties", "were slain"]), re.I)
DEATH_OF = re.compile(whole_words(["death", "killing", "assassination"])
                      + r" of (?:a |an |the )?(?:senior |top |prominent )?(?:[A-Z][\w-]+\s+){0,4}",
                      re.I)
AREA_WORDS = re.compile(r"\b(?:areas|territories|territory|regions|positions|villages|towns)\b",
                        re.I)
LIST_GAP = re.compile(r"\s*(?:(?:city|town|village|province|countryside|governorate|district|"
                      r"airport|airbase)\s*)?(?:,|and|or|,\s*and|,\s*as well as|as well as)\s*"
                      r"(?:(?:on|in|at|against)\s+)?(?:the\s+)?"
                      r"(?:(?:[a-z]+\s+){0,2}(?:city|town|village|outskirts|countryside|"
                      r"district|neighbou?rhood|airbase|base) of\s+|(?:(?:several|many|dozens|"
                      r"two|three|four|five|\d+)\s+)?(?:more|others?)\s+(?:in|at|near)\s+)?",
                      re.I)
LOCATOR_GAP = re.compile(r"\s*,?\s*(?:(?:just\s+)?(?:north|south|east|west)\w*\s+of|near|"
                         r"outside|in|beside|close to)\s+(?:the\s+)?", re.I)
LED_BY = re.compile(r"\b(?:led|spearheaded|driven|headed|dominated)\s+by\s+(?:the\s+)?"
                    r"(?:[\w-]+\s+){0,3}$")
RELATIVE = re.compile(r"\b(?:that|which|who)\s+$", re.I)
REPORTING = re.compile(whole_words(["said", "says", "say", "claimed", "claims", "denied", "denies",
                                    "reported", "reports", "announced", "added", "stated",
                                    "told", "according to"])
                       + r"(?!(?<=\bclaimed) responsibility)(?!(?<=\bclaims) responsibility)", re.I)
NOT_OBJECT = re.compile(r"\b(?:had|has|have|was|were|is|are|been|being|near|outside|around|"
                        r"close to|beside|toward|towards|between|using|used|"
                        r"(?:north|south|east|west)\w*(?:-\w+)? of)\b", re.I)
ANAPHORA = re.compile(r"\bthe (city|town|capital|provincial capital|village)\b(?! of\b)",
                      re.I | re.ASCII)   # ASCII: a Turkish ı or İ is not an i
ANAPHOR_LEVELS = {"city": ("city", "town"), "town": ("town", "city", "village"),
                  "village": ("village", "town"),
                  "capital": ("city",), "provincial capital": ("city",)}
GROUND_FORCES = frozenset({"syrian_government", "hts", "opposition", "sna", "sdf", "isis",
                           "southern_operations_room", "iran_backed_militias", "hezbollah"})
GOVERNING = {"control_change", "advance", "withdrawal", "clash", "siege", "airstrike",
             "shelling", "attack", "other"}
_VICTIM_WORD = re.compile(r"\b(?:" + VICTIMS.pattern + r")\b")
_ADJ_WORD = re.compile(r"[\w'’.]+")
_STOP_BETWEEN = re.compile(r";|\.\s")
_CIVILIAN = re.compile(r"civilians?")
_AGENT_BEFORE = re.compile(r"\b(?:by|to)\s+(?:the\s+)?$|\b(?:by|to)\s+[\w-]+\s+$")
# "captured the stadium, the last pocket held by IS": the agent of another participle
_OTHER_AGENT = re.compile(r"\b(?!claimed\b)(?:\w+ed|held|led|run|known|seen|shown|won|fought|"
                          r"sought)\s+"
                          r"(?:by|to)\s+(?:the\s+)?(?:[\w-]+\s+)?$")
# "said on Thursday that they had taken": a short adverbial may stand before the pronoun
_PRONOUN_SUBJECT = re.compile(r"\s*(?:(?:on|late|early|last|this|in|by)\s+\w+\s+(?:\w+\s+)?)?"
                              r"(?:that\s+)?(?:it|they|its \w+|their \w+)\b")
# the trigger's subject undergoes it: "a convoy was struck by", "the base came under attack"
HIT_TYPES = frozenset({"airstrike", "shelling", "attack"})
_UNDERGOES = re.compile(r"\b(?:(?:was|were|been|being)\s+(?:\w+ly\s+)?(?:\w+\s+by\s+(?:an?\s+|the\s+)?)?"
                        r"|(?:came|come|comes|coming)\s+under\s+(?:heavy\s+|intense\s+|"
                        r"renewed\s+)?(?:\w+\s+)?)$")
_POSSESSOR = re.compile(r"\b(?:its|their)\s+$")
_CAUSE_BEFORE = re.compile(r"\bby\s+(?:the\s+)?$|\b(?:killed|wounded|injured|died|dead)\s+"
                           r"(?:in|during|from)\s+(?:the\s+|an?\s+)?$")
# "..., an attack claimed by Islamic State": who owned up to the event just told
_CLAIMED_BY = re.compile(r",\s*(?:an?|the)\s+(?:\w+\s+){0,2}(?:attack|bombing|blast|explosion|"
                         r"strike|assault|ambush)\s+(?:later\s+|since\s+)?claimed\s+by\s+"
                         r"(?:the\s+)?$")
_BETWEEN_AFTER = re.compile(r"\s+(?:\w+\s+)?between\b")
# the object of the trigger: after a preposition, or right after it ("struck a Syrian
# army position": the slice then starts at the trigger's end)
_OBJECT_BEFORE = re.compile(r"\b(?:from|against|on|targeting|targeted|at)\s+(?:the\s+)?"
                            r"(?:[\w-]+\s+)?$|^\s+(?:an?|the|its|their)?\s*$")
# "government troops backed by Russian jets seized": the backer is not the doer
_BACKER_BEFORE = re.compile(r"\b(?:backed|supported|aided|assisted|helped|covered|escorted)\s+"
                            r"by\s+(?:the\s+)?(?:[\w-]+\s+)?$|\bwith (?:the )?(?:support|"
                            r"backing|help|cover) (?:of|from)\s+(?:the\s+)?$")
_HELD_AFTER = re.compile(r"\s+(?:had\s+)?(?:held|controlled|occupied|defended)\b")
_AN_APPOSITION = re.compile(r",\s*(?:a|an)\b")
_APPOSITION = re.compile(r",\s*(?:a|an|the|which|who|whose|another|one|once|long|supported by|"
                         r"backed by|led by|aided by|joined by|along with|alongside|including)\b")
_JOINED = re.compile(r"\s*(?:fighters|forces|troops|militants|units|militias)?\s*"
                     r"(?:,|and|,\s*and)\s*(?:the\s+|their\s+|its\s+)?(?:allied\s+|other\s+)?"
                     r"(?:[A-Z][\w-]+\s+)?")
_LETTERS = re.compile(r"[a-z]+")
_ALNUM = re.compile(r"[a-z0-9]+")
_PERFECT_BEFORE = re.compile(r"\b(?:has|have|had|is|are|am)\b(?:\s+\w+){0,3}\s*$")
_PRESENT_VERB = re.compile(r"(?:ing|es|s)$")


@dataclass
class _Trigger:
    type: str
    voice: str
    start: int      # offsets within the sentence
    end: int
    text: str


@dataclass
class _Context:
    """What every event of one sentence shares."""
    doc: Document
    sent: Sentence
    mentions: list[Mention]
    actors: list["_Actor"]
    leads: _Leads
    dates: list
    triggers: list
    status: str
    attributed: tuple[str, ...]
    tolls: list
    kill: Optional[re.Match]
    clauses: "_Clauses"
    places: frozenset[int]      # where the sentence's place mentions start, in the sentence


class _Clauses:
    """The clause breaks and reporting verbs before each trigger of a sentence, found once
    for both the test of its modality and the search for its doer.  (The breaks are the
    same in the sentence and in its lower-cased form: the pattern ignores case.)"""

    def __init__(self, s: str):
        self.s = s
        self._breaks: dict[int, list[re.Match]] = {}
        self._reporting: dict[int, list[int]] = {}

    def before(self, pos: int) -> list[re.Match]:
        """The breaks in s[:pos]."""
        found = self._breaks.get(pos)
        if found is None:
            found = self._breaks[pos] = list(CLAUSE_BREAK.finditer(self.s, 0, pos))
        return found

    def reporting_before(self, pos: int) -> list[int]:
        """Where the reporting verbs in s[:pos] end."""
        found = self._reporting.get(pos)
        if found is None:
            found = self._reporting[pos] = [m.end() for m in REPORTING.finditer(self.s, 0, pos)]
        return found


@dataclass
class _Actor:
    actor: str
    start: int
    end: int


class EventBuilder:
    """Callable pipeline component: ``EventBuilder()(doc, mentions) -> list[Event]``."""

    def __init__(self) -> None:
        self.lex = lexicon()

    def __call__(self, doc: Document, mentions: list[Mention]) -> list[Event]:
        lex = self.lex
        text = doc.text
        places = [m for m in mentions if m.role == "location"]
        region = _document_region(places)
        events: list[Event] = []
        # one regex pass per lexicon row over the whole text, then bucketed by sentence
        low = lower(text)
        found = lex.document_scan.finditer(low)       # one pass: triggers, then actors
        raw_actors = self._actors(found[len(lex.triggers):])
        leading = [a.actor for a in raw_actors if a.actor in REBEL_FORCES and (
            LED_BY.search(low, max(0, a.start - 45), a.start) or low.startswith("-led", a.end))]
        leads = _lead_actors(self.lex, [a.actor for a in raw_actors], leading)
        # generic "rebels" are the document's main named rebel force (HTS in a report on
        # Aleppo, the Southern Operations Room in one on Daraa)
        all_actors = [_Actor(leads.rebels, a.start, a.end) if a.actor == "opposition" else
                      _Actor(a.actor.split(":", 1)[1], a.start, a.end)
                      if a.actor.startswith("faction:") else a for a in raw_actors]
        all_triggers = self._triggers(found[:len(lex.triggers)], low)
        # bucket triggers, actors and places by sentence with bisect: linear in the
        # document, however long it is
        t_starts = [t.start for t in all_triggers]
        a_starts = [a.start for a in all_actors]
        p_starts = [m.start for m in places]
        seen = _Seen()
        for sent in sentences(text):
            p_lo, p_hi = bisect_left(p_starts, sent.start), bisect_left(p_starts, sent.end)
            here = places[p_lo:p_hi]
            t_lo, t_hi = bisect_left(t_starts, sent.start), bisect_left(t_starts, sent.end)
            off = sent.start
            triggers = [_Trigger(t.type, t.voice, t.start - off, t.end - off, t.text)
                        for t in all_triggers[t_lo:t_hi] if t.end <= sent.end]
            if triggers:
                a_lo, a_hi = bisect_left(a_starts, sent.start), bisect_left(a_starts, sent.end)
                actors = [_Actor(a.actor, a.start - off, a.end - off)
                          for a in all_actors[a_lo:a_hi] if a.end <= sent.end]
                in_sent = sorted(here + _anaphora(sent, here, seen), key=lambda m: m.start)
                events.extend(self._sentence_events(doc, sent, in_sent, actors, triggers,
                                                    region, leads))
            seen.add(here)
        return _merge_duplicates(events)

    # -- actors ----------------------------------------------------------------
    def _actors(self, rows: list[list[re.Match]]) -> list[_Actor]:
        """Actor mentions, longest leftmost without overlaps, from the matches of actor_adj
        and of each actor_nouns row; an attributive run ("syrian and russian jets") names
        every actor in it."""
        cands: list[tuple[int, int, int, tuple[str, ...]]] = []
        adj_matches, *noun_matches = rows
        for m in adj_matches:
            actors = tuple(self.lex.adj_actor[w] for w in
                           (a.group().replace("’", "'") for a in _ADJ_WORD.finditer(m.group(1)))
                           if w in self.lex.adj_actor)
            if actors:
                cands.append((m.start(), -(m.end() - m.start()), m.end(), actors))
        for (actor, _), matches in zip(self.lex.actor_nouns, noun_matches):
            for m in matches:
                cands.append((m.start(), -(m.end() - m.start()), m.end(), (actor,)))
        cands.sort()
        found: list[_Actor] = []
        last_end = -1
        for start, _, end, actors in cands:
            if start >= last_end:
                found.extend(_Actor(a, start, end) for a in actors)
                last_end = end
        return found

    def _triggers(self, rows: list[list[re.Match]], low: str) -> list[_Trigger]:
        """Trigger phrases, longest leftmost, not overlapping, from each trigger row's
        matches in ``low`` (the lower-cased document)."""
        cands = []
        for (typ, voice, _), matches in zip(self.lex.triggers, rows):
            for m in matches:
                cands.append((m.start(), -(m.end() - m.start()), typ, voice, m))
        cands.sort(key=lambda c: (c[0], c[1]))
        out: list[_Trigger] = []
        last = -1
        for start, _, typ, voice, m in cands:
            if start >= last:
                out.append(_Trigger(typ, voice, start, m.end(), m.group()))
                last = m.end()
        return _bare_strikes(out, low)

    # -- one sentence ----------------------------------------------------------
    def _sentence_events(self, doc: Document, sent: Sentence, mentions: list[Mention],
                         actors: list[_Actor], triggers: list[_Trigger],
                         region: Optional[Mention], leads: _Leads
                         ) -> list[Event]:
        s = sent.text
        sl = lower(s)           # lexicon patterns match lower-cased text
        lex = self.lex
        clauses = _Clauses(s)
        triggers = [t for t in triggers if not self._hypothetical(sl, t, clauses)]
        if not triggers:
            return []
        dates = find_dates(s, doc.published)
        found = lex.sentence_scan.finditer(sl)
        cues = {kind for kind, hits in zip(lex.sentence_cues, found) if hits}
        sources = tuple(src for (src, _), hits in
                        zip(lex.attributions, found[len(lex.sentence_cues):]) if hits)
        background = "background" in cues
        kill = KILL.search(s) or DEATH_OF.search(s)
        ctx = _Context(doc, sent, mentions, actors, leads, dates, triggers, _status(cues),
                       sources, _tolls(s) if kill else [], kill, clauses,
                       frozenset(m.start - sent.start for m in mentions))
        out: list[Event] = []
        kinetic = [t for t in triggers if t.type in ("airstrike", "shelling", "attack")]
        remote = any(t.type in ("airstrike", "shelling") for t in triggers)
        has_toll = bool(kill) and bool(ctx.tolls or DEATH_OF.search(s))
        for t in triggers:
            if t.type == "casualties":
                continue
            if t.type == "clash" and has_toll and not kinetic:
                continue  # "killed in the clashes": the toll is the event
            if t.type == "attack" and remote:
                continue  # "air strikes ... the first such raids": one air strike
            if RELATIVE.search(s, max(0, t.start - 12), t.start):
                continue  # "the alliance that captured Aleppo": told as background
            past = _past_year(t, dates, doc.published, triggers)
            if (background or past) and not (t.type == "control_change" and past):
                continue
            targets = self._places_for(s, sent, t, mentions, triggers)
            if not targets:
                if t.type in ("airstrike", "shelling") and has_toll and region is not None:
                    targets = [(region, 3)]
                else:
                    continue
            out.extend(self._event(ctx, t, m, precision) for m, precision in targets)
        out = _drop_coarse(out)
        if has_toll and not kinetic and not background:
            m = next((m for m in mentions if m.start >= sent.start + kill.start()), None) \
                or (mentions[0] if mentions else None)
            place = (m, m.geo_precision) if m else ((region, 3) if region else None)
            if place:
                t = _Trigger("casualties", "nominal", kill.start(), kill.end(), kill.group())
                out.append(self._event(ctx, t, place[0], max(place[1], 2)))
        return out

    def _hypothetical(self, s: str, t: _Trigger, clauses: _Clauses) -> bool:
        """'failed to capture', 'could fall', 'aims to retake', 'if the rebels hold'."""
        breaks = clauses.before(t.start)
        clause_start = breaks[-1].end() if breaks else 0
        window = s[max(clause_start, t.start - 45):t.start]
        return bool(self.lex.cues["modality"].search(window))

    def _places_for(self, s: str, sent: Sentence, t: _Trigger, mentions: list[Mention],
                    triggers: list[_Trigger]) -> list[tuple[Mention, int]]:
        """The mention(s) the trigger governs, with their geo precision."""
        rel = [(m.start - sent.start, m.end - sent.start, m) for m in mentions]
        chosen: list[Mention] = []
        if t.voice == "passive":
            before = [r for r in rel if r[1] <= t.start and not CLAUSE_BREAK.search(s, r[1], t.start)]
            if before:
                chosen = [before[-1][2]]
        if not chosen:
            nxt = [tr.start for tr in triggers if tr.start > t.end + 1 and tr.type in GOVERNING]
            limit = min([t.end + 110] + nxt)
            after = [r for r in rel if r[0] >= t.end and r[0] <= limit]
            if after and t.type in ("control_change", "siege") and \
                    NOT_OBJECT.search(s, t.end, after[0][0]):
                after = []      # "took over the headquarters near the Golan": a locator
            if after and not _STOP_BETWEEN.search(s[t.end:after[0][0]]):
                chosen = [after[0][2]]
                end = after[0][1]
                for a in after[1:]:
                    gap = s[end:a[0]]
                    if gap in ("'s ", "’s "):
                        chosen[-1] = a[2]       # "Aleppo's Rashidin": the inner place
                    elif LIST_GAP.fullmatch(gap):
                        chosen.append(a[2])
                    elif not LOCATOR_GAP.fullmatch(gap):
                        break                   # "... airbase east of Aleppo and ...": skip
                    end = a[1]
        if not chosen and t.voice != "passive":
            before = [r for r in rel if r[1] <= t.start and t.start - r[1] < 40
                      and not CLAUSE_BREAK.search(s, r[1], t.start)]
            if before and t.type in ("clash", "airstrike", "shelling", "siege"):
                chosen = [before[-1][2]]
        # Syria itself is a place only for "crossed into Syria"-like events: "the war in
        # Syria" is background, and no event is put at the country centroid silently
        return [(m, m.geo_precision) for m in chosen if not (
            m.place.level == "country" and m.place.country == "SY" and t.type != "other")]

    def _event(self, ctx: "_Context", t: _Trigger, m: Mention, precision: int) -> Event:
        s = ctx.sent.text
        kill = ctx.kill
        victims = {a.actor for a in ctx.actors if kill and a.start > kill.start()
                   and a.actor == "civilians"}
        counted_spans = [(x[0], x[3] + 40) for x in ctx.tolls]
        # an actor just after a toll is counted in it ("killing 7 Turkish soldiers")
        # unless the toll names it as the cause ("killed in Turkish air strikes")
        doers = [a for a in ctx.actors if a.actor != "civilians"
                 and (t.type == "casualties" or _CAUSE_BEFORE.search(s, 0, a.start)
                      or not any(lo <= a.start < hi for lo, hi in counted_spans))]
        if t.type == "casualties":
            # the people named in a toll sentence are its victims; the killers are the
            # document's lead actor unless the sentence names one doing the killing
            lead = ctx.leads.ground
            counted = [a.actor for a in doers for x in ctx.tolls if x[0] <= a.start < x[3] + 40]
            killers = [a.actor for a in doers if kill and a.end <= kill.start()
                       and a.actor not in counted
                       and not CLAUSE_BREAK.search(s, a.end, kill.start())
                       and not any(lo <= a.start < hi for lo, hi in counted_spans)]
            if counted:         # "Seven HTS fighters were killed": the toll names its victims
                target = (counted[0],)
                actor = (_opponent(self.lex, counted[0], ctx.leads),)
            elif killers:       # "pro-government forces killing at least 82 civilians"
                actor = (killers[-1],)
                target = (_opponent(self.lex, killers[-1], ctx.leads),)
            else:
                actor = (lead,) if lead else ()
                side = _side(self.lex, lead or "")
                victims_named = [a.actor for a in doers if _side(self.lex, a.actor) != side]
                target = tuple(victims_named[:1]) or ((_opponent(self.lex, lead, ctx.leads),)
                                                      if lead else ())
            actor = tuple(a for a in actor if a)
        else:
            actor, target = self._roles(s, t, doers, ctx.leads, ctx.clauses, ctx.places)
            counted = [a.actor for a in ctx.actors if a.actor != "civilians" and kill
                       and any(lo <= a.start < hi for lo, hi in counted_spans)]
            if counted:         # "seven Turkish soldiers were killed by Syrian shelling"
                target = (counted[0],)
        if victims or (kill and (_CIVILIAN.search(s, kill.start()) or any(
                "civilian" in s[x[0]:x[3] + 25].lower() for x in ctx.tolls))):
            target = ("civilians",)
        to_actor = from_actor = ()
        if t.type == "control_change":
            if t.voice == "cede":
                from_actor = actor
                to_actor = target
                actor, target = to_actor, from_actor
            else:
                to_actor, from_actor = actor, target
        fat, qual = _toll_for(s, ctx.sent, m, ctx.tolls, kill, ctx.mentions)
        d, precision_d, source = _date_for(s, t, ctx.dates, ctx.doc.published, ctx.triggers)
        doc = ctx.doc
        ev_start, ev_end = ctx.sent.start, ctx.sent.end
        eid = hashlib.sha1(f"{doc.id}|{t.type}|{m.place.id}|{ev_start}|{t.start}".encode()).hexdigest()[:16]
        conf = round(min(0.95, 0.5 + 0.3 * m.confidence + (0.1 if actor else 0)
                         + (0.05 if precision == 1 else 0)), 3)
        return Event(id=eid, doc=doc.id, type=t.type, mention=m, geo_precision=precision,
                     actor=actor, target=target, to_actor=to_actor, from_actor=from_actor,
                     date=d, date_precision=precision_d, date_source=source,
                     status=ctx.status, attributed_to=ctx.attributed, fatalities=fat, fatalities_qualifier=qual,
                     evidence=(Evidence(s, ev_start, ev_end),), confidence=conf)

    def _roles(self, s: str, t: _Trigger, doers: list[_Actor], leads: _Leads, clauses: _Clauses,
               places: frozenset[int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Who acts and who is acted upon, from word order and the sides table; ``places``:
        where the sentence's place mentions start ("captured Ankara" names a place, not
        the state as a target)."""
        actor: list[str] = []
        after = [a for a in doers if a.start >= t.end]
        by = [a for a in after if _AGENT_BEFORE.search(s[max(t.end, a.start - 25):a.start])
              and not CLAUSE_BREAK.search(s, t.end, a.start)
              and not _OTHER_AGENT.search(s[t.end:a.start])]
        # the doer stands in the trigger's clause, after any reporting verb ("the army
        # said that rebels had entered": the army is the source, not the doer)
        breaks = clauses.before(t.start)
        floor = max([m.end() for m in breaks]
                    + clauses.reporting_before(t.start) + [0])
        if breaks and floor == breaks[-1].end() and not s[floor:t.start].strip() and \
                breaks[-1].group().lower() in ("after", "before", "while", "when"):
            # "forces split the Ghouta after capturing Mesraba": the participle's doer
            # is the main clause's subject
            floor = max([m.end() for m in breaks[:-1]] + [0])
        before = [a for a in doers if floor <= a.start < t.start and a.end <= t.end
                  and not _in_apposition(s, a, t)]
        # ... unless the trigger is the backing itself ("backed by coalition air strikes")
        backed = [a for a in before if _BACKER_BEFORE.search(s, max(0, a.start - 40), a.start)
                  and not (t.voice == "nominal" and not s[a.end:t.start].strip())]
        if backed and len(backed) < len(before):
            before = [a for a in before if a not in backed]
        owned = len(before) == 1 and s[before[0].start:before[0].end].islower() and \
            _POSSESSOR.search(s, max(0, before[0].start - 6), before[0].start)
        if (not before or owned) and _PRONOUN_SUBJECT.match(s[floor:t.start]):
            # "the SDF announced it had captured Raqqa", "Israel said its troops had
            # entered": the speaker is the doer
            before = [a for a in doers if a.end <= floor and not _in_apposition(s, a, t)][-1:]
        struck: list[_Actor] = []
        if t.type in HIT_TYPES and t.voice != "passive" and before and \
                _UNDERGOES.search(s, max(0, t.start - 30), t.start):
            struck, before = before, []   # "a Turkish convoy was struck", "came under attack"
        if t.text.endswith((" by", " to")) and after:
            by = after          # "was taken by X", "fell to X": the agent comes next
        by = by or [a for a in after if _CLAIMED_BY.search(s, t.end, a.start)][:1]
        if t.voice == "passive" or (by and t.voice in ("nominal", "active")):
            actor = [a.actor for a in by[:1]] or [a.actor for a in after[:1]]
            actor = _coordinated(actor, by or after, s)
        if not actor and before:
            last = before[-1]
            actor = _coordinated([last.actor], before, s, backwards=True)
        lead = leads.air if t.type in ("airstrike", "shelling") else leads.ground
        if t.voice == "cede":
            # the side that withdraws cedes the place to the document's lead ground actor,
            # or to its usual opponent; an unnamed withdrawer is the lead's opponent
            loser = actor or ([_opponent(self.lex, lead, leads)] if lead else [])
            named = [a.actor for a in after if loser and a.actor not in loser
                     and _side(self.lex, a.actor) in ENEMIES.get(_side(self.lex, loser[0]), ())]
            # "SDF fighters pulled out of Manbij as Turkish-backed forces advanced"
            gainer = named[0] if named else (_opponent(self.lex, loser[0], leads) if loser else "")
            return tuple(dict.fromkeys(x for x in loser if x)), ((gainer,) if gainer else ())
        if not actor and struck:                # whoever fights the side that was hit
            actor = [_opponent(self.lex, struck[-1].actor, leads)]
        if not actor and t.type != "attack":    # a car bomb has no default author
            actor = [lead] if lead else []
        actor = list(dict.fromkeys(actor))
        pair = _BETWEEN_AFTER.match(s[t.end:t.end + 20]) \
            if t.type == "clash" else None
        if pair:
            # "clashes between HTS and Ahrar al-Sham": the first side acts, the second is hit
            sides = [a for a in after if a.start - t.end < 80][:2]
            if len(sides) == 2:
                return (sides[0].actor,), (sides[1].actor,)
        # the target is named after the trigger as its object: "captured A from X",
        # "strikes against X", "targeting X positions"; otherwise the actor's opponent
        side = _side(self.lex, actor[0]) if actor else ""
        objects = [a.actor for a in after if a.actor not in actor and a.start not in places
                   and _side(self.lex, a.actor) != side
                   and _OBJECT_BEFORE.search(s[max(t.end, a.start - 30):a.start])]
        holders = [a.actor for a in after if a.actor not in actor
                   and _HELD_AFTER.match(s, a.end)]
        enemies = [a.actor for a in doers if a.actor not in actor
                   and _side(self.lex, a.actor) in ENEMIES.get(side, ())
                   and (t.type != "control_change" or a.actor in GROUND_FORCES)
                   and not _AN_APPOSITION.match(s[s.rfind(",", 0, a.start):a.start])]
        if t.text.endswith((" on", " against", " at", " targeting")):
            # "strikes on Hezbollah targets": the trigger's own preposition names the object
            objects = [a.actor for a in after[:1] if a.start - t.end < 20
                       and a.actor not in actor] + objects
        target = [a.actor for a in struck[-1:]] or objects[:1] or holders[:1] or enemies[:1]
        if not target and actor and t.type != "other":
            target = [_opponent(self.lex, actor[0], leads)]
        return tuple(actor), tuple(x for x in target if x)


GENERIC_STRIKES = frozenset({"struck", "pounded", "bombed"})
_BY_A = re.compile(r"\s+by\s+(?:an?\s+|the\s+)?(?:\w+\s+)?")
_WITH_BEFORE = re.compile(r"\b(?:with|using)\s+(?:heavy\s+|intense\s+)?$")


def _bare_strikes(triggers: list[_Trigger], low: str) -> list[_Trigger]:
    """A strike told with its instrument is one event, told by the verb (whose subject is
    the doer): "jets pounded Idlib with missiles" is an air strike, "rebels pounded
    positions with artillery" shelling.  A bare 'struck' is an air strike only when
    nothing says otherwise: "an IED struck a bus" is the bomb's attack."""
    out: list[_Trigger] = []
    skip = set()
    for i, t in enumerate(triggers):
        if i in skip:
            continue
        generic = t.type == "airstrike" and t.text.lower() in GENERIC_STRIKES
        if generic and out and out[-1].type == "attack" and t.start - out[-1].end <= 2:
            continue
        if generic and i + 1 < len(triggers) and triggers[i + 1].type == "airstrike" and \
                _BY_A.fullmatch(low, t.end, triggers[i + 1].start):
            continue            # "was struck by an air strike": one strike, told by the noun
        if t.type == "airstrike":
            for j in range(i + 1, len(triggers)):
                n = triggers[j]
                if n.start - t.end > 80 or n.type in GOVERNING and n.type != "shelling":
                    break
                if n.type == "shelling" and _WITH_BEFORE.search(low, max(0, n.start - 20),
                                                                n.start):
                    if generic:
                        t = _Trigger("shelling", t.voice, t.start, t.end, t.text)
                    skip.add(j)
                    break
        out.append(t)
    return out


def _in_apposition(s: str, a: _Actor, t: _Trigger) -> bool:
    """'Moscow's air force, long the army's main backer, struck Atarib': the army is not
    the one striking.  True for an actor inside a comma-bounded aside before the trigger."""
    open_comma = s.rfind(",", 0, a.start)
    return open_comma >= 0 and "," in s[a.end:t.start] and \
        bool(_APPOSITION.match(s, open_comma))


def _coordinated(first: list[str], pool: list[_Actor], s: str, backwards: bool = False) -> list[str]:
    """'Syrian and Russian jets', 'Russia and Iran': actors joined by 'and' act together."""
    out = list(first)
    seq = list(reversed(pool)) if backwards else pool
    for a, b in zip(seq, seq[1:]):
        lo, hi = (b, a) if backwards else (a, b)
        if _JOINED.fullmatch(s[lo.end:hi.start]) or lo.start == hi.start:
            out.append(b.actor)
        else:
            break
    return out


@dataclass(frozen=True)
class _Leads:
    """Who a document is about, for sentences that name no actor or no target."""
    ground: Optional[str]       # the side on the offensive (rebels first)
    air: Optional[str]          # the main air power (government side)
    rebels: str = "opposition"  # who generic "rebels" are in this document
    #: side -> the document's most named fighting force of that side
    force_of_side: dict[str, str] = field(default_factory=dict, hash=False)


ENEMIES = {"opposition": ("government", "sdf", "isis"), "government": ("opposition", "isis"),
           "sdf": ("opposition", "isis", "government"),
           "isis": ("government", "sdf", "opposition")}


REBEL_FORCES = ("hts", "sna", "southern_operations_room")


def _lead_actors(lex: Lexicon, actors: list[str], leading: list[str] = ()) -> _Leads:
    """``leading``: rebel forces the text says lead ("led by HTS", "HTS-led"); without
    one, generic rebels are the rebel force named at least twice, else just rebels."""
    named = Counter(a for a in actors if a in REBEL_FORCES)
    top = max(REBEL_FORCES, key=lambda a: (named[a], a == "hts"))
    rebels = leading[0] if leading else (top if named[top] >= 2 else "opposition")
    counts = Counter(rebels if a == "opposition" else a.split(":", 1)[-1] for a in actors)
    ranked = sorted(counts, key=lambda a: (-counts[a], a))
    ground = [a for a in ranked if _side(lex, a) in ("opposition", "sdf", "isis")] or \
        [a for a in ranked if _side(lex, a) == "government"]
    air = [a for a in ranked if _side(lex, a) in ("government", "israel")]
    force_of_side: dict[str, str] = {}
    for a in ranked:
        if a in GROUND_FORCES:
            force_of_side.setdefault(_side(lex, a), a)
    return _Leads(ground[0] if ground else None, air[0] if air else None, rebels,
                  force_of_side)


def _side(lex: Lexicon, actor: str) -> str:
    return lex.sides.get(actor, actor)


def _opponent(lex: Lexicon, actor: str, leads: Optional[_Leads] = None) -> str:
    """Who an actor fights: the document's most named force of its main enemy side (the
    SDF in a report on Manbij), else of any enemy side, else the usual enemy."""
    side = _side(lex, actor)
    if leads:
        for wanted in ENEMIES.get(side, ()):
            if wanted in leads.force_of_side:
                return leads.force_of_side[wanted]
    if side == "opposition":
        return "syrian_government"
    if side == "government":
        return leads.rebels if leads else "opposition"
    if side in ("isis", "sdf"):
        return "syrian_government" if side == "isis" else "isis"
    return ""


def _status(cues: set[str]) -> str:
    """disputed > unverified (a claim: "could not be independently verified") >
    confirmed > claimed > reported; ``cues``: the cue kinds found in the sentence."""
    if "disputed" in cues:
        return "disputed"
    if "unverified" in cues:
        return "claimed"
    for kind in ("confirmed", "claimed"):
        if kind in cues:
            return kind
    return "reported"


def _tolls(s: str) -> list[tuple[int, Optional[int], Optional[str], int]]:
    """(position, number or None, qualifier, end) of every casualty figure in a sentence:
    a number followed within four words by the people it counts ("at least 24 civilians",
    "one of its senior military advisers", "dozens of fighters")."""
    out = []
    for m in TOLL.finditer(s):
        raw = m.group(2).lower()
        following = " ".join(_LETTERS.findall(s[m.end(2):m.end(2) + 60].lower())[:5])
        if NOT_COUNT.match(following) or _MONTH_BEFORE.search(s, max(0, m.start(2) - 12),
                                                               m.start(2)):
            continue            # "14 November", "Nov. 29", "10 kilometres", "three years"
        if not _VICTIM_WORD.search(following) and \
                not KILL.match(following):
            continue
        if raw.replace(",", "").isdigit():
            n: Optional[int] = int(raw.replace(",", ""))
            if 1900 <= n <= 2100:
                continue
        elif raw in NUMBER_WORDS:
            n = NUMBER_WORDS[raw]
        else:
            n = None
        times = _MULTIPLIER.match(s, m.end(2))
        if n is not None and times:             # "two dozen", "three hundred"
            n *= {"dozen": 12, "hundred": 100, "thousand": 1000}[times.group(1).lower()]
        qual = m.group(1).lower() if m.group(1) else (raw if n is None else None)
        out.append((m.start(), n, qual, m.end()))
    for m in TOLL_AT.finditer(s):       # "put the death toll since Wednesday at 311"
        out.append((m.start(), int(m.group(1).replace(",", "")), None, m.end()))
    out.sort()
    # "12 civilians, including five children": a part of the toll before it
    return [x for i, x in enumerate(out)
            if not (i and _SUBSET_BEFORE.search(s, max(0, x[0] - 20), x[0]))]


_SUBSET_BEFORE = re.compile(r"\b(?:including|among them|among whom|of whom|of them)\s+$", re.I)
_MONTH_BEFORE = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+$",
                           re.I)
_MULTIPLIER = re.compile(r"\s+(dozen|hundred|thousand)\b", re.I)
NOT_COUNT = re.compile(r"(?:january|february|march|april|may|june|july|august|september|"
                       r"october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|"
                       r"km|kilomet|mile|year|month|week|day|hour|minute|percent|per)", re.I)
TOLL_AT = re.compile(r"\btoll\b[^.;]{0,40}?\b(?:at|to|of|reached|rose to)\s+(?:at least\s+)?"
                     r"(\d[\d,]*)", re.I)


def _toll_for(s: str, sent: Sentence, m: Mention, tolls: list, kill, others: list[Mention]
              ) -> tuple[Optional[int], Optional[str]]:
    """The casualty figure that belongs to this place: the nearest one before it, unless
    another place stands between ("nine dead in Atarib and a few more in Sarmada": the
    nine are Atarib's)."""
    if not kill:
        return None, None
    if not tolls:
        return (1, None) if DEATH_OF.search(s) else (None, None)
    pos = m.start - sent.start
    if pos < 0:                       # placed by the document's region
        return tolls[0][1], tolls[0][2]
    before = [x for x in tolls if x[0] <= pos]
    pick = before[-1] if before else tolls[0]
    if before and any(pick[3] <= o.start - sent.start < pos for o in others if o is not m):
        return None, None
    return pick[1], pick[2]


def _nearest_date(t: _Trigger, dates: list, triggers: list[_Trigger] = ()):
    """The date expression of a trigger: each expression belongs to the trigger nearest
    to it ("took Aleppo on Saturday ... since they recaptured it in 2016")."""
    def dist(d, x):
        return abs(d.start - x.start)
    own = [d for d in dates if all(dist(d, t) <= dist(d, x) for x in triggers)]
    return min(own or [], key=lambda d: dist(d, t)) if own else None


def _past_year(t: _Trigger, dates: list, published: Optional[date],
               triggers: list[_Trigger]):
    """The date of a trigger when it is a past year or month ("recaptured in 2016")."""
    d = _nearest_date(t, dates, triggers)
    if d is not None and d.precision in ("year", "month") and d.text.lower().startswith("in ") \
            and (published is None or d.date < date(published.year, published.month, 1)):
        return d
    return None


def _date_for(s: str, t: _Trigger, dates: list, published: Optional[date],
              triggers: list[_Trigger]) -> tuple[Optional[date], Optional[str], Optional[str]]:
    """The trigger's own date expression, else a day named in the sentence, else the
    publication date for a report in the present or present perfect; an unanchored past
    stays unknown.  Years and months date only past control changes ("in 2016")."""
    past = _past_year(t, dates, published, triggers) if t.type == "control_change" else None
    best = past or _nearest_date(t, [d for d in dates if d.precision in ("day", "week")],
                                 triggers)
    if best is None:
        days = [d for d in dates if d.precision in ("day", "week")]
        best = min(days, key=lambda d: abs(d.start - t.start)) if days else None
    if best is not None:
        return best.date, best.precision, "text"
    if published is None:
        return None, None, None
    window = s[max(0, t.start - 40):t.start].lower()
    if _PERFECT_BEFORE.search(window) \
            or _PRESENT_VERB.search(t.text.split()[0].lower()) and t.voice != "passive":
        return published, "day", "published"
    return None, None, None


def _drop_coarse(events: list[Event]) -> list[Event]:
    """'regaining one of the biggest towns in Idlib province': when a sentence gives an
    event at a town and the same event at the province around it, keep the town."""
    fine = [e for e in events if e.geo_precision < 3 and e.mention.place.admin1]
    return [e for e in events if not (
        e.mention.place.level in ("admin1", "region") and e.geo_precision == 3
        and any(f.type == e.type and f.mention.place.admin1 == e.mention.place.admin1
                for f in fine))]


def _document_region(places: list[Mention]) -> Optional[Mention]:
    """The region a document is about, for events it places only by 'rebel-held areas'."""
    for levels in (("region",), ("admin1",)):
        pool = [m for m in places if m.place.level in levels and m.place.country == "SY"]
        top = [m for m in pool if not m.place.parent] or pool
        if top:
            counts = Counter(m.place.id for m in top)
            best = max(counts.items(), key=lambda kv: (kv[1], -min(m.start for m in top
                                                                   if m.place.id == kv[0])))[0]
            return next(m for m in top if m.place.id == best)
    return None


class _Seen:
    """Places named so far, per level: how often and first where (for 'the city')."""

    def __init__(self) -> None:
        self.count: Counter = Counter()
        self.first: dict[str, Mention] = {}

    def add(self, mentions: list[Mention]) -> None:
        for m in mentions:
            self.count[m.place.id] += 1
            self.first.setdefault(m.place.id, m)

    def topic(self, levels: tuple[str, ...], capital: bool) -> Optional[Mention]:
        """The place of those levels the text is about: most named, first on a tie."""
        pool = [m for m in self.first.values() if m.place.level in levels]
        if capital:
            pool = [m for m in pool if m.place.admin1 == "Damascus"] or pool
        return max(pool, key=lambda m: (self.count[m.place.id], -m.start), default=None)


def _anaphora(sent: Sentence, here: list[Mention], seen: _Seen) -> list[Mention]:
    """'the city' / 'the town' / 'the capital' -> a place of that kind named earlier in
    the sentence, else the one the text is about so far."""
    out = []
    for m in ANAPHORA.finditer(sent.text):
        start = sent.start + m.start()
        if any(p.start <= start < p.end or (p.start > start and p.start - start < len(m.group()) + 4)
               for p in here):
            continue
        kind = m.group(1).lower()
        levels = ANAPHOR_LEVELS[kind]
        before = [p for p in here if p.end <= start and p.place.level in levels]
        ref = before[-1] if before else seen.topic(levels, kind == "capital")
        if ref is not None:
            out.append(replace(ref, start=start, end=sent.start + m.end(), text=m.group(),
                               confidence=round(ref.confidence * 0.9, 3)))
    return out


_STOP = frozenset("the a an of in on at to and or by for with from that this has have had "
                  "is are was were be been as it its their they said says".split())


def _overlap(a: str, b: str) -> float:
    """Share of the shorter sentence's content words (5-letter stems) found in the other."""
    def stems(s: str) -> set[str]:
        return {w[:5] for w in _ALNUM.findall(s.lower()) if w not in _STOP}
    sa, sb = stems(a), stems(b)
    return len(sa & sb) / max(1, min(len(sa), len(sb)))


def _merge_duplicates(events: list[Event]) -> list[Event]:
    """The same event told twice in one document (headline and body) becomes one event:
    same type and place, dates equal or one of them unknown."""
    merged: list[Event] = []
    rank = {"reported": 0, "claimed": 1, "confirmed": 2, "disputed": 3}
    for e in events:
        pid = e.mention.place.id if e.mention else None
        for i, prev in enumerate(merged):
            if (prev.type, prev.mention.place.id if prev.mention else None) != (e.type, pid):
                continue
            same_hands = e.type == "control_change" and prev.to_actor == e.to_actor
            if prev.date is not None and e.date is not None and prev.date != e.date and \
                    not (same_hands and abs((prev.date - e.date).days) <= 1):
                continue
            same_toll = prev.fatalities is not None and prev.fatalities == e.fatalities
            if not (same_toll or same_hands) and \
                    _overlap(prev.evidence[0].sentence, e.evidence[0].sentence) < 0.6:
                continue  # same place, but told differently: another happening
            better = e if prev.date is None and e.date is not None else prev
            merged[i] = replace(
                better, evidence=prev.evidence + tuple(x for x in e.evidence
                                                       if x not in prev.evidence),
                actor=better.actor or prev.actor or e.actor,
                fatalities=prev.fatalities if prev.fatalities is not None else e.fatalities,
                status=max(prev.status, e.status, key=rank.get),
                attributed_to=tuple(dict.fromkeys(prev.attributed_to + e.attributed_to)),
                geo_precision=min(prev.geo_precision, e.geo_precision))
            break
        else:
            merged.append(e)
    return merged
