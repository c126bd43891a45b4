"""The lexicons (data files in ``lexicon/``) compiled once per process.

Triggers, actor aliases, sides, status and modality cues and attribution sources are
data, so a new alias or trigger word is a one-line change with a test, not a code change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterable, Optional


def lexicon_rows(name: str) -> list[list[str]]:
    """Rows of a lexicon data file, comments and blank lines skipped."""
    text = (resources.files("geoevents") / "lexicon" / name).read_text(encoding="utf-8")
    return [ln.split("\t") for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def lower(text: str) -> str:
    """Lower-cased text with the same offsets: lexicon patterns are compiled in lower
    case and matched against this, which is several times faster than re.IGNORECASE."""
    low = text.lower()
    if len(low) != len(text):   # a few letters lower-case to two characters ("İ")
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return low


class Caseless:
    """A case-insensitive pattern, written in lower case, run on ``lower(text)``: several
    times faster than re.IGNORECASE.  Unlike that flag it does not take the Turkish
    dotless ı or dotted İ, or the long ſ, for an ASCII i or s (no English cue word is
    spelled with them, and letting them match made a matched "Frıday" unreadable as a
    weekday).  Read matched text from the original by the match's span."""

    def __init__(self, pattern: str):
        if pattern != pattern.lower():
            raise ValueError(f"write the pattern in lower case: {pattern[:40]}")
        self.lowered = re.compile(pattern)

    def searcher(self, low: str) -> Callable[[int, int], Optional[re.Match]]:
        """``search`` in the slice ``low[start:end]`` (its ends are the string's ends);
        ``low`` is ``lower(text)``."""
        return lambda start, end: self.lowered.search(low[start:end])


def _rx(pattern: str, tail: str = r"\b") -> re.Pattern:
    return re.compile(r"\b(?:" + pattern.lower() + r")" + tail)


try:
    from re import _parser as _sre          # Python 3.11+
except ImportError:                          # pragma: no cover - Python 3.10
    import sre_parse as _sre                 # type: ignore[no-redef]

_PREFIX_LEN = 8          # longer literal prefixes leave fewer places to try a pattern
_MAX_PREFIXES = 5000


def _walk(items, opens: set[str], closed: set[str], limit: int = _PREFIX_LEN) -> set[str]:
    """Extend the literal prefixes in ``opens`` through the parsed pattern ``items``;
    prefixes that cannot grow further, or reach ``limit`` characters, move to
    ``closed``.  Returns those still open."""
    for op, av in items:
        if not opens:
            break
        if op is _sre.LITERAL:
            opens = {p + chr(av) for p in opens}
        elif op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            continue                 # zero width: matches still start with the same text
        elif op is _sre.SUBPATTERN and not av[1] and not av[2]:
            opens = _walk(av[3], opens, closed, limit)
        elif op is _sre.BRANCH:
            opens = set().union(*(_walk(alt, opens, closed, limit) for alt in av[1]))
        elif op is _sre.IN and all(o is _sre.LITERAL for o, _ in av) and len(av) <= 8:
            opens = {p + chr(c) for p in opens for _, c in av}
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] <= 1 and av[1] == 1:
            # "(?:the )?": a match starts with or without it, and keeps growing either way
            taken = _walk(av[2], set(opens), closed, limit)
            opens = taken | opens if av[0] == 0 else taken
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] <= 1:
            taken = _walk(av[2], set(opens), closed, limit)
            closed |= taken          # one pass through the repeat, then stop growing
            if av[0] == 1:
                opens = set()
        else:
            closed |= opens          # anything else ends the literal prefix here
            opens = set()
        long = {p for p in opens if len(p) >= limit}
        closed |= long
        opens = opens - long
        if len(opens) + len(closed) > _MAX_PREFIXES:
            closed.add("")           # too many: give up on this pattern
            return set()
    return opens


def _parsed(rx: re.Pattern):
    """The parse tree of a case-sensitive pattern, None for another."""
    if rx.flags & re.IGNORECASE:
        return None
    try:
        parsed = _sre.parse(rx.pattern, rx.flags)
    except Exception:                # pragma: no cover - an engine we do not know
        return None
    return None if parsed.state.flags & re.IGNORECASE else parsed


def literal_prefixes(rx: re.Pattern) -> Optional[frozenset[str]]:
    """Strings one of which every match of ``rx`` starts with, or None when some match
    may start with anything (then the pattern has to be tried everywhere)."""
    parsed = _parsed(rx)
    if parsed is None:
        return None
    closed: set[str] = set()
    closed |= _walk(parsed.data, {""}, closed)
    return None if "" in closed else frozenset(closed)


def literal_matches(rx: re.Pattern) -> Optional[frozenset[str]]:
    """Every string ``rx`` matches when they are a finite set of literals ("rebels?":
    rebel, rebels), else None."""
    parsed = _parsed(rx)
    if parsed is None:
        return None
    closed: set[str] = set()
    opens = _walk(parsed.data, {""}, closed, limit=10_000)
    return None if closed else frozenset(opens)


