"""Score predicted mentions and events against hand-made gold annotations.

The pipeline writes two GeoJSON FeatureCollections ([lon, lat], RFC 7946); this module
compares their features with gold files (``*.gold.json``, one per article, see the gold
README) and returns a JSON-serialisable result with a fixed key order, floats rounded to
3 decimals.  Only documents present in the gold are scored.

Mentions
    A predicted mention matches a gold mention when their character spans overlap in the
    same document; matching is one-to-one, greedy by largest overlap.  The headline
    figures (``mentions``) count only gold mentions inside Syria that are not actor usage
    ("Russia has responded"); a prediction matched to, or overlapping, one of the other
    gold mentions is left out of precision (neither TP nor FP).  ``mentions_all`` gives
    the same figures over every gold mention.

Resolution
    Over matched scored mentions with a gold point: share of predictions within 10 km
    (50 km for gold country/admin1/region levels or ``approx`` points) and the median
    error.  Roads (gold point null) are right when the predicted level is ``road``.

Events
    Same document, equal type, representative points within 25 km (50 km when the gold
    ``geo_precision`` is 3); gold events without a point match on type plus sentence
    overlap.  One-to-one greedy by (distance, then sentence overlap).  Unmatched pairs
    within distance that differ only in type are tallied in ``type_confusions``.
    Attribute accuracies are computed over the matched pairs.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from datetime import date
from pathlib import Path
from typing import Iterable, Optional

from .gazetteer import haversine_km

RESOLUTION_KM = 10.0
RESOLUTION_COARSE_KM = 50.0
COARSE_LEVELS = frozenset({"country", "admin1", "region"})
EVENT_KM = 25.0
EVENT_COARSE_KM = 50.0
SENTENCE_MIN_OVERLAP = 0.5   # for gold events without a point
MISS_SENTENCE_CHARS = 80
DIGITS = 3

_WORD = re.compile(r"\w+", re.UNICODE)


# --------------------------------------------------------------------------- loading

def load_gold(gold_dir: str | Path) -> dict[str, dict]:
    """Read every ``*.gold.json`` in *gold_dir*; key = the file's ``doc`` (sorted)."""
    out: dict[str, dict] = {}
    for path in sorted(Path(gold_dir).glob("*.gold.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        doc = data.get("doc") or path.name[: -len(".gold.json")] + ".txt"
        if doc in out:
            raise ValueError(f"two gold files for {doc}: {path}")
        out[doc] = data
    return out


def _features(items) -> list[dict]:
    """Accept a FeatureCollection, a list of features, or a list of bare property dicts."""
    if items is None:
        return []
    if isinstance(items, dict):
        items = items.get("features", [])
    return list(items)


def _props(feature: dict) -> dict:
    if "properties" in feature:
        return feature["properties"] or {}
    return feature


# --------------------------------------------------------------------------- geometry

def _lines(geom: Optional[dict]) -> list[list[tuple[float, float]]]:
    """Vertex lists ([(lon, lat), ...]) of a geometry; a point is a one-vertex line."""
    if not geom or not geom.get("coordinates"):
        return []
    t, c = geom.get("type"), geom["coordinates"]
    if t == "Point":
        return [[(float(c[0]), float(c[1]))]]
    if t in ("LineString", "MultiPoint"):
        return [[(float(x), float(y)) for x, y, *_ in c]]
    if t == "MultiLineString":
        return [[(float(x), float(y)) for x, y, *_ in line] for line in c]
    return []


def _nearest_on_segment(a, b, lon, lat) -> tuple[float, float]:
    """Point of segment a-b nearest to (lon, lat), in a local equirectangular plane."""
    k = math.cos(math.radians(lat))
    ax, ay, bx, by = (a[0] - lon) * k, a[1] - lat, (b[0] - lon) * k, b[1] - lat
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    t = 0.0 if den == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / den))
    return a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])


