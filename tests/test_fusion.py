"""Fusion across documents, on reports written for these tests and run through the real
resolver and event builder."""
from __future__ import annotations

import random
from datetime import date

import pytest

from geoevents.fusion import fuse, outlet
from geoevents.model import Document
from geoevents.pipeline import Pipeline


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    return Pipeline()


def events(pipe: Pipeline, reports: list[tuple[str, str, str, date]]) -> list[dict]:
    """(doc id, outlet, text, published) -> the per-document event features."""
    out = []
    for doc_id, source, text, published in reports:
        out.extend(pipe.extract(Document(doc_id, text, published, source)).events)
    return out


FRIDAY = date(2024, 11, 30)   # a Saturday: "on Friday" is 29 November


def test_one_capture_told_by_three_outlets_in_three_spellings_is_one_event(pipe):
    raw = events(pipe, [
        ("a", "Outlet A", "Rebels captured Saraqib on Friday, a war monitor said.", FRIDAY),
        ("b", "Outlet B", "Opposition fighters seized the town of Saraqeb on Friday.", FRIDAY),
        ("c", "Outlet C", "Insurgents took control of Sarakib on Friday night.",
         date(2024, 12, 1)),
    ])
    assert len(raw) == 3
    fused = fuse(raw)
    assert len(fused) == 1
    p = fused[0]["properties"]
    assert p["type"] == "control_change" and p["place"] == "Saraqib"
    assert p["date"] == "2024-11-29" and p["corroboration"] == 3
    assert sorted(s["doc"] for s in p["sources"]) == ["a", "b", "c"]
    assert p["to_actor"] == ["opposition"]


def test_a_denial_by_the_other_side_makes_one_contested_event_with_both_accounts(pipe):
    raw = events(pipe, [
        ("claim", "Opposition media", "Rebels said they had captured Khan Shaykhun on Monday.",
         date(2024, 12, 3)),
        ("denial", "State media", "The army denied reports that rebels captured Khan Shaykhun "
                                  "on Monday.", date(2024, 12, 3)),
    ])
    statuses = sorted(f["properties"]["status"] for f in raw)
    assert statuses == ["claimed", "disputed"]
    fused = fuse(raw)
    assert len(fused) == 1
    p = fused[0]["properties"]
    assert p["status"] == "contested"
    assert {s["status"] for s in p["sources"]} == {"claimed", "disputed"}
    assert p["corroboration"] == 2


def test_same_outlet_twice_counts_once(pipe):
    raw = events(pipe, [
        ("a1", "Outlet A", "Rebels captured Saraqib on Friday.", FRIDAY),
        ("a2", "outlet a ", "Saraqib fell to the rebels on Friday.", FRIDAY),
    ])
    fused = fuse(raw)
    assert len(fused) == 1 and fused[0]["properties"]["corroboration"] == 1
    assert outlet({"source": " Outlet A"}) == outlet({"source": "outlet a"})
    assert outlet({"url": "https://www.example.org/x"}) == "example.org"


def test_distinct_happenings_stay_apart(pipe):
    raw = events(pipe, [
        # the same place ten days later: a second capture
        ("early", "Outlet A", "Rebels captured Saraqib on Friday.", FRIDAY),
        ("late", "Outlet B", "Rebels captured Saraqib on Monday.", date(2024, 12, 10)),
        # a different place: two villages taken the same day by the same side
        ("v1", "Outlet C", "Rebels captured Kafr Nabl on Friday.", FRIDAY),
        ("v2", "Outlet D", "Rebels captured Maarat al-Numan on Friday.", FRIDAY),
        # another type at the same place and day
        ("strike", "Outlet E", "Russian jets struck Saraqib on Friday.", FRIDAY),
        # the other side taking it back the same day is not the same happening
        ("back", "Outlet F", "Government forces recaptured Saraqib on Friday.", FRIDAY),
    ])
    assert len(raw) == 6
    fused = fuse(raw)
    assert len(fused) == 6
    assert all(f["properties"]["corroboration"] == 1 for f in fused)


def test_fusion_does_not_depend_on_the_order_events_arrive_in(pipe):
    raw = events(pipe, [
        (f"d{i}", f"Outlet {i % 4}", text, FRIDAY) for i, text in enumerate([
            "Rebels captured Saraqib on Friday.", "Russian jets struck Atarib on Friday.",
            "Opposition fighters seized Saraqeb on Friday.", "Warplanes bombed Atarib on Friday.",
            "Clashes erupted in Tal Rifaat on Friday.", "Fighting raged in Tel Rifaat on Friday.",
        ])])
    expected = fuse(raw)
    for seed in range(5):
        shuffled = raw[:]
        random.Random(seed).shuffle(shuffled)
        assert fuse(shuffled) == expected
    assert len(expected) == 3


def test_best_precision_place_and_date_and_highest_toll_win(pipe):
    raw = events(pipe, [
        ("vague", "Outlet A", "Air strikes hit Atarib this week, killing 12 civilians.",
         date(2024, 11, 30)),
        ("exact", "Outlet B", "Russian jets struck Atarib on Friday, killing at least 19 "
                              "civilians.", date(2024, 11, 30)),
    ])
    fused = fuse(raw)
    assert len(fused) == 1
    p = fused[0]["properties"]
    assert p["date"] == "2024-11-29" and p["date_precision"] == "day"
    assert p["fatalities"] == 19
