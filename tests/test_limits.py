"""Per-document limits through the real command: a size cap and a time budget."""
import json
import threading
import time

import pytest

from geoevents import documents
from geoevents.cli import main
from geoevents.documents import ReadError, read_documents
from geoevents.limits import DocumentTimeout, time_budget

GOOD = "---\npublished: 2024-11-30\n---\nRebels captured Saraqib on Saturday.\n"
# One sentence told 17,000 times (1 MB): the in-document duplicate merging compares every
# repeat with the evidence gathered so far, so this takes minutes, not milliseconds.
SLOW = "Rebels captured Saraqib and Atarib on Friday 31 February. " * 17_000


def _report(out):
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _docs(out):
    events = json.loads((out / "events.geojson").read_text(encoding="utf-8"))["features"]
    return {f["properties"]["doc"] for f in events}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_pathological_document_is_skipped_and_the_batch_goes_on(tmp_path, capsys, jobs):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(GOOD, encoding="utf-8")
    (src / "b-slow.txt").write_text(SLOW, encoding="utf-8")
    (src / "c.txt").write_text(GOOD.replace("Saraqib", "Atarib"), encoding="utf-8")
    out = tmp_path / "out"
    t0 = time.monotonic()
    code = main(["run", str(src), "--out", str(out), "--doc-timeout", "0.5", "--jobs", jobs,
                 "--quiet"])
    assert time.monotonic() - t0 < 30
    assert code == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert err == [f"geoevents: error: b-slow.txt: extraction took longer than the time "
                   f"budget of 0.5 s"]
    assert _docs(out) == {"a.txt", "c.txt"}
    limits = _report(out)["limits"]
    assert limits == {"max_bytes": 20_000_000, "doc_timeout": 0.5, "doc_timeout_enforced": True,
                      "too_large": 0, "timed_out": 1}


def test_reading_has_the_budget_too(tmp_path, monkeypatch):
    """No real HTML page is slow enough to read (lxml gives up on deep nesting quickly),
    so the HTML extractor is replaced by one that sleeps."""
    def slow_extract(html):
        time.sleep(5)
    monkeypatch.setattr(documents, "_extract_html", slow_extract)
    (tmp_path / "slow.html").write_text("<p>Jets struck Atarib.</p>", encoding="utf-8")
    (tmp_path / "ok.txt").write_text(GOOD, encoding="utf-8")
    t0 = time.monotonic()
    slow, ok = read_documents([tmp_path / "slow.html", tmp_path / "ok.txt"], doc_timeout=0.3)
    assert time.monotonic() - t0 < 2
    assert slow == ReadError(str(tmp_path / "slow.html"),
                             "reading took longer than the time budget of 0.3 s", "doc_timeout")
    assert ok.id == "ok.txt"


def test_size_cap_per_file_and_per_jsonl_line(tmp_path, capsys):
    (tmp_path / "big.txt").write_text(GOOD + "Clashes went on. " * 100, encoding="utf-8")
    (tmp_path / "ok.txt").write_text(GOOD, encoding="utf-8")
    long_line = json.dumps({"id": "long", "text": "Jets struck Atarib. " * 200})
    (tmp_path / "feed.jsonl").write_text(
        json.dumps({"id": "short", "text": "Jets struck Atarib on Friday."}) + "\n"
        + long_line + "\n" + json.dumps({"id": "after", "text": "Clashes in Hama."}) + "\n",
        encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / "big.txt"), str(tmp_path / "ok.txt"),
                 str(tmp_path / "feed.jsonl"), "--out", str(out), "--max-bytes", "1000",
                 "--quiet"])
    assert code == 1
    report = _report(out)
    assert report["limits"]["too_large"] == 2 and report["limits"]["max_bytes"] == 1000
    assert report["documents_read"] == 3                       # ok.txt, short, after
    assert {s["file"]: s["reason"] for s in report["skipped"]} == {
        str(tmp_path / "big.txt"): f"file too large ({len(GOOD) + 1700} bytes > limit 1000)",
        f"{tmp_path / 'feed.jsonl'}:2": f"line too large ({len(long_line)} bytes > limit 1000)"}


def test_bad_limit_values_are_usage_errors(tmp_path):
    for option in (["--max-bytes", "0"], ["--doc-timeout", "-1"], ["--doc-timeout", "soon"]):
        with pytest.raises(SystemExit) as exc:
            main(["run", "x.txt", "--out", str(tmp_path), *option])
        assert exc.value.code == 2


def test_time_budget_interrupts_python_work_and_restores_the_handler():
    with pytest.raises(DocumentTimeout):
        with time_budget(0.1) as enforced:
            assert enforced
            while True:
                pass
    with time_budget(0.5):                      # a block that ends in time is left alone
        time.sleep(0.01)
    time.sleep(0.6)                             # and no alarm fires afterwards


def test_an_alarm_that_library_code_swallows_fires_again():
    swallowed = []
    with pytest.raises(DocumentTimeout):
        with time_budget(0.1):
            while True:
                try:
                    sum(range(1000))
                except BaseException:        # a careless library, or a gc callback
                    if swallowed:
                        raise
                    swallowed.append(time.monotonic())
    assert len(swallowed) == 1


def test_time_budget_off_the_main_thread_is_not_enforced():
    seen = []
    t = threading.Thread(target=lambda: seen.append(time_budget(1).__enter__()))
    t.start()
    t.join()
    assert seen == [False]
