"""End to end through the console entry point: real files in, real outputs out."""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from geoevents.cli import demo_corpus, main
from geoevents.export import validate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
GOLD = SHARED / "gold" / "seeds"
needs_shared = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared is absent")
OUTPUTS = ("mentions.geojson", "events.geojson", "events.csv", "control.geojson", "map.html",
           "report.json")


def load(out: Path, name: str):
    return json.loads((out / name).read_text(encoding="utf-8"))


@needs_shared
def test_run_on_the_seeds_writes_every_output_valid_against_the_schema(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(SEEDS), "--metadata", str(SEEDS / "metadata.csv"), "--out", str(out)])
    assert code == 0
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    mentions, events = load(out, "mentions.geojson"), load(out, "events.geojson")
    validate(mentions, "mentions")
    validate(events, "events")
    docs = {p.name for p in SEEDS.glob("*.txt")}
    assert {f["properties"]["doc"] for f in mentions["features"]} == docs
    assert {f["properties"]["doc"] for f in events["features"]} == docs
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    for f in mentions["features"]:
        p = f["properties"]
        assert texts[p["doc"]][p["start"]:p["end"]] == p["text"]
    for f in events["features"]:
        p = f["properties"]
        assert texts[p["doc"]][p["start"]:p["end"]] == p["sentence"]
    with (out / "events.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(events["features"])
    report = load(out, "report.json")
    assert report["documents_read"] == 5 and report["documents_skipped"] == 0
    assert "seconds" not in report
    assert set(load(out, "timings.json")) >= {"extract", "store", "fusion", "write", "map"}
    published = {f["properties"]["published"] for f in events["features"]}
    assert published <= {"2024-11-28", "2024-11-30", "2024-12-02", "2024-11-29"}


def test_bad_inputs_are_reported_and_good_documents_kept(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text("---\npublished: 2024-11-30\n---\n"
                                  "Rebels captured Saraqib on Saturday.\n", encoding="utf-8")
    (src / "empty.txt").write_text("", encoding="utf-8")
    (src / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (src / "damaged.txt").write_bytes("Rebels took Sarāqib".encode("utf-8") + b"\x93")
    (src / "feed.jsonl").write_text(
        '{"id": "a", "text": "Jets struck Atarib on Friday.", "published": "2024-11-30"}\n'
        '{"id": "b", "text": \n'
        '{"id": "c", "text": "Clashes erupted in Tal Rifaat.", "published": "2024-12-01"}\n',
        encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", str(src), str(tmp_path / "missing.txt"), "--out", str(out)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error" in line]
    assert any("empty.txt" in line for line in errors)
    assert any("binary.txt" in line for line in errors)
    assert any("damaged.txt" in line and "damaged UTF-8" in line for line in errors)
    assert any("feed.jsonl:2" in line for line in errors)
    assert any("missing.txt" in line for line in errors)
    events = load(out, "events.geojson")["features"]
    assert {f["properties"]["doc"] for f in events} == {"good.txt", "a", "c"}
    report = load(out, "report.json")
    assert report["documents_read"] == 3 and report["documents_skipped"] == 5


def test_usage_error_exits_2(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--out", str(tmp_path)])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["run", "x.txt", "--out", str(tmp_path), "--published", "Friday 31 February"])
    assert exc.value.code == 2


def test_article_text_is_escaped_in_the_map(tmp_path):
    src = tmp_path / "evil.txt"
    src.write_text("---\npublished: 2024-11-30\n---\nRebels captured Saraqib "
                   "</script><script>alert(1)</script> on Saturday.\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(src), "--out", str(out)]) == 0
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html


def test_demo_reproduces_the_committed_gallery_byte_for_byte(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    for name in ("events.geojson", "events_raw.geojson", "mentions.geojson", "events.csv",
                 "control.geojson", "map.html"):
        assert (out / name).read_bytes() == (ROOT / "maps" / name).read_bytes(), name


def test_demo_corpus_is_large_enough_and_maps_control_changes(tmp_path):
    reports = sorted(demo_corpus().glob("[0-9]*.md"))
    assert len(reports) >= 10
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    validate(load(out, "mentions.geojson"), "mentions")
    validate(load(out, "events.geojson"), "events")
    events = load(out, "events.geojson")["features"]
    changed = {f["properties"]["place_id"] for f in events
               if f["properties"]["type"] == "control_change"}
    assert len(changed) >= 20


@needs_shared
def test_eval_on_the_seeds_prints_and_writes_scores(tmp_path, capsys):
    target = tmp_path / "eval.json"
    code = main(["eval", "--gold", str(GOLD), str(SEEDS), "--metadata",
                 str(SEEDS / "metadata.csv"), "--json", str(target)])
    assert code == 0
    printed = capsys.readouterr().out
    scores = json.loads(target.read_text(encoding="utf-8"))
    print(printed)  # the figures, for the CI log
    assert scores["mentions"]["recall"] >= 0.85
    assert scores["mentions"]["precision"] >= 0.85
    assert scores["resolution"]["accuracy"] >= 0.9
    assert scores["events"]["recall"] >= 0.5


def test_console_script_resolve_runs_as_a_process():
    exe = shutil.which("geoevents")
    cmd = [exe] if exe else [sys.executable, "-m", "geoevents.cli"]
    proc = subprocess.run(cmd + ["resolve", "Saraqeb", "--json"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    cands = json.loads(proc.stdout)["Saraqeb"]
    assert abs(cands[0]["lat"] - 35.86) < 0.05 and abs(cands[0]["lon"] - 36.80) < 0.05
