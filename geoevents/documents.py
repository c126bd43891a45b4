"""Input readers: plain text / Markdown with front matter, HTML, JSONL, metadata CSV.

Every reader yields ``Document``s or ``ReadError``s and never raises for a bad input:
one broken file (or one broken JSONL line) must not sink a batch, and its error names
the file (and line) so the user can fix it.  Text is kept exactly as written after the
front matter (only a leading byte-order mark is dropped), because every offset
downstream is a character offset into ``Document.text``.  Nothing here touches the
network: HTML is extracted from the bytes on disk.

Where a field comes from, first match wins:

* ``published``: the document itself (front matter ``published``/``date``, JSONL
  ``published``, HTML metadata), then the ``--metadata`` CSV row, then ``published=``.
* ``source``: the document itself (front matter, JSONL, the HTML site name), then the
  CSV row, then a closing credit line such as "This story was first published on
  example.com." or "Original Source: news.sky.com" among the last three non-empty lines.
* ``url`` / ``title``: the document, then the CSV row.
"""
from __future__ import annotations

import codecs
import csv
import glob
import json
import os
import re
import sys
import warnings
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, NamedTuple, Optional, Sequence

from .encodings import SNIFF_BYTES, decode
from .limits import (DEFAULT_DOC_TIMEOUT, DEFAULT_MAX_BYTES, DOC_TIMEOUT, MAX_BYTES,
                     DocumentTimeout, time_budget, too_large)
from .model import Document

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

_MONTHS = {m: i + 1 for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"))}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
_ISO_DATE = re.compile(
    r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?",
    re.I | re.ASCII)
_DMY_DATE = re.compile(_WEEKDAY + r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})",
                       re.I | re.ASCII)
_MDY_DATE = re.compile(_WEEKDAY + r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})",
                       re.I | re.ASCII)

_CREDIT_LINE = re.compile(
    r"\s*(?:(?:this|the)\s+(?:story|article|report|piece)\s+(?:(?:was|is)\s+)?"
    r"(?:first\s+|originally\s+)?(?:published|posted|appeared)\s+(?:on|by|at|in)"
    r"|(?:first|originally)\s+(?:published|posted|appeared)\s+(?:on|by|at|in)"
    r"|(?:original\s+)?source\s*:)\s*"
    r"(?:(?:https?://)?(?:www\.)?(?P<domain>[\w-]+(?:\.[\w-]+)+)(?:/\S*)?"
    r"|(?P<name>(?-i:[A-Z])[\w .&'\u2019-]{0,60}?))\s*\.?\s*", re.I)

_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n(?:(.*?)\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)


class ReadError(NamedTuple):
    """One input that could not be read, reported instead of raised so the batch goes on.

    ``path`` is the file as given (with ``:LINE`` for a JSONL line or a metadata row);
    ``reason`` is one human-readable line; ``limit`` names the limit that stopped it
    (``limits.MAX_BYTES`` or ``limits.DOC_TIMEOUT``), if one did."""
    path: str
    reason: str
    limit: Optional[str] = None


# ---------------------------------------------------------------- dates

