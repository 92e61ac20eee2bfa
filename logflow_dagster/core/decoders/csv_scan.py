"""Vectorized structure of delimited text: record boundaries, physical lines, field counts.

Quotes are special only at the start of a field (as in pyarrow's and Python's CSV readers) and
are doubled inside a quoted field. For well-formed text the quote *parity* before a byte tells
whether it lies inside a quoted field, which numpy computes for a whole block at once. A quote
that opens in the middle of an unquoted field breaks parity; :func:`scan_records` detects that
case and walks the quotes of that block one by one (the only loop, and only over quote
positions of blocks that need it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .byte_count import NL, count_byte

CR = 0x0D


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
    def empty(self) -> np.ndarray:
        """Records with no bytes (blank lines), which are not data."""
        return self.ends <= self.starts


def last_record_end(data: bytes, quote: int, final: bool, parity: int = 0) -> int:
    """Index just past the last newline outside quotes, by quote parity (-1 if none).

    ``parity`` is that of the quotes before ``data`` (1 when it starts inside a quoted field).

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
    while parity:
        prev = data.rfind(b"\n", 0, pos)
        if prev < 0:
            return -1
        parity ^= count_byte(data, quote, prev, pos) & 1
        pos = prev
    return pos + 1


def _in_quotes_at(positions: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """True where a position lies inside a quoted field, by parity of preceding quotes."""
    return (np.searchsorted(quotes, positions) & 1).astype(bool)


def _opening_quotes_ok(buf: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """True when every parity-opening quote sits at the start of a field."""
    opening = quotes[0::2]
    if opening.size == 0:
        return True
    prev = np.where(opening > 0, buf[np.maximum(opening - 1, 0)], NL)
    ok = (prev == delim) | (prev == NL) | (prev == CR) | (opening == 0)
    # a doubled quote inside a quoted field: the "opening" quote follows the closing one
    ok |= (opening > 0) & (prev == buf[quotes[0]]) & _prev_is_closing(opening, quotes)
    return bool(ok.all())


def _prev_is_closing(opening: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(quotes, opening)  # index of this opening quote among all quotes
    prev_q = np.where(idx > 0, quotes[np.maximum(idx - 1, 0)], -2)
    return prev_q == opening - 1


def _quoted_mask_exact(data: bytes, quote: int, delim: int) -> np.ndarray:
    """Quote positions that are real (at a field start or inside a quoted field)."""
    buf = data
    real: list[int] = []
    inside = False
    pos = data.find(bytes((quote,)))
    while pos >= 0:
        if inside:
            if pos + 1 < len(buf) and buf[pos + 1] == quote:  # doubled: stays inside
                real.extend((pos, pos + 1))
                pos = data.find(bytes((quote,)), pos + 2)
                continue
            real.append(pos)
            inside = False
        else:
            before = buf[pos - 1] if pos > 0 else NL
            if before in (delim, NL, CR):
                real.append(pos)
                inside = True
        pos = data.find(bytes((quote,)), pos + 1)
    return np.asarray(real, dtype=np.int64)


def scan_records(
    data: bytes,
    *,
    delimiter: str,
    quotechar: str,
    first_line: int,
    final: bool = True,
    count_fields: bool = True,
) -> RecordScan:
    """Splits a block of whole records and counts their fields, all vectorized.

    Args:
        data: UTF-8 bytes starting at a record start.
        delimiter: One-character field separator.
        quotechar: One-character quote.
        first_line: Physical line number of ``data[0]``.
        final: True at EOF: a record left open by an unterminated quote then ends at the
            end of its first line (so that the rest of the input is still read).
        count_fields: False skips counting fields (``fields`` is then all zeros), the costly
            part, for callers that learn field counts elsewhere.

    Example:
        >>> s = scan_records(b'a,b\\n"x\\ny",z\\n\\nq\\n', delimiter=",", quotechar='"',
        ...                  first_line=1)
        >>> s.lines.tolist(), s.fields.tolist(), s.empty.tolist()
        ([1, 2, 4, 5], [2, 2, 1, 1], [False, False, True, False])
    """
    delim, quote = ord(delimiter), ord(quotechar)
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buf == quote)
    if quotes.size and not _opening_quotes_ok(buf, quotes, delim):
        quotes = _quoted_mask_exact(data, quote, delim)
    newlines = np.flatnonzero(buf == NL)
    boundaries = newlines[~_in_quotes_at(newlines, quotes)] if quotes.size else newlines
    consumed = int(boundaries[-1]) + 1 if boundaries.size else 0
    if final and quotes.size & 1:
        return _split_unterminated(data, boundaries, newlines, delimiter, quotechar, first_line)
    if consumed < len(data) and (final or quotes.size == 0):
        # trailing record without a final newline (or, at EOF, an unterminated quote)
        boundaries = np.append(boundaries, len(data))
        consumed = len(data)
    starts = np.concatenate(([0], boundaries[:-1] + 1)) if boundaries.size else np.zeros(0, int)
    ends = boundaries.copy()
    # strip the \r of \r\n endings
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == CR)
    ends = ends - has_cr
    lines = np.searchsorted(newlines, starts) + first_line
    if not count_fields:
        return RecordScan(starts, ends, lines.astype(np.int64), np.zeros(len(starts), np.int64),
                          consumed)
    delims = np.flatnonzero(buf == delim)
    if quotes.size and delims.size:
        delims = delims[~_in_quotes_at(delims, quotes)]
    per_record = np.searchsorted(delims, ends) - np.searchsorted(delims, starts)
    return RecordScan(starts, ends, lines.astype(np.int64), per_record + 1, consumed)


def _split_unterminated(
    data: bytes,
    boundaries: np.ndarray,
    newlines: np.ndarray,
    delimiter: str,
    quotechar: str,
    first_line: int,
) -> RecordScan:
    """At EOF with a quote left open: that record ends with its first line, the rest is
    scanned again from the next line (so one bad quote costs one record, not the file)."""
    start = int(boundaries[-1]) + 1 if boundaries.size else 0
    head = scan_records(data[:start], delimiter=delimiter, quotechar=quotechar,
                        first_line=first_line, final=True)
    first_nl = data.find(b"\n", start)
    if first_nl < 0:
        first_nl = len(data)
    line = first_line + int(np.searchsorted(newlines, start))
    bad_end = first_nl - 1 if first_nl > start and data[first_nl - 1] == CR else first_nl
    one = RecordScan(np.array([start]), np.array([bad_end]), np.array([line]),
                     np.array([-1]), first_nl + 1)  # -1 fields: never matches the width
    rest_at = min(first_nl + 1, len(data))
    tail = scan_records(data[rest_at:], delimiter=delimiter, quotechar=quotechar,
                        first_line=line + 1, final=True)
    return RecordScan(
        np.concatenate((head.starts, one.starts, tail.starts + rest_at)),
        np.concatenate((head.ends, one.ends, tail.ends + rest_at)),
        np.concatenate((head.lines, one.lines, tail.lines)),
        np.concatenate((head.fields, one.fields, tail.fields)),
        len(data),
    )
