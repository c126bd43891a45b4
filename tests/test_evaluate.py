"""Evaluation against gold: small hand-made gold files and predictions, exact figures."""
import json
import math
from pathlib import Path

import pytest

from geoevents.evaluate import (format_table, gold_as_predictions, haversine_km, load_gold,
                                representative_point, score)

DOC = "900_testdoc.txt"
TEXT = ("Government troops retook Kafr Tala on Monday after heavy fighting. "
        "Moscow said its aircraft bombed positions near Tell Hamra. "
        "Convoys moved along the M7 road towards Qasr Bani.")
# invented places, plausible points in northern Syria
KAFR_TALA = (35.90, 36.70)
TELL_HAMRA = (36.30, 37.10)
QASR_BANI = (35.50, 37.40)
MOSCOW = (55.75, 37.62)
S1 = TEXT.split(". ")[0] + "."
S2 = TEXT.split(". ")[1] + "."


def span(text, sub, nth=0):
    i = -1
    for _ in range(nth + 1):
        i = text.index(sub, i + 1)
    return i, i + len(sub)


def gmention(sub, level, point, in_syria=True, actor_usage=False, approx=False):
    s, e = span(TEXT, sub)
    lat, lon = point if point else (None, None)
    return {"text": sub, "start": s, "end": e, "place": sub, "level": level, "lat": lat,
            "lon": lon, "in_syria": in_syria, "actor_usage": actor_usage, "approx": approx}


def gevent(type_, place, point, sentence, geo_precision=1, status="reported", **kw):
    lat, lon = point if point else (None, None)
    ev = {"type": type_, "place": place, "lat": lat, "lon": lon,
          "geo_precision": geo_precision, "actor": ["syrian_government"], "target": ["hts"],
          "to_actor": [], "from_actor": [], "date": None, "date_context": None,
          "status": status, "fatalities": None, "sentence": sentence}
    ev.update(kw)
    return ev


def make_gold():
    return {DOC: {
        "doc": DOC, "published": "2030-01-08",
        "mentions": [gmention("Kafr Tala", "town", KAFR_TALA),
                     gmention("Moscow", "city", MOSCOW, in_syria=False, actor_usage=True),
                     gmention("Tell Hamra", "village", TELL_HAMRA),
                     gmention("M7", "road", None),
                     gmention("Qasr Bani", "town", QASR_BANI)],
        "events": [gevent("control_change", "Kafr Tala", KAFR_TALA, S1,
                          to_actor=["syrian_government"], from_actor=["hts"],
                          date="2030-01-07", date_context="2030-01-07"),
                   gevent("airstrike", "Tell Hamra", TELL_HAMRA, S2, geo_precision=2,
                          actor=["russia"], status="claimed", fatalities=3,
                          date_context="2030-01-06")]}}


def point(lat, lon):
    return {"type": "Point", "coordinates": [lon, lat]}


def pmention(sub, level, geom, nth=0, doc=DOC, start=None, end=None):
    s, e = span(TEXT, sub, nth)
    return {"type": "Feature", "geometry": geom, "properties": {
        "doc": doc, "text": sub, "start": s if start is None else start,
        "end": e if end is None else end, "name": sub, "place_id": None, "level": level,
        "admin1": None, "confidence": 0.9, "role": "location", "in_syria": True}}


def pevent(gold_ev, geom=None, doc=DOC, **kw):
    props = {k: gold_ev[k] for k in ("type", "place", "geo_precision", "actor", "target",
                                     "to_actor", "from_actor", "status", "fatalities",
                                     "sentence")}
    props.update({"event_id": "e", "doc": doc, "place_id": None,
                  "date": gold_ev["date"] or gold_ev["date_context"], "date_precision": "day",
                  "start": 0, "end": 0})
    props.update(kw)
    if geom is None:
        geom = point(gold_ev["lat"], gold_ev["lon"])
    return {"type": "Feature", "geometry": geom, "properties": props}


def perfect(gold):
    return gold_as_predictions(gold)


def north_of(p, km):
    return p[0] + km / 111.195, p[1]