def parse_date(value) -> Optional[date]:
    """A publication date from front matter, JSONL, a CSV cell or the command line.

    Accepts ``date``/``datetime`` objects (YAML parses dates itself), ISO dates and
    timestamps (``2024-11-29``, ``2024-11-29T10:00:00Z``: the date part as written),
    ``2024/11/29``, ``29 November 2024``, ``November 29, 2024``, ``Nov 29 2024`` (an
    optional weekday in front).  Day-first or month-first numeric forms like
    ``29/11/2024`` are ambiguous and rejected.  Returns None for None or a blank string;
    raises ValueError("unknown date '...'") for anything else, so a typo is reported
    rather than silently dropping the date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"unknown date {value!r}")
    v = value.strip()
    if not v:
        return None
    try:
        m = _ISO_DATE.fullmatch(v)
        if m:
            return date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        m = _DMY_DATE.fullmatch(v)
        if m and m.group(2).lower() in _MONTHS:
            return date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
        m = _MDY_DATE.fullmatch(v)
        if m and m.group(1).lower() in _MONTHS:
            return date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    except ValueError:          # 2024-02-30 and the like
        pass
    raise ValueError(f"unknown date {value!r}")


# ---------------------------------------------------------------- metadata CSV

def load_metadata(path: str | Path, problems: Optional[list[tuple[int, str]]] = None
                  ) -> dict[str, dict]:
    """The ``--metadata`` CSV (``file,published,source[,url,title]``), keyed by file name.

    Lets a plain-text corpus carry dates and outlets without editing the articles.  Each
    value is a dict with ``published`` (a ``date`` or None), ``source``, ``url`` and
    ``title`` (str or None: an empty cell means unknown) and ``line`` (the CSV line).
    A ``file`` cell holding a path is keyed by its base name.  An unparseable date
    raises ValueError, unless a ``problems`` list is given: then ``(line, reason)`` is
    appended to it and the row is kept without its date.  A missing file raises
    OSError; a file without a ``file`` column raises ValueError."""
    out: dict[str, dict] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return out
        cols = [h.strip().lower() for h in header]
        if "file" not in cols:
            raise ValueError("metadata CSV has no 'file' column (expected file,published,source)")
        for row in reader:
            line = reader.line_num
            cells = {c: (row[i].strip() if i < len(row) else "") for i, c in enumerate(cols)}
            name = cells.get("file", "")
            if not name:
                continue
            name = name.replace("\\", "/").rsplit("/", 1)[-1]
            raw_date = cells.get("published") or cells.get("date") or ""
            try:
                published = parse_date(raw_date)
            except ValueError as exc:
                if problems is None:
                    raise ValueError(f"line {line}: {exc}") from None
                problems.append((line, f"{exc} for {name!r}; it is read without this date"))
                published = None
            out[name] = {"published": published, "line": line,
                         **{k: cells.get(k) or None for k in ("source", "url", "title")}}
    return out


# ---------------------------------------------------------------- plain text / Markdown

def _front_matter(text: str) -> tuple[dict, str]:
    """Split a leading ``---`` YAML block from the body; the body is returned untouched.

    A block that parses to something other than a mapping (a Markdown rule around a
    paragraph) is not front matter and stays in the text."""
    if not text.startswith("---"):
        return {}, text
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    import yaml
    try:
        meta = yaml.safe_load(m.group(1) or "")
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"malformed front matter: {first}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return {}, text
    return {str(k).strip().lower(): v for k, v in meta.items()}, text[m.end():]


def _text_field(meta: dict, key: str, where: str) -> Optional[str]:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, date)):
        raise ValueError(f"{key!r} in {where} is not text")
    return str(value)


def _read_text(path: Path, raw: bytes) -> Iterator[Document]:
    text, encoding = decode(raw)
    meta, body = _front_matter(text)
    if not body.strip():
        raise ValueError("empty file" if not meta else "no text after the front matter")
    raw_date = meta.get("published", meta.get("date"))
    try:
        published = parse_date(raw_date)
    except ValueError as exc:
        raise ValueError(f"{exc} in front matter") from None
    yield Document(id=_text_field(meta, "id", "front matter") or path.name, text=body,
                   published=published, source=_text_field(meta, "source", "front matter"),
                   url=_text_field(meta, "url", "front matter"),
                   title=_text_field(meta, "title", "front matter"), encoding=encoding)


def closing_source(text: str) -> Optional[str]:
    """The outlet named by a closing credit line ("This story was first published on
    example.com.", "Original Source: news.sky.com", "First published on X", "Source: X")
    among the last three non-empty lines: aggregated copies often name their origin
    only there."""
    seen = 0
    for line in reversed(text[-4000:].splitlines()):
        if not line.strip():
            continue
        m = _CREDIT_LINE.fullmatch(line)
        if m:
            return m.group("domain").lower() if m.group("domain") else m.group("name").strip()
        seen += 1
        if seen == 3:
            break
    return None


# ---------------------------------------------------------------- HTML

def _trafilatura_config():
    """Trafilatura's defaults, but no minimum size (short wire items are articles too,
    and below the minimum its fallbacks pull in navigation) and dates from markup only."""
    import trafilatura.settings
    from copy import deepcopy
    cfg = deepcopy(trafilatura.settings.DEFAULT_CONFIG)
    cfg["DEFAULT"]["MIN_EXTRACTED_SIZE"] = "1"
    cfg["DEFAULT"]["EXTENSIVE_DATE_SEARCH"] = "off"
    return cfg


_CONFIG: list = []


def _extract_html(html: str) -> Optional[dict]:
    """Main text and metadata of a page, or None when it has no body text."""
    import trafilatura
    if not _CONFIG:
        _CONFIG.append(_trafilatura_config())
    attempts = [html]
    head = html[:4000].lower()
    if "<html" not in head and "<body" not in head:     # a bare fragment: give it a body
        attempts.append(f"<html><body>{html}</body></html>")
    for doc in attempts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = trafilatura.bare_extraction(
                doc, with_metadata=True, include_comments=False, favor_precision=True,
                config=_CONFIG[0], date_extraction_params={"extensive_search": False,
                                                           "original_date": True})
        if result is None:
            continue
        data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
        if (data.get("text") or "").strip():
            return data
    return None


def _read_html(path: Path, raw: bytes) -> Iterator[Document]:
    html, encoding = decode(raw)
    if not html.strip():
        raise ValueError("empty file")
    data = _extract_html(html)
    if data is None:
        raise ValueError("HTML has no body text")
    try:
        published = parse_date(data.get("date"))
    except ValueError:
        published = None        # a page date we cannot read is not worth losing the page
    yield Document(id=path.name, text=data["text"], published=published,
                   source=data.get("sitename") or data.get("hostname") or None,
                   url=data.get("url") or None, title=data.get("title") or None,
                   encoding=encoding)


# ---------------------------------------------------------------- JSONL

def _jsonl_document(obj, name: str, n: int, encoding: str) -> Document:
    if not isinstance(obj, dict):
        raise ValueError(f"not a JSON object (got {type(obj).__name__})")
    text = obj.get("text")
    if text is None:
        raise ValueError("missing 'text'")
    if not isinstance(text, str):
        raise ValueError(f"'text' is not a string (got {type(text).__name__})")
    if not text.strip():
        raise ValueError("empty 'text'")
    doc_id = obj.get("id")
    if doc_id is not None and (isinstance(doc_id, bool) or not isinstance(doc_id, (str, int))):
        raise ValueError(f"'id' is not a string (got {type(doc_id).__name__})")
    fields = {}
    for key in ("published", "source", "url", "title"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key!r} is not a string (got {type(value).__name__})")
        fields[key] = value or None
    return Document(id=str(doc_id) if doc_id not in (None, "") else f"{name}:{n}", text=text,
                    published=parse_date(fields["published"]), source=fields["source"],
                    url=fields["url"], title=fields["title"], encoding=encoding)


class _Oversize(NamedTuple):
    """A JSONL line longer than the size cap: only its length is kept."""
    size: int


def _bounded_lines(fh: BinaryIO, max_bytes: int) -> Iterator[bytes | _Oversize]:
    """The lines of a binary stream, never holding more than ``max_bytes`` of one line:
    a longer line is read past in chunks and stands as its size."""
    while True:
        line = fh.readline(max_bytes + 1)
        if not line:
            return
        if line.endswith(b"\n") or len(line) <= max_bytes:
            yield line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = fh.readline(1 << 20)
            if not line:
                break
            size += len(line)
        yield _Oversize(size - line.endswith(b"\n"))


def _jsonl_lines(where: str, name: str, lines: Iterable[bytes | str | _Oversize],
                 max_bytes: int, text_encoding: str = "utf-8") -> Iterator[Document | ReadError]:
    """One Document or ReadError per non-blank line; a bad line costs only itself.

    Byte lines that are not UTF-8 are decoded one by one (``encodings.decode``), so a
    feed in Windows-1256 is read and a stray bad byte costs one line; text lines were
    decoded in ``text_encoding``."""
    for n, line in enumerate(lines, 1):
        try:
            encoding = text_encoding
            if isinstance(line, _Oversize):
                yield ReadError(f"{where}:{n}", too_large(line.size, max_bytes, "line"), MAX_BYTES)
                continue
            if isinstance(line, bytes):
                if n == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                try:
                    line = line.decode("utf-8")
                except UnicodeDecodeError:
                    line, encoding = decode(line)
            elif n == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"malformed JSON: {exc.msg} (col {exc.colno})") from None
            yield _jsonl_document(obj, name, n, encoding)
        except ValueError as exc:
            yield ReadError(f"{where}:{n}", str(exc))
        except RecursionError:
            yield ReadError(f"{where}:{n}", "malformed JSON: nested too deeply")
        except Exception as exc:  # a parser surprise still costs one line only
            yield ReadError(f"{where}:{n}", f"cannot read: {type(exc).__name__}"[:300])


def _read_jsonl(path: Path, max_bytes: int) -> Iterator[Document | ReadError]:
    """Streamed line by line, so the size cap holds per line, not per feed; a UTF-16/32
    feed (byte-order mark) is decoded whole and capped as a file.  A file is binary when
    over 1% of its first bytes are NUL."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
        fh.seek(0)
        if not head.strip():
            raise ValueError("empty file")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                yield ReadError(str(path), too_large(size, max_bytes), MAX_BYTES)
                return
            text, encoding = decode(fh.read())
            yield from _jsonl_lines(str(path), path.name, text.split("\n"), max_bytes, encoding)
            return
        if head.count(b"\x00") * 100 > len(head):     # a stray NUL costs its line only
            raise ValueError("binary file")
        yield from _jsonl_lines(str(path), path.name, _bounded_lines(fh, max_bytes), max_bytes)


