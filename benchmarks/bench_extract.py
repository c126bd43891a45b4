"""Benchmark: gazetteer load, resolver and whole-extraction throughput, peak memory.

Generates news-length documents (about 260 words) from sentence templates filled with
real gazetteer names in varied spellings, then times the stages on one core; then times
real prose, the demo corpus repeated.

    python benchmarks/bench_extract.py [--docs 10000] [--seed 7] [--passes 3]

Each stage is timed over ``--passes`` passes, each with a fresh Resolver and EventBuilder
(their per-spelling memories start empty; the process-wide word-folding caches stay warm,
as in a long stream), and the best and median passes are printed: on
a shared virtual machine one pass can run a third slower than the next for reasons that
are not the code's.

Targets (issues 3 and 4): gazetteer load <= 0.3 s, resolver >= 2,000 docs/s, resolver +
events >= 500 docs/s, peak memory <= 300 MB for the resolver.
"""
from __future__ import annotations

import argparse
import random
import resource
import time
from dataclasses import replace
from datetime import date, timedelta

TEMPLATES = [
    "{actor} captured {place} on {weekday} after heavy fighting, the Syrian Observatory said.",
    "Russian and Syrian jets struck {place} and {place2}, killing at least {n} civilians.",
    "Clashes erupted on the outskirts of {place} as government forces sent reinforcements.",
    "{actor} said they had advanced toward {place}, a claim state media denied.",
    "The army withdrew from {place} late on {weekday}, a military source said.",
    "Artillery shelling hit residential areas of {place} overnight.",
    "Residents of {place} described long queues for bread and fuel.",
    "Aid agencies warned that displacement from {place} and {place2} could grow.",
    "Analysts said the fall of {place} would reshape the front line in {province} province.",
    "{actor} encircled {place}, cutting the road to {place2}.",
]
ACTORS = ["Rebels", "Hayat Tahrir al-Sham fighters", "Turkish-backed factions",
          "Government forces", "The Syrian Democratic Forces"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def corpus(n: int, seed: int):
    from geoevents.gazetteer import default_gazetteer
    from geoevents.model import Document
    gaz = default_gazetteer()
    rng = random.Random(seed)
    towns = sorted((p for p in gaz.places.values() if p.level in ("city", "town")),
                   key=lambda p: p.id)
    provinces = sorted({p.admin1 for p in towns if p.admin1})
    filler = ("The situation on the ground remained fluid and difficult to verify "
              "independently, with communications cut in several districts. ")

    def name(p):
        return rng.choice([x for x in p.names if x.isascii()] or [p.name])

    for i in range(n):
        parts = []
        for _ in range(12):
            t = rng.choice(TEMPLATES)
            parts.append(t.format(actor=rng.choice(ACTORS), place=name(rng.choice(towns)),
                                  place2=name(rng.choice(towns)), weekday=rng.choice(WEEKDAYS),
                                  n=rng.randint(2, 40), province=rng.choice(provinces)))
            if rng.random() < 0.5:
                parts.append(filler)
        yield Document(f"gen-{i:06d}", " ".join(parts),
                       date(2024, 11, 27) + timedelta(days=rng.randint(0, 11)), "bench")


def demo_corpus(repeats: int) -> list:
    """The reports shipped as the demo corpus, each ``repeats`` times under its own id:
    real prose, whose names and phrases recur as they do in a news stream."""
    from importlib import resources
    from geoevents.documents import read_documents
    demo = [d for d in read_documents([str(resources.files("geoevents") / "demo")])
            if hasattr(d, "text")]
    return [replace(d, id=f"{d.id}#{i}") for i in range(repeats) for d in demo]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--prose-repeats", type=int, default=100)
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from geoevents.gazetteer import Gazetteer
    gaz = Gazetteer.load()
    load_s = time.perf_counter() - t0
    print(f"gazetteer load (cached index): {load_s:.3f} s, {len(gaz.places):,} places, "
          f"{len(gaz.by_key):,} keys")

    docs = list(corpus(args.docs, args.seed))
    words = sum(len(d.text.split()) for d in docs) / len(docs)
    print(f"corpus: {len(docs):,} generated documents, {words:.0f} words each on average")

    from geoevents.events import EventBuilder
    from geoevents.model import Document
    from geoevents.resolver import Resolver
    res_times, ev_times = [], []
    for _ in range(args.passes):
        resolver, builder = Resolver(gaz), EventBuilder()
        t0 = time.perf_counter()
        all_mentions = [resolver(d) for d in docs]
        res_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        n_events = sum(len(builder(d, m)) for d, m in zip(docs, all_mentions))
        ev_times.append(time.perf_counter() - t0)
    n_mentions = sum(len(m) for m in all_mentions)
    both = [r + e for r, e in zip(res_times, ev_times)]

    def rates(times: list[float]) -> str:
        best, median = min(times), sorted(times)[len(times) // 2]
        return (f"{len(docs) / best:,.0f} docs/s (median pass {len(docs) / median:,.0f}, "
                f"first pass {len(docs) / times[0]:,.0f})")
    print(f"resolver: {rates(res_times)} ({n_mentions:,} mentions)")
    print(f"event builder: {rates(ev_times)} ({n_events:,} events)")
    print(f"resolver + events: {rates(both)} on one core")
    prose = demo_corpus(args.prose_repeats)
    t0 = time.perf_counter()
    prose_mentions = [resolver(d) for d in prose]
    prose_res_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d, m in zip(prose, prose_mentions):
        builder(d, m)
    prose_ev_s = time.perf_counter() - t0
    print(f"real prose (the demo corpus x{args.prose_repeats}, {len(prose):,} documents): "
          f"resolver {len(prose) / prose_res_s:,.0f} docs/s, resolver + events "
          f"{len(prose) / (prose_res_s + prose_ev_s):,.0f} docs/s")
    long_doc = Document("long", " ".join(d.text for d in docs[:150]), date(2024, 12, 1))
    t0 = time.perf_counter()
    builder(long_doc, resolver(long_doc))
    print(f"one long document ({len(long_doc.text) / 1e6:.1f} MB, one text): "
          f"{time.perf_counter() - t0:.1f} s (linear in length)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (whole process, corpus held in memory): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
