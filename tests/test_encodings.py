"""Encodings on real files: read correctly and said so, or reported; never mangled."""
import json

import pytest

from geoevents.cli import main
from geoevents.documents import ReadError, read_documents
from geoevents.encodings import decode

ARABIC = "قالت مصادر محلية إن فصائل المعارضة سيطرت على سراقب، ثم تقدمت نحو الأتارب."
LATIN = "Rebels captured Saraqib – the café on the main road was shelled, witnesses said."

# (file name, bytes, text read, encoding reported)
CASES = [
    ("utf8.txt", ARABIC.encode("utf-8"), ARABIC, "utf-8"),
    ("utf8-bom.txt", b"\xef\xbb\xbf" + LATIN.encode("utf-8"), LATIN, "utf-8"),
    ("utf16.txt", ARABIC.encode("utf-16"), ARABIC, "utf-16-le"),
    ("utf16be.md", b"\xfe\xff" + LATIN.encode("utf-16-be"), LATIN, "utf-16-be"),
    ("cp1256.txt", ARABIC.encode("cp1256"), ARABIC, "windows-1256"),
    ("cp1252.txt", LATIN.encode("cp1252"), LATIN, "windows-1252"),
    ("latin1.txt", "Saraqib café, Hama à côté, Deir ez-Zor été".encode("latin-1"),
     "Saraqib café, Hama à côté, Deir ez-Zor été", "windows-1252"),
]


@pytest.mark.parametrize("name,raw,text,encoding", CASES, ids=[c[0] for c in CASES])
def test_each_encoding_is_read_exactly_and_named(tmp_path, name, raw, text, encoding):
    f = tmp_path / name
    f.write_bytes(raw)
    [doc] = read_documents([f])
    assert (doc.text, doc.encoding) == (text, encoding)


def test_a_windows_1256_html_page_and_jsonl_feed(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(("<html><head><meta charset='windows-1256'><title>سراقب</title></head>"
                      f"<body><article><p>{ARABIC}</p></article></body></html>").encode("cp1256"))
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(json.dumps({"id": "ar", "text": ARABIC}, ensure_ascii=False).encode("cp1256")
                     + b"\n" + json.dumps({"id": "en", "text": LATIN}).encode("utf-8") + b"\n")
    html, ar, en = read_documents([page, feed])
    assert ARABIC in html.text and html.encoding == "windows-1256"
    assert (ar.text, ar.encoding) == (ARABIC, "windows-1256")
    assert (en.text, en.encoding) == (LATIN, "utf-8")


@pytest.mark.parametrize("raw,reason", [
    (bytes(range(0x80, 0x100)) * 8, "not text in UTF-8, UTF-16, windows-1252 or windows-1256"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(0x81, 0xff)) * 3, "not text in UTF-8"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "binary file"),
    ("Saraqib – café".encode("utf-8") + b" \xc3 end", "damaged UTF-8 text (1 bad byte(s)"),
    (b"\xff\xfe" + b"\x00\xd8" + "x".encode("utf-16-le"), "not UTF-16 text despite its byte-order mark"),
])
def test_garbage_and_damaged_text_are_reported_not_guessed(tmp_path, raw, reason):
    f = tmp_path / "bad.txt"
    f.write_bytes(raw)
    [err] = read_documents([f])
    assert isinstance(err, ReadError) and err.path == str(f)
    assert err.reason.startswith(reason) and "\n" not in err.reason


def test_decode_keeps_ascii_and_utf8_as_utf8():
    assert decode(b"Jets struck Atarib.") == ("Jets struck Atarib.", "utf-8")
    assert decode("Sarāqib".encode("utf-8")).encoding == "utf-8"


def test_arabic_town_names_resolve_after_windows_1256_decoding_and_the_report_says_so(
        tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "ar.txt").write_bytes(ARABIC.encode("cp1256"))
    (src / "en.txt").write_bytes(LATIN.encode("cp1252"))
    (src / "ok.txt").write_text("Jets struck Atarib on Friday.", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(src), "--out", str(out), "--quiet"]) == 0
    places = {(m["properties"]["doc"], m["properties"]["text"], m["properties"]["name"])
              for m in json.loads((out / "mentions.geojson").read_text("utf-8"))["features"]}
    assert {("ar.txt", "سراقب", "Saraqib"), ("ar.txt", "الأتارب", "Atarib"),
            ("en.txt", "Saraqib", "Saraqib")} <= places
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["encodings"] == {"utf-8": 1, "windows-1252": 1, "windows-1256": 1}
    assert report["not_utf8"] == [{"doc": "ar.txt", "encoding": "windows-1256"},
                                  {"doc": "en.txt", "encoding": "windows-1252"}]
    err = capsys.readouterr().err
    assert "geoevents: note: ar.txt: read as windows-1256" in err
