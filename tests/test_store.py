"""The GeoPackage store: incremental runs, idempotence, crash safety, export."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from contextlib import closing

import geopandas as gpd
import pyogrio
import pytest

from geoevents.cli import demo_corpus, main
from geoevents.documents import read_documents
from geoevents.export import compact_json
from geoevents.pipeline import Pipeline
from geoevents.store import _EVENT_EXTRA, LAYERS, Store, StoreError

DEMO = sorted(demo_corpus().glob("[0-9]*.md"))
OUTPUTS = ("events.geojson", "events_raw.geojson", "mentions.geojson", "events.csv",
           "control.geojson")


def layer_rows(path: Path) -> dict[str, list]:
    """Every layer's rows as JSON text, in a fixed order (fid excluded)."""
    db = sqlite3.connect(path)
    out = {}
    for layer in LAYERS:
        cols = [r[1] for r in db.execute(f'PRAGMA table_info("{layer}")') if r[1] != "fid"]
        rows = db.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{layer}"')
        out[layer] = sorted(json.dumps([c if not isinstance(c, bytes) else c.hex() for c in r])
                            for r in rows)
    db.close()
    return out


def test_incremental_runs_equal_one_run_and_a_repeat_changes_nothing(tmp_path):
    store = tmp_path / "events.gpkg"
    assert main(["run", *map(str, DEMO[:7]), "--out", str(tmp_path / "a"), "--store", str(store),
                 "--raw", "--quiet"]) == 0
    assert main(["run", *map(str, DEMO), "--out", str(tmp_path / "b"), "--store", str(store),
                 "--raw", "--quiet"]) == 0
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["documents_read"] == len(DEMO) - 7 and report["already_stored"] == 7
    assert main(["run", *map(str, DEMO), "--out", str(tmp_path / "single"), "--raw", "--quiet"]) == 0
    for name in OUTPUTS:
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "single" / name).read_bytes(), name
    before = layer_rows(store)
    assert main(["run", *map(str, DEMO), "--out", str(tmp_path / "c"), "--store", str(store),
                 "--raw", "--quiet"]) == 0
    assert layer_rows(store) == before
    assert json.loads((tmp_path / "c" / "report.json").read_text())["documents_read"] == 0


def test_a_batch_repeating_itself_stores_each_document_once(tmp_path):
    """Repeats within one run, near and far apart (across the store's lookup batches),
    are dropped; a new text under a taken id is kept under a suffixed id."""
    towns = ["Saraqib", "Atarib", "Maarat al-Numan", "Kafranbel", "Khan Shaykhun", "Ariha"]
    docs = [{"id": f"d{i}", "published": "2024-12-0" + str(1 + i % 9),
             "text": f"Rebels captured {towns[i % 6]} on Friday after clashes, a monitor said "
                     f"in report {i}."} for i in range(40)]
    repeats = [docs[0], docs[0]] + docs[5:40]                    # near and far
    clash = {**docs[3], "text": "Russian jets struck Ariha on Monday."}
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(d) for d in docs + repeats + [clash]) + "\n")
    store = tmp_path / "s.gpkg"
    assert main(["run", str(feed), "--out", str(tmp_path / "o"), "--store", str(store),
                 "--quiet"]) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["already_stored"] == len(repeats) and report["documents_read"] == 41
    with Store(store) as st:
        ids = sorted(r["doc"] for r in st.documents())
    assert len(ids) == len(set(ids)) == 41
    assert [i for i in ids if i.startswith("d3#")] and "d3" in ids


def test_the_store_is_a_geopackage_gis_tools_read(tmp_path):
    store = tmp_path / "s.gpkg"
    assert main(["run", str(demo_corpus()), "--out", str(tmp_path / "o"), "--store", str(store),
                 "--quiet"]) == 0
    layers = dict(pyogrio.list_layers(store))
    assert set(layers) == set(LAYERS)
    events = gpd.read_file(store, layer="events")
    assert events.crs.to_epsg() == 4326 and len(events) > 20
    assert events.geometry.notna().all() and events.total_bounds[0] > 35 < events.total_bounds[2]
    raw = gpd.read_file(store, layer="events_raw")
    assert len(raw) > len(events) and raw["corroboration"].eq(1).all()
    docs = pyogrio.read_dataframe(store, layer="documents")
    assert len(docs) == len(DEMO) and docs["doc_hash"].is_unique