def representative_point(geom: Optional[dict], ref: Optional[tuple[float, float]] = None
                         ) -> Optional[tuple[float, float]]:
    """(lat, lon) standing for *geom*: the point itself; for a line the point nearest to
    *ref* (lat, lon) when given, else the midpoint along the line; None without geometry."""
    lines = [ln for ln in _lines(geom) if ln]
    if not lines:
        return None
    if len(lines) == 1 and len(lines[0]) == 1:
        lon, lat = lines[0][0]
        return lat, lon
    if ref is not None:
        rlat, rlon = ref
        best, best_d = None, math.inf
        for ln in lines:
            segs = list(zip(ln, ln[1:])) or [(ln[0], ln[0])]
            for a, b in segs:
                x, y = _nearest_on_segment(a, b, rlon, rlat)
                d = haversine_km(rlat, rlon, y, x)
                if d < best_d:
                    best, best_d = (y, x), d
        return best
    ln = max(lines, key=len)
    seglen = [haversine_km(a[1], a[0], b[1], b[0]) for a, b in zip(ln, ln[1:])]
    half = sum(seglen) / 2
    for (a, b), s in zip(zip(ln, ln[1:]), seglen):
        if half <= s and s > 0:
            t = half / s
            return a[1] + t * (b[1] - a[1]), a[0] + t * (b[0] - a[0])
        half -= s
    return ln[len(ln) // 2][1], ln[len(ln) // 2][0]


def _gold_point(g: dict) -> Optional[tuple[float, float]]:
    if g.get("lat") is None or g.get("lon") is None:
        return None
    return float(g["lat"]), float(g["lon"])


# --------------------------------------------------------------------------- helpers

def _ratio(num: int, den: int) -> Optional[float]:
    return None if den == 0 else num / den


def _prf(tp: int, fp: int, fn: int) -> dict:
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f = None if p is None or r is None else (0.0 if p + r == 0 else 2 * p * r / (p + r))
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}


def _overlap(s1: int, e1: int, s2: int, e2: int) -> int:
    return max(0, min(e1, e2) - max(s1, s2))


def sentence_overlap(a: Optional[str], b: Optional[str]) -> float:
    """Share of the shorter sentence's word types found in the other (0..1)."""
    ta = set(_WORD.findall((a or "").lower()))
    tb = set(_WORD.findall((b or "").lower()))
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))


def _greedy(pairs: list[tuple]) -> list[tuple[int, int]]:
    """One-to-one greedy matching; *pairs* are (sort key, gold index, pred index)."""
    used_g, used_p, out = set(), set(), []
    for _, gi, pi in sorted(pairs):
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gi, pi))
    return out


def _parse_date(value) -> Optional[date]:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _round(obj):
    if isinstance(obj, float):
        return round(obj, DIGITS)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v) for v in obj]
    return obj


def _is_scored(g: dict) -> bool:
    return bool(g.get("in_syria")) and not g.get("actor_usage")


def _by_doc(features: list[dict], docs) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {d: [] for d in docs}
    for f in features:
        doc = _props(f).get("doc")
        if doc in out:
            out[doc].append(f)
    return out


# --------------------------------------------------------------------------- mentions