class Scanner:
    """Every match of each of many patterns, exactly as ``finditer`` would give them, in
    one pass: an Aho-Corasick automaton over the patterns' literal prefixes finds where a
    match can start, and each pattern is tried only there (most lexicon rows miss most
    documents, and a regex scan costs about as much per character whether or not it
    matches)."""

    def __init__(self, patterns: list[re.Pattern]):
        import ahocorasick
        self.patterns = patterns
        self._everywhere: list[int] = []
        self._auto = ahocorasick.Automaton()
        starts: dict[str, list[int]] = {}
        for i, rx in enumerate(patterns):
            prefixes = literal_prefixes(rx)
            if prefixes is None:
                self._everywhere.append(i)
                continue
            for p in prefixes:
                starts.setdefault(p, []).append(i)
        for p, rows in starts.items():
            self._auto.add_word(p, (len(p) - 1, tuple(rows)))
        if starts:
            self._auto.make_automaton()
        self._empty = not starts

    def _starts(self, text: str) -> list[tuple[int, int]]:
        """(pattern index, offset) of every place where a pattern's literal prefix starts,
        sorted."""
        return sorted({(i, end - back) for end, (back, rows) in self._auto.iter(text)
                       for i in rows})

    def finditer(self, text: str) -> list[list[re.Match]]:
        """The matches of each pattern in ``text``, one list per pattern."""
        found: list[list[re.Match]] = [[] for _ in self.patterns]
        for i in self._everywhere:
            found[i] = list(self.patterns[i].finditer(text))
        if self._empty:
            return found
        current, last = -1, 0
        for i, start in self._starts(text):
            if i != current:
                current, last, match, out = i, 0, self.patterns[i].match, found[i]
            if start >= last:
                m = match(text, start)
                if m:
                    out.append(m)
                    last = m.end()
        return found

    def first_of(self, text: str) -> list[re.Match]:
        """The matches of the patterns taken as one alternation ("P1|P2|..."), exactly as
        its finditer would give them: at each place the first pattern that matches wins,
        and matches do not overlap.  Only the patterns whose prefix starts there are tried,
        which is much cheaper than trying the whole alternation."""
        if self._everywhere:
            return list(re.finditer("|".join(f"(?:{rx.pattern})" for rx in self.patterns),
                                    text))
        at: dict[int, list[int]] = {}
        for i, start in self._starts(text):
            at.setdefault(start, []).append(i)
        out: list[re.Match] = []
        last = 0
        for start in sorted(at):
            if start >= last:
                for i in at[start]:      # in pattern order
                    m = self.patterns[i].match(text, start)
                    if m:
                        out.append(m)
                        last = m.end()
                        break
        return out


def word_trie(words: Iterable[str]) -> str:
    """A regex matching exactly the given literal words, written as a trie ("a(?:l|n(?:d)?)"
    for al, an, and): the engine tries each letter once instead of each word in turn,
    which makes a long word list several times cheaper to try at every place."""
    tree: dict = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def branch(node: dict) -> str:
        alts = [re.escape(ch) + branch(node[ch]) for ch in sorted(node) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and "" not in node else "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node else body
    return branch(tree)


def whole_words(words: Iterable[str]) -> str:
    r"""A regex for any of ``words`` (each starting with a letter) standing as a whole
    word, ``\b`` on both sides, that opens with the set of their first letters: the
    engine skips at C speed to where one can start instead of trying every word at every
    character (six times faster over a sentence).  Where one word begins another, the
    longer wins, as in ``word_trie``.  Compile it with re.I for any case."""
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[0], []).append(word[1:])
    alts = "|".join("(?<=" + re.escape(first) + ")"
                    + ("(?:" + word_trie(rests) + ")" if any(rests) else "")
                    for first, rests in sorted(by_first.items()))
    return ("[" + "".join(map(re.escape, sorted(by_first))) + r"](?<!\w\w)(?:" + alts
            + r")\b")


@dataclass(frozen=True)
class Lexicon:
    """Trigger, actor and cue patterns compiled from the data files."""
    triggers: list[tuple[str, str, re.Pattern]]
    actor_nouns: list[tuple[str, re.Pattern]]
    actor_adj: re.Pattern
    adj_actor: dict[str, str]
    sides: dict[str, str]
    cues: dict[str, re.Pattern]
    attributions: list[tuple[str, re.Pattern]]
    document_scan: Scanner       # the trigger rows, actor_adj, the actor_nouns rows, in order
    sentence_cues: tuple[str, ...]   # the cue kinds read off a whole sentence
    sentence_scan: Scanner       # those cues, then the attribution rows in order


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Compile the lexicon data files once per process (patterns match ``lower(text)``)."""
    triggers = [(t, v, _rx(p)) for t, v, p in lexicon_rows("triggers.tsv")]
    nouns, adj_actor = [], {}
    for actor, kind, pattern in lexicon_rows("actors.tsv"):
        if kind in ("noun", "faction"):
            nouns.append((actor if kind == "noun" else "faction:" + actor,
                          _rx(pattern, r"(?![\w-])")))
        else:
            for a in pattern.split("|"):
                adj_actor[a.replace("\\", "").lower()] = actor
    military = [ln[0] for ln in lexicon_rows("military_nouns.txt")]
    adj = word_trie(adj_actor)
    actor_adj = re.compile(r"\b((?:" + adj + r")(?:\s*,\s*(?:" + adj + r"))*(?:,?\s+and\s+(?:"
                           + adj + r"))?)\s+(?:military\s+|air\s+)?(?:" + "|".join(military)
                           + r")\b")
    cues = {kind: _rx(p) for kind, p in lexicon_rows("cues.tsv")}
    attributions = [(src, _rx(p))
                    for src, p in lexicon_rows("attributions.tsv")]
    sides = {a: s for a, s in lexicon_rows("sides.tsv")}
    whole = tuple(kind for kind in cues if kind != "modality")   # modality: per trigger
    return Lexicon(triggers, nouns, actor_adj, adj_actor, sides, cues, attributions,
                   Scanner([rx for _, _, rx in triggers] + [actor_adj] + [rx for _, rx in nouns]),
                   whole,
                   Scanner([cues[k] for k in whole] + [rx for _, rx in attributions]))
