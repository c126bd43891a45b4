"""Fuzzing every reader, the resolver and the event builder with hostile input.

Property, for each target: no exception escapes; every document is processed or skipped
with a one-line reason naming its file (or JSONL line); good documents in the same batch
are never lost.  Inputs go through real files in a temporary directory.  The number of
cases per target is in ``CASES`` (the README quotes it).
"""
from __future__ import annotations

import json
import tempfile
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoevents.documents import ReadError, read_documents
from geoevents.model import Document
from geoevents.pipeline import DocResult, Pipeline, Skipped

CASES = {"txt": 500, "html": 300, "jsonl": 500, "metadata": 300, "extract": 3000, "batch": 200}
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])

# Pieces that matter to the stages: place names in two scripts, trigger and date words,
# bidi and zero-width controls, NUL, combining marks, astral characters, markup, YAML.
PIECES = ["Saraqib", "سراقب", "Aleppo", "حلب", "Maarat al-Numan", "Khan Sheikhoun", "Idlib",
          "rebels", "captured", "Russian jets struck", "killed", "24 civilians", "HTS", "SDF",
          "Friday 31 February", "31/02/2024", "2024-02-30", "on Friday", "\u202e", "\u202d",
          "\u2066", "\u2069", "\u200f", "\u200b", "\ufeff", "\x00", "\u0301", "\U0001d516",
          "\U0001f4a5", "Сирия", "שלום", "東京", " ", ". ", "\n", "\r\n", "\u2028", "'", '"',
          "<", ">", "&amp;", "---", ": ", "- ", "[", "{", "\t", "al-", "Al ", "'s", "…"]
hostile_text = st.one_of(st.text(max_size=400),
                         st.lists(st.sampled_from(PIECES), max_size=80).map("".join))
json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
                          lambda kids: st.lists(kids, max_size=3)
                          | st.dictionaries(st.text(max_size=5), kids, max_size=3),
                          max_leaves=6)
GOOD = "---\npublished: 2024-11-30\n---\nRebels captured Saraqib on Saturday.\n"


@lru_cache(maxsize=1)
def pipeline() -> Pipeline:
    return Pipeline()


def _dir(tmp_path: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=tmp_path))


def _check(items: list, files: list[Path]) -> list[Document]:
    """Every item is a Document or a one-line ReadError naming one of ``files``."""
    for item in items:
        assert isinstance(item, (Document, ReadError)), item
        if isinstance(item, ReadError):
            assert any(item.path.startswith(str(f)) for f in files), item
            assert item.reason.strip() and "\n" not in item.reason and "\r" not in item.reason
    return [x for x in items if isinstance(x, Document)]


def _extract(doc: Document) -> DocResult | Skipped:
    r = pipeline().extract_safe(doc, doc_timeout=10)
    if isinstance(r, Skipped):
        assert r.file == doc.id and r.reason and "\n" not in r.reason
    return r


@settings(max_examples=CASES["txt"], **SETTINGS)
@given(meta=st.dictionaries(st.sampled_from(["published", "date", "source", "url", "title",
                                              "id", "x"]), json_value, max_size=5),
       body=hostile_text, raw_front=st.booleans(), junk=st.text(max_size=60))
def test_text_with_front_matter(tmp_path, meta, body, raw_front, junk):
    f = _dir(tmp_path) / "a.md"
    front = ("---\n" + junk + "\n---\n") if raw_front else \
        "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in meta.items()) + "---\n"
    f.write_bytes((front + body).encode("utf-8", "surrogatepass"))
    for doc in _check(list(read_documents([f])), [f]):
        _extract(doc)


@settings(max_examples=CASES["html"], **SETTINGS)
@given(tags=st.lists(st.sampled_from(["div", "p", "span", "table", "td", "script", "style",
                                      "article", "svg", "a href='javascript:x'", "title",
                                      "meta charset='x'", "!--", "b", "iframe"]), max_size=60),
       text=hostile_text, close=st.booleans())
def test_html(tmp_path, tags, text, close):
    f = _dir(tmp_path) / "a.html"
    html = "".join(f"<{t}>" for t in tags) + text
    if close:
        html += "".join(f"</{t.split()[0]}>" for t in reversed(tags))
    f.write_bytes(html.encode("utf-8", "surrogatepass"))
    for doc in _check(list(read_documents([f])), [f]):
        _extract(doc)


@settings(max_examples=CASES["jsonl"], **SETTINGS)
@given(objs=st.lists(st.one_of(
           json_value,
           st.fixed_dictionaries({"text": json_value, "published": json_value, "id": json_value}),
           st.fixed_dictionaries({"text": hostile_text, "id": st.text(max_size=20),
                                  "published": st.sampled_from(["Friday 31 February",
                                                                "2024-02-30", "2024-11-30"])})),
           max_size=6),
       broken=st.sampled_from(["", "{", '{"text": "x"', "\x00", "[" * 3000, "nul\x00l"]))
