"""Vectorized structure of delimited text: record boundaries, physical lines, field counts.

Quotes are special only at the start of a field (as in pyarrow's and Python's CSV readers) and
are doubled inside a quoted field. For well-formed text the quote *parity* before a byte tells
whether it lies inside a quoted field, which numpy computes for a whole block at once. A quote
that opens in the middle of an unquoted field breaks parity; :func:`scan_records` detects that
case (and other wrong quoting, see :mod:`.csv_quoting`) and walks the quotes of that block one
by one (the only loop, and only over quote positions of blocks that need it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .byte_count import NL, count_byte
from .csv_quoting import (
    CR,
    MAX_QUOTED_BYTES,
    MAX_QUOTED_LINES,
    UNTERMINATED,
    closing_quotes_ok,
    opening_quotes_ok,
    positions,
    quoting_ok,
    spans_ok,
    walk_quotes,
)


@dataclass(frozen=True)
class RecordScan:
    """Where each record of a block starts and ends, and how many fields it has.

    Attributes:
        starts: Byte index of each record's first byte within the block.
        ends: Byte index just past each record's last byte (before its ``\\n`` / ``\\r\\n``).
        lines: 1-based physical line where each record starts.
        fields: Number of fields of each record (quoted delimiters not counted).
        consumed: Bytes of the block covered by whole records; a trailing partial record
            (an open quote at the block end) starts there.
    """

    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray
    fields: np.ndarray
    consumed: int

    @property
    def malformed(self) -> bool:
        """True when a record is malformed (a negative field count, see
        :func:`malformed_reason`)."""
        return bool(self.fields.size) and int(self.fields.min()) < 0

    @property
    def empty(self) -> np.ndarray:
        """Records with no bytes (blank lines), which are not data."""
        return self.ends <= self.starts


def last_record_end(data: bytes, quote: int, final: bool, parity: int = 0,
                    max_bytes: int = MAX_QUOTED_BYTES) -> int:
    """Index just past the last newline outside quotes, by quote parity (-1 if none).

    ``parity`` is that of the quotes before ``data`` (1 when it starts inside a quoted field).
    A quoted field longer than ``max_bytes`` is a stray quote (:func:`scan_records` rejects
    its line): past that, the last newline is taken as it is.

    Example:
        >>> last_record_end(b'a,"x\\ny"\\nb,c\\npartial', ord('"'), False)
        12
    """
    if final:
        return len(data)
    pos = data.rfind(b"\n")
    if pos < 0:
        return -1
    parity = (parity + count_byte(data, quote, 0, pos)) & 1
    last = pos
    while parity:
        prev = data.rfind(b"\n", 0, pos)
        if last - prev > max_bytes:
            return last + 1
        if prev < 0:
            return -1
        parity ^= count_byte(data, quote, prev, pos) & 1
        pos = prev
    return pos + 1




def _in_quotes_at(positions: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """True where a position lies inside a quoted field, by parity of preceding quotes."""
    return (np.searchsorted(quotes, positions) & 1).astype(bool)


def scan_records(
    data: bytes,
    *,
    delimiter: str,
    quotechar: str,
    first_line: int,
    final: bool = True,
    count_fields: bool = True,
    max_lines: int = MAX_QUOTED_LINES,
    max_bytes: int = MAX_QUOTED_BYTES,
) -> RecordScan:
    """Splits a block of whole records and counts their fields, all vectorized.

    Quote parity describes well-formed text; where it does not (a quote inside an unquoted
    field, text after a closing quote, a quoted field left open or running past the bounds)
    the quotes of the block are walked one by one (:func:`_walk_quotes`), and a malformed
    record gets a negative field count (:func:`malformed_reason`) and ends with its first line.

    Args:
        data: UTF-8 bytes starting at a record start.
        delimiter: One-character field separator.
        quotechar: One-character quote.
        first_line: Physical line number of ``data[0]``.
        final: True at EOF: a quoted field left open there is malformed.
        count_fields: False skips counting fields (``fields`` is then zero for every
            well-formed record), the costly part, for callers that learn them elsewhere.
        max_lines, max_bytes: How far one quoted field may run.

    Example:
        >>> s = scan_records(b'a,b\\n"x\\ny",z\\n\\nq\\n', delimiter=",", quotechar='"',
        ...                  first_line=1)
        >>> s.lines.tolist(), s.fields.tolist(), s.empty.tolist()
        ([1, 2, 4, 5], [2, 2, 1, 1], [False, False, True, False])
    """
    delim, quote = ord(delimiter), ord(quotechar)
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = positions(buf, quote)
    newlines = positions(buf, NL)
    bad: list[tuple[int, int]] = []
    if quotes.size and not (
            (not final or quotes.size % 2 == 0)
            and opening_quotes_ok(buf, quotes, delim) and closing_quotes_ok(buf, quotes, delim)
            and spans_ok(quotes, newlines, max_lines, max_bytes)):
        quotes, bad = walk_quotes(data, quotes, newlines, delim, final=final,
                                   max_lines=max_lines, max_bytes=max_bytes)
    boundaries = newlines[~_in_quotes_at(newlines, quotes)] if quotes.size else newlines
    consumed = int(boundaries[-1]) + 1 if boundaries.size else 0
    if consumed < len(data) and (final or quotes.size % 2 == 0):
        boundaries = np.append(boundaries, len(data))  # a last record without a newline
        consumed = len(data)
    starts = np.concatenate(([0], boundaries[:-1] + 1)) if boundaries.size else np.zeros(0, int)
    ends = boundaries.copy()
    # strip the \r of \r\n endings
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == CR)
    ends = ends - has_cr
    lines = np.searchsorted(newlines, starts) + first_line
    if count_fields:
        delims = positions(buf, delim)
        if quotes.size and delims.size:
            delims = delims[~_in_quotes_at(delims, quotes)]
        fields = np.searchsorted(delims, ends) - np.searchsorted(delims, starts) + 1
    else:
        fields = np.zeros(len(starts), np.int64)
    if bad:
        at = np.asarray([p for p, _ in bad], dtype=np.int64)
        rec = np.searchsorted(starts, at, side="right") - 1
        fields[rec] = np.asarray([c for _, c in bad], dtype=np.int64)
    return RecordScan(starts, ends, lines.astype(np.int64), fields.astype(np.int64), consumed)


def recover_lines(data: bytes, scan: RecordScan, width: int, *, delimiter: str,
                  quotechar: str, max_lines: int = MAX_QUOTED_LINES,
                  max_bytes: int = MAX_QUOTED_BYTES) -> RecordScan:
    """Splits a record of the wrong field count that spans lines, when its lines after the
    first are, read on their own, well-quoted records of ``width`` fields: its quoted field
    was then opened by a stray quote that swallowed them. The first line becomes a malformed
    record (:data:`UNTERMINATED`), the others are records again. A record whose continuation
    lines do not read so (a real multi-line value, a quote inside them) stays whole.

    Example:
        >>> data = b'1,"a,b\\n2,x,y\\n3,",x",d\\n'
        >>> s = scan_records(data, delimiter=",", quotechar='"', first_line=1)
        >>> s.fields.tolist()
        [4]
        >>> r = recover_lines(data, s, 3, delimiter=",", quotechar='"')
        >>> r.lines.tolist(), r.fields.tolist()
        ([1, 2, 3], [-1, 3, 3])
    """
    candidates = [i for i in np.flatnonzero((scan.fields >= 0) & (scan.fields != width)
                                            & ~scan.empty).tolist()
                  if data.find(b"\n", int(scan.starts[i]), int(scan.ends[i])) >= 0]
    if not candidates:
        return scan
    parts: list[RecordScan] = []
    done = 0
    for i in candidates:
        start, end = int(scan.starts[i]), int(scan.ends[i])
        nl = data.find(b"\n", start, end)
        rest = data[nl + 1 : end] + b"\n"
        sub = swallowed_records(rest, width, int(scan.lines[i]) + 1, delimiter=delimiter,
                                quotechar=quotechar, max_lines=max_lines,
                                max_bytes=max_bytes)
        if sub is None:
            continue
        first_end = nl - 1 if nl > start and data[nl - 1] == CR else nl
        parts.append(_take(scan, done, i))
        parts.append(RecordScan(np.array([start]), np.array([first_end]),
                                scan.lines[i : i + 1], np.array([UNTERMINATED]), 0))
        keep = sub.starts < len(rest) - 1  # not the newline added above
        parts.append(RecordScan(sub.starts[keep] + nl + 1, sub.ends[keep] + nl + 1,
                                sub.lines[keep], sub.fields[keep], 0))
        done = i + 1
    if not parts:
        return scan
    parts.append(_take(scan, done, len(scan.starts)))
    return RecordScan(*(np.concatenate([getattr(p, f) for p in parts]).astype(np.int64)
                        for f in ("starts", "ends", "lines", "fields")), scan.consumed)


def swallowed_records(rest: bytes, width: int, first_line: int, *, delimiter: str,
                      quotechar: str, max_lines: int = MAX_QUOTED_LINES,
                      max_bytes: int = MAX_QUOTED_BYTES) -> RecordScan | None:
    """The records of ``rest`` (the lines of a record after its first, newline-terminated)
    when they are all well-quoted records of ``width`` fields, else ``None``: see
    :func:`recover_lines`."""
    sub = scan_records(rest, delimiter=delimiter, quotechar=quotechar, first_line=first_line,
                       max_lines=max_lines, max_bytes=max_bytes)
    real = ~sub.empty
    if not (quoting_ok(rest, delimiter=delimiter, quotechar=quotechar,
                       records=int(real.sum()), max_lines=max_lines, max_bytes=max_bytes)
            and (sub.fields[real] == width).all()):
        return None
    return sub


def _take(scan: RecordScan, a: int, b: int) -> RecordScan:
    return RecordScan(scan.starts[a:b], scan.ends[a:b], scan.lines[a:b], scan.fields[a:b], 0)
