"""Input readers: plain text / Markdown with front matter, HTML, JSONL, metadata CSV.

Every reader yields ``Document``s or ``ReadError``s, never raises for a bad input: one
broken file must not sink a batch, and its error names the file (and line).  Text is
kept exactly as written (after the front matter), because every offset downstream is a
character offset into ``Document.text``.
"""
from __future__ import annotations

import csv
import json
import re
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Iterator, NamedTuple, Optional, Sequence

from .model import Document

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
MONTHS = {m: i + 1 for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"))}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_SOURCE_LINE = re.compile(
    r"^\s*(?:this (?:story|article|report) was (?:first |originally )?published (?:on|by|at)|"
    r"(?:first|originally) published (?:on|by|at)|original source:|source:)\s*"
    r"(?P<src>[\w.-]+\.[a-z]{2,}|[A-Z][\w .&'-]{1,60}?)\s*\.?\s*$", re.I)


class ReadError(NamedTuple):
    """One input that could not be read, with a one-line reason."""
    path: str
    reason: str


def parse_date(value) -> Optional[date]:
    """ISO dates and timestamps, "29 November 2024", "November 29, 2024", "2024/11/29".

    Returns None for an empty value; raises ValueError naming the value otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"unknown date {value!r}")
    v = value.strip()
    try:
        m = re.match(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ].*)?$", v)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.match(r"^(?:\w+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$", v)
        if m and m.group(2).lower() in MONTHS:
            return date(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
        m = re.match(r"^(?:\w+,?\s+)?([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$", v)
        if m and m.group(1).lower() in MONTHS:
            return date(int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))
    except ValueError:
        pass
    raise ValueError(f"unknown date {value!r}")


def load_metadata(path: str | Path) -> dict[str, dict]:
    """The ``--metadata`` CSV (file,published,source[,url,title]) keyed by file name."""
    out: dict[str, dict] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("file") or "").strip()
            if name:
                out[Path(name).name] = {k: (v or "").strip() for k, v in row.items() if k}
    return out


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is reported."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw[:8192]:
        raise ValueError("binary file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                         f"{exc.start}); convert it to UTF-8") from None


def _front_matter(text: str) -> tuple[dict, str]:
    """Split a leading ``---`` YAML block from the body."""
    if not text.startswith("---"):
        return {}, text
    m = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", text, re.S)
    if not m:
        return {}, text
    import yaml
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"malformed front matter: {str(exc).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise ValueError("malformed front matter: not a mapping")
    return meta, text[m.end():]


def _closing_source(text: str) -> Optional[str]:
    """'This story was first published on example.com.' in the last lines."""
    for line in [ln for ln in text.splitlines() if ln.strip()][-3:]:
        m = _SOURCE_LINE.match(line)
        if m:
            return m.group("src").strip().rstrip(".")
    return None


def _str(value) -> Optional[str]:
    return None if value is None or value == "" else str(value)


def _build(doc_id: str, text: str, meta: dict, where: str) -> Document:
    if not text.strip():
        raise ValueError("empty file" if ":" not in where else "empty text")
    published = parse_date(meta.get("published", meta.get("date")))
    return Document(id=str(meta.get("id") or doc_id), text=text, published=published,
                    source=_str(meta.get("source")) or _closing_source(text),
                    url=_str(meta.get("url")), title=_str(meta.get("title")))


def _read_text(path: Path, raw: bytes) -> Iterator[Document]:
    meta, body = _front_matter(_decode(raw))
    yield _build(path.name, body, meta, str(path))


def _read_html(path: Path, raw: bytes) -> Iterator[Document]:
    import trafilatura
    html = _decode(raw)
    result = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                         favor_precision=True)
    if result is None:
        raise ValueError("HTML has no body text")
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    text = data.get("text") or ""
    if not text.strip():
        raise ValueError("HTML has no body text")
    meta = {"title": data.get("title"), "url": data.get("url"),
            "source": data.get("sitename") or data.get("hostname")}
    try:
        meta["published"] = parse_date(data.get("date"))
    except ValueError:
        pass
    yield _build(path.name, text, meta, str(path))


def _read_jsonl_lines(name: str, lines) -> Iterator[Document | ReadError]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}:{n}"
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            text = obj.get("text")
            if not isinstance(text, str):
                raise ValueError("'text' is missing or not a string")
            for key in ("id", "published", "source", "url", "title"):
                if obj.get(key) is not None and not isinstance(obj[key], (str, int)):
                    raise ValueError(f"{key!r} has the wrong type")
            yield _build(f"{name}:{n}", text, obj, where)
        except json.JSONDecodeError as exc:
            yield ReadError(where, f"malformed JSON: {exc.msg} (column {exc.colno})")
        except ValueError as exc:
            yield ReadError(where, str(exc))


def _read_jsonl(path: Path, raw: bytes) -> Iterator[Document | ReadError]:
    yield from _read_jsonl_lines(path.name, _decode(raw).splitlines())


def _files(inputs: Sequence[str | Path]) -> Iterator[Path | ReadError]:
    for item in inputs:
        p = Path(item)
        if str(item) == "-":
            yield p
        elif p.is_dir():
            yield from sorted((f for f in p.rglob("*") if f.is_file()
                               and f.suffix.lower() in SUFFIXES and f.name != "README.md"),
                              key=lambda f: f.relative_to(p).as_posix())
        elif p.is_file():
            if p.suffix.lower() in SUFFIXES:
                yield p
            else:
                yield ReadError(str(p), f"unsupported file type {p.suffix or '(none)'}")
        else:
            yield ReadError(str(p), "no such file or directory")


def read_documents(inputs: Sequence[str | Path], metadata: str | Path | None = None,
                   published: date | None = None, max_bytes: int = 20_000_000
                   ) -> Iterator[Document | ReadError]:
    """Stream documents from files, directories (recursive, sorted) and '-' (JSONL on
    stdin), in a deterministic order; metadata fills what documents lack, ``published``
    is the last default."""
    meta = load_metadata(metadata) if metadata else {}
    for name, row in meta.items():
        try:
            parse_date(row.get("published"))
        except ValueError as exc:
            yield ReadError(f"{metadata}: row {name}", f"{exc}; the date is left empty")
    for p in _files(inputs):
        if isinstance(p, ReadError):
            yield p
            continue
        if str(p) == "-":
            items = _read_jsonl_lines("stdin", sys.stdin)
        else:
            items = _read_file(p, max_bytes)
        for item in items:
            yield item if isinstance(item, ReadError) else _fill(item, meta, published)


def _read_file(path: Path, max_bytes: int) -> Iterator[Document | ReadError]:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield ReadError(str(path), f"file too large ({size} bytes > limit {max_bytes})")
            return
        raw = path.read_bytes()
        if not raw.strip():
            yield ReadError(str(path), "empty file")
            return
        suffix = path.suffix.lower()
        reader = _read_html if suffix in HTML_SUFFIXES else \
            _read_jsonl if suffix in JSONL_SUFFIXES else _read_text
        yield from reader(path, raw)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        yield ReadError(str(path), str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except Exception as exc:  # a parser bug on hostile input must not end the batch
        yield ReadError(str(path), f"cannot read: {type(exc).__name__}: {exc}"[:300])


def _fill(doc: Document, meta: dict[str, dict], published: Optional[date]) -> Document:
    row = meta.get(doc.id) or meta.get(Path(doc.id.split(":")[0]).name) or {}
    try:
        row_date = parse_date(row.get("published"))
    except ValueError:
        row_date = None
    return replace(doc, published=doc.published or row_date or published,
                   source=doc.source or row.get("source") or None,
                   url=doc.url or row.get("url") or None,
                   title=doc.title or row.get("title") or None)
