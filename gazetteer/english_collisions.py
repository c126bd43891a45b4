"""Write ``gazetteer/common_words.tsv``: everyday English words that fold like a place.

The folding key merges spellings aggressively ("Civilian" and the village Qufaylun share
a skeleton), so the resolver needs to know which capitalised English words collide with a
gazetteer key.  This build step lists the 30,000 most frequent English words (wordfreq,
a build-time dependency only: ``pip install wordfreq``) whose folded key is a gazetteer
key.  Run it after ``compile.py``:

    python gazetteer/english_collisions.py
"""
from __future__ import annotations

from pathlib import Path

from geoevents.export import atomic_write
from geoevents.gazetteer import Gazetteer
from geoevents.text import fold

OUT = Path(__file__).resolve().parent / "common_words.tsv"


def main() -> None:
    from wordfreq import top_n_list
    gaz = Gazetteer.load(extra_dirs=[])
    rows = sorted({(w, fold(w)) for w in top_n_list("en", 30_000)
                   if w.isalpha() and len(w) > 1 and fold(w) in gaz.by_key})
    atomic_write(OUT, "word\tkey\n" + "".join(f"{w}\t{k}\n" for w, k in rows))
    print(f"{len(rows)} English words collide with gazetteer keys -> {OUT}")


if __name__ == "__main__":
    main()
