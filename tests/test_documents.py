"""Input readers on real files written to tmp_path (and the real seeds when present)."""
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoevents.documents import ReadError, parse_date, read_documents
from geoevents.model import Document

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def read(*paths, **kw):
    return list(read_documents([str(p) for p in paths], **kw))


def test_front_matter_sets_metadata_and_keeps_the_body_exact(tmp_path):
    body = "Rebels captured Saraqib on Saturday.\n\nSecond paragraph.\n"
    f = tmp_path / "a.md"
    f.write_text("---\ntitle: \"Saraqib falls\"\npublished: 2024-11-30\nsource: example.org\n"
                 "url: https://example.org/a\n---\n" + body, encoding="utf-8")
    [doc] = read(f)
    assert doc == Document("a.md", body, date(2024, 11, 30), "example.org",
                           "https://example.org/a", "Saraqib falls")


@pytest.mark.parametrize("closing,source", [
    ("This story was first published on timesofisrael.com.", "timesofisrael.com"),
    ("Original Source: news.sky.com", "news.sky.com"),
])
def test_closing_line_names_the_source(tmp_path, closing, source):
    f = tmp_path / "b.txt"
    f.write_text(f"Jets struck Atarib.\n{closing}\n", encoding="utf-8")
    assert read(f)[0].source == source


def test_bom_and_utf16_are_read(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeffJets struck Atarib.".encode("utf-8"))
    (tmp_path / "u16.txt").write_bytes("Jets struck Sarāqib.".encode("utf-16"))
    docs = read(tmp_path / "bom.txt", tmp_path / "u16.txt")
    assert [d.text for d in docs] == ["Jets struck Atarib.", "Jets struck Sarāqib."]


@pytest.mark.parametrize("raw,reason", [
    (b"", "empty file"),
    (b"   \n\n", "empty file"),
    (b"\x00\x01binary\x00" * 10, "binary file"),
    ("Rebels took حلب".encode("cp1256"), "not UTF-8"),
    ("Sarâqib “fell”".encode("cp1252"), "not UTF-8"),
])
def test_bad_files_are_reported_with_their_name(tmp_path, raw, reason):
    f = tmp_path / "bad.txt"
    f.write_bytes(raw)
    [err] = read(f)
    assert isinstance(err, ReadError) and err.path == str(f) and reason in err.reason


def test_unknown_front_matter_date_is_an_error(tmp_path):
    f = tmp_path / "c.md"
    f.write_text("---\npublished: Friday 31 February\n---\nText.\n", encoding="utf-8")
    [err] = read(f)
    assert isinstance(err, ReadError) and "unknown date" in err.reason


def test_html_article_main_text_and_metadata(tmp_path):
    f = tmp_path / "page.html"
    f.write_text("""<html><head><title>Rebels take Saraqib | Example News</title>
<meta property="article:published_time" content="2024-11-30T09:00:00Z">
<link rel="canonical" href="https://example.org/news/saraqib"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a> Subscribe now</nav>
<article><h1>Rebels take Saraqib</h1>
<p>Rebel fighters captured the town of Saraqib in Idlib province on Saturday after
government forces withdrew overnight, a war monitor said.</p>
<p>The town sits at the junction of the M4 and M5 highways, which makes it one of the
most important road hubs in the north-west of the country.</p></article>
<footer>Copyright Example News. All rights reserved. Cookie settings.</footer></body></html>""",
                 encoding="utf-8")
    [doc] = read(f)
    assert "captured the town of Saraqib" in doc.text
    assert "Cookie settings" not in doc.text and "Subscribe now" not in doc.text
    assert doc.published == date(2024, 11, 30)
    assert doc.url == "https://example.org/news/saraqib"


def test_html_without_body(tmp_path):
    f = tmp_path / "empty.html"
    f.write_text("<html><head><title>x</title></head><body></body></html>", encoding="utf-8")
    [err] = read(f)
    assert isinstance(err, ReadError) and "no body text" in err.reason


def test_jsonl_bad_lines_do_not_lose_good_ones(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "a", "text": "Jets struck Atarib.", "published": "2024-11-29"}),
        '{"id": "b", "text": ',
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "d", "text": 42}),
        json.dumps({"text": "Clashes in Tal Rifaat.", "published": "1 December 2024"}),
    ]) + "\n", encoding="utf-8")
    items = read(f)
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, ReadError)]
    assert [d.id for d in docs] == ["a", "feed.jsonl:5"]
    assert docs[1].published == date(2024, 12, 1)
    assert [e.path for e in errors] == ["feed.jsonl:2", "feed.jsonl:3", "feed.jsonl:4"]
    assert "malformed JSON" in errors[0].reason