# ---------------------------------------------------------------- files and directories

_READERS = {**{s: _read_text for s in TEXT_SUFFIXES}, **{s: _read_html for s in HTML_SUFFIXES}}


def _skip_in_directory(name: str) -> bool:
    """Hidden files (editor and OS droppings) and README files describe a corpus, not
    an article in it."""
    return name.startswith(".") or name.lower().startswith("readme.") \
        or os.path.splitext(name)[1].lower() not in SUFFIXES


def _walk(root: Path) -> Iterator[Path | ReadError]:
    found: list[tuple[str, Path]] = []
    failures: list[ReadError] = []

    def onerror(exc: OSError) -> None:
        failures.append(ReadError(str(exc.filename or root), _os_reason(exc)))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for fn in filenames:
            if not _skip_in_directory(fn):
                full = Path(dirpath) / fn
                found.append((full.relative_to(root).as_posix(), full))
    yield from failures
    if not found and not failures:
        yield ReadError(str(root), "directory has no .txt, .md, .html, .htm or .jsonl files")
    for _, full in sorted(found, key=lambda item: item[0]):
        yield full


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or type(exc).__name__).lower()


def _read_file(path: Path, max_bytes: int, doc_timeout: Optional[float]
               ) -> Iterator[Document | ReadError]:
    """Every document of one file, or why not; a text or HTML file is read within the
    time budget (a JSONL line is parsed by ``json`` in C, which the budget cannot stop)."""
    try:
        if path.suffix.lower() in JSONL_SUFFIXES:
            yield from _read_jsonl(path, max_bytes)
            return
        size = path.stat().st_size
        if size > max_bytes:
            yield ReadError(str(path), too_large(size, max_bytes), MAX_BYTES)
            return
        raw = path.read_bytes()
        if not raw.strip():
            yield ReadError(str(path), "empty file")
            return
        with time_budget(doc_timeout):
            docs = list(_READERS[path.suffix.lower()](path, raw))
        yield from docs
    except DocumentTimeout as exc:
        exc.disarm()
        yield ReadError(str(path), f"reading {exc}", DOC_TIMEOUT)
    except OSError as exc:
        yield ReadError(str(path), _os_reason(exc))
    except ValueError as exc:
        text = str(exc).strip()
        yield ReadError(str(path), text.splitlines()[0] if text else type(exc).__name__)
    except Exception as exc:  # a parser bug on hostile input must not end the batch
        yield ReadError(str(path), f"cannot read: {type(exc).__name__}: {exc}"
                        .splitlines()[0][:300])


