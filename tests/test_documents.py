"""Input readers on real files written to tmp_path (and the real seeds when present)."""
import io
import json
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoevents.documents import ReadError, load_metadata, parse_date, read_documents
from geoevents.model import Document

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def read(*paths, **kw):
    return list(read_documents([str(p) for p in paths], **kw))


def split(items):
    return ([i for i in items if isinstance(i, Document)],
            [i for i in items if isinstance(i, ReadError)])


# ---------------------------------------------------------------- text and front matter

def test_front_matter_all_keys_and_the_body_is_exact(tmp_path):
    body = "Rebels captured Saraqib on Saturday.\n\n  Second paragraph, indented.  \n"
    f = tmp_path / "a.md"
    f.write_text("---\ntitle: \"Saraqib falls\"\npublished: 2024-11-30\nsource: example.org\n"
                 "url: https://example.org/a\nid: saraqib-01\n---\n" + body, encoding="utf-8")
    [doc] = read(f)
    assert doc == Document("saraqib-01", body, date(2024, 11, 30), "example.org",
                           "https://example.org/a", "Saraqib falls")
    start = doc.text.index("Saraqib")
    assert doc.text[start:start + 7] == "Saraqib"


def test_front_matter_date_key_timestamp_and_crlf_body_kept_verbatim(tmp_path):
    body = "Jets struck Atarib.\r\nClashes near Hama.\r\n"
    f = tmp_path / "b.txt"
    f.write_bytes(("---\r\ndate: 2024-11-29T10:00:00Z\r\n---\r\n" + body).encode("utf-8"))
    [doc] = read(f)
    assert doc.text == body and doc.published == date(2024, 11, 29) and doc.id == "b.txt"


def test_text_without_front_matter_is_the_whole_file(tmp_path):
    raw = "---\nA Markdown rule above a paragraph, not YAML.\n---\nThen the story.\n"
    f = tmp_path / "c.md"
    f.write_text(raw, encoding="utf-8")
    [doc] = read(f)
    assert doc.text == raw and doc.published is None


def test_unknown_front_matter_date_is_reported(tmp_path):
    f = tmp_path / "c.md"
    f.write_text("---\npublished: Friday 31 February\n---\nText.\n", encoding="utf-8")
    [err] = read(f)
    assert err == ReadError(str(f), "unknown date 'Friday 31 February' in front matter")


def test_malformed_front_matter_and_empty_body_are_reported(tmp_path):
    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n---\nText.\n", encoding="utf-8")
    (tmp_path / "nobody.md").write_text("---\ntitle: x\n---\n\n  \n", encoding="utf-8")
    errs = read(tmp_path / "bad.md", tmp_path / "nobody.md")
    assert all(isinstance(e, ReadError) for e in errs)
    assert errs[0].reason.startswith("malformed front matter")
    assert errs[1].reason == "no text after the front matter"


@pytest.mark.parametrize("closing,source", [
    ("This story was first published on timesofisrael.com.", "timesofisrael.com"),
    ("Original Source: news.sky.com", "news.sky.com"),
    ("First published on https://www.Example.com/world/1.", "example.com"),
    ("Source: Syrian Observatory for Human Rights", "Syrian Observatory for Human Rights"),
])
def test_closing_line_names_the_source(tmp_path, closing, source):
    f = tmp_path / "b.txt"
    f.write_text(f"Jets struck Atarib.\n{closing}\n\nShare this\n", encoding="utf-8")
    [doc] = read(f)
    assert doc.source == source
    assert doc.text.endswith(f"{closing}\n\nShare this\n")    # the text keeps the line


def test_closing_line_only_near_the_end_and_only_as_a_fallback(tmp_path):
    early = tmp_path / "early.txt"
    early.write_text("Source: early.com\nOne.\nTwo.\nThree.\nFour.\n", encoding="utf-8")
    own = tmp_path / "own.md"
    own.write_text("---\nsource: own.org\n---\nText.\nOriginal Source: other.com\n",
                   encoding="utf-8")
    a, b = read(early, own)
    assert a.source is None and b.source == "own.org"


