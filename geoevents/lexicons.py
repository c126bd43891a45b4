"""The lexicons (data files in ``lexicon/``) compiled once per process.

Triggers, actor aliases, sides, status and modality cues and attribution sources are
data, so a new alias or trigger word is a one-line change with a test, not a code change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Optional


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


def _rx(pattern: str, tail: str = r"\b") -> re.Pattern:
    return re.compile(r"\b(?:" + pattern.lower() + r")" + tail)


def required_pieces(pattern: str) -> Optional[tuple[str, ...]]:
    """One literal word every match of each top-level alternative must contain, or None
    when some alternative has none.  A text holding none of them cannot match, so the
    regex scan is skipped (most rows miss most documents)."""
    alternatives, depth, cur, i = [], 0, [], 0
    src = pattern.lower()
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            cur.append(" ")          # an escape is never a literal letter here
            i += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "[" and depth >= 0:
            j = src.index("]", i + 1)
            cur.append(" ")
            i = j + 1
            continue
        if ch == "|" and depth == 0:
            alternatives.append("".join(cur))
            cur = []
        elif ch in "?*{" and cur:
            cur[-1] = " "            # an optional letter is not required ("bombs?")
            cur.append(" ")
        else:
            cur.append(ch if depth == 0 and ch not in "()?*+{}" else " ")
        i += 1
    alternatives.append("".join(cur))
    pieces = []
    for alt in alternatives:
        words = re.findall(r"[a-z]{3,}", alt)
        if not words:
            return None
        pieces.append(max(words, key=len))
    return tuple(sorted(set(pieces)))


def _alternation(patterns: list[str]) -> str:
    return "|".join(sorted(patterns, key=len, reverse=True))


@dataclass(frozen=True)
class Lexicon:
    """Trigger, actor and cue patterns compiled from the data files."""
    triggers: list[tuple[str, str, re.Pattern, Optional[tuple[str, ...]]]]
    actor_nouns: list[tuple[str, re.Pattern, Optional[tuple[str, ...]]]]
    actor_adj: re.Pattern
    adj_actor: dict[str, str]
    sides: dict[str, str]
    cues: dict[str, re.Pattern]
    attributions: list[tuple[str, re.Pattern]]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Compile the lexicon data files once per process (patterns match ``lower(text)``)."""
    triggers = [(t, v, _rx(p), required_pieces(p)) for t, v, p in lexicon_rows("triggers.tsv")]
    nouns, adj_actor = [], {}
    for actor, kind, pattern in lexicon_rows("actors.tsv"):
        if kind in ("noun", "faction"):
            nouns.append((actor if kind == "noun" else "faction:" + actor,
                          _rx(pattern, r"(?![\w-])"), required_pieces(pattern)))
        else:
            for a in pattern.split("|"):
                adj_actor[a.replace("\\", "").lower()] = actor
    military = [ln[0] for ln in lexicon_rows("military_nouns.txt")]
    adj = _alternation([re.escape(a) for a in adj_actor])
    actor_adj = re.compile(r"\b((?:" + adj + r")(?:\s*,\s*(?:" + adj + r"))*(?:,?\s+and\s+(?:"
                           + adj + r"))?)\s+(?:military\s+|air\s+)?(?:" + "|".join(military)
                           + r")\b")
    cues = {kind: _rx(p) for kind, p in lexicon_rows("cues.tsv")}
    attributions = [(src, _rx(p))
                    for src, p in lexicon_rows("attributions.tsv")]
    sides = {a: s for a, s in lexicon_rows("sides.tsv")}
    return Lexicon(triggers, nouns, actor_adj, adj_actor, sides, cues, attributions)
