"""The folding key: every transliteration rule the resolver relies on, on real names."""
import pytest

import re

from geoevents.text import fold, sentences, word_characters

SAME = [
    # articles al-/el-/ad-/as-/ash-/ar-/az-/at-/an- or none
    ("al-Atarib", "Atarib"), ("El Atareb", "Atarib"), ("ad-Dana", "Dana"),
    ("as-Safira", "Safira"), ("Jisr ash-Shughur", "Jisr al-Shughur"),
    ("ar-Raqqa", "Raqqa"), ("az-Zarbah", "Zarbah"), ("at-Tall", "Tall"), ("an-Nayrab", "Nayrab"),
    # apostrophes, ayn and hamza marks
    ("Ma'arrat al-Nu'man", "Maarrat al-Numan"), ("Ma’arrat an-Nu’man", "Maarrat al-Numan"),
    ("Ma`arrat an Nu`man", "Maarrat al-Numan"), ("Maʿarrat al-Nuʿman", "Maarrat al-Numan"),
    ("Hay'at Tahrir", "Hayat Tahrir"),
    # diacritics
    ("Sarāqib", "Saraqib"), ("Ḩalab", "Halab"), ("Dārat ‘Izzah", "Darat Izza"),
    # hyphen or space, doubled letters
    ("Khan-Shaykhun", "Khan Shaykhun"), ("Maarat al-Numan", "Maarrat al-Numan"),
    ("Tall Rifaat", "Tal Rifaat"),
    # vowel spellings ee/i, ou/u/oo, e/i, a/e
    ("Rashideen", "Rashidin"), ("Sheikhoun", "Shaykhun"), ("Sheikoun", "Shaykhun"),
    ("Saraqeb", "Saraqib"), ("Seraqib", "Saraqib"), ("Edlib", "Idlib"), ("Menbij", "Manbij"),
    ("Souran", "Suran"), ("Kafr Nouboudeh", "Kafr Nubudah"),
    # q/k/g, kh/k
    ("Qamishli", "Kamishli"), ("Kuweires", "Quweires"), ("Khmeimim", "Kmeimim"),
    # Tal/Tel/Tell, Deir/Dayr/Deyr
    ("Tel Rifaat", "Tal Rifaat"), ("Tell Abyad", "Tal Abyad"),
    ("Dayr az-Zawr", "Deir ez-Zor"), ("Deyr ez Zor", "Deir ez-Zor"),
    # final h, y/w as vowels
    ("Hamah", "Hama"), ("Raqqah", "Raqqa"), ("Sweida", "Suwayda"), ("Shaykh Maqsud", "Sheikh Maqsoud"),
    # Arabic script: hamza forms of alef and the article
    ("الرقة", "رقه"), ("إدلب", "ادلب"),
]

DIFFERENT = [("Hama", "Homs"), ("Homs", "Hamas"), ("Hama", "Hamas"), ("Aleppo", "Idlib"),
             ("Syria", "Syrian"), ("Atarib", "Ariha"), ("Hmeimim", "Khmeimim")]


@pytest.mark.parametrize("a,b", SAME)
def test_spellings_fold_together(a, b):
    assert fold(a) == fold(b)


@pytest.mark.parametrize("a,b", DIFFERENT)
def test_distinct_names_stay_apart(a, b):
    assert fold(a) != fold(b)


def _words_with_offsets(text):
    chars = word_characters(text)
    assert len(chars) == len(text)
    return [(m.group(), m.start()) for m in re.finditer(r"\S+", chars)]


def test_word_characters_keep_offsets_apostrophes_inside_names_and_possessives_outside():
    text = ("Rebels entered Aleppo’s Hamdaniyah district—and Ma'arrat al-Nu‘man's "
            "‘old’ souk; IS's fighters fled (SDF), 'they said'. Sarāqib, سراقب!")
    got = _words_with_offsets(text)
    assert [w for w, _ in got] == [
        "Rebels", "entered", "Aleppo", "Hamdaniyah", "district", "and", "Ma'arrat", "al",
        "Nu'man", "old", "souk", "IS", "fighters", "fled", "SDF", "they", "said", "Sarāqib",
        "سراقب"]
    for word, start in got:     # apostrophes come back as "'", everything else as written
        assert text[start:start + len(word)].translate(str.maketrans("’‘", "''")) == word


def test_sentences_keep_offsets_abbreviations_and_headlines():
    text = ("Rebels Take Saraqib\nU.S. officials said Brig. Gen. Smith left. "
            "Jets struck Atarib on Friday. “We hold the town,” a commander said.")
    got = list(sentences(text))
    assert [s.text for s in got] == [
        "Rebels Take Saraqib", "U.S. officials said Brig. Gen. Smith left.",
        "Jets struck Atarib on Friday.", "“We hold the town,” a commander said."]
    assert all(text[s.start:s.end] == s.text for s in got)


def test_caseless_pattern_matches_any_case_but_not_turkish_i_for_i():
    from geoevents.lexicons import Caseless, lower
    cue = Caseless(r"\bwithin\s+$")
    for text, hit in (("Fighting WITHIN Aleppo", True), ("fighting Within Aleppo", True),
                      ("fighting wıthin Aleppo", False), ("İn fact, wİthin Aleppo", False)):
        low = lower(text)
        assert len(low) == len(text)
        assert (cue.searcher(low)(0, len(text) - 6) is not None) == hit, text
    with pytest.raises(ValueError):
        Caseless(r"\bWithin")


def test_turkish_letters_never_crash_the_event_builder():
    from datetime import date
    from geoevents.model import Document
    from geoevents.pipeline import Pipeline
    pipe = Pipeline()
    for text in ("Rebels captured Saraqib on Frıday. The cıty fell.",
                 "On FRİDAY rebels captured Atarib; the cİty was quiet.",
                 "Rebels entered Hama. The cıty was quiet. ſhelling hit it on Monday."):
        r = pipe.extract(Document("t", text, date(2024, 11, 30)))
        assert r.events, text


def test_word_trie_matches_exactly_its_words_longest_first():
    from geoevents.lexicons import word_trie
    words = ["al", "an", "and", "of", "the", "north-east", "a.b"]
    rx = re.compile("(?:" + word_trie(words) + ")")
    assert all(rx.fullmatch(w) for w in words)
    assert not any(rx.fullmatch(w) for w in ["", "a", "th", "ands", "north", "axb", "east"])
    assert rx.match("andes").group() == "and"       # the longer word first, like "and|an"


def test_word_characters_of_text_in_every_script_keeps_its_table_small():
    from geoevents.text import _WORD_CHARACTERS
    text = "".join(chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c < 0xE000)
    chars = word_characters(text)
    assert len(chars) == len(text)
    assert all((c == " ") != (c.isalnum() or c == "'") for c in chars)
    assert len(_WORD_CHARACTERS) <= 20_000


def test_whole_words_finds_what_the_plain_alternation_finds():
    from geoevents.lexicons import whole_words
    words = ["while", "but", "whereas", "as", "killed", "lost their lives", "a"]
    fast = re.compile(whole_words(words), re.I)
    plain_rx = re.compile(r"\b(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")\b",
                          re.I)
    text = ("WHILE rebels killed two, whereas others Lost Their Lives; a bus, as well, "
            "but-not butter, killedx, awhile, A.")
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain_rx.finditer(text)]
    assert [m.group() for m in fast.finditer(text)][:4] == ["WHILE", "killed", "whereas",
                                                           "Lost Their Lives"]