def _stdin_lines(max_bytes: int) -> Iterable[bytes | str | _Oversize]:
    buffer = getattr(sys.stdin, "buffer", None)
    return _bounded_lines(buffer, max_bytes) if buffer is not None else sys.stdin


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _sources(inputs: Sequence[str | Path], max_bytes: int, doc_timeout: Optional[float]
             ) -> Iterator[tuple[Iterator, str]]:
    """(items, file name for metadata matching) per readable input, errors as items."""
    for item in inputs:
        if str(item) == "-":
            yield _jsonl_lines("stdin", "stdin", _stdin_lines(max_bytes), max_bytes), "stdin"
            continue
        p = Path(item)
        if not p.exists() and _has_glob(str(item)):
            matches = [m for m in sorted(glob.glob(str(item), recursive=True))
                       if os.path.isdir(m) or not _skip_in_directory(os.path.basename(m))]
            if not matches:
                yield iter([ReadError(str(item), "no file matches this pattern")]), ""
            yield from _sources(matches, max_bytes, doc_timeout)
            continue
        try:
            if p.is_dir():
                for entry in _walk(p):
                    if isinstance(entry, ReadError):
                        yield iter([entry]), ""
                    else:
                        yield _read_file(entry, max_bytes, doc_timeout), entry.name
                continue
            if not p.exists():
                yield iter([ReadError(str(p), "no such file or directory")]), ""
            elif not p.is_file():
                yield iter([ReadError(str(p), "not a regular file")]), ""
            elif p.suffix.lower() not in SUFFIXES:
                yield iter([ReadError(str(p), f"unsupported file type {p.suffix or '(none)'}")]), ""
            else:
                yield _read_file(p, max_bytes, doc_timeout), p.name
        except OSError as exc:
            yield iter([ReadError(str(p), _os_reason(exc))]), ""


