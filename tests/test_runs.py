"""Interrupted, killed and concurrent runs of the real command (subprocesses and signals),
determinism across runs and --jobs, and output paths that stay inside --out."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geoevents.cli import demo_corpus, main
from geoevents.guard import OUT_LOCK, LockBusy, locked

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("mentions.geojson", "events.geojson", "events_raw.geojson", "events.csv",
           "control.geojson", "map.html", "report.json")


@pytest.fixture(scope="module")
def long_feed(tmp_path_factory) -> Path:
    """12,000 distinct reports (the demo corpus, numbered): tens of seconds of work, so a
    signal lands in the middle of the run."""
    root = tmp_path_factory.mktemp("feed")
    bodies = [p.read_text(encoding="utf-8").split("---", 2)[2]
              for p in sorted(demo_corpus().glob("[0-9]*.md"))]
    with open(root / "long.jsonl", "w", encoding="utf-8") as fh:
        for i in range(12000):
            fh.write(json.dumps({"id": f"r{i:04d}", "text": f"Report {i}. " + bodies[i % len(bodies)],
                                 "published": "2024-12-01"}) + "\n")
    return root / "long.jsonl"


@pytest.fixture()
def previous(tmp_path) -> tuple[Path, dict]:
    """An --out directory holding a complete earlier run, and its bytes."""
    out = tmp_path / "out"
    small = sorted(demo_corpus().glob("[0-9]*.md"))[:2]
    assert main(["run", *map(str, small), "--out", str(out), "--raw", "--quiet"]) == 0
    return out, {name: (out / name).read_bytes() for name in OUTPUTS}


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "geoevents.cli", "run", *args, "--raw",
                             "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True, preexec_fn=_ctrl_c_as_in_a_terminal)


def _ctrl_c_as_in_a_terminal() -> None:
    """An ignored SIGINT is inherited across exec (a test run may have one): undo it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _held(lock: Path) -> bool:
    if not lock.exists():
        return False
    with open(lock, "rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def _wait_until_working(proc: subprocess.Popen, lock: Path, seconds: float = 1.5) -> None:
    """Until ``proc`` holds ``lock``, then ``seconds`` more, so it is mid-run."""
    deadline = time.monotonic() + 60
    while not _held(lock):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(seconds)
    assert proc.poll() is None


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_keeps_previous_outputs_and_says_what_was_done(long_feed, previous, jobs):
    out, before = previous
    proc = _start(str(long_feed), "--out", str(out), "--jobs", jobs)
    _wait_until_working(proc, out / OUT_LOCK, seconds=3)
    os.killpg(proc.pid, signal.SIGINT)                  # what Ctrl-C in a terminal sends
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("geoevents: interrupted after ")
    assert lines[0].endswith(f"documents (0 skipped); {out} keeps the outputs of the last "
                             "complete run")
    assert int(lines[0].split()[3]) > 0
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before
    assert not _held(out / OUT_LOCK)


def test_second_run_fails_clearly_then_waits_and_kill_9_releases_the_lock(
        long_feed, previous, tmp_path):
    out, before = previous
    first = _start(str(long_feed), "--out", str(out))
    _wait_until_working(first, out / OUT_LOCK, seconds=0.2)
    small = str(sorted(demo_corpus().glob("[0-9]*.md"))[0])

    second = _start(small, "--out", str(out))
    _, err = second.communicate(timeout=60)
    assert second.returncode == 2
    assert err.strip() == (f"geoevents: error: {out}: another geoevents run (pid {first.pid}) "
                           "is writing here; try again later or pass --wait")

    waiting = _start(small, "--out", str(out), "--wait")
    time.sleep(2)
    assert waiting.poll() is None                        # blocked on the lock
    (out / ".events.csv.dead.tmp").write_bytes(b"torn")  # what a kill mid-write leaves
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "waiting for" in err and f"locked by pid {first.pid}" in err
    assert not list(out.glob(".*.tmp"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["documents_read"] == 1
    assert (out / "events.csv").read_bytes() != before["events.csv"]


def test_the_store_is_locked_too(tmp_path):
    store = tmp_path / "events.gpkg"
    with locked(store, directory=False):
        small = str(sorted(demo_corpus().glob("[0-9]*.md"))[0])
        proc = _start(small, "--out", str(tmp_path / "other"), "--store", str(store))
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().startswith(f"geoevents: error: {store}: another geoevents run (pid "
                                  f"{os.getpid()}) is writing here")
    with locked(tmp_path / "out", directory=True):
        with pytest.raises(LockBusy):
            with locked(tmp_path / "out", directory=True):
                pass


def _corpus(root: Path) -> list[str]:
    """The demo reports, a JSONL feed, an HTML page, a Windows-1256 file and a bad file."""
    root.mkdir()
    for p in sorted(demo_corpus().glob("[0-9]*.md")):
        shutil.copy(p, root / p.name)
    (root / "feed.jsonl").write_text(
        json.dumps({"id": "j1", "text": "Russian jets struck Atarib on Friday.",
                    "published": "2024-12-02"}) + "\n{broken\n", encoding="utf-8")
    (root / "page.html").write_text(
        "<html><head><title>Hama</title></head><body><article><p>Government forces shelled "
        "Hama on Sunday, killing 4 civilians.</p></article></body></html>", encoding="utf-8")
    (root / "ar.txt").write_bytes("قصفت الطائرات الروسية سراقب.".encode("cp1256"))
    (root / "bad.txt").write_bytes(b"\x00\x01" * 20)
    return [str(root)]


def test_same_inputs_give_byte_identical_outputs_across_runs_and_jobs(tmp_path):
    inputs = _corpus(tmp_path / "in")
    outs = []
    for i, jobs in enumerate(("1", "1", "2")):
        out = tmp_path / f"out{i}"
        assert main(["run", *inputs, "--out", str(out), "--jobs", jobs, "--raw", "--quiet"]) == 1
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir() if not p.name.startswith("."))
    assert names == sorted([*OUTPUTS, "timings.json"])
    for out in outs[1:]:
        for name in OUTPUTS:
            assert (out / name).read_bytes() == (outs[0] / name).read_bytes(), (out, name)
    report = json.loads((outs[0] / "report.json").read_text(encoding="utf-8"))
    assert report["documents_read"] == 17 and report["not_utf8"] == [
        {"doc": "ar.txt", "encoding": "windows-1256"}]


@pytest.mark.parametrize("doc_id", ["../../etc/x", "/tmp/evil-abs", "..\\..\\win.txt",
                                    "out/../../escape.html", "", "\x00nul", "con"])
def test_document_ids_never_become_paths(tmp_path, doc_id):
    work = tmp_path / "work"
    work.mkdir()
    feed = work / "feed.jsonl"
    feed.write_text(json.dumps({"id": doc_id, "text": "Rebels captured Saraqib on Friday.",
                                "published": "2024-11-29"}) + "\n", encoding="utf-8")
    md = work / "fm.md"
    md.write_text(f"---\nid: {json.dumps(doc_id)}\npublished: 2024-11-29\n---\n"
                  "Jets struck Atarib on Friday.\n", encoding="utf-8")
    before = {p for p in tmp_path.rglob("*")}
    out = work / "out"
    assert main(["run", str(feed), str(md), "--out", str(out), "--quiet"]) == 0
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all(p.parent == out for p in created if p != out), created
    assert not Path("/tmp/evil-abs").exists()
    docs = {f["properties"]["doc"] for f in json.loads(
        (out / "events.geojson").read_text(encoding="utf-8"))["features"]}
    assert len(docs) == 2


def test_ctrl_c_while_outputs_are_written_lets_the_set_finish():
    from geoevents.guard import deferred_interrupt
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    done = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            done.append("the last output")
    assert done == ["the last output"]
    assert signal.signal(signal.SIGINT, before) is signal.default_int_handler


@pytest.mark.parametrize("stage", ["_fusion_free_outputs", "_event_outputs"])
def test_a_failing_output_writer_process_fails_the_run_in_one_line(tmp_path, monkeypatch,
                                                                   capsys, stage):
    """With --jobs 2, forked processes write some outputs: one that fails (here, a disk
    error in its writer) ends the run with one line naming the files and why, and no
    staged file is left behind."""
    from geoevents import pipeline
    out = tmp_path / "o"
    assert main(["run", str(demo_corpus()), "--out", str(out), "--quiet", "--jobs", "2"]) == 0
    capsys.readouterr()

    def broken(*args):
        def fail(st, path):
            raise OSError(28, "No space left on device")
        return {"mentions.geojson": fail}
    monkeypatch.setattr(pipeline, stage, broken)
    assert main(["run", str(demo_corpus()), "--out", str(out), "--quiet", "--jobs", "2"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mentions.geojson" in err[0] and "No space left" in err[0], err
    assert not list(out.glob(".*.tmp"))