# ---------------------------------------------------------------- encodings and bad files

def test_utf8_bom_is_dropped_and_utf16_with_bom_is_read(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeffJets struck Atarib.".encode("utf-8"))
    (tmp_path / "u16.txt").write_bytes("Jets struck Sarāqib, حلب.".encode("utf-16"))
    (tmp_path / "u16be.md").write_bytes(b"\xfe\xff" + "Clashes in Hama.".encode("utf-16-be"))
    docs = read(tmp_path / "bom.txt", tmp_path / "u16.txt", tmp_path / "u16be.md")
    assert [d.text for d in docs] == ["Jets struck Atarib.", "Jets struck Sarāqib, حلب.",
                                      "Clashes in Hama."]


def test_bom_before_front_matter(tmp_path):
    f = tmp_path / "fm.md"
    f.write_bytes("\ufeff---\npublished: 2024-12-01\n---\nBody.".encode("utf-8"))
    [doc] = read(f)
    assert (doc.text, doc.published) == ("Body.", date(2024, 12, 1))


@pytest.mark.parametrize("raw,reason", [
    (b"", "empty file"),
    (b"   \n\n\t", "empty file"),
    ("\ufeff  \n".encode("utf-8"), "empty file"),
    (b"\x00\x01binary\x00" * 10, "binary file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ("Sarāqib, déjà “fell” ".encode("utf-8") + b"\xff",
     "damaged UTF-8 text (1 bad byte(s), the first 0xff at offset 28)"),
    (bytes(range(0x80, 0x100)) * 4, "not text in UTF-8, UTF-16, windows-1252 or windows-1256 "
                                   "(byte 0x80 at offset 0)"),
])
def test_bad_files_are_reported_with_their_name(tmp_path, raw, reason):
    f = tmp_path / "bad.txt"
    f.write_bytes(raw)
    [err] = read(f)
    assert isinstance(err, ReadError) and err.path == str(f) and err.reason.startswith(reason)
    assert "\n" not in err.reason


def test_size_cap(tmp_path):
    f = tmp_path / "big.txt"
    f.write_text("Rebels advanced. " * 100, encoding="utf-8")
    [err] = read(f, max_bytes=1000)
    assert err == ReadError(str(f), "file too large (1700 bytes > limit 1000)", "max_bytes")


def test_missing_unsupported_and_special_paths(tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    (tmp_path / "noext").write_text("text", encoding="utf-8")
    errs = read(tmp_path / "nope.txt", tmp_path / "x.pdf", tmp_path / "noext")
    assert [e.reason for e in errs] == ["no such file or directory",
                                        "unsupported file type .pdf",
                                        "unsupported file type (none)"]
    assert errs[0].path == str(tmp_path / "nope.txt")


# ---------------------------------------------------------------- HTML

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Rebels take Saraqib after government withdrawal | Example News</title>
<meta property="og:title" content="Rebels take Saraqib after government withdrawal">
<meta property="article:published_time" content="2024-11-30T09:15:00Z">
<link rel="canonical" href="https://news.example.org/world/2024/rebels-take-saraqib">
<script>window.dataLayer = [];</script><style>body{font-family:serif}</style></head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/subscribe">Subscribe now for unlimited access</a></li></ul></nav></header>
<main><article>
<h1>Rebels take Saraqib after government withdrawal</h1>
<p class="byline">By A. Reporter</p>
<p>Rebel fighters captured the town of Saraqib in Idlib province on Saturday after
government forces withdrew overnight, a Britain-based war monitor said.</p>
<p>The town sits at the junction of the M4 and M5 highways, which makes it one of the most
important road hubs in the north-west of the country and a prize both sides have fought
over repeatedly since 2012.</p>
<p>Residents who fled to camps near the Turkish border said they had heard heavy shelling
through the night, and that government air strikes on nearby villages continued into
Sunday morning.</p>
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Celebrity chef opens restaurant</a></li></ul></aside>
<footer><p>Copyright 2024 Example News. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/cookies">Cookie settings</a></p></footer>
</body></html>"""


def test_html_article_main_text_and_metadata(tmp_path):
    f = tmp_path / "page.html"
    f.write_text(ARTICLE, encoding="utf-8")
    [doc] = read(f)
    assert isinstance(doc, Document) and doc.id == "page.html"
    assert "captured the town of Saraqib in Idlib province" in doc.text
    assert "junction of the M4 and M5 highways" in doc.text
    for boilerplate in ("Subscribe now", "Cookie settings", "All rights reserved",
                        "Celebrity chef", "dataLayer", "font-family"):
        assert boilerplate not in doc.text
    assert doc.published == date(2024, 11, 30)
    assert doc.url == "https://news.example.org/world/2024/rebels-take-saraqib"
    assert doc.title and "Rebels take Saraqib" in doc.title
    assert doc.source            # the site, from the canonical url
    i = doc.text.index("Saraqib")
    assert doc.text[i:i + 7] == "Saraqib"


@pytest.mark.parametrize("html", [
    "<html><head><title>Only a title</title></head><body></body></html>",
    "<html><head><script>var a = 1;</script></head><body>  <!-- ad slot -->  </body></html>",
    "<html><body><script>document.write('x')</script><style>p{}</style></body></html>",
])
def test_html_without_body(tmp_path, html):
    f = tmp_path / "empty.htm"
    f.write_text(html, encoding="utf-8")
    assert read(f) == [ReadError(str(f), "HTML has no body text")]


@pytest.mark.parametrize("html", [
    "<html><body><div><p>Rebels captured Saraqib <i>on Saturday</p></table></span>"
    "<p>Jets struck Atarib.</div></body>",
    "<p>unclosed <b>bold <div>Rebels captured Saraqib on Saturday.",
    "<html><body><p>Rebels captured Saraqib <<<>>> &bogus; &#xZZ; </html></html>",
])
def test_malformed_html_does_not_crash(tmp_path, html):
    f = tmp_path / "broken.html"
    f.write_text(html, encoding="utf-8")
    [item] = read(f)
    assert isinstance(item, Document) and "Rebels captured Saraqib" in item.text


# ---------------------------------------------------------------- JSONL

def test_jsonl_bad_lines_do_not_lose_good_ones(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "a", "text": "Jets struck Atarib.", "published": "2024-11-29",
                    "source": "wire", "url": "https://x.org/a", "title": "Atarib"}),
        "",
        '{"id": "b", "text": ',
        json.dumps({"text": "Clashes in Tal Rifaat.", "published": "1 December 2024"}),
    ]) + "\n", encoding="utf-8")
    items = read(f)
    assert items[0] == Document("a", "Jets struck Atarib.", date(2024, 11, 29), "wire",
                                "https://x.org/a", "Atarib")
    assert isinstance(items[1], ReadError) and items[1].path == f"{f}:3"
    assert items[1].reason.startswith("malformed JSON: ") and "(col " in items[1].reason
    assert items[2] == Document("feed.jsonl:4", "Clashes in Tal Rifaat.", date(2024, 12, 1))
    assert len(items) == 3


@pytest.mark.parametrize("obj,reason", [
    (["not", "an", "object"], "not a JSON object (got list)"),
    ({"id": "x"}, "missing 'text'"),
    ({"id": "x", "text": "  "}, "empty 'text'"),
    ({"id": "x", "text": 42}, "'text' is not a string (got int)"),
    ({"id": "x", "text": "ok", "published": 20241129}, "'published' is not a string (got int)"),
    ({"id": "x", "text": "ok", "title": ["a"]}, "'title' is not a string (got list)"),
    ({"id": {"a": 1}, "text": "ok"}, "'id' is not a string (got dict)"),
    ({"id": "x", "text": "ok", "published": "29/11/2024"}, "unknown date '29/11/2024'"),
])
def test_jsonl_wrong_types_are_line_errors(tmp_path, obj, reason):
    f = tmp_path / "feed.jsonl"
    f.write_text(json.dumps({"id": "first", "text": "One."}) + "\n" + json.dumps(obj) + "\n"
                 + json.dumps({"id": "last", "text": "Three."}) + "\n", encoding="utf-8")
    first, err, last = read(f)
    assert (first.id, last.id) == ("first", "last")
    assert err == ReadError(f"{f}:2", reason)


def test_jsonl_bad_bytes_and_unicode_line_separators_cost_one_line_only(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_bytes(b'{"id": "a", "text": "A\xe2\x80\xa8B"}\n'          # U+2028 inside a string
                  b'{"id": "b", "text": "caf\xc3\xa9 \xff"}\n'         # UTF-8 with a bad byte
                  b'{"id": 7, "text": "C"}\n')
    a, err, c = read(f)
    assert a.text == "A\u2028B" and c.id == "7"
    assert err.path == f"{f}:2" and err.reason.startswith("damaged UTF-8 text")


def test_jsonl_from_stdin(monkeypatch):
    data = (json.dumps({"id": "s1", "text": "Jets struck Atarib."}) + "\n{oops}\n"
            + json.dumps({"text": "Clashes in Hama."}) + "\n").encode("utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    a, err, b = read_documents(["-"], published=date(2024, 12, 3))
    assert (a.id, a.published) == ("s1", date(2024, 12, 3))
    assert err.path == "stdin:2" and b.id == "stdin:3"


# ---------------------------------------------------------------- directories

def test_directories_recurse_in_sorted_order_and_mix_formats(tmp_path):
    root = tmp_path / "corpus"
    (root / "b" / "deeper").mkdir(parents=True)
    (root / "b" / "deeper" / "1.htm").write_text(ARTICLE, encoding="utf-8")
    (root / "b" / "2.txt").write_text("Two.", encoding="utf-8")
    (root / "a.md").write_text("One.", encoding="utf-8")
    (root / "c.jsonl").write_text('{"id": "three", "text": "Three."}\n', encoding="utf-8")
    (root / "skip.csv").write_text("x,y\n", encoding="utf-8")
    (root / "skip.pdf").write_bytes(b"%PDF-1.4")
    (root / "README.md").write_text("About this corpus.", encoding="utf-8")
    (root / ".hidden.txt").write_text("Editor backup.", encoding="utf-8")
    (root / "Z.TXT").write_text("Upper case extension.", encoding="utf-8")
    items = read(root, tmp_path / "missing.txt")
    assert [getattr(i, "id", None) for i in items] == [
        "Z.TXT", "a.md", "2.txt", "1.htm", "three", None]
    assert items[-1].reason == "no such file or directory"
    assert items == read(root, tmp_path / "missing.txt")               # deterministic


def test_a_directory_without_articles_is_reported(tmp_path):
    (tmp_path / "notes.csv").write_text("a\n", encoding="utf-8")
    [err] = read(tmp_path)
    assert isinstance(err, ReadError) and err.path == str(tmp_path)


def test_one_bad_file_in_a_directory_does_not_stop_the_rest(tmp_path):
    (tmp_path / "1.txt").write_text("One.", encoding="utf-8")
    (tmp_path / "2.txt").write_bytes(b"\xff\xfe\x00")              # UTF-16 BOM, odd bytes
    (tmp_path / "3.txt").write_text("Three.", encoding="utf-8")
    one, bad, three = read(tmp_path)
    assert (one.text, three.text) == ("One.", "Three.")
    assert bad.path == str(tmp_path / "2.txt") and bad.reason.startswith("not UTF-16")


# ---------------------------------------------------------------- metadata and defaults

def test_metadata_fills_gaps_and_documents_win(tmp_path):
    (tmp_path / "x.txt").write_text("Jets struck Atarib.", encoding="utf-8")
    (tmp_path / "y.md").write_text("---\nsource: own.org\nid: custom\n---\nClashes in Hama.",
                                   encoding="utf-8")
    (tmp_path / "z.txt").write_text("Shelling in Idlib.\nSource: credit.org", encoding="utf-8")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,published,source,url,title\n"
                    "x.txt,2024-11-29,meta.org,https://meta.org/x,X title\n"
                    "sub/y.md,2024-12-05,meta.org,,\n"
                    "z.txt,,,,\n", encoding="utf-8")
    x, y, z = read(tmp_path / "x.txt", tmp_path / "y.md", tmp_path / "z.txt", metadata=meta,
                   published=date(2024, 12, 9))
    assert x == Document("x.txt", "Jets struck Atarib.", date(2024, 11, 29), "meta.org",
                         "https://meta.org/x", "X title")
    assert (y.id, y.published, y.source, y.url) == ("custom", date(2024, 12, 5), "own.org", None)
    assert (z.published, z.source) == (date(2024, 12, 9), "credit.org")   # empty cells: unknown


def test_metadata_rows_match_jsonl_ids(tmp_path):
    (tmp_path / "feed.jsonl").write_text(
        json.dumps({"id": "a", "text": "One."}) + "\n"
        + json.dumps({"id": "b", "text": "Two.", "published": "2024-12-01"}) + "\n",
        encoding="utf-8")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,published,source\na,2024-11-28,wire\nb,2024-11-20,wire\n",
                    encoding="utf-8")
    a, b = read(tmp_path / "feed.jsonl", metadata=meta)
    assert (a.published, a.source) == (date(2024, 11, 28), "wire")
    assert b.published == date(2024, 12, 1)


def test_unknown_metadata_date_is_reported_and_the_document_still_read(tmp_path):
    (tmp_path / "x.txt").write_text("Jets struck Atarib.", encoding="utf-8")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,published,source\nx.txt,29/11/2024,meta.org\n", encoding="utf-8")
    err, doc = read(tmp_path / "x.txt", metadata=meta, published=date(2024, 12, 1))
    assert err.path == f"{meta}:2" and err.reason.startswith("unknown date '29/11/2024'")
    assert (doc.published, doc.source) == (date(2024, 12, 1), "meta.org")


def test_missing_metadata_file_is_reported_and_reading_goes_on(tmp_path):
    (tmp_path / "x.txt").write_text("Jets struck Atarib.", encoding="utf-8")
    err, doc = read(tmp_path / "x.txt", metadata=tmp_path / "nope.csv")
    assert err.path == str(tmp_path / "nope.csv") and "no such file" in err.reason
    assert doc.id == "x.txt"


def test_load_metadata(tmp_path):
    meta = tmp_path / "meta.csv"
    meta.write_bytes("\ufefffile,published,source\nx.txt,2024-11-29,a.org\ny.txt,,\n"
                     "z.txt,someday,\n".encode("utf-8"))
    problems = []
    rows = load_metadata(meta, problems)
    assert rows["x.txt"]["published"] == date(2024, 11, 29) and rows["x.txt"]["source"] == "a.org"
    assert rows["y.txt"]["published"] is None and rows["y.txt"]["source"] is None
    assert rows["z.txt"]["published"] is None and problems[0][0] == 4
    with pytest.raises(ValueError, match="unknown date 'someday'"):
        load_metadata(meta)
    (tmp_path / "bad.csv").write_text("name,date\nx,2024-01-01\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'file' column"):
        load_metadata(tmp_path / "bad.csv")


def test_published_default_applies_last(tmp_path):
    (tmp_path / "x.txt").write_text("Jets struck Atarib.", encoding="utf-8")
    (tmp_path / "y.md").write_text("---\npublished: 2024-11-27\n---\nHama.", encoding="utf-8")
    x, y = read(tmp_path / "x.txt", tmp_path / "y.md", published=date(2024, 12, 1))
    assert (x.published, y.published) == (date(2024, 12, 1), date(2024, 11, 27))


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize("value,expected", [
    ("2024-11-29", date(2024, 11, 29)), ("2024-11-29T10:00:00Z", date(2024, 11, 29)),
    ("2024-11-29T23:30:00+03:00", date(2024, 11, 29)), ("2024-11-29 10:00", date(2024, 11, 29)),
    ("29 November 2024", date(2024, 11, 29)), ("November 29, 2024", date(2024, 11, 29)),
    ("Nov 29 2024", date(2024, 11, 29)), ("2024/11/29", date(2024, 11, 29)),
    ("Friday, 29 November 2024", date(2024, 11, 29)), ("29th Nov. 2024", date(2024, 11, 29)),
    ("  2024-11-29  ", date(2024, 11, 29)), (date(2024, 11, 29), date(2024, 11, 29)),
    (datetime(2024, 11, 29, 10, 0), date(2024, 11, 29)), (None, None), ("", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["Friday 31 February", "yesterday", "29/11/2024",
                                   "11/29/2024", "2024-02-30", "2024-11/29",
                                   "2024-11-29 garbage", "Smarch 3, 2024", 20241129])
def test_parse_date_rejects_unknown(value):
    with pytest.raises(ValueError, match="unknown date"):
        parse_date(value)


# ---------------------------------------------------------------- the real seeds

@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is absent")
def test_real_seeds_with_metadata():
    items = read(SEEDS, metadata=SEEDS / "metadata.csv")
    docs, errors = split(items)
    assert errors == [] and len(docs) == 5
    by_id = {d.id: d for d in docs}
    assert list(by_id) == sorted(by_id)
    assert by_id["000_f38f7bb62364784f.txt"].source == "timesofisrael.com"
    assert by_id["003_ee697aa346febfbe.txt"].source == "news.sky.com"
    assert {k: d.published for k, d in by_id.items()} == {
        "000_f38f7bb62364784f.txt": date(2024, 11, 28),
        "001_8e475e51c7ecd231.txt": date(2024, 11, 30),
        "002_2cd16dd6a7aa5b7a.txt": date(2024, 11, 30),
        "003_ee697aa346febfbe.txt": date(2024, 12, 2),
        "004_6f1e0e8f85696c49.txt": date(2024, 11, 29)}
    for doc_id, doc in by_id.items():
        assert doc.text == (SEEDS / doc_id).read_bytes().decode("utf-8-sig")


# ---------------------------------------------------------------- fuzz

@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(
           st.binary(max_size=3000),
           st.text(max_size=1500).map(lambda s: s.encode("utf-8")),
           st.lists(st.sampled_from([b"---\n", b"<html>", b"<p>", b"</div>", b'{"text":',
                                     b'"x"}', b"\n", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00",
                                     b"published: 2024-13-45\n", b"Source: a.b\n", b"[" * 50]),
                    max_size=40).map(b"".join)),
       suffix=st.sampled_from([".txt", ".md", ".jsonl", ".html"]))
def test_random_bytes_never_escape_as_exceptions(tmp_path, raw, suffix):
    f = tmp_path / f"fuzz{suffix}"
    f.write_bytes(raw)
    for item in read_documents([str(f)], metadata=None, published=date(2024, 1, 1)):
        assert isinstance(item, (Document, ReadError))
        if isinstance(item, ReadError):
            assert item.path.startswith(str(f)) and item.reason and "\n" not in item.reason
        else:
            assert item.text.strip() and item.published is not None