def all_scores(obj, path=""):
    """Every precision/recall/f1/accuracy/exact_span figure in a result."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("precision", "recall", "f1", "accuracy", "exact_span", "road_accuracy"):
                out.append((path + "." + k, v))
            else:
                out.extend(all_scores(v, path + "." + k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(all_scores(v, f"{path}[{i}]"))
    return out


# ------------------------------------------------------------------ perfect / loading

def test_perfect_prediction_scores_one_everywhere(tmp_path):
    gold = make_gold()
    (tmp_path / "900_testdoc.gold.json").write_text(json.dumps(gold[DOC]), encoding="utf-8")
    loaded = load_gold(tmp_path)
    assert list(loaded) == [DOC]
    r = score(loaded, *perfect(loaded))
    scores = all_scores(r)
    assert scores and all(v == 1.0 for _, v in scores if v is not None), scores
    assert r["mentions"]["tp"] == 4 and r["mentions"]["excluded"] == 1
    assert r["mentions_all"]["tp"] == 5
    assert r["resolution"]["n"] == 3 and r["resolution"]["road_n"] == 1
    assert r["resolution"]["median_error_km"] == 0.0
    assert r["events"]["tp"] == 2 and r["events"]["control_change"]["tp"] == 1
    attrs = r["events"]["attributes"]
    assert attrs["date_exact"]["n"] == 1 and attrs["date_context"]["n"] == 2
    assert r["misses"] == {"gold_events": [], "fp_events": [], "gold_mentions": [],
                           "fp_mentions": []}
    assert r["per_doc"][DOC] == {"gold_mentions": 4, "pred_mentions": 5,
                                 "matched_mentions": 4, "gold_events": 2, "pred_events": 2,
                                 "matched_events": 2}
    json.dumps(r)  # serialisable
    assert list(r) == ["docs", "mentions", "mentions_all", "resolution", "events",
                       "per_doc", "misses"]
    table = format_table(r)
    assert "mentions (scored)" in table and "control_change" in table


def test_deterministic_and_featurecollection_input():
    gold = make_gold()
    m, e = perfect(gold)
    a = score(gold, m, e)
    b = score(gold, {"type": "FeatureCollection", "features": list(reversed(m))},
              {"type": "FeatureCollection", "features": e})
    assert json.dumps(a) == json.dumps(b)


def test_other_documents_are_ignored():
    gold = make_gold()
    m, e = perfect(gold)
    m.append(pmention("Kafr Tala", "town", point(*KAFR_TALA), doc="other.txt"))
    e.append(pevent(gold[DOC]["events"][0], doc="other.txt"))
    r = score(gold, m, e)
    assert r["mentions"]["precision"] == 1.0 and r["events"]["precision"] == 1.0
    assert list(r["per_doc"]) == [DOC]


# ------------------------------------------------------------------ mentions

def test_missing_mention_lowers_recall():
    gold = make_gold()
    m, e = perfect(gold)
    m = [f for f in m if f["properties"]["text"] != "Qasr Bani"]
    r = score(gold, m, e)["mentions"]
    assert (r["tp"], r["fp"], r["fn"]) == (3, 0, 1)
    assert r["precision"] == 1.0 and r["recall"] == 0.75
    assert r["f1"] == round(2 * 0.75 / 1.75, 3)
    res = score(gold, m, e)
    assert res["misses"]["gold_mentions"] == [
        {"doc": DOC, "text": "Qasr Bani", "start": span(TEXT, "Qasr Bani")[0]}]
    assert res["mentions_all"]["recall"] == 0.8


def test_actor_usage_match_is_not_a_false_positive():
    gold = make_gold()
    m, e = perfect(gold)
    assert any(f["properties"]["text"] == "Moscow" for f in m)
    r = score(gold, m, e)
    assert r["mentions"]["fp"] == 0 and r["mentions"]["precision"] == 1.0
    assert r["mentions"]["excluded"] == 1
    # leaving the actor usage out costs nothing on the scored set either
    m2 = [f for f in m if f["properties"]["text"] != "Moscow"]
    r2 = score(gold, m2, e)
    assert r2["mentions"]["recall"] == 1.0 and r2["mentions"]["excluded"] == 0
    assert r2["mentions_all"]["recall"] == 0.8


def test_unmatched_prediction_is_a_false_positive():
    gold = make_gold()
    m, e = perfect(gold)
    m.append(pmention("Convoys", "town", point(35.0, 37.0)))
    r = score(gold, m, e)
    assert r["mentions"]["fp"] == 1 and r["mentions"]["precision"] == 0.8
    assert r["misses"]["fp_mentions"] == [
        {"doc": DOC, "text": "Convoys", "start": span(TEXT, "Convoys")[0]}]


def test_greedy_one_to_one_two_predictions_for_one_gold():
    gold = make_gold()
    m, e = perfect(gold)
    m = [f for f in m if f["properties"]["text"] != "Kafr Tala"]
    s, end = span(TEXT, "Kafr Tala")
    m.append(pmention("Kafr Tala", "town", point(*KAFR_TALA), start=s + 5, end=end))  # "Tala"
    m.append(pmention("Kafr Tala", "town", point(*KAFR_TALA)))  # exact span
    r = score(gold, m, e)
    assert (r["mentions"]["tp"], r["mentions"]["fp"], r["mentions"]["fn"]) == (4, 1, 0)
    assert r["mentions"]["precision"] == 0.8
    assert r["mentions"]["exact_span"] == 1.0  # the larger overlap won the match
    assert r["misses"]["fp_mentions"][0]["start"] == s + 5


def test_partial_span_counts_but_lowers_exact_span():
    gold = make_gold()
    m, e = perfect(gold)
    for f in m:
        if f["properties"]["text"] == "Tell Hamra":
            f["properties"]["start"] += 5  # "Hamra" only
    r = score(gold, m, e)["mentions"]
    assert r["tp"] == 4 and r["exact_span"] == 0.75


# ------------------------------------------------------------------ resolution

def test_resolution_thresholds_and_median():
    gold = make_gold()
    m, e = perfect(gold)
    for f in m:
        t = f["properties"]["text"]
        if t == "Kafr Tala":
            f["geometry"] = point(*north_of(KAFR_TALA, 5))     # within 10 km
        elif t == "Tell Hamra":
            f["geometry"] = point(*north_of(TELL_HAMRA, 20))   # too far for a village
    r = score(gold, m, e)["resolution"]
    assert (r["correct"], r["n"]) == (2, 3) and r["accuracy"] == 0.667
    assert r["median_error_km"] == 5.0
    # an approximate (region) point allows 50 km
    gold[DOC]["mentions"][2]["approx"] = True
    assert score(gold, m, e)["resolution"]["accuracy"] == 1.0


def test_resolution_prediction_without_point_is_wrong():
    gold = make_gold()
    m, e = perfect(gold)
    for f in m:
        if f["properties"]["text"] == "Qasr Bani":
            f["geometry"] = None
    r = score(gold, m, e)["resolution"]
    assert r["no_point"] == 1 and r["accuracy"] == 0.667


def test_road_mentions():
    gold = make_gold()
    m, e = perfect(gold)
    road = [f for f in m if f["properties"]["text"] == "M7"][0]
    assert road["geometry"] is None
    road["geometry"] = {"type": "LineString", "coordinates": [[36.5, 35.6], [37.0, 35.7]]}
    r = score(gold, m, e)["resolution"]
    assert (r["road_correct"], r["road_n"], r["road_accuracy"]) == (1, 1, 1.0)
    assert r["n"] == 3  # roads are kept out of the point figures
    road["properties"]["level"] = "town"
    road["geometry"] = point(35.6, 36.5)
    r = score(gold, m, e)["resolution"]
    assert (r["road_correct"], r["road_accuracy"]) == (0, 0.0)


# ------------------------------------------------------------------ events

@pytest.mark.parametrize("precision,matched", [(1, False), (2, False), (3, True)])
def test_event_30km_away(precision, matched):
    gold = make_gold()
    gold[DOC]["events"][0]["geo_precision"] = precision
    m, e = perfect(gold)
    e[0]["geometry"] = point(*north_of(KAFR_TALA, 30))
    assert 29.9 < haversine_km(*KAFR_TALA, *north_of(KAFR_TALA, 30)) < 30.1
    r = score(gold, m, e)["events"]
    if matched:
        assert (r["tp"], r["fp"], r["fn"]) == (2, 0, 0) and r["precision"] == 1.0
    else:
        assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 1)
        assert r["precision"] == 0.5 and r["recall"] == 0.5
        assert r["control_change"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                       "tp": 0, "fp": 1, "fn": 1}
        assert r["type_confusions"] == []


def test_wrong_status_lowers_status_accuracy():
    gold = make_gold()
    m, e = perfect(gold)
    e[1]["properties"]["status"] = "confirmed"
    r = score(gold, m, e)["events"]
    assert r["f1"] == 1.0
    assert r["attributes"]["status"] == {"accuracy": 0.5, "n": 2}
    assert r["attributes"]["actor"]["accuracy"] == 1.0


def test_attribute_accuracies():
    gold = make_gold()
    m, e = perfect(gold)
    p0, p1 = e[0]["properties"], e[1]["properties"]
    p0["actor"] = ["syrian_government", "russia"]  # set differs
    p0["to_actor"] = []
    p1["target"] = ["hts"]                          # equal
    p1["actor"] = ["russia"]
    p1["fatalities"] = None                         # gold 3
    p0["date"] = "2030-01-08"                       # exact wrong, context within a day
    p1["date"] = None                               # null context prediction is wrong
    a = score(gold, m, e)["events"]["attributes"]
    assert a["actor"] == {"accuracy": 0.5, "n": 2}
    assert a["to_actor"] == {"accuracy": 0.5, "n": 2}
    assert a["target"] == {"accuracy": 1.0, "n": 2}
    assert a["fatalities"] == {"accuracy": 0.5, "n": 2}
    assert a["date_exact"] == {"accuracy": 0.0, "n": 1}
    assert a["date_context"] == {"accuracy": 0.5, "n": 2}
    # actor lists compare as sets
    p0["actor"] = ["syrian_government"]
    p1["actor"] = ["russia", "russia"]
    assert score(gold, m, e)["events"]["attributes"]["actor"]["accuracy"] == 1.0


def test_event_greedy_one_to_one_and_misses():
    gold = make_gold()
    m, e = perfect(gold)
    dup = pevent(gold[DOC]["events"][0], geom=point(*north_of(KAFR_TALA, 3)),
                 place="Kafr Tala east")
    e.append(dup)
    r = score(gold, m, e)
    ev = r["events"]
    assert (ev["tp"], ev["fp"], ev["fn"]) == (2, 1, 0)
    assert ev["control_change"]["precision"] == 0.5
    assert r["misses"]["fp_events"] == [{"doc": DOC, "type": "control_change",
                                         "place": "Kafr Tala east", "sentence": S1[:80]}]
    assert r["per_doc"][DOC]["pred_events"] == 3


def test_type_confusion_is_tabled():
    gold = make_gold()
    m, e = perfect(gold)
    e[1]["properties"]["type"] = "shelling"
    r = score(gold, m, e)
    assert r["events"]["tp"] == 1
    assert r["events"]["type_confusions"] == [{"gold": "airstrike", "pred": "shelling", "n": 1}]
    assert r["misses"]["gold_events"][0]["type"] == "airstrike"


def test_linestring_event_uses_nearest_point():
    gold = make_gold()
    m, e = perfect(gold)
    lat, lon = KAFR_TALA
    # a 200 km line passing 5 km north of the gold point: midpoint far, nearest point close
    line = {"type": "LineString", "coordinates": [[lon - 0.1, lat + 0.045],
                                                  [lon + 2.0, lat + 0.045]]}
    near = representative_point(line, KAFR_TALA)
    assert haversine_km(*KAFR_TALA, *near) < 5.1
    mid = representative_point(line)
    assert haversine_km(*KAFR_TALA, *mid) > 50
    e[0]["geometry"] = line
    assert score(gold, m, e)["events"]["tp"] == 2


def test_gold_event_without_point_matches_on_sentence():
    gold = make_gold()
    gold[DOC]["events"][0].update(lat=None, lon=None)
    m, e = perfect(gold)
    assert e[0]["geometry"] is None
    e[0]["geometry"] = point(10.0, 10.0)  # anywhere: location is not checked
    r = score(gold, m, e)["events"]
    assert r["tp"] == 2
    e[0]["properties"]["sentence"] = S2  # unrelated sentence: no match
    assert score(gold, m, e)["events"]["tp"] == 1


def test_no_predictions():
    gold = make_gold()
    r = score(gold, [], [])
    assert r["mentions"]["precision"] is None and r["mentions"]["recall"] == 0.0
    assert r["events"]["recall"] == 0.0 and r["events"]["f1"] is None
    assert r["resolution"]["accuracy"] is None
    format_table(r)


# ------------------------------------------------------------------ real gold

REAL_GOLD = Path(__file__).resolve().parents[1] / ".." / "shared" / "gold" / "seeds"


@pytest.mark.skipif(not REAL_GOLD.is_dir() or not any(REAL_GOLD.glob("*.gold.json")),
                    reason="shared gold seeds not available")
def test_real_gold_scores_itself_perfectly():
    gold = load_gold(REAL_GOLD)
    assert gold and all(doc == g["doc"] for doc, g in gold.items())
    m, e = gold_as_predictions(gold)
    r = score(gold, m, e)
    scores = all_scores(r)
    assert all(v == 1.0 for _, v in scores if v is not None), [s for s in scores if s[1] != 1.0]
    n_events = sum(len(g["events"]) for g in gold.values())
    n_mentions = sum(len(g["mentions"]) for g in gold.values())
    assert r["events"]["tp"] == n_events
    assert r["mentions_all"]["tp"] == n_mentions
    assert r["events"]["type_confusions"] == []
    assert not any(r["misses"].values())
