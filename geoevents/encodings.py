"""Decoding untrusted bytes into text: detect what can be detected, report the rest.

Articles arrive as UTF-8 (with or without a byte-order mark), as BOM-marked UTF-16/32
(Windows tools), and still often in the legacy Windows code pages: Windows-1256 for
Arabic, Windows-1252 for Western text saved as "Latin-1" (browsers read ISO-8859-1 as
Windows-1252 too, which is where "–" and "’" live).  The order below keeps guessing to
the one case that needs it:

1. a byte-order mark decides (UTF-32/UTF-16/UTF-8);
2. NUL bytes near the start mean a binary file;
3. valid UTF-8 is UTF-8 (pure ASCII included);
4. bytes that are *mostly* valid UTF-8 are damaged UTF-8: re-reading them in a legacy
   code page would turn every good "é" into "Ã©", so they are reported, not guessed;
5. otherwise charset-normalizer chooses among :data:`LEGACY_ENCODINGS` only (a free
   choice among all code pages picks Icelandic Mac for an Arabic line); when it finds no
   coherent reading the bytes are reported as not text.

Every failure is a ``ValueError`` with a one-line reason; every success says which
encoding was used, so the run report can show it.
"""
from __future__ import annotations

import codecs
import re
from typing import NamedTuple

SNIFF_BYTES = 8192          # NUL bytes in this much of a file mark it as binary
LEGACY_ENCODINGS = ("cp1252", "cp1256")
_LABELS = {"cp1252": "windows-1252", "cp1256": "windows-1256"}
_BOMS = ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF8, "utf-8"))
_ESCAPED = re.compile("[\udc80-\udcff]")          # a byte that is not UTF-8, after surrogateescape
_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


class Decoded(NamedTuple):
    """Text and the encoding it was read in (a WHATWG-style label: ``utf-8``,
    ``utf-16-le``, ``windows-1256`` ...)."""
    text: str
    encoding: str


def decode(raw: bytes) -> Decoded:
    """The text of ``raw`` and its encoding; ValueError with a one-line reason when the
    bytes are binary, damaged UTF-8, or not coherent text in any supported encoding."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise ValueError(f"not {codec[:6].upper()} text despite its byte-order mark "
                                 f"(bad bytes at offset {exc.start + len(bom)})") from None
            if "\x00" in text[:SNIFF_BYTES]:
                raise ValueError("binary file")
            return Decoded(text, codec)
    if b"\x00" in raw[:SNIFF_BYTES]:
        raise ValueError("binary file")
    try:
        return Decoded(raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    escaped = raw.decode("utf-8", errors="surrogateescape")
    bad = len(_ESCAPED.findall(escaped))
    good = len(_NON_ASCII.findall(escaped))
    if good >= bad:
        raise ValueError(f"damaged UTF-8 text ({bad} bad byte(s), the first 0x{raw[first_bad]:02x} "
                         f"at offset {first_bad}); repair it or re-save it as UTF-8")
    from charset_normalizer import from_bytes
    best = from_bytes(raw, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None or best.encoding not in _LABELS:
        raise ValueError(f"not text in UTF-8, UTF-16, {' or '.join(_LABELS.values())} "
                         f"(byte 0x{raw[first_bad]:02x} at offset {first_bad})")
    return Decoded(raw.decode(best.encoding), _LABELS[best.encoding])
