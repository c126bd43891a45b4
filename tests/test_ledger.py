"""Control ledger: as-of queries, contested spans, baselines, and the control output."""
import json
from datetime import date

import pytest

from geoevents.cli import main
from geoevents.ledger import CONTESTED, ControlLedger, load_baseline

SARAQIB = {"type": "Point", "coordinates": [36.8059, 35.8645]}
HAMA = {"type": "Point", "coordinates": [36.7578, 35.1318]}


def ev(place_id, to, day=None, published=None, status="reported", doc="d1", place="Saraqib",
       geometry=SARAQIB, type_="control_change"):
    return {"type": "Feature", "geometry": geometry, "properties": {
        "type": type_, "place_id": place_id, "place": place, "admin1": "Idlib",
        "to_actor": [to] if to else [], "date": day, "published": published, "status": status,
        "doc": doc, "event_id": f"{doc}-{place_id}-{day}", "source": "example.org",
        "url": None, "sentence": f"{to} took {place}.", "date_source": "text"}}


def test_capture_then_recapture_as_of_queries():
    ledger = ControlLedger([ev("s", "hts", "2024-11-30"), ev("s", "syrian_government", "2024-12-10",
                                                               doc="d2")])
    assert ledger.controller("s", date(2024, 11, 29)) is None          # no colour before
    assert ledger.controller("s", date(2024, 11, 30)) == "hts"
    assert ledger.controller("s", date(2024, 12, 9)) == "hts"
    assert ledger.controller("s", date(2024, 12, 10)) == "syrian_government"
    first, second = ledger.history("s")
    assert (first.start, first.end) == (date(2024, 11, 30), date(2024, 12, 10))
    assert second.end is None
    assert [iv.controller for iv in ledger.changes(date(2024, 12, 1), date(2024, 12, 31))] == \
        ["syrian_government"]


def test_undated_report_is_placed_at_its_publication_date():
    ledger = ControlLedger([ev("s", "hts", None, published="2024-12-01")])
    assert ledger.history("s")[0].start == date(2024, 12, 1)
    assert ledger.history("s")[0].sources[0]["date_source"] == "published"


def test_disagreeing_reports_within_a_day_are_contested_with_both_sides():
    ledger = ControlLedger([ev("s", "hts", "2024-11-30", doc="a"),
                            ev("s", "syrian_government", "2024-12-01", doc="b")])
    iv = ledger.interval("s", date(2024, 12, 1))
    assert iv.controller == CONTESTED and iv.status == CONTESTED
    assert iv.claimants == ("hts", "syrian_government") and len(iv.sources) == 2


def test_disputed_report_is_contested_and_agreeing_reports_are_held():
    ledger = ControlLedger([ev("h", "hts", "2024-12-05", status="disputed", place="Hama",
                               geometry=HAMA)])
    assert ledger.interval("h", date(2024, 12, 5)).status == CONTESTED
    ledger = ControlLedger([ev("s", "hts", "2024-11-30", doc="a"), ev("s", "hts", "2024-11-30", doc="b")])
    iv = ledger.interval("s", date(2024, 11, 30))
    assert iv.status == "held" and len(iv.sources) == 2


def test_other_event_types_do_not_change_control():
    ledger = ControlLedger([ev("s", "hts", "2024-11-30", type_="clash")])
    assert ledger.places() == []


def test_baseline_seeds_control_before_the_first_report(tmp_path):
    base = tmp_path / "baseline.csv"
    base.write_text("place,controller,as_of\nSaraqib,syrian_government,2020-02-01\n"
                    "Hama,syrian_government,2016-01-01\n", encoding="utf-8")
    rows = load_baseline(base)
    saraqib = rows[0]["place_id"]
    ledger = ControlLedger([ev(saraqib, "hts", "2024-11-30")], rows)
    assert ledger.controller(saraqib, date(2024, 11, 1)) == "syrian_government"
    assert ledger.controller(saraqib, date(2024, 11, 30)) == "hts"
    hama = rows[1]["place_id"]
    assert ledger.controller(hama, date(2024, 12, 1)) == "syrian_government"   # no report


def test_baseline_with_an_unknown_place_names_the_row(tmp_path):
    base = tmp_path / "baseline.csv"
    base.write_text("place,controller,as_of\nXyzzyqwv,hts,2024-01-01\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 2: unknown place"):
        load_baseline(base)


def test_snapshot_geojson_has_history():
    ledger = ControlLedger([ev("s", "hts", "2024-11-30"), ev("s", "syrian_government", "2024-12-10")])
    fc = ledger.to_geojson(date(2024, 12, 1))
    props = fc["features"][0]["properties"]
    assert (props["controller"], props["status"], props["as_of"]) == ("hts", "held", "2024-12-01")
    assert [h["controller"] for h in props["history"]] == ["hts", "syrian_government"]
    assert ledger.to_geojson()["features"][0]["properties"]["controller"] == "syrian_government"


def test_demo_run_writes_control_and_the_control_command_queries_it(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    control = json.loads((out / "control.geojson").read_text(encoding="utf-8"))
    by_name = {f["properties"]["place"]: f["properties"] for f in control["features"]}
    assert by_name["Hama"]["controller"] == "hts"
    assert any(h["start"] == "2024-12-05" for h in by_name["Hama"]["history"])
    capsys.readouterr()
    snap = tmp_path / "snap.geojson"
    assert main(["control", str(out / "events.geojson"), "--as-of", "2024-12-01",
                 "-o", str(snap)]) == 0
    printed = capsys.readouterr().out
    assert "control as of 2024-12-01" in printed
    hama = [f for f in json.loads(snap.read_text())["features"] if f["properties"]["place"] == "Hama"][0]
    assert hama["properties"]["controller"] is None          # before Hama fell