def _score_mentions(gold: dict[str, dict], preds: dict[str, list[dict]], per_doc: dict,
                    misses: dict) -> tuple[dict, dict, dict]:
    tp = fp = fn = excluded = exact = 0
    all_tp = all_fp = all_fn = all_exact = 0
    res_n = res_ok = res_nopoint = road_n = road_ok = 0
    errors: list[float] = []
    for doc in gold:
        gms = gold[doc].get("mentions", [])
        pms = [_props(f) for f in preds[doc]]
        pairs = []
        for gi, g in enumerate(gms):
            for pi, p in enumerate(pms):
                ov = _overlap(g["start"], g["end"], int(p["start"]), int(p["end"]))
                if ov > 0:
                    pairs.append(((-ov, gi, pi), gi, pi))
        matches = _greedy(pairs)
        g_of_p = {pi: gi for gi, pi in matches}
        overlapping = {}  # pred index -> set of gold indices it overlaps
        for _, gi, pi in pairs:
            overlapping.setdefault(pi, set()).add(gi)
        scored = [_is_scored(g) for g in gms]
        d_tp = 0
        # all-gold figures
        all_tp += len(matches)
        all_fp += len(pms) - len(matches)
        all_fn += len(gms) - len(matches)
        for gi, pi in matches:
            g, p = gms[gi], pms[pi]
            if (g["start"], g["end"]) == (int(p["start"]), int(p["end"])):
                all_exact += 1
        # scored figures
        for pi, p in enumerate(pms):
            gi = g_of_p.get(pi)
            if gi is not None and scored[gi]:
                tp += 1
                d_tp += 1
                g = gms[gi]
                if (g["start"], g["end"]) == (int(p["start"]), int(p["end"])):
                    exact += 1
                # resolution
                gpt = _gold_point(g)
                if gpt is None:
                    road_n += 1
                    road_ok += p.get("level") == "road"
                else:
                    res_n += 1
                    ppt = representative_point(preds[doc][pi].get("geometry"), gpt)
                    if ppt is None:
                        res_nopoint += 1
                        continue
                    err = haversine_km(gpt[0], gpt[1], ppt[0], ppt[1])
                    errors.append(err)
                    coarse = g.get("level") in COARSE_LEVELS or bool(g.get("approx"))
                    res_ok += err <= (RESOLUTION_COARSE_KM if coarse else RESOLUTION_KM)
            elif gi is not None or any(not scored[x] for x in overlapping.get(pi, ())):
                excluded += 1
            else:
                fp += 1
                misses["fp_mentions"].append(
                    {"doc": doc, "text": p.get("text"), "start": int(p["start"])})
        matched_g = {gi for gi, _ in matches}
        n_scored = sum(scored)
        for gi, g in enumerate(gms):
            if scored[gi] and gi not in matched_g:
                fn += 1
                misses["gold_mentions"].append(
                    {"doc": doc, "text": g.get("text"), "start": g["start"]})
        per_doc[doc].update({"gold_mentions": n_scored, "pred_mentions": len(pms),
                             "matched_mentions": d_tp})
    mentions = _prf(tp, fp, fn)
    mentions["excluded"] = excluded
    mentions["exact_span"] = _ratio(exact, tp)
    mentions_all = _prf(all_tp, all_fp, all_fn)
    mentions_all["exact_span"] = _ratio(all_exact, all_tp)
    resolution = {"accuracy": _ratio(res_ok, res_n), "correct": res_ok, "n": res_n,
                  "median_error_km": statistics.median(errors) if errors else None,
                  "no_point": res_nopoint,
                  "road_accuracy": _ratio(road_ok, road_n), "road_correct": road_ok,
                  "road_n": road_n}
    return mentions, mentions_all, resolution


# --------------------------------------------------------------------------- events

def _event_pairs(gevs: list[dict], pfeats: list[dict], same_type: bool) -> list[tuple]:
    """Candidate (key, gi, pi) pairs: within distance (or sentence overlap without a gold
    point), with equal types when *same_type*, different types otherwise."""
    pairs = []
    for gi, g in enumerate(gevs):
        gpt = _gold_point(g)
        limit = EVENT_COARSE_KM if g.get("geo_precision") == 3 else EVENT_KM
        for pi, f in enumerate(pfeats):
            p = _props(f)
            if (p.get("type") == g.get("type")) != same_type:
                continue
            ov = sentence_overlap(g.get("sentence"), p.get("sentence"))
            if gpt is None:
                if ov < SENTENCE_MIN_OVERLAP:
                    continue
                dist = 0.0
            else:
                ppt = representative_point(f.get("geometry"), gpt)
                if ppt is None:
                    continue
                dist = haversine_km(gpt[0], gpt[1], ppt[0], ppt[1])
                if dist > limit:
                    continue
            pairs.append(((dist, -ov, gi, pi), gi, pi))
    return pairs


def _same_set(a, b) -> bool:
    return set(a or []) == set(b or [])