def test_directories_recurse_in_sorted_order_and_mix_formats(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("Two.", encoding="utf-8")
    (tmp_path / "a.md").write_text("One.", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"id": "three", "text": "Three."}\n', encoding="utf-8")
    (tmp_path / "skip.csv").write_text("x,y\n", encoding="utf-8")
    assert [d.id for d in read(tmp_path)] == ["a.md", "2.txt", "three"]


def test_metadata_fills_gaps_and_documents_win(tmp_path):
    (tmp_path / "x.txt").write_text("Jets struck Atarib.", encoding="utf-8")
    (tmp_path / "y.md").write_text("---\nsource: own.org\n---\nClashes in Hama.", encoding="utf-8")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,published,source\nx.txt,2024-11-29,meta.org\ny.md,2024-12-05,meta.org\n",
                    encoding="utf-8")
    x, y = read(tmp_path / "x.txt", tmp_path / "y.md", metadata=meta)
    assert (x.published, x.source) == (date(2024, 11, 29), "meta.org")
    assert (y.published, y.source) == (date(2024, 12, 5), "own.org")


def test_published_default_applies_last(tmp_path):
    (tmp_path / "x.txt").write_text("Jets struck Atarib.", encoding="utf-8")
    assert read(tmp_path / "x.txt", published=date(2024, 12, 1))[0].published == date(2024, 12, 1)


def test_missing_and_unsupported_paths(tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    errs = read(tmp_path / "nope.txt", tmp_path / "x.pdf")
    assert [e.reason for e in errs] == ["no such file or directory", "unsupported file type .pdf"]


def test_size_cap(tmp_path):
    f = tmp_path / "big.txt"
    f.write_text("Rebels advanced. " * 1000, encoding="utf-8")
    [err] = read(f, max_bytes=1000)
    assert "too large" in err.reason


@pytest.mark.parametrize("value,expected", [
    ("2024-11-29", date(2024, 11, 29)), ("2024-11-29T10:00:00Z", date(2024, 11, 29)),
    ("29 November 2024", date(2024, 11, 29)), ("November 29, 2024", date(2024, 11, 29)),
    ("Nov 29 2024", date(2024, 11, 29)), ("2024/11/29", date(2024, 11, 29)),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["Friday 31 February", "yesterday", "31/31/2024", "2024-02-30"])
def test_parse_date_rejects_unknown(value):
    with pytest.raises(ValueError, match="unknown date"):
        parse_date(value)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared is absent")
def test_real_seeds_with_metadata():
    docs = read(SEEDS, metadata=SEEDS / "metadata.csv")
    assert len(docs) == 5 and all(isinstance(d, Document) for d in docs)
    by_id = {d.id: d for d in docs}
    assert by_id["000_f38f7bb62364784f.txt"].source == "timesofisrael.com"
    assert by_id["003_ee697aa346febfbe.txt"].source == "news.sky.com"
    assert by_id["004_6f1e0e8f85696c49.txt"].published == date(2024, 11, 29)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=2000), suffix=st.sampled_from([".txt", ".md", ".jsonl", ".html"]))
def test_random_bytes_never_escape_as_exceptions(tmp_path, raw, suffix):
    f = tmp_path / f"fuzz{suffix}"
    f.write_bytes(raw)
    for item in read_documents([str(f)]):
        assert isinstance(item, (Document, ReadError))
