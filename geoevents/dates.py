"""Event dates from the sentence and the publication date.

Hand-written rather than dateparser: news dates come in a handful of forms ("on
Friday", "yesterday", "this week", "on 30 November", "in 2016") and this runs on every
sentence of every document, where a general parser costs milliseconds each.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import NamedTuple, Optional

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = {m: i + 1 for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"))}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9

_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|" \
         r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_PATTERNS = [
    ("dmy", re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+((?:19|20)\d\d)\b", re.I)),
    ("mdy", re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.I)),
    ("iso", re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")),
    ("dm", re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?!\s*,?\s*(?:19|20)\d\d)\b", re.I)),
    ("md", re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!\s*,?\s*(?:19|20)\d\d)", re.I)),
    ("weekday", re.compile(r"\b(?:on\s+|late\s+on\s+|early\s+on\s+|since\s+|last\s+)?"
                           r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I)),
    ("yesterday", re.compile(r"\b(yesterday|last night|overnight)\b", re.I)),
    ("today", re.compile(r"\b(today|this morning|this afternoon|this evening|tonight)\b", re.I)),
    ("this_week", re.compile(r"\b(this week|earlier this week|past week|last few days|past few days)\b", re.I)),
    ("last_week", re.compile(r"\b(last week)\b", re.I)),
    ("month_year", re.compile(r"\b(?:in|since|during|by)\s+" + _MONTH + r"\s+((?:19|20)\d\d)\b", re.I)),
    ("year", re.compile(r"\b(?:in|since|during|by)\s+((?:19|20)\d\d)\b", re.I)),
]


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


_HINT = re.compile(r"\d|day\b|yesterday|night|week|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
                   r"nov|dec", re.I)


def find_dates(sentence: str, published: Optional[date]) -> list[DateMatch]:
    """Every date expression of a sentence resolved against the publication date."""
    if not _HINT.search(sentence):
        return []       # most sentences name no date: skip the dozen patterns
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    for kind, rx in _PATTERNS:
        for m in rx.finditer(sentence):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            d = _resolve(kind, m, published)
            if d is not None:
                found.append(DateMatch(d[0], d[1], m.start(), m.end(), m.group()))
                taken.append(m.span())
    found.sort(key=lambda x: x.start)
    return found


def _resolve(kind: str, m: re.Match, pub: Optional[date]) -> Optional[tuple[date, str]]:
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
        if g[0].lower() == "may" and not re.match(r"May\s+\d", m.group()):
            return None
        d = _near_year(MONTHS[g[0].lower().rstrip(".")], int(g[1]), pub)
        return (d, "day") if d else None
    if kind == "weekday":
        back = (pub.weekday() - WEEKDAYS.index(g[0].lower())) % 7
        if m.group().lower().startswith("last ") and back == 0:
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
    return None