def read_documents(inputs: Sequence[str | Path], metadata: str | Path | None = None,
                   published: date | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                   doc_timeout: Optional[float] = DEFAULT_DOC_TIMEOUT
                   ) -> Iterator[Document | ReadError]:
    """Stream documents from files, directories (recursive, sorted for determinism), glob
    patterns (``'news/**/*.html'``, sorted, filtered like a directory's files) and '-'
    (stdin, JSONL), so a batch of any size runs in constant memory.

    Order is deterministic: inputs as given, a directory's files sorted by relative path
    (hidden files, README.* and other extensions skipped).  Every failure is yielded as a
    ``ReadError`` and reading goes on.  ``metadata`` fills what a document lacks (its
    own values win), matched on the document id or its file's base name; ``published``
    is the last default date.  A metadata row whose date cannot be parsed is reported
    once, up front, as ``ReadError("meta.csv:LINE", ...)`` and its documents are still
    read, with the rest of the row and without that date; an unreadable metadata file
    is reported the same way and reading goes on without it.  ``max_bytes`` caps each
    document (a file, or a JSONL line) and ``doc_timeout`` bounds the reading of each
    text or HTML file (see ``limits``); a document either stops is skipped with a
    ``ReadError`` that names the limit."""
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    rows: dict[str, dict] = {}
    if metadata:
        problems: list[tuple[int, str]] = []
        try:
            rows = load_metadata(metadata, problems)
        except OSError as exc:
            yield ReadError(str(metadata), f"metadata: {_os_reason(exc)}")
        except (ValueError, UnicodeDecodeError, csv.Error) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, UnicodeDecodeError):
                reason = "not UTF-8 text"
            yield ReadError(str(metadata), f"metadata: {reason}")
        for line, reason in problems:
            yield ReadError(f"{metadata}:{line}", reason)
    for items, file_name in _sources(inputs, max_bytes, doc_timeout):
        for item in items:
            if isinstance(item, Document):
                item = _fill(item, rows.get(item.id) or rows.get(file_name) or {}, published)
            yield item


def _fill(doc: Document, row: dict, published: Optional[date]) -> Document:
    """Metadata row, then the closing credit line, then the default date: only gaps."""
    source = doc.source or row.get("source") or closing_source(doc.text)
    new = dict(published=doc.published or row.get("published") or published,
               source=source, url=doc.url or row.get("url"), title=doc.title or row.get("title"))
    if all(getattr(doc, k) == v for k, v in new.items()):
        return doc
    return replace(doc, **new)


def count_documents(inputs: Sequence[str | Path]) -> Optional[int]:
    """A quick count for a progress ETA: one per article file, one per line of a JSONL
    file (a fast byte count, no parsing); None when stdin is among the inputs."""
    total = 0
    for item in [inputs] if isinstance(inputs, (str, Path)) else inputs:
        if str(item) == "-":
            return None
        p = Path(item)
        files = (x for x in _walk(p) if isinstance(x, Path)) if p.is_dir() else [p]
        for f in files:
            if f.suffix.lower() not in JSONL_SUFFIXES:
                total += 1
                continue
            try:
                with f.open("rb") as fh:
                    total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            except OSError:
                total += 1
    return total
