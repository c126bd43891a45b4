"""Event dates from the sentence and the publication date.

Hand-written rather than dateparser: news dates come in a handful of forms ("on
Friday", "yesterday", "this week", "on 30 November", "in 2016") and this runs on every
sentence of every document, where a general parser costs milliseconds each.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import NamedTuple, Optional

from .lexicons import Caseless, Scanner, lower

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = {m: i + 1 for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"))}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9

_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|" \
         r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_PATTERNS = [(kind, Caseless(pattern)) for kind, pattern in [
    ("dmy", r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+((?:19|20)\d\d)\b"),
    ("mdy", r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b"),
    ("iso", r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b"),
    ("dm", r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?!\s*,?\s*(?:19|20)\d\d)\b"),
    ("md", r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!\s*,?\s*(?:19|20)\d\d)"),
    ("weekday", r"\b(?:on\s+|late\s+on\s+|early\s+on\s+|since\s+|last\s+)?"
                r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"),
    ("yesterday", r"\b(yesterday|last night|overnight)\b"),
    ("today", r"\b(today|this morning|this afternoon|this evening|tonight)\b"),
    ("this_week", r"\b(this week|earlier this week|past week|last few days|past few days)\b"),
    ("last_week", r"\b(last week)\b"),
    ("weekend", r"\b(?:(?:over|at|during)\s+the\s+weekend|(this|last)\s+weekend)\b"),
    ("month_year", r"\b(?:in|since|during|by)\s+" + _MONTH + r"\s+((?:19|20)\d\d)\b"),
    ("year", r"\b(?:in|since|during|by)\s+((?:19|20)\d\d)\b"),
]]
_SCAN = Scanner([pattern.lowered for _, pattern in _PATTERNS])


class DateMatch(NamedTuple):
    date: date
    precision: str      # day | week | month | year
    start: int
    end: int
    text: str


def _safe(y: int, m: int, d: int) -> Optional[date]:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _near_year(m: int, d: int, published: date) -> Optional[date]:
    """A day and month without a year: the most recent such date not long after publication."""
    cand = _safe(published.year, m, d)
    if cand and cand > published + timedelta(days=7):
        cand = _safe(published.year - 1, m, d)
    return cand


_HINT = Caseless(r"\d|day\b|yesterday|night|week|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
                 r"nov|dec")


def find_dates(sentence: str, published: Optional[date]) -> list[DateMatch]:
    """Every date expression of a sentence resolved against the publication date."""
    low = lower(sentence)
    if not _HINT.lowered.search(low):
        return []       # most sentences name no date: skip the dozen patterns
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    matches = _SCAN.finditer(low)
    for (kind, _), kind_matches in zip(_PATTERNS, matches):
        for m in kind_matches:
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            written = sentence[m.start():m.end()]
            d = _resolve(kind, m, written, published)
            if d is not None:
                found.append(DateMatch(d[0], d[1], m.start(), m.end(), written))
                taken.append(m.span())
    found.sort(key=lambda x: x.start)
    return found


def _resolve(kind: str, m: re.Match, written: str, pub: Optional[date]
             ) -> Optional[tuple[date, str]]:
    """The date a match names; ``written`` is its text as written (the match may have run
    on lower-cased text)."""
    g = m.groups()
    if kind == "dmy":
        d = _safe(int(g[2]), MONTHS[g[1].lower().rstrip(".")], int(g[0]))
        return (d, "day") if d else None
    if kind == "mdy":
        d = _safe(int(g[2]), MONTHS[g[0].lower().rstrip(".")], int(g[1]))
        return (d, "day") if d else None
    if kind == "iso":
        d = _safe(int(g[0]), int(g[1]), int(g[2]))
        return (d, "day") if d else None
    if kind == "month_year":
        return date(int(g[1]), MONTHS[g[0].lower().rstrip(".")], 1), "month"
    if kind == "year":
        return date(int(g[0]), 1, 1), "year"
    if pub is None:
        return None
    if kind == "dm":
        d = _near_year(MONTHS[g[1].lower().rstrip(".")], int(g[0]), pub)
        return (d, "day") if d else None
    if kind == "md":
        if g[0].lower() == "may" and not re.match(r"May\s+\d", written):
            return None
        d = _near_year(MONTHS[g[0].lower().rstrip(".")], int(g[1]), pub)
        return (d, "day") if d else None
    if kind == "weekday":
        back = (pub.weekday() - WEEKDAYS.index(g[0].lower())) % 7
        if written.lower().startswith("last ") and back == 0:
            back = 7
        return pub - timedelta(days=back), "day"
    if kind == "yesterday":
        return pub - timedelta(days=1), "day"
    if kind == "today":
        return pub, "day"
    if kind == "this_week":
        return pub - timedelta(days=pub.weekday()), "week"
    if kind == "last_week":
        return pub - timedelta(days=pub.weekday() + 7), "week"
    if kind == "weekend":                   # its Saturday: the last one, or the one before
        back = (pub.weekday() - 5) % 7
        if (g[0] or "").lower() == "last" and back < 2:
            back += 7
        return pub - timedelta(days=back), "week"
    return None