def test_jsonl_with_wrong_types(tmp_path, objs, broken):
    f = _dir(tmp_path) / "feed.jsonl"
    lines = [json.dumps(o) for o in objs] + [broken, json.dumps({"id": "good", "text": GOOD})]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    docs = _check(list(read_documents([f])), [f])
    assert "good" in [d.id for d in docs]
    for doc in docs:
        _extract(doc)


@settings(max_examples=CASES["metadata"], **SETTINGS)
@given(rows=st.lists(st.lists(st.one_of(hostile_text, st.sampled_from(
           ["a.txt", "Friday 31 February", "2024-02-30", "31 February 2024", "=cmd|x",
            "2024-11-30"])), max_size=6), max_size=6),
       header=st.sampled_from(["file,published,source,url,title", "published,source", ""]))
def test_metadata_csv(tmp_path, rows, header):
    d = _dir(tmp_path)
    meta, doc = d / "meta.csv", d / "a.txt"
    doc.write_text("Jets struck Atarib.", encoding="utf-8")
    import csv
    with open(meta, "w", encoding="utf-8", errors="surrogatepass", newline="") as fh:
        fh.write(header + "\n")
        csv.writer(fh).writerows(rows)
    docs = _check(list(read_documents([doc], metadata=meta)), [doc, meta])
    assert [d.id for d in docs] == ["a.txt"]


@settings(max_examples=CASES["extract"], **SETTINGS)
@given(text=hostile_text.filter(str.strip))
def test_resolver_and_event_builder(text):
    r = _extract(Document("fuzz.txt", text))
    if isinstance(r, DocResult):
        for f in r.mentions:
            p = f["properties"]
            assert text[p["start"]:p["end"]] == p["text"]


@settings(max_examples=CASES["batch"], **SETTINGS)
@given(raw=st.one_of(st.binary(max_size=2000), hostile_text.map(
           lambda s: s.encode("utf-8", "surrogatepass"))),
       suffix=st.sampled_from([".txt", ".md", ".html", ".jsonl"]))
def test_good_documents_in_a_hostile_batch_are_never_lost(tmp_path, raw, suffix):
    d = _dir(tmp_path)
    (d / "a-good.txt").write_text(GOOD, encoding="utf-8")
    (d / f"b-hostile{suffix}").write_bytes(raw)
    (d / "c-good.txt").write_text(GOOD.replace("Saraqib", "Atarib"), encoding="utf-8")
    res = pipeline().process(read_documents([d]))
    assert {"a-good.txt", "c-good.txt"} <= {f["properties"]["doc"] for f in res.events}
    for s in res.skipped:
        assert "b-hostile" in s["file"] and "\n" not in s["reason"]


def test_pathological_inputs_in_one_batch(tmp_path):
    """A 10 MB single line, 50,000 nested divs and a JSONL line nested 100,000 deep sit
    between good documents: each is read or skipped with a reason, extraction of the huge
    line is stopped by the time budget, and both good documents come through."""
    (tmp_path / "a-good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b-long.txt").write_text(
        "Rebels captured Saraqib on Friday 31 February \u202e and advanced. " * 170_000,
        encoding="utf-8")
    (tmp_path / "c-nested.html").write_text(
        "<html><body>" + "<div>" * 50_000 + "Jets struck Atarib." + "</div>" * 50_000
        + "</body></html>", encoding="utf-8")
    (tmp_path / "d-deep.jsonl").write_text('{"text": ' + "[" * 100_000 + "\n", encoding="utf-8")
    (tmp_path / "e-good.txt").write_text(GOOD.replace("Saraqib", "Atarib"), encoding="utf-8")
    items = list(read_documents([tmp_path], doc_timeout=5))
    docs = _check(items, sorted(tmp_path.iterdir()))
    assert [d.id for d in docs] == ["a-good.txt", "b-long.txt", "e-good.txt"]
    assert len(docs[1].text) > 10_000_000 and "\n" not in docs[1].text.strip()
    reasons = {e.path: e.reason for e in items if isinstance(e, ReadError)}
    assert reasons == {str(tmp_path / "c-nested.html"): "HTML has no body text",
                       f"{tmp_path / 'd-deep.jsonl'}:1": "malformed JSON: nested too deeply"}
    results = [pipeline().extract_safe(d, doc_timeout=2) for d in docs]
    assert isinstance(results[0], DocResult) and isinstance(results[2], DocResult)
    assert results[1] == Skipped("b-long.txt", "extraction took longer than the time budget "
                                               "of 2 s", "doc_timeout")