def test_the_same_article_under_another_name_is_stored_once(tmp_path):
    a = tmp_path / "in" / "a.md"
    a.parent.mkdir()
    a.write_text("---\npublished: 2024-11-30\nsource: Outlet A\n---\n"
                 "Rebels captured Saraqib on Friday.\n", encoding="utf-8")
    (tmp_path / "in" / "copy.md").write_bytes(a.read_bytes())
    store = tmp_path / "s.gpkg"
    assert main(["run", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--store",
                 str(store), "--quiet"]) == 0
    with Store(store) as st:
        assert st.count("documents") == 1 and st.count("events_raw") == 1


def test_a_file_that_is_not_a_store_is_refused_in_one_line(tmp_path, capsys):
    bad = tmp_path / "notes.gpkg"
    bad.write_text("not a database", encoding="utf-8")
    assert main(["run", str(DEMO[0]), "--out", str(tmp_path / "o"), "--store", str(bad),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notes.gpkg" in err[0]


def write_corpus(path: Path, n: int) -> None:
    """n short reports as JSONL, each naming two towns, all different texts."""
    towns = ["Saraqib", "Atarib", "Maarat al-Numan", "Khan Shaykhun", "Kafr Nabl", "Ariha",
             "Jisr al-Shughur", "Darat Izza", "Tal Rifaat", "Manbij"]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            a, b = towns[i % len(towns)], towns[(i * 7 + 3) % len(towns)]
            text = (f"Report {i}. Rebels captured {a} on Friday after clashes near {b}. "
                    f"Russian jets struck {b} on Saturday, killing {i % 30 + 2} civilians. ") * 3
            fh.write(json.dumps({"id": f"r{i:05d}", "text": text, "published": "2024-12-01",
                                 "source": f"Outlet {i % 9}"}) + "\n")


def test_kill_9_leaves_a_readable_store_and_the_next_run_completes(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 3000)
    store = tmp_path / "s.gpkg"
    cmd = [sys.executable, "-m", "geoevents.cli", "run", str(corpus), "--out",
           str(tmp_path / "o"), "--store", str(store), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        committed = 0
        deadline = time.monotonic() + 120
        while committed < 300 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            try:
                with sqlite3.connect(store, timeout=0.1) as db:
                    committed = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            except sqlite3.Error:
                continue
        assert proc.poll() is None, "the run ended before it could be killed: make the corpus larger"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (tmp_path / "o" / "events.geojson").exists()
    with Store(store) as st:                       # readable, and consistent per document
        kept = st.count("documents")
        assert 300 <= kept < 3000
        assert st.db.execute("SELECT sum(mentions), sum(events) FROM documents").fetchone() == \
            (st.count("mentions"), st.count("events_raw"))
    assert len(pyogrio.read_dataframe(store, layer="mentions")) > 0
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["already_stored"] == kept and report["documents_read"] == 3000 - kept
    with Store(store) as st:
        assert st.count("documents") == 3000
        assert st.db.execute("SELECT count(DISTINCT doc) FROM documents").fetchone()[0] == 3000


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_run_killed_in_re_fusion_is_completed_by_the_next(tmp_path, jobs):
    """Re-fusion commits batch by batch: a fused layer left partial (here, half its rows
    gone and one left stale, as a kill would leave it) is completed by the next run,
    which then writes what an uninterrupted run writes."""
    store = tmp_path / "s.gpkg"
    args = ["run", str(demo_corpus()), "--store", str(store), "--raw", "--quiet", "--jobs", jobs]
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    with sqlite3.connect(store) as db:
        total = db.execute("SELECT count(*) FROM events").fetchone()[0]
        db.execute("DELETE FROM events WHERE fid % 2 = 0")
        lost = total - db.execute("SELECT count(*) FROM events").fetchone()[0]
        db.execute("UPDATE events SET event_id = 'fstale' WHERE fid = (SELECT min(fid) FROM events)")
    assert lost > 10
    assert main([*args, "--out", str(tmp_path / "again")]) == 0
    report = json.loads((tmp_path / "again" / "report.json").read_text())
    assert report["documents_read"] == 0
    assert (report["fused_added"], report["fused_removed"]) == (lost + 1, 1)
    for name in OUTPUTS:
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("store")
    assert main(["run", str(demo_corpus()), "--out", str(tmp / "o"), "--store",
                 str(tmp / "s.gpkg"), "--quiet"]) == 0
    return tmp / "s.gpkg"


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "parquet"])
def test_export_writes_each_format_with_filters(demo_store, tmp_path, fmt):
    out = tmp_path / f"events.{fmt}"
    assert main(["export", str(demo_store), "--format", fmt, "-o", str(out)]) == 0
    everything = gpd.read_parquet(out) if fmt == "parquet" else gpd.read_file(out)
    with Store(demo_store) as st:
        assert len(everything) == st.count("events")
    assert "corroboration" in everything.columns
    box = (36.0, 35.5, 37.5, 36.5)    # Idlib and western Aleppo
    filtered = tmp_path / f"f.{fmt}"
    assert main(["export", str(demo_store), "--format", fmt, "--since", "2024-12-01",
                 "--bbox", ",".join(map(str, box)), "-o", str(filtered)]) == 0
    part = gpd.read_parquet(filtered) if fmt == "parquet" else gpd.read_file(filtered)
    assert 0 < len(part) < len(everything)
    assert all(box[0] <= x <= box[2] and box[1] <= y <= box[3]
               for g in part.geometry for x, y in g.coords)
    dated = part["date"].dropna()
    assert (dated >= "2024-12-01").all()


def test_export_raw_mentions_and_documents(demo_store, tmp_path):
    assert main(["export", str(demo_store), "--format", "csv", "--layer", "events_raw",
                 "-o", str(tmp_path / "raw.csv")]) == 0
    assert main(["export", str(demo_store), "--format", "gpkg", "--layer", "mentions",
                 "-o", str(tmp_path / "m.gpkg")]) == 0
    assert main(["export", str(demo_store), "--format", "csv", "--layer", "documents",
                 "-o", str(tmp_path / "d.csv")]) == 0
    with Store(demo_store) as st:
        assert len((tmp_path / "raw.csv").read_text().splitlines()) == st.count("events_raw") + 1
        assert len(gpd.read_file(tmp_path / "m.gpkg")) == st.count("mentions")
        assert len((tmp_path / "d.csv").read_text().splitlines()) == st.count("documents") + 1


def test_export_refuses_what_it_cannot_do_in_one_line(demo_store, tmp_path, capsys):
    assert main(["export", str(demo_store), "--format", "geojson", "--layer", "documents",
                 "-o", str(tmp_path / "d.geojson")]) == 2
    assert main(["export", str(tmp_path / "missing.gpkg"), "--format", "csv",
                 "-o", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "documents" in err[0] and "missing.gpkg" in err[1]
    assert not (tmp_path / "d.geojson").exists()


def test_a_store_of_another_schema_is_refused_not_corrupted(tmp_path):
    store = tmp_path / "old.gpkg"
    Store(store).close()
    with sqlite3.connect(store) as db:
        db.execute("ALTER TABLE events_raw DROP COLUMN url")
    before = store.read_bytes()
    with pytest.raises(StoreError, match="another version"):
        Store(store)
    assert store.read_bytes() == before


def test_raw_events_are_rebuilt_from_their_columns_as_extracted(tmp_path):
    """A raw event's feature is not stored but rebuilt from its columns when read: it
    equals, byte for byte, the one the pipeline extracted, roads' lines and events told
    twice in a document (two pieces of evidence) included."""
    road = tmp_path / "road.jsonl"
    road.write_text(json.dumps({"id": "road", "published": "2024-12-01", "source": "test",
                                "text": "Rebels captured the M5 highway on Friday. Russian "
                                        "jets struck the M4 highway near Ariha."}) + "\n")
    inputs = [str(demo_corpus()), str(road)]
    assert main(["run", *inputs, "--out", str(tmp_path / "o"), "--store",
                 str(tmp_path / "s.gpkg"), "--quiet"]) == 0
    res = Pipeline().process(read_documents(inputs))
    extracted = {f["properties"]["event_id"]: compact_json(f) for f in res.events}
    with Store(tmp_path / "s.gpkg") as st:
        stored = {f["properties"]["event_id"]: f for f in st.events("events_raw")}
        texts = list(st.events("events_raw", as_text=True))
        assert st.db.execute("SELECT count(*) FROM events_raw WHERE feature IS NOT NULL"
                             ).fetchone() == (0,)
    assert {k: compact_json(f) for k, f in stored.items()} == extracted
    assert sorted(texts) == sorted(extracted.values())
    assert sum(f["geometry"]["type"] == "LineString" for f in stored.values()) == 2
    assert any(len(f["properties"]["evidence"]) > 1 for f in stored.values())


def test_a_store_of_the_previous_version_is_upgraded_and_grows_like_one_run(tmp_path):
    """A store written before raw features were rebuilt kept each as JSON and lacked the
    columns they are rebuilt from: opening it adds them, its rows read back as stored,
    and a later run over more documents gives the outputs of one run over all."""
    store = tmp_path / "old.gpkg"
    assert main(["run", *map(str, DEMO[:7]), "--out", str(tmp_path / "a"), "--store",
                 str(store), "--raw", "--quiet"]) == 0
    with Store(store) as st:
        raw = {f["properties"]["event_id"]: f for f in st.events("events_raw")}
    with closing(sqlite3.connect(store)) as db, db:      # back to the previous schema
        db.executemany("UPDATE events_raw SET feature = ? WHERE event_id = ?",
                       [(compact_json(f), k) for k, f in raw.items()])
        for layer in ("events_raw", "events"):
            for column in _EVENT_EXTRA:
                db.execute(f'ALTER TABLE {layer} DROP COLUMN "{column}"')
    with Store(store) as st:
        assert {f["properties"]["event_id"]: f for f in st.events("events_raw")} == raw
        for layer in ("events_raw", "events"):
            have = {r[1] for r in st.db.execute(f"PRAGMA table_info({layer})")}
            assert set(_EVENT_EXTRA) <= have
    assert main(["run", *map(str, DEMO), "--out", str(tmp_path / "b"), "--store", str(store),
                 "--raw", "--quiet"]) == 0
    assert main(["run", *map(str, DEMO), "--out", str(tmp_path / "single"), "--raw",
                 "--quiet"]) == 0
    for name in OUTPUTS:
        assert (tmp_path / "b" / name).read_bytes() == \
            (tmp_path / "single" / name).read_bytes(), name


def test_a_ctrl_c_just_after_commit_keeps_the_batch_and_the_interrupt(tmp_path):
    import sqlite3
    from geoevents.store import _transaction

    class LateInterrupt(sqlite3.Connection):
        """A Ctrl-C whose handler runs as COMMIT returns (seen under load in test_runs)."""
        def execute(self, sql, *args):
            cursor = super().execute(sql, *args)
            if sql == "COMMIT":
                raise KeyboardInterrupt
            return cursor

    db = sqlite3.connect(tmp_path / "x.db", isolation_level=None, factory=LateInterrupt)
    db.execute("CREATE TABLE t (x)")
    with pytest.raises(KeyboardInterrupt):
        with _transaction(db):
            db.execute("INSERT INTO t VALUES (1)")
    assert db.execute("SELECT count(*) FROM t").fetchone() == (1,)
    db.close()


def test_the_fused_layer_is_read_in_output_order_through_an_index_not_a_sort(demo_store):
    """Every output reads the fused layer in one content order; an index gives it, so no
    run sorts every fused feature (hundreds of MB at 100,000 documents)."""
    with Store(demo_store) as st:
        sql = "SELECT feature FROM events ORDER BY coalesce(date, '9999'), type, place_id, event_id"
        plan = " ".join(r[3] for r in st.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "events_order" in plan and "TEMP B-TREE" not in plan, plan
        ids = [f["properties"]["event_id"] for f in st.events()]
        rows = st.db.execute("SELECT coalesce(date, '9999'), type, place_id, event_id FROM events")
        assert ids == [r[3] for r in sorted(rows)]