def _score_events(gold: dict[str, dict], preds: dict[str, list[dict]], per_doc: dict,
                  misses: dict) -> dict:
    tp = fp = fn = cc_tp = cc_fp = cc_fn = 0
    confusions: dict[tuple[str, str], int] = {}
    acc = {k: [0, 0] for k in ("actor", "to_actor", "target", "status", "fatalities",
                               "date_exact", "date_context")}
    for doc in gold:
        gevs = gold[doc].get("events", [])
        pfeats = preds[doc]
        pevs = [_props(f) for f in pfeats]
        matches = _greedy(_event_pairs(gevs, pfeats, same_type=True))
        mg = {gi for gi, _ in matches}
        mp = {pi for _, pi in matches}
        tp += len(matches)
        fp += len(pevs) - len(matches)
        fn += len(gevs) - len(matches)
        cc_tp += sum(gevs[gi].get("type") == "control_change" for gi, _ in matches)
        cc_fp += sum(p.get("type") == "control_change" for pi, p in enumerate(pevs)
                     if pi not in mp)
        cc_fn += sum(g.get("type") == "control_change" for gi, g in enumerate(gevs)
                     if gi not in mg)
        for gi, pi in sorted(matches):
            g, p = gevs[gi], pevs[pi]
            checks = {"actor": _same_set(g.get("actor"), p.get("actor")),
                      "to_actor": _same_set(g.get("to_actor"), p.get("to_actor")),
                      "target": _same_set(g.get("target"), p.get("target")),
                      "status": g.get("status") == p.get("status"),
                      "fatalities": g.get("fatalities") == p.get("fatalities")}
            pdate = _parse_date(p.get("date"))
            if g.get("date"):
                checks["date_exact"] = pdate == _parse_date(g["date"])
            gctx = _parse_date(g.get("date_context"))
            if gctx is not None:
                checks["date_context"] = pdate is not None and abs((pdate - gctx).days) <= 1
            for k, ok in checks.items():
                acc[k][0] += bool(ok)
                acc[k][1] += 1
        # type confusions among what is left unmatched
        rest_g = [g for gi, g in enumerate(gevs) if gi not in mg]
        rest_p = [f for pi, f in enumerate(pfeats) if pi not in mp]
        for gi, pi in _greedy(_event_pairs(rest_g, rest_p, same_type=False)):
            key = (rest_g[gi].get("type"), _props(rest_p[pi]).get("type"))
            confusions[key] = confusions.get(key, 0) + 1
        for g in rest_g:
            misses["gold_events"].append(
                {"doc": doc, "type": g.get("type"), "place": g.get("place"),
                 "sentence": (g.get("sentence") or "")[:MISS_SENTENCE_CHARS]})
        for f in rest_p:
            p = _props(f)
            misses["fp_events"].append(
                {"doc": doc, "type": p.get("type"), "place": p.get("place"),
                 "sentence": (p.get("sentence") or "")[:MISS_SENTENCE_CHARS]})
        per_doc[doc].update({"gold_events": len(gevs), "pred_events": len(pevs),
                             "matched_events": len(matches)})
    out = _prf(tp, fp, fn)
    out["control_change"] = _prf(cc_tp, cc_fp, cc_fn)
    out["type_confusions"] = [{"gold": g, "pred": p, "n": n}
                              for (g, p), n in sorted(confusions.items(),
                                                      key=lambda kv: (-kv[1], kv[0]))]
    out["attributes"] = {k: {"accuracy": _ratio(ok, n), "n": n} for k, (ok, n) in acc.items()}
    return out


# --------------------------------------------------------------------------- API

def score(gold: dict[str, dict], mentions, events) -> dict:
    """Score predicted mention and event features (lists of GeoJSON features, or
    FeatureCollections) against *gold* (from :func:`load_gold`)."""
    docs = sorted(gold)
    pm = _by_doc(_features(mentions), docs)
    pe = _by_doc(_features(events), docs)
    per_doc = {d: {} for d in docs}
    misses = {"gold_events": [], "fp_events": [], "gold_mentions": [], "fp_mentions": []}
    ms, ms_all, resolution = _score_mentions({d: gold[d] for d in docs}, pm, per_doc, misses)
    ev = _score_events({d: gold[d] for d in docs}, pe, per_doc, misses)
    order = ("gold_mentions", "pred_mentions", "matched_mentions",
             "gold_events", "pred_events", "matched_events")
    per_doc = {d: {k: per_doc[d][k] for k in order} for d in docs}
    return _round({"docs": len(docs), "mentions": ms, "mentions_all": ms_all,
                   "resolution": resolution, "events": ev, "per_doc": per_doc,
                   "misses": misses})


