"""Text utilities shared by the gazetteer and the resolver: the transliteration-folding
key, the characters of words (offsets kept), word tokens and sentence spans.

Arabic place names reach English text in many spellings (Saraqib/Saraqeb/Sarāqib,
Maarrat/Ma'arat, Sheikhoun/Shaykhun, Tal/Tel/Tell, Deir/Dayr).  ``fold`` maps them all
to one key by keeping the consonant skeleton: vowel runs collapse to one symbol,
doubled letters collapse, q/k/g and kh/gh/k merge, and Arabic articles disappear.  The
gazetteer indexes names by this key and the resolver folds text the same way, so one
exact multi-pattern search finds every spelling.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterator, NamedTuple, Optional

ARTICLES = frozenset({"al", "el", "il", "ul", "ad", "ed", "adh", "as", "es", "ash", "esh",
                      "ar", "er", "az", "ez", "at", "et", "ath", "an", "en", "aț", "aş"})

_APOSTROPHES = "'’‘`ʿʾ´ʻʼ′"
# a letter, then letters and digits, with an apostrophe only between letters (Ma'arrat);
# or a number.  Written unrolled: twice as fast as an alternation per character.
_TOKEN_RE = re.compile(r"[^\W\d_][^\W_]*(?:[" + _APOSTROPHES + r"][^\W\d_][^\W_]*)*|\d+(?:[.,]\d+)*")
# In text whose apostrophes are all "'": a possessive ending of a word of more than three
# characters ("Aleppo's"), and an apostrophe that is not between two letters of a word
# (each pattern opens with the apostrophe, which the engine then looks for at C speed)
_POSSESSIVE = re.compile(r"'(?<=[\w']{3})s(?!\w|'[^\W\d])")
_LOOSE_APOSTROPHE = re.compile(r"'(?:(?![^\W\d_])|(?<!\w'))")
_ARABIC_RE = re.compile(r"[\u0600-\u06FF]")
_ARABIC_MARKS = re.compile(r"[\u064B-\u065F\u0670\u0640]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي",
                              "ؤ": "و", "ئ": "ي"})

# Order matters: digraphs before single letters.
_DIGRAPHS = (("kh", "k"), ("gh", "k"), ("ck", "k"), ("sh", "s"), ("ch", "s"), ("sch", "s"),
             ("th", "t"), ("dh", "d"), ("ph", "f"), ("dj", "j"), ("ou", "u"), ("oo", "u"),
             ("ee", "i"))
_SINGLE = str.maketrans({"q": "k", "g": "k", "c": "k", "p": "b", "v": "f", "x": "ks",
                         "ç": "s", "ş": "s", "ğ": "k", "ı": "i"})
_VOWELS = frozenset("aeiou")


def is_arabic(text: str) -> bool:
    """True when the string holds Arabic script."""
    return bool(_ARABIC_RE.search(text))


def strip_marks(text: str) -> str:
    """Remove Latin diacritics (Sarāqib -> Saraqib) without changing other characters."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# English compass words get fixed keys: their skeletons would collide (western/eastern).
_COMPASS = {"north": "~n", "northern": "~n", "south": "~s", "southern": "~s", "east": "~e",
            "eastern": "~e", "west": "~w", "western": "~w", "northeast": "~ne",
            "northeastern": "~ne", "northwest": "~nw", "northwestern": "~nw",
            "southeast": "~se", "southeastern": "~se", "southwest": "~sw",
            "southwestern": "~sw", "central": "~c"}


@lru_cache(maxsize=200_000)
def fold_word(word: str) -> str:
    """Fold one word to its transliteration-independent key ('' for an article)."""
    compass = _COMPASS.get(word.lower())
    if compass:
        return compass
    if is_arabic(word):
        w = _ARABIC_MARKS.sub("", word).translate(_ARABIC_FOLD)
        return w[2:] if w.startswith("ال") and len(w) > 3 else w
    w = strip_marks(word).lower()
    for ch in _APOSTROPHES:
        w = w.replace(ch, "")
    if w in ARTICLES:
        return ""
    for a, b in _DIGRAPHS:
        w = w.replace(a, b)
    w = w.translate(_SINGLE)
    out: list[str] = []
    n = len(w)
    for i, ch in enumerate(w):
        if ch in ("y", "w") and i > 0:
            # y/w inside a word next to a vowel (or word-final) act as vowels:
            # Shaykh/Sheikh, Suwayda/Sweida; word-initial they stay (Yabroud, western).
            prev_v = w[i - 1] in _VOWELS
            next_v = i + 1 < n and w[i + 1] in _VOWELS
            if prev_v or next_v or i == n - 1:
                ch = "a"
        elif ch in _VOWELS:
            ch = "a"
        if ch == "h" and i == n - 1 and n > 2:
            continue  # Hamah/Hama, Izzah/Izza, Raqqah/Raqqa
        if out and out[-1] == ch:
            continue  # doubled letters and vowel runs collapse
        out.append(ch)
    return "".join(out)


