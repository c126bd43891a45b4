"""Streaming batch runs: --jobs and Dask give the bytes of one process; stdin; progress."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from geoevents.cli import demo_corpus, main
from geoevents.pipeline import Pipeline, extract_stream
from geoevents.documents import read_documents
from geoevents.progress import Progress

OUTPUTS = ("events.geojson", "events_raw.geojson", "mentions.geojson", "events.csv",
           "control.geojson", "map.html")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The demo reports plus JSONL copies under other outlets: enough for several tasks."""
    root = tmp_path_factory.mktemp("corpus")
    lines = []
    for i, p in enumerate(sorted(demo_corpus().glob("[0-9]*.md")) * 4):
        body = p.read_text(encoding="utf-8").split("---", 2)[2]
        lines.append(json.dumps({"id": f"copy-{i:03d}", "text": body, "source": f"Outlet {i % 5}",
                                 "published": f"2024-12-{1 + i % 9:02d}"}))
    (root / "copies.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def single(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("single")
    assert main(["run", str(corpus), str(demo_corpus()), "--out", str(out), "--raw",
                 "--quiet"]) == 0
    return out


def test_jobs_2_writes_the_same_bytes_as_one_process(corpus, single, tmp_path):
    assert main(["run", str(corpus), str(demo_corpus()), "--out", str(tmp_path), "--jobs", "2",
                 "--raw", "--quiet"]) == 0
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == (single / name).read_bytes(), name
    assert json.loads((tmp_path / "events.geojson").read_text())["features"]


def test_dask_local_cluster_with_two_workers_equals_the_single_process_run(corpus, single,
                                                                           tmp_path):
    pytest.importorskip("dask.distributed")
    assert main(["run", str(corpus), str(demo_corpus()), "--out", str(tmp_path), "--dask",
                 "local", "--jobs", "2", "--raw", "--quiet"]) == 0
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == (single / name).read_bytes(), name


def test_read_errors_keep_their_place_in_a_parallel_stream(tmp_path):
    good = sorted(demo_corpus().glob("[0-9]*.md"))[:3]
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01binary")
    items = [str(good[0]), str(tmp_path / "bad.txt"), str(good[1]), str(tmp_path / "nope.md"),
             str(good[2])]
    serial = list(extract_stream(read_documents(items), Pipeline()))
    parallel = list(extract_stream(read_documents(items), Pipeline(), jobs=2))
    assert serial == parallel
    assert [type(r).__name__ for r in serial] == ["Packed", "Skipped", "Packed", "Skipped",
                                                  "Packed"]


def test_stdin_streams_jsonl(tmp_path):
    docs = "".join(json.dumps({"id": f"s{i}", "text": f"Rebels captured Saraqib on Friday. {i}",
                               "published": "2024-11-30"}) + "\n" for i in range(40))
    proc = subprocess.run([sys.executable, "-m", "geoevents.cli", "run", "-", "--out",
                           str(tmp_path)], input=docs.encode(), capture_output=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["documents_read"] == 40 and report["events_raw"] == 40
    assert report["events"] == 1   # forty copies of one happening, no outlet named


def test_no_fusion_keeps_one_event_per_report(corpus, single, tmp_path):
    assert main(["run", str(corpus), str(demo_corpus()), "--out", str(tmp_path), "--no-fusion",
                 "--raw", "--quiet"]) == 0
    raw = json.loads((tmp_path / "events.geojson").read_text())["features"]
    fused = json.loads((single / "events.geojson").read_text())["features"]
    assert len(raw) > len(fused)
    assert not (tmp_path / "events_raw.geojson").exists()
    assert (tmp_path / "events.geojson").read_bytes() == (single / "events_raw.geojson").read_bytes()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_raw_layer_is_written_only_when_asked_and_a_stale_one_goes(corpus, single, tmp_path,
                                                                        jobs):
    stale = tmp_path / "events_raw.geojson"
    stale.write_text("from an earlier run", encoding="utf-8")
    assert main(["run", str(corpus), str(demo_corpus()), "--out", str(tmp_path), "--jobs", jobs,
                 "--quiet"]) == 0
    assert not stale.exists()
    for name in OUTPUTS:
        if name != "events_raw.geojson":
            assert (tmp_path / name).read_bytes() == (single / name).read_bytes(), name


def test_progress_logs_plain_lines_off_a_terminal_and_nothing_when_quiet():
    buf = io.StringIO()
    p = Progress(total=100, stream=buf, every=0)
    p.update(docs=10, events=25)
    p.update(docs=10, events=5, skipped=1)
    p.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3 and all(ln.startswith("geoevents: ") for ln in lines)
    assert "20 documents, 30 events" in lines[-1] and "1 skipped" in lines[-1]
    assert "ETA" in lines[0] and "\r" not in buf.getvalue()
    quiet = io.StringIO()
    q = Progress(total=100, stream=quiet, quiet=True, every=0)
    q.update(docs=5)
    q.close()
    assert quiet.getvalue() == ""


def test_the_cli_shows_progress_lines_when_not_on_a_terminal(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "geoevents.cli", "run", str(demo_corpus()),
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "\r" not in proc.stderr and "documents" in proc.stderr


def test_glob_patterns_are_expanded_sorted_and_filtered(tmp_path):
    for name in ("b.md", "a.txt", "README.md", "notes.pdf"):
        (tmp_path / name).write_text("Rebels captured Saraqib on Friday.\n", encoding="utf-8")
    ids = [d.id for d in read_documents([str(tmp_path / "*")], published=None)]
    assert ids == ["a.txt", "b.md"]
    missing = list(read_documents([str(tmp_path / "none" / "*.md")]))
    assert len(missing) == 1 and "no file matches" in missing[0].reason


def test_the_collector_is_relaxed_while_documents_stream_and_restored_after():
    """Extraction runs with the startup heap frozen and young collections rarer; a fork
    inside keeps the heap frozen; thresholds and heap come back as they were, even when
    the phase fails."""
    import gc
    from geoevents.parallel import YOUNG_THRESHOLD, collector_relaxed, frozen_heap
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    startup = ["the gazetteer, say"]

    def collected() -> bool:     # frozen objects are in no generation the collector walks
        return any(o is startup for o in gc.get_objects())
    assert collected()
    with pytest.raises(RuntimeError):
        with collector_relaxed():
            assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
            assert not collected()
            with frozen_heap():
                pass
            assert not collected()
            raise RuntimeError("a failing phase")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0 and collected()


def test_a_task_of_long_documents_holds_about_the_text_of_one_of_news_articles():
    """Tasks carry TASK_DOCS news articles, but no more text than that plus one document,
    however long the documents are (a window of tasks in flight stays small in memory)."""
    from geoevents.model import Document
    from geoevents.parallel import batched
    from geoevents.pipeline import TASK_CHARS, TASK_DOCS, _task_weight
    news = [Document(f"n{i}", "Rebels captured Saraqib on Friday. " * 40)
            for i in range(2 * TASK_DOCS + 2)]
    assert [len(b) for b in batched(news, TASK_DOCS, weight=_task_weight)] == \
        [TASK_DOCS, TASK_DOCS, 2]
    mixed = [Document(f"m{i}", "x" * (size * 1000)) for i, size in
             enumerate([2, 900, 3, 40, 5000, 1, 1, 250, 16, 64] * 5)]
    for task in batched(mixed, TASK_DOCS, weight=_task_weight):
        text = sum(len(d.text) for d in task)
        assert text <= TASK_DOCS * TASK_CHARS + max(len(d.text) for d in task)