def gold_as_predictions(gold: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    """Mention and event features built from the gold itself (a perfect prediction);
    checks the loader and scorer on real data."""
    mentions, events = [], []
    for doc in sorted(gold):
        for m in gold[doc].get("mentions", []):
            geom = (None if m.get("lat") is None else
                    {"type": "Point", "coordinates": [m["lon"], m["lat"]]})
            mentions.append({"type": "Feature", "geometry": geom, "properties": {
                "doc": doc, "text": m["text"], "start": m["start"], "end": m["end"],
                "name": m.get("place"), "place_id": None, "level": m.get("level"),
                "admin1": None, "confidence": 1.0,
                "role": "actor" if m.get("actor_usage") else "location",
                "in_syria": bool(m.get("in_syria"))}})
        for i, e in enumerate(gold[doc].get("events", [])):
            geom = (None if e.get("lat") is None else
                    {"type": "Point", "coordinates": [e["lon"], e["lat"]]})
            events.append({"type": "Feature", "geometry": geom, "properties": {
                "event_id": f"{doc}#{i}", "doc": doc, "type": e.get("type"),
                "place": e.get("place"), "place_id": None,
                "geo_precision": e.get("geo_precision"),
                "actor": list(e.get("actor") or []), "target": list(e.get("target") or []),
                "to_actor": list(e.get("to_actor") or []),
                "from_actor": list(e.get("from_actor") or []),
                "date": e.get("date") or e.get("date_context"), "date_precision": "day",
                "status": e.get("status"), "fatalities": e.get("fatalities"),
                "sentence": e.get("sentence"), "start": None, "end": None}})
    return mentions, events


def _fmt(x) -> str:
    if x is None:
        return "  -  "
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def format_table(result: dict) -> str:
    """Human-readable summary of a :func:`score` result."""
    lines = [f"documents scored: {result['docs']}", "",
             f"{'':22}{'P':>7}{'R':>7}{'F1':>7}{'TP':>6}{'FP':>6}{'FN':>6}"]

    def row(label, d):
        lines.append(f"{label:22}{_fmt(d['precision']):>7}{_fmt(d['recall']):>7}"
                     f"{_fmt(d['f1']):>7}{d['tp']:>6}{d['fp']:>6}{d['fn']:>6}")

    row("mentions (scored)", result["mentions"])
    row("mentions (all gold)", result["mentions_all"])
    row("events", result["events"])
    row("  control_change", result["events"]["control_change"])
    m = result["mentions"]
    lines.append(f"exact span among matches: {_fmt(m['exact_span'])}   "
                 f"excluded predictions (actor usage / outside Syria): {m['excluded']}")
    r = result["resolution"]
    lines += ["", f"resolution: {_fmt(r['accuracy'])} ({r['correct']}/{r['n']}), "
                  f"median error {_fmt(r['median_error_km'])} km, no point {r['no_point']}; "
                  f"roads {_fmt(r['road_accuracy'])} ({r['road_correct']}/{r['road_n']})"]
    lines += ["", "event attributes (over matched events):"]
    for k, v in result["events"]["attributes"].items():
        lines.append(f"  {k:14}{_fmt(v['accuracy']):>7}  n={v['n']}")
    if result["events"]["type_confusions"]:
        lines += ["", "type confusions (gold -> predicted):"]
        for c in result["events"]["type_confusions"]:
            lines.append(f"  {c['gold']:>15} -> {c['pred']:<15}{c['n']:>4}")
    lines += ["", f"{'document':34}{'gM':>5}{'pM':>5}{'mM':>5}{'gE':>5}{'pE':>5}{'mE':>5}"]
    for doc, d in result["per_doc"].items():
        lines.append(f"{doc:34}{d['gold_mentions']:>5}{d['pred_mentions']:>5}"
                     f"{d['matched_mentions']:>5}{d['gold_events']:>5}{d['pred_events']:>5}"
                     f"{d['matched_events']:>5}")
    ms = result["misses"]
    sections = (("missed gold events", ms["gold_events"], ("type", "place", "sentence")),
                ("false-positive events", ms["fp_events"], ("type", "place", "sentence")),
                ("missed gold mentions", ms["gold_mentions"], ("text", "start")),
                ("false-positive mentions", ms["fp_mentions"], ("text", "start")))
    for title, items, keys in sections:
        if items:
            lines += ["", f"{title} ({len(items)}):"]
            for it in items:
                lines.append("  " + it["doc"] + "  " + " | ".join(str(it[k]) for k in keys))
    return "\n".join(lines) + "\n"


def main(argv: Optional[Iterable[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m geoevents.evaluate",
                                 description="Score geoevents outputs against gold.")
    ap.add_argument("--gold", required=True, help="directory of *.gold.json files")
    ap.add_argument("--mentions", required=True, help="mentions GeoJSON FeatureCollection")
    ap.add_argument("--events", required=True, help="events GeoJSON FeatureCollection")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(list(argv) if argv is not None else None)
    result = score(load_gold(args.gold),
                   json.loads(Path(args.mentions).read_text(encoding="utf-8")),
                   json.loads(Path(args.events).read_text(encoding="utf-8")))
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n" if args.json
                     else format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