_DOUBLED = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)
def plain(name: str) -> str:
    """A light normal form for comparing spellings: lower case, no diacritics, apostrophes
    or articles, single letters for doubled ones ("Ma'arrat an-Nu'man" -> "marat numan")."""
    words = []
    for m in _TOKEN_RE.finditer(strip_marks(name).lower()):
        w = m.group()
        for ch in _APOSTROPHES:
            w = w.replace(ch, "")
        if w not in ARTICLES:
            words.append(_DOUBLED.sub(r"\1", w))
    return " ".join(words)


def fold(name: str) -> str:
    """Fold a whole name ('Jisr ash-Shughur') to its key ('jasr sakar')."""
    return " ".join(k for k in (fold_word(t.group()) for t in _TOKEN_RE.finditer(name)) if k)


class Words(NamedTuple):
    """Word tokens of a text as parallel lists, built without a Python object per word:
    the resolver looks closely at only the few words that can be names."""
    text: list[str]
    start: list[int]
    end: list[int]


class _WordCharacters(dict):
    """The ``str.translate`` table of ``word_characters``, filled as characters are met:
    letters and digits stay, every apostrophe becomes "'", anything else a space."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        kept = "'" if ch in _APOSTROPHES else ch if ch.isalnum() else " "
        if len(self) >= 20_000:
            self.clear()    # text in every script there is: memory stays flat
        self[code] = kept
        return kept


_WORD_CHARACTERS = _WordCharacters()


def word_characters(text: str) -> str:
    """``text`` with every character that is not part of a word turned into a space, so
    that its words are what ``split()`` gives, at the same offsets.  Hyphens, spaces and
    punctuation separate words, apostrophes become "'" and join two letters ("Ma'arrat"),
    a possessive ending stays outside ("Aleppo's" -> "Aleppo"), and a number's marks
    separate it ("12,000").  One string method in C instead of a regular expression per
    character: the resolver reads closely only the few words that can be names."""
    chars = text.translate(_WORD_CHARACTERS)
    if "'" in chars:
        chars = _LOOSE_APOSTROPHE.sub(" ", _POSSESSIVE.sub("  ", chars))
    return chars


_SENT_END = re.compile(r"[.!?][\"'”’)]*(\s+)(?=[\"'“‘(]*[A-Z0-9\u0600-\u06FF])|(\n+)")
_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Gen|Brig|Col|Lt|Maj|Sgt|Capt|St|Jan|Feb|Aug|Sept|Oct|Nov|Dec|No|vs|etc|U\.S|U\.N|U\.K|e\.g|i\.e)\.|\b[A-Z]\.)$")


class Sentence(NamedTuple):
    start: int
    end: int
    text: str


def sentences(text: str) -> Iterator[Sentence]:
    """Split text into sentences with offsets; newlines always end a sentence (headlines)."""
    start = 0
    for m in _SENT_END.finditer(text):
        gap = 1 if m.group(1) is not None else 2
        cut = m.start(gap)
        if gap == 1 and "\n" not in m.group(1) and _ABBREV.search(text[max(start, m.start() - 6):m.start() + 1]):
            continue
        sent = _trimmed(text, start, cut)
        if sent:
            yield sent
        start = m.end()
    sent = _trimmed(text, start, len(text))
    if sent:
        yield sent


def _trimmed(text: str, start: int, end: int) -> Optional[Sentence]:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return None
    s = start + chunk.find(stripped[0])     # the first character that is not a space
    return Sentence(s, s + len(stripped), stripped)
